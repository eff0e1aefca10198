"""Section 6 (rows 6.1-6.4) against the reference stack's real PostgreSQL."""

import json
import os
import re

import psycopg2
import pytest

from ansible_collections.solvereign.release_ops.plugins.module_utils.postgres import PgError, ReadOnlySession
from ansible_collections.solvereign.release_ops.plugins.modules import pg_tenant_isolation_check
from tests.unit.conftest import run_module

DATABASE = ["--tags", "database"]
ROWS = ("6.1", "6.2", "6.3", "6.4")


def assert_clean(run, *secrets):
    """No traceback, and no secret in the output, the checklist or any evidence file."""
    assert "Traceback (most recent call last)" not in run.output, run.output[-3000:]
    texts = {"output": run.output}
    for name in os.listdir(run.evidence_dir):
        if name.endswith(".png"):
            continue
        with open(os.path.join(run.evidence_dir, name)) as handle:
            texts[name] = handle.read()
    for secret in secrets:
        for where, text in texts.items():
            assert secret not in text, "password found in %s" % where


def dsn_password(dsn):
    return re.match(r"^postgresql://[^:]+:([^@]+)@", dsn).group(1)


def in_database(dsn, dbname):
    return dsn.rsplit("/", 1)[0] + "/" + dbname


def statuses(run):
    return dict((check_id, run.status(check_id)) for check_id in ROWS)


@pytest.fixture(scope="module")
def env(stack):
    return stack.env()


def test_healthy_database_passes_and_keeps_evidence(env, verify):
    run = verify(args=DATABASE + ["-v"])
    assert run.checklist is not None, run.output[-3000:]
    assert statuses(run) == dict.fromkeys(ROWS, "PASS"), json.dumps(run.checklist, indent=1)
    assert run.rc == 0
    isolation = run.row("6.4")
    tables = sorted(f["name"] for f in isolation["findings"] if f["name"].startswith("table:"))
    assert tables == ["table:auth.user_bindings", "table:drivers", "table:notifications", "table:plans",
                      "table:sites"]
    assert "tenant 999, 1" in isolation["summary"]
    assert "13/13 checks PASS" in run.row("6.3")["summary"]
    migrations_log = open(os.path.join(run.evidence_dir, "migrations_applied.log")).read()
    assert "041     | 041_final_hardening" in migrations_log and "(10 rows)" in migrations_log
    assert "032_rls_notifications" in migrations_log and "031_rbac_seed" not in migrations_log
    assert "tenant_policies_present" in open(os.path.join(run.evidence_dir, "rls_verify.log")).read()
    for name in ("rbac_integrity.log", "tenant_isolation.log"):
        assert os.path.getsize(os.path.join(run.evidence_dir, name)) > 0
    assert_clean(run, dsn_password(env["database_url"]))


def findings(row):
    return dict((f["name"], f) for f in row["findings"])


def dropped_policy_is_noticed_by_the_isolation_row(run, env):
    lint = findings(run.row("6.4"))["lint:rls_without_policy"]
    assert lint["status"] == "WARN" and "drivers" in lint["message"]


def rls_disabled_plans_shows_the_leak(run, env):
    found = findings(run.row("6.4"))
    assert "row(s) of other tenants (2, 3) visible with app.current_tenant_id=1" in found["table:plans"]["message"]
    assert found["lint:policy_without_rls"]["status"] == "FAIL"
    assert found["table:drivers"]["status"] == "PASS"


def second_table_fails_although_the_runbook_query_passes(run, env):
    # The runbook's own probe looks at plans only and sees nothing.
    with ReadOnlySession(env["database_url"]) as db:
        db.query("SET app.current_tenant_id = '999'")
        assert db.scalar("SELECT COUNT(*) FROM plans WHERE tenant_id != 999") == 0
    found = findings(run.row("6.4"))
    assert found["table:invoices"]["status"] == "FAIL"
    assert "of other tenants" in found["table:invoices"]["message"]
    assert found["table:plans"]["status"] == "PASS"


