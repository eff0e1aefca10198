#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, SOLVEREIGN release engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: security_headers_check
short_description: Judge security response headers against a policy as one checklist row
version_added: 0.2.0
description:
  - Sends one C(GET) to each of O(paths) and judges the answer's security headers the way the
    MDN HTTP Observatory does, against the runbook's policy (section 3.1) by default.
  - One finding per header per URL, with the observed value.
  - Header names match case-insensitively. A repeated (or comma-joined) Strict-Transport-Security,
    X-Frame-Options or Cross-Origin-Opener-Policy is invalid.
  - C(Strict-Transport-Security) needs C(max-age) of at least C(policy.hsts_min_max_age) and
    C(includeSubDomains). Browsers honour it only over HTTPS; on a plain HTTP URL the finding says so.
  - C(Content-Security-Policy) is parsed. C(script-src) falls back to C(default-src); C('unsafe-inline')
    (unless cancelled by a nonce or hash), C('unsafe-eval'), C(*), C(data:), C(http:) and C(https:) in
    scripts or objects fail; C('strict-dynamic') without a nonce or hash is invalid; a directive
    repeated inside one policy is invalid; C(Content-Security-Policy-Report-Only) alone counts as no CSP.
  - C(X-Frame-Options) must be one of C(policy.xfo_allowed), or CSP C(frame-ancestors) must restrict framing.
  - C(X-Content-Type-Options) must be exactly C(nosniff).
  - C(X-XSS-Protection) must be C(policy.xxp_expected) (the runbook's C(1; mode=block)); when it is, the
    finding is V(WARN) with the current advice (C(0) or no header) unless C(policy.xxp_advise_modern=false).
  - A request without an answer (refused, timeout, TLS failure, redirect loop) is an V(ERROR) finding.
author:
  - SOLVEREIGN release engineering (@solvereign)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - solvereign.release_ops.check_row
  - solvereign.release_ops.http_client
attributes:
  platform:
    platforms: posix
options:
  base_url:
    description: Base URL of the environment; O(paths) are joined to it.
    type: str
    required: true
  paths:
    description: Paths (or absolute URLs) whose answers are judged.
    type: list
    elements: str
    default: [/api/health, /platform/login]
  policy:
    description:
      - Overrides of the default policy. Keys (defaults in brackets) C(hsts_required) [true],
        C(hsts_min_max_age) [31536000], C(hsts_include_subdomains) [true], C(hsts_preload) [false],
        C(csp_required) [true], C(csp_allow_unsafe_inline) [false], C(csp_allow_unsafe_eval) [false],
        C(xfo_required) [true], C(xfo_allowed) [[DENY, SAMEORIGIN]], C(xfo_accept_frame_ancestors) [true],
        C(xcto_required) [true], C(xxp_expected) [C(1; mode=block); C(0) or empty to follow current advice],
        C(xxp_advise_modern) [true].
    type: dict
    default: {}
"""

EXAMPLES = r"""
- name: Security headers (row 3.1)
  solvereign.release_ops.security_headers_check:
    check_id: "3.1"
    check_title: Security headers
    environment: staging
    base_url: https://staging.solvereign.example.com
    follow_redirects: true
  delegate_to: localhost

- name: Security headers, following current X-XSS-Protection advice
  solvereign.release_ops.security_headers_check:
    check_id: "3.1"
    check_title: Security headers
    environment: prod
    base_url: https://solvereign.example.com
    policy:
      xxp_expected: "0"
      hsts_preload: true
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
responses:
  description: Status, final URL and the judged headers of each answer.
  returned: always
  type: list
  elements: dict
  sample:
    - {"path": "/api/health", "url": "https://staging.example.com/api/health", "status": 200,
       "headers": {"x-frame-options": "DENY"}}
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.solvereign.release_ops.plugins.module_utils import headers as hdr
from ansible_collections.solvereign.release_ops.plugins.module_utils.http_client import (
    HttpClient,
    HttpError,
    ensure_requests,
    http_argument_spec,
    join_url,
)
from ansible_collections.solvereign.release_ops.plugins.module_utils.result import (
    check_common_argument_spec,
    exit_with_row,
    new_row,
)

JUDGED = (hdr.HSTS, hdr.XCTO, hdr.XFO, hdr.CSP, hdr.CSP_REPORT_ONLY, hdr.XXP, hdr.COOP)


def judge_url(row, client, base_url, path, policy):
    url = join_url(base_url, path)
    try:
        response = client.request("GET", url)
    except HttpError as exc:
        row.error(path, exc.message, url=url)
        return {"path": path, "url": url, "error": exc.kind}
    https = response.url.lower().startswith("https://")
    observed = dict((name, " | ".join(hdr.header_values(response.header_list, name)))
                    for name in JUDGED if hdr.header_values(response.header_list, name))
    if response.status >= 400:
        row.warn(path, "%s answered HTTP %d: the headers judged are those of an error answer"
                 % (path, response.status), url=response.url, http_status=response.status)
    elif 300 <= response.status < 400:
        row.warn(path, "%s answered HTTP %d (redirect to %s, not followed): the headers judged are those "
                 "of the redirect" % (path, response.status, response.headers.get("location", "?")),
                 url=response.url, http_status=response.status)
    for name, status, message, value in hdr.evaluate_headers(response.header_list, https, policy):
        row.add("%s %s" % (path, name), status, "%s: %s" % (path, message), header=name, value=value,
                url=response.url)
    return {"path": path, "url": response.url, "status": response.status, "headers": observed}


def main(module_factory=AnsibleModule):
    argument_spec = check_common_argument_spec()
    argument_spec.update(http_argument_spec())
    argument_spec.update(
        base_url=dict(type="str", required=True),
        paths=dict(type="list", elements="str", default=["/api/health", "/platform/login"]),
        policy=dict(type="dict", default={}),
    )
    module = module_factory(argument_spec=argument_spec, supports_check_mode=True)
    ensure_requests(module)
    try:
        policy = hdr.merge_policy(module.params["policy"])
    except ValueError as exc:
        module.fail_json(msg="policy: %s" % exc)
    if not module.params["paths"]:
        module.fail_json(msg="paths must name at least one URL to judge")

    row = new_row(module)
    client = HttpClient.from_module(module)
    responses = []
    for path in module.params["paths"]:
        unreachable = [r for r in responses if r.get("error") in ("connection", "tls", "invalid_url")]
        if unreachable:
            row.error(path, "%s: not requested, %s got no answer" % (path, unreachable[0]["path"]))
            responses.append({"path": path, "error": "not_sent"})
            continue
        responses.append(judge_url(row, client, module.params["base_url"], path, policy))
    row.advice = ["Review the security header middleware of the API and the reverse proxy configuration",
                  "Compare with the runbook's expected headers (section 3.1)"]
    exit_with_row(module, row, responses=responses)


if __name__ == "__main__":
    main()
