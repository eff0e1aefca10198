#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, SOLVEREIGN release engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: pg_verify_function_check
short_description: Run a database self-verification function and judge its rows (runbook rows 6.2, 6.3)
version_added: 0.1.0
description:
  - Runs C(SELECT * FROM <function>()) in a read-only transaction. The function returns one row
    per check with a name column, a status column and optionally a details column, as
    C(verify_final_hardening()) and C(auth.verify_rbac_integrity()) do.
  - One finding per returned row. A row whose status is in O(pass_values) passes, one in
    O(warn_values) warns, any other status fails and is shown with its details.
  - With O(expected_count), the function must return exactly that many rows; fewer means checks
    went missing and fails, as does an unexpected extra check.
  - A function that does not exist is a V(FAIL) with O(missing_message) (the migration that creates
    it was not applied); a schema that does not exist is an V(ERROR) (wrong database?).
  - The function's output is written to O(evidence_dir)/O(evidence_name).
author:
  - SOLVEREIGN release engineering (@solvereign)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - solvereign.release_ops.check_row
  - solvereign.release_ops.postgres
options:
  function:
    description: The verification function, optionally schema-qualified, without parentheses.
    type: str
    required: true
  expected_count:
    description: Exact number of rows (checks) the function must return. V(0) accepts any number but none.
    type: int
    default: 0
  name_column:
    description: Column that names each check.
    type: str
    default: check_name
  status_column:
    description: Column that holds each check's status.
    type: str
    default: status
  details_column:
    description: Column with the check's details, shown in the finding. Empty if there is none.
    type: str
    default: details
  pass_values:
    description: Status values that pass (compared case-insensitively).
    type: list
    elements: str
    default: [PASS]
  warn_values:
    description: Status values that are advisory (compared case-insensitively).
    type: list
    elements: str
    default: [WARN]
  missing_message:
    description: What it means when the function does not exist; the finding's message.
    type: str
    default: the verification function does not exist
  advice:
    description: Remedies shown with the row when it does not pass.
    type: list
    elements: str
    default: []
  evidence_dir:
    description: Directory for the evidence file. Empty to write none.
    type: path
  evidence_name:
    description: File name of the evidence file in O(evidence_dir). Empty to write none.
    type: str
    default: ""
"""

EXAMPLES = r"""
- name: RLS hardening verification (row 6.2)
  solvereign.release_ops.pg_verify_function_check:
    check_id: "6.2"
    check_title: RLS hardening
    environment: staging
    dsn: "{{ solvereign_database_url }}"
    function: verify_final_hardening
    missing_message: verify_final_hardening() does not exist, the hardening migration (041) is not applied
    evidence_dir: release_evidence/v3.7.0
    evidence_name: rls_verify.log
  delegate_to: localhost
  no_log: true
  register: hardening

- name: RBAC integrity (row 6.3)
  solvereign.release_ops.pg_verify_function_check:
    check_id: "6.3"
    check_title: RBAC integrity
    environment: staging
    dsn: "{{ solvereign_database_url }}"
    function: auth.verify_rbac_integrity
    expected_count: 13
  delegate_to: localhost
  no_log: true
  register: rbac
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
checks:
  description: The rows the function returned.
  returned: always
  type: list
  elements: dict
  sample: [{"check_name": "rls_enabled", "status": "PASS", "details": "RLS enabled on all 5 tenant tables"}]
evidence_file:
  description: Path of the evidence file written, or null.
  returned: always
  type: str
