# -*- coding: utf-8 -*-
# Copyright: (c) 2026, SOLVEREIGN release engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Headless Chromium over the DevTools protocol (module_utils/cdp.py), with no downloads.

The browser is given as a path (Debian package ``chromium``); nothing else is needed: no
chromedriver, no Selenium. Each smoke gets a page in a browser context of its own (own cookies,
storage and cache, all gone when it ends). Inside :func:`pooled` the smokes of a run share one
Chromium process, a renderer per page; outside it a smoke starts and stops a Chromium of its own.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import contextlib
import os
import re
import threading
import time

from ansible_collections.solvereign.release_ops.plugins.module_utils import cdp
from ansible_collections.solvereign.release_ops.plugins.module_utils.cdp import (  # pylint: disable=unused-import
    InvalidSessionIdException,
    JavascriptException,
    NoSuchElementException,
    StaleElementReferenceException,
    TimeoutException,
    WebDriverException,
)

AUTOMATIC_FAVICON_FAILURE = re.compile(r"^\S+/favicon\.ico - Failed to load resource")
CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")


def find_executable(given, candidates):
    """The first existing executable: ``given`` if set (and nothing else), else a candidate."""
    paths = [given] if given else list(candidates)
    for path in paths:
        if path and os.path.isfile(path) and os.access(path, os.X_OK):
            return path
    return None


def unavailable_reason(chromium_path):
    """(why no browser smoke can run on this controller or None, the resolved Chromium path)."""
    chromium = find_executable(chromium_path, CHROMIUM_CANDIDATES)
    if chromium is None:
        return ("no Chromium on the controller (%s not found; install the chromium package)"
                % (chromium_path or " or ".join(CHROMIUM_CANDIDATES))), None
    return None, chromium


class Browser(object):
    """A page of headless Chromium in a browser context of its own; use as a context manager.

    ``driver`` is the page (it answers the calls the smoke makes of a WebDriver). Inside
    :func:`pooled` the page belongs to the run's shared Chromium, else to a Chromium started for it."""

    def __init__(self, chromium, timeout):
        self.chromium = chromium
        self.timeout = timeout
        self.driver = None
        self._own = None
        self._pool = _POOL[0] if _POOL else None

    def __enter__(self):
        if self._pool is not None:
            self.driver = self._pool.new_page(self.chromium, self.timeout)
        else:
            self._own = cdp.Chromium(self.chromium)
            try:
                self.driver = self._own.new_page(timeout=self.timeout)
            except Exception:
                self._own.close()
                self._own = None
                raise
        self.driver.set_page_load_timeout(self.timeout)
        self.driver.set_script_timeout(self.timeout)
        return self

    def __exit__(self, *exc):
        page, self.driver = self.driver, None
        if page is not None:
            page.quit()
        own, self._own = self._own, None
        if own is not None:
            own.close()
        return False

    def wait(self, condition, timeout=None):
        """Poll ``condition`` (every 0.1 s) until it is truthy; TimeoutException after ``timeout``.
        Errors of a page that is navigating away (stale elements, scripts of an unloading document)
        count as "not yet"."""
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            try:
                value = condition(self.driver)
            except (StaleElementReferenceException, JavascriptException, NoSuchElementException):
                value = False
            if value:
                return value
            if time.monotonic() >= deadline:
                raise TimeoutException("timed out after %.0f s" % (timeout or self.timeout))
            time.sleep(0.1)

    def console_errors(self):
        """Console messages of level SEVERE since the last call, without the failed load of the
        favicon that Chromium requests by itself when a page declares none (not the page's error)."""
        return [entry for entry in self.driver.get_log("browser")
                if entry.get("level") == "SEVERE" and not AUTOMATIC_FAVICON_FAILURE.search(entry.get("message", ""))]


class BrowserPool(object):
    """One Chromium per executable for the smokes of a run, started at the first smoke and again
    when it was lost (crashed, killed); closed with the pool."""

    def __init__(self):
        self._browsers = {}
        self._lock = threading.Lock()

    def new_page(self, chromium, timeout):
        with self._lock:
            browser = self._browsers.get(chromium)
            if browser is None or not browser.alive:
                if browser is not None:
                    browser.close()
                browser = self._browsers[chromium] = cdp.Chromium(chromium)
        return browser.new_page(timeout=timeout)

    def close(self):
        with self._lock:
            browsers, self._browsers = list(self._browsers.values()), {}
        for browser in browsers:
            browser.close()


_POOL = []


@contextlib.contextmanager
def pooled():
    """While open, the Browser pages of this process share one Chromium."""
    pool = BrowserPool()
    _POOL.insert(0, pool)
    try:
        yield pool
    finally:
        _POOL.remove(pool)
        pool.close()


def browser_lost(driver):
    """Whether this page's Chromium is gone (the tab or the browser crashed, or closed its DevTools
    pipe): the answer to a trivial script tells, not the page, so a page that merely failed is not
    taken for a crash."""
    if driver is None:
        return True
    try:
        driver.execute_script("return 1;")
    except InvalidSessionIdException:
        # cdp raises this for a crashed or detached tab and for a Chromium that is gone.
        return True
    except WebDriverException:
        return False
    return False


def load_failure(driver):
    """Chromium's network error (``ERR_...``) when the current document is its error page, else None."""
    try:
        url, text = driver.execute_script(
            "return [document.URL, document.body ? document.body.innerText.slice(0, 500) : ''];")
    except WebDriverException:
        return None
    if not str(url).startswith("chrome-error://"):
        return None
    code = re.search(r"\bERR_[A-Z_]+\b", text or "")
    lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
    detail = lines[1] if len(lines) > 1 else (lines[0] if lines else "")
    return "%s (%s)" % (code.group(0) if code else "network error", detail[:160])


def short_error(exc):
    """First line of a WebDriver error, without the stack trace Chromium appends."""
    text = getattr(exc, "msg", None) or str(exc)
    return " ".join(text.strip().splitlines()[0].split())[:300] if text.strip() else exc.__class__.__name__
