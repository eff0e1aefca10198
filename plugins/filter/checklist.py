# -*- coding: utf-8 -*-
# Copyright: (c) 2026, SOLVEREIGN release engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters that turn task results into checklist rows and collect them per report."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.solvereign.release_ops.plugins.module_utils.redact import redact_text
from ansible_collections.solvereign.release_ops.plugins.module_utils.result import (
    FAILING_STATUSES,
    CheckRow,
)


# Result keys under which check modules name the evidence file they wrote for their rows.
EVIDENCE_RESULT_KEYS = ("evidence_file", "transcript", "screenshot")


def recorded_rows(hvars):
    """Rows a host recorded (facts are visible top-level and under ansible_facts)."""
    rows = hvars.get("solvereign_checklist_rows")
    if rows is None:
        rows = (hvars.get("ansible_facts") or {}).get("solvereign_checklist_rows")
    return rows or []


def _row_spec(spec):
    if not isinstance(spec, dict) or "id" not in spec or "title" not in spec:
        raise AnsibleFilterError("a row spec needs 'id' and 'title', got %r" % (spec,))
    return str(spec["id"]), str(spec["title"])


def checklist_row(result, spec, environment, skip_reason=None):
    """The row a check task returned, or an ERROR/SKIP row saying why there is none.

    ``result`` is what the check task registered; ``spec`` is ``{id, title}``; ``skip_reason``
    explains a task skipped by its condition (for example a variable that is not set). The
    evidence files the module wrote are listed in the row's ``evidence``.
    """
    check_id, title = _row_spec(spec)
    result = result or {}
    row = result.get("row")
    if isinstance(row, dict) and row.get("status"):
        files = [result[key] for key in EVIDENCE_RESULT_KEYS if isinstance(result.get(key), str) and result[key]]
        if files and "evidence" not in row:
            row = dict(row, evidence=files)
        return row
    placeholder = CheckRow(check_id, title, environment)
    if result.get("skipped"):
        placeholder.mark_skipped(skip_reason or result.get("skip_reason") or "the check was not run")
    elif result.get("unreachable"):
        placeholder.error("run", "host unreachable: %s" % redact_text(result.get("msg", "")))
    else:
        message = redact_text(result.get("msg") or "the check task returned no row")
        placeholder.error("run", "the check could not run: %s" % " ".join(message.split())[:500])
    return placeholder.to_dict()


def rows_from_result(result, specs, environment, skip_reason=None):
    """The rows of ``specs`` from one check's result: its ``rows`` matched by id, else its ``row``.

    A module that returns several rows (key ``rows``) must return every row asked for; a row it
    did not return is an ERROR row saying so.
    """
    result = result or {}
    if len(specs) == 1 and not isinstance(result.get("rows"), list):
        return [checklist_row(result, specs[0], environment, skip_reason)]
    returned = dict((r.get("id"), r) for r in result.get("rows") or [] if isinstance(r, dict))
    rows = []
    for spec in specs:
        one = dict(result, row=returned.get(str(spec.get("id"))))
        if not one["row"] and not result.get("failed") and not result.get("skipped"):
            one.update(failed=True, msg="the check returned no row %s" % spec.get("id"))
        rows.append(checklist_row(one, spec, environment, skip_reason))
    return rows


def merge_host_rows(host_rows, spec, environment):
    """One row from the rows several hosts of an environment produced for the same check.

    ``host_rows`` maps host name to its row (None when the check did not run there). Findings
    keep their status and are prefixed with the host; a host without a row is an ERROR finding;
    hosts that only skipped make the row SKIP when no host evaluated anything.
    """
    check_id, title = _row_spec(spec)
    merged = CheckRow(check_id, title, environment)
    skips = []
    for host in sorted(host_rows or {}):
        row = host_rows[host]
        if not isinstance(row, dict) or not row.get("status"):
            merged.error(host, "%s: the check did not run on this host" % host)
        elif row["status"] == "SKIP" and not row.get("findings"):
            skips.append("%s: %s" % (host, row.get("summary")))
        else:
            for finding in row.get("findings") or []:
                extra = dict((k, v) for k, v in finding.items() if k not in ("name", "status", "message"))
                extra["host"] = host
                merged.add("%s: %s" % (host, finding.get("name")), finding.get("status", "ERROR"),
                           "%s: %s" % (host, finding.get("message")), **extra)
            merged.advice = row.get("advice") or merged.advice
    if not merged.findings:
        if skips:
            merged.mark_skipped("; ".join(skips))
        else:
            merged.error("hosts", "no host of environment %s ran the check" % environment)
    return merged.to_dict()


def skipped_rows(specs, environment, reason):
    """SKIP rows for every ``{id, title}`` in ``specs`` with ``reason`` as summary."""
    rows = []
    for spec in specs:
        check_id, title = _row_spec(spec)
        row = CheckRow(check_id, title, environment)
        row.mark_skipped(reason)
        rows.append(row.to_dict())
    return rows


def error_rows(specs, environment, reason):
    """ERROR rows for every ``{id, title}`` in ``specs``: the section could not be evaluated."""
    rows = []
    for spec in specs:
        check_id, title = _row_spec(spec)
        row = CheckRow(check_id, title, environment)
        row.error("run", reason)
        rows.append(row.to_dict())
    return rows


def gate_reason(hostvars, hosts, gated_environment="prod"):
    """Why ``gated_environment`` must not be verified yet, or '' when it may.

    Every other environment verified in the same run must have no FAIL or ERROR row: the
    runbook says DO NOT proceed to production until staging matches.
    """
    blocking = {}
    for host in hosts:
        hvars = hostvars[host]
        environment = hvars.get("solvereign_environment")
        if not environment or environment == gated_environment:
            continue
        for row in recorded_rows(hvars):
            if row.get("status") in FAILING_STATUSES:
                blocking.setdefault(environment, []).append("%s %s" % (row.get("id"), row.get("status")))
    if not blocking:
        return ""
    parts = ["%s (%s)" % (env, ", ".join(sorted(set(rows)))) for env, rows in sorted(blocking.items())]
    return ("not verified: %s did not pass first; the runbook says DO NOT proceed to %s until it does"
            % ("; ".join(parts), gated_environment))


def checklist_reports(hostvars, hosts):
    """Group the rows recorded on ``hosts`` by evidence directory, one report each."""
    reports = {}
    order = []
    for host in hosts:
        hvars = hostvars[host]
        rows = recorded_rows(hvars)
        if not rows:
            continue
        directory = hvars.get("solvereign_evidence_path") or hvars.get("solvereign_evidence_dir")
        if directory not in reports:
            order.append(directory)
            reports[directory] = {"evidence_dir": directory, "release": hvars.get("solvereign_release_version"),
                                  "rows": []}
        seen = set((r["environment"], r["id"]) for r in reports[directory]["rows"])
        for row in rows:
            if (row.get("environment"), row.get("id")) not in seen:
                reports[directory]["rows"].append(row)
                seen.add((row.get("environment"), row.get("id")))
    return [reports[d] for d in order]


class FilterModule(object):
    def filters(self):
        return {
            "checklist_row": checklist_row,
            "rows_from_result": rows_from_result,
            "skipped_rows": skipped_rows,
            "merge_host_rows": merge_host_rows,
            "error_rows": error_rows,
            "gate_reason": gate_reason,
            "checklist_reports": checklist_reports,
        }