@pytest.mark.parametrize("fault, red, expected, others, follow_up", [
    ("migration_039", "6.1", "latest applied migration is 039", {"6.2": "PASS", "6.3": "PASS", "6.4": "PASS"},
     None),
    ("migration_missing_applied_at", "6.1", "without applied_at: 038",
     {"6.2": "PASS", "6.3": "PASS", "6.4": "PASS"}, None),
    ("hardening_policy_dropped", "6.2", "tenant_policies_present: FAIL (no policy on: drivers)",
     {"6.1": "PASS", "6.3": "PASS", "6.4": "WARN"}, dropped_policy_is_noticed_by_the_isolation_row),
    ("hardening_function_missing", "6.2", "the hardening migration (041_final_hardening) is not applied",
     {"6.1": "PASS", "6.3": "PASS", "6.4": "PASS"}, None),
    ("rbac_12_of_13", "6.3", "returned 12 of the expected 13 checks",
     {"6.1": "PASS", "6.2": "PASS", "6.4": "PASS"}, None),
    ("rls_disabled_plans", "6.4", "plans: RLS disabled", {"6.1": "PASS", "6.3": "PASS"},
     rls_disabled_plans_shows_the_leak),
    ("second_tenant_table_without_rls", "6.4", "invoices: RLS disabled", {"6.1": "PASS", "6.3": "PASS"},
     second_table_fails_although_the_runbook_query_passes),
])
def test_each_fault_turns_its_row_red(db_faults, env, verify, fault, red, expected, others, follow_up):
    db_faults(fault)
    run = verify(args=DATABASE)
    row = run.row(red)
    assert row["status"] == "FAIL", json.dumps(row, indent=1)
    assert expected in row["summary"], row["summary"]
    for check_id, status in others.items():
        assert run.status(check_id) == status, run.row(check_id)
    assert run.rc != 0
    assert_clean(run)
    if follow_up:
        follow_up(run, env)


@pytest.mark.parametrize("fault, status, lint, expected", [
    ("always_true_policy_notifications", "FAIL", "lint:always_true_policy", "on notifications.reporting_all"),
    ("view_without_security_invoker", "WARN", "lint:view_security_invoker", "plans_overview over plans"),
    ("security_definer_without_search_path", "WARN", "lint:security_definer_search_path",
     "plan_count() (owner solvereign_owner)"),
])
def test_each_rls_lint_names_what_it_found(db_faults, verify, fault, status, lint, expected):
    db_faults(fault)
    run = verify(args=DATABASE)
    row = run.row("6.4")
    assert row["status"] == status, json.dumps(row, indent=1)
    found = findings(row)
    assert found[lint]["status"] == status and expected in found[lint]["message"], found[lint]
    # The other lints stay green.
    others = [name for name in found if name.startswith("lint:") and name != lint]
    assert len(others) == 4 and all(found[name]["status"] == "PASS" for name in others), others
    assert run.status("6.1") == "PASS" and run.status("6.3") == "PASS"
    if fault == "always_true_policy_notifications":
        # The policy is not only unsightly: the probe sees the other tenants' notifications.
        assert found["table:notifications"]["status"] == "FAIL"
        assert "of other tenants" in found["table:notifications"]["message"]
    assert_clean(run)


def test_the_session_stays_read_only_after_its_transaction_ends(env):
    admin = in_database(env["admin_database_url"], "solvereign")
    with ReadOnlySession(admin, probe_role="solvereign_app") as db:
        identity = db.identity()
        assert identity["read_only"] == "on" and identity["current_user"] == "solvereign_app"
        with db.conn.cursor() as cur:
            # What a statement that ends the transaction would leave behind: the session's own guard.
            cur.execute("ROLLBACK")
            cur.execute("SHOW default_transaction_read_only")
            assert cur.fetchone()[0] == "on"
            cur.execute("SELECT current_user")
            assert cur.fetchone()[0] != "solvereign_app"  # SET LOCAL ROLE ended with the transaction
            with pytest.raises(psycopg2.errors.ReadOnlySqlTransaction):
                cur.execute("CREATE TEMPORARY TABLE should_not_exist (id int)")


def test_statements_sent_together_keep_their_rows_order_and_types(env):
    with ReadOnlySession(env["database_url"]) as db:
        # As with psycopg2, % is doubled only in a statement that has parameters.
        numbers, names, nothing = db.query_together([
            ("SELECT n, n % 2 = 0 AS even, ARRAY[n, n] AS pair FROM generate_series(3, 1, -1) n ORDER BY n DESC",
             None),
            ("SELECT %(name)s::text AS name, 'search\\_path=%%' AS literal", {"name": "o'hara"}),
            ("SELECT 1 AS one WHERE false", None),
        ], label="three statements")
        assert numbers == [{"n": 3, "even": False, "pair": [3, 3]}, {"n": 2, "even": True, "pair": [2, 2]},
                           {"n": 1, "even": False, "pair": [1, 1]}]
        assert names == [{"name": "o'hara", "literal": "search\\_path=%"}]
        assert nothing == []
        # One failing statement fails them all, named by the label; the session stays usable.
        with pytest.raises(PgError) as failed:
            db.query_together([("SELECT 1 AS one", None), ("SELECT * FROM no_such_table", None)],
                              label="two statements, one broken")
        assert "two statements, one broken" in failed.value.message
        assert db.scalar("SELECT 41 + 1") == 42


