# -*- coding: utf-8 -*-
# Copyright: (c) 2026, SOLVEREIGN release engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Headless Chromium driven over the Chrome DevTools Protocol, standard library only.

One :class:`Chromium` process serves many concurrent smokes. Each smoke gets a :class:`Page`
of its own in a browser context of its own (own cookies, storage and cache, all disposed by
:meth:`Page.quit`). The page answers the calls the UI smoke makes of a Selenium driver (``get``,
``execute_script``, ``execute_async_script``, ``title``, ``current_url``, ``get_log``,
``get_screenshot_as_png``, ``execute_cdp_cmd``, ``quit``) and its elements those of a Selenium
element (``send_keys``, ``click``), raising exceptions with Selenium's names.

The protocol runs over ``--remote-debugging-pipe``: Chromium reads NUL-terminated JSON messages
from its file descriptor 3 and writes them to its descriptor 4, so no port is opened, no
websocket library and no chromedriver are needed. One reader thread hands every answer to the
caller waiting for its ``id`` and every event to the page of its ``sessionId``; any number of
threads may send commands at the same time.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import collections
import fcntl
import itertools
import json
import os
import shutil
import signal
import tempfile
import threading
import time


class WebDriverException(Exception):
    """Base of the errors of this module; ``msg`` holds the message, as in Selenium."""

    def __init__(self, msg=None):
        super(WebDriverException, self).__init__(msg)
        self.msg = msg

    def __str__(self):
        return "Message: %s" % self.msg


class TimeoutException(WebDriverException):
    pass


class JavascriptException(WebDriverException):
    pass


class InvalidSessionIdException(WebDriverException):
    """The page or the whole Chromium is gone (crashed, closed, killed)."""


class NoSuchElementException(WebDriverException):
    pass


class StaleElementReferenceException(WebDriverException):
    """An element whose document was replaced, or that is no longer in its document."""


HEADLESS_FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage", "--window-size=1280,900", "--no-default-browser-check", "--mute-audio",
    # Headless Chromium 15x preloads the omnibox popups (WebUI pages) for every browser context:
    # one more renderer, about 20-50 MB, per page. Unknown feature names are ignored.
    "--disable-features=WebUIOmniboxPopup,WebUIOmniboxAimPopup,WebUIOmniboxFullPopup",
)
DEFAULT_PAGE_LOAD_TIMEOUT = 300.0
DEFAULT_SCRIPT_TIMEOUT = 30.0
COMMAND_TIMEOUT = 30.0
# How often a waiting caller looks whether the Chromium process is still there.
_LIVENESS_POLL = 0.2
_MAX_LOG_ENTRIES = 1000
ELEMENT_KEY = "element-6066-11e4-a52e-4f735466cecf"

_LOG_LEVELS = {"verbose": "DEBUG", "info": "INFO", "warning": "WARNING", "error": "SEVERE"}
_CONSOLE_LEVELS = {"error": "SEVERE", "assert": "SEVERE", "warning": "WARNING", "debug": "DEBUG"}

