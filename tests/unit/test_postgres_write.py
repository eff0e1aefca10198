"""The SQL rollback file checks: what cannot run as one all-or-nothing transaction is refused."""

import pytest

from ansible_collections.solvereign.release_ops.plugins.module_utils.postgres_write import (
    script_plan,
    script_problems,
    unwrap_transaction,
)


def test_wrapping_begin_commit_is_dropped():
    body, unwrapped = unwrap_transaction("-- rollback\nBEGIN;\nDELETE FROM t;\nCOMMIT;\n")
    assert unwrapped and "BEGIN" not in body and "COMMIT" not in body and "DELETE FROM t;" in body
    assert script_problems(body) == []


def test_only_a_pair_is_dropped():
    body, unwrapped = unwrap_transaction("BEGIN;\nDELETE FROM t;\n")
    assert not unwrapped and body.startswith("BEGIN;")


@pytest.mark.parametrize("sql, word", [
    ("DELETE FROM t;\nCOMMIT;\nDELETE FROM u;\n", "COMMIT"),
    ("DELETE FROM t; ROLLBACK;\n", "ROLLBACK"),
    ("END;\n", "END"),
    ("VACUUM schema_migrations;\n", "VACUUM"),
    ("CREATE INDEX CONCURRENTLY i ON t (a);\n", "CREATE INDEX CONCURRENTLY"),
    ("start transaction;\n", "START TRANSACTION"),
])
def test_transaction_control_is_refused(sql, word):
    problems = script_problems(sql)
    assert problems and word in problems[0]


def test_plpgsql_bodies_and_comments_are_not_transaction_control():
    sql = ("CREATE FUNCTION f() RETURNS void LANGUAGE plpgsql AS $fn$\nBEGIN\n  PERFORM 1;\nEND;\n$fn$;\n"
           "DO $$\nBEGIN\n  COMMIT;\nEND\n$$;\n-- COMMIT;\n/* ROLLBACK;\n END; */\nSELECT 1;\n")
    assert script_problems(sql) == []


def test_psql_meta_commands_and_empty_files_are_refused():
    assert "psql meta-command" in script_problems("\\i other.sql\n")[0]
    assert script_problems("  \n") == ["the file is empty"]


def test_plan():
    plan = script_plan("BEGIN;\nDELETE FROM a;\n-- note\nDELETE FROM b;\nCOMMIT;\n")
    assert plan["wrapping_transaction_removed"] is True and plan["problems"] == []
    assert plan["statements_estimate"] == 2 and len(plan["sha256"]) == 64 and plan["lines"] == 5
