# -*- coding: utf-8 -*-
# Copyright: (c) 2026, SOLVEREIGN release engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The read-only PostgreSQL session every SQL check uses.

- the DSN is a libpq URL (``postgresql://user:pw@host:5432/db?sslmode=verify-full``) or a
  keyword/value string (``host=db user=ro password=... sslmode=require``); every libpq option
  it carries (sslmode, sslrootcert, target_session_attrs, ...) and the PG* environment
  variables are honoured, because libpq itself parses it;
- one connection, one transaction: ``BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY`` ...
  ``ROLLBACK``, with ``default_transaction_read_only`` on for the session as a second guard;
  statements run inside savepoints so that one failing statement does not end the session;
- ``statement_timeout`` set locally in that transaction, ``connect_timeout`` on connect;
- optional ``SET LOCAL ROLE`` to a probe role (for example the application role), so that
  row level security is judged as the application sees it;
- the DSN password never leaves this module: every message is redacted, also libpq's own;
- failures become :class:`PgError` with a ``kind`` and a message that says what to change.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import contextlib
import datetime
import decimal
import re
import traceback

from ansible.module_utils.basic import missing_required_lib

PSYCOPG2_IMPORT_ERROR = None
try:
    import psycopg2
    import psycopg2.errorcodes
    import psycopg2.extensions
    from psycopg2 import sql as pgsql
except ImportError:  # pragma: no cover - exercised through missing_required_lib
    psycopg2 = None
    pgsql = None
    PSYCOPG2_IMPORT_ERROR = traceback.format_exc()

from ansible_collections.solvereign.release_ops.plugins.module_utils.redact import (
    MASK,
    redact_text,
)
from ansible_collections.solvereign.release_ops.plugins.module_utils.result import write_evidence

try:
    from urllib.parse import unquote
except ImportError:  # pragma: no cover
    from urllib import unquote

APPLICATION_NAME = "solvereign.release_ops"

# Who a session's statements run as, and whether row level security can apply to them.
IDENTITY = ("SELECT current_user AS current_user, session_user AS session_user,"
            " current_database() AS database, current_setting('search_path') AS search_path,"
            " r.rolsuper AS superuser, r.rolbypassrls AS bypassrls,"
            " current_setting('row_security') AS row_security,"
            " current_setting('transaction_read_only') AS read_only,"
            " current_setting('server_version') AS server_version"
            " FROM pg_catalog.pg_roles r WHERE r.rolname = current_user")

# Kinds of PgError, each with the question a reader should ask next.
KINDS = ("library", "dsn", "auth", "connect", "database", "timeout", "missing", "permission",
         "read_only", "query")

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]*$")
_URL_PASSWORD = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://[^:/@\s]*:(?P<password>[^@/\s]*)@")
_QUERY_PASSWORD = re.compile(r"[?&]password=(?P<password>[^&#\s]*)", re.I)
_KEYWORD_PASSWORD = re.compile(r"\bpassword\s*=\s*(?:'(?P<quoted>(?:[^'\\]|\\.)*)'?|(?P<plain>[^\s']+))", re.I)


def postgres_common_argument_spec():
    """Connection options shared by every SQL check module (doc fragment: postgres)."""
    return dict(
        dsn=dict(type="str", required=True, no_log=True),
        connect_timeout=dict(type="int", default=10),
        statement_timeout=dict(type="float", default=30.0),
        probe_role=dict(type="str", default=""),
    )


def ensure_required_libs(module):
    if psycopg2 is None:
        module.fail_json(msg=missing_required_lib("psycopg2 (pip install psycopg2-binary)"),
                         exception=PSYCOPG2_IMPORT_ERROR)


class PgError(Exception):
    """A statement or connection that produced no result. ``kind`` is one of KINDS."""

    def __init__(self, kind, message, pgcode=None):
        super(PgError, self).__init__(message)
        self.kind = kind
        self.message = message
        self.pgcode = pgcode


# DSN handling ---------------------------------------------------------------------------------
def dsn_secrets(dsn):
    """Every spelling of the password a DSN carries, found without libpq (it may not parse)."""
    if not dsn:
        return []
    found = []
    match = _URL_PASSWORD.match(dsn.strip())
    if match:
        found.append(match.group("password"))
    found.extend(m.group("password") for m in _QUERY_PASSWORD.finditer(dsn))
    for m in _KEYWORD_PASSWORD.finditer(dsn):
        value = m.group("quoted") if m.group("quoted") is not None else m.group("plain")
        found.append(value)
        found.append(value.replace("\\'", "'").replace("\\\\", "\\"))
    secrets = set()
    for value in found:
        if value:
            secrets.add(value)
            secrets.add(unquote(value))
    secrets.add(dsn)
    return sorted((s for s in secrets if s), key=len, reverse=True)


