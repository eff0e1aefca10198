# -*- coding: utf-8 -*-
# Copyright: (c) 2026, SOLVEREIGN release engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Set-Cookie parsing and judging (runbook 3.2, OWASP session management, RFC 6265bis).

Cookie values are session material: nothing here keeps or returns them, only the name and
the attributes.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.solvereign.release_ops.plugins.module_utils.result import (
    FAIL,
    PASS,
)

SAMESITE_VALUES = ("strict", "lax", "none")


def parse_set_cookie(header_value):
    """Parse one Set-Cookie header value into a dict without the cookie's value.

    Keys: name, has_value (bool), secure, httponly, samesite (lower-cased or None), path,
    domain, max_age, expires, partitioned, attributes (the attribute text as sent, for showing).
    """
    parts = header_value.split(";")
    name, dummy, value = parts[0].partition("=")
    cookie = {
        "name": name.strip(), "has_value": bool(value.strip().strip('"')),
        "secure": False, "httponly": False, "samesite": None, "path": None, "domain": None,
        "max_age": None, "expires": None, "partitioned": False,
    }
    shown = []
    for attr in parts[1:]:
        key, sep, val = attr.strip().partition("=")
        lkey = key.strip().lower()
        val = val.strip()
        if not lkey:
            continue
        shown.append(attr.strip())
        if lkey == "secure":
            cookie["secure"] = True
        elif lkey == "httponly":
            cookie["httponly"] = True
        elif lkey == "samesite":
            cookie["samesite"] = val.lower() if sep else ""
        elif lkey == "path":
            cookie["path"] = val
        elif lkey == "domain":
            cookie["domain"] = val
        elif lkey == "max-age":
            cookie["max_age"] = val
        elif lkey == "expires":
            cookie["expires"] = val
        elif lkey == "partitioned":
            cookie["partitioned"] = True
    cookie["attributes"] = "; ".join(shown)
    return cookie


def is_deletion(cookie):
    """A cookie that clears itself (empty value or Max-Age <= 0)."""
    if not cookie["has_value"]:
        return True
    try:
        return cookie["max_age"] is not None and int(cookie["max_age"]) <= 0
    except ValueError:
        return False


def judge_cookie(cookie, https=True):
    """Return (status, problems, notes) for one parsed cookie."""
    problems, notes = [], []
    name = cookie["name"]
    lname = name.lower()
    if not cookie["secure"]:
        problems.append("no Secure flag")
    if not cookie["httponly"]:
        problems.append("no HttpOnly flag (readable by page scripts)")
    samesite = cookie["samesite"]
    if samesite is None:
        problems.append("no SameSite attribute (browsers default to Lax, but the runbook asks SameSite=Lax or "
                        "SameSite=Strict set explicitly)")
    elif samesite not in SAMESITE_VALUES:
        problems.append("SameSite=%s is not a valid value (the runbook asks Lax or Strict)" % samesite)
    elif samesite == "none":
        if cookie["secure"]:
            problems.append("SameSite=None (sent on cross-site requests; the runbook asks Lax or Strict)")
        else:
            problems.append("SameSite=None without Secure (browsers reject it; the runbook asks Lax or Strict)")
    if lname.startswith("__host-"):
        if not cookie["secure"]:
            problems.append("__Host- prefix requires Secure")
        if cookie["path"] != "/":
            problems.append("__Host- prefix requires Path=/ (got %s)" % (cookie["path"] or "no Path"))
        if cookie["domain"] is not None:
            problems.append("__Host- prefix forbids Domain (got Domain=%s)" % cookie["domain"])
    elif lname.startswith("__secure-") and not cookie["secure"]:
        problems.append("__Secure- prefix requires Secure")
    if cookie["secure"] and not https:
        notes.append("Secure cookies are only sent back over HTTPS; this URL is plain HTTP")
    if problems:
        return FAIL, problems, notes
    return PASS, [], notes


def describe(cookie):
    """``name; attributes`` without the value."""
    return "%s=<redacted>%s" % (cookie["name"], ("; " + cookie["attributes"]) if cookie["attributes"] else "")
