"""module_utils/postgres.py: DSN parsing, redaction, error classification (no server needed)."""

import psycopg2
import pytest

from ansible_collections.solvereign.release_ops.plugins.module_utils import postgres
from ansible_collections.solvereign.release_ops.plugins.module_utils.postgres import (
    PgError,
    ReadOnlySession,
    classify_connect_error,
    classify_statement_error,
    describe_target,
    dsn_secrets,
    format_table,
    parse_dsn,
    redact_message,
    split_identifier,
)
from ansible_collections.solvereign.release_ops.plugins.module_utils.result import CheckRow


@pytest.mark.parametrize("dsn, password", [
    ("postgresql://ro:s3cr%40t@db.example.com:5432/solvereign?sslmode=verify-full", "s3cr%40t"),
    ("postgres://ro:plainpw@db/solvereign", "plainpw"),
    ("postgresql://db/solvereign?user=ro&password=querypw&sslmode=require", "querypw"),
    ("host=db dbname=solvereign user=ro password=kvpassword sslmode=require", "kvpassword"),
    ("host=db user=ro password='quoted pass\\'word' dbname=x", "quoted pass\\'word"),
])
def test_dsn_secrets_find_every_spelling_of_the_password(dsn, password):
    secrets = dsn_secrets(dsn)
    assert password in secrets
    assert dsn in secrets
    shown = redact_message("connect failed for %s with %s" % (dsn, password), secrets)
    assert password not in shown
    assert "********" in shown


def test_percent_decoded_password_is_redacted_too():
    secrets = dsn_secrets("postgresql://ro:s3cr%40t@db/x")
    assert "s3cr@t" in secrets
    assert "s3cr@t" not in redact_message("server said s3cr@t", secrets)


def test_short_password_is_still_masked():
    secrets = dsn_secrets("postgresql://ro:pw@db/x")
    assert redact_message("password pw rejected", secrets) == "password ******** rejected"


def test_parse_dsn_accepts_url_and_keyword_forms_and_keeps_libpq_options():
    url = parse_dsn("postgresql://ro:pw@db.example.com:6432/solvereign?sslmode=verify-full&sslrootcert=/ca.pem")
    assert url["sslmode"] == "verify-full" and url["sslrootcert"] == "/ca.pem"
    assert url["password"] == "********"
    assert describe_target(url) == "ro@db.example.com:6432/solvereign"
    kv = parse_dsn("host=db port=5433 dbname=solvereign user=ro password=secretpw sslmode=require")
    assert kv["sslmode"] == "require" and kv["password"] == "********"


@pytest.mark.parametrize("dsn, expected", [
    ("", "the DSN is empty"),
    ("   ", "the DSN is empty"),
    ("mysql://ro:topsecret@db/x", "URL scheme 'mysql' is not postgresql://"),
    ("host=db password='unterminated topsecret", "unterminated quoted string"),
    ("postgresql://ro:top%zzsecret@db/x", "invalid percent-encoded token"),
    ("this is not a dsn", 'missing "=" after "this"'),
    ("postgresql://ro:topsecret@db/x?bogus_option=1", 'invalid URI query parameter: "bogus_option"'),
])
def test_malformed_dsn_is_a_clear_dsn_error_without_the_password(dsn, expected):
    with pytest.raises(PgError) as caught:
        parse_dsn(dsn)
    assert caught.value.kind == "dsn"
    assert expected in caught.value.message
    assert "topsecret" not in caught.value.message and "top%zzsecret" not in caught.value.message


def test_session_rejects_a_probe_role_that_is_no_role_name():
    with pytest.raises(PgError) as caught:
        ReadOnlySession("postgresql://ro:pw@db/x", probe_role="app; DROP TABLE plans")
    assert caught.value.kind == "dsn"


