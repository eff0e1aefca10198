#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, SOLVEREIGN release engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: prometheus_check
short_description: Judge PromQL signals against runbook thresholds as one checklist row (row 7.2)
version_added: 0.1.0
description:
  - Runs each PromQL query of O(queries) on the Prometheus HTTP API (C(/api/v1/query), or
    C(/api/v1/query_range) for range queries) and judges it against a threshold written the
    runbook's way (V(< 2s), V(< 1%), V(< 80%)). One finding per query.
  - Every returned series is judged and the worst one decides the finding; the finding names the
    deciding series with its labels and value. For a range query every point counts.
  - No data is never healthy. An empty result, a NaN value (for example 0/0 at zero traffic),
    Prometheus being unreachable and Prometheus rejecting the query (its own error text is kept)
    are distinct V(ERROR) findings that name the query.
  - An optional traffic guard (O(min_request_rate)) reports too little traffic as V(ERROR) or
    V(WARN), since latency and error-rate signals over a handful of requests prove nothing.
author:
  - SOLVEREIGN release engineering (@solvereign)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - solvereign.release_ops.check_row
  - solvereign.release_ops.http_client
options:
  url:
    description:
      - Base URL of Prometheus, for example V(http://prometheus:9090).
    type: str
    required: true
  queries:
    description:
      - The signals to judge, in order. Each gives one finding.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description: Finding name, for example V(p95 latency).
        type: str
        required: true
      query:
        description: The PromQL expression.
        type: str
        required: true
      threshold:
        description:
          - What a healthy value satisfies, for example V(< 2s), V(< 1%), V(== 1).
        type: str
        required: true
      ratio:
        description:
          - The query returns a ratio (0..1) that a percent threshold compares as percent.
            Leave false when the query already multiplies by 100.
        type: bool
        default: false
      type:
        description: V(instant) evaluates once; V(range) judges every point of the last O(queries[].range).
        type: str
        choices: [instant, range]
        default: instant
      range:
        description: Length of the range for V(range) queries (Prometheus duration).
        type: str
        default: 10m
      step:
        description: Resolution of V(range) queries (Prometheus duration).
        type: str
        default: 30s
      violation_status:
        description: Status of the finding when the threshold does not hold.
        type: str
        choices: [FAIL, WARN, ERROR]
        default: FAIL
      empty_as_zero:
        description:
          - Read an empty result as the value 0. Only right for count-type signals whose series
            appear with the first event; never for ratios or latencies.
        type: bool
        default: false
  time:
    description:
      - Evaluation time of instant queries and end of range queries (unix seconds). Default now.
    type: float
  min_request_rate:
    description:
      - Least request rate (requests per second, from O(traffic_query)) for the signals to be
        meaningful. V(0) turns the guard off.
    type: float
    default: 0.0
  traffic_query:
    description:
      - PromQL returning the request rate for the traffic guard.
    type: str
  variables:
    description:
      - Values put in place of C($name) or C(${name}) in O(queries[].query) and O(traffic_query), as in
        Grafana's dashboard variables; names not given here are left as they are.
      - The observability role uses C($max_connections) for PostgreSQL's C(max_connections) read with
        M(solvereign.release_ops.pg_settings_info), where no gauge reports it. A value that could not be
        read is C(NaN), which the check reports as C(ERROR) rather than judging a made-up ratio.
    type: dict
    default: {}
  low_traffic_status:
    description: Status of the traffic finding when the rate is below O(min_request_rate).
    type: str
    choices: [ERROR, WARN]
    default: ERROR
  url_username:
    description: User name for HTTP basic auth.
    type: str
  url_password:
    description: Password for HTTP basic auth.
    type: str
  bearer_token:
    description: "Bearer token sent as C(Authorization: Bearer ...); wins over basic auth."
    type: str
  advice:
    description: What to do when the row does not pass; added to the row as C(advice) unless it passes.
    type: list
    elements: str
  evidence_dir:
    description:
      - Directory where C(prometheus_<check_id>.json) with every query and judged series is written.
    type: path
seealso:
  - module: solvereign.release_ops.http_check
"""

EXAMPLES = r"""
- name: Judge the runbook's Prometheus signals (row 7.2)
  solvereign.release_ops.prometheus_check:
    check_id: "7.2"
    check_title: Prometheus metrics
    environment: staging
    url: http://prometheus:9090
    bearer_token: "{{ vault_prometheus_token }}"
    min_request_rate: 0.1
    traffic_query: sum(rate(http_requests_total{job="solvereign-api"}[5m]))
    queries:
      - name: p95 latency
        query: >-
          histogram_quantile(0.95, sum by (le)
          (rate(http_request_duration_seconds_bucket{job="solvereign-api"}[5m])))
        threshold: "< 2s"
      - name: 5xx error rate
        query: >-
          (sum(rate(http_requests_total{job="solvereign-api",status=~"5.."}[5m])) or vector(0))
          / sum(rate(http_requests_total{job="solvereign-api"}[5m])) * 100
        threshold: "< 1%"
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
measurements:
  description: Every query with its judged series (labels, deciding value, status).
  returned: always
  type: list
  elements: dict
  sample:
    - {"name": "p95 latency", "query": "histogram_quantile(...)", "status": "PASS",
       "series": [{"labels": {}, "value": "0.0049", "status": "PASS"}]}
evidence_file:
  description: Path of C(prometheus_<check_id>.json) (the row and its measurements) in O(evidence_dir), if written.
  returned: always
  type: str
"""

import json
import re
import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.solvereign.release_ops.plugins.module_utils.http_client import (
    HttpClient,
    ensure_requests,
    http_argument_spec,
)
from ansible_collections.solvereign.release_ops.plugins.module_utils.prometheus import (
    PrometheusClient,
    PrometheusError,
    auth_headers,
    judge,
    judge_traffic,
    parse_duration,
)
from ansible_collections.solvereign.release_ops.plugins.module_utils.redact import redact_structure
from ansible_collections.solvereign.release_ops.plugins.module_utils.result import (
    ERROR,
    check_common_argument_spec,
    exit_with_row,
    new_row,
    write_evidence,
)
from ansible_collections.solvereign.release_ops.plugins.module_utils.thresholds import (
    ThresholdError,
    parse_threshold,
)

QUERY_SPEC = dict(
    name=dict(type="str", required=True),
    query=dict(type="str", required=True),
    threshold=dict(type="str", required=True),
    ratio=dict(type="bool", default=False),
    type=dict(type="str", choices=["instant", "range"], default="instant"),
    range=dict(type="str", default="10m"),
    step=dict(type="str", default="30s"),
    violation_status=dict(type="str", choices=["FAIL", "WARN", "ERROR"], default="FAIL"),
    empty_as_zero=dict(type="bool", default=False),
)


def substitute(query, variables):
    """``query`` with ``$name`` and ``${name}`` of ``variables`` replaced by their values."""
    if not query or not variables:
        return query

    def value(match):
        name = match.group(1) or match.group(2)
        return str(variables[name]) if name in variables else match.group(0)
    return re.sub(r"\$\{(\w+)\}|\$(\w+)", value, query)


def validate(module):
    parsed = []
    variables = module.params["variables"] or {}
    module.params["traffic_query"] = substitute(module.params["traffic_query"], variables)
    for spec in module.params["queries"]:
        spec["query"] = substitute(spec["query"], variables)
        try:
            threshold = parse_threshold(spec["threshold"])
        except ThresholdError as exc:
            module.fail_json(msg="queries[%s].threshold: %s" % (spec["name"], exc))
        if spec["type"] == "range":
            for key in ("range", "step"):
                try:
                    parse_duration(spec[key])
                except ValueError as exc:
                    module.fail_json(msg="queries[%s].%s: %s" % (spec["name"], key, exc))
        parsed.append((spec, threshold))
    if module.params["min_request_rate"] > 0 and not module.params["traffic_query"]:
        module.fail_json(msg="min_request_rate needs traffic_query (PromQL giving the request rate)")
    return parsed


def run_query(client, spec, at):
    """Instant queries without ``at`` are evaluated at Prometheus' now."""
    if spec["type"] == "range":
        end = at if at is not None else time.time()
        return client.query_range(spec["query"], end - parse_duration(spec["range"]), end, spec["step"])
    return client.query(spec["query"], at)


def main(module_factory=AnsibleModule):
    argument_spec = check_common_argument_spec()
    argument_spec.update(http_argument_spec())
    argument_spec.update(
        url=dict(type="str", required=True),
        queries=dict(type="list", elements="dict", required=True, options=QUERY_SPEC),
        time=dict(type="float"),
        min_request_rate=dict(type="float", default=0.0),
        traffic_query=dict(type="str"),
        low_traffic_status=dict(type="str", choices=["ERROR", "WARN"], default="ERROR"),
        variables=dict(type="dict", default={}),
        url_username=dict(type="str"),
        url_password=dict(type="str", no_log=True),
        bearer_token=dict(type="str", no_log=True),
        advice=dict(type="list", elements="str"),
        evidence_dir=dict(type="path"),
    )
    module = module_factory(argument_spec=argument_spec, supports_check_mode=True)
    ensure_requests(module)
    parsed = validate(module)
    p = module.params

    row = new_row(module)
    row.advice = p["advice"] or []
    secrets = tuple(module.no_log_values)
    client = PrometheusClient(HttpClient.from_module(module), p["url"],
                              auth_headers(p["url_username"], p["url_password"], p["bearer_token"]))
    at = p["time"]
    measurements = []
    unreachable = None

    if p["min_request_rate"] > 0:
        try:
            rtype, result = client.query(p["traffic_query"], at)[:2]
            status, message, value = judge_traffic(rtype, result, p["min_request_rate"], p["low_traffic_status"],
                                                   p["traffic_query"])
        except PrometheusError as exc:
            status, message, value = ERROR, "traffic: %s (query: %s)" % (exc.message, p["traffic_query"]), None
            if exc.kind == "unreachable":
                unreachable = exc.message
        row.add("traffic", status, message, query=p["traffic_query"])
        measurements.append({"name": "traffic", "query": p["traffic_query"], "status": status, "value": value})

    for spec, threshold in parsed:
        entry = {"name": spec["name"], "query": spec["query"], "threshold": spec["threshold"], "type": spec["type"]}
        if unreachable:
            status, message, series = ERROR, "%s: not evaluated: %s (query: %s)" % (
                spec["name"], unreachable, spec["query"]), []
        else:
            try:
                rtype, result, warnings = run_query(client, spec, at)
            except PrometheusError as exc:
                status, message, series = ERROR, "%s: %s (query: %s)" % (spec["name"], exc.message, spec["query"]), []
                if exc.kind == "unreachable":
                    unreachable = exc.message
            else:
                status, message, series = judge(spec["name"], spec["query"], threshold, rtype, result,
                                                ratio=spec["ratio"], violation_status=spec["violation_status"],
                                                empty_as_zero=spec["empty_as_zero"])
                if warnings:
                    entry["warnings"] = warnings
        series_view = [{"labels": s["labels"], "value": s["value"], "status": s["status"]} for s in series]
        row.add(spec["name"], status, message, query=spec["query"], threshold=spec["threshold"], series=series_view)
        entry.update(status=status, series=series_view)
        measurements.append(entry)

    measurements = redact_structure(measurements, secrets)
    evidence_file = None
    if p["evidence_dir"]:
        evidence_file = write_evidence(p["evidence_dir"], "prometheus_%s.json" % p["check_id"],
                                       json.dumps({"row": row.to_dict(), "measurements": measurements},
                                                  indent=2, default=str) + "\n")
    exit_with_row(module, row, measurements=measurements, evidence_file=evidence_file)


if __name__ == "__main__":
    main()
