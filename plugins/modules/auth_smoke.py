#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, SOLVEREIGN release engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: auth_smoke
short_description: API login smoke and session cookie security (runbook rows 3.2, 4.1, 4.2, 4.3)
version_added: 0.2.0
description:
  - Runs the runbook's login sequence once and returns four checklist rows from it.
  - B(4.1) a login with valid credentials must answer HTTP 200 with C(user_id) and C(role).
  - B(4.2) a login with invalid credentials must answer HTTP 401 and set no session cookie.
  - B(4.3) C(/api/auth/me) with the session must answer HTTP 200 with the logged-in user (its e-mail
    matches O(email)); beyond the runbook, C(/api/auth/me) without a session must answer 401 (a 2xx
    there is an authentication bypass).
  - B(3.2) every C(Set-Cookie) of the successful and of the failed login is judged (Secure, HttpOnly,
    SameSite Lax/Strict or None only with Secure, C(__Host-)/C(__Secure-) prefix rules). The runbook
    reads cookies from a failed login while 4.2 demands that a failed login sets none, so the cookies
    of the successful login are judged and the row says where each came from. No cookie at all is
    not a pass.
  - The session cookie is sent back as an explicit C(Cookie) header, so the check also works against
    a plain HTTP test target that sets C(Secure) cookies. The session is logged out at the end when
    O(logout_path) is set.
  - The password and cookie values never appear in the result or the evidence transcript.
  - A request without an answer (refused, timeout, TLS failure, redirect loop) or an answer that is not
    JSON where JSON is needed gives V(ERROR) findings; the other probes still run.
author:
  - SOLVEREIGN release engineering (@solvereign)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - solvereign.release_ops.http_client
