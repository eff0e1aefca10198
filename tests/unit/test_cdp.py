"""cdp module_utils: one headless Chromium over --remote-debugging-pipe, many isolated pages."""

import os
import re
import signal
import threading
import time

import pytest

from ansible_collections.solvereign.release_ops.plugins.module_utils import browser as br
from ansible_collections.solvereign.release_ops.plugins.module_utils import cdp
from ansible_collections.solvereign.release_ops.plugins.module_utils.result import CheckRow
from ansible_collections.solvereign.release_ops.plugins.modules import ui_login_check

from .conftest import Route

CHROMIUM = "/usr/bin/chromium"

pytestmark = pytest.mark.skipif(not os.path.exists(CHROMIUM) and os.environ.get("CI") != "true",
                                reason="no Chromium on this machine")


def html(body, title="Test"):
    return Route(200, "<!doctype html><html><head><title>%s</title></head><body>%s</body></html>" % (title, body),
                 content_type="text/html")


@pytest.fixture(scope="module")
def chromium():
    browser = cdp.Chromium(CHROMIUM)
    yield browser
    browser.close()


@pytest.fixture
def page(chromium):
    tab = chromium.new_page()
    tab.set_page_load_timeout(10)
    tab.set_script_timeout(10)
    yield tab
    tab.quit()


def wait_for(condition, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    return condition()


def processes_of(browser):
    """Pids of the processes in Chromium's process group or using its profile."""
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % name) as handle:
                stat = handle.read()
            with open("/proc/%s/cmdline" % name, "rb") as handle:
                cmdline = handle.read().decode("utf-8", "replace")
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if fields[0] != "Z" and (int(fields[2]) == browser.pid or browser.profile in cmdline):
            found.append(int(name))
    return found


# -- navigation ------------------------------------------------------------------------------

def test_navigation_gives_title_and_url(page, server):
    server.routes["/hello"] = html("<p>hi</p>", title="Hello page")
    page.get(server.url + "/hello")
    assert page.title == "Hello page"
    assert page.current_url == server.url + "/hello"
    assert page.execute_script("return document.readyState;") == "complete"
    # A navigation that loads nothing (204) leaves the page as it was, at once.
    server.routes["/nothing"] = Route(204, "", content_type="text/html")
    started = time.monotonic()
    page.get(server.url + "/nothing")
    assert time.monotonic() - started < 2 and page.title == "Hello page"


def test_closed_port_shows_chromium_error_page_that_load_failure_recognises(page, closed_port):
    url = "http://127.0.0.1:%d/platform/login" % closed_port
    page.get(url)  # no exception: the error page is what a person would see
    assert page.execute_script("return document.URL;").startswith("chrome-error://")
    failure = br.load_failure(page)
    assert failure and failure.startswith("ERR_CONNECTION_REFUSED")
    assert page.current_url == url  # the URL that failed, as chromedriver reports it


def test_slow_document_raises_timeout(page, server):
    server.routes["/slow"] = Route(200, "<p>late</p>", delay=3, content_type="text/html")
    page.set_page_load_timeout(1)
    started = time.monotonic()
    with pytest.raises(cdp.TimeoutException) as caught:
        page.get(server.url + "/slow")
    assert time.monotonic() - started < 2.5
    assert "Timed out receiving message from renderer" in caught.value.msg


def test_slow_subresource_delays_the_load_event_until_timeout(page, server):
    server.routes["/with-image"] = html('<img src="/slow.png">')
    server.routes["/slow.png"] = Route(200, b"", delay=3, content_type="image/png")
    page.set_page_load_timeout(1)
    with pytest.raises(cdp.TimeoutException):
        page.get(server.url + "/with-image")
    # The page stays usable.
    assert page.execute_script("return 1 + 1;") == 2


# -- scripts -----------------------------------------------------------------------------------

