# -*- coding: utf-8 -*-
# Copyright: (c) 2026, SOLVEREIGN release engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Assertions on JSON documents (JMESPath) and on response headers."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re
import traceback

JMESPATH_IMPORT_ERROR = None
try:
    import jmespath
    from jmespath.exceptions import JMESPathError
except ImportError:  # pragma: no cover
    jmespath = None
    JMESPathError = Exception
    JMESPATH_IMPORT_ERROR = traceback.format_exc()

MATCHERS = ("equals", "one_of", "regex", "commit_prefix", "exists")

HEX = re.compile(r"^[0-9a-fA-F]{4,40}$")


def commit_matches(observed, expected):
    """Abbreviated or full commit hashes match when one is a prefix of the other (4+ hex)."""
    if not isinstance(observed, str) or not isinstance(expected, str):
        return False
    observed, expected = observed.strip().lower(), expected.strip().lower()
    if not HEX.match(observed) or not HEX.match(expected):
        return False
    return observed.startswith(expected) or expected.startswith(observed)


def _matcher_results(spec, value, present):
    """[(matcher, ok, wanted_text)] for every matcher given in ``spec``."""
    results = []
    if spec.get("exists") is not None:
        results.append(("exists", present == bool(spec["exists"]),
                        "to be present" if spec["exists"] else "to be absent"))
    if spec.get("equals") is not None:
        results.append(("equals", present and value == spec["equals"], "%r" % (spec["equals"],)))
    if spec.get("one_of"):
        results.append(("one_of", present and value in spec["one_of"],
                        "one of %s" % ", ".join(repr(v) for v in spec["one_of"])))
    if spec.get("regex"):
        ok = present and value is not None and re.search(spec["regex"], str(value)) is not None
        results.append(("regex", ok, "matching /%s/" % spec["regex"]))
    if spec.get("commit_prefix"):
        results.append(("commit_prefix", present and commit_matches(value, spec["commit_prefix"]),
                        "commit %s" % spec["commit_prefix"]))
    return results


def evaluate(spec, value, present):
    """Return (ok, wanted_text). ``match: any`` passes when one matcher holds, else all must."""
    results = _matcher_results(spec, value, present)
    if not results:
        results = [("exists", present, "to be present")]
    if spec.get("match", "all") == "any":
        ok = any(r[1] for r in results)
        wanted = " or ".join(r[2] for r in results)
    else:
        ok = all(r[1] for r in results)
        wanted = " and ".join(r[2] for r in results)
    return ok, wanted


def check_json(document, spec):
    """Evaluate one JMESPath assertion; return (ok, message). Raise ValueError on a bad query."""
    query = spec["query"]
    try:
        value = jmespath.search(query, document)
    except JMESPathError as exc:
        raise ValueError("invalid JMESPath query %r: %s" % (query, exc))
    present = value is not None
    ok, wanted = evaluate(spec, value, present)
    shown = repr(value) if present else "nothing"
    if ok:
        return True, "%s is %s" % (query, shown)
    return False, "%s is %s, expected %s" % (query, shown, wanted)


def check_header(response, spec):
    """Evaluate one header assertion against a response; return (ok, message)."""
    name = spec["name"]
    values = response.header_values(name)
    present = bool(values)
    value = ", ".join(values) if values else None
    ok, wanted = evaluate(spec, value, present)
    shown = repr(value) if present else "absent"
    if ok:
        return True, "header %s is %s" % (name, shown)
    return False, "header %s is %s, expected %s" % (name, shown, wanted)