# The wrapper every script runs in: %(body)s is the WebDriver script (a function body reading
# ``arguments``), %(args)s its arguments as JSON, %(is_async)s and %(timeout_ms)s as named.
# Elements travel as {ELEMENT_KEY: [document token, index]} and are kept in a registry on the
# document (a non-enumerable property), so a new document makes every old element stale.
_SCRIPT_WRAPPER = """(function (ARGS, IS_ASYNC, TIMEOUT_MS) {
  var KEY = '%(key)s';
  var reg = Object.prototype.hasOwnProperty.call(document, '__solvereignCdpNodes') ? document.__solvereignCdpNodes : null;
  if (!reg) {
    reg = {token: Math.random().toString(36).slice(2) + Date.now().toString(36), nodes: []};
    Object.defineProperty(document, '__solvereignCdpNodes', {value: reg, enumerable: false, configurable: true});
  }
  function Stale(message) { this.message = message; }
  function describe(e) {
    if (e && typeof e === 'object' && e.message !== undefined) { return String(e.message); }
    try { return String(e); } catch (x) { return 'unknown error'; }
  }
  function isNode(v) { return typeof Node !== 'undefined' && v instanceof Node; }
  function unwrap(v) {
    if (v === null || typeof v !== 'object') { return v; }
    if (Array.isArray(v)) { return v.map(unwrap); }
    if (Object.prototype.hasOwnProperty.call(v, KEY)) {
      var ref = v[KEY], node = ref[0] === reg.token ? reg.nodes[ref[1]] : undefined;
      if (!node) { throw new Stale('stale element reference: the element belongs to a document that was replaced'); }
      if (!node.isConnected) { throw new Stale('stale element reference: the element is not attached to the page document'); }
      return node;
    }
    var out = {};
    for (var k in v) { if (Object.prototype.hasOwnProperty.call(v, k)) { out[k] = unwrap(v[k]); } }
    return out;
  }
  function wrap(v, seen) {
    if (v === undefined || v === null) { return null; }
    var t = typeof v;
    if (t === 'number') { return isFinite(v) ? v : null; }
    if (t === 'string' || t === 'boolean') { return v; }
    if (t !== 'object') { return t === 'function' ? {} : null; }
    if (isNode(v)) {
      var i = reg.nodes.indexOf(v);
      if (i < 0) { i = reg.nodes.push(v) - 1; }
      var ref = {};
      ref[KEY] = [reg.token, i];
      return ref;
    }
    if (v === window) { return null; }
    if (seen.indexOf(v) >= 0) { throw new Error('the value returned by the script has a circular reference'); }
    seen.push(v);
    try {
      if (Array.isArray(v) || (typeof NodeList !== 'undefined' && v instanceof NodeList)
          || (typeof HTMLCollection !== 'undefined' && v instanceof HTMLCollection)) {
        var list = [];
        for (var j = 0; j < v.length; j++) { list.push(wrap(v[j], seen)); }
        return list;
      }
      if (typeof v.toJSON === 'function') { return wrap(v.toJSON(), seen); }
      var out = {};
      for (var k in v) { out[k] = wrap(v[k], seen); }
      return out;
    } finally {
      seen.pop();
    }
  }
  function settle(value) {
    try { return {ok: wrap(value, [])}; } catch (e) { return {error: describe(e)}; }
  }
  var args;
  try { args = unwrap(ARGS); } catch (e) {
    if (e instanceof Stale) { return {stale: e.message}; }
    return {error: describe(e)};
  }
  if (!IS_ASYNC) {
    var result;
    try {
      result = (function () {
%(body)s
      }).apply(window, args);
    } catch (e) { return {error: describe(e)}; }
    return settle(result);
  }
  return new Promise(function (resolve) {
    var timer = setTimeout(function () { resolve({timeout: true}); }, TIMEOUT_MS);
    args.push(function (value) { clearTimeout(timer); resolve(settle(value)); });
    try {
      (function () {
%(body)s
      }).apply(window, args);
    } catch (e) { clearTimeout(timer); resolve({error: describe(e)}); }
  });
})(%(args)s, %(is_async)s, %(timeout_ms)d)"""

# Scrolls an element into the middle of the viewport and focuses it (caret at the end of its
# text, as chromedriver does); false when it cannot take the focus.
_FOCUS_SCRIPT = """
var e = arguments[0];
e.scrollIntoView({block: 'center', inline: 'center'});
e.focus();
var root = e.getRootNode ? e.getRootNode() : document;
if (root.activeElement !== e) { return false; }
try {
  if (typeof e.value === 'string' && typeof e.setSelectionRange === 'function') {
    e.setSelectionRange(e.value.length, e.value.length);
  }
} catch (x) { /* input types without a selection (email, number) */ }
return true;
"""
# The element's first box in the viewport after scrolling it into the middle: [x, y, width, height].
_BOX_SCRIPT = """
var e = arguments[0];
e.scrollIntoView({block: 'center', inline: 'center'});
var rects = e.getClientRects(), box = rects.length ? rects[0] : e.getBoundingClientRect();
return [box.left, box.top, box.width, box.height];
"""

# Keys that type no character as themselves: (key, code, Windows virtual key code, text).
_SPECIAL_KEYS = {
    u"\n": ("Enter", "Enter", 13, u"\r"), u"\r": ("Enter", "Enter", 13, u"\r"),
    u"\ue006": ("Enter", "Enter", 13, u"\r"), u"\ue007": ("Enter", "Enter", 13, u"\r"),
    u"\t": ("Tab", "Tab", 9, u""), u"\ue004": ("Tab", "Tab", 9, u""),
    u"\ue003": ("Backspace", "Backspace", 8, u""), u"\ue017": ("Delete", "Delete", 46, u""),
    u"\ue00c": ("Escape", "Escape", 27, u""),
    u"\ue012": ("ArrowLeft", "ArrowLeft", 37, u""), u"\ue014": ("ArrowRight", "ArrowRight", 39, u""),
    u"\ue011": ("Home", "Home", 36, u""), u"\ue010": ("End", "End", 35, u""),
}
# US layout: the key (code, virtual key code) a punctuation character is typed with.
_PUNCTUATION = {
    u" ": ("Space", 32), u"-": ("Minus", 189), u"_": ("Minus", 189), u"=": ("Equal", 187),
    u"+": ("Equal", 187), u"[": ("BracketLeft", 219), u"{": ("BracketLeft", 219),
    u"]": ("BracketRight", 221), u"}": ("BracketRight", 221), u"\\": ("Backslash", 220),
    u"|": ("Backslash", 220), u";": ("Semicolon", 186), u":": ("Semicolon", 186), u"'": ("Quote", 222),
    u'"': ("Quote", 222), u",": ("Comma", 188), u"<": ("Comma", 188), u".": ("Period", 190),
    u">": ("Period", 190), u"/": ("Slash", 191), u"?": ("Slash", 191), u"`": ("Backquote", 192),
    u"~": ("Backquote", 192),
}
_SHIFTED_DIGITS = u")!@#$%^&*("


