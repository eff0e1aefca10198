# -*- coding: utf-8 -*-
# Copyright: (c) 2026, SOLVEREIGN release engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Container log sampling: read ``docker logs``, find error lines and stack traces.

Pure functions over lines, so that the rules are unit-tested on captured text:

- :func:`merge_streams` interleaves the stdout and stderr of ``docker logs --timestamps``
  by timestamp and strips the timestamps;
- :func:`find_stack_traces` finds Python ``Traceback (most recent call last):`` blocks and
  Java-style blocks (an exception line followed by ``at ...`` frames, ``Caused by:``,
  ``... N more``);
- :func:`scan` counts the lines matching the error patterns outside stack traces, lets the
  allowlist through, and keeps redacted samples;
- :func:`classify_docker_error` tells a missing container from an unreachable daemon.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.solvereign.release_ops.plugins.module_utils.redact import MASK, redact_text

# The runbook greps for "error\|exception\|critical", case-insensitively.
DEFAULT_PATTERNS = ("(?i)error", "(?i)exception", "(?i)critical")

_TIMESTAMP = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)) ?")
_FRACTION_DIGITS = re.compile(r"\d*")
_PY_START_TEXT = "Traceback (most recent call last):"
_PY_CONTINUATION = re.compile(r"^(?:\s+\S|\s*\^+\s*$|\s*~+\s*$)")
_PY_SUMMARY = re.compile(r"^[A-Za-z_][\w.]*(?:Error|Exception|Exit|Interrupt|Warning|Fault)?(?::.*)?$")
_JAVA_FRAME = re.compile(r"^\s+at\s+[\w$.<>/\[\]-]+\(.*\)\s*$")
_JAVA_MORE = re.compile(r"^\s+\.\.\. \d+ (?:more|common frames omitted)\s*$")
_JAVA_CAUSE = re.compile(r"^\s*(?:Caused by|Suppressed): ")

# Secrets that log lines tend to carry, beyond the ones redact_text already knows.
DEFAULT_REDACT_PATTERNS = (
    r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]+",
    r"(?i)((?:authorization|x-api-key|api[_-]?key|access[_-]?token|client[_-]?secret)[\"']?\s*[:=]\s*[\"']?)[^\s\"',;]+",
    r"\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}",
    r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b",
    r"\bSG\.[A-Za-z0-9_-]{16,}\.[A-Za-z0-9_-]{16,}",
    r"\bsk_(?:live|test)_[A-Za-z0-9]{8,}",
    r"(://)[^/@\s:]+@",
)


def merge_streams(stdout, stderr, with_stream=False):
    """Lines of both streams in time order (``docker logs --timestamps``), timestamps removed.

    With ``with_stream`` each line comes as ``(stream, text)`` (0 stdout, 1 stderr), so that
    :func:`scan` can find stack traces within the stream that wrote them: docker stamps the two
    streams independently, and a line of one may land in the middle of a trace on the other.
    """
    entries = []
    for stream, text in ((0, stdout or ""), (1, stderr or "")):
        for index, line in enumerate(text.splitlines()):
            match = _TIMESTAMP.match(line)
            if match:
                entries.append((_sortable(match.group(1)), stream, index, line[match.end():]))
            else:
                entries.append(("", stream, index, line))
    # ISO timestamps of one daemon sort as text once their fraction has the same length; stream and
    # index make every key unique, so the lines themselves are never compared.
    entries.sort()
    if with_stream:
        return [(e[1], e[3]) for e in entries]
    return [e[3] for e in entries]


def _sortable(stamp):
    if not stamp:
        return ""
    base, rest = stamp.partition(".")[::2]
    fraction = _FRACTION_DIGITS.match(rest).group(0)
    return base + "." + fraction.ljust(9, "0")