def test_execute_script_round_trips_elements_and_nested_values(page, server):
    server.routes["/form"] = html('<input id="a" value="x"><div class="c">one</div><div class="c">two</div>')
    page.get(server.url + "/form")
    element = page.execute_script("return document.getElementById('a');")
    assert isinstance(element, cdp.Element)
    assert page.execute_script("return arguments[0].id + arguments[1];", element, "!") == "a!"
    nested = page.execute_script(
        "return {list: [document.body, 1, 'x', null, undefined], deep: {el: arguments[0].ref}, "
        "items: document.querySelectorAll('.c'), n: 1.5, b: true};", {"ref": element})
    assert isinstance(nested["list"][0], cdp.Element) and nested["list"][1:] == [1, "x", None, None]
    assert nested["deep"]["el"] == element
    assert [page.execute_script("return arguments[0].textContent;", item) for item in nested["items"]] == ["one", "two"]
    assert nested["n"] == 1.5 and nested["b"] is True
    assert page.execute_script("var x = 1;") is None
    assert page.execute_script("return [arguments[0].ref.value, arguments.length];", {"ref": element}) == ["x", 1]


def test_script_errors_are_javascript_exceptions(page):
    with pytest.raises(cdp.JavascriptException) as caught:
        page.execute_script("throw new Error('boom');")
    assert "boom" in caught.value.msg
    with pytest.raises(cdp.JavascriptException):
        page.execute_script("return document.querySelector('#none').value;")
    with pytest.raises(cdp.JavascriptException):
        page.execute_script("return (;")
    assert isinstance(caught.value, cdp.WebDriverException)
    assert page.get_log("browser") == []  # a script's own error is no page error


def test_element_of_a_replaced_document_is_stale(page, server):
    server.routes["/one"] = html('<input id="a">')
    server.routes["/two"] = html('<input id="a">')
    page.get(server.url + "/one")
    element = page.execute_script("return document.getElementById('a');")
    removed = page.execute_script("var e = document.createElement('p'); document.body.appendChild(e); return e;")
    page.execute_script("arguments[0].remove();", removed)
    with pytest.raises(cdp.StaleElementReferenceException):
        page.execute_script("return arguments[0].tagName;", removed)
    page.get(server.url + "/two")
    with pytest.raises(cdp.StaleElementReferenceException):
        page.execute_script("return arguments[0].id;", element)
    with pytest.raises(cdp.StaleElementReferenceException):
        element.click()
    with pytest.raises(cdp.StaleElementReferenceException):
        element.send_keys("x")


def test_async_script_resolves_and_times_out(page, server):
    server.routes["/api/auth/me"] = Route(200, {"display_name": "Dana Dispatcher"})
    server.routes["/blank"] = html("")
    page.get(server.url + "/blank")
    assert page.execute_async_script(
        "var done = arguments[arguments.length - 1]; setTimeout(function () { done([arguments.length, 41 + 1]); }, 50);",
        "x") == [0, 42]
    assert page.execute_async_script(ui_login_check.READ_ME_SCRIPT, "/api/auth/me") == {"display_name": "Dana Dispatcher"}
    page.set_script_timeout(0.5)
    started = time.monotonic()
    with pytest.raises(cdp.TimeoutException):
        page.execute_async_script("var done = arguments[0];")
    assert time.monotonic() - started < 2
    with pytest.raises(cdp.JavascriptException):
        page.execute_async_script("throw new Error('early');")


# -- input -------------------------------------------------------------------------------------

CONTROLLED_INPUTS = """
<input id="plain" type="email">
<input id="keyed"><input id="upper">
<script>
// Value kept in a variable and written back by the keydown handler only (the browser's own
// insertion is prevented), as a controlled component does.
var keyed = document.getElementById('keyed'), state = '';
keyed.addEventListener('keydown', function (e) {
  if (e.key.length === 1) { e.preventDefault(); state += e.key; keyed.value = state; }
});
// Re-rendered from state on every input event, as React does.
var upper = document.getElementById('upper'), shown = '';
upper.addEventListener('input', function () { shown = upper.value.toUpperCase(); upper.value = shown; });
window.keyups = 0;
document.addEventListener('keyup', function () { window.keyups++; });
</script>"""