options:
  environment:
    description: Name of the environment checked; copied into the rows.
    type: str
    required: true
  base_url:
    description: Base URL of the environment.
    type: str
    required: true
  email:
    description: E-mail of the test user (C(solvereign_login_email)).
    type: str
    required: true
  password:
    description:
      - Password of the test user (C(solvereign_login_password), from a vault). When empty, rows 4.1 and
        4.3 (with session) are V(ERROR) naming the variable; the probes that need no password still run.
    type: str
    default: ""
  password_variable:
    description: Name of the inventory variable that holds the password, used in messages.
    type: str
    default: solvereign_login_password
  login_path:
    description: Login endpoint.
    type: str
    default: /api/auth/login
  me_path:
    description: Session endpoint.
    type: str
    default: /api/auth/me
  logout_path:
    description: Logout endpoint used to close the session at the end; empty to leave it.
    type: str
    default: /api/auth/logout
  invalid_email:
    description: E-mail of the invalid login (the runbook's).
    type: str
    default: invalid@example.com
  invalid_password:
    description: Password of the invalid login (the runbook's).
    type: str
    default: wrongpassword
  titles:
    description: Row titles by row id.
    type: dict
    default: {"3.2": Cookie security, "4.1": API login valid, "4.2": API login invalid, "4.3": Session validation}
  evidence_dir:
    description: Directory for the redacted request transcript C(auth_smoke.log); empty for none.
    type: path
attributes:
  check_mode:
    support: full
    details: The check only reads (a login creates a session, which is the runbook's own probe).
  diff_mode:
    support: none
  platform:
    platforms: posix
notes:
  - The module never fails because the system under test does not meet the criteria; it returns rows
    whose statuses say so.
"""

EXAMPLES = r"""
- name: Login smoke (rows 3.2, 4.1, 4.2, 4.3)
  solvereign.release_ops.auth_smoke:
    environment: staging
    base_url: https://staging.solvereign.example.com
    email: dispatcher@lts.at
    password: "{{ solvereign_login_password }}"
    timeout: 5
  delegate_to: localhost
  register: auth
"""

RETURN = r"""
rows:
  description: The checklist rows 3.2, 4.1, 4.2 and 4.3 (each with id, environment, title, status,
    summary, findings, started_at, duration_s).
  returned: always
  type: list
  elements: dict
status:
  description: Worst status of the rows.
  returned: always
  type: str
user:
  description: Identity returned by the valid login and C(/api/auth/me) (no secrets), empty when unknown.
  returned: always
  type: dict
  sample: {"user_id": 101, "email": "dispatcher@lts.at", "role": "dispatcher", "display_name": "Dana Dispatcher"}
transcript:
  description: Path of the redacted request transcript C(auth_smoke.log), when O(evidence_dir) is set.
  returned: always
  type: str
session_fingerprints:
  description:
    - SHA-256 (hex) of every cookie value the API set during the smoke; the values themselves are
      never returned. The evidence pack's secret scan looks for them.
  returned: always
  type: list
  elements: str
"""

import hashlib
import json

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.solvereign.release_ops.plugins.module_utils import cookies as ck
from ansible_collections.solvereign.release_ops.plugins.module_utils.http_client import (
    HttpClient,
    HttpError,
    ensure_requests,
    http_argument_spec,
    join_url,
)
from ansible_collections.solvereign.release_ops.plugins.module_utils.redact import redact_text
from ansible_collections.solvereign.release_ops.plugins.module_utils.webhooks import format_transcript
from ansible_collections.solvereign.release_ops.plugins.module_utils.result import (
    CheckRow,
    write_evidence,
    worst_status,
)

ROW_IDS = ("3.2", "4.1", "4.2", "4.3")
# Errors after which no further request is sent to the same target.
UNREACHABLE_KINDS = ("connection", "tls", "invalid_url")
DEFAULT_TITLES = {"3.2": "Cookie security", "4.1": "API login valid", "4.2": "API login invalid",
                  "4.3": "Session validation"}


class Smoke(object):
    def __init__(self, module):
        self.module = module
        p = module.params
        self.p = p
        self.client = HttpClient.from_module(module)
        self.initial_secrets = self.client.secrets
        titles = dict(DEFAULT_TITLES)
        titles.update(dict((str(k), str(v)) for k, v in (p["titles"] or {}).items()))
        self.rows = dict((i, CheckRow(i, titles[i], p["environment"])) for i in ROW_IDS)
        self.cookies = []          # (source, parsed cookie) for row 3.2
        self.user = {}
        self.unreachable = None

    # helpers ------------------------------------------------------------------------
    def url(self, path):
        return join_url(self.p["base_url"], path)

    def secrets(self):
        return self.client.secrets

    def redact(self, text):
        return redact_text(text, self.secrets())

    def session_fingerprints(self):
        """SHA-256 of every cookie value the API set (never the values): the evidence pack's secret
        scan looks for them."""
        values = self.secrets()[len(self.initial_secrets):]
        return sorted(set(hashlib.sha256(v.encode("utf-8")).hexdigest() for v in values))

    def snippet(self, response):
        return self.redact(" ".join((response.body or "")[:160].split()))

    def request(self, method, path, **kwargs):
        """One request; the client's cookie jar is emptied afterwards so that a session is only
        ever sent where this module sends it explicitly. Once the target could not be reached at
        all, further requests are not sent."""
        if self.unreachable:
            raise HttpError(self.unreachable.kind, "not sent: an earlier request got no answer (%s)"
                            % self.unreachable.message)
        try:
            return self.client.request(method, self.url(path), follow_redirects=False, **kwargs)
        except HttpError as exc:
            if exc.kind in UNREACHABLE_KINDS:
                self.unreachable = exc
            raise
        finally:
            self.client.session.cookies.clear()

    def set_cookies(self, response):
        """Set-Cookie values of the answer (and of redirect hops); their values become secrets."""
        values = []
        for _status, _url, header_list in response.history:
            values.extend(v for n, v in header_list if n.lower() == "set-cookie")
        values.extend(response.header_values("set-cookie"))
        for value in values:
            secret = value.split(";", 1)[0].partition("=")[2].strip()
            if secret and secret not in self.client.secrets:
                self.client.secrets = self.client.secrets + (secret,)
        return values

    @staticmethod
    def cookie_header(set_cookie_values):
        pairs = []
        for value in set_cookie_values:
            parsed = ck.parse_set_cookie(value)
            if not ck.is_deletion(parsed):
                pairs.append(value.split(";", 1)[0].strip())
        return "; ".join(pairs)

    # 4.1 ----------------------------------------------------------------------------
    def valid_login(self):
        row = self.rows["4.1"]
        if not self.p["email"]:
            reason = "no login e-mail: set solvereign_login_email in the inventory"
            row.error("login", reason)
            return None, reason
        if not self.p["password"]:
            reason = ("no password for %s: set %s in the inventory (vault)"
                      % (self.p["email"], self.p["password_variable"]))
            row.error("login", reason)
            return None, reason
        try:
            response = self.request("POST", self.p["login_path"],
                                    json_body={"email": self.p["email"], "password": self.p["password"]})
        except HttpError as exc:
            reason = "valid login: %s" % self.redact(exc.message)
            row.error("login", reason)
            return None, reason
        values = self.set_cookies(response)
        for value in values:
            self.cookies.append(("successful login", ck.parse_set_cookie(value)))
        where = "POST %s" % self.p["login_path"]
        if response.status != 200:
            reason = "%s with valid credentials answered HTTP %d (expected 200)%s" % (
                where, response.status, (": " + self.snippet(response)) if response.body else "")
            row.fail("login", reason)
            return None, reason
        try:
            document = response.json()
        except ValueError as exc:
            reason = "%s: %s" % (where, self.redact(str(exc)))
            row.error("login", reason)
            return None, reason
        if not isinstance(document, dict):
            reason = "%s answered JSON that is not an object" % where
            row.error("login", reason)
            return None, reason
        missing = [k for k in ("user_id", "role") if document.get(k) in (None, "")]
        if missing:
            row.fail("login", "%s: HTTP 200 but the answer has no %s" % (where, " and no ".join(missing)))
        else:
            row.passed("login", "%s: HTTP 200 in %.3fs, user_id=%s, role=%s" % (
                where, response.elapsed_s, document["user_id"], document["role"]))
        for key in ("user_id", "email", "role", "display_name", "name"):
            if document.get(key) not in (None, ""):
                self.user[key] = document[key]
        header = self.cookie_header(values)
        if header:
            names = ", ".join(ck.parse_set_cookie(v)["name"] for v in values)
            row.passed("session", "session cookie set: %s" % names)
            return header, None
        row.warn("session", "the login set no cookie: there is no session to validate")
        return None, "the successful login set no session cookie"

    # 4.2 ----------------------------------------------------------------------------
    def invalid_login(self):
        row = self.rows["4.2"]
        where = "POST %s (invalid credentials)" % self.p["login_path"]
        try:
            response = self.request("POST", self.p["login_path"],
                                    json_body={"email": self.p["invalid_email"], "password": self.p["invalid_password"]})
        except HttpError as exc:
            row.error("status", "invalid login: %s" % self.redact(exc.message))
            return None
        values = self.set_cookies(response)
        for value in values:
            self.cookies.append(("failed login", ck.parse_set_cookie(value)))
        if response.status == 401:
            row.passed("status", "%s: HTTP 401" % where)
        elif 200 <= response.status < 300:
            row.fail("status", "%s was ACCEPTED with HTTP %d: the API logs in with a wrong password"
                     % (where, response.status))
        elif response.status == 403:
            row.warn("status", "%s: rejected with HTTP 403 (the runbook expects 401)" % where)
        else:
            row.fail("status", "%s answered HTTP %d (expected 401)%s" % (
                where, response.status, (": " + self.snippet(response)) if response.body else ""))
        live = [ck.parse_set_cookie(v) for v in values if not ck.is_deletion(ck.parse_set_cookie(v))]
        if live:
            row.fail("cookie", "%s set cookie(s) %s: a failed login must set no session cookie"
                     % (where, ", ".join(c["name"] for c in live)))
        else:
            row.passed("cookie", "no session cookie set")
        return self.cookie_header(values) or None

    # 4.3 ----------------------------------------------------------------------------
    def session(self, cookie_header, reason):
        row = self.rows["4.3"]
        where = "GET %s" % self.p["me_path"]
        if not cookie_header:
            row.error("with session", "%s with the session was not tried: %s" % (where, reason))
        else:
            self._me_with_session(row, where, cookie_header)
        try:
            response = self.request("GET", self.p["me_path"])
        except HttpError as exc:
            row.error("without session", "%s without a session: %s" % (where, self.redact(exc.message)))
            return
        status = response.status
        if status in (401, 403):
            row.passed("without session", "%s without a session: HTTP %d" % (where, status))
        elif 200 <= status < 300:
            row.fail("without session", "%s WITHOUT a session answered HTTP %d: authentication bypass"
                     % (where, status))
        elif 300 <= status < 400:
            row.warn("without session", "%s without a session redirects (HTTP %d) instead of answering 401"
                     % (where, status))
        else:
            row.fail("without session", "%s without a session answered HTTP %d (expected 401)" % (where, status))

    def _me_with_session(self, row, where, cookie_header):
        try:
            response = self.request("GET", self.p["me_path"], headers={"Cookie": cookie_header})
        except HttpError as exc:
            row.error("with session", "%s with the session: %s" % (where, self.redact(exc.message)))
            return
        if response.status != 200:
            row.fail("with session", "%s with the session answered HTTP %d (expected 200)%s" % (
                where, response.status, (": " + self.snippet(response)) if response.body else ""))
            return
        try:
            document = response.json()
        except ValueError as exc:
            row.error("with session", "%s: %s" % (where, self.redact(str(exc))))
            return
        if not isinstance(document, dict):
            row.error("with session", "%s answered JSON that is not an object" % where)
            return
        email = str(document.get("email") or "")
        problems = []
        if email.lower() != self.p["email"].lower():
            problems.append("e-mail is %r, expected %r" % (email or None, self.p["email"]))
        if "user_id" in self.user and document.get("user_id") != self.user["user_id"]:
            problems.append("user_id is %r, the login answered %r" % (document.get("user_id"), self.user["user_id"]))
        if problems:
            row.fail("with session", "%s with the session: HTTP 200 but %s" % (where, "; ".join(problems)))
            return
        for key in ("user_id", "email", "role", "display_name", "name"):
            if document.get(key) not in (None, ""):
                self.user[key] = document[key]
        row.passed("with session", "%s with the session: HTTP 200, %s (role %s)" % (
            where, email, document.get("role", "?")))

    def logout(self, cookie_header, row_id):
        if not cookie_header or not self.p["logout_path"]:
            return
        row = self.rows[row_id]
        try:
            response = self.request("POST", self.p["logout_path"], headers={"Cookie": cookie_header})
        except HttpError as exc:
            row.warn("logout", "logout failed, the session stays open until it expires: %s" % self.redact(exc.message))
            return
        if 200 <= response.status < 300:
            row.passed("logout", "session closed (POST %s: HTTP %d)" % (self.p["logout_path"], response.status))
        else:
            row.warn("logout", "POST %s answered HTTP %d: the session stays open until it expires"
                     % (self.p["logout_path"], response.status))

    # 3.2 ----------------------------------------------------------------------------
    def judge_cookies(self, login_problem):
        row = self.rows["3.2"]
        https = self.p["base_url"].lower().startswith("https://")
        judged = 0
        for source, cookie in self.cookies:
            name = "%s (%s)" % (cookie["name"], source)
            if ck.is_deletion(cookie):
                row.skip(name, "%s from the %s clears a cookie; not judged" % (cookie["name"], source))
                continue
            judged += 1
            status, problems, notes = ck.judge_cookie(cookie, https)
            text = "%s from the %s (%s)" % (cookie["name"], source, cookie["attributes"] or "no attributes")
            if problems:
                text += ": " + "; ".join(problems)
            if notes:
                text += " (" + "; ".join(notes) + ")"
            row.add(name, status, text, source=source, cookie=ck.describe(cookie))
        if not judged:
            if login_problem:
                row.error("cookies", "no Set-Cookie observed, nothing to judge: %s" % login_problem)
            else:
                row.error("cookies", "no Set-Cookie observed, nothing to judge: neither the successful nor the "
                          "failed login set a cookie")
            return
        sources = sorted(set(s for s, c in self.cookies if not ck.is_deletion(c)))
        if row.status in ("PASS", "WARN"):
            failed_set = "failed login" in sources
            row.summary = "%d cookie(s) judged, from the %s%s: %s" % (
                judged, " and the ".join(sources),
                "" if failed_set else " (the failed login set none, as 4.2 requires)",
                "; ".join(f.message for f in row.findings if f.status in ("PASS", "WARN"))[:300])

    def run(self):
        cookie_header, problem = self.valid_login()
        failed_cookie = self.invalid_login()
        self.session(cookie_header, problem)
        self.logout(cookie_header, "4.3")
        if failed_cookie:
            self.logout(failed_cookie, "4.2")
        self.judge_cookies(problem)


def main(module_factory=AnsibleModule):
    argument_spec = http_argument_spec()
    argument_spec.update(
        environment=dict(type="str", required=True),
        base_url=dict(type="str", required=True),
        email=dict(type="str", required=True),
        password=dict(type="str", default="", no_log=True),
        password_variable=dict(type="str", default="solvereign_login_password", no_log=False),
        login_path=dict(type="str", default="/api/auth/login"),
        me_path=dict(type="str", default="/api/auth/me"),
        logout_path=dict(type="str", default="/api/auth/logout"),
        invalid_email=dict(type="str", default="invalid@example.com"),
        invalid_password=dict(type="str", default="wrongpassword", no_log=False),
        titles=dict(type="dict", default=dict(DEFAULT_TITLES)),
        evidence_dir=dict(type="path"),
    )
    module = module_factory(argument_spec=argument_spec, supports_check_mode=True)
    ensure_requests(module)
    smoke = Smoke(module)
    smoke.run()
    transcript = None
    if module.params["evidence_dir"]:
        text = redact_text(format_transcript(smoke.client.transcript), smoke.secrets())
        try:
            transcript = write_evidence(module.params["evidence_dir"], "auth_smoke.log", text)
        except OSError as exc:
            smoke.rows["4.1"].warn("evidence", "cannot write auth_smoke.log: %s" % exc)
    rows = [smoke.rows[i].to_dict() for i in ROW_IDS]
    module.exit_json(changed=False, rows=rows, status=worst_status(r["status"] for r in rows),
                     user=json.loads(json.dumps(smoke.user)), transcript=transcript,
                     session_fingerprints=smoke.session_fingerprints())


if __name__ == "__main__":
    main()
