# -*- coding: utf-8 -*-
# Copyright: (c) 2026, SOLVEREIGN release engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Headless Chromium through Selenium, with no downloads.

Selenium is an optional dependency. The browser and driver are given as paths (Debian
packages ``chromium`` and ``chromium-driver``), so Selenium Manager is never asked to fetch
anything, and each run gets a fresh profile directory that is removed afterwards.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import contextlib
import os
import re
import shutil
import tempfile
import threading
import traceback

SELENIUM_IMPORT_ERROR = None
try:
    from selenium import webdriver
    from selenium.common.exceptions import (  # pylint: disable=unused-import
        InvalidSessionIdException,
        JavascriptException,
        NoSuchElementException,
        StaleElementReferenceException,
        TimeoutException,
        WebDriverException,
    )
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.support.ui import WebDriverWait
except ImportError:
    webdriver = None
    SELENIUM_IMPORT_ERROR = traceback.format_exc()

    class WebDriverException(Exception):
        pass

    class TimeoutException(WebDriverException):
        pass

    class JavascriptException(WebDriverException):
        pass

    class InvalidSessionIdException(WebDriverException):
        pass

    class NoSuchElementException(WebDriverException):
        pass

    class StaleElementReferenceException(WebDriverException):
        pass

CHROMIUM_FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage", "--window-size=1280,900",
    # One process instead of a dozen (browser, zygotes, GPU, network, storage, renderers): about
    # 350 MB less resident memory per Chromium, which a run over many environments feels.
    "--single-process", "--no-zygote",
)
AUTOMATIC_FAVICON_FAILURE = re.compile(r"^\S+/favicon\.ico - Failed to load resource")
CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")
DRIVER_CANDIDATES = ("/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver")


def find_executable(given, candidates):
    """The first existing executable: ``given`` if set (and nothing else), else a candidate."""
    paths = [given] if given else list(candidates)
    for path in paths:
        if path and os.path.isfile(path) and os.access(path, os.X_OK):
            return path
    return None


def unavailable_reason(chromium_path, chromedriver_path):
    """Why no browser smoke can run on this controller, or None (with the resolved paths)."""
    if webdriver is None:
        return ("the Python package selenium is not installed on the controller (optional dependency of "
                "the UI smoke: pip install selenium)"), None, None
    chromium = find_executable(chromium_path, CHROMIUM_CANDIDATES)
    if chromium is None:
        return ("no Chromium on the controller (%s not found; install the chromium package)"
                % (chromium_path or " or ".join(CHROMIUM_CANDIDATES))), None, None
    driver = find_executable(chromedriver_path, DRIVER_CANDIDATES)
    if driver is None:
        return ("no chromedriver on the controller (%s not found; install the chromium-driver package)"
                % (chromedriver_path or " or ".join(DRIVER_CANDIDATES))), None, None
    return None, chromium, driver


class Browser(object):
    """A headless Chromium session; use as a context manager.

    Inside :func:`pooled` the session comes from the pool: a Chromium that an earlier check of the
    same run used, with its cookies, storage, cache and console log cleared, else a new one."""

    def __init__(self, chromium, chromedriver, timeout):
        self.chromium = chromium
        self.chromedriver = chromedriver
        self.timeout = timeout
        self.profile = None
        self.driver = None
        self._pool = _POOL[0] if _POOL else None

    def __enter__(self):
        if self._pool is not None:
            reused = self._pool.take(self.chromium, self.chromedriver)
            if reused is not None:
                self.driver, self.profile = reused
                self._limit_waits()
                return self
        self.driver, self.profile = start_chromium(self.chromium, self.chromedriver)
        self._limit_waits()
        return self

    def __exit__(self, *exc):
        if self._pool is not None and self.driver is not None and self._pool.give_back(
                self.chromium, self.chromedriver, self.driver, self.profile):
            self.driver = self.profile = None
            return False
        self._cleanup()
        return False

    def _limit_waits(self):
        self.driver.set_page_load_timeout(self.timeout)
        self.driver.set_script_timeout(self.timeout)

    def _cleanup(self):
        quit_chromium(self.driver, self.profile)
        self.driver = self.profile = None

    def wait(self, condition, timeout=None):
        """Poll ``condition`` until it is truthy. Errors of a page that is navigating away (stale
        elements, scripts of an unloading document) count as "not yet"."""
        def guarded(driver):
            try:
                return condition(driver)
            except (StaleElementReferenceException, JavascriptException, NoSuchElementException):
                return False
        return WebDriverWait(self.driver, timeout or self.timeout, poll_frequency=0.1).until(guarded)

    def console_errors(self):
        """Console messages of level SEVERE since the last call, without the failed load of the
        favicon that Chromium requests by itself when a page declares none (not the page's error)."""
        return [entry for entry in self.driver.get_log("browser")
                if entry.get("level") == "SEVERE" and not AUTOMATIC_FAVICON_FAILURE.search(entry.get("message", ""))]


