"""auth_smoke module (rows 3.2, 4.1, 4.2, 4.3) against a real local HTTP server."""

import hashlib
import json
import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from ansible_collections.solvereign.release_ops.plugins.modules import auth_smoke

from .conftest import run_module

PASSWORD = "Corr3ct-Horse!"
TOKEN = "tok-9f8e7d6c5b4a39281706"
GOOD_COOKIE = "__Host-session=%s; Path=/; Secure; HttpOnly; SameSite=Lax" % TOKEN


class AuthServer(object):
    """A small login API: behaviour switches in ``self.mode``."""

    def __init__(self):
        self.mode = set()
        self.cookie = GOOD_COOKIE
        self.requests = []
        srv = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def reply(self, status, body, cookies=(), ctype="application/json"):
                payload = (body if isinstance(body, str) else json.dumps(body)).encode()
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                for cookie in cookies:
                    self.send_header("Set-Cookie", cookie)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode() if length else ""
                srv.requests.append(("POST", self.path, dict(self.headers), body))
                if self.path == "/api/auth/login":
                    if "html" in srv.mode:
                        return self.reply(200, "<html>Login</html>", ctype="text/html")
                    data = json.loads(body)
                    if data["password"] == PASSWORD or "accept_any" in srv.mode:
                        user = {"user_id": 7, "role": "dispatcher", "email": data["email"], "display_name": "Dana"}
                        return self.reply(200, user, [srv.cookie] if "no_cookie" not in srv.mode else [])
                    extra = [srv.cookie] if "failed_cookie" in srv.mode else []
                    return self.reply(401, {"detail": "invalid credentials"}, extra)
                if self.path == "/api/auth/logout":
                    return self.reply(200, {"status": "logged_out"}, ["__Host-session=; Path=/; Max-Age=0"])
                return self.reply(404, {"detail": "Not Found"})

            def do_GET(self):
                srv.requests.append(("GET", self.path, dict(self.headers), ""))
                if self.path == "/api/auth/me":
                    if TOKEN in (self.headers.get("Cookie") or "") or "me_open" in srv.mode:
                        return self.reply(200, {"user_id": 7, "role": "dispatcher", "email": "dana@example.com"})
                    return self.reply(401, {"detail": "not authenticated"})
                return self.reply(404, {"detail": "Not Found"})

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = "http://127.0.0.1:%d" % self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def api():
    srv = AuthServer()
    yield srv
    srv.close()


def smoke(api, monkeypatch, **extra):
    args = dict(environment="test", base_url=api.url, email="dana@example.com", password=PASSWORD,
                retries=0, timeout=2)
    args.update(extra)
    result, failed = run_module(auth_smoke.main, args, monkeypatch)
    assert not failed, result
    return result, dict((r["id"], r) for r in result["rows"])


def test_healthy_api_passes_all_rows(api, monkeypatch, tmp_path):
    result, rows = smoke(api, monkeypatch, evidence_dir=str(tmp_path))
    assert [r["id"] for r in result["rows"]] == ["3.2", "4.1", "4.2", "4.3"]
    assert dict((i, r["status"]) for i, r in rows.items()) == {"3.2": "PASS", "4.1": "PASS", "4.2": "PASS", "4.3": "PASS"}
    assert result["user"]["display_name"] == "Dana"
    # The session is sent as an explicit Cookie header and closed at the end.
    me = [r for r in api.requests if r[1] == "/api/auth/me"]
    assert [TOKEN in (r[2].get("Cookie") or "") for r in me] == [True, False]
    assert api.requests[-1][1] == "/api/auth/logout"
    text = json.dumps(result) + open(os.path.join(str(tmp_path), "auth_smoke.log")).read()
    assert PASSWORD not in text and TOKEN not in text
    assert "__Host-session=********" in text
    # The session cookie is handed to the evidence pack's scan by its SHA-256 only.
    assert result["session_fingerprints"] == [hashlib.sha256(TOKEN.encode()).hexdigest()]


def test_missing_password_names_the_variable(api, monkeypatch):
    dummy, rows = smoke(api, monkeypatch, password="")
    assert rows["4.1"]["status"] == "ERROR" and "solvereign_login_password" in rows["4.1"]["summary"]
    assert rows["4.3"]["status"] == "ERROR" and "solvereign_login_password" in rows["4.3"]["summary"]
    assert rows["3.2"]["status"] == "ERROR" and "solvereign_login_password" in rows["3.2"]["summary"]
    assert rows["4.2"]["status"] == "PASS"


def test_accepting_a_bad_password_fails_4_2(api, monkeypatch):
    api.mode.add("accept_any")
    dummy, rows = smoke(api, monkeypatch)
    assert rows["4.2"]["status"] == "FAIL" and "ACCEPTED" in rows["4.2"]["summary"]
    assert rows["3.2"]["status"] == "PASS" and "failed login" in rows["3.2"]["summary"]
    assert rows["4.1"]["status"] == rows["4.3"]["status"] == "PASS"


def test_failed_login_cookie_fails_4_2(api, monkeypatch):
    api.mode.add("failed_cookie")
    dummy, rows = smoke(api, monkeypatch)
    assert rows["4.2"]["status"] == "FAIL"
    assert [f["name"] for f in rows["4.2"]["findings"] if f["status"] == "FAIL"] == ["cookie"]


def test_me_without_session_200_is_a_bypass(api, monkeypatch):
    api.mode.add("me_open")
    dummy, rows = smoke(api, monkeypatch)
    assert rows["4.3"]["status"] == "FAIL" and "authentication bypass" in rows["4.3"]["summary"]


@pytest.mark.parametrize("cookie,text", [
    ("__Host-session=%s; Path=/; Secure; SameSite=Lax" % TOKEN, "no HttpOnly"),
    ("__Host-session=%s; Path=/; HttpOnly; SameSite=None" % TOKEN, "SameSite=None without Secure"),
])
def test_weak_cookie_fails_3_2_only(api, monkeypatch, cookie, text):
    api.cookie = cookie
    result, rows = smoke(api, monkeypatch)
    assert rows["3.2"]["status"] == "FAIL" and text in rows["3.2"]["summary"]
    assert all(rows[i]["status"] == "PASS" for i in ("4.1", "4.2", "4.3"))
    assert TOKEN not in json.dumps(result)


def test_no_cookie_at_all_is_not_pass(api, monkeypatch):
    api.mode.add("no_cookie")
    dummy, rows = smoke(api, monkeypatch)
    assert rows["3.2"]["status"] == "ERROR" and "no Set-Cookie observed" in rows["3.2"]["summary"]
    assert rows["4.3"]["status"] == "ERROR"


def test_html_instead_of_json_is_error(api, monkeypatch):
    api.mode.add("html")
    dummy, rows = smoke(api, monkeypatch)
    assert rows["4.1"]["status"] == "ERROR" and "expected a JSON body" in rows["4.1"]["summary"]


def test_unreachable_gives_error_rows(monkeypatch, closed_port):
    args = dict(environment="test", base_url="http://127.0.0.1:%d" % closed_port, email="a@b.c", password=PASSWORD,
                retries=0, timeout=1)
    result, failed = run_module(auth_smoke.main, args, monkeypatch)
    assert not failed
    assert set(r["status"] for r in result["rows"]) == {"ERROR"}
    assert PASSWORD not in json.dumps(result)
