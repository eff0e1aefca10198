# -*- coding: utf-8 -*-
# Copyright: (c) 2026, SOLVEREIGN release engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The write path to PostgreSQL: one SQL file in one transaction, all or nothing.

Kept apart from the read-only session of ``postgres.py`` on purpose: the checks can never reach
this code, and this code never weakens that session. It reuses its DSN parsing, redaction and
error classification.

- one connection, one transaction (``BEGIN`` ... ``COMMIT``); on the first error everything is
  rolled back and the error names the line of the file;
- a file that ends or starts transactions itself (``COMMIT;``, ``ROLLBACK;``, ...) or holds psql
  meta-commands (``\\i``, ``\\set``) is refused before connecting, because it could not be all or
  nothing; a single ``BEGIN;`` ... ``COMMIT;`` wrapping the whole file is accepted (and dropped);
- an evidence query (``schema_migrations``) runs before the file and after it, in the same transaction.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import re

from ansible_collections.solvereign.release_ops.plugins.module_utils.postgres import (
    APPLICATION_NAME,
    PgError,
    classify_connect_error,
    classify_statement_error,
    describe_target,
    dsn_secrets,
    json_safe,
    parse_dsn,
    psycopg2,
)

_TX_CONTROL = re.compile(r"^\s*(BEGIN|COMMIT|ROLLBACK|ABORT|END|START\s+TRANSACTION|"
                         r"PREPARE\s+TRANSACTION|COMMIT\s+PREPARED|ROLLBACK\s+PREPARED|VACUUM|"
                         r"CREATE\s+DATABASE|DROP\s+DATABASE|CREATE\s+INDEX\s+CONCURRENTLY)\b(?P<rest>[^;]*);", re.I)
_WRAP_BEGIN = re.compile(r"\A(?P<lead>(?:\s|--[^\n]*\n)*)BEGIN(?:\s+(?:TRANSACTION|WORK))?\s*;", re.I)
_WRAP_COMMIT = re.compile(r"COMMIT(?:\s+(?:TRANSACTION|WORK))?\s*;(?P<trail>(?:\s|--[^\n]*(?:\n|\Z))*)\Z", re.I)
_DOLLAR = re.compile(r"\$(?:[A-Za-z_][A-Za-z0-9_]*)?\$")


def _code_lines(sql):
    """(line number, text) of the lines outside dollar-quoted bodies and block comments."""
    out = []
    quote = None
    in_comment = False
    for number, line in enumerate(sql.splitlines(), start=1):
        visible = []
        i = 0
        while i < len(line):
            if in_comment:
                end = line.find("*/", i)
                if end < 0:
                    i = len(line)
                    continue
                in_comment, i = False, end + 2
                continue
            if quote:
                end = line.find(quote, i)
                if end < 0:
                    i = len(line)
                    continue
                i, quote = end + len(quote), None
                visible.append(" ")
                continue
            if line.startswith("--", i):
                break
            if line.startswith("/*", i):
                in_comment, i = True, i + 2
                continue
            match = _DOLLAR.match(line, i)
            if match:
                quote, i = match.group(0), match.end()
                continue
            visible.append(line[i])
            i += 1
        out.append((number, "".join(visible), quote is not None or in_comment))
    return out


def unwrap_transaction(sql):
    """Drop one ``BEGIN;`` at the start and one ``COMMIT;`` at the end when both are there."""
    begin = _WRAP_BEGIN.match(sql)
    commit = _WRAP_COMMIT.search(sql)
    if begin and commit and commit.start() > begin.end():
        return sql[:begin.start("lead") + len(begin.group("lead"))] + sql[begin.end():commit.start()], True
    return sql, False


def script_problems(sql):
    """Reasons the file cannot run as one all-or-nothing transaction (empty when it can)."""
    problems = []
    if not sql.strip():
        return ["the file is empty"]
    for number, text, _inside in _code_lines(sql):
        stripped = text.strip()
        if stripped.startswith("\\"):
            problems.append("line %d: psql meta-command %s (not SQL; inline the file instead)" % (number, stripped[:40]))
            continue
        for statement in text.split(";"):
            match = _TX_CONTROL.match(statement + ";")
            if match and statement.strip():
                word = " ".join(match.group(1).split()).upper()
                problems.append("line %d: %s ends or changes the transaction (the file must run as one "
                                "transaction: remove it)" % (number, word))
    return problems