def start_chromium(chromium, chromedriver):
    """A new headless Chromium with a fresh profile directory: (driver, profile)."""
    profile = tempfile.mkdtemp(prefix="solvereign-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument("--user-data-dir=%s" % profile)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    service = Service(executable_path=chromedriver, log_output=os.devnull)
    try:
        return webdriver.Chrome(service=service, options=options), profile
    except Exception:
        shutil.rmtree(profile, ignore_errors=True)
        raise


def quit_chromium(driver, profile):
    if driver is not None:
        try:
            driver.quit()
        except Exception:
            pass
    if profile:
        shutil.rmtree(profile, ignore_errors=True)


def forget_session(driver):
    """Leave no session of the last check in a Chromium that the next one reuses: a blank page, no
    cookies of any site, no storage of the site it was on, an empty console log. The HTTP cache
    stays (clearing it takes Chromium seconds, and cached files carry no session)."""
    origin = driver.execute_script("return window.location.origin;")
    driver.get("about:blank")
    driver.execute_cdp_cmd("Network.clearBrowserCookies", {})
    if origin and str(origin).startswith(("http://", "https://")):
        driver.execute_cdp_cmd("Storage.clearDataForOrigin", {"origin": origin, "storageTypes": "all"})
    driver.get_log("browser")


class BrowserPool(object):
    """Chromium sessions kept for the next check of the same run; quit when the pool closes."""

    def __init__(self):
        self._idle = []
        self._lock = threading.Lock()

    def take(self, chromium, chromedriver):
        with self._lock:
            for index, (key, driver, profile) in enumerate(self._idle):
                if key == (chromium, chromedriver):
                    del self._idle[index]
                    return driver, profile
        return None

    def give_back(self, chromium, chromedriver, driver, profile):
        """Keep a session whose traces could be cleared; False when it must be quit instead."""
        try:
            forget_session(driver)
        except Exception:
            return False
        with self._lock:
            self._idle.append(((chromium, chromedriver), driver, profile))
        return True

    def close(self):
        with self._lock:
            idle, self._idle = self._idle, []
        for dummy, driver, profile in idle:
            quit_chromium(driver, profile)


_POOL = []


@contextlib.contextmanager
def pooled():
    """While open, Browser sessions of this process reuse the Chromium of earlier checks."""
    pool = BrowserPool()
    _POOL.insert(0, pool)
    try:
        yield pool
    finally:
        _POOL.remove(pool)
        pool.close()


LOST_BROWSER_MARKERS = ("invalid session id", "session deleted", "chrome not reachable", "disconnected:",
                        "tab crashed", "page crash", "browser has closed the connection")


def browser_lost(driver):
    """Whether this Chromium is gone (crashed, or closed its connection to chromedriver): the answer
    to a trivial script tells, not the page, so a page that merely failed is not taken for a crash."""
    if driver is None:
        return True
    try:
        driver.execute_script("return 1;")
    except InvalidSessionIdException:
        return True
    except WebDriverException as exc:
        text = (getattr(exc, "msg", None) or str(exc)).lower()
        return any(marker in text for marker in LOST_BROWSER_MARKERS)
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
