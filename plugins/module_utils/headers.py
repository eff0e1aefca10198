# -*- coding: utf-8 -*-
# Copyright: (c) 2026, SOLVEREIGN release engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Security response headers judged the way the MDN HTTP Observatory judges them.

Input is the header list of one answer as received (``[(name, value)]``, repeats kept).
Names match case-insensitively. A header sent twice (or comma-joined) is a finding for
Strict-Transport-Security, X-Frame-Options and Cross-Origin-Opener-Policy. The default
policy is the runbook's (section 3.1); every knob can be overridden per environment.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.solvereign.release_ops.plugins.module_utils.result import (
    FAIL,
    PASS,
    WARN,
)

HSTS = "strict-transport-security"
CSP = "content-security-policy"
CSP_REPORT_ONLY = "content-security-policy-report-only"
XFO = "x-frame-options"
XCTO = "x-content-type-options"
XXP = "x-xss-protection"
COOP = "cross-origin-opener-policy"

DEFAULT_POLICY = {
    # Strict-Transport-Security: max-age=31536000; includeSubDomains
    "hsts_required": True,
    "hsts_min_max_age": 31536000,
    "hsts_include_subdomains": True,
    "hsts_preload": False,
    # Content-Security-Policy: default-src 'self' (judged for strength, not literally)
    "csp_required": True,
    "csp_allow_unsafe_inline": False,
    "csp_allow_unsafe_eval": False,
    # X-Frame-Options: DENY (SAMEORIGIN or CSP frame-ancestors also stop framing)
    "xfo_required": True,
    "xfo_allowed": ["DENY", "SAMEORIGIN"],
    "xfo_accept_frame_ancestors": True,
    # X-Content-Type-Options: nosniff
    "xcto_required": True,
    # X-XSS-Protection: 1; mode=block as the runbook asks; "0" follows current OWASP advice;
    # "" accepts the header being absent or 0.
    "xxp_expected": "1; mode=block",
    "xxp_advise_modern": True,
}

COOP_VALUES = ("same-origin", "same-origin-allow-popups", "unsafe-none", "noopener-allow-popups")
UNSAFE_SOURCES = ("*", "data:", "http:", "https:", "blob:", "filesystem:")
_NONCE_OR_HASH = re.compile(r"^'(nonce-[^']+|sha(256|384|512)-[^']+)'$", re.I)


def merge_policy(overrides):
    policy = dict(DEFAULT_POLICY)
    unknown = sorted(set(overrides or {}) - set(DEFAULT_POLICY))
    if unknown:
        raise ValueError("unknown policy key(s) %s (known: %s)" % (", ".join(unknown), ", ".join(sorted(DEFAULT_POLICY))))
    policy.update(overrides or {})
    return policy


def header_values(header_list, name):
    """All values of ``name`` (case-insensitive), in order, repeats kept."""
    lname = name.lower()
    return [str(v) for n, v in header_list if str(n).lower() == lname]


def _shown(values):
    return " | ".join(values) if values else None


# --------------------------------------------------------------------------------------
# Strict-Transport-Security
# --------------------------------------------------------------------------------------
def parse_hsts(value):
    """Return dict(max_age=int|None, include_subdomains, preload, errors=[])."""
    result = {"max_age": None, "include_subdomains": False, "preload": False, "errors": []}
    seen = set()
    for part in value.split(";"):
        part = part.strip()
        if not part:
            continue
        key, sep, raw = part.partition("=")
        key = key.strip().lower()
        if key in seen:
            result["errors"].append("directive %s repeated" % key)
        seen.add(key)
        if key == "max-age":
            raw = raw.strip().strip('"')
            if not sep or not raw.isdigit():
                result["errors"].append("max-age %r is not a number of seconds" % raw)
            else:
                result["max_age"] = int(raw)
        elif key == "includesubdomains":
            result["include_subdomains"] = True
        elif key == "preload":
            result["preload"] = True
    if "max-age" not in seen:
        result["errors"].append("max-age is missing")
    return result


def evaluate_hsts(header_list, https, policy):
    values = header_values(header_list, HSTS)
    value = _shown(values)
    if not values:
        if policy["hsts_required"]:
            return FAIL, "Strict-Transport-Security is missing", value
        return PASS, "Strict-Transport-Security not sent (not required by the policy)", value
    if len(values) > 1 or "," in values[0]:
        return FAIL, "Strict-Transport-Security is sent more than once (%s): invalid" % value, value
    parsed = parse_hsts(values[0])
    problems = list(parsed["errors"])
    if parsed["max_age"] is not None and parsed["max_age"] < policy["hsts_min_max_age"]:
        problems.append("max-age=%s < %s" % (parsed["max_age"], policy["hsts_min_max_age"]))
    if policy["hsts_include_subdomains"] and not parsed["include_subdomains"]:
        problems.append("includeSubDomains is missing")
    if policy["hsts_preload"] and not parsed["preload"]:
        problems.append("preload is missing")
    if problems:
        return FAIL, "Strict-Transport-Security %r: %s" % (values[0], "; ".join(problems)), value
    message = "Strict-Transport-Security %r" % values[0]
    if not https:
        message += (" (served over plain HTTP: browsers honour HSTS only over HTTPS, so presence and "
                    "value are checked but the header has no effect on this URL)")
    return PASS, message, value


