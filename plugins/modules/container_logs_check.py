#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, SOLVEREIGN release engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: container_logs_check
short_description: Sample recent container logs for errors and stack traces (runbook row 7.3)
version_added: 0.1.0
description:
  - Runs C(docker logs --timestamps --since <since> <container>) on the docker host it runs on
    and merges stdout and stderr in time order.
  - Counts the lines that match O(patterns) (the runbook's C(error), C(exception), C(critical),
    case-insensitive) and finds stack traces (Python C(Traceback (most recent call last):)
    blocks, Java-style C(at ...) frames). Lines and traces that match O(allowlist) are expected
    noise and let through.
  - More error lines than O(max_error_lines), or any stack trace, is V(FAIL). Up to
    O(max_samples) sample lines are kept in the row as evidence, with secrets redacted.
  - A container that does not exist is V(FAIL) naming it; docker not installed or the daemon not
    reachable is V(ERROR).
author:
  - SOLVEREIGN release engineering (@solvereign)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - solvereign.release_ops.check_row
options:
  containers:
    description: Names (or ids) of the containers to sample.
    type: list
    elements: str
    required: true
  since:
    description: How far back to read, as C(docker logs --since) takes it (V(10m), V(1h), a timestamp).
    type: str
    default: 10m
  until:
    description:
      - Read only lines before this, as C(docker logs --until) takes it (a timestamp such as
        V(2026-12-01T12:00:00Z), or V(5m)); with O(since) a closed window, as the soak reads it.
    type: str
  docker_host:
    description:
      - Docker daemon to talk to, as C(DOCKER_HOST) (for example V(unix:///run/docker.sock) or
        V(ssh://deploy@host)). Default is the docker CLI's own default.
    type: str
  docker_bin:
    description: Name or path of the docker CLI.
    type: str
    default: docker
  patterns:
    description: Regular expressions (Python syntax) of error lines. Use C((?i)) for case-insensitive.
    type: list
    elements: str
    default: ["(?i)error", "(?i)exception", "(?i)critical"]
  allowlist:
    description:
      - Regular expressions of expected noise. A matching line is not counted; a stack trace with a
        matching line is not counted.
    type: list
    elements: str
    default: []
  max_error_lines:
    description: Most error lines (outside stack traces, after the allowlist) that still pass.
    type: int
    default: 0
  max_samples:
    description: Most sample lines kept as evidence per container.
    type: int
    default: 20
  redact_patterns:
    description:
      - Extra regular expressions whose matches are masked in samples (a first group, when present,
        is kept). Tokens, API keys, JWTs, URL credentials and password assignments are always masked.
    type: list
    elements: str
    default: []
  secrets:
    description: Literal values to mask in samples (for example the API's own tokens).
    type: list
    elements: str
    default: []
  advice:
    description: What to do when the row does not pass; added to the row as C(advice) unless it passes.
    type: list
    elements: str
notes:
  - Runs C(docker) through C(module.run_command) with an argument list; nothing is written.
"""

EXAMPLES = r"""
- name: Sample the API logs of the last 10 minutes (row 7.3)
  solvereign.release_ops.container_logs_check:
    check_id: "7.3"
    check_title: Log sampling
    environment: staging
    containers: [solvereign-api]
    since: 10m
    allowlist:
      - "GET /api/health .* 200"
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
containers:
  description: Per container, the counts and redacted samples.
  returned: always
  type: list
  elements: dict
  sample:
    - {"container": "solvereign-api", "lines": 120, "error_lines": 0, "stack_traces": 0, "samples": []}
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.solvereign.release_ops.plugins.module_utils.container_logs import (
    DEFAULT_PATTERNS,
    DEFAULT_REDACT_PATTERNS,
    Redactor,
    classify_docker_error,
    compile_patterns,
    merge_streams,
    scan,
)
from ansible_collections.solvereign.release_ops.plugins.module_utils.result import (
    ERROR,
    FAIL,
    PASS,
    check_common_argument_spec,
    exit_with_row,
    new_row,
)


def sample_container(module, docker, container, redactor):
    p = module.params
    env = {"DOCKER_HOST": p["docker_host"]} if p["docker_host"] else {}
    cmd = [docker, "logs", "--timestamps", "--since", p["since"]] + (["--until", p["until"]] if p["until"] else []) \
        + [container]
    rc, out, err = module.run_command(cmd, environ_update=env)
    if rc != 0:
        kind, message = classify_docker_error(rc, redactor(err), container)
        return [(container, FAIL if kind == "missing" else ERROR, message, {})], {"container": container,
                                                                                  "error": message}
    lines = merge_streams(out, err, with_stream=True)
    found = scan(lines, p["patterns"], p["allowlist"], p["max_samples"], redactor)
    span = "%s to %s" % (p["since"], p["until"]) if p["until"] else "last %s" % p["since"]
    where = "%s (%s, %d lines)" % (container, span, found["lines"])
    allowed = []
    if found["allowed_lines"]:
        allowed.append("%d allowlisted line(s)" % found["allowed_lines"])
    if found["allowed_stack_traces"]:
        allowed.append("%d allowlisted stack trace(s)" % found["allowed_stack_traces"])
    allowed_text = (", " + ", ".join(allowed)) if allowed else ""
    findings = []
    if found["error_lines"] > p["max_error_lines"]:
        findings.append(("%s errors" % container, FAIL, "%s: %d error line(s) (most allowed %d)%s; first: %s" % (
            where, found["error_lines"], p["max_error_lines"], allowed_text, found["samples"][0] if found["samples"]
            else ""), {"samples": found["samples"]}))
    else:
        findings.append(("%s errors" % container, PASS, "%s: %d error line(s) (most allowed %d)%s" % (
            where, found["error_lines"], p["max_error_lines"], allowed_text), {}))
    traces = found["stack_traces"]
    if traces:
        described = "; ".join("%s %s" % (t["kind"], t["summary"]) for t in traces[:3])
        findings.append(("%s stack traces" % container, FAIL, "%s: %d stack trace(s): %s" % (
            container, len(traces), described), {"stack_traces": [
                {"kind": t["kind"], "summary": t["summary"], "lines": t["lines"]} for t in traces[:5]],
                "samples": found["samples"]}))
    else:
        findings.append(("%s stack traces" % container, PASS, "%s: no stack traces" % container, {}))
    summary = {"container": container, "lines": found["lines"], "error_lines": found["error_lines"],
               "allowed_lines": found["allowed_lines"], "stack_traces": len(traces),
               "allowed_stack_traces": found["allowed_stack_traces"], "samples": found["samples"]}
    return findings, summary


def main(module_factory=AnsibleModule):
    argument_spec = check_common_argument_spec()
    argument_spec.update(
        containers=dict(type="list", elements="str", required=True),
        since=dict(type="str", default="10m"),
        until=dict(type="str"),
        docker_host=dict(type="str"),
        docker_bin=dict(type="str", default="docker"),
        patterns=dict(type="list", elements="str", default=list(DEFAULT_PATTERNS)),
        allowlist=dict(type="list", elements="str", default=[]),
        max_error_lines=dict(type="int", default=0),
        max_samples=dict(type="int", default=20),
        redact_patterns=dict(type="list", elements="str", default=[]),
        secrets=dict(type="list", elements="str", default=[], no_log=True),
        advice=dict(type="list", elements="str"),
    )
    module = module_factory(argument_spec=argument_spec, supports_check_mode=True)
    p = module.params
    try:
        for what in ("patterns", "allowlist"):
            compile_patterns(p[what], what)
        redactor = Redactor(tuple(p["secrets"]) + tuple(module.no_log_values),
                            DEFAULT_REDACT_PATTERNS + tuple(p["redact_patterns"]))
    except ValueError as exc:
        module.fail_json(msg=str(exc))
    if not p["containers"]:
        module.fail_json(msg="containers is empty: name at least one container to sample")

    row = new_row(module)
    row.advice = p["advice"] or []
    summaries = []
    docker = module.get_bin_path(p["docker_bin"]) if "/" not in p["docker_bin"] else p["docker_bin"]
    if not docker:
        for container in p["containers"]:
            row.error(container, "docker CLI %r not found on this host: cannot read the logs of %s"
                      % (p["docker_bin"], container))
        exit_with_row(module, row, containers=summaries)
    for container in p["containers"]:
        findings, summary = sample_container(module, docker, container, redactor)
        for name, status, message, data in findings:
            row.add(name, status, message, **data)
        summaries.append(summary)
    exit_with_row(module, row, containers=summaries)


if __name__ == "__main__":
    main()