@pytest.mark.parametrize("message, kind, text", [
    ('connection to server at "db", port 5432 failed: FATAL:  password authentication failed for user "ro"\n',
     "auth", "wrong password"),
    ('connection to server at "127.0.0.1", port 1 failed: Connection refused\n\tIs the server running?', "connect",
     "database is down"),
    ('could not translate host name "db.invalid" to address: Name or service not known', "connect", "does not resolve"),
    ("timeout expired\n", "connect", "connect timeout"),
    ('connection to server at "db", port 5432 failed: FATAL:  database "nodb" does not exist', "database",
     'database "nodb" does not exist'),
    ('connection to server at "db", port 5432 failed: FATAL:  role "nobody" does not exist', "auth",
     'role "nobody" does not exist'),
    ('invalid integer value "notaport" for connection option "port"', "dsn", "malformed DSN"),
    ("connection to server at \"db\" failed: server does not support SSL, but SSL was required", "connect",
     "SSL was required"),
])
def test_connect_errors_are_classified(message, kind, text):
    error = classify_connect_error(psycopg2.OperationalError(message), "ro@db:5432/solvereign")
    assert error.kind == kind
    assert text in error.message
    assert "\n" not in error.message


def test_connect_error_redacts_the_password_libpq_echoes():
    dsn = "postgresql://ro:hunter2pw@db/x"
    error = classify_connect_error(psycopg2.OperationalError("bad thing near hunter2pw"), "ro@db/x", dsn_secrets(dsn))
    assert "hunter2pw" not in error.message


class _Diag:
    def __init__(self, message):
        self.message_primary = message


class _StatementError(psycopg2.ProgrammingError):
    """Stands in for a server error carrying a SQLSTATE (psycopg2 sets pgcode from the server)."""

    def __init__(self, message, code):
        super().__init__(message)
        self._code = code
        self._diag = _Diag(message)

    @property
    def pgcode(self):
        return self._code

    @property
    def diag(self):
        return self._diag


@pytest.mark.parametrize("code, kind", [
    ("57014", "timeout"), ("3F000", "missing"), ("42883", "missing"), ("42P01", "missing"),
    ("42501", "permission"), ("25006", "read_only"), ("22P02", "query"),
])
def test_statement_errors_are_classified_by_sqlstate(code, kind):
    error = classify_statement_error(_StatementError("it failed", code), "reading x", timeout_s=2.5)
    assert error.kind == kind
    assert error.message.startswith("reading x failed: ")
    if kind == "timeout":
        assert "statement timeout after 2.5s" in error.message


@pytest.mark.parametrize("name, parts", [
    ("verify_final_hardening", ["verify_final_hardening"]),
    ("auth.verify_rbac_integrity", ["auth", "verify_rbac_integrity"]),
])
def test_split_identifier(name, parts):
    assert split_identifier(name) == parts


@pytest.mark.parametrize("name", ["", "a.b.c", "x()", "x; drop table y", "1abc", "a..b"])
def test_split_identifier_rejects_anything_else(name):
    with pytest.raises(ValueError):
        split_identifier(name)


def test_format_table_aligns_and_shows_null():
    text = format_table([{"version": "041", "applied_at": None}, {"version": "040", "applied_at": "2025"}])
    lines = text.splitlines()
    assert lines[0] == "version | applied_at"
    assert lines[2] == "041     | NULL"
    assert lines[-1] == "(2 rows)"


def test_add_error_carries_kind_and_advice():
    row = CheckRow("6.1", "Migration status", "staging")
    postgres.add_error(row, "migrations", PgError("auth", "cannot connect: wrong password"))
    data = row.to_dict()
    assert data["status"] == "ERROR"
    assert data["findings"][0]["kind"] == "auth"
    assert any("vault" in a for a in data["advice"])


def test_save_evidence_failure_is_an_error_finding(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    row = CheckRow("6.1", "Migration status", "staging")
    assert postgres.save_evidence(row, str(blocker / "sub"), "migrations_applied.log", "text") is None
    assert row.status == "ERROR" and "cannot write evidence file" in row.summary
