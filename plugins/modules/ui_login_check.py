#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, SOLVEREIGN release engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: ui_login_check
short_description: UI login smoke in headless Chromium (runbook row 4.4)
version_added: 0.2.0
description:
  - Opens the login page in headless Chromium, signs in, and checks that the browser lands on the
    dashboard, that the header shows the user's name and that the browser console logged no errors.
    Saves a screenshot (C(login_smoke.png)) in O(evidence_dir).
  - Uses Selenium with the given Chromium and chromedriver executables, so nothing is downloaded; each
    run gets a fresh temporary profile that is removed afterwards.
  - Without Selenium, Chromium or chromedriver on the controller the row is V(SKIP) with the reason,
    never V(PASS).
  - A page that cannot be loaded, or a login that neither redirects nor shows an error within O(timeout),
    is V(ERROR).
author:
  - SOLVEREIGN release engineering (@solvereign)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - solvereign.release_ops.check_row
attributes:
  platform:
    platforms: posix
options:
  base_url:
    description: Base URL of the environment.
    type: str
    required: true
  email:
    description: E-mail of the test user.
    type: str
    required: true
  password:
    description: Password of the test user; when empty the row is V(ERROR) naming O(password_variable).
    type: str
    default: ""
  password_variable:
    description: Name of the inventory variable that holds the password, used in messages.
    type: str
    default: solvereign_login_password
  login_path:
    description: Path of the login page.
    type: str
    default: /platform/login
  dashboard_path:
    description: Path the login must redirect to.
    type: str
    default: /platform-admin
  me_path:
    description: Session endpoint read (inside the browser) for the expected name when O(expected_name) is empty.
    type: str
    default: /api/auth/me
  logout_path:
    description: Endpoint the browser session is logged out with at the end (best effort); empty to stay logged in.
    type: str
    default: /api/auth/logout
  expected_name:
    description: Name the header must show; empty to read C(display_name) from O(me_path) in the browser.
    type: str
    default: ""
  email_selector:
    description: CSS selector of the e-mail input.
    type: str
    default: "#email"
  password_selector:
    description: CSS selector of the password input.
    type: str
    default: "#password"
  submit_selector:
    description: CSS selector of the submit button.
    type: str
    default: "#login-submit"
  error_selector:
    description: CSS selector of the login error message.
    type: str
    default: "#login-error"
  name_selector:
    description: CSS selector of the header element with the user's name.
    type: str
    default: "header#user-name"
  ignore_console:
    description: Substrings of console errors to ignore.
    type: list
    elements: str
    default: []
  chromium_path:
    description: Chromium executable; empty to look in the usual places.
    type: path
    default: /usr/bin/chromium
  chromedriver_path:
    description: chromedriver executable; empty to look in the usual places.
    type: path
    default: /usr/bin/chromedriver
  timeout:
    description: Seconds to wait for a page load, the redirect and the header.
    type: float
    default: 15
  evidence_dir:
    description: Directory for the screenshot; empty for none.
    type: path
  screenshot_name:
    description: File name of the screenshot.
    type: str
    default: login_smoke.png
requirements:
  - selenium (optional; without it the row is SKIP)
  - Chromium and chromedriver (Debian packages chromium, chromium-driver)
"""

EXAMPLES = r"""
- name: UI login smoke (row 4.4)
  solvereign.release_ops.ui_login_check:
    check_id: "4.4"
    check_title: UI login smoke
    environment: staging
    base_url: https://staging.solvereign.example.com
    email: dispatcher@lts.at
    password: "{{ solvereign_login_password }}"
    expected_name: Dana Dispatcher
    evidence_dir: release_evidence/v3.7.0
  delegate_to: localhost
"""

RETURN = r"""
row:
  description: The checklist row (id, environment, title, status, summary, findings, started_at, duration_s).
  returned: always
  type: dict
  contains:
    status:
      description: Worst status of the findings.
      type: str
      choices: [PASS, WARN, FAIL, ERROR, SKIP]
    summary:
      description: One line that says why the row has its status.
      type: str
    findings:
      description: One entry per thing looked at, each with C(name), C(status) and C(message).
      type: list
      elements: dict
status:
  description: Same as RV(row.status).
  returned: always
  type: str
