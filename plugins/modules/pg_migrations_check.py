#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, SOLVEREIGN release engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: pg_migrations_check
short_description: Verify the applied database migrations (runbook row 6.1)
version_added: 0.1.0
description:
  - Reads every row of the migrations table (C(version), C(name), C(applied_at)) in a read-only
    transaction.
  - It checks that the latest applied version is at least O(min_version), that every row has an
    C(applied_at) timestamp, and that the numbered sequence has no gaps (a gap is a V(WARN)).
  - Versions compare by their leading number (V(041) > V(039)); versions without one compare as text.
    Timestamp-style versions (more than 6 digits) are not checked for gaps.
  - The latest O(evidence_rows) rows, as the runbook's C(psql) shows them, are written to
    O(evidence_dir)/O(evidence_name).
author:
  - SOLVEREIGN release engineering (@solvereign)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - solvereign.release_ops.check_row
  - solvereign.release_ops.postgres
options:
  min_version:
    description: Lowest acceptable latest migration version, for example V(041).
    type: str
    default: "041"
  table:
    description: The migrations table, optionally schema-qualified.
    type: str
    default: schema_migrations
  evidence_dir:
    description: Directory for the evidence file. Empty to write none.
    type: path
  evidence_name:
    description: File name of the evidence file in O(evidence_dir).
    type: str
    default: migrations_applied.log
  evidence_rows:
    description: How many of the latest rows the evidence file keeps.
    type: int
    default: 10
"""

EXAMPLES = r"""
- name: Verify the migration status (row 6.1)
  solvereign.release_ops.pg_migrations_check:
    check_id: "6.1"
    check_title: Migration status
    environment: staging
    dsn: "{{ solvereign_database_url }}"
    min_version: "041"
    evidence_dir: release_evidence/v3.7.0
  delegate_to: localhost
  no_log: true
  register: migrations
"""

RETURN = r"""
row:
  description:
    - The checklist row, with C(id), C(environment), C(title), C(status) (V(PASS), V(WARN),
      V(FAIL), V(ERROR) or V(SKIP)), C(summary), C(findings) (each with C(name), C(status),
      C(message)), C(started_at), C(duration_s) and, unless it passes, C(advice).
  returned: always
  type: dict
status:
  description: The row's status.
  returned: always
  type: str
latest_version:
  description: Highest applied version, or null when none could be read.
  returned: always
  type: str
  sample: "041"
migrations:
  description: The latest O(evidence_rows) rows, newest first.
  returned: always
  type: list
  elements: dict
  sample: [{"version": "041", "name": "041_final_hardening", "applied_at": "2025-12-06T09:00:00+00:00"}]
evidence_file:
  description: Path of the evidence file written, or null.
  returned: always
  type: str