def find_stack_traces(lines):
    """``[{kind, start, end, header, summary}]``: line ranges (end exclusive) of stack traces."""
    traces = []
    i = 0
    n = len(lines)
    while i < n:
        line = lines[i]
        if _PY_START_TEXT in line:
            j = i + 1
            while j < n and _PY_CONTINUATION.match(lines[j]):
                j += 1
            summary = ""
            if j < n and _PY_SUMMARY.match(lines[j].strip()):
                summary = lines[j].strip()
                j += 1
            traces.append({"kind": "python", "start": i, "end": j, "header": line.strip(),
                           "summary": summary or "(no exception line)"})
            i = j
            continue
        # A frame line starts with white space (str.isspace is what \s matches): most lines end here.
        if i + 1 < n and lines[i + 1][:1].isspace() and _JAVA_FRAME.match(lines[i + 1]) \
                and not _JAVA_FRAME.match(line):
            j = i + 1
            while j < n and (_JAVA_FRAME.match(lines[j]) or _JAVA_MORE.match(lines[j])
                             or (_JAVA_CAUSE.match(lines[j]) and j + 1 < n and _JAVA_FRAME.match(lines[j + 1]))):
                j += 1
            traces.append({"kind": "java", "start": i, "end": j, "header": line.strip(), "summary": line.strip()})
            i = j
            continue
        i += 1
    return traces


def compile_patterns(patterns, what):
    compiled = []
    for pattern in patterns or ():
        try:
            compiled.append(re.compile(pattern))
        except re.error as exc:
            raise ValueError("%s pattern %r is not a valid regular expression: %s" % (what, pattern, exc))
    return compiled


class Redactor(object):
    def __init__(self, secrets=(), patterns=DEFAULT_REDACT_PATTERNS):
        self.secrets = tuple(s for s in secrets if s)
        self.patterns = compile_patterns(patterns, "redact")

    def __call__(self, text):
        text = redact_text(text, self.secrets)
        for pattern in self.patterns:
            text = pattern.sub(lambda m: (m.group(1) if m.groups() else "") + MASK, text)
        return text


def scan(lines, patterns, allowlist=(), max_samples=20, redactor=None, max_line=500):
    """Judge log lines; return a dict with counts, traces and redacted samples."""
    redactor = redactor or Redactor()
    matchers = compile_patterns(patterns, "error")
    allowed_by = compile_patterns(allowlist, "allowlist")

    def allowed(text):
        return any(p.search(text) for p in allowed_by)

    # Lines are plain text, or (stream, text) from merge_streams(with_stream=True): stack traces
    # are looked for within each stream, in that stream's own order.
    entries = [line if isinstance(line, tuple) else (0, line) for line in lines]
    lines = [text for stream, text in entries]
    by_stream = {}
    for index, (stream, text) in enumerate(entries):
        by_stream.setdefault(stream, []).append(index)

    traces, allowed_traces = [], 0
    in_trace = set()
    for stream in sorted(by_stream):
        indices = by_stream[stream]
        for trace in find_stack_traces([lines[i] for i in indices]):
            members = indices[trace["start"]:trace["end"]]
            block = [lines[i] for i in members]
            in_trace.update(members)
            if any(allowed(text) for text in block):
                allowed_traces += 1
                continue
            trace = dict(trace, start=members[0], end=members[-1] + 1)
            trace["lines"] = [redactor(text[:max_line]) for text in block[:30]]
            trace["header"] = redactor(trace["header"][:max_line])
            trace["summary"] = redactor(trace["summary"][:max_line])
            traces.append(trace)
    traces.sort(key=lambda t: t["start"])

    errors, allowed_lines = [], 0
    for index, text in enumerate(lines):
        if index in in_trace:
            continue
        for matcher in matchers:
            if matcher.search(text):
                break
        else:
            continue
        if allowed(text):
            allowed_lines += 1
            continue
        errors.append(index)

    samples = []
    for index in sorted(set(errors) | set(t["start"] for t in traces)):
        if len(samples) >= max_samples:
            break
        samples.append(redactor(lines[index][:max_line]))
    return {
        "lines": len(lines),
        "error_lines": len(errors),
        "allowed_lines": allowed_lines,
        "stack_traces": traces,
        "allowed_stack_traces": allowed_traces,
        "samples": samples,
    }


def classify_docker_error(rc, stderr, container):
    """(kind, message) for a failed ``docker logs``: ``missing`` container or ``docker`` unreachable."""
    text = " ".join((stderr or "").split())[:400]
    lowered = text.lower()
    if "no such container" in lowered:
        return "missing", "container %r does not exist (docker: %s)" % (container, text)
    unreachable = ("cannot connect to the docker daemon", "error during connect", "permission denied",
                   "connection refused", "no such host", "is the docker daemon running")
    if any(marker in lowered for marker in unreachable):
        return "docker", "docker is not reachable: %s" % text
    return "docker", "docker logs %s failed (rc=%s): %s" % (container, rc, text or "no error text")
