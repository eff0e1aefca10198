"""webhook_check module (rows 5.1-5.5) against a real local HTTP server."""

import json
import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from ansible_collections.solvereign.release_ops.plugins.modules import webhook_check

from .conftest import run_module

SG = "/api/v1/notifications/webhook/sendgrid"
WA = "/api/v1/notifications/webhook/whatsapp"
BILL = "/api/billing/webhook"
SECRET = "wa-app-secret-0123456789"
TOKEN = "verify-token-abcdef"
BILLING = "whsec_billing_secret_42"


class HookServer(object):
    def __init__(self):
        self.status = 403
        self.openapi = {"paths": {SG: {"post": {}}, WA: {"get": {}, "post": {}}, BILL: {"post": {}}}}
        self.requests = []
        srv = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def reply(self, status, body):
                payload = body.encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def do_GET(self):
                srv.requests.append(("GET", self.path, dict(self.headers), ""))
                if self.path == "/openapi.json":
                    return self.reply(200, json.dumps(srv.openapi))
                if "hub.challenge=" in self.path and "verify_token=" + TOKEN in self.path:
                    challenge = self.path.split("hub.challenge=")[1].split("&")[0]
                    return self.reply(200, challenge)
                return self.reply(srv.status, '{"detail": "rejected"}')

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode() if length else ""
                srv.requests.append(("POST", self.path, dict(self.headers), body))
                return self.reply(srv.status, '{"detail": "rejected"}')

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = "http://127.0.0.1:%d" % self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def hooks():
    srv = HookServer()
    yield srv
    srv.close()


def check(hooks, monkeypatch, **extra):
    args = dict(environment="test", base_url=hooks.url, retries=0, timeout=2)
    args.update(extra)
    result, failed = run_module(webhook_check.main, args, monkeypatch)
    assert not failed, result
    return result, dict((r["id"], r) for r in result["rows"])


def test_rejecting_target_passes_without_secrets(hooks, monkeypatch, tmp_path):
    result, rows = check(hooks, monkeypatch, evidence_dir=str(tmp_path))
    assert [r["id"] for r in result["rows"]] == ["5.1", "5.2", "5.3", "5.4", "5.5"]
    assert set(r["status"] for r in result["rows"]) == {"PASS"}
    skipped = [f["name"] for f in rows["5.4"]["findings"] if f["status"] == "SKIP"]
    assert skipped == ["signed probes", "handshake with the right verify token"]
    log = open(os.path.join(str(tmp_path), "webhook_signature_reject.log")).read()
    assert log.count("-> PASS") == 11


def test_accepting_target_fails_every_signature_row(hooks, monkeypatch):
    hooks.status = 200
    dummy, rows = check(hooks, monkeypatch)
    assert [rows[i]["status"] for i in ("5.1", "5.2", "5.3", "5.4", "5.5")] == ["PASS", "FAIL", "PASS", "FAIL", "FAIL"]
    assert "ACCEPTED" in rows["5.2"]["summary"]


def test_server_errors_fail(hooks, monkeypatch):
    hooks.status = 500
    dummy, rows = check(hooks, monkeypatch)
    assert rows["5.5"]["status"] == "FAIL" and "server error" in rows["5.5"]["summary"]


def test_missing_paths_in_openapi(hooks, monkeypatch):
    hooks.openapi = {"paths": {WA: {"post": {}}, "/api/v1/notifications/webhook/sendgrid-v2": {"post": {}}}}
    dummy, rows = check(hooks, monkeypatch)
    assert rows["5.1"]["status"] == "FAIL" and "sendgrid-v2" in rows["5.1"]["summary"]
    assert rows["5.3"]["status"] == "WARN" and "GET" in rows["5.3"]["summary"]


def test_secrets_enable_signed_probes_and_stay_secret(hooks, monkeypatch, tmp_path):
    result, rows = check(hooks, monkeypatch, whatsapp_app_secret=SECRET, whatsapp_verify_token=TOKEN,
                         billing_webhook_secret=BILLING, positive_probes=False, evidence_dir=str(tmp_path))
    names = dict((f["name"], f["status"]) for f in rows["5.4"]["findings"])
    assert names["tampered body (signature of the original)"] == "PASS"
    assert names["handshake with the right verify token"] == "PASS"
    assert names["correctly signed body"] == "SKIP"
    # No positive probe was delivered: every POST carried a wrong signature.
    assert len([r for r in hooks.requests if r[0] == "POST"]) == 4 + 4 + 5
    text = json.dumps(result) + open(os.path.join(str(tmp_path), "webhook_signature_reject.log")).read()
    for secret in (SECRET, TOKEN, BILLING):
        assert secret not in text


def test_positive_probes_are_judged(hooks, monkeypatch):
    dummy, rows = check(hooks, monkeypatch, whatsapp_app_secret=SECRET, billing_webhook_secret=BILLING,
                        positive_probes=True)
    # This server rejects everything, so the correctly signed events fail.
    assert rows["5.4"]["status"] == "FAIL" and "correctly signed" in rows["5.4"]["summary"]
    assert rows["5.5"]["status"] == "FAIL"


def test_unreachable_target_stops_after_the_first_error(monkeypatch, closed_port):
    args = dict(environment="test", base_url="http://127.0.0.1:%d" % closed_port, retries=0, timeout=1)
    result, failed = run_module(webhook_check.main, args, monkeypatch)
    assert not failed
    assert set(r["status"] for r in result["rows"]) == {"ERROR"}
    assert "not sent" in result["rows"][1]["summary"]


def test_stale_age_within_tolerance_is_refused(hooks, monkeypatch):
    result, failed = run_module(webhook_check.main, dict(environment="t", base_url=hooks.url, stale_age=60),
                                monkeypatch)
    assert failed and "stale_age" in result["msg"]
