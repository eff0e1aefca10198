#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, SOLVEREIGN release engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: soak_run
short_description: Run the release soak and decide PASS, FAIL, ROLLBACK or INCONCLUSIVE (runbook 8.1-8.2)
version_added: 0.1.0
description:
  - Judges the signals of a policy file (O(policy_file)) over a soak window, live or retrospectively, and
    returns a verdict with reasons a person can read, for example
    C(5xx rate 6.1% > 5% for 6m30s (12:31:00–12:37:30)).
  - Each checkpoint judges every point of the whole range since the previous checkpoint (a PromQL range
    query at the policy's C(step)); every series counts and the worst one wins. A measurement is
    V(PASS), V(FAIL), V(INCONCLUSIVE) (no data, NaN, not enough traffic), V(ERROR) (query failed) or
    V(SKIP) (the signal's source is not configured).
  - Rollback triggers (C(when) held C(for) longer than a duration) are judged over the range with a
    coverage guard, so one missing scrape neither resets nor fakes a breach; in live mode they run
    in a fast loop (the policy's C(trigger_interval)).
  - Probes (tenant isolation, hardening function, login smoke) run the collection's check modules at
    each probe checkpoint of a live soak; a failing probe is a security incident or data corruption
    and fires the rollback. A retrospective soak cannot probe the past, so probes are V(SKIP) there.
  - A live soak saves its state after every measurement in C(<evidence_dir>/soak/); started again with
    the same evidence dir, policy and duration it resumes where it stopped (measurements are not repeated).
  - Bad input (unknown policy field, bad threshold, PromQL that Prometheus rejects, a checkpoint
    interval longer than the duration, a retrospective start in the future, a window older than
    Prometheus' retention) fails the task before any measurement, naming the field.
  - Writes C(soak/verdict.json), C(soak/measurements.jsonl), C(soak/state.json) and a chart per
    Prometheus signal (C(soak/chart_<signal>.png), when matplotlib is installed; otherwise the verdict
    lists the charts that could not be drawn), and merges row 8.1 into C(<evidence_dir>/checklist.json).
  - The task does not fail for a verdict other than PASS; the C(solvereign.release_ops.soak) role does.
  - This is an action plugin; it runs on the controller.
author:
  - SOLVEREIGN release engineering (@solvereign)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.flow
attributes:
  check_mode:
    support: full
    details: The decision is computed and reported (C(would roll back because ...)); the evidence is written.
  diff_mode:
    support: none
  action:
    support: full
  async:
    support: none
  bypass_host_loop:
    support: none
  platform:
    platforms: posix
options:
  policy_file:
    description: The policy (YAML). See C(roles/soak/files/runbook_policy.yml) for the runbook's.
    type: path
    required: true
  variables:
    description: Values of the policy's C($name) placeholders, for example C(job), C(db_name), C(containers).
    type: dict
    default: {}
  mode:
    description: V(live) watches in real time; V(retrospective) judges a past window in seconds.
    type: str
    choices: [live, retrospective]
    default: live
  start:
    description:
      - Start of the window, ISO 8601 (V(2026-12-01T10:00:00Z)) or epoch seconds.
      - Required for V(retrospective). In V(live) mode the default is now, or the start of an unfinished
        soak in the same evidence dir, which then resumes.
    type: raw
  duration:
    description: Length of the window (V(2h), V(90m), V(45s)).
    type: str
    default: 2h
  strict:
    description: A V(SKIP) signal fails the soak.
    type: bool
    default: false
  prometheus_url:
    description: Base URL of Prometheus.
    type: str
    required: true
  prometheus_username:
    description: Basic auth user for Prometheus.
    type: str
  prometheus_password:
    description: Basic auth password for Prometheus.
    type: str
  prometheus_token:
    description: Bearer token for Prometheus (wins over basic auth).
    type: str
  sentry:
    description:
      - Sentry settings C(url), C(org), C(project), C(token) and optional C(environment) for the error log
        volume signal. The signal is V(SKIP) unless all four are set.
    type: dict
  docker:
    description:
      - Where the error log volume reads C(docker logs --since/--until) when Sentry is not configured,
        C(containers) (list of names) and optional C(docker_host) (C(DOCKER_HOST), for example
        V(ssh://deploy@host)). Without containers that source is not configured.
    type: dict
  probes:
    description:
      - The probes the policy names, by name. Each is C({module, args, row}) (a check module of this
        collection, its arguments and the row id to read), or C({skip} = reason) when not configured.
    type: dict
    default: {}
  evidence_dir:
    description: Evidence dir; the soak writes into its C(soak/) subdirectory and merges row 8.1 into its C(checklist.json).
    type: path
    required: true
  environment:
    description: Environment of row 8.1.
    type: str
    required: true
  release:
    description: Release version for a new C(checklist.json) (an existing one keeps its own).
    type: str
    default: ""
  checklist:
    description: Merge row 8.1 into C(<evidence_dir>/checklist.json) (and rewrite C(checklist.md) and C(junit.xml)).
    type: bool
    default: true
  charts:
    description: Draw a PNG chart per Prometheus signal (needs matplotlib).
    type: bool
    default: true
  timeout:
    description: Seconds to wait for each Prometheus or Sentry answer.
    type: float
    default: 10.0
  validate_certs:
    description: Verify TLS certificates.
    type: bool
    default: true
  ca_path:
    description: CA bundle for TLS verification.
    type: path
seealso:
  - module: solvereign.release_ops.prometheus_check
"""

EXAMPLES = r"""
- name: Judge the two hours after the deploy
  solvereign.release_ops.soak_run:
    policy_file: "{{ role_path }}/files/runbook_policy.yml"
    variables: {job: solvereign-api, db_name: solvereign, containers: solvereign-api}
    mode: retrospective
    start: "2026-12-01T10:00:00Z"
    duration: 2h
    prometheus_url: http://prometheus:9090
    evidence_dir: release_evidence/v3.7.0
    environment: prod
  delegate_to: localhost
  register: soak

- name: Stop unless the soak passed
  ansible.builtin.fail:
    msg: "{{ soak.message }}"
  when: soak.verdict != 'PASS'
"""

RETURN = r"""
verdict:
  description: V(PASS), V(FAIL), V(ROLLBACK) or V(INCONCLUSIVE).
  returned: success
  type: str
reasons:
  description: Why, one sentence per signal or trigger that decided.
  returned: success
  type: list
  elements: str
message:
  description: One line for people, C(would roll back because ...) in check mode.
  returned: success
  type: str
row:
  description: Row 8.1 (V(PASS); V(FAIL) for FAIL and ROLLBACK; V(ERROR) for INCONCLUSIVE).
  returned: success
  type: dict
signals:
  description: Every signal with C(name), C(status), C(worst), C(threshold), C(trigger), C(reason), C(counts).
  returned: success
  type: list
  elements: dict
triggers:
  description: The rollback triggers that fired, with C(signal), C(reason), C(start), C(end).
  returned: success
  type: list
  elements: dict
window:
  description: C(start), C(end) and C(duration) of the judged window.
  returned: success
  type: dict
policy_sha256:
  description: sha256 of the policy file.
  returned: success
  type: str
verdict_path:
  description: Path of C(verdict.json).
  returned: success
  type: str
measurements_path:
  description: Path of C(measurements.jsonl).
  returned: success
  type: str
checklist_path:
  description: Path of the C(checklist.json) that row 8.1 was merged into.
  returned: success
  type: str
charts:
  description: The charts drawn (C(signal), C(path)).
  returned: success
  type: list
  elements: dict
charts_missing:
  description: The charts that could not be drawn, with the reason.
  returned: success
  type: list
  elements: dict
resumed_measurements:
  description: Measurements taken over from an interrupted live soak.
  returned: success
  type: int
measurements:
  description: Number of measurements recorded.
  returned: success
  type: int
elapsed_s:
  description: Wall time of the soak.
  returned: success
  type: float
field:
  description: The field or variable that was refused.
  returned: failure
  type: str
"""