def test_superuser_dsn_does_not_pass_isolation(env, verify):
    admin = in_database(env["admin_database_url"], "solvereign")
    run = verify(args=DATABASE, extra_vars={"solvereign_database_url": admin})
    row = run.row("6.4")
    assert row["status"] == "ERROR", row
    assert "superuser" in row["summary"] and "database_probe_role" in row["summary"]
    assert run.status("6.1") == "PASS" and run.status("6.3") == "PASS"
    assert_clean(run, dsn_password(admin))


def test_superuser_dsn_from_the_environment_with_probe_role_passes(env, verify):
    admin = in_database(env["admin_database_url"], "solvereign")
    run = verify(args=DATABASE, env={"SOLVEREIGN_DATABASE_URL": admin},
                 extra_vars={"database_probe_role": "solvereign_app"})
    row = run.row("6.4")
    assert row["status"] == "PASS", json.dumps(row, indent=1)
    assert "isolated for solvereign_app" in row["summary"]
    assert_clean(run, dsn_password(admin))


def test_owner_dsn_warns_about_the_bypassrls_role_it_can_switch_to(env, monkeypatch):
    result, failed = run_module(pg_tenant_isolation_check.main, dict(
        check_id="6.4", check_title="Tenant isolation", environment="local", dsn=env["owner_database_url"]),
        monkeypatch, check_mode=True)
    assert not failed
    assert result["row"]["status"] == "WARN"
    assert "SET ROLE to solvereign_auditor (BYPASSRLS)" in result["row"]["summary"]
    assert dsn_password(env["owner_database_url"]) not in json.dumps(result)


def test_owner_of_a_table_without_force_rls_proves_nothing(db_faults, env, monkeypatch):
    db_faults()  # a fresh database, recreated again after the test
    owner = psycopg2.connect(env["owner_database_url"])
    try:
        with owner.cursor() as cur:
            cur.execute("ALTER TABLE plans NO FORCE ROW LEVEL SECURITY")
        owner.commit()
    finally:
        owner.close()
    result, failed = run_module(pg_tenant_isolation_check.main, dict(
        check_id="6.4", check_title="Tenant isolation", environment="local", dsn=env["owner_database_url"]),
        monkeypatch)
    assert not failed
    found = findings(result["row"])
    assert result["row"]["status"] == "ERROR"
    assert found["table:plans"]["status"] == "ERROR"
    assert "owns it" in found["table:plans"]["message"] and "FORCE ROW LEVEL SECURITY" in found["table:plans"]["message"]
    assert found["table:drivers"]["status"] == "PASS"


def test_wrong_password_is_an_error_without_the_password(env, verify):
    dsn = env["database_url"].replace(dsn_password(env["database_url"]), "wrong-pass-4711")
    run = verify(args=DATABASE + ["-vvv"], extra_vars={"solvereign_database_url": dsn})
    for check_id in ROWS:
        row = run.row(check_id)
        assert row["status"] == "ERROR"
        assert "authentication failed" in row["summary"]
    assert_clean(run, "wrong-pass-4711")


def test_malformed_dsn_is_an_error(verify):
    malformed = "postgresql://solvereign_readonly:bad%zzsecret@127.0.0.1/solvereign"
    run = verify(args=DATABASE, extra_vars={"solvereign_database_url": malformed})
    assert all(run.status(c) == "ERROR" for c in ROWS)
    assert "malformed DSN" in run.row("6.2")["summary"]
    assert_clean(run, "zzsecret")


def test_wrong_database_is_an_error_naming_the_missing_objects(env, verify):
    monitor = env["monitor_database_url"]  # database "postgres": no SOLVEREIGN schema
    run = verify(args=DATABASE, extra_vars={"solvereign_database_url": monitor})
    assert run.status("6.1") == "ERROR"
    assert 'relation "schema_migrations" does not exist' in run.row("6.1")["summary"]
    assert run.status("6.3") == "ERROR"
    assert 'schema "auth" does not exist' in run.row("6.3")["summary"]
    assert run.status("6.4") == "ERROR"
    assert "no table with a tenant_id column in database postgres" in run.row("6.4")["summary"]
    assert_clean(run, dsn_password(monitor))