def test_send_keys_types_into_plain_and_controlled_inputs(page, server):
    server.routes["/inputs"] = html(CONTROLLED_INPUTS)
    page.get(server.url + "/inputs")
    plain, keyed, upper = page.execute_script(
        "return ['plain', 'keyed', 'upper'].map(function (id) { return document.getElementById(id); });")
    plain.send_keys("dana@example.com")
    keyed.send_keys("Pa55-w0rd!")
    upper.send_keys("abc", "def")
    assert page.execute_script(
        "return ['plain', 'keyed', 'upper'].map(function (id) { return document.getElementById(id).value; });") \
        == ["dana@example.com", "Pa55-w0rd!", "ABCDEF"]
    assert page.execute_script("return window.keyups;") == len("dana@example.comPa55-w0rd!abcdef")


def test_click_on_submit_button_posts_the_form(page, server):
    server.routes["/login"] = html('<form method="post" action="/session"><input name="user">'
                                   '<button type="submit">Sign in</button></form>')
    server.routes["/session"] = Route(303, "", headers=[("Location", "/done")], content_type="text/html")
    server.routes["/done"] = html("done", title="Done")
    page.get(server.url + "/login")
    user, button = page.execute_script("return [document.querySelector('input'), document.querySelector('button')];")
    user.send_keys("dana")
    button.click()
    assert wait_for(lambda: page.execute_script("return location.pathname;") == "/done")
    posted = [body for method, path, dummy, body in server.requests if method == "POST" and path == "/session"]
    assert posted == ["user=dana"]


# -- isolation and concurrency -----------------------------------------------------------------

COOKIE_LOGIN = """<form method="post" action="/session" id="f"><input name="user" id="user">
<button type="submit">Sign in</button></form>
<script>
document.getElementById('f').addEventListener('submit', function () {
  document.cookie = 'sid=' + encodeURIComponent(document.getElementById('user').value) + '; path=/';
});
</script>"""


