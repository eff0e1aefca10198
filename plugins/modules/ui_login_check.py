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
  - Drives the given Chromium executable over the DevTools protocol (a pipe, no port, no chromedriver),
    so nothing is downloaded. Each smoke runs in a browser context of its own (own cookies, storage and
    cache, gone when it ends) in a temporary profile that is removed afterwards. Run by
    M(solvereign.release_ops.run_checks), the smokes of all environments share one Chromium, a
    renderer per smoke.
  - Without Chromium on the controller the row is V(SKIP) with the reason, never V(PASS).
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
    description:
      - CSS selector of the e-mail input.
      - Empty to find it as a person would on any conventional login form, in this order (visible
        inputs only) C(type=email), C(autocomplete=username) or C(autocomplete=email),
        C(name=email), C(name=username), then the input whose C(<label>) says e-mail, user name or
        login; inputs in the password field's form come first.
    type: str
    default: ""
  password_selector:
    description: CSS selector of the password input; empty for the visible C(input[type=password]).
    type: str
    default: ""
  submit_selector:
    description:
      - CSS selector of the control that submits the login.
      - Empty to use the password form's own submit control (a C(<button>) of type submit, which a
        button without a type is, or an C(<input type=submit>)); a form without one is submitted as a
        submit button would (C(form.requestSubmit())).
    type: str
    default: ""
  error_selector:
    description:
      - CSS selector of the login error message.
      - Empty to watch the visible, non-empty C([role=alert]), C(aria-live) regions and
        C(.error)/C(.alert) elements of the page.
    type: str
    default: ""
  name_selector:
    description:
      - CSS selector of the element that must show the user's name.
      - Empty for the text of the page's C(<header>) (and C([role=banner])) elements, which is what
        the runbook's "user name displayed in header" means.
    type: str
    default: ""
  settle:
    description:
      - Seconds the browser must stay on a page other than the login page and O(dashboard_path)
        before the login counts as having redirected elsewhere (FAIL).
    type: float
    default: 3
  ignore_console:
    description:
      - Substrings of console errors to ignore.
      - The failed load of C(/favicon.ico), which Chromium requests by itself for a page that declares
        no icon, is never counted.
    type: list
    elements: str
    default: []
  chromium_path:
    description: Chromium executable; empty to look in the usual places.
    type: path
    default: /usr/bin/chromium
  chromedriver_path:
    description:
      - Not used any more (Chromium is driven directly over the DevTools protocol); accepted so that
        playbooks that set it keep working.
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
  - Chromium (Debian package chromium); without it the row is SKIP
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

