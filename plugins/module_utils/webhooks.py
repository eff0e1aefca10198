# -*- coding: utf-8 -*-
# Copyright: (c) 2026, SOLVEREIGN release engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Webhook signature schemes (SendGrid, Meta/WhatsApp, Stripe-style) and probe verdicts.

- SendGrid Event Webhook: ECDSA P-256/SHA-256 over ``timestamp + raw_body``; base64 DER
  signature in ``X-Twilio-Email-Event-Webhook-Signature``, unix time in ``...-Timestamp``.
- WhatsApp (Meta): ``X-Hub-Signature-256: sha256=<hex HMAC-SHA256(app_secret, raw_body)>``.
- Stripe-style: ``Stripe-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<raw_body>")>``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import hashlib
import hmac
import os

from ansible_collections.solvereign.release_ops.plugins.module_utils.result import (
    FAIL,
    PASS,
    WARN,
)

try:
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    HAS_CRYPTOGRAPHY = True
except ImportError:  # optional: only needed to sign SendGrid test events with a test key
    HAS_CRYPTOGRAPHY = False

SENDGRID_SIGNATURE_HEADER = "X-Twilio-Email-Event-Webhook-Signature"
SENDGRID_TIMESTAMP_HEADER = "X-Twilio-Email-Event-Webhook-Timestamp"
WHATSAPP_SIGNATURE_HEADER = "X-Hub-Signature-256"
STRIPE_SIGNATURE_HEADER = "Stripe-Signature"

REJECT_STATUSES = (400, 401, 403)


# --------------------------------------------------------------------------------------
# Signing helpers
# --------------------------------------------------------------------------------------
def _to_bytes(value):
    return value if isinstance(value, bytes) else value.encode("utf-8")


def _der_integer(value):
    raw = value.lstrip(b"\x00") or b"\x00"
    if raw[0] & 0x80:
        raw = b"\x00" + raw
    return b"\x02" + bytes([len(raw)]) + raw


def random_ecdsa_signature(randbytes=os.urandom):
    """A syntactically valid DER ECDSA (r, s) signature that verifies against nothing."""
    body = _der_integer(randbytes(32)) + _der_integer(randbytes(32))
    return base64.b64encode(b"\x30" + bytes([len(body)]) + body).decode("ascii")


def load_sendgrid_private_key(text):
    """Load a P-256 private key from PEM or base64 DER (PKCS#8)."""
    if not HAS_CRYPTOGRAPHY:
        raise ValueError("the Python library cryptography is needed to sign with a SendGrid test key")
    data = _to_bytes(text.strip())
    if b"-----BEGIN" in data:
        return serialization.load_pem_private_key(data, password=None)
    return serialization.load_der_private_key(base64.b64decode(data), password=None)


def sendgrid_signature(private_key, timestamp, body):
    """Base64 DER ECDSA-SHA256 signature of ``timestamp + body`` as SendGrid sends it."""
    signature = private_key.sign(_to_bytes(str(timestamp)) + _to_bytes(body), ec.ECDSA(hashes.SHA256()))
    return base64.b64encode(signature).decode("ascii")


def whatsapp_signature(app_secret, body, algorithm="sha256"):
    digest = hmac.new(_to_bytes(app_secret), _to_bytes(body), getattr(hashlib, algorithm)).hexdigest()
    return "%s=%s" % (algorithm, digest)


def stripe_signature(secret, timestamp, body, scheme="v1"):
    payload = _to_bytes(str(timestamp)) + b"." + _to_bytes(body)
    digest = hmac.new(_to_bytes(secret), payload, hashlib.sha256).hexdigest()
    return "t=%s,%s=%s" % (timestamp, scheme, digest)


def random_hex(nbytes=32, randbytes=os.urandom):
    return base64.b16encode(randbytes(nbytes)).decode("ascii").lower()


# --------------------------------------------------------------------------------------
# Verdicts
# --------------------------------------------------------------------------------------
def judge_rejection(status):
    """Verdict for a probe that must be rejected: (status, reason)."""
    if status in REJECT_STATUSES:
        return PASS, "rejected with HTTP %d" % status
    if 200 <= status < 300:
        return FAIL, "ACCEPTED with HTTP %d: the signature is not enforced" % status
    if status == 404:
        return FAIL, "HTTP 404: the endpoint is missing"
    if status == 405:
        return FAIL, "HTTP 405: the endpoint does not take this method"
    if 500 <= status < 600:
        return FAIL, "HTTP %d: a server error instead of a rejection (providers retry 5xx)" % status
    if 400 <= status < 500:
        return WARN, "rejected with HTTP %d (expected 400, 401 or 403)" % status
    return FAIL, "HTTP %d instead of a rejection" % status


def judge_acceptance(status):
    """Verdict for a correctly signed test event: (status, reason)."""
    if 200 <= status < 300:
        return PASS, "accepted with HTTP %d" % status
    if status == 404:
        return FAIL, "HTTP 404: the endpoint is missing"
    return FAIL, "a correctly signed event was answered HTTP %d (expected 2xx)" % status


def format_transcript(entries, labels=None):
    """Render HttpClient transcript entries (already redacted) as curl-like text."""
    lines = []
    for index, entry in enumerate(entries):
        req, resp = entry["request"], entry["response"]
        if labels and index < len(labels) and labels[index]:
            lines.append("# %s" % labels[index])
        lines.append("> %s %s" % (req["method"], req["url"]))
        for name, value in sorted(req["headers"].items()):
            lines.append("> %s: %s" % (name, value))
        if req["body"]:
            lines.append("> " + req["body"])
        lines.append("< HTTP %s (%.3fs)" % (resp["status"], resp["elapsed_s"]))
        for name, value in resp["headers"]:
            lines.append("< %s: %s" % (name, value))
        if resp["body"]:
            lines.append("< " + resp["body"])
        lines.append("")
    return "\n".join(lines)