def test_pages_are_isolated_while_running_concurrently(chromium, server):
    server.routes["/login"] = html(COOKIE_LOGIN, title="Sign in")
    server.routes["/session"] = Route(303, "", headers=[("Location", "/dashboard")], content_type="text/html")
    server.routes["/dashboard"] = html("<header>dashboard</header>", title="Dashboard")
    seen, errors = {}, []

    def smoke(number):
        try:
            with chromium.new_page() as tab:
                tab.set_page_load_timeout(10)
                tab.get(server.url + "/login")
                user, button = tab.execute_script("return [document.getElementById('user'), "
                                                  "document.querySelector('button')];")
                user.send_keys("user%d" % number)
                button.click()
                wait_for(lambda: tab.execute_script(
                    "return location.pathname === '/dashboard' && document.readyState === 'complete';"), 10)
                seen[number] = tab.execute_script("return document.cookie;")
        except Exception as exc:  # pylint: disable=broad-except
            errors.append(exc)

    threads = [threading.Thread(target=smoke, args=(number,)) for number in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not errors
    assert seen == dict((number, "sid=user%d" % number) for number in range(6))
    # The server got each login with its own cookie only.
    for method, path, headers, body in server.requests:
        if method == "POST" and path == "/session":
            assert headers.get("Cookie") == "sid=%s" % body.split("=", 1)[1]
    with chromium.new_page() as fresh:
        fresh.get(server.url + "/dashboard")
        assert fresh.execute_script("return document.cookie;") == ""
    assert not chromium.pages


# -- console log, screenshot -------------------------------------------------------------------

NOISY_PAGE = """<script>
fetch('/api/auth/login', {method: 'POST'});
console.error('bad thing', 42, {a: 1});
console.log('just info');
setTimeout(function () { throw new Error('kaboom'); }, 0);
</script>"""


def test_get_log_reports_severe_errors_as_chromedriver_does(page, server):
    server.routes["/noisy"] = html(NOISY_PAGE)
    server.routes["/api/auth/login"] = Route(401, {"detail": "no"})
    page.get(server.url + "/noisy")
    entries = []

    def collected():
        entries.extend(page.get_log("browser"))
        messages = " ".join(entry["message"] for entry in entries)
        return "favicon.ico" in messages and "kaboom" in messages and "401" in messages

    assert wait_for(collected)
    severe = [entry["message"] for entry in entries if entry["level"] == "SEVERE"]
    assert "%s/api/auth/login - Failed to load resource: the server responded with a status of 401 (Unauthorized)" \
        % server.url in severe
    assert [m for m in severe if re.match(r"^%s/noisy \d+:\d+ \"bad thing\" 42 Object$" % re.escape(server.url), m)]
    assert [m for m in severe if re.match(r"^%s/noisy \d+:\d+ Uncaught Error: kaboom" % re.escape(server.url), m)]
    favicon = [m for m in severe if "favicon" in m]
    assert favicon and all(br.AUTOMATIC_FAVICON_FAILURE.search(m) for m in favicon)
    assert all(isinstance(entry["timestamp"], int) and entry["source"] for entry in entries)
    assert not [entry for entry in entries if entry["level"] == "SEVERE" and "just info" in entry["message"]]
    assert page.get_log("browser") == []


def test_screenshot_is_png(page, server):
    server.routes["/shot"] = html("<h1>evidence</h1>")
    page.get(server.url + "/shot")
    png = page.get_screenshot_as_png()
    assert png.startswith(b"\x89PNG") and len(png) > 1000


def test_execute_cdp_cmd_runs_on_the_page(page, server):
    server.routes["/blank"] = html("", title="Blank")
    page.get(server.url + "/blank")
    result = page.execute_cdp_cmd("Runtime.evaluate", {"expression": "document.title", "returnByValue": True})
    assert result["result"]["value"] == "Blank"
    with pytest.raises(cdp.WebDriverException):
        page.execute_cdp_cmd("No.suchMethod", {})


# -- the login smoke of ui_login_check on a Page ----------------------------------------------

class Module:
    def __init__(self, **params):
        self.params = dict(email_selector="", password_selector="", submit_selector="", error_selector="",
                           name_selector="", login_path="/platform/login", dashboard_path="/platform-admin",
                           me_path="/api/auth/me", settle=3.0, timeout=5.0)
        self.params.update(params)


class Session:
    """What ui_login_check needs of br.Browser, on a cdp Page."""

    def __init__(self, driver, timeout):
        self.driver = driver
        self.timeout = timeout

    def wait(self, condition, timeout=None):
        deadline = time.monotonic() + (timeout or self.timeout)
        while time.monotonic() < deadline:
            try:
                value = condition(self.driver)
                if value:
                    return value
            except (cdp.StaleElementReferenceException, cdp.JavascriptException, cdp.NoSuchElementException):
                pass
            time.sleep(0.1)
        raise br.TimeoutException("timed out")


def test_ui_login_smoke_runs_unchanged_on_a_page(page, server):
    server.routes["/platform/login"] = Route(200, ui_login_check_login_page(), content_type="text/html")
    server.routes["/session"] = Route(303, "", headers=[("Location", "/platform-admin")], content_type="text/html")
    server.routes["/platform-admin"] = html('<header><span class="user">Dana Dispatcher</span></header>',
                                            title="Dashboard")
    module = Module(base_url=server.url, email="dana@example.com", password="Ui-Passw0rd!",
                    expected_name="Dana Dispatcher")
    row = CheckRow("4.4", "UI login smoke", "test")
    ui_login_check.run_smoke(module, row, Session(page, 5), ("Ui-Passw0rd!",))
    assert row.status == "PASS", row.findings
    posted = [body for method, path, dummy, body in server.requests if method == "POST" and path == "/session"]
    assert posted == ["login%5Bemail%5D=dana%40example.com&login%5Bpassword%5D=Ui-Passw0rd%21"]


def ui_login_check_login_page():
    return ("<!doctype html><html><head><title>Sign in</title></head><body><main>"
            '<form method="post" action="/session">'
            '<label for="f1">Email address</label><input id="f1" type="email" name="login[email]">'
            '<label for="f2">Password</label><input id="f2" type="password" name="login[password]">'
            '<button type="submit">Log in</button></form></main></body></html>')


# -- crashes, kill, close ----------------------------------------------------------------------

def test_a_crashed_tab_is_lost_and_the_others_go_on(chromium, server):
    server.routes["/blank"] = html("")
    with chromium.new_page() as victim, chromium.new_page() as other:
        victim.get(server.url + "/blank")
        other.get(server.url + "/blank")
        with pytest.raises(cdp.WebDriverException):
            victim.execute_cdp_cmd("Page.crash", {})
        assert wait_for(lambda: victim.lost)
        with pytest.raises(cdp.InvalidSessionIdException) as caught:
            victim.execute_script("return 1;")
        assert "tab crashed" in caught.value.msg
        assert other.execute_script("return 1;") == 1 and not other.lost
    victim.quit()  # twice, after a crash: nothing happens


def test_killed_chromium_fails_pending_and_later_calls_quickly(server):
    server.routes["/blank"] = html("")
    browser = cdp.Chromium(CHROMIUM)
    try:
        tab = browser.new_page()
        tab.get(server.url + "/blank")
        outcome = []

        def pending():
            try:
                tab.execute_async_script("var never = arguments[0];")
            except Exception as exc:  # pylint: disable=broad-except
                outcome.append((exc, time.monotonic()))

        waiter = threading.Thread(target=pending)
        waiter.start()
        time.sleep(0.3)
        killed = time.monotonic()
        os.kill(browser.pid, signal.SIGKILL)
        waiter.join(5)
        assert outcome and isinstance(outcome[0][0], cdp.InvalidSessionIdException)
        assert outcome[0][1] - killed < 2
        assert "chrome not reachable" in outcome[0][0].msg
        assert tab.lost and not browser.alive
        started = time.monotonic()
        with pytest.raises(cdp.InvalidSessionIdException):
            tab.execute_script("return 1;")
        with pytest.raises(cdp.InvalidSessionIdException):
            browser.new_page()
        assert time.monotonic() - started < 1
        tab.quit()
    finally:
        browser.close()
    assert wait_for(lambda: not processes_of(browser), 5)
    assert not os.path.exists(browser.profile)


def test_close_leaves_no_process_and_no_profile(server):
    server.routes["/blank"] = html("")
    browser = cdp.Chromium(CHROMIUM)
    first, second = browser.new_page(), browser.new_page()
    first.get(server.url + "/blank")
    assert browser.alive and processes_of(browser) and os.path.isdir(browser.profile)
    browser.close()
    browser.close()
    assert not browser.alive and first.lost
    assert wait_for(lambda: not processes_of(browser), 5)
    assert not os.path.exists(browser.profile)
    second.quit()
    with pytest.raises(cdp.InvalidSessionIdException):
        first.get(server.url + "/blank")


def test_a_chromium_that_cannot_start_is_an_error(tmp_path):
    fake = tmp_path / "chromium"
    fake.write_text("#!/bin/sh\nexit 3\n")
    fake.chmod(0o755)
    started = time.monotonic()
    with pytest.raises(cdp.WebDriverException) as caught:
        cdp.Chromium(str(fake), start_timeout=5)
    assert "cannot start Chromium" in caught.value.msg and time.monotonic() - started < 3


def test_single_process_is_refused():
    with pytest.raises(ValueError):
        cdp.Chromium(CHROMIUM, flags=cdp.HEADLESS_FLAGS + ("--single-process",))