def redact_message(text, secrets=()):
    """A message safe to show: known secrets, URL credentials and password=... masked."""
    text = redact_text(text, secrets)
    # redact_text leaves secrets shorter than 3 characters alone; a DSN password is always masked.
    for secret in secrets:
        if secret and len(secret) < 3:
            text = re.sub(r"(?<![A-Za-z0-9])%s(?![A-Za-z0-9])" % re.escape(secret), MASK, text)
    return " ".join(text.split())


def parse_dsn(dsn):
    """Parse ``dsn`` with libpq; return its options (password masked) or raise PgError('dsn')."""
    secrets = dsn_secrets(dsn)
    if dsn is None or not str(dsn).strip():
        raise PgError("dsn", "the DSN is empty: set it to a libpq URL "
                             "(postgresql://user:password@host:5432/dbname) or key=value string")
    text = str(dsn).strip()
    scheme = re.match(r"^([a-zA-Z][a-zA-Z0-9+.-]*)://", text)
    if scheme and scheme.group(1).lower() not in ("postgresql", "postgres"):
        raise PgError("dsn", "malformed DSN: URL scheme %r is not postgresql:// or postgres://"
                      % scheme.group(1))
    if psycopg2 is None:
        raise PgError("library", missing_required_lib("psycopg2"))
    try:
        options = psycopg2.extensions.parse_dsn(text)
    except psycopg2.ProgrammingError as exc:
        detail = redact_message(str(exc), secrets)
        detail = re.sub(r"^invalid dsn:\s*", "", detail)
        raise PgError("dsn", "malformed DSN: %s (expected postgresql://user:password@host:5432/dbname "
                             "or host=... dbname=... key=value pairs)" % detail)
    if "password" in options:
        options["password"] = MASK
    return options


def describe_target(options):
    """``user@host:port/dbname`` from parsed DSN options (no password)."""
    host = options.get("host") or options.get("hostaddr") or "local socket"
    port = options.get("port")
    return "%s@%s%s/%s" % (options.get("user") or "(default user)", host, ":%s" % port if port else "",
                           options.get("dbname") or "(default database)")


def split_identifier(name):
    """``schema.name`` or ``name`` -> list of plain identifiers; ValueError when not one."""
    parts = (name or "").split(".")
    if not 1 <= len(parts) <= 2 or not all(_IDENTIFIER.match(p) for p in parts):
        raise ValueError("%r is not a (schema-qualified) SQL identifier such as verify_final_hardening "
                         "or auth.verify_rbac_integrity" % (name,))
    return parts


def identifier(name):
    """A composable, quoted identifier for a (schema-qualified) name."""
    return pgsql.Identifier(*split_identifier(name))


# Error classification -------------------------------------------------------------------------
_CONNECT_HINTS = (
    ("password authentication failed", "auth",
     "authentication failed: wrong password or user in the DSN (check the vault value)"),
    ("no password supplied", "auth", "the server asks for a password and the DSN has none"),
    ("authentication failed", "auth", "authentication failed: wrong credentials in the DSN"),
    ("no pg_hba.conf entry", "auth", "the server refuses this user/host/database (pg_hba.conf)"),
    ("role \"", "auth", None),
    ("does not exist", "database", None),
    ("connection refused", "connect",
     "connection refused: the database is down or not listening on that host and port"),
    ("timeout expired", "connect", "connect timeout: no answer from the database host"),
    ("could not translate host name", "connect", "the database host name does not resolve"),
    ("name or service not known", "connect", "the database host name does not resolve"),
    ("no route to host", "connect", "no route to the database host"),
    ("network is unreachable", "connect", "the database network is unreachable"),
    ("server closed the connection", "connect", "the server closed the connection"),
    ("ssl", "connect", None),
    ("invalid integer value", "dsn", None),
    ("invalid sslmode value", "dsn", None),
    ("invalid connection option", "dsn", None),
    ("too many connections", "connect", "the server has no free connection slot"),
    ("the database system is starting up", "connect", "the database is starting up"),
    ("the database system is shutting down", "connect", "the database is shutting down"),
)

_PGCODE_KINDS = {
    "57014": "timeout",             # query_canceled (statement_timeout)
    "55P03": "timeout",             # lock_not_available (lock_timeout)
    "3F000": "missing",             # invalid_schema_name
    "42883": "missing",             # undefined_function
    "42P01": "missing",             # undefined_table
    "42703": "missing",             # undefined_column
    "42704": "missing",             # undefined_object (e.g. role of SET ROLE)
    "42501": "permission",          # insufficient_privilege
    "25006": "read_only",           # read_only_sql_transaction
    "28P01": "auth",
    "28000": "auth",
    "3D000": "database",            # invalid_catalog_name
}