def script_plan(sql):
    """What check mode shows: size, digest, statement estimate and problems."""
    body, unwrapped = unwrap_transaction(sql)
    statements = [s for s in re.split(r";\s*(?:--[^\n]*)?\n", body) if s.strip() and not
                  all(ln.strip().startswith("--") or not ln.strip() for ln in s.splitlines())]
    return {"sha256": hashlib.sha256(sql.encode("utf-8")).hexdigest(), "bytes": len(sql.encode("utf-8")),
            "lines": len(sql.splitlines()), "statements_estimate": len(statements),
            "wrapping_transaction_removed": unwrapped, "problems": script_problems(body)}


def _line_of(sql, position):
    try:
        position = int(position)
    except (TypeError, ValueError):
        return None
    return sql[:max(0, position - 1)].count("\n") + 1


class WriteSession(object):
    """One read-write transaction that runs one script, committed only when all of it succeeded."""

    def __init__(self, dsn, connect_timeout=10, statement_timeout=0.0, lock_timeout=0.0,
                 application_name=APPLICATION_NAME + " (sql rollback)"):
        self.dsn = dsn
        self.secrets = dsn_secrets(dsn)
        self.options = parse_dsn(dsn)
        self.target = describe_target(self.options)
        self.connect_timeout = int(connect_timeout or 0)
        self.statement_timeout = float(statement_timeout or 0)
        self.lock_timeout = float(lock_timeout or 0)
        self.application_name = application_name
        self.evidence = {"before": None, "after": None}

    def _connect(self):
        if psycopg2 is None:
            raise PgError("library", "psycopg2 is not installed")
        kwargs = dict(application_name=self.application_name)
        if self.connect_timeout > 0:
            kwargs["connect_timeout"] = self.connect_timeout
        try:
            conn = psycopg2.connect(self.dsn, **kwargs)
        except psycopg2.Error as exc:
            raise classify_connect_error(exc, self.target, self.secrets)
        conn.autocommit = False
        return conn

    @staticmethod
    def _rows(cur):
        if not cur.description:
            return []
        columns = [c.name for c in cur.description]
        return [dict(zip(columns, (json_safe(v) for v in row))) for row in cur.fetchall()]

    def read(self, query):
        """Run ``query`` in a read-only transaction that is rolled back; return its rows."""
        conn = self._connect()
        try:
            with conn.cursor() as cur:
                cur.execute("SET TRANSACTION READ ONLY")
                cur.execute(query)
                return self._rows(cur)
        except psycopg2.Error as exc:
            raise classify_statement_error(exc, "the evidence query", self.secrets, self.statement_timeout)
        finally:
            conn.rollback()
            conn.close()

    def apply(self, sql, evidence_query=None):
        """Run ``sql`` in one transaction; return {"before", "after"} rows of ``evidence_query``.

        On any error the transaction is rolled back and PgError is raised; its message names the
        line of ``sql`` where PostgreSQL reported the error.
        """
        conn = self._connect()
        result = self.evidence = {"before": None, "after": None}
        try:
            with conn.cursor() as cur:
                if self.statement_timeout > 0:
                    cur.execute("SELECT pg_catalog.set_config('statement_timeout', %s, true)",
                                ("%dms" % max(1, int(self.statement_timeout * 1000)),))
                if self.lock_timeout > 0:
                    cur.execute("SELECT pg_catalog.set_config('lock_timeout', %s, true)",
                                ("%dms" % max(1, int(self.lock_timeout * 1000)),))
                if evidence_query:
                    try:
                        cur.execute(evidence_query)
                    except psycopg2.Error as exc:
                        raise classify_statement_error(exc, "the evidence query (before)", self.secrets)
                    result["before"] = self._rows(cur)
                try:
                    cur.execute(sql)
                except psycopg2.Error as exc:
                    error = classify_statement_error(exc, "the SQL file", self.secrets, self.statement_timeout)
                    line = _line_of(sql, getattr(getattr(exc, "diag", None), "statement_position", None))
                    if line:
                        error.message = "%s (at line %d of the statements run)" % (error.message, line)
                    raise error
                if conn.info.transaction_status != psycopg2.extensions.TRANSACTION_STATUS_INTRANS:
                    raise PgError("query", "the SQL file ended the transaction itself; nothing is committed by "
                                           "this module (check the database by hand)")
                if evidence_query:
                    cur.execute(evidence_query)
                    result["after"] = self._rows(cur)
            conn.commit()
        except PgError:
            conn.rollback()
            raise
        except psycopg2.Error as exc:
            conn.rollback()
            raise classify_statement_error(exc, "the SQL rollback", self.secrets, self.statement_timeout)
        finally:
            conn.close()
        return result