def key_events(char):
    """The (keyDown, keyUp) Input.dispatchKeyEvent parameters that type ``char``."""
    if char in _SPECIAL_KEYS:
        key, code, vk, text = _SPECIAL_KEYS[char]
    else:
        key, text = char, char
        lower = char.lower()
        if len(char) == 1 and u"a" <= lower <= u"z":
            code, vk = "Key%s" % lower.upper(), ord(lower.upper())
        elif len(char) == 1 and u"0" <= char <= u"9":
            code, vk = "Digit%s" % char, ord(char)
        elif char in _SHIFTED_DIGITS:
            digit = str(_SHIFTED_DIGITS.index(char))
            code, vk = "Digit%s" % digit, ord(digit)
        elif char in _PUNCTUATION:
            code, vk = _PUNCTUATION[char]
        else:
            code, vk = "", 0
    common = {"key": key, "code": code, "windowsVirtualKeyCode": vk, "nativeVirtualKeyCode": vk}
    down = dict(common, type="keyDown" if text else "rawKeyDown")
    if text:
        down["text"] = text
        down["unmodifiedText"] = text
    return down, dict(common, type="keyUp")


def _js_literal(value):
    """``value`` as JSON text that is also a safe JavaScript literal."""
    return json.dumps(value).replace(u"\u2028", u"\\u2028").replace(u"\u2029", u"\\u2029")


def _remote_text(obj):
    """How chromedriver shows one console argument: its description, else its value as JSON
    (so strings come JSON-quoted), ``undefined`` for undefined."""
    if obj.get("type") == "undefined":
        return "undefined"
    if obj.get("description") is not None:
        return obj["description"]
    if "value" in obj:
        return json.dumps(obj["value"])
    return obj.get("unserializableValue") or obj.get("type") or ""


class _Call(object):
    """A command waiting for its answer."""

    __slots__ = ("method", "session_id", "done", "result", "error")

    def __init__(self, method, session_id):
        self.method = method
        self.session_id = session_id
        self.done = threading.Event()
        self.result = None
        self.error = None

    def fail(self, error):
        if not self.done.is_set():
            self.error = error
            self.done.set()


