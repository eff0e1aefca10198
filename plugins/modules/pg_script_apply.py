#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, SOLVEREIGN release engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: pg_script_apply
short_description: Run one SQL file in one transaction, all or nothing (runbook 8.3 step 4, SQL rollback)
version_added: 0.2.0
description:
  - Runs the SQL file O(path) against O(dsn) in a single transaction and commits only when every statement
    succeeded; on the first error everything is rolled back and the message names the line.
  - A file that ends or starts transactions itself (C(COMMIT;), C(ROLLBACK;), C(END;), C(VACUUM), ...) or
    holds psql meta-commands is refused before connecting. One C(BEGIN;) ... C(COMMIT;) pair around the whole
    file is accepted and dropped.
  - O(evidence_query) (by default the C(schema_migrations) table) runs before and after the file in the same
    transaction; both results are returned as evidence. When the file fails, RV(after) is read again after the
    rollback, so it shows the database as it was left.
  - This is the collection's only SQL write path and is separate from the read-only session every check uses.
author:
  - SOLVEREIGN release engineering (@solvereign)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details:
      - Shows the plan (digest, size, statement estimate, problems) and runs nothing; no connection is made.
  diff_mode:
    support: none
  platform:
    platforms: posix
options:
  dsn:
    description:
      - libpq connection string of a role allowed to change the schema (C(rollback_database_url), vault).
        The verification DSN is read-only and stays so. The password is never shown.
    type: str
    required: true
  path:
    description: The SQL file, on the host the module runs on.
    type: path
    required: true
  evidence_query:
    description: Query run before and after the file; empty for none.
    type: str
    default: SELECT version, name, applied_at FROM schema_migrations ORDER BY version
  connect_timeout:
    description: Seconds to wait for the connection.
    type: int
    default: 10
  statement_timeout:
    description: Seconds each statement may run (set locally in the transaction); V(0) for the server's setting.
    type: float
    default: 300
  lock_timeout:
    description: Seconds a statement may wait for a lock; V(0) for the server's setting.
    type: float
    default: 30
requirements:
  - psycopg2 (C(psycopg2-binary))
"""

EXAMPLES = r"""
- name: Roll the schema back to v3.6
  solvereign.release_ops.pg_script_apply:
    dsn: "{{ rollback_database_url }}"
    path: backend_py/db/rollback/rollback_to_v3.6.sql
  register: sql_rollback
"""

RETURN = r"""
applied:
  description: Whether the file was committed.
  returned: always
  type: bool
target:
  description: C(user@host:port/dbname) of the connection (no password).
  returned: always
  type: str
plan:
  description: C(sha256), C(bytes), C(lines), C(statements_estimate), C(wrapping_transaction_removed), C(problems).
  returned: always
  type: dict
before:
  description: Rows of O(evidence_query) before the file ran (null in check mode or without a query).
  returned: always
  type: list
  elements: dict
after:
  description: Rows of O(evidence_query) after the file (after the rollback when it failed).
  returned: always
  type: list
  elements: dict
error:
  description: Why the file was not applied (redacted); empty when it was.
  returned: always
  type: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.solvereign.release_ops.plugins.module_utils.postgres import (
    PgError,
    ensure_required_libs,
)
from ansible_collections.solvereign.release_ops.plugins.module_utils.postgres_write import (
    WriteSession,
    script_plan,
    unwrap_transaction,
)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            dsn=dict(type="str", required=True, no_log=True),
            path=dict(type="path", required=True),
            evidence_query=dict(type="str", default="SELECT version, name, applied_at FROM schema_migrations "
                                                    "ORDER BY version"),
            connect_timeout=dict(type="int", default=10),
            statement_timeout=dict(type="float", default=300.0),
            lock_timeout=dict(type="float", default=30.0),
        ),
        supports_check_mode=True,
    )
    p = module.params
    result = dict(changed=False, applied=False, target=None, plan=None, before=None, after=None, error="")
    try:
        with open(p["path"], "rb") as handle:
            sql = handle.read().decode("utf-8")
    except (IOError, OSError) as exc:
        module.fail_json(msg="cannot read the SQL file %s: %s (rollback_sql_file)" % (p["path"], exc.strerror or exc),
                         **result)
    except UnicodeDecodeError:
        module.fail_json(msg="the SQL file %s is not UTF-8 text" % p["path"], **result)
    plan = script_plan(sql)
    result["plan"] = plan
    if plan["problems"]:
        module.fail_json(msg="the SQL file %s cannot run as one all-or-nothing transaction: %s"
                         % (p["path"], "; ".join(plan["problems"][:5])), **result)
    ensure_required_libs(module)
    try:
        session = WriteSession(p["dsn"], connect_timeout=p["connect_timeout"],
                               statement_timeout=p["statement_timeout"], lock_timeout=p["lock_timeout"])
    except PgError as exc:
        module.fail_json(msg="rollback_database_url: %s" % exc.message, **result)
    result["target"] = session.target
    if module.check_mode:
        result["changed"] = True
        module.exit_json(**result)
    body = unwrap_transaction(sql)[0]
    try:
        rows = session.apply(body, p["evidence_query"] or None)
    except PgError as exc:
        result["error"] = exc.message
        result["before"] = session.evidence["before"]
        if p["evidence_query"]:
            try:
                result["after"] = session.read(p["evidence_query"])
            except PgError:
                result["after"] = None
        module.fail_json(msg="the SQL file %s was rolled back, nothing of it is applied: %s" % (p["path"], exc.message),
                         **result)
    result.update(changed=True, applied=True, before=rows["before"], after=rows["after"])
    module.exit_json(**result)


if __name__ == "__main__":
    main()