def test_missing_or_unresolved_dsn(stack, verify, tmp_path):
    run = verify(args=DATABASE, extra_vars={"solvereign_database_url": ""}, evidence_dir=tmp_path / "empty")
    assert all(run.status(c) == "SKIP" for c in ROWS)
    assert "not configured" in run.row("6.1")["summary"]
    assert run.rc == 0
    run = verify(args=DATABASE, extra_vars={"solvereign_database_url": "{{ vault_solvereign_database_url }}"},
                 evidence_dir=tmp_path / "vault")
    assert all(run.status(c) == "ERROR" for c in ROWS)
    assert "refers to an undefined variable" in run.row("6.1")["summary"]
    assert "vault" in run.row("6.1")["summary"]


def test_failed_module_still_gives_an_error_row(env, verify):
    """A module that fails still leaves an ERROR row, and its DSN appears nowhere."""
    run = verify(args=DATABASE, extra_vars={"database_tenant_setting": "tenant"})
    row = run.row("6.4")
    assert row["status"] == "ERROR"
    assert "the check could not run" in row["summary"] and "custom setting name" in row["summary"]
    assert run.status("6.1") == "PASS"
    assert_clean(run, dsn_password(env["database_url"]))


def test_hanging_query_is_a_statement_timeout_error(env, verify):
    """A migration holding a lock on schema_migrations: 6.1 times out, the other rows go on."""
    locker = psycopg2.connect(env["owner_database_url"])
    try:
        with locker.cursor() as cur:
            cur.execute("LOCK TABLE schema_migrations IN ACCESS EXCLUSIVE MODE")
        run = verify(args=DATABASE, extra_vars={"database_statement_timeout": 1.5})
    finally:
        locker.rollback()
        locker.close()
    row = run.row("6.1")
    assert row["status"] == "ERROR"
    assert "statement timeout after 1.5s" in row["summary"]
    assert run.status("6.3") == "PASS" and run.status("6.4") == "PASS"
    assert_clean(run)


def test_session_statement_timeout_with_pg_sleep(env):
    with ReadOnlySession(env["database_url"], statement_timeout=0.5) as db:
        with pytest.raises(PgError) as caught:
            db.query("SELECT pg_sleep(5)", label="sleeping")
        assert caught.value.kind == "timeout"
        assert "statement timeout after 0.5s" in caught.value.message
        assert db.scalar("SELECT 1") == 1  # the session survives the cancelled statement


@pytest.mark.parametrize("which", ["database_url", "admin_database_url"])
def test_check_session_cannot_write(env, which):
    dsn = in_database(env[which], "solvereign")
    owner = psycopg2.connect(env["owner_database_url"])
    try:
        with owner.cursor() as cur:
            cur.execute("SELECT count(*) FROM schema_migrations")
            before = cur.fetchone()[0]
        owner.rollback()
        with ReadOnlySession(dsn) as db:
            for statement in ("DELETE FROM schema_migrations",
                              "INSERT INTO schema_migrations VALUES ('999', 'x', now())",
                              "CREATE TABLE solvereign_probe (id int)",
                              "SELECT nextval('plans_id_seq')"):
                with pytest.raises(PgError) as caught:
                    db.query(statement)
                assert caught.value.kind in ("read_only", "permission"), caught.value.message
            with pytest.raises(PgError):
                db.query("SET TRANSACTION READ WRITE")
        with ReadOnlySession(dsn) as db:
            with pytest.raises(PgError) as caught:
                db.query("COMMIT; DELETE FROM schema_migrations")
            assert caught.value.kind == "read_only"
        with owner.cursor() as cur:
            cur.execute("SELECT count(*) FROM schema_migrations")
            assert cur.fetchone()[0] == before
            cur.execute("SELECT to_regclass('solvereign_probe')")
            assert cur.fetchone()[0] is None
    finally:
        owner.close()


def test_tenant_setting_does_not_outlive_the_probe(env):
    with ReadOnlySession(env["app_database_url"]) as db:
        with db.scope():
            db.query("SELECT set_config('app.current_tenant_id', '1', true)")
            assert db.scalar("SELECT count(*) FROM plans") == 4
        assert (db.scalar("SELECT current_setting('app.current_tenant_id', true)") or "") == ""
        assert db.scalar("SELECT count(*) FROM plans") == 0