class Chromium(object):
    """One headless Chromium process driven over ``--remote-debugging-pipe``; see the module doc.

    ``flags`` are given to Chromium as they are, after them come the pipe flag and a fresh
    ``--user-data-dir`` (removed by :meth:`close`). Use as a context manager, or call
    :meth:`close`. Raises :class:`WebDriverException` when Chromium does not answer within
    ``start_timeout`` seconds, :class:`OSError` when it cannot be started at all and
    :class:`ValueError` for ``--single-process``, which cannot run more than one browser context."""

    def __init__(self, executable, flags=HEADLESS_FLAGS, start_timeout=15.0):
        self.executable = executable
        self.flags = tuple(flags)
        if "--single-process" in self.flags:
            # Chromium (156) kills itself when a second browser context gets a tab in one process.
            raise ValueError("--single-process cannot host a browser context per page; leave it out")
        self.profile = tempfile.mkdtemp(prefix="solvereign-cdp-")
        self.pid = None
        self.version = None
        self._lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._ids = itertools.count(1)
        self._pending = {}
        self._pages = {}
        self._gone = None
        self._closed = False
        self._exit_status = None
        self._read_fd = self._write_fd = None
        self._reader = None
        try:
            self._spawn()
            self.version = self.send("Browser.getVersion", timeout=start_timeout).get("product")
            self.send("Target.setDiscoverTargets", {"discover": True}, timeout=start_timeout)
            self._close_initial_tab(start_timeout)
        except WebDriverException as exc:
            self.close()
            raise WebDriverException("cannot start Chromium %s: %s" % (executable, exc.msg))
        except Exception:
            self.close()
            raise

    def _spawn(self):
        to_chrome = os.pipe()
        from_chrome = os.pipe()
        # The child's ends go to descriptors >= 10 first, so that mapping them onto 3 and 4 in the
        # child can never overwrite one with the other.
        child_in = fcntl.fcntl(to_chrome[0], fcntl.F_DUPFD_CLOEXEC, 10)
        child_out = fcntl.fcntl(from_chrome[1], fcntl.F_DUPFD_CLOEXEC, 10)
        os.close(to_chrome[0])
        os.close(from_chrome[1])
        self._write_fd, self._read_fd = to_chrome[1], from_chrome[0]
        argv = [self.executable] + list(self.flags) + [
            "--remote-debugging-pipe", "--user-data-dir=%s" % self.profile, "about:blank"]
        actions = [
            (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
            (os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0),
            (os.POSIX_SPAWN_OPEN, 2, os.devnull, os.O_WRONLY, 0),
            (os.POSIX_SPAWN_DUP2, child_in, 3),
            (os.POSIX_SPAWN_DUP2, child_out, 4),
        ]
        try:
            # posix_spawn, not fork + preexec_fn: safe while other threads run. Its own session,
            # so that close() can end Chromium's helper processes with the browser.
            self.pid = os.posix_spawn(self.executable, argv, dict(os.environ), file_actions=actions, setsid=True)
        finally:
            os.close(child_in)
            os.close(child_out)
        self._reader = threading.Thread(target=self._read_loop, name="cdp-reader-%d" % self.pid)
        self._reader.daemon = True
        self._reader.start()

    def _close_initial_tab(self, timeout):
        """Close the blank tab Chromium opens by itself: a renderer no smoke uses (headless
        Chromium stays up without tabs)."""
        for info in self.send("Target.getTargets", timeout=timeout).get("targetInfos") or []:
            if info.get("type") == "page" and not info.get("attached"):
                try:
                    self.send("Target.closeTarget", {"targetId": info["targetId"]}, timeout=timeout)
                except (TimeoutException, InvalidSessionIdException):
                    raise
                except WebDriverException:
                    pass

    # -- the process ---------------------------------------------------------------------

    def _exited(self):
        """Whether the Chromium process has ended (it is not reaped here)."""
        if self._exit_status is not None:
            return True
        if self.pid is None:
            return True
        try:
            info = os.waitid(os.P_PID, self.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
        except ChildProcessError:
            return True
        return info is not None and info.si_pid == self.pid

    def _reap(self, timeout):
        """Wait up to ``timeout`` seconds for the process to end; reap it. True when it ended."""
        if self.pid is None or self._exit_status is not None:
            return True
        deadline = time.monotonic() + timeout
        while True:
            try:
                pid, status = os.waitpid(self.pid, os.WNOHANG)
            except ChildProcessError:
                self._exit_status = -1
                return True
            if pid == self.pid:
                self._exit_status = status
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.05)

    def _signal_group(self, signum):
        if self.pid is None:
            return
        try:
            os.killpg(self.pid, signum)
        except (ProcessLookupError, PermissionError):
            pass

    @property
    def alive(self):
        """Whether the process runs and its DevTools pipe is open."""
        return self._gone is None and not self._closed and not self._exited()

    # -- the pipe -----------------------------------------------------------------------

    def _read_loop(self):
        buf = bytearray()
        reason = "Chromium closed its DevTools pipe"
        try:
            while True:
                chunk = os.read(self._read_fd, 1 << 17)
                if not chunk:
                    break
                scanned = len(buf)
                buf.extend(chunk)
                start = 0
                end = buf.find(b"\0", scanned)
                while end >= 0:
                    raw = bytes(buf[start:end])
                    start = end + 1
                    if raw:
                        try:
                            self._dispatch(raw)
                        except Exception:  # pylint: disable=broad-except
                            pass  # one odd message must not cut every page off
                    end = buf.find(b"\0", start)
                if start:
                    del buf[:start]
        except OSError as exc:
            reason = "the DevTools pipe failed: %s" % exc
        finally:
            try:
                os.close(self._read_fd)
            except OSError:
                pass
            self._lose("chrome not reachable: %s" % reason)

    def _dispatch(self, raw):
        try:
            message = json.loads(raw.decode("utf-8", "replace"))
        except ValueError:
            return
        if "id" in message:
            with self._lock:
                call = self._pending.pop(message["id"], None)
            if call is None:
                return
            if "error" in message:
                error = message["error"]
                text = error.get("message") or "error %s" % error.get("code")
                if error.get("data"):
                    text = "%s (%s)" % (text, error["data"])
                call.fail(_command_error(call, text))
            else:
                call.result = message.get("result") or {}
                call.done.set()
            return
        method = message.get("method")
        params = message.get("params") or {}
        session_id = message.get("sessionId")
        if session_id:
            page = self._pages.get(session_id)
            if page is not None:
                page._on_event(method, params)
            return
        if method == "Target.targetCrashed":
            for page in self._pages_of_target(params.get("targetId")):
                page._set_lost("tab crashed (%s)" % params.get("status", "crashed"))
        elif method == "Target.detachedFromTarget":
            page = self._pages.get(params.get("sessionId"))
            if page is not None:
                page._set_lost("invalid session id: the page was detached from its target")

    def _pages_of_target(self, target_id):
        return [page for page in list(self._pages.values()) if page.target_id == target_id]

    def _lose(self, reason):
        """The connection is gone: every waiting caller and every page learns it now."""
        with self._lock:
            if self._gone is None:
                self._gone = reason
            pending, self._pending = self._pending, {}
            pages = list(self._pages.values())
        for call in pending.values():
            call.fail(InvalidSessionIdException(self._gone))
        for page in pages:
            page._wake()

    def _fail_session(self, session_id, error):
        with self._lock:
            calls = [(key, call) for key, call in self._pending.items() if call.session_id == session_id]
            for key, dummy in calls:
                del self._pending[key]
        for dummy, call in calls:
            call.fail(error)

    def _start(self, method, params=None, session_id=None):
        """Send a command; the :class:`_Call` to wait on."""
        call = _Call(method, session_id)
        with self._lock:
            if self._gone is not None:
                raise InvalidSessionIdException(self._gone)
            if self._closed:
                raise InvalidSessionIdException("chrome not reachable: Chromium was closed")
            command_id = next(self._ids)
            self._pending[command_id] = call
        message = {"id": command_id, "method": method, "params": params or {}}
        if session_id:
            message["sessionId"] = session_id
        data = json.dumps(message).encode("utf-8") + b"\0"
        try:
            with self._write_lock:
                view = memoryview(data)
                while view:
                    written = os.write(self._write_fd, view)
                    view = view[written:]
        except (OSError, TypeError) as exc:
            self._lose("chrome not reachable: cannot write to the DevTools pipe (%s)" % exc)
            raise InvalidSessionIdException(self._gone)
        return call, command_id

    def _finish(self, started, timeout, timeout_message=None):
        """Wait for a started command's result."""
        call, command_id = started
        deadline = time.monotonic() + timeout
        while not call.done.is_set():
            left = deadline - time.monotonic()
            if left <= 0:
                with self._lock:
                    self._pending.pop(command_id, None)
                if call.done.is_set():
                    break
                raise TimeoutException(timeout_message or "timeout: %s got no answer from Chromium within %.1fs"
                                       % (call.method, timeout))
            if call.done.wait(min(left, _LIVENESS_POLL)):
                break
            if self._gone is None and self._exited():
                self._lose("chrome not reachable: the Chromium process (pid %s) has ended" % self.pid)
        if call.error is not None:
            raise call.error
        return call.result

    def send(self, method, params=None, session_id=None, timeout=COMMAND_TIMEOUT):
        """Run one DevTools command (on ``session_id``, else on the browser); its ``result`` dict.

        Raises :class:`WebDriverException` with Chromium's message when the command fails,
        :class:`TimeoutException` when no answer came within ``timeout`` seconds and
        :class:`InvalidSessionIdException` when Chromium is gone."""
        return self._finish(self._start(method, params, session_id), timeout)

    # -- pages --------------------------------------------------------------------------

    def new_page(self, timeout=COMMAND_TIMEOUT):
        """A blank :class:`Page` in a new browser context of its own."""
        context_id = self.send("Target.createBrowserContext", {"disposeOnDetach": True},
                               timeout=timeout)["browserContextId"]
        page = None
        try:
            target_id = self.send("Target.createTarget", {"url": "about:blank", "browserContextId": context_id},
                                  timeout=timeout)["targetId"]
            page = Page(self, context_id, target_id)
            session_id = self.send("Target.attachToTarget", {"targetId": target_id, "flatten": True},
                                   timeout=timeout)["sessionId"]
            page._attach(session_id)
            with self._lock:
                self._pages[session_id] = page
            started = [self._start(method, params, session_id) for method, params in (
                ("Page.enable", None), ("Runtime.enable", None), ("Log.enable", None),
                ("Page.setLifecycleEventsEnabled", {"enabled": True}),
                # Every page believes it has the focus, as a lone window would: focus and key
                # events reach the focused element in all the pages at once.
                ("Emulation.setFocusEmulationEnabled", {"enabled": True}),
            )]
            for call in started:
                self._finish(call, timeout)
        except Exception:
            if page is not None:
                page.quit()
            else:
                self._dispose_context(context_id)
            raise
        return page

    def _dispose_context(self, context_id):
        if self._gone is not None or self._closed:
            return
        try:
            self.send("Target.disposeBrowserContext", {"browserContextId": context_id}, timeout=10)
        except WebDriverException:
            pass

    def _forget_page(self, page):
        with self._lock:
            if self._pages.get(page.session_id) is page:
                del self._pages[page.session_id]

    @property
    def pages(self):
        """The pages not yet quit."""
        with self._lock:
            return list(self._pages.values())

    def close(self):
        """Close Chromium (Browser.close, then terminate and kill what is left of it) and remove its
        profile directory. Safe to call more than once."""
        with self._lock:
            if self._closed:
                return
            running = self._gone is None and self.pid is not None
        if running and not self._exited():
            try:
                self.send("Browser.close", timeout=5)
            except WebDriverException:
                pass
        with self._lock:
            self._closed = True
        if self.pid is not None:
            ended = self._wait_exit(5)
            if not ended:
                self._signal_group(signal.SIGTERM)
                ended = self._wait_exit(3)
            # Helper processes (zygotes, renderers) share the browser's process group; the group
            # cannot be reused while the (unreaped) browser process holds its number.
            self._signal_group(signal.SIGKILL)
            self._reap(5)
        self._lose("chrome not reachable: Chromium was closed")
        if self._write_fd is not None:
            try:
                os.close(self._write_fd)
            except OSError:
                pass
            self._write_fd = None
        if self._reader is None and self._read_fd is not None:
            try:
                os.close(self._read_fd)  # Chromium never started: no reader to close it
            except OSError:
                pass
            self._read_fd = None
        elif self._reader is not None and self._reader is not threading.current_thread():
            self._reader.join(5)
        shutil.rmtree(self.profile, ignore_errors=True)

    def _wait_exit(self, timeout):
        deadline = time.monotonic() + timeout
        while not self._exited():
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.05)
        return True

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