"""

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


def judge(row, checks, p):
    """One finding per returned check, then the count finding."""
    passing = set(v.upper() for v in p["pass_values"])
    warning = set(v.upper() for v in p["warn_values"])
    name_col, status_col, details_col = p["name_column"], p["status_column"], p["details_column"]
    if checks and status_col not in checks[0]:
        row.error("columns", "%s() returned no %r column (columns: %s)"
                  % (p["function"], status_col, ", ".join(checks[0])))
        return
    for index, check in enumerate(checks, 1):
        name = str(check.get(name_col) or "check %d" % index)
        status = str(check.get(status_col) or "").strip()
        details = check.get(details_col) if details_col else None
        text = "%s: %s" % (name, status or "no status")
        if details:
            text += " (%s)" % " ".join(str(details).split())
        if status.upper() in passing:
            row.passed(name, text)
        elif status.upper() in warning:
            row.warn(name, text)
        else:
            row.fail(name, text)
    count = len(checks)
    failed = len([f for f in row.findings if f.status == "FAIL"])
    expected = p["expected_count"]
    if expected and count < expected:
        row.fail("count", "%s() returned %d of the expected %d checks: %d check(s) went missing"
                 % (p["function"], count, expected, expected - count), returned=count, expected=expected)
    elif expected and count > expected:
        row.fail("count", "%s() returned %d checks, expected exactly %d: update the expected number "
                 "once the new checks are reviewed" % (p["function"], count, expected),
                 returned=count, expected=expected)
    elif not count:
        row.fail("count", "%s() returned no checks" % p["function"], returned=0)
    else:
        row.passed("count", "%d/%d checks PASS" % (count - failed, count) if not expected
                   else "%d checks returned as expected; %d/%d PASS" % (count, count - failed, count),
                   returned=count)


def main(module_factory=AnsibleModule):
    argument_spec = check_common_argument_spec()
    argument_spec.update(postgres_common_argument_spec())
    argument_spec.update(
        function=dict(type="str", required=True),
        expected_count=dict(type="int", default=0),
        name_column=dict(type="str", default="check_name"),
        status_column=dict(type="str", default="status"),
        details_column=dict(type="str", default="details"),
        pass_values=dict(type="list", elements="str", default=["PASS"], no_log=False),
        warn_values=dict(type="list", elements="str", default=["WARN"]),
        missing_message=dict(type="str", default="the verification function does not exist"),
        advice=dict(type="list", elements="str", default=[]),
        evidence_dir=dict(type="path"),
        evidence_name=dict(type="str", default=""),
    )
    module = module_factory(argument_spec=argument_spec, supports_check_mode=True)
    ensure_required_libs(module)
    p = module.params
    try:
        function = identifier(p["function"])
    except ValueError as exc:
        module.fail_json(msg="function: %s" % exc)
    if p["expected_count"] < 0:
        module.fail_json(msg="expected_count must be 0 (any) or a positive number, got %d" % p["expected_count"])
    row = new_row(module)
    row.advice = list(p["advice"])
    result = dict(checks=[], evidence_file=None)
    shown = "SELECT * FROM %s();" % p["function"]
    statement = pgsql.SQL("SELECT * FROM {}()").format(function)
    session = None
    identity = {}
    checks = None
    try:
        session = session_from_module(module)
        with session as db:
            identity = db.identity()
            try:
                checks = db.query(statement, label=shown.rstrip(";"))
            except PgError as exc:
                if exc.kind != "missing" or exc.pgcode != "42883":
                    if exc.kind == "missing":
                        exc.message += " (database %s): is solvereign_database_url the SOLVEREIGN database?" % (
                            identity.get("database"))
                    raise
                row.fail("function", "%s (%s; database %s, search_path %s)"
                         % (p["missing_message"], exc.message, identity.get("database"),
                            identity.get("search_path")))
    except PgError as exc:
        add_error(row, "function", exc)
    body = None
    if checks is not None:
        result["checks"] = checks
        judge(row, checks, p)
        columns = list(checks[0].keys()) if checks else [p["name_column"], p["status_column"]]
        body = format_table(checks, columns)
    elif row.findings:
        body = "%s: %s\n" % (row.findings[-1].status, row.findings[-1].message)
    if checks and row.status == "PASS":
        row.summary = "%s(): %d/%d checks PASS" % (p["function"], len(checks), len(checks))
    if session is not None and body is not None and p["evidence_name"]:
        result["evidence_file"] = save_evidence(row, p["evidence_dir"], p["evidence_name"],
                                                evidence_text(session, shown, body, identity))
    exit_with_row(module, row, **result)


if __name__ == "__main__":
    main()