def classify_connect_error(exc, target, secrets=()):
    """PgError for a failed connect; the message names the target, never the password."""
    raw = redact_message(str(exc), secrets)
    lowered = raw.lower()
    code = getattr(exc, "pgcode", None)
    if code in _PGCODE_KINDS:
        return PgError(_PGCODE_KINDS[code], "cannot connect to %s: %s" % (target, raw), code)
    for needle, kind, text in _CONNECT_HINTS:
        if needle in lowered:
            if kind == "database" and "database" not in lowered:
                continue
            if kind == "auth" and needle == 'role "' and "does not exist" not in lowered:
                continue
            if kind == "dsn":
                return PgError("dsn", "malformed DSN: %s" % raw)
            message = "cannot connect to %s: %s" % (target, text or raw)
            if text:
                message += " (%s)" % raw
            return PgError(kind, message, code)
    return PgError("connect", "cannot connect to %s: %s" % (target, raw or type(exc).__name__), code)


def classify_statement_error(exc, label, secrets=(), timeout_s=None):
    code = getattr(exc, "pgcode", None)
    primary = redact_message(getattr(getattr(exc, "diag", None), "message_primary", None) or str(exc), secrets)
    kind = _PGCODE_KINDS.get(code)
    if kind is None:
        if isinstance(exc, psycopg2.OperationalError) and code is None:
            kind = "connect"
            primary = "the connection was lost: %s" % (primary or "server closed the connection")
        else:
            kind = "query"
    if kind == "timeout" and code == "57014":
        primary = "statement timeout after %ss (%s)" % (_fmt_seconds(timeout_s), primary)
    return PgError(kind, "%s failed: %s" % (label, primary), code)


def _fmt_seconds(value):
    if value is None:
        return "?"
    return ("%g" % value)


def json_safe(value):
    if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, datetime.timedelta):
        return value.total_seconds()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, memoryview):
        return "<%d bytes>" % len(value)
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if isinstance(value, dict):
        return dict((k, json_safe(v)) for k, v in value.items())
    return value