# --------------------------------------------------------------------------------------
# Content-Security-Policy
# --------------------------------------------------------------------------------------
def parse_csp(value):
    """Parse a (possibly comma-joined) CSP header value.

    Returns a list of policies; each is ``{"directives": {name: [sources]}, "repeated": [names]}``.
    Directive names are lower-cased; the first occurrence of a repeated directive wins, as in
    browsers.
    """
    policies = []
    for text in value.split(","):
        directives, repeated = {}, []
        for part in text.split(";"):
            tokens = part.strip().split()
            if not tokens:
                continue
            name = tokens[0].lower()
            if name in directives:
                repeated.append(name)
                continue
            directives[name] = tokens[1:]
        if directives or repeated:
            policies.append({"directives": directives, "repeated": repeated})
    return policies


def _has_nonce_or_hash(sources):
    return any(_NONCE_OR_HASH.match(s) for s in sources)


def judge_csp_policy(policy_doc, policy):
    """Problems (list of str) and notes (list of str) of one parsed CSP policy."""
    directives = policy_doc["directives"]
    problems, notes = [], []
    for name in policy_doc["repeated"]:
        problems.append("directive %s repeated inside one policy (invalid; browsers ignore the repeat)" % name)
    if "script-src" in directives:
        script_name, script = "script-src", directives["script-src"]
    elif "default-src" in directives:
        script_name, script = "default-src", directives["default-src"]
    else:
        script_name, script = None, None
        problems.append("neither script-src nor default-src: scripts are not restricted")
    if script is not None:
        lowered = [s.lower() for s in script]
        nonce_or_hash = _has_nonce_or_hash(script)
        if "'unsafe-inline'" in lowered:
            if nonce_or_hash:
                notes.append("'unsafe-inline' in %s is cancelled by a nonce or hash" % script_name)
            elif not policy["csp_allow_unsafe_inline"]:
                problems.append("%s allows 'unsafe-inline'" % script_name)
        if "'unsafe-eval'" in lowered and not policy["csp_allow_unsafe_eval"]:
            problems.append("%s allows 'unsafe-eval'" % script_name)
        if "'strict-dynamic'" in lowered and not nonce_or_hash:
            problems.append("%s uses 'strict-dynamic' without a nonce or hash (invalid)" % script_name)
        unsafe = [s for s in script if s.lower() in UNSAFE_SOURCES]
        if unsafe:
            problems.append("%s allows %s" % (script_name, " ".join(unsafe)))
    if "object-src" in directives:
        obj_name, obj = "object-src", directives["object-src"]
    else:
        obj_name, obj = "default-src", directives.get("default-src")
    if obj is None:
        problems.append("neither object-src nor default-src: plugins are not restricted")
    else:
        unsafe = [s for s in obj if s.lower() in UNSAFE_SOURCES]
        if unsafe:
            problems.append("%s (for objects) allows %s" % (obj_name, " ".join(unsafe)))
    return problems, notes


def evaluate_csp(header_list, policy):
    values = header_values(header_list, CSP)
    report_only = header_values(header_list, CSP_REPORT_ONLY)
    value = _shown(values)
    if not values:
        if report_only:
            return FAIL, ("only Content-Security-Policy-Report-Only is sent (%s): report-only enforces "
                          "nothing, so there is no CSP" % _shown(report_only)), value
        if policy["csp_required"]:
            return FAIL, "Content-Security-Policy is missing", value
        return PASS, "Content-Security-Policy not sent (not required by the policy)", value
    policies = []
    for v in values:
        policies.extend(parse_csp(v))
    if not policies:
        return FAIL, "Content-Security-Policy is empty", value
    judged = [judge_csp_policy(p, policy) for p in policies]
    # Every enforced policy applies: the combination is at least as strict as the strictest one.
    clean = [(found, notes) for found, notes in judged if not found]
    repeated = [p for p in policies if p["repeated"]]
    if clean and not repeated:
        notes = clean[0][1]
        message = "Content-Security-Policy %r" % value
        if len(policies) > 1:
            message += " (%d policies enforced together)" % len(policies)
        if notes:
            message += "; " + "; ".join(notes)
        return PASS, message, value
    problems = []
    for found, dummy in judged:
        problems.extend(p for p in found if p not in problems)
    return FAIL, "Content-Security-Policy %r: %s" % (value, "; ".join(problems)), value


def frame_ancestors(header_list):
    """The frame-ancestors sources of the enforced CSP, or None when no policy sets it."""
    for v in header_values(header_list, CSP):
        for doc in parse_csp(v):
            if "frame-ancestors" in doc["directives"]:
                return doc["directives"]["frame-ancestors"]
    return None