import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.solvereign.release_ops.plugins.module_utils import browser as br
from ansible_collections.solvereign.release_ops.plugins.module_utils.http_client import join_url
from ansible_collections.solvereign.release_ops.plugins.module_utils.redact import redact_text
from ansible_collections.solvereign.release_ops.plugins.module_utils.result import (
    ERROR,
    check_common_argument_spec,
    exit_with_row,
    new_row,
    write_evidence,
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
# Finds the login form's controls as a person would; explicit selectors win. Returns
# [email, password, submit, form, descriptions]; a control that was not found is null.
LOCATE_LOGIN_FORM_SCRIPT = """
var given = arguments[0];
function visible(el) {
  if (!el || el.disabled) { return false; }
  var box = el.getBoundingClientRect(), style = window.getComputedStyle(el);
  return box.width > 0 && box.height > 0 && style.visibility !== 'hidden' && style.display !== 'none';
}
function firstVisible(list) {
  for (var i = 0; i < list.length; i++) { if (visible(list[i])) { return list[i]; } }
  return null;
}
function describe(el) {
  if (!el) { return null; }
  var text = el.tagName.toLowerCase();
  ['type', 'name', 'id', 'autocomplete', 'data-testid'].forEach(function (attr) {
    if (el.getAttribute(attr)) { text += '[' + attr + '=' + el.getAttribute(attr) + ']'; }
  });
  return text;
}
function textInput(el) {
  return el && el.tagName === 'INPUT' && ['password', 'hidden', 'submit', 'button', 'checkbox', 'radio']
    .indexOf((el.type || '').toLowerCase()) < 0;
}
var password = firstVisible(document.querySelectorAll(given.password || 'input[type=password]'));
var form = password ? password.form : null;
var scopes = form ? [form, document] : [document];
var email = null;
if (given.email) {
  email = firstVisible(document.querySelectorAll(given.email));
} else {
  var lookups = ['input[type=email]', 'input[autocomplete~=username]', 'input[autocomplete~=email]',
                 'input[name=email i]', 'input[name=username i]'];
  for (var s = 0; s < scopes.length && !email; s++) {
    for (var i = 0; i < lookups.length && !email; i++) {
      email = firstVisible(scopes[s].querySelectorAll(lookups[i]));
    }
    var labels = scopes[s].querySelectorAll('label');
    for (var j = 0; j < labels.length && !email; j++) {
      if (/e-?mail|user\\s*name|login/i.test(labels[j].textContent) && textInput(labels[j].control)
          && visible(labels[j].control)) {
        email = labels[j].control;
      }
    }
  }
}
var submit = null, how = null;
if (given.submit) {
  submit = firstVisible(document.querySelectorAll(given.submit));
} else if (form) {
  for (var k = 0; k < form.elements.length && !submit; k++) {
    var el = form.elements[k], type = (el.type || '').toLowerCase();
    if (((el.tagName === 'BUTTON' && type === 'submit') || (el.tagName === 'INPUT' && (type === 'submit'
        || type === 'image'))) && visible(el)) {
      submit = el;
    }
  }
  if (!submit) { how = 'form submit (the form has no submit button)'; }
}
return [email, password, submit, form, [describe(email), describe(password), how || describe(submit)]];
"""
# The visible login error message, or ''.
LOGIN_ERROR_SCRIPT = """
var nodes = document.querySelectorAll(arguments[0] ||
  '[role=alert], [aria-live=assertive], [aria-live=polite], .error, .alert, .alert-danger, .invalid-feedback');
for (var i = 0; i < nodes.length; i++) {
  var box = nodes[i].getBoundingClientRect(), text = (nodes[i].innerText || '').trim();
  if (text && box.width > 0 && box.height > 0) { return text; }
}
return '';
"""
# The text the user's name must appear in: the element of the selector, else every header.
HEADER_TEXT_SCRIPT = """
var nodes = arguments[0] ? document.querySelectorAll(arguments[0])
                         : document.querySelectorAll('header, [role=banner]');
if (!nodes.length) { return null; }
return Array.prototype.map.call(nodes, function (n) { return n.innerText || n.textContent || ''; }).join(' | ');
"""
LOGOUT_SCRIPT = """
var done = arguments[arguments.length - 1];
fetch(arguments[0], {method: 'POST', credentials: 'same-origin'}).then(function (r) { done(r.status); })
  .catch(function () { done(null); });
"""


def locate_login_form(driver, params):
    """(email, password, submit, form, descriptions) of the login page; see LOCATE_LOGIN_FORM_SCRIPT."""
    given = {"email": params["email_selector"], "password": params["password_selector"],
             "submit": params["submit_selector"]}
    return driver.execute_script(LOCATE_LOGIN_FORM_SCRIPT, given)


def login_error(driver, params):
    return (driver.execute_script(LOGIN_ERROR_SCRIPT, params["error_selector"]) or "").strip()


def header_text(driver, params):
    """Whitespace-normalised text of the name element(s), or None when the page has none."""
    text = driver.execute_script(HEADER_TEXT_SCRIPT, params["name_selector"])
    return None if text is None else " ".join(text.split())


def run_smoke(module, row, session, secrets):
    p = module.params
    driver = session.driver
    login_url = join_url(p["base_url"], p["login_path"])
    login_path = p["login_path"].rstrip("/")
    dashboard_path = p["dashboard_path"].rstrip("/")

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
    email, password, submit, form, described = locate_login_form(driver, p)
    missing = []
    if email is None:
        missing.append("e-mail input (%s)" % (p["email_selector"] or "no type=email, autocomplete=username, "
                                              "name=email|username or labelled e-mail/user name field"))
    if password is None:
        missing.append("password input (%s)" % (p["password_selector"] or "input[type=password]"))
    if submit is None and (p["submit_selector"] or form is None):
        missing.append("submit button (%s)" % (p["submit_selector"] or "the password field is in no form"))
    if missing:
        row.fail("login page", "%s has no %s (page title %r)" % (p["login_path"], ", ".join(missing), driver.title))
        return
    row.passed("login page", "%s loaded (title %r)" % (p["login_path"], driver.title),
               controls={"email": described[0], "password": described[1], "submit": described[2]})
    # Mark this document: finding the login page again without the mark means the browser
    # navigated away and was sent back (typically: the session cookie was not kept).
    driver.execute_script("window.__releaseOpsLoginPage = true;")
    email.send_keys(p["email"])
    password.send_keys(p["password"])
    if submit is not None:
        submit.click()
    else:
        driver.execute_script("arguments[0].requestSubmit();", form)

    other_page = {}

    def arrived_or_refused(drv):
        if br.load_failure(drv):
            return "neterror"
        # One script, so that the path, the load state and the mark all come from the same document.
        path, complete, marked = drv.execute_script(
            "return [location.pathname, document.readyState === 'complete', !!window.__releaseOpsLoginPage];")
        path = path.rstrip("/")
        if path == dashboard_path:
            return "dashboard"
        if path == login_path:
            if complete and not marked:
                return "bounced"
            if login_error(drv, p):
                return "error"
            return False
        # Another page: a login that passes through it (an SSO callback) moves on; one that stays is elsewhere.
        if not complete:
            return False
        since = other_page.setdefault(path, time.monotonic())
        return "elsewhere" if time.monotonic() - since >= p["settle"] else False

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
                 % (redact(login_error(driver, p)), p["dashboard_path"]))
        return
    if outcome == "elsewhere":
        row.fail("redirect", "the login landed on %s and stayed there, expected %s"
                 % (redact(urlsplit(driver.current_url).path), p["dashboard_path"]))
        return
    row.passed("redirect", "redirected to %s" % p["dashboard_path"])
    check_user_name(row, session, p)


