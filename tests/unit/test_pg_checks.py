"""Logic of the SQL check modules (rows 6.1-6.4) that needs no database, and their bad input."""

import json
import socket

import pytest

from ansible_collections.solvereign.release_ops.plugins.modules import (
    pg_migrations_check,
    pg_tenant_isolation_check,
    pg_verify_function_check,
)
from ansible_collections.solvereign.release_ops.plugins.module_utils.result import CheckRow

from .conftest import run_module

LABEL = {"check_id": "6.1", "check_title": "Migration status", "environment": "staging"}


def closed_port():
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


def migrations(*versions, missing_at=()):
    return [{"version": v, "name": "%s_x" % v, "applied_at": None if v in missing_at else "2025-01-01"}
            for v in sorted(versions, key=pg_migrations_check.version_key, reverse=True)]


def judge_migrations(rows, min_version="041"):
    row = CheckRow("6.1", "Migration status", "staging")
    latest = pg_migrations_check.judge(row, rows, min_version)
    return row, latest


def statuses(row):
    return dict((f.name, f.status) for f in row.findings)


def test_versions_compare_by_number():
    key = pg_migrations_check.version_key
    assert key("041") > key("039")
    assert key("100") > key("099")
    assert key("20250101120000_add") > key("20241231000000_x")
    assert sorted(["010", "9", "041"], key=key) == ["9", "010", "041"]


def test_latest_at_or_above_minimum_passes():
    row, latest = judge_migrations(migrations(*["%03d" % n for n in range(1, 42)]))
    assert latest == "041"
    assert row.status == "PASS"
    row = judge_migrations(migrations(*["%03d" % n for n in range(1, 43)]))[0]
    assert row.status == "PASS"


def test_latest_below_minimum_fails():
    row, latest = judge_migrations(migrations(*["%03d" % n for n in range(1, 40)]))
    assert latest == "039"
    assert statuses(row)["latest"] == "FAIL"
    assert "latest applied migration is 039" in row.summary and "at least 041" in row.summary


def test_missing_applied_at_fails_and_names_the_versions():
    row = judge_migrations(migrations(*["%03d" % n for n in range(1, 42)], missing_at=("038",)))[0]
    assert statuses(row) == {"latest": "PASS", "applied_at": "FAIL", "sequence": "PASS"}
    assert "038" in row.summary


def test_gap_is_a_warning():
    versions = ["%03d" % n for n in range(1, 42) if n not in (12, 13)]
    row = judge_migrations(migrations(*versions))[0]
    assert row.status == "WARN"
    assert "012, 013" in row.summary


def test_timestamp_versions_are_not_checked_for_gaps():
    assert pg_migrations_check.find_gaps(["20250101120000", "20250301080000"]) is None


def test_empty_migrations_table_fails():
    row, latest = judge_migrations([])
    assert latest is None and row.status == "FAIL"


def verify_params(**extra):
    params = {"function": "auth.verify_rbac_integrity", "expected_count": 13, "name_column": "check_name",
              "status_column": "status", "details_column": "details", "pass_values": ["PASS"],
              "warn_values": ["WARN"]}
    params.update(extra)
    return params


def checks(n, failing=()):
    return [{"check_name": "c%d" % i, "status": "FAIL" if i in failing else "PASS", "details": "d%d" % i}
            for i in range(1, n + 1)]


def judge_function(rows, **extra):
    row = CheckRow("6.3", "RBAC integrity", "staging")
    pg_verify_function_check.judge(row, rows, verify_params(**extra))
    return row


def test_all_expected_checks_pass():
    row = judge_function(checks(13))
    assert row.status == "PASS"
    assert len(row.findings) == 14


def test_twelve_of_thirteen_checks_fail_even_if_all_pass():
    row = judge_function(checks(12))
    assert row.status == "FAIL"
    assert "returned 12 of the expected 13 checks" in row.summary


def test_more_checks_than_expected_fail():
    assert judge_function(checks(14)).status == "FAIL"


def test_failing_check_is_shown_with_its_details():
    row = judge_function(checks(13, failing=(4,)))
    assert row.status == "FAIL"
    assert "c4: FAIL (d4)" in row.summary


def test_any_count_when_not_expected_but_none_is_a_failure():
    assert judge_function(checks(3), expected_count=0).status == "PASS"
    assert judge_function([], expected_count=0).status == "FAIL"


def test_missing_status_column_is_an_error():
    row = judge_function([{"name": "x", "result": "ok"}])
    assert row.status == "ERROR"


@pytest.mark.parametrize("expression, expected", [
    ("true", True), ("(true)", True), ("(1 = 1)", True), ("'t'::boolean", True),
    ("(tenant_id = (NULLIF(current_setting('app.current_tenant_id'::text, true), ''::text))::integer)", False),
    (None, False), ("", False),
])
def test_always_true_policy_expressions(expression, expected):
    assert pg_tenant_isolation_check.always_true(expression) is expected


@pytest.mark.parametrize("module, extra", [
    (pg_migrations_check, {}),
    (pg_verify_function_check, {"function": "verify_final_hardening"}),
    (pg_tenant_isolation_check, {}),
])
def test_database_down_is_an_error_row_without_the_password(module, extra, monkeypatch):
    dsn = "postgresql://ro:closedportsecret@127.0.0.1:%d/solvereign" % closed_port()
    result, failed = run_module(module.main, dict(LABEL, dsn=dsn, connect_timeout=3, **extra), monkeypatch)
    assert not failed
    row = result["row"]
    assert row["status"] == "ERROR"
    assert "connection refused" in row["summary"] and "database is down" in row["summary"]
    assert "closedportsecret" not in json.dumps(result)


@pytest.mark.parametrize("module, extra", [
    (pg_migrations_check, {}),
    (pg_verify_function_check, {"function": "verify_final_hardening"}),
    (pg_tenant_isolation_check, {}),
])
def test_malformed_dsn_is_an_error_row_without_the_password(module, extra, monkeypatch):
    dsn = "postgresql://ro:bad%zzsecret@127.0.0.1/solvereign"
    result, failed = run_module(module.main, dict(LABEL, dsn=dsn, **extra), monkeypatch)
    assert not failed
    assert result["row"]["status"] == "ERROR"
    assert "malformed DSN" in result["row"]["summary"]
    assert "zzsecret" not in json.dumps(result)


def test_unusable_arguments_fail_the_module(monkeypatch):
    dsn = "postgresql://ro:pw@127.0.0.1/solvereign"
    result, failed = run_module(pg_verify_function_check.main,
                                dict(LABEL, dsn=dsn, function="x(); DROP TABLE plans"), monkeypatch)
    assert failed and "not a (schema-qualified) SQL identifier" in result["msg"]
    result, failed = run_module(pg_tenant_isolation_check.main,
                                dict(LABEL, dsn=dsn, tenant_setting="tenant"), monkeypatch)
    assert failed and "custom setting name" in result["msg"]
    result, failed = run_module(pg_migrations_check.main, dict(LABEL, dsn=dsn, table="a.b.c"), monkeypatch)
    assert failed and "table" in result["msg"]
