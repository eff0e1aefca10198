# -*- coding: utf-8 -*-
# Copyright: (c) 2026, SOLVEREIGN release engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Render a checklist (rows of every environment) as JSON, Markdown and JUnit XML."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
from xml.sax.saxutils import escape, quoteattr

from ansible_collections.solvereign.release_ops.plugins.module_utils.redact import redact_structure
from ansible_collections.solvereign.release_ops.plugins.module_utils.result import (
    ERROR,
    FAIL,
    FAILING_STATUSES,
    SKIP,
    STATUSES,
    utc_now_iso,
    write_evidence,
)

STATUS_MARK = {"PASS": "[x]", "WARN": "[x]", "FAIL": "[ ]", "ERROR": "[?]", "SKIP": "[-]"}


def row_sort_key(row):
    """Runbook order: by numeric id parts, then environment."""
    parts = []
    for piece in str(row.get("id", "")).split("."):
        parts.append(int(piece) if piece.isdigit() else 0)
    return (parts, str(row.get("environment", "")))


def verdict(rows, strict=False):
    failing = set(FAILING_STATUSES) | ({SKIP} if strict else set())
    if not rows:
        return FAIL
    return FAIL if any(r.get("status") in failing for r in rows) else "PASS"


def build(rows, release, strict=False, secrets=()):
    rows = sorted((redact_structure(r, secrets) for r in rows), key=row_sort_key)
    counts = dict((s, 0) for s in STATUSES)
    for row in rows:
        counts[row.get("status", ERROR)] = counts.get(row.get("status", ERROR), 0) + 1
    return {
        "release": release,
        "verdict": verdict(rows, strict),
        "strict": bool(strict),
        "generated_at": utc_now_iso(),
        "counts": counts,
        "checks": rows,
    }


def _cell(text):
    return " ".join(str(text or "").split()).replace("|", "\\|")


def to_markdown(checklist):
    lines = [
        "# Post-GA checklist: SOLVEREIGN %s" % checklist["release"],
        "",
        "**Verdict: %s**  (generated %s%s)" % (
            checklist["verdict"], checklist["generated_at"], ", strict" if checklist.get("strict") else ""),
        "",
        "| # | Environment | Check | Status | Notes |",
        "|---|---|---|---|---|",
    ]
    for row in checklist["checks"]:
        lines.append("| %s | %s | %s | %s %s | %s |" % (
            _cell(row.get("id")), _cell(row.get("environment")), _cell(row.get("title")),
            STATUS_MARK.get(row.get("status"), "[?]"), row.get("status"), _cell(row.get("summary"))))
    lines.append("")
    detailed = [r for r in checklist["checks"] if r.get("status") not in ("PASS", "SKIP")]
    if detailed:
        lines.extend(["## Findings that need attention", ""])
        for row in detailed:
            lines.append("### %s %s (%s): %s" % (row.get("id"), row.get("title"), row.get("environment"), row.get("status")))
            for finding in row.get("findings") or []:
                if finding.get("status") != "PASS":
                    lines.append("- **%s** %s: %s" % (finding.get("status"), _cell(finding.get("name")), _cell(finding.get("message"))))
            for advice in row.get("advice") or []:
                lines.append("- what to do: %s" % _cell(advice))
            lines.append("")
    lines.extend([
        "**Sign-Off**:",
        "",
        "    Release Manager: _______________ Date: _______________",
        "    Platform Lead:   _______________ Date: _______________",
        "",
    ])
    return "\n".join(lines)


def to_junit(checklist):
    rows = checklist["checks"]
    failures = sum(1 for r in rows if r.get("status") == FAIL)
    errors = sum(1 for r in rows if r.get("status") == ERROR)
    skipped = sum(1 for r in rows if r.get("status") == SKIP)
    total_time = sum(float(r.get("duration_s") or 0) for r in rows)
    out = ['<?xml version="1.0" encoding="UTF-8"?>',
           '<testsuites name=%s tests="%d" failures="%d" errors="%d" skipped="%d" time="%.3f">' % (
               quoteattr("solvereign %s post-GA" % checklist["release"]), len(rows), failures, errors, skipped, total_time)]
    by_env = {}
    for row in rows:
        by_env.setdefault(row.get("environment") or "unknown", []).append(row)
    for env in sorted(by_env):
        env_rows = by_env[env]
        out.append('  <testsuite name=%s tests="%d" failures="%d" errors="%d" skipped="%d" timestamp=%s>' % (
            quoteattr(env), len(env_rows), sum(1 for r in env_rows if r.get("status") == FAIL),
            sum(1 for r in env_rows if r.get("status") == ERROR), sum(1 for r in env_rows if r.get("status") == SKIP),
            quoteattr(checklist["generated_at"])))
        for row in env_rows:
            name = "%s %s" % (row.get("id"), row.get("title"))
            out.append('    <testcase classname=%s name=%s time="%.3f">' % (
                quoteattr("%s.%s" % (env, row.get("id"))), quoteattr(name), float(row.get("duration_s") or 0)))
            detail = "\n".join("%s %s: %s" % (f.get("status"), f.get("name"), f.get("message"))
                               for f in row.get("findings") or [])
            status = row.get("status")
            if status == FAIL:
                out.append('      <failure message=%s>%s</failure>' % (quoteattr(row.get("summary") or ""), escape(detail)))
            elif status == ERROR:
                out.append('      <error message=%s>%s</error>' % (quoteattr(row.get("summary") or ""), escape(detail)))
            elif status == SKIP:
                out.append('      <skipped message=%s/>' % quoteattr(row.get("summary") or ""))
            else:
                out.append('      <system-out>%s</system-out>' % escape("%s: %s\n%s" % (status, row.get("summary"), detail)))
            out.append('    </testcase>')
        out.append('  </testsuite>')
    out.append('</testsuites>')
    return "\n".join(out) + "\n"


def write_all(evidence_dir, checklist):
    """Write checklist.json, checklist.md and junit.xml; return their paths."""
    paths = {
        "json": write_evidence(evidence_dir, "checklist.json", json.dumps(checklist, indent=2, sort_keys=False) + "\n"),
        "markdown": write_evidence(evidence_dir, "checklist.md", to_markdown(checklist)),
        "junit": write_evidence(evidence_dir, "junit.xml", to_junit(checklist)),
    }
    return dict((k, os.path.abspath(v)) for k, v in paths.items())
