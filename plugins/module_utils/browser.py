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

import os
import re
import shutil
import tempfile
import traceback

SELENIUM_IMPORT_ERROR = None
try:
    from selenium import webdriver
    from selenium.common.exceptions import (  # pylint: disable=unused-import
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

    class NoSuchElementException(WebDriverException):
        pass

    class StaleElementReferenceException(WebDriverException):
        pass

CHROMIUM_FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage", "--window-size=1280,900",
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
    """A headless Chromium session; use as a context manager."""

    def __init__(self, chromium, chromedriver, timeout):
        self.chromium = chromium
        self.chromedriver = chromedriver
        self.timeout = timeout
        self.profile = None
        self.driver = None

    def __enter__(self):
        self.profile = tempfile.mkdtemp(prefix="solvereign-chromium-")
        options = webdriver.ChromeOptions()
        options.binary_location = self.chromium
        for flag in CHROMIUM_FLAGS:
            options.add_argument(flag)
        options.add_argument("--user-data-dir=%s" % self.profile)
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        service = Service(executable_path=self.chromedriver, log_output=os.devnull)
        try:
            self.driver = webdriver.Chrome(service=service, options=options)
        except Exception:
            self._cleanup()
            raise
        self.driver.set_page_load_timeout(self.timeout)
        self.driver.set_script_timeout(self.timeout)
        return self

    def __exit__(self, *exc):
        self._cleanup()
        return False

    def _cleanup(self):
        if self.driver is not None:
            try:
                self.driver.quit()
            except Exception:
                pass
            self.driver = None
        if self.profile:
            shutil.rmtree(self.profile, ignore_errors=True)
            self.profile = None

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