def check_user_name(row, session, p):
    driver = session.driver
    where = p["name_selector"] or "the page header"
    expected = p["expected_name"]
    if not expected:
        try:
            user = driver.execute_async_script(READ_ME_SCRIPT, p["me_path"])
        except br.WebDriverException:
            user = None
        expected = (user or {}).get("display_name") or (user or {}).get("name") or ""
    if not expected:
        row.error("user name", "no expected name: expected_name is empty and %s gave no display_name" % p["me_path"])
        return
    wanted = " ".join(expected.split())
    try:
        session.wait(lambda drv: wanted in (header_text(drv, p) or ""))
        row.passed("user name", "%s shows %r" % (where, expected))
    except br.TimeoutException:
        shown = header_text(driver, p)
        if shown is None:
            row.fail("user name", "%s has no %s to show the user's name in (set name_selector if it is elsewhere)"
                     % (p["dashboard_path"], p["name_selector"] or "<header> element"))
        else:
            row.fail("user name", "%s shows %r, expected %r" % (where, shown[:200], expected))


def smoke_in_chromium(module, row, chromium, secrets):
    """One attempt of the smoke in one Chromium: (the screenshot's path or None, whether Chromium
    was lost on the way: it crashed or closed its connection, so the findings say nothing of the site)."""
    p = module.params
    screenshot = None
    lost = False
    try:
        with br.Browser(chromium, p["timeout"]) as session:
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
                    png = session.driver.get_screenshot_as_png()
                    if png:
                        screenshot = write_evidence(p["evidence_dir"], p["screenshot_name"], png, mode="wb")
                        row.passed("screenshot", "saved %s" % screenshot)
                    else:
                        row.warn("screenshot", "Chromium did not return a screenshot for %s" % p["screenshot_name"])
                except (OSError, br.WebDriverException) as exc:
                    row.warn("screenshot", "cannot save %s: %s" % (p["screenshot_name"], br.short_error(exc)))
            lost = row.status == ERROR and br.browser_lost(session.driver)
            if p["logout_path"] and not lost:
                try:
                    session.driver.execute_async_script(LOGOUT_SCRIPT, p["logout_path"])
                except br.WebDriverException:
                    pass
    except br.WebDriverException as exc:
        row.error("browser", "Chromium failed: %s" % redact_text(br.short_error(exc), secrets))
        lost = True
    except OSError as exc:
        row.error("browser", "cannot start Chromium %s: %s" % (chromium, exc))
    return screenshot, lost


def main(module_factory=AnsibleModule):
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
        email_selector=dict(type="str", default=""),
        password_selector=dict(type="str", default="", no_log=False),
        submit_selector=dict(type="str", default=""),
        error_selector=dict(type="str", default=""),
        name_selector=dict(type="str", default=""),
        settle=dict(type="float", default=3.0),
        ignore_console=dict(type="list", elements="str", default=[]),
        chromium_path=dict(type="path", default="/usr/bin/chromium"),
        chromedriver_path=dict(type="path", default="/usr/bin/chromedriver"),
        timeout=dict(type="float", default=15.0),
        evidence_dir=dict(type="path"),
        screenshot_name=dict(type="str", default="login_smoke.png"),
    )
    module = module_factory(argument_spec=argument_spec, supports_check_mode=True)
    p = module.params
    row = new_row(module)
    secrets = tuple(module.no_log_values)
    if not p["password"]:
        row.error("login", "no password for %s: set %s in the inventory (vault)" % (p["email"], p["password_variable"]))
        exit_with_row(module, row, screenshot=None)
    reason, chromium = br.unavailable_reason(p["chromium_path"])
    if reason:
        row.mark_skipped("UI login smoke not run: %s" % reason)
        exit_with_row(module, row, screenshot=None)

    screenshot, lost = smoke_in_chromium(module, row, chromium, secrets)
    if lost:
        # A Chromium that crashes says nothing of the site: the smoke runs once more in a fresh one.
        first = row.summary
        row.findings = []
        screenshot, lost = smoke_in_chromium(module, row, chromium, secrets)
        if lost:
            row.error("browser", "Chromium was lost twice in a row (first: %s); check the controller's memory "
                      "and its Chromium version, then run the smoke again" % first)
        else:
            row.passed("browser", "a first Chromium was lost during the smoke (%s); this result is from a fresh "
                       "Chromium" % first)
    exit_with_row(module, row, screenshot=screenshot)


if __name__ == "__main__":
    main()