def _command_error(call, text):
    if call.session_id and "session with given id not found" in text.lower():
        return InvalidSessionIdException("invalid session id: %s" % text)
    return WebDriverException("%s: %s" % (call.method, text))


class Page(object):
    """One tab in a browser context of its own: the drop-in replacement of a Selenium driver."""

    def __init__(self, browser, context_id, target_id):
        self.browser = browser
        self.context_id = context_id
        self.target_id = target_id
        self.session_id = None
        self.page_load_timeout = DEFAULT_PAGE_LOAD_TIMEOUT
        self.script_timeout = DEFAULT_SCRIPT_TIMEOUT
        self._cond = threading.Condition()
        self._loaders = collections.OrderedDict()
        self._log = collections.deque(maxlen=_MAX_LOG_ENTRIES)
        self._lost = None
        self._quit = False

    def _attach(self, session_id):
        self.session_id = session_id

    # -- events (called in the reader thread: nothing here may wait for Chromium) ---------

    def _wake(self):
        with self._cond:
            self._cond.notify_all()

    def _set_lost(self, reason):
        with self._cond:
            if self._lost is None and not self._quit:
                self._lost = reason
            self._cond.notify_all()
        if self._lost is not None:
            self.browser._fail_session(self.session_id, InvalidSessionIdException(self._lost))

    def _on_event(self, method, params):
        if method == "Page.lifecycleEvent":
            if params.get("frameId") == self.target_id:
                with self._cond:
                    names = self._loaders.get(params.get("loaderId"))
                    if names is None:
                        names = self._loaders[params.get("loaderId")] = set()
                        while len(self._loaders) > 50:
                            self._loaders.popitem(last=False)
                    names.add(params.get("name"))
                    self._cond.notify_all()
        elif method == "Log.entryAdded":
            self._add_log_entry(params.get("entry") or {})
        elif method == "Runtime.consoleAPICalled":
            self._add_console_call(params)
        elif method == "Runtime.exceptionThrown":
            self._add_exception(params)
        elif method == "Inspector.targetCrashed":
            self._set_lost("tab crashed")
        elif method == "Inspector.detached":
            self._set_lost("invalid session id: the page was detached (%s)" % params.get("reason", "unknown"))
        elif method == "Page.javascriptDialogOpening":
            self._dismiss_dialog(params)

    def _append_log(self, level, message, source, timestamp):
        with self._cond:
            self._log.append({"level": level, "message": message, "source": source,
                              "timestamp": int(timestamp or time.time() * 1000)})

    def _add_log_entry(self, entry):
        # chromedriver's format: "<url or source> <line or -> <text>", so a failed resource load
        # reads "<url> - Failed to load resource: ...".
        line = entry.get("lineNumber")
        message = "%s %s %s" % (entry.get("url") or entry.get("source", "other"),
                                line if isinstance(line, int) and line >= 0 else "-", entry.get("text", ""))
        self._append_log(_LOG_LEVELS.get(entry.get("level"), "INFO"), message, entry.get("source", "other"),
                         entry.get("timestamp"))

    def _add_console_call(self, params):
        # "<url> <line>:<column> <arguments>", line and column as DevTools gives them (from 0).
        frames = (params.get("stackTrace") or {}).get("callFrames") or []
        where = "console-api -"
        if frames:
            where = "%s %d:%d" % (frames[0].get("url") or "console-api", frames[0].get("lineNumber", 0),
                                  frames[0].get("columnNumber", 0))
        text = " ".join(_remote_text(arg) for arg in params.get("args") or [])
        self._append_log(_CONSOLE_LEVELS.get(params.get("type"), "INFO"), "%s %s" % (where, text), "console-api",
                         params.get("timestamp"))

    def _add_exception(self, params):
        # "<url> <line>:<column> Uncaught <class>: <message>", as chromedriver reports it.
        details = params.get("exceptionDetails") or {}
        exception = details.get("exception") or {}
        text = None
        for prop in (exception.get("preview") or {}).get("properties") or []:
            if prop.get("name") == "message" and isinstance(prop.get("value"), str):
                text = "Uncaught %s: %s" % (exception.get("className") or "Error", prop["value"])
                break
        if text is None:
            text = details.get("text") or "Uncaught"
            shown = exception.get("description") or (json.dumps(exception["value"]) if "value" in exception else "")
            shown = shown.splitlines()[0] if shown else ""
            if shown and shown not in text:
                text = "%s %s" % (text, shown)
        message = "%s %d:%d %s" % (details.get("url") or "javascript", details.get("lineNumber", 0),
                                   details.get("columnNumber", 0), text)
        self._append_log("SEVERE", message, "javascript", params.get("timestamp"))

    def _dismiss_dialog(self, params):
        """Close an alert/confirm/prompt (``beforeunload``: leave the page), as chromedriver's
        default "dismiss and notify" does, without waiting in the reader thread."""
        self._append_log("WARNING", "%s dialog dismissed: %s" % (params.get("type"), params.get("message", "")),
                         "other", None)
        accept = params.get("type") == "beforeunload"

        def handle():
            try:
                self._command("Page.handleJavaScriptDialog", {"accept": accept}, timeout=10)
            except WebDriverException:
                pass
        thread = threading.Thread(target=handle, name="cdp-dialog")
        thread.daemon = True
        thread.start()

    # -- commands -----------------------------------------------------------------------

    @property
    def lost(self):
        """Whether the page's tab crashed or was detached, or the whole Chromium is gone."""
        return self._lost is not None or self.browser._gone is not None

    def _check(self):
        if self._lost is not None:
            raise InvalidSessionIdException(self._lost)
        if self.browser._gone is not None:
            raise InvalidSessionIdException(self.browser._gone)
        if self._quit:
            raise InvalidSessionIdException("invalid session id: the page was quit")

    def _command(self, method, params=None, timeout=COMMAND_TIMEOUT, timeout_message=None):
        return self._commands([(method, params)], timeout, timeout_message)[0]

    def _commands(self, commands, timeout=COMMAND_TIMEOUT, timeout_message=None):
        """Several commands sent at once and their results, in order: Chromium handles the commands of a
        session in the order they come, so typing a word costs one round trip to it, not one per key
        (which, with Chromium busy, is what made a smoke slow)."""
        self._check()
        started = [self.browser._start(method, params, self.session_id) for method, params in commands]
        if self._lost is not None:
            self.browser._fail_session(self.session_id, InvalidSessionIdException(self._lost))
        try:
            return [self.browser._finish(call, timeout, timeout_message) for call in started]
        except TimeoutException:
            self._check()
            raise
        except InvalidSessionIdException as exc:
            if self.browser._gone is None:
                self._set_lost(exc.msg)  # Chromium no longer knows the page's session
            raise

    def execute_cdp_cmd(self, method, params=None):
        """A DevTools command on this page's session; its result dict."""
        return self._command(method, params or {})

    def set_page_load_timeout(self, seconds):
        self.page_load_timeout = float(seconds)

    def set_script_timeout(self, seconds):
        self.script_timeout = float(seconds)

    def get(self, url):
        """Load ``url`` and wait for its load event (at most the page-load timeout). A network error
        is not raised: Chromium shows its error page (``chrome-error://``), as a person would see."""
        timeout = self.page_load_timeout
        deadline = time.monotonic() + timeout
        message = "timeout: Timed out receiving message from renderer: %.3f" % timeout
        result = self._command("Page.navigate", {"url": url}, timeout=timeout, timeout_message=message)
        loader = result.get("loaderId")
        if not loader:
            return  # a navigation within the document
        if result.get("errorText"):
            # Nothing was loaded: an aborted navigation (204 No Content, a download) leaves the page
            # as it was; any other error shows Chromium's error page, committed under this loader.
            if "ERR_ABORTED" not in result["errorText"]:
                self._wait_load(loader, min(deadline, time.monotonic() + 5), None)
            return
        self._wait_load(loader, deadline, message)

    def _wait_load(self, loader, deadline, timeout_message):
        """Wait for the load of ``loader``, or of a navigation that started after it."""
        while True:
            with self._cond:
                self._check()
                if loader in self._loaders:
                    # Ours, or the last navigation that started after it (a redirect by script).
                    latest = next(reversed(self._loaders))
                    if "load" in self._loaders[latest]:
                        return
                left = deadline - time.monotonic()
                if left <= 0:
                    if timeout_message:
                        raise TimeoutException(timeout_message)
                    return
                self._cond.wait(min(left, _LIVENESS_POLL))
            # Outside the page's lock: _lose wakes every page.
            if self.browser._gone is None and self.browser._exited():
                self.browser._lose("chrome not reachable: the Chromium process (pid %s) has ended" % self.browser.pid)

    def _run_script(self, script, args, is_async):
        timeout = self.script_timeout
        expression = _SCRIPT_WRAPPER % {
            "key": ELEMENT_KEY, "body": script, "args": _js_literal(self._encode(list(args))),
            "is_async": "true" if is_async else "false", "timeout_ms": int(timeout * 1000)}
        message = "script timeout: the script did not finish within %.1fs" % timeout
        try:
            answer = self._command("Runtime.evaluate", {
                "expression": expression, "returnByValue": True, "awaitPromise": is_async,
            }, timeout=timeout + (5 if is_async else 0), timeout_message=message)
        except (InvalidSessionIdException, TimeoutException):
            raise
        except WebDriverException as exc:
            # The document went away under the script (navigation): the answer of a page in between.
            raise JavascriptException("javascript error: %s" % exc.msg)
        if answer.get("exceptionDetails"):
            details = answer["exceptionDetails"]
            text = (details.get("exception") or {}).get("description") or details.get("text") or "error"
            raise JavascriptException("javascript error: %s" % text)
        outcome = (answer.get("result") or {}).get("value")
        if not isinstance(outcome, dict):
            return None
        if "stale" in outcome:
            raise StaleElementReferenceException(outcome["stale"])
        if "error" in outcome:
            raise JavascriptException("javascript error: %s" % outcome["error"])
        if outcome.get("timeout"):
            raise TimeoutException(message)
        return self._decode(outcome.get("ok"))

    def _encode(self, value):
        if isinstance(value, Element):
            if value.page is not self:
                raise StaleElementReferenceException("stale element reference: the element belongs to another page")
            return {ELEMENT_KEY: [value.token, value.index]}
        if isinstance(value, (list, tuple)):
            return [self._encode(item) for item in value]
        if isinstance(value, dict):
            return dict((key, self._encode(item)) for key, item in value.items())
        return value

    def _decode(self, value):
        if isinstance(value, list):
            return [self._decode(item) for item in value]
        if isinstance(value, dict):
            ref = value.get(ELEMENT_KEY)
            if len(value) == 1 and isinstance(ref, list) and len(ref) == 2:
                return Element(self, ref[0], ref[1])
            return dict((key, self._decode(item)) for key, item in value.items())
        return value

    def execute_script(self, script, *args):
        """Run ``script`` (a function body reading ``arguments``) in the page; what it returns.

        Arguments and the result are JSON values; DOM nodes come back as :class:`Element` and an
        :class:`Element` argument arrives as its node. Raises :class:`JavascriptException` when the
        script throws and :class:`StaleElementReferenceException` for an element of a replaced document."""
        return self._run_script(script, args, False)

    def execute_async_script(self, script, *args):
        """Run ``script`` with a callback as its last argument; the value given to the callback.
        :class:`TimeoutException` when the callback is not called within the script timeout."""
        return self._run_script(script, args, True)

    @property
    def title(self):
        return self.execute_script("return document.title;") or ""

    @property
    def current_url(self):
        """The document's URL; on Chromium's error page the URL that failed, as chromedriver gives."""
        url = self.execute_script("return document.URL;") or ""
        if url.startswith("chrome-error://"):
            try:
                history = self._command("Page.getNavigationHistory")
                url = history["entries"][history["currentIndex"]]["url"]
            except (WebDriverException, KeyError, IndexError, TypeError):
                pass
        return url

    def get_screenshot_as_png(self):
        data = self._command("Page.captureScreenshot", {"format": "png"}, timeout=max(self.script_timeout, 30))
        return base64.b64decode(data.get("data") or "")

    def get_log(self, log_type):
        """Entries of the ``browser`` log since the last call (the call clears them), as chromedriver
        reports them: ``level`` (SEVERE for errors), ``message``, ``source``, ``timestamp`` (ms)."""
        if log_type != "browser":
            return []
        self._check()
        with self._cond:
            entries = list(self._log)
            self._log.clear()
        return entries

    def quit(self):
        """Dispose of the page's browser context: its tab, cookies, storage and cache. Safe to call
        twice, and after the page or Chromium crashed."""
        with self._cond:
            if self._quit:
                return
            self._quit = True
            self._cond.notify_all()
        if self.session_id:
            self.browser._fail_session(self.session_id,
                                       InvalidSessionIdException("invalid session id: the page was quit"))
        self.browser._forget_page(self)
        self.browser._dispose_context(self.context_id)

    close = quit

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.quit()
        return False


