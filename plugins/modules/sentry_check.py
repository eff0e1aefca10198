#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, SOLVEREIGN release engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: sentry_check
short_description: Judge the Sentry error rate and new error patterns of the last hour (runbook row 7.1)
version_added: 0.1.0
description:
  - "Reads Sentry's web API (sentry.io or self-hosted) with an auth token
    (C(Authorization: Bearer <token>))."
  - Looks the project up (C(GET /api/0/projects/{org}/{project}/)), counts the error events of
    the period (C(GET /api/0/organizations/{org}/events/?field=count()&query=level:error&statsPeriod=1h&project=<id>))
    and lists the issues first seen in the period
    (C(GET /api/0/organizations/{org}/issues/?query=is:unresolved firstSeen:-1h), following the
    C(Link) header's cursors).
  - The findings are the error count against O(max_errors) (the runbook's V(< 10)), and no new issues
    (each new one is named by title and permalink).
  - HTTP 429 is waited out (C(Retry-After)) and retried a bounded number of times, then
    V(ERROR). A rejected token (401) is V(ERROR) saying so; so are 403, 404 and an unreachable
    Sentry.
author:
  - SOLVEREIGN release engineering (@solvereign)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - solvereign.release_ops.check_row
  - solvereign.release_ops.http_client
options:
  url:
    description: Base URL of Sentry, V(https://sentry.io) or the self-hosted one.
    type: str
    required: true
  org:
    description: Organization slug.
    type: str
    required: true
  project:
    description: Project slug.
    type: str
    required: true
  token:
    description: Auth token with the org:read, project:read and event:read scopes.
    type: str
    required: true
  period:
    description: Window to judge, as Sentry's C(statsPeriod) (V(1h) per the runbook).
    type: str
    default: 1h
  error_query:
    description: Sentry search query of the counted events.
    type: str
    default: "level:error"
  max_errors:
    description: Threshold on the error event count, the runbook's way.
    type: str
    default: "< 10"
  new_issue_query:
    description: Sentry search query of new issues. Default C(is:unresolved firstSeen:-<period>).
    type: str
  sentry_environment:
    description: Sentry environment to filter on (for example V(production)); default all.
    type: str
  max_rate_limit_retries:
    description: How many times a request answered HTTP 429 is retried.
    type: int
    default: 3
  max_retry_wait:
    description: Longest C(Retry-After) (seconds) waited for; a longer one gives up at once.
    type: float
    default: 30.0
  advice:
    description: What to do when the row does not pass; added to the row as C(advice) unless it passes.
    type: list
    elements: str
"""

EXAMPLES = r"""
- name: Sentry errors of the last hour (row 7.1)
  solvereign.release_ops.sentry_check:
    check_id: "7.1"
    check_title: Sentry error rate
    environment: staging
    url: https://sentry.io
    org: solvereign
    project: solvereign-api
    token: "{{ vault_sentry_token }}"
  delegate_to: localhost
"""

RETURN = r"""
row:
  description:
    - The checklist row, with C(id), C(environment), C(title), C(status) (V(PASS), V(WARN),
      V(FAIL), V(ERROR) or V(SKIP)), C(summary), C(findings) (each with C(name), C(status),
      C(message)), C(started_at), C(duration_s) and, unless it passes, C(advice).
  returned: always
  type: dict
status:
  description: The row's status.
  returned: always
  type: str
error_count:
  description: Error events in the period, when they could be counted.
  returned: always
  type: int
new_issues:
  description: Issues first seen in the period (title, shortId, permalink, firstSeen, count).
  returned: always
  type: list
  elements: dict
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.solvereign.release_ops.plugins.module_utils.http_client import (
    HttpClient,
    ensure_requests,
    http_argument_spec,
)
from ansible_collections.solvereign.release_ops.plugins.module_utils.redact import redact_text
from ansible_collections.solvereign.release_ops.plugins.module_utils.result import (
    FAIL,
    PASS,
    check_common_argument_spec,
    exit_with_row,
    new_row,
)
from ansible_collections.solvereign.release_ops.plugins.module_utils.sentry import (
    SentryClient,
    SentryError,
    new_issues,
    period_seconds,
)
from ansible_collections.solvereign.release_ops.plugins.module_utils.thresholds import (
    ThresholdError,
    format_number,
    parse_threshold,
)


def main(module_factory=AnsibleModule):
    argument_spec = check_common_argument_spec()
    argument_spec.update(http_argument_spec())
    argument_spec.update(
        url=dict(type="str", required=True),
        org=dict(type="str", required=True),
        project=dict(type="str", required=True),
        token=dict(type="str", required=True, no_log=True),
        period=dict(type="str", default="1h"),
        error_query=dict(type="str", default="level:error"),
        max_errors=dict(type="str", default="< 10"),
        new_issue_query=dict(type="str"),
        sentry_environment=dict(type="str"),
        max_rate_limit_retries=dict(type="int", default=3),
        max_retry_wait=dict(type="float", default=30.0),
        advice=dict(type="list", elements="str"),
    )
    module = module_factory(argument_spec=argument_spec, supports_check_mode=True)
    ensure_requests(module)
    p = module.params
    try:
        threshold = parse_threshold(p["max_errors"])
        window_s = period_seconds(p["period"])
    except (ThresholdError, ValueError) as exc:
        module.fail_json(msg=str(exc))
    issue_query = p["new_issue_query"] or "is:unresolved firstSeen:-%s" % p["period"]
    secrets = tuple(module.no_log_values)

    row = new_row(module)
    row.advice = p["advice"] or []
    client = SentryClient(HttpClient.from_module(module), p["url"], p["token"],
                          max_rate_limit_retries=p["max_rate_limit_retries"], max_wait=p["max_retry_wait"])
    error_count, fresh = None, []
    try:
        project = client.project(p["org"], p["project"])
    except SentryError as exc:
        row.error("sentry", redact_text(exc.message, secrets))
        exit_with_row(module, row, error_count=None, new_issues=[])
    where = "%s/%s" % (p["org"], p["project"])

    try:
        error_count = client.event_count(p["org"], project["id"], p["error_query"], p["period"], p["sentry_environment"])
    except SentryError as exc:
        row.error("error events", "error events: %s" % redact_text(exc.message, secrets))
    else:
        ok = threshold.holds(error_count)
        verdict = threshold.op if ok else {"<": ">=", "<=": ">", ">": "<=", ">=": "<"}.get(threshold.op, "vs")
        row.add("error events", PASS if ok else FAIL, "%d error event(s) in the last %s in %s (%s; %d %s %s)" % (
            error_count, p["period"], where, p["error_query"], error_count, verdict, format_number(threshold.value)),
            count=error_count)

    try:
        issues = client.issues(p["org"], project["id"], issue_query, p["period"], p["sentry_environment"])
    except SentryError as exc:
        row.error("new issues", "new issues: %s" % redact_text(exc.message, secrets))
    else:
        fresh = [{"title": i.get("title"), "shortId": i.get("shortId"), "permalink": i.get("permalink"),
                  "firstSeen": i.get("firstSeen"), "count": i.get("count"), "level": i.get("level")}
                 for i in new_issues(issues, window_s)]
        if fresh:
            named = "; ".join("%s (%s)" % (i["title"], i["permalink"]) for i in fresh[:5])
            more = " and %d more" % (len(fresh) - 5) if len(fresh) > 5 else ""
            row.fail("new issues", "%d new error pattern(s) first seen in the last %s: %s%s" % (
                len(fresh), p["period"], named, more), issues=fresh)
        else:
            row.passed("new issues", "no new issues first seen in the last %s (%d issue(s) checked)" % (
                p["period"], len(issues)))
    exit_with_row(module, row, error_count=error_count, new_issues=fresh,
                  rate_limit_waits=client.rate_limit_waits)


if __name__ == "__main__":
    main()
