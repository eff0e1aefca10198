# -*- coding: utf-8 -*-
# Copyright: (c) 2026, SOLVEREIGN release engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Checklist rows and findings: the result model every check of the collection returns.

A row is one line of the runbook's Checklist Summary (``1.1`` ... ``8.1``). It holds one
finding per thing that was looked at; the row's status is the worst status of its findings.
A row without findings is ERROR: nothing was evaluated, so nothing may be reported as PASS.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import os
import tempfile
import time

PASS = "PASS"
WARN = "WARN"
FAIL = "FAIL"
ERROR = "ERROR"
SKIP = "SKIP"

# Severity order used by worst-of. SKIP is the mildest: a row that mixes skipped and passed
# findings passes. A definite FAIL outranks ERROR because it is the more actionable answer.
SEVERITY = {SKIP: 0, PASS: 1, WARN: 2, ERROR: 3, FAIL: 4}
STATUSES = tuple(sorted(SEVERITY, key=SEVERITY.get))

# Statuses that make a checklist verdict FAIL.
FAILING_STATUSES = (FAIL, ERROR)


def utc_now_iso():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def worst_status(statuses, empty=ERROR):
    """Return the most severe of ``statuses``; ``empty`` when there are none."""
    statuses = list(statuses)
    if not statuses:
        return empty
    for status in statuses:
        if status not in SEVERITY:
            raise ValueError("unknown status %r (expected one of %s)" % (status, ", ".join(STATUSES)))
    return max(statuses, key=SEVERITY.get)


class Finding(object):
    """One observation inside a row: what was looked at, its status and a message."""

    def __init__(self, name, status, message, **data):
        if status not in SEVERITY:
            raise ValueError("unknown status %r" % (status,))
        self.name = name
        self.status = status
        self.message = message
        self.data = data

    def to_dict(self):
        result = {"name": self.name, "status": self.status, "message": self.message}
        result.update(self.data)
        return result


class CheckRow(object):
    """A checklist row under construction.

    >>> row = CheckRow("2.1", "Staging health", "staging")
    >>> row.add("/api/health", PASS, "HTTP 200")
    >>> row.status
    'PASS'
    """

    def __init__(self, check_id, title, environment):
        self.id = check_id
        self.title = title
        self.environment = environment
        self.findings = []
        self.started_at = utc_now_iso()
        self._started = time.monotonic()
        self._duration = None
        self._summary = None
        self._status_override = None
        self.advice = []

    # Findings ---------------------------------------------------------------------------
    def add(self, name, status, message, **data):
        finding = Finding(name, status, message, **data)
        self.findings.append(finding)
        return finding

    def passed(self, name, message, **data):
        return self.add(name, PASS, message, **data)

    def warn(self, name, message, **data):
        return self.add(name, WARN, message, **data)

    def fail(self, name, message, **data):
        return self.add(name, FAIL, message, **data)

    def error(self, name, message, **data):
        return self.add(name, ERROR, message, **data)

    def skip(self, name, message, **data):
        return self.add(name, SKIP, message, **data)

    def mark_skipped(self, reason):
        """The whole row is not applicable: SKIP with ``reason`` as summary."""
        self._status_override = SKIP
        self._summary = reason

    # Outcome ----------------------------------------------------------------------------
    @property
    def status(self):
        if self._status_override:
            return self._status_override
        return worst_status(f.status for f in self.findings)

    @property
    def summary(self):
        if self._summary:
            return self._summary
        if not self.findings:
            return "nothing was evaluated"
        status = self.status
        worst = [f for f in self.findings if f.status == status]
        if status in (PASS, SKIP):
            text = "; ".join(f.message for f in self.findings)
            return text if len(text) <= 240 else text[:237] + "..."
        text = "; ".join(f.message for f in worst[:3])
        if len(worst) > 3:
            text += "; and %d more" % (len(worst) - 3)
        return text

    @summary.setter
    def summary(self, value):
        self._summary = value

    def finish(self):
        if self._duration is None:
            self._duration = round(time.monotonic() - self._started, 3)
        return self

    def to_dict(self):
        self.finish()
        row = {
            "id": self.id,
            "environment": self.environment,
            "title": self.title,
            "status": self.status,
            "summary": self.summary,
            "findings": [f.to_dict() for f in self.findings],
            "started_at": self.started_at,
            "duration_s": self._duration,
        }
        if self.advice and self.status not in (PASS, SKIP):
            row["advice"] = list(self.advice)
        return row


def check_common_argument_spec():
    """Options every check module takes to label its row (see the check_row doc fragment)."""
    return dict(
        check_id=dict(type="str", required=True),
        check_title=dict(type="str", required=True),
        environment=dict(type="str", required=True),
    )


def new_row(module):
    params = module.params
    return CheckRow(params["check_id"], params["check_title"], params["environment"])


def exit_with_row(module, row, **extra):
    """Return a finished row from a check module: never failed, never changed."""
    result = dict(changed=False, row=row.to_dict(), status=row.status)
    result.update(extra)
    module.exit_json(**result)


def write_evidence(evidence_dir, name, content, mode="w"):
    """Write one evidence file below ``evidence_dir`` and return its path."""
    if not evidence_dir:
        return None
    os.makedirs(evidence_dir, exist_ok=True)
    path = os.path.join(evidence_dir, name)
    # A temporary file of its own beside the target, so concurrent writers never share one.
    fd, tmp = tempfile.mkstemp(prefix=".%s." % name, suffix=".tmp", dir=evidence_dir)
    try:
        with os.fdopen(fd, mode) as handle:
            handle.write(content)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path