screenshot:
  description: Path of the screenshot, if one was saved.
  returned: always
  type: str
"""

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.solvereign.release_ops.plugins.module_utils import browser as br
from ansible_collections.solvereign.release_ops.plugins.module_utils.http_client import join_url
from ansible_collections.solvereign.release_ops.plugins.module_utils.redact import redact_text
from ansible_collections.solvereign.release_ops.plugins.module_utils.result import (
    check_common_argument_spec,
    exit_with_row,
    new_row,
)

try:
    from urllib.parse import urlsplit
except ImportError:  # pragma: no cover
    from urlparse import urlsplit

READ_ME_SCRIPT = """
var done = arguments[arguments.length - 1];
fetch(arguments[0], {credentials: 'same-origin'}).then(function (r) {
  return r.ok ? r.json() : null;
}).then(function (user) { done(user); }).catch(function () { done(null); });
"""
LOGOUT_SCRIPT = """
var done = arguments[arguments.length - 1];
fetch(arguments[0], {method: 'POST', credentials: 'same-origin'}).then(function (r) { done(r.status); })
  .catch(function () { done(null); });
"""


def run_smoke(module, row, session, secrets):
    p = module.params
    driver = session.driver
    login_url = join_url(p["base_url"], p["login_path"])

    def redact(text):
        return redact_text(text, secrets)

    try:
        driver.get(login_url)
    except br.WebDriverException as exc:
        row.error("login page", "cannot load %s: %s" % (login_url, redact(br.short_error(exc))))
        return
    failure = br.load_failure(driver)
    if failure:
        row.error("login page", "cannot load %s: %s" % (login_url, redact(failure)))
        return
    fields = [(name, key, session.find(p[key])) for name, key in (
        ("e-mail input", "email_selector"), ("password input", "password_selector"), ("submit button", "submit_selector"))]
    missing = ["%s (%s)" % (name, p[key]) for name, key, element in fields if element is None]
    if missing:
        row.fail("login page", "%s has no %s (page title %r)" % (p["login_path"], ", ".join(missing), driver.title))
        return
    row.passed("login page", "%s loaded (title %r)" % (p["login_path"], driver.title))
    # Mark this document: finding the login page again without the mark means the browser
    # navigated away and was sent back (typically: the session cookie was not kept).
    driver.execute_script("window.__releaseOpsLoginPage = true;")
    fields[0][2].send_keys(p["email"])
    fields[1][2].send_keys(p["password"])
    fields[2][2].click()

    def arrived_or_refused(drv):
        if br.load_failure(drv):
            return "neterror"
        path = urlsplit(drv.current_url).path.rstrip("/")
        if path == p["dashboard_path"].rstrip("/"):
            return "dashboard"
        if path == p["login_path"].rstrip("/") and drv.execute_script(
                "return document.readyState === 'complete' && !window.__releaseOpsLoginPage;"):
            return "bounced"
        box = session.find(p["error_selector"])
        if box is not None and box.is_displayed() and box.text.strip():
            return "error"
        return False

    try:
        outcome = session.wait(arrived_or_refused)
    except br.TimeoutException:
        row.error("redirect", "the login neither reached %s nor showed an error within %.0fs (still on %s)"
                  % (p["dashboard_path"], p["timeout"], redact(urlsplit(driver.current_url).path)))
        return
    if outcome == "neterror":
        row.error("redirect", "after the login Chromium could not load %s: %s"
                  % (redact(driver.current_url), redact(br.load_failure(driver) or "error page")))
        return
    if outcome == "bounced":
        row.fail("redirect", "the login was sent back to %s instead of staying on %s: the browser did not keep "
                 "the session (check the session cookie's Secure/SameSite/Domain settings)"
                 % (p["login_path"], p["dashboard_path"]))
        return
    if outcome == "error":
        row.fail("redirect", "the login page shows %r instead of redirecting to %s"
                 % (redact(session.find(p["error_selector"]).text.strip()), p["dashboard_path"]))
        return
    row.passed("redirect", "redirected to %s" % p["dashboard_path"])

    expected = p["expected_name"]
    if not expected:
        try:
            user = driver.execute_async_script(READ_ME_SCRIPT, p["me_path"])
        except br.WebDriverException:
            user = None
        expected = (user or {}).get("display_name") or (user or {}).get("name") or ""
    if not expected:
        row.error("user name", "no expected name: expected_name is empty and %s gave no display_name" % p["me_path"])
    else:
        def name_shown(drv):
            element = session.find(p["name_selector"])
            return element is not None and expected in element.text
        try:
            session.wait(name_shown)
            row.passed("user name", "%s shows %r" % (p["name_selector"], expected))
        except br.TimeoutException:
            element = session.find(p["name_selector"])
            shown = element.text.strip() if element is not None else None
            row.fail("user name", "%s shows %s, expected %r" % (
                p["name_selector"], repr(shown) if element is not None else "nothing (element not found)", expected))


def main():
    argument_spec = check_common_argument_spec()
    argument_spec.update(
        base_url=dict(type="str", required=True),
        email=dict(type="str", required=True),
        password=dict(type="str", default="", no_log=True),
        password_variable=dict(type="str", default="solvereign_login_password", no_log=False),
        login_path=dict(type="str", default="/platform/login"),
        dashboard_path=dict(type="str", default="/platform-admin"),
        me_path=dict(type="str", default="/api/auth/me"),
        logout_path=dict(type="str", default="/api/auth/logout"),
        expected_name=dict(type="str", default=""),
        email_selector=dict(type="str", default="#email"),
        password_selector=dict(type="str", default="#password", no_log=False),
        submit_selector=dict(type="str", default="#login-submit"),
        error_selector=dict(type="str", default="#login-error"),
        name_selector=dict(type="str", default="header#user-name"),
        ignore_console=dict(type="list", elements="str", default=[]),
        chromium_path=dict(type="path", default="/usr/bin/chromium"),
        chromedriver_path=dict(type="path", default="/usr/bin/chromedriver"),
        timeout=dict(type="float", default=15.0),
        evidence_dir=dict(type="path"),
        screenshot_name=dict(type="str", default="login_smoke.png"),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    p = module.params
    row = new_row(module)
    secrets = tuple(module.no_log_values)
    if not p["password"]:
        row.error("login", "no password for %s: set %s in the inventory (vault)" % (p["email"], p["password_variable"]))
        exit_with_row(module, row, screenshot=None)
    reason, chromium, chromedriver = br.unavailable_reason(p["chromium_path"], p["chromedriver_path"])
    if reason:
        row.mark_skipped("UI login smoke not run: %s" % reason)
        exit_with_row(module, row, screenshot=None)

    screenshot = None
    try:
        with br.Browser(chromium, chromedriver, p["timeout"]) as session:
            run_smoke(module, row, session, secrets)
            errors = []
            try:
                errors = [e for e in session.console_errors()
                          if not any(s in e.get("message", "") for s in p["ignore_console"])]
            except br.WebDriverException as exc:
                row.error("console", "cannot read the browser console: %s" % br.short_error(exc))
            else:
                if errors:
                    shown = "; ".join(" ".join(e.get("message", "").split())[:200] for e in errors[:3])
                    row.fail("console", "%d console error(s): %s" % (len(errors), redact_text(shown, secrets)))
                else:
                    row.passed("console", "no console errors")
            if p["evidence_dir"]:
                try:
                    os.makedirs(p["evidence_dir"], exist_ok=True)
                    path = os.path.join(p["evidence_dir"], p["screenshot_name"])
                    if session.driver.save_screenshot(path):
                        screenshot = path
                        row.passed("screenshot", "saved %s" % p["screenshot_name"])
                    else:
                        row.warn("screenshot", "Chromium did not save %s" % p["screenshot_name"])
                except (OSError, br.WebDriverException) as exc:
                    row.warn("screenshot", "cannot save %s: %s" % (p["screenshot_name"], br.short_error(exc)))
            if p["logout_path"]:
                try:
                    session.driver.execute_async_script(LOGOUT_SCRIPT, p["logout_path"])
                except br.WebDriverException:
                    pass
    except br.WebDriverException as exc:
        row.error("browser", "Chromium/chromedriver failed: %s" % redact_text(br.short_error(exc), secrets))
    except OSError as exc:
        row.error("browser", "cannot start chromedriver %s: %s" % (chromedriver, exc))
    exit_with_row(module, row, screenshot=screenshot)


if __name__ == "__main__":
    main()
