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


def test_chromedriver_is_not_needed(monkeypatch, tmp_path, closed_port):
    """Chromium is driven over the DevTools protocol: a chromedriver_path that does not exist changes nothing."""
    result, failed = run_module(ui_login_check.main, args("http://127.0.0.1:%d" % closed_port, timeout=5,
                                                          chromedriver_path=str(tmp_path / "nodriver")), monkeypatch)
    assert not failed
    assert result["row"]["status"] == "ERROR" and "cannot load" in result["row"]["summary"]


def test_missing_browser_is_skip_with_reason(monkeypatch, tmp_path):
    result, dummy = run_module(ui_login_check.main,
                               args("http://127.0.0.1:9", chromium_path=str(tmp_path / "nochromium")), monkeypatch)
    assert result["row"]["status"] == "SKIP" and "no Chromium" in result["row"]["summary"]


def browser_available():
    return br.unavailable_reason("/usr/bin/chromium")[0] is None


needs_browser = pytest.mark.skipif(not browser_available() and os.environ.get("CI") != "true",
                                   reason="no Chromium on this machine")


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


ACCESSIBLE_LOGIN = """<!doctype html><html><head><title>Sign in</title></head><body><main>
<form method="post" action="/session">
  <label for="f1">Email address</label><input id="f1" type="email" name="login[email]">
  <label for="f2">Password</label><input id="f2" type="password" name="login[password]">
  <button type="submit" class="btn btn-primary">Log in</button>
</form></main></body></html>"""
DASHBOARD = """<!doctype html><html><head><title>Dashboard</title></head><body>
<header class="navbar"><a href="/">SOLVEREIGN</a> <span class="user">%s</span></header>
<main><h1>Dashboard</h1></main></body></html>"""


def accessible_site(server, shown_name="Dana Dispatcher", after_login="/platform-admin"):
    """A classic server-rendered login form (no ids the check knows, no JavaScript)."""
    server.routes["/platform/login"] = Route(200, ACCESSIBLE_LOGIN, content_type="text/html")
    server.routes["/session"] = Route(303, "", headers=[("Location", after_login)], content_type="text/html")
    server.routes[after_login] = Route(200, DASHBOARD % shown_name, content_type="text/html")


def findings(row):
    return dict((f["name"], f["status"]) for f in row["findings"])


@needs_browser
def test_conventional_accessible_form_passes_without_selectors(server, monkeypatch):
    accessible_site(server)
    result, dummy = run_module(ui_login_check.main, args(server.url, expected_name="Dana Dispatcher"), monkeypatch)
    row = result["row"]
    assert row["status"] == "PASS", row["findings"]
    assert findings(row) == {"login page": "PASS", "redirect": "PASS", "user name": "PASS", "console": "PASS"}
    controls = [f["controls"] for f in row["findings"] if f["name"] == "login page"][0]
    assert controls == {"email": "input[type=email][name=login[email]][id=f1]",
                        "password": "input[type=password][name=login[password]][id=f2]",
                        "submit": "button[type=submit]"}
    # The form really was submitted with what was typed.
    posted = [body for method, path, dummy, body in server.requests if method == "POST" and path == "/session"]
    assert len(posted) == 1 and "dana%40example.com" in posted[0]


@needs_browser
def test_header_without_the_name_fails_the_user_name_only(server, monkeypatch):
    accessible_site(server, shown_name="Signed in")
    result, dummy = run_module(ui_login_check.main, args(server.url, expected_name="Dana Dispatcher", timeout=3),
                               monkeypatch)
    row = result["row"]
    assert row["status"] == "FAIL"
    assert findings(row)["user name"] == "FAIL" and findings(row)["redirect"] == "PASS"
    assert "Signed in" in row["summary"] and "Dana Dispatcher" in row["summary"]


@needs_browser
def test_login_that_lands_elsewhere_fails_the_redirect(server, monkeypatch):
    accessible_site(server, after_login="/welcome")
    result, dummy = run_module(ui_login_check.main, args(server.url, expected_name="Dana Dispatcher", settle=1),
                               monkeypatch)
    row = result["row"]
    assert row["status"] == "FAIL" and findings(row)["redirect"] == "FAIL"
    assert "landed on /welcome" in row["summary"]


@needs_browser
def test_explicit_selectors_still_override(server, monkeypatch):
    accessible_site(server)
    result, dummy = run_module(ui_login_check.main,
                               args(server.url, expected_name="Dana Dispatcher", submit_selector="#no-such-button"),
                               monkeypatch)
    row = result["row"]
    assert row["status"] == "FAIL" and "submit button (#no-such-button)" in row["summary"]


