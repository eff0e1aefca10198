# -*- coding: utf-8 -*-
# Copyright: (c) 2026, SOLVEREIGN release engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Secret redaction for everything a check returns or writes as evidence."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

MASK = "********"

# Headers whose values are credentials or session material.
SECRET_HEADERS = frozenset((
    "authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key",
    "x-auth-token", "stripe-signature", "x-hub-signature-256", "x-hub-signature",
    "x-twilio-email-event-webhook-signature",
))

_URL_USERINFO = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)(?P<user>[^:/@\s]*):(?P<password>[^@/\s]*)@")
_KEYWORD_PASSWORD = re.compile(
    r"(?P<key>\b(?:password|passwd|pwd|token|secret)\s*=\s*)"
    r"(?:'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"|[^\s'\"&;,]+)", re.I)
_JSON_PASSWORD = re.compile(r'(?P<key>"(?:password|token|secret|app_secret)"\s*:\s*)"(?:[^"\\]|\\.)*"', re.I)


def redact_dsn(dsn):
    """Mask the password of a libpq URL or keyword/value DSN, keep everything else."""
    if dsn is None:
        return None
    text = _URL_USERINFO.sub(lambda m: "%s%s:%s@" % (m.group("scheme"), m.group("user"), MASK), dsn)
    return _KEYWORD_PASSWORD.sub(lambda m: m.group("key") + MASK, text)


def redact_text(text, secrets=()):
    """Mask every known secret value, URL credentials and password assignments in ``text``."""
    if text is None:
        return None
    if not isinstance(text, str):
        text = str(text)
    for secret in sorted((s for s in secrets if s), key=len, reverse=True):
        if len(secret) >= 3:
            text = text.replace(secret, MASK)
    text = redact_dsn(text)
    return _JSON_PASSWORD.sub(lambda m: '%s"%s"' % (m.group("key"), MASK), text)


def redact_cookie_header(value):
    """``name=value; attrs`` -> ``name=********; attrs`` (attributes are kept for judging)."""
    parts = value.split(";")
    name, sep, dummy = parts[0].partition("=")
    parts[0] = "%s%s%s" % (name.strip(), sep, MASK if sep else "")
    return ";".join(parts)


def redact_headers(headers, secrets=()):
    """Return a copy of ``headers`` (dict or list of pairs) safe to show."""
    items = headers.items() if hasattr(headers, "items") else headers
    safe = []
    for name, value in items:
        lname = name.lower()
        if lname == "set-cookie":
            value = redact_cookie_header(value)
        elif lname == "cookie":
            value = "; ".join(redact_cookie_header(c) for c in value.split(";"))
        elif lname in SECRET_HEADERS:
            value = MASK
        else:
            value = redact_text(value, secrets)
        safe.append((name, value))
    return dict(safe) if hasattr(headers, "items") else safe


def redact_structure(value, secrets=()):
    """Recursively redact strings inside lists and dicts."""
    if isinstance(value, dict):
        return dict((k, redact_structure(v, secrets)) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return [redact_structure(v, secrets) for v in value]
    if isinstance(value, str):
        return redact_text(value, secrets)
    return value