# Session --------------------------------------------------------------------------------------
class ReadOnlySession(object):
    """One read-only transaction over one connection; use as a context manager.

    >>> with ReadOnlySession(dsn, statement_timeout=30) as db:
    ...     rows = db.query("SELECT version, applied_at FROM schema_migrations")
    """

    def __init__(self, dsn, connect_timeout=10, statement_timeout=30.0, probe_role="",
                 application_name=APPLICATION_NAME):
        self.dsn = dsn
        self.secrets = dsn_secrets(dsn)
        self.options = parse_dsn(dsn)
        self.target = describe_target(self.options)
        self.connect_timeout = int(connect_timeout) if connect_timeout else 0
        self.statement_timeout = float(statement_timeout) if statement_timeout else 0.0
        self.probe_role = probe_role or ""
        self.application_name = application_name
        self.conn = None
        self._savepoints = 0
        # Savepoint commands that can wait: sent in the same round trip as the next statement.
        self._pending = []
        if self.probe_role:
            try:
                split_identifier(self.probe_role)
            except ValueError:
                raise PgError("dsn", "probe role %r is not a role name" % (self.probe_role,))
            if "." in self.probe_role:
                raise PgError("dsn", "probe role %r is not a role name" % (self.probe_role,))

    # Context ----------------------------------------------------------------------------
    def __enter__(self):
        self.open()
        return self

    def __exit__(self, *exc_info):
        self.close()
        return False

    def open(self):
        if psycopg2 is None:
            raise PgError("library", missing_required_lib("psycopg2"))
        kwargs = dict(application_name=self.application_name)
        if self.connect_timeout > 0:
            kwargs["connect_timeout"] = self.connect_timeout
        try:
            self.conn = psycopg2.connect(self.dsn, **kwargs)
        except psycopg2.Error as exc:
            raise classify_connect_error(exc, self.target, self.secrets)
        self.conn.autocommit = True
        try:
            with self.conn.cursor() as cur:
                # Second guard: any transaction this session starts is read-only.
                cur.execute("SET SESSION default_transaction_read_only = on")
                # One round trip for the transaction, its statement timeout and its role.
                start = [cur.mogrify("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")]
                if self.statement_timeout > 0:
                    start.append(cur.mogrify("SELECT pg_catalog.set_config('statement_timeout', %s, true)",
                                             ("%dms" % max(1, int(self.statement_timeout * 1000)),)))
                if self.probe_role:
                    start.append(cur.mogrify(pgsql.SQL("SET LOCAL ROLE {}").format(pgsql.Identifier(self.probe_role))))
                cur.execute(b"; ".join(start))
        except psycopg2.Error as exc:
            label = "SET LOCAL ROLE %s" % self.probe_role if self.probe_role else "starting the read-only transaction"
            error = classify_statement_error(exc, label, self.secrets, self.statement_timeout)
            self.close()
            raise error
        return self

    def close(self):
        conn, self.conn = self.conn, None
        self._pending = []
        if conn is None:
            return
        try:
            if not conn.closed:
                with conn.cursor() as cur:
                    cur.execute("ROLLBACK")
        except psycopg2.Error:
            pass
        finally:
            try:
                conn.close()
            except psycopg2.Error:
                pass

    # Statements -------------------------------------------------------------------------
    def _in_transaction(self):
        return (self.conn is not None and not self.conn.closed and
                self.conn.info.transaction_status == psycopg2.extensions.TRANSACTION_STATUS_INTRANS)

    def query(self, statement, params=None, label=None):
        """Run one statement inside a savepoint; return its rows as dicts (JSON-safe values).

        A failing statement is rolled back to the savepoint, so the session stays usable, and
        raised as PgError. Anything that would end the read-only transaction is refused.
        """
        if not self._in_transaction():
            raise PgError("read_only", "the read-only transaction is not open; refusing to run a statement outside it")
        label = label or "the query"
        self._savepoints += 1
        savepoint = "solvereign_check_%d" % self._savepoints
        with self.conn.cursor() as cur:
            # The waiting savepoint commands, this statement's savepoint and the statement itself go
            # in one round trip; the result is the statement's, the last one of the batch.
            batch = [cur.mogrify(command) for command in self._pending + ["SAVEPOINT %s" % savepoint]]
            self._pending = []
            try:
                cur.execute(b"; ".join(batch + [cur.mogrify(statement, params)]))
                columns = [c.name for c in cur.description] if cur.description else []
                rows = [dict(zip(columns, (json_safe(v) for v in row))) for row in cur.fetchall()] if columns else []
            except psycopg2.Error as exc:
                error = classify_statement_error(exc, label, self.secrets, self.statement_timeout)
                if isinstance(exc, psycopg2.OperationalError) and self.conn.closed:
                    raise error
                try:
                    cur.execute("ROLLBACK TO SAVEPOINT %s" % savepoint)
                except psycopg2.Error:
                    pass
                raise error
        if not self._in_transaction():
            # The statement ended the transaction (COMMIT/ROLLBACK inside it): stop here.
            self.close()
            raise PgError("read_only", "%s ended the read-only transaction; the session was closed" % label)
        self._pending.append("RELEASE SAVEPOINT %s" % savepoint)
        return rows

    @contextlib.contextmanager
    def scope(self):
        """Statements whose effects (``set_config(..., true)``, ``SET LOCAL``) are undone afterwards.

        A savepoint is taken on entry and rolled back to on exit, which also restores every
        setting changed inside: nothing set here outlives the block, even within this session.
        """
        if not self._in_transaction():
            raise PgError("read_only", "the read-only transaction is not open")
        self._savepoints += 1
        savepoint = "solvereign_scope_%d" % self._savepoints
        # Sent with the first statement of the block, and undone with the first one after it.
        self._pending.append("SAVEPOINT %s" % savepoint)
        try:
            yield self
        finally:
            undo = ["ROLLBACK TO SAVEPOINT %s" % savepoint, "RELEASE SAVEPOINT %s" % savepoint]
            if self._pending and self._pending[-1] == "SAVEPOINT %s" % savepoint:
                self._pending.pop()  # nothing ran inside: nothing to undo
            elif self._in_transaction():
                self._pending.extend(undo)
            elif (self.conn is not None and not self.conn.closed and
                  self.conn.info.transaction_status == psycopg2.extensions.TRANSACTION_STATUS_INERROR):
                self._pending = []
                with self.conn.cursor() as cur:
                    cur.execute("; ".join(undo))

    def scalar(self, statement, params=None, label=None):
        rows = self.query(statement, params, label)
        if not rows:
            return None
        return list(rows[0].values())[0]

    def query_together(self, statements, label=None):
        """Several independent statements in one round trip: ``statements`` is a list of
        ``(statement, params)``; returns their rows, a list of dicts for each, in that order.

        Each statement runs as a subquery whose rows travel as one JSON array (``json_agg``), so
        its values come back as JSON types (numbers, strings, booleans, lists, null) and its rows
        in the order its ORDER BY gives. One failing statement fails them all, as :meth:`query`."""
        if not self._in_transaction():
            raise PgError("read_only", "the read-only transaction is not open; refusing to run a statement outside it")
        encoding = psycopg2.extensions.encodings.get(self.conn.encoding, "utf-8")
        columns = []
        with self.conn.cursor() as cur:
            for index, (statement, params) in enumerate(statements):
                text = cur.mogrify(statement, params).decode(encoding)
                columns.append("(SELECT coalesce(json_agg(q), '[]'::json) FROM (%s\n) q) AS together_%d"
                               % (text, index))
        # The statements are complete (their parameters are in them): no parameter is left to bind.
        rows = self.query(pgsql.SQL("SELECT " + ",\n       ".join(columns)), None, label)
        return [rows[0]["together_%d" % index] for index in range(len(statements))]

    def identity(self):
        """Who the statements run as, and whether row level security can apply to them."""
        rows = self.query(IDENTITY, label="reading the connection role")
        return rows[0] if rows else {}

    def redact(self, text):
        return redact_message(text, self.secrets)

    def redact_block(self, text):
        """Like redact() but keeps line breaks (for evidence files)."""
        return "\n".join(redact_text(line, self.secrets) for line in text.split("\n"))