"""

import re

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.solvereign.release_ops.plugins.module_utils.postgres import (
    PgError,
    add_error,
    ensure_required_libs,
    evidence_text,
    format_table,
    identifier,
    postgres_common_argument_spec,
    save_evidence,
    session_from_module,
)
from ansible_collections.solvereign.release_ops.plugins.module_utils.result import (
    check_common_argument_spec,
    exit_with_row,
    new_row,
)

try:
    from psycopg2 import sql as pgsql
except ImportError:  # pragma: no cover - reported by ensure_required_libs
    pgsql = None

_LEADING_NUMBER = re.compile(r"^(\d+)")
MAX_SEQUENCE_DIGITS = 6


def version_key(version):
    """Sort key: (0, number, text) for numbered versions, (1, 0, text) for the others."""
    text = str(version)
    match = _LEADING_NUMBER.match(text)
    if match:
        return (0, int(match.group(1)), text)
    return (1, 0, text)


def find_gaps(versions):
    """Missing numbers between the lowest and highest numbered version (zero-padded like them)."""
    numbers = {}
    for version in versions:
        match = _LEADING_NUMBER.match(str(version))
        if not match:
            continue
        digits = match.group(1)
        if len(digits) > MAX_SEQUENCE_DIGITS:
            return None
        numbers[int(digits)] = len(digits)
    if len(numbers) < 2:
        return []
    width = max(numbers.values())
    low, high = min(numbers), max(numbers)
    return [str(n).zfill(width) for n in range(low, high + 1) if n not in numbers]


def compress(versions, limit=12):
    shown = ", ".join(versions[:limit])
    if len(versions) > limit:
        shown += " and %d more" % (len(versions) - limit)
    return shown


def judge(row, migrations, min_version):
    """Add the findings for ``migrations`` (newest first) to ``row``."""
    if not migrations:
        row.fail("latest", "no migration is recorded in the migrations table")
        return None
    latest = migrations[0]
    latest_version = str(latest["version"])
    if version_key(latest_version) >= version_key(min_version):
        row.passed("latest", "latest migration %s (%s) >= %s" % (latest_version, latest.get("name"), min_version))
    else:
        row.fail("latest", "latest applied migration is %s (%s), expected at least %s"
                 % (latest_version, latest.get("name"), min_version))

    missing_at = [str(m["version"]) for m in migrations if m.get("applied_at") is None]
    if missing_at:
        row.fail("applied_at", "%d migration(s) without applied_at: %s" % (len(missing_at), compress(missing_at)),
                 versions=missing_at)
    else:
        row.passed("applied_at", "all %d migrations have applied_at" % len(migrations))

    gaps = find_gaps([m["version"] for m in migrations])
    if gaps is None:
        row.passed("sequence", "versions are timestamps; sequence gaps are not checked")
    elif gaps:
        row.warn("sequence", "gap(s) in the migration sequence: %s not recorded" % compress(gaps), missing=gaps)
    else:
        row.passed("sequence", "no gaps in the migration sequence")
    return latest_version


def main(module_factory=AnsibleModule):
    argument_spec = check_common_argument_spec()
    argument_spec.update(postgres_common_argument_spec())
    argument_spec.update(
        min_version=dict(type="str", default="041"),
        table=dict(type="str", default="schema_migrations"),
        evidence_dir=dict(type="path"),
        evidence_name=dict(type="str", default="migrations_applied.log"),
        evidence_rows=dict(type="int", default=10),
    )
    module = module_factory(argument_spec=argument_spec, supports_check_mode=True)
    ensure_required_libs(module)
    p = module.params
    try:
        table = identifier(p["table"])
    except ValueError as exc:
        module.fail_json(msg="table: %s" % exc)
    row = new_row(module)
    result = dict(latest_version=None, migrations=[], evidence_file=None)
    statement = pgsql.SQL("SELECT version::text AS version, name::text AS name, applied_at FROM {}").format(table)
    shown = "SELECT version, name, applied_at FROM %s ORDER BY version DESC" % p["table"]
    try:
        session = session_from_module(module)
        with session as db:
            identity = db.identity()
            try:
                migrations = db.query(statement, label="reading %s" % p["table"])
            except PgError as exc:
                if exc.kind == "missing":
                    exc.message += (" (database %s, search_path %s): is solvereign_database_url the SOLVEREIGN "
                                    "database, and can its role read the table?"
                                    % (identity.get("database"), identity.get("search_path")))
                raise
    except PgError as exc:
        add_error(row, "migrations", exc)
        exit_with_row(module, row, **result)

    migrations.sort(key=lambda m: version_key(m["version"]), reverse=True)
    result["latest_version"] = judge(row, migrations, p["min_version"])
    latest = migrations[:max(0, p["evidence_rows"])]
    result["migrations"] = latest
    if row.status in ("FAIL", "ERROR"):
        row.advice = ["Check the deployment's migration job logs; apply the missing migrations "
                      "(this check never writes to the database)",
                      "DO NOT proceed to production until the migration status matches"]
    if p["evidence_dir"]:
        body = format_table(latest, ["version", "name", "applied_at"])
        result["evidence_file"] = save_evidence(
            row, p["evidence_dir"], p["evidence_name"],
            evidence_text(session, shown + " LIMIT %d" % p["evidence_rows"], body, identity))
    exit_with_row(module, row, **result)


if __name__ == "__main__":
    main()