STORAGE_PAGE = """<!doctype html><html><body><script>
document.cookie = "pool_probe=left-behind; path=/";
localStorage.setItem("pool_probe", "left-behind");
sessionStorage.setItem("pool_probe", "left-behind");
</script></body></html>"""
READ_PAGE = "<!doctype html><html><body>read</body></html>"
READ_TRACES = ("return [document.cookie, localStorage.getItem('pool_probe'), "
               "sessionStorage.getItem('pool_probe')];")


@needs_browser
def test_a_pooled_chromium_keeps_nothing_of_the_check_before(server):
    """Inside a pool the second page is in the first one's Chromium, without its cookies or storage."""
    server.routes["/set"] = Route(200, STORAGE_PAGE, content_type="text/html")
    server.routes["/read"] = Route(200, READ_PAGE, content_type="text/html")
    with br.pooled():
        with br.Browser("/usr/bin/chromium", 15) as first:
            first.driver.get(server.url + "/set")
            assert first.driver.execute_script(READ_TRACES) == ["pool_probe=left-behind", "left-behind", "left-behind"]
            first.driver.execute_script("console.error('from the first check')")
            first_chromium = first.driver.browser.pid
        with br.Browser("/usr/bin/chromium", 15) as second:
            assert second.driver.browser.pid == first_chromium
            second.driver.get(server.url + "/read")
            assert second.driver.execute_script(READ_TRACES) == ["", None, None]
            assert second.console_errors() == []
            chromium = second.driver.browser
    assert second.driver is None and not chromium.alive and not os.path.exists(chromium.profile)


@needs_browser
def test_without_a_pool_every_session_is_a_new_chromium(server):
    server.routes["/read"] = Route(200, READ_PAGE, content_type="text/html")
    with br.Browser("/usr/bin/chromium", 15) as first:
        first_chromium = first.driver.browser
    assert not first_chromium.alive and not os.path.exists(first_chromium.profile)
    with br.Browser("/usr/bin/chromium", 15) as second:
        assert second.driver.browser.pid != first_chromium.pid


def crashing_first_chromiums(monkeypatch, crashes):
    """Chromiums of which the first ``crashes`` crash (CDP Browser.crash) right after starting."""
    started = []

    class CrashingChromium(br.cdp.Chromium):
        def __init__(self, *args, **kwargs):
            super(CrashingChromium, self).__init__(*args, **kwargs)
            started.append(self.pid)
            if len(started) <= crashes:
                try:
                    self.send("Browser.crash", timeout=5)
                except br.WebDriverException:
                    pass

    monkeypatch.setattr(br.cdp, "Chromium", CrashingChromium)
    return started


@needs_browser
def test_a_chromium_that_crashes_is_replaced_once(server, monkeypatch):
    """The browser's crash says nothing of the site: the smoke runs again in a fresh Chromium, and says so."""
    accessible_site(server)
    started = crashing_first_chromiums(monkeypatch, crashes=1)
    result, dummy = run_module(ui_login_check.main, args(server.url, expected_name="Dana Dispatcher"), monkeypatch)
    row = result["row"]
    assert len(started) == 2
    assert row["status"] == "PASS", row["findings"]
    assert findings(row) == {"login page": "PASS", "redirect": "PASS", "user name": "PASS", "console": "PASS",
                             "browser": "PASS"}
    assert "a first Chromium was lost" in [f["message"] for f in row["findings"] if f["name"] == "browser"][0]


@needs_browser
def test_a_chromium_lost_twice_is_error_not_a_verdict_on_the_site(server, monkeypatch):
    accessible_site(server)
    started = crashing_first_chromiums(monkeypatch, crashes=2)
    result, dummy = run_module(ui_login_check.main, args(server.url, expected_name="Dana Dispatcher"), monkeypatch)
    row = result["row"]
    assert len(started) == 2
    assert row["status"] == "ERROR" and "Chromium was lost twice" in row["summary"]
    assert "FAIL" not in findings(row).values()


@needs_browser
def test_a_site_that_fails_is_not_retried(server, monkeypatch):
    """Only a lost browser earns a second attempt: a page that cannot load is the site's answer."""
    started = crashing_first_chromiums(monkeypatch, crashes=0)
    result, dummy = run_module(ui_login_check.main, args(server.url + "/nothing-here", timeout=3), monkeypatch)
    assert len(started) == 1
    assert result["row"]["status"] in ("FAIL", "ERROR") and "browser" not in findings(result["row"])
