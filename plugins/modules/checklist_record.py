#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, SOLVEREIGN release engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: checklist_record
short_description: Record checklist rows for the current environment
version_added: 0.1.0
description:
  - Appends rows to the host fact C(solvereign_checklist_rows), which the
    C(solvereign.release_ops.checklist) role writes out at the end of the run.
  - Takes what a check task registered (O(result)) and records its row. When the check could not
    run (module failure, unreachable host) an V(ERROR) row with the reason is recorded instead;
    when the task was skipped, a V(SKIP) row with O(reason).
  - With O(skip) or O(error), records O(rows) as V(SKIP) or V(ERROR) with O(reason) without a result.
  - This is an action plugin; it runs on the controller only.
author:
  - SOLVEREIGN release engineering (@solvereign)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.flow
attributes:
  check_mode:
    support: full
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
  result:
    description: What the check task registered; its C(row) is recorded.
    type: raw
  results:
    description:
      - What a check task that returns several rows (key C(rows)) registered; each of O(rows) is
        matched by id.
    type: raw
  host_rows:
    description:
      - Rows that several hosts of the environment produced for the same check, by host name
        (V(null) for a host where the check did not run).
      - They are merged into one row. Findings are prefixed with the host; a host without a row
        is an V(ERROR) finding.
    type: dict
  row:
    description: Id and title of the row, C({id, title}).
    type: dict
  rows:
    description: Ids and titles of several rows.
    type: list
    elements: dict
  skip:
    description: Record O(rows) as V(SKIP) with O(reason).
    type: bool
    default: false
  error:
    description: Record O(rows) as V(ERROR) with O(reason).
    type: bool
    default: false
  reason:
    description: Why the rows are skipped or in error; for a skipped check task, why it was skipped.
    type: str
  environment:
    description: Environment of the rows; defaults to C(solvereign_environment).
    type: str
  checks:
    description:
      - What M(solvereign.release_ops.run_checks) registered, or its part for this host's environment
        (C(result.environments[solvereign_environment]), which templates faster over many environments).
        The rows of this host's environment are recorded, and the facts its plan exported (for example
        C(auth_smoke_session_fingerprints)) are set on this host.
    type: dict
  reset:
    description:
      - Forget the rows recorded so far for this host (the preflight does this at the start of a
        run, so a persistent fact cache never carries rows from an earlier run).
    type: bool
    default: false
"""

EXAMPLES = r"""
- name: Probe the health endpoints
  solvereign.release_ops.http_check:
    check_id: "2.1"
    check_title: Staging health
    environment: staging
    base_url: "{{ solvereign_url }}"
    probes: [{path: /api/health}]
  delegate_to: localhost
  register: health_result
  ignore_errors: true

- name: Record row 2.1
  solvereign.release_ops.checklist_record:
    result: "{{ health_result }}"
    row: {id: "2.1", title: Staging health}

- name: Record section 6 as skipped
  solvereign.release_ops.checklist_record:
    rows: [{id: "6.1", title: Migration status}]
    skip: true
    reason: solvereign_database_url is not set
"""

RETURN = r"""
rows:
  description: The rows recorded by this task.
  returned: always
  type: list
  elements: dict
"""
