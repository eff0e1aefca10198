#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, SOLVEREIGN release engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: webhook_check
short_description: Webhook endpoints and signature enforcement (runbook rows 5.1 to 5.5)
version_added: 0.2.0
description:
  - B(5.1)/B(5.3) C(/openapi.json) must list exactly the SendGrid and WhatsApp webhook paths.
  - B(5.2) SendGrid (ECDSA P-256 over C(timestamp + body)) must reject with 4xx the runbook's garbage
    signature, missing signature headers, a stale timestamp and a tampered body. Without
    O(sendgrid_private_key) the stale and tampered probes carry a syntactically valid but wrong
    signature (only SendGrid holds the real key); with a test key they are signed for real, and a
    correctly signed event must be accepted when O(positive_probes) allows.
  - B(5.4) WhatsApp (C(X-Hub-Signature-256), HMAC-SHA256 of the body) must reject an invalid signature, a
    missing header and a C(sha1=) signature; the GET handshake with a wrong verify token must be rejected
    without echoing the challenge. With O(whatsapp_app_secret), the same body tampered is rejected and a
    correctly signed body is accepted (positive); with O(whatsapp_verify_token) the right token must echo
    the challenge exactly.
  - B(5.5) billing (Stripe-style C(t=..,v1=..)) must reject unsigned and badly signed payloads and a
    C(v0)-only signature with 400/401/403; a 404 means the endpoint is missing. With
    O(billing_webhook_secret), a tampered body and a stale C(t) are rejected, a valid signature is accepted
    (positive).
  - A 2xx for a bad signature fails, so does a 5xx (providers retry on 5xx). Positive probes (ones that
    deliver a signed test event) run only when O(positive_probes=true) and the secret is set.
  - Every probe's request and answer (signatures, secrets and tokens redacted) is written to
    O(evidence_dir)/O(evidence_name).
author:
  - SOLVEREIGN release engineering (@solvereign)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - solvereign.release_ops.http_client