# Helpers for check modules ----------------------------------------------------------------------
ADVICE = {
    "dsn": "Fix solvereign_database_url: postgresql://user:password@host:5432/dbname (percent-encode "
           "special characters of the password) or host=... dbname=... user=... key=value pairs",
    "auth": "Check the user and password of solvereign_database_url (vault) and pg_hba.conf for this host",
    "connect": "Check that the database is up and reachable from the controller (host, port, firewall, sslmode)",
    "database": "Check the database name in solvereign_database_url",
    "timeout": "The statement exceeded statement_timeout: look for locks or load on the database, "
               "or raise database_statement_timeout",
    "missing": "Check that solvereign_database_url points at the SOLVEREIGN database and that its migrations ran",
    "permission": "Grant the check's role SELECT/EXECUTE on the objects it reads (read-only role)",
    "read_only": "The check only runs read-only statements; this is a bug in the check",
    "query": "See the message; the statement failed on the server",
    "library": "Install psycopg2-binary on the controller",
}


def session_from_module(module):
    """A ReadOnlySession from the postgres doc fragment options (not opened yet)."""
    p = module.params
    return ReadOnlySession(p["dsn"], connect_timeout=p["connect_timeout"],
                           statement_timeout=p["statement_timeout"], probe_role=p["probe_role"])


def add_error(row, name, error):
    """Record a PgError as an ERROR finding with the advice for its kind."""
    row.error(name, error.message, kind=error.kind)
    advice = ADVICE.get(error.kind)
    if advice and advice not in row.advice:
        row.advice.append(advice)


def format_table(rows, columns=None):
    """Rows as a psql-like aligned table (NULL shown as NULL)."""
    if columns is None:
        columns = list(rows[0].keys()) if rows else []

    def cell(value):
        if value is None:
            return "NULL"
        return " ".join(str(value).split())

    cells = [[cell(r.get(c)) for c in columns] for r in rows]
    widths = [max([len(c)] + [len(line[i]) for line in cells]) for i, c in enumerate(columns)]
    out = [" | ".join(c.ljust(w) for c, w in zip(columns, widths)).rstrip(),
           "-+-".join("-" * w for w in widths)]
    out.extend(" | ".join(v.ljust(w) for v, w in zip(line, widths)).rstrip() for line in cells)
    out.append("(%d row%s)" % (len(rows), "" if len(rows) == 1 else "s"))
    return "\n".join(out) + "\n"


def evidence_text(session, statement, body, identity=None):
    """An evidence file: where and when the statement ran, then its output; redacted."""
    lines = ["-- target: %s" % session.target]
    if identity:
        lines.append("-- role: %s (session user %s)" % (identity.get("current_user"), identity.get("session_user")))
    lines.append("-- read-only transaction, rolled back; generated %s UTC"
                 % datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S"))
    lines.append("-- %s" % " ".join(str(statement).split()))
    return session.redact_block("\n".join(lines) + "\n\n" + body)


def save_evidence(row, evidence_dir, name, text):
    """Write an evidence file; a failure to write is an ERROR finding, not a crash."""
    if not evidence_dir:
        return None
    try:
        return write_evidence(evidence_dir, name, text)
    except (OSError, IOError) as exc:
        row.error("evidence", "cannot write evidence file %s in %s: %s" % (name, evidence_dir, exc.strerror or exc))
        return None
