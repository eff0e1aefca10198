#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, SOLVEREIGN release engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: http_check
short_description: Probe HTTP endpoints and judge status, JSON body and headers as one checklist row
version_added: 0.1.0
description:
  - Sends one request per probe and turns each answer into one finding of a checklist row.
  - A probe passes when the status is one of its expected statuses and all its JSON (JMESPath)
    and header assertions hold.
  - A request that gets no answer (refused connection, timeout, TLS failure, malformed URL,
    redirect loop) gives an V(ERROR) finding that says what was tried; so does a body that is
    not JSON when a JSON assertion needs it. Nothing that could not be evaluated passes.
  - Used for the runbook's version rows (1.2, 1.3) and health rows (2.1, 2.2).
  - With O(evidence_dir) and O(evidence_name) a text transcript of every probe (the runbook's
    C(curl) command, the answer's status and its redacted body) is written as evidence, for
    example C(health_check.log), from which the evidence pack draws C(health_check_staging.png).
author:
  - SOLVEREIGN release engineering (@solvereign)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - solvereign.release_ops.check_row
  - solvereign.release_ops.http_client
options:
  base_url:
    description:
      - Base URL of the environment, for example V(https://staging.solvereign.example.com).
        Probe paths are joined to it.
    type: str
  probes:
    description:
      - The requests to send, in order. Each gives one finding.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description: Finding name; defaults to the path.
        type: str
      path:
        description: Path joined to O(base_url), or an absolute URL.
        type: str
        required: true
      method:
        description: HTTP method.
        type: str
        default: GET
      headers:
        description: Request headers.
        type: dict
      json:
        description: JSON request body.
        type: raw
      expect_status:
        description: Statuses that count as success.
        type: list
        elements: int
        default: [200]
      json_assertions:
        description:
          - Assertions on the JSON body. Each has a JMESPath C(query) and one or more matchers
            C(equals), C(one_of), C(regex), C(commit_prefix) (abbreviated hashes match when one
            is a prefix of the other) and C(exists); C(match) is C(all) (default) or C(any).
        type: list
        elements: dict
      header_assertions:
        description:
          - Assertions on response headers. Each has a header C(name) (case-insensitive) and
            the same matchers as O(probes[].json_assertions).
        type: list
        elements: dict
  advice:
    description:
      - What to do when the row does not pass (the runbook's "If FAIL" steps). Added to the row as
        C(advice) unless it passes.
    type: list
    elements: str
  evidence_dir:
    description: Directory for the transcript file. Empty writes none.
    type: path
  evidence_name:
    description: File name of the transcript in O(evidence_dir). Empty writes none.
    type: str
    default: ""
seealso:
  - module: solvereign.release_ops.git_tag_check
"""

EXAMPLES = r"""
- name: Check that staging runs the release (row 1.2)
  solvereign.release_ops.http_check:
    check_id: "1.2"
    check_title: Staging version
    environment: staging
    base_url: https://staging.solvereign.example.com
    probes:
      - path: /api/health
        json_assertions:
          - query: version
            one_of: ["3.7.0", "v3.7.0"]
            commit_prefix: 87b4a59
            match: any
  delegate_to: localhost
  register: version_check

- name: Check the three health endpoints (row 2.1)
  solvereign.release_ops.http_check:
    check_id: "2.1"
    check_title: Staging health
    environment: staging
    base_url: https://staging.solvereign.example.com
    timeout: 5
    probes:
      - path: /api/health
      - path: /api/health/ready
      - path: /api/health/live
    evidence_dir: release_evidence/v3.7.0
    evidence_name: health_check.log
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
responses:
  description: Status, timing and selected headers of every probe answer (bodies not included).
  returned: always
  type: list
  elements: dict
  sample:
    - {"name": "/api/health", "url": "https://staging.example.com/api/health", "status": 200, "elapsed_s": 0.012}
evidence_file:
  description: Path of the transcript written.
  returned: when O(evidence_dir) and O(evidence_name) are set and the file was written
  type: str
  sample: /srv/release_evidence/v3.7.0/health_check.log
"""

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.solvereign.release_ops.plugins.module_utils import assertions
from ansible_collections.solvereign.release_ops.plugins.module_utils.http_client import (
    HttpClient,
    HttpError,
    ensure_requests,
    http_argument_spec,
    join_url,
)
from ansible_collections.solvereign.release_ops.plugins.module_utils.redact import redact_text
from ansible_collections.solvereign.release_ops.plugins.module_utils.result import (
    ERROR,
    FAIL,
    PASS,
    check_common_argument_spec,
    exit_with_row,
    new_row,
    utc_now_iso,
    write_evidence,
)

TRANSCRIPT_BODY_CHARS = 2000

PROBE_SPEC = dict(
    name=dict(type="str"),
    path=dict(type="str", required=True),
    method=dict(type="str", default="GET"),
    headers=dict(type="dict"),
    json=dict(type="raw"),
    expect_status=dict(type="list", elements="int", default=[200]),
    json_assertions=dict(type="list", elements="dict"),
    header_assertions=dict(type="list", elements="dict"),
)


def run_probe(client, base_url, probe, secrets, transcript=None):
    """Send one probe; return (status, message, response_summary).

    With ``transcript`` (a list) the probe's command line, answer and redacted body are appended
    to it as lines of text."""
    name = probe.get("name") or probe["path"]
    url = join_url(base_url, probe["path"]) if base_url else probe["path"]
    method = probe["method"].upper()
    if transcript is not None:
        transcript.append("$ curl -sf%s \"%s\" && echo \"PASS\" || echo \"FAIL\"" % (
            "" if method == "GET" else " -X " + method, redact_text(url, secrets)))
    try:
        response = client.request(method, url, headers=probe.get("headers"), json_body=probe.get("json"))
    except HttpError as exc:
        if transcript is not None:
            transcript.extend(["curl: %s" % redact_text(exc.message, secrets), "FAIL", ""])
        return ERROR, exc.message, {"name": name, "url": url, "error": exc.kind}
    summary = {"name": name, "url": response.url, "status": response.status, "elapsed_s": response.elapsed_s}
    if transcript is not None:
        body = redact_text(response.body[:TRANSCRIPT_BODY_CHARS], secrets)
        transcript.append("< HTTP %s in %.3fs" % (response.status, response.elapsed_s))
        if body.strip():
            transcript.append(body.rstrip())
        transcript.extend(["PASS" if 200 <= response.status < 400 else "FAIL", ""])
    where = "%s %s" % (method, probe["path"])
    if response.status not in probe["expect_status"]:
        snippet = redact_text(" ".join(response.body[:160].split()), secrets)
        expected = " or ".join(str(s) for s in probe["expect_status"])
        return FAIL, "%s answered HTTP %s (expected %s)%s" % (
            where, response.status, expected, (": " + snippet) if snippet else ""), summary
    problems, notes = [], ["HTTP %s in %.3fs" % (response.status, response.elapsed_s)]
    for spec in probe.get("header_assertions") or []:
        ok, message = assertions.check_header(response, spec)
        (notes if ok else problems).append(message)
    if probe.get("json_assertions"):
        try:
            document = response.json()
        except ValueError as exc:
            return ERROR, "%s: %s" % (where, redact_text(str(exc), secrets)), summary
        for spec in probe["json_assertions"]:
            try:
                ok, message = assertions.check_json(document, spec)
            except ValueError as exc:
                return ERROR, "%s: %s" % (where, exc), summary
            (notes if ok else problems).append(message)
    if problems:
        return FAIL, "%s: %s" % (where, "; ".join(problems)), summary
    return PASS, "%s: %s" % (where, "; ".join(notes)), summary


def validate_assertions(module):
    for probe in module.params["probes"]:
        for key in ("json_assertions", "header_assertions"):
            for spec in probe.get(key) or []:
                field = "query" if key == "json_assertions" else "name"
                if not spec.get(field):
                    module.fail_json(msg="each entry of probes[].%s needs '%s': %r" % (key, field, spec))
                unknown = set(spec) - set(assertions.MATCHERS) - {field, "match"}
                if unknown:
                    module.fail_json(msg="unknown keys %s in probes[].%s (allowed: %s)" % (
                        ", ".join(sorted(unknown)), key, ", ".join((field, "match") + assertions.MATCHERS)))
        if probe.get("json_assertions") and assertions.jmespath is None:
            module.fail_json(msg=missing_required_lib("jmespath"), exception=assertions.JMESPATH_IMPORT_ERROR)


def main(module_factory=AnsibleModule):
    argument_spec = check_common_argument_spec()
    argument_spec.update(http_argument_spec())
    argument_spec.update(
        base_url=dict(type="str"),
        probes=dict(type="list", elements="dict", required=True, options=PROBE_SPEC),
        advice=dict(type="list", elements="str"),
        evidence_dir=dict(type="path"),
        evidence_name=dict(type="str", default=""),
    )
    module = module_factory(argument_spec=argument_spec, supports_check_mode=True)
    ensure_requests(module)
    validate_assertions(module)

    row = new_row(module)
    client = HttpClient.from_module(module)
    secrets = tuple(module.no_log_values)
    responses = []
    wanted = bool(module.params["evidence_dir"] and module.params["evidence_name"])
    transcript = None
    if wanted:
        transcript = ["# %s %s (%s), %s" % (module.params["check_id"], module.params["check_title"],
                                            module.params["environment"], utc_now_iso()), ""]
    for probe in module.params["probes"]:
        status, message, summary = run_probe(client, module.params["base_url"], probe, secrets, transcript)
        row.add(probe.get("name") or probe["path"], status, message)
        responses.append(summary)
    row.advice = module.params["advice"] or []
    extra = {}
    if wanted:
        try:
            extra["evidence_file"] = write_evidence(module.params["evidence_dir"], module.params["evidence_name"],
                                                    "\n".join(transcript) + "\n")
        except (IOError, OSError) as exc:
            row.error("evidence", "cannot write evidence file %s in %s: %s" % (
                module.params["evidence_name"], module.params["evidence_dir"], exc.strerror or exc))
    exit_with_row(module, row, responses=responses, **extra)


if __name__ == "__main__":
    main()