options:
  environment:
    description: Name of the environment checked; copied into the rows.
    type: str
    required: true
  base_url:
    description: Base URL of the environment.
    type: str
    required: true
  openapi_path:
    description: Path of the OpenAPI document.
    type: str
    default: /openapi.json
  sendgrid_path:
    description: SendGrid event webhook path.
    type: str
    default: /api/v1/notifications/webhook/sendgrid
  whatsapp_path:
    description: WhatsApp webhook path.
    type: str
    default: /api/v1/notifications/webhook/whatsapp
  billing_path:
    description: Billing webhook path.
    type: str
    default: /api/billing/webhook
  sendgrid_private_key:
    description:
      - Test-only P-256 private key (PEM or base64 DER) whose public key the target verifies with. Needs
        the Python library C(cryptography). Without it the signed SendGrid probes use wrong signatures.
    type: str
    default: ""
  whatsapp_app_secret:
    description: WhatsApp app secret (C(solvereign_whatsapp_app_secret)).
    type: str
    default: ""
  whatsapp_verify_token:
    description: WhatsApp verify token (C(solvereign_whatsapp_verify_token)).
    type: str
    default: ""
  billing_webhook_secret:
    description: Billing webhook signing secret (C(solvereign_billing_webhook_secret)).
    type: str
    default: ""
  positive_probes:
    description: Deliver correctly signed test events (only where the secret is set).
    type: bool
    default: false
  stale_age:
    description: Age in seconds of the stale timestamps (beyond the providers' 300 s tolerance).
    type: int
    default: 3600
  titles:
    description: Row titles by row id.
    type: dict
    default: {"5.1": SendGrid endpoint, "5.2": SendGrid sig reject, "5.3": WhatsApp endpoint,
              "5.4": WhatsApp sig reject, "5.5": Billing webhook}
  evidence_dir:
    description: Directory for the transcript; empty for none.
    type: path
  evidence_name:
    description: File name of the transcript.
    type: str
    default: webhook_signature_reject.log
attributes:
  check_mode:
    support: full
    details: Sends the same probes in check mode. Positive probes are governed by O(positive_probes).
  diff_mode:
    support: none
  platform:
    platforms: posix
notes:
  - The module never fails because the target does not meet the criteria; it returns rows whose statuses
    say so.
"""

EXAMPLES = r"""
- name: Webhook checks (rows 5.1 to 5.5)
  solvereign.release_ops.webhook_check:
    environment: staging
    base_url: https://staging.solvereign.example.com
    whatsapp_app_secret: "{{ solvereign_whatsapp_app_secret | default('') }}"
    whatsapp_verify_token: "{{ solvereign_whatsapp_verify_token | default('') }}"
    billing_webhook_secret: "{{ solvereign_billing_webhook_secret | default('') }}"
    positive_probes: true
    evidence_dir: release_evidence/v3.7.0
  delegate_to: localhost
"""

RETURN = r"""
rows:
  description: The checklist rows 5.1 to 5.5.
  returned: always
  type: list
  elements: dict
status:
  description: Worst status of the rows.
  returned: always
  type: str
transcript:
  description: Path of the transcript written, if any.
  returned: always
  type: str
"""

import copy
import json
import threading
import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.solvereign.release_ops.plugins.module_utils import webhooks as wh
from ansible_collections.solvereign.release_ops.plugins.module_utils.http_client import (
    HttpClient,
    HttpError,
    ensure_requests,
    http_argument_spec,
    join_url,
)
from ansible_collections.solvereign.release_ops.plugins.module_utils.redact import redact_text
from ansible_collections.solvereign.release_ops.plugins.module_utils.result import (
    PASS,
    WARN,
    CheckRow,
    worst_status,
    write_evidence,
)

try:
    from urllib.parse import urlencode
except ImportError:  # pragma: no cover
    from urllib import urlencode

ROW_IDS = ("5.1", "5.2", "5.3", "5.4", "5.5")
DEFAULT_TITLES = {"5.1": "SendGrid endpoint", "5.2": "SendGrid sig reject", "5.3": "WhatsApp endpoint",
                  "5.4": "WhatsApp sig reject", "5.5": "Billing webhook"}

SENDGRID_BODY = '[{"event":"delivered","email":"test@example.com"}]'
SENDGRID_TAMPERED = '[{"event":"delivered","email":"attacker@example.com"}]'
WHATSAPP_BODY = '{"object":"whatsapp_business_account","entry":[]}'
WHATSAPP_TAMPERED = '{"object":"whatsapp_business_account","entry":[{"id":"tampered"}]}'
BILLING_BODY = '{"type":"test"}'
BILLING_EVENT = '{"id":"evt_release_verification","type":"release.verification","livemode":false}'
BILLING_TAMPERED = '{"id":"evt_release_verification","type":"invoice.paid","livemode":false}'
JSON_HEADERS = {"Content-Type": "application/json"}
# Errors after which no further probe is sent to the same target.
UNREACHABLE_KINDS = ("connection", "tls", "invalid_url")


class WebhookProbe(object):
    def __init__(self, module):
        self.module = module
        self.p = module.params
        self.client = HttpClient.from_module(module)
        titles = dict(DEFAULT_TITLES)
        titles.update(dict((str(k), str(v)) for k, v in (self.p["titles"] or {}).items()))
        self.rows = dict((i, CheckRow(i, titles[i], self.p["environment"])) for i in ROW_IDS)
        self.log = []
        self.now = int(time.time())
        self.unreachable = None

    def redact(self, text):
        return redact_text(text, self.client.secrets)

    def send(self, row_id, label, method, path, headers=None, body=None):
        """Send one probe; return the response or None (an ERROR finding is added)."""
        url = join_url(self.p["base_url"], path)
        if self.unreachable:
            self.rows[row_id].error(label, "%s: not sent, %s" % (label, self.unreachable))
            return None
        before = len(self.client.transcript)
        merged = dict(JSON_HEADERS) if body is not None else {}
        merged.update(headers or {})
        try:
            response = self.client.request(method, url, headers=merged, data=body)
        except HttpError as exc:
            self.log.append("# %s %s: no answer: %s\n> %s %s\n"
                            % (row_id, label, self.redact(exc.message), method, self.redact(url)))
            self.rows[row_id].error(label, "%s: %s" % (label, self.redact(exc.message)))
            if exc.kind in UNREACHABLE_KINDS:
                self.unreachable = "the first probe got no answer (%s)" % self.redact(exc.message)
            return None
        finally:
            self.client.session.cookies.clear()
        if len(self.client.transcript) > before:
            self.log.append("# %s %s\n%s" % (row_id, label, wh.format_transcript(self.client.transcript[before:])))
        return response

    def expect_reject(self, row_id, label, method, path, headers=None, body=None, note=""):
        response = self.send(row_id, label, method, path, headers, body)
        if response is None:
            return None
        status, reason = wh.judge_rejection(response.status)
        self.rows[row_id].add(label, status, "%s: %s%s" % (label, reason, note), http_status=response.status)
        self.log[-1] = self.log[-1].replace("# %s %s\n" % (row_id, label),
                                            "# %s %s -> %s (%s)\n" % (row_id, label, status, reason), 1)
        return response

    def expect_accept(self, row_id, label, path, headers, body):
        response = self.send(row_id, label, "POST", path, headers, body)
        if response is None:
            return
        status, reason = wh.judge_acceptance(response.status)
        self.rows[row_id].add(label, status, "%s: %s" % (label, reason), http_status=response.status)

    # 5.1 / 5.3 ----------------------------------------------------------------------
    def openapi(self):
        url = join_url(self.p["base_url"], self.p["openapi_path"])
        try:
            response = self.client.request("GET", url)
        except HttpError as exc:
            for row_id in ("5.1", "5.3"):
                self.rows[row_id].error("openapi", "GET %s: %s" % (self.p["openapi_path"], self.redact(exc.message)))
            if exc.kind in UNREACHABLE_KINDS:
                self.unreachable = "GET %s got no answer (%s)" % (self.p["openapi_path"], self.redact(exc.message))
            return
        problem = None
        paths = None
        if response.status != 200:
            problem = "GET %s answered HTTP %d" % (self.p["openapi_path"], response.status)
        else:
            try:
                paths = response.json().get("paths")
                if not isinstance(paths, dict):
                    problem = "%s has no paths object" % self.p["openapi_path"]
            except (ValueError, AttributeError) as exc:
                problem = "%s: %s" % (self.p["openapi_path"], exc)
        for row_id, word, path, methods in (("5.1", "sendgrid", self.p["sendgrid_path"], ("post",)),
                                            ("5.3", "whatsapp", self.p["whatsapp_path"], ("post", "get"))):
            row = self.rows[row_id]
            if problem:
                row.error("openapi", problem)
                continue
            found = sorted(p for p in paths if word in p.lower())
            if path not in found:
                row.fail("openapi", "%s is not in %s (paths containing %r: %s)" % (
                    path, self.p["openapi_path"], word, json.dumps(found)))
                continue
            operations = [m for m in paths[path] if m.lower() in ("get", "post", "put", "patch", "delete")]
            missing = [m.upper() for m in methods if m not in [o.lower() for o in operations]]
            if "POST" in missing:
                row.fail("openapi", "%s is listed without a POST operation (has %s)" % (path, ", ".join(operations) or "none"))
            elif missing:
                row.warn("openapi", "%s has no %s operation (needed for the subscription handshake)" % (path, "/".join(missing)))
            elif found != [path]:
                row.warn("openapi", "%s listed, and also %s (the runbook expects exactly [%s])" % (
                    path, json.dumps([f for f in found if f != path]), path))
            else:
                row.passed("openapi", "%s lists exactly %s" % (self.p["openapi_path"], json.dumps(found)))

    # 5.2 ----------------------------------------------------------------------------
    def sendgrid(self):
        path = self.p["sendgrid_path"]
        key = None
        if self.p["sendgrid_private_key"]:
            try:
                key = wh.load_sendgrid_private_key(self.p["sendgrid_private_key"])
            except Exception as exc:  # any unusable key is reported, the unsigned probes still run
                self.rows["5.2"].error("test key", "sendgrid_private_key is not usable: %s" % self.redact(str(exc)))
        sig_h, ts_h = wh.SENDGRID_SIGNATURE_HEADER, wh.SENDGRID_TIMESTAMP_HEADER
        self.expect_reject("5.2", "runbook probe (garbage signature)", "POST", path,
                           {sig_h: "invalid_signature", ts_h: "1234567890"}, SENDGRID_BODY)
        self.expect_reject("5.2", "missing signature headers", "POST", path, {}, SENDGRID_BODY)
        stale = self.now - self.p["stale_age"]
        if key is not None:
            self.expect_reject("5.2", "stale timestamp (correctly signed)", "POST", path,
                               {sig_h: wh.sendgrid_signature(key, stale, SENDGRID_BODY), ts_h: str(stale)},
                               SENDGRID_BODY)
            self.expect_reject("5.2", "tampered body (signature of the original)", "POST", path,
                               {sig_h: wh.sendgrid_signature(key, self.now, SENDGRID_BODY), ts_h: str(self.now)},
                               SENDGRID_TAMPERED)
            if self.p["positive_probes"]:
                self.expect_accept("5.2", "correctly signed event", path,
                                   {sig_h: wh.sendgrid_signature(key, self.now, SENDGRID_BODY), ts_h: str(self.now)},
                                   SENDGRID_BODY)
            else:
                self.rows["5.2"].skip("correctly signed event", "positive probes are off for this environment")
        else:
            self.expect_reject("5.2", "stale timestamp", "POST", path,
                               {sig_h: wh.random_ecdsa_signature(), ts_h: str(stale)}, SENDGRID_BODY)
            self.expect_reject("5.2", "tampered body", "POST", path,
                               {sig_h: wh.random_ecdsa_signature(), ts_h: str(self.now)}, SENDGRID_TAMPERED,
                               note=" (a well-formed ECDSA signature that does not match: only SendGrid holds the key)")
            if not self.p["sendgrid_private_key"]:
                self.rows["5.2"].skip("correctly signed event", "no SendGrid test key "
                                      "(solvereign_sendgrid_test_private_key): only SendGrid can sign events")

    # 5.4 ----------------------------------------------------------------------------
    def whatsapp(self):
        path = self.p["whatsapp_path"]
        secret = self.p["whatsapp_app_secret"]
        header = wh.WHATSAPP_SIGNATURE_HEADER
        self.expect_reject("5.4", "runbook probe (invalid signature)", "POST", path,
                           {header: "sha256=invalid_signature"}, WHATSAPP_BODY)
        self.expect_reject("5.4", "missing X-Hub-Signature-256", "POST", path, {}, WHATSAPP_BODY)
        sha1_key = secret or wh.random_hex(16)
        self.expect_reject("5.4", "sha1= signature", "POST", path,
                           {header: wh.whatsapp_signature(sha1_key, WHATSAPP_BODY, "sha1")}, WHATSAPP_BODY,
                           note=" (HMAC-SHA1 under the app secret)" if secret else "")
        if secret:
            self.expect_reject("5.4", "tampered body (signature of the original)", "POST", path,
                               {header: wh.whatsapp_signature(secret, WHATSAPP_BODY)}, WHATSAPP_TAMPERED)
            if self.p["positive_probes"]:
                self.expect_accept("5.4", "correctly signed body", path,
                                   {header: wh.whatsapp_signature(secret, WHATSAPP_BODY)}, WHATSAPP_BODY)
            else:
                self.rows["5.4"].skip("correctly signed body", "positive probes are off for this environment")
        else:
            self.rows["5.4"].skip("signed probes", "solvereign_whatsapp_app_secret is not set: tampered-body and "
                                  "correctly signed probes not sent")
        challenge = "challenge-" + wh.random_hex(8)
        wrong = {"hub.mode": "subscribe", "hub.verify_token": "wrong-" + wh.random_hex(8), "hub.challenge": challenge}
        label = "handshake with a wrong verify token"
        response = self.expect_reject("5.4", label, "GET", "%s?%s" % (path, urlencode(wrong)))
        if response is not None and challenge in (response.body or ""):
            self.rows["5.4"].fail(label + " (echo)", "%s: the answer echoes the challenge" % label)
        token = self.p["whatsapp_verify_token"]
        if token:
            challenge = "challenge-" + wh.random_hex(8)
            right = {"hub.mode": "subscribe", "hub.verify_token": token, "hub.challenge": challenge}
            label = "handshake with the right verify token"
            response = self.send("5.4", label, "GET", "%s?%s" % (path, urlencode(right)))
            if response is not None:
                if response.status == 200 and (response.body or "").strip() == challenge:
                    self.rows["5.4"].passed(label, "%s: HTTP 200, challenge echoed exactly" % label)
                else:
                    self.rows["5.4"].fail(label, "%s: HTTP %d, %s" % (
                        label, response.status,
                        "challenge echoed" if challenge in (response.body or "") else "challenge not echoed exactly"))
        else:
            self.rows["5.4"].skip("handshake with the right verify token",
                                  "solvereign_whatsapp_verify_token is not set")

    # 5.5 ----------------------------------------------------------------------------
    def billing(self):
        path = self.p["billing_path"]
        secret = self.p["billing_webhook_secret"]
        header = wh.STRIPE_SIGNATURE_HEADER
        self.expect_reject("5.5", "runbook probe (unsigned)", "POST", path, {}, BILLING_BODY)
        self.expect_reject("5.5", "bad v1 signature", "POST", path,
                           {header: "t=%d,v1=%s" % (self.now, wh.random_hex())}, BILLING_EVENT)
        self.expect_reject("5.5", "v0-only signature", "POST", path,
                           {header: wh.stripe_signature(secret or wh.random_hex(16), self.now, BILLING_EVENT, "v0")},
                           BILLING_EVENT)
        if secret:
            self.expect_reject("5.5", "tampered body (signature of the original)", "POST", path,
                               {header: wh.stripe_signature(secret, self.now, BILLING_EVENT)}, BILLING_TAMPERED)
            stale = self.now - self.p["stale_age"]
            self.expect_reject("5.5", "stale t (correctly signed)", "POST", path,
                               {header: wh.stripe_signature(secret, stale, BILLING_EVENT)}, BILLING_EVENT)
            if self.p["positive_probes"]:
                self.expect_accept("5.5", "correctly signed event", path,
                                   {header: wh.stripe_signature(secret, self.now, BILLING_EVENT)}, BILLING_EVENT)
            else:
                self.rows["5.5"].skip("correctly signed event", "positive probes are off for this environment")
        else:
            self.rows["5.5"].skip("signed probes", "solvereign_billing_webhook_secret is not set: tampered, stale "
                                  "and correctly signed probes not sent")

    def fork(self):
        """A probe of the same target with its own HTTP session and log, for one provider's rows."""
        other = copy.copy(self)
        other.client = HttpClient.from_module(self.module)
        other.log = []
        return other

    def run(self):
        # The providers' probes touch different rows, so they go side by side, each over its own
        # connection; the log keeps the runbook's order.
        parts = [(self.fork(), name) for name in ("openapi", "sendgrid", "whatsapp", "billing")]
        threads = [threading.Thread(target=getattr(probe, name)) for probe, name in parts]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        self.log = [entry for probe, dummy in parts for entry in probe.log]
        for row in self.rows.values():
            if row.status not in (PASS, WARN, "SKIP"):
                row.advice = ["Verify the webhook routes are registered in main.py",
                              "Check the OpenAPI schema generation",
                              "Review the container startup logs for import errors",
                              "Check the signature verification and secrets of the failing provider"]


def main(module_factory=AnsibleModule):
    argument_spec = http_argument_spec()
    argument_spec.update(
        environment=dict(type="str", required=True),
        base_url=dict(type="str", required=True),
        openapi_path=dict(type="str", default="/openapi.json"),
        sendgrid_path=dict(type="str", default="/api/v1/notifications/webhook/sendgrid"),
        whatsapp_path=dict(type="str", default="/api/v1/notifications/webhook/whatsapp"),
        billing_path=dict(type="str", default="/api/billing/webhook"),
        sendgrid_private_key=dict(type="str", default="", no_log=True),
        whatsapp_app_secret=dict(type="str", default="", no_log=True),
        whatsapp_verify_token=dict(type="str", default="", no_log=True),
        billing_webhook_secret=dict(type="str", default="", no_log=True),
        positive_probes=dict(type="bool", default=False),
        stale_age=dict(type="int", default=3600),
        titles=dict(type="dict", default=dict(DEFAULT_TITLES)),
        evidence_dir=dict(type="path"),
        evidence_name=dict(type="str", default="webhook_signature_reject.log"),
    )
    module = module_factory(argument_spec=argument_spec, supports_check_mode=True)
    ensure_requests(module)
    if module.params["stale_age"] <= 300:
        module.fail_json(msg="stale_age must be more than the 300 s signature tolerance, got %d" % module.params["stale_age"])
    probe = WebhookProbe(module)
    probe.run()
    transcript = None
    if module.params["evidence_dir"]:
        header = ("# Webhook signature probes against %s at %s (signatures, secrets and tokens redacted)\n\n"
                  % (module.params["base_url"], time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(probe.now))))
        try:
            transcript = write_evidence(module.params["evidence_dir"], module.params["evidence_name"],
                                        probe.redact(header + "\n".join(probe.log)))
        except OSError as exc:
            probe.rows["5.2"].warn("evidence", "cannot write %s: %s" % (module.params["evidence_name"], exc))
    rows = [probe.rows[i].to_dict() for i in ROW_IDS]
    module.exit_json(changed=False, rows=rows, status=worst_status(r["status"] for r in rows), transcript=transcript)


if __name__ == "__main__":
    main()