class Element(object):
    """A DOM node of a page's current document, as a Selenium WebElement is used by the smoke."""

    def __init__(self, page, token, index):
        self.page = page
        self.token = token
        self.index = index

    @property
    def id(self):  # pylint: disable=invalid-name
        return "%s.%s" % (self.token, self.index)

    def __eq__(self, other):
        return isinstance(other, Element) and other.page is self.page and other.id == self.id

    def __ne__(self, other):
        return not self.__eq__(other)

    def __hash__(self):
        return hash((id(self.page), self.id))

    def __repr__(self):
        return "<Element %s>" % self.id

    def _script(self, script, *args):
        return self.page.execute_script(script, self, *args)

    def send_keys(self, *value):
        """Focus the element and type ``value`` key by key, as a user's keyboard would."""
        text = u"".join(u"%s" % part for part in value)
        if not self._script(_FOCUS_SCRIPT):
            raise WebDriverException("element not interactable: the element cannot take the keyboard focus")
        # Every key down and up, in order, sent at once.
        self.page._commands([("Input.dispatchKeyEvent", event) for char in text for event in key_events(char)])

    def click(self):
        """Scroll the element into view and click the middle of its box with the left mouse button."""
        box = self._script(_BOX_SCRIPT)
        if not box or box[2] <= 0 or box[3] <= 0:
            raise WebDriverException("element not interactable: the element has no size and location")
        x = box[0] + box[2] / 2.0
        y = box[1] + box[3] / 2.0
        self.page._commands([
            ("Input.dispatchMouseEvent", {"type": "mouseMoved", "x": x, "y": y, "button": "none"}),
            ("Input.dispatchMouseEvent", {"type": "mousePressed", "x": x, "y": y, "button": "left", "buttons": 1,
                                          "clickCount": 1}),
            ("Input.dispatchMouseEvent", {"type": "mouseReleased", "x": x, "y": y, "button": "left", "buttons": 0,
                                          "clickCount": 1}),
        ])