# --------------------------------------------------------------------------------------
# X-Frame-Options, X-Content-Type-Options, X-XSS-Protection, COOP
# --------------------------------------------------------------------------------------
def evaluate_xfo(header_list, policy):
    values = header_values(header_list, XFO)
    value = _shown(values)
    ancestors = frame_ancestors(header_list)
    if values and (len(values) > 1 or "," in values[0]):
        return FAIL, "X-Frame-Options is sent more than once (%s): invalid, browsers ignore it" % value, value
    if values:
        normalized = values[0].strip().upper()
        allowed = [a.upper() for a in policy["xfo_allowed"]]
        if normalized in allowed:
            return PASS, "X-Frame-Options %r" % values[0], value
        if ancestors is not None and policy["xfo_accept_frame_ancestors"] and "*" not in ancestors:
            return PASS, ("X-Frame-Options %r is not one of %s, but CSP frame-ancestors %s restricts framing"
                          % (values[0], "/".join(allowed), " ".join(ancestors))), value
        return FAIL, "X-Frame-Options %r is not one of %s" % (values[0], "/".join(allowed)), value
    if ancestors is not None and policy["xfo_accept_frame_ancestors"]:
        if "*" in ancestors or not ancestors:
            return FAIL, "X-Frame-Options is missing and CSP frame-ancestors %r allows framing" % " ".join(ancestors), value
        return PASS, "X-Frame-Options not sent; CSP frame-ancestors %s restricts framing" % " ".join(ancestors), value
    if policy["xfo_required"]:
        return FAIL, "X-Frame-Options is missing (and no CSP frame-ancestors): the page can be framed", value
    return PASS, "X-Frame-Options not sent (not required by the policy)", value


def evaluate_xcto(header_list, policy):
    values = header_values(header_list, XCTO)
    value = _shown(values)
    if not values:
        if policy["xcto_required"]:
            return FAIL, "X-Content-Type-Options is missing", value
        return PASS, "X-Content-Type-Options not sent (not required by the policy)", value
    if len(values) == 1 and values[0].strip().lower() == "nosniff":
        return PASS, "X-Content-Type-Options %r" % values[0], value
    return FAIL, "X-Content-Type-Options %r is not exactly nosniff" % value, value


def _norm_xxp(value):
    return re.sub(r"\s+", "", value or "").lower()


def evaluate_xxp(header_list, policy):
    values = header_values(header_list, XXP)
    value = _shown(values)
    expected = policy["xxp_expected"] or ""
    advice = ("current advice (OWASP, MDN) is 0 or no header: the XSS auditor it controls is gone from "
              "browsers and could be abused where it existed")
    if len(values) > 1:
        return FAIL, "X-XSS-Protection is sent more than once (%s)" % value, value
    observed = values[0] if values else None
    if _norm_xxp(expected) in ("", "0"):
        if observed is None or _norm_xxp(observed) == "0":
            return PASS, "X-XSS-Protection %s (policy follows the current advice)" % (
                repr(observed) if observed else "not sent"), value
        return FAIL, "X-XSS-Protection %r; the policy expects %s; %s" % (
            observed, repr(expected) if expected else "0 or no header", advice), value
    if observed is None:
        return FAIL, "X-XSS-Protection is missing (the runbook asks %r)" % expected, value
    if _norm_xxp(observed) != _norm_xxp(expected):
        return FAIL, "X-XSS-Protection %r is not %r as the runbook asks" % (observed, expected), value
    if policy["xxp_advise_modern"]:
        return WARN, "X-XSS-Protection %r as the runbook asks; %s" % (observed, advice), value
    return PASS, "X-XSS-Protection %r" % observed, value


def evaluate_coop(header_list):
    """Only judged when sent (not part of the runbook's five)."""
    values = header_values(header_list, COOP)
    if not values:
        return None
    value = _shown(values)
    if len(values) > 1 or "," in values[0]:
        return FAIL, "Cross-Origin-Opener-Policy is sent more than once (%s): invalid" % value, value
    if values[0].strip().lower() not in COOP_VALUES:
        return FAIL, "Cross-Origin-Opener-Policy %r is not a valid value" % values[0], value
    return PASS, "Cross-Origin-Opener-Policy %r" % values[0], value


def evaluate_headers(header_list, https, policy):
    """One ``(header name, status, message, observed value)`` per judged header."""
    results = [
        (HSTS,) + evaluate_hsts(header_list, https, policy),
        (XCTO,) + evaluate_xcto(header_list, policy),
        (XFO,) + evaluate_xfo(header_list, policy),
        (CSP,) + evaluate_csp(header_list, policy),
        (XXP,) + evaluate_xxp(header_list, policy),
    ]
    coop = evaluate_coop(header_list)
    if coop:
        results.append((COOP,) + coop)
    return results
