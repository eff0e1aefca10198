"""ui_login_check module (row 4.4): availability handling and a real headless Chromium run."""

import os

import pytest

from ansible_collections.solvereign.release_ops.plugins.module_utils import browser as br
from ansible_collections.solvereign.release_ops.plugins.modules import ui_login_check

from .conftest import Route, run_module

PASSWORD = "Ui-Passw0rd!"


def args(base_url, **extra):
    out = dict(check_id="4.4", check_title="UI login smoke", environment="test", base_url=base_url,
               email="dana@example.com", password=PASSWORD, timeout=5)
    out.update(extra)
    return out


def test_missing_driver_is_skip_with_reason(monkeypatch, tmp_path):
    result, failed = run_module(ui_login_check.main,
                                args("http://127.0.0.1:9", chromedriver_path=str(tmp_path / "nodriver")), monkeypatch)
    assert not failed
    assert result["row"]["status"] == "SKIP"
    assert "no chromedriver" in result["row"]["summary"] and "nodriver" in result["row"]["summary"]


def test_missing_browser_is_skip_with_reason(monkeypatch, tmp_path):
    result, dummy = run_module(ui_login_check.main,
                               args("http://127.0.0.1:9", chromium_path=str(tmp_path / "nochromium")), monkeypatch)
    assert result["row"]["status"] == "SKIP" and "no Chromium" in result["row"]["summary"]


def test_missing_selenium_is_skip_with_reason(monkeypatch):
    monkeypatch.setattr(br, "webdriver", None)
    result, dummy = run_module(ui_login_check.main, args("http://127.0.0.1:9"), monkeypatch)
    assert result["row"]["status"] == "SKIP" and "selenium is not installed" in result["row"]["summary"]


def browser_available():
    return br.unavailable_reason("/usr/bin/chromium", "/usr/bin/chromedriver")[0] is None


needs_browser = pytest.mark.skipif(not browser_available() and os.environ.get("CI") != "true",
                                   reason="no selenium/Chromium/chromedriver on this machine")


def test_missing_password_is_error(monkeypatch):
    result, dummy = run_module(ui_login_check.main, args("http://127.0.0.1:9", password=""), monkeypatch)
    assert result["row"]["status"] == "ERROR" and "solvereign_login_password" in result["row"]["summary"]


@needs_browser
def test_page_without_login_form_fails_and_saves_screenshot(server, monkeypatch, tmp_path):
    server.routes["/platform/login"] = Route(200, "<html><head><title>Maintenance</title></head><body>down</body></html>",
                                             content_type="text/html")
    result, failed = run_module(ui_login_check.main, args(server.url, evidence_dir=str(tmp_path)), monkeypatch)
    assert not failed
    row = result["row"]
    assert row["status"] == "FAIL" and "has no e-mail input" in row["summary"] and "Maintenance" in row["summary"]
    assert os.path.getsize(str(tmp_path / "login_smoke.png")) > 0
    assert PASSWORD not in str(result)


@needs_browser
def test_unreachable_page_is_error(monkeypatch, closed_port):
    result, dummy = run_module(ui_login_check.main, args("http://127.0.0.1:%d" % closed_port), monkeypatch)
    assert result["row"]["status"] == "ERROR" and "cannot load" in result["row"]["summary"]
