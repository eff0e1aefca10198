#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, SOLVEREIGN release engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: run_checks
short_description: Run the planned checks of every environment at once, on the controller
version_added: 0.1.0
description:
  - Runs the checks that the section roles planned in the host fact C(solvereign_check_plan), for
    every environment of the play in one task, and returns each environment's checklist rows.
  - With O(sections) it plans them itself, in the same task, instead of every host running each
    section role (a task per host and role, which a fleet of environments feels).
  - The plan of an environment is taken from its first host in O(hosts) that has one; its other hosts
    (docker hosts of the same environment) do not run it again.
  - Each check is one of the collection's check modules, run inside the controller's process with the
    module's own argument spec, C(no_log) masking and result, in a bounded pool of threads. Checks wait
    only for the checks named in their C(after) and C(needs); everything else runs side by side, over
    all environments. A module that fails or raises gives V(ERROR) rows saying why; the others go on.
  - A host whose C(solvereign_gate_reason) is set (production held back while an earlier environment
    fails) gets every planned row as V(SKIP) with that reason, and nothing of its plan runs.
  - Record the rows with M(solvereign.release_ops.checklist_record) and
    O(solvereign.release_ops.checklist_record#module:checks).
  - This is an action plugin; run it once per play (C(run_once)).
author:
  - SOLVEREIGN release engineering (@solvereign)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.flow
attributes:
  check_mode:
    support: full
    details: The checks only read; they run the same in check mode.
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
  hosts:
    description:
      - Hosts whose plans run; by default the hosts of the play (C(ansible_play_hosts)).
      - "Each host's plan is a list of checks in the fact C(solvereign_check_plan). A check is a dict:
        C(name) (unique in its environment); C(rows), a list of C({id, title}) (empty for a check that
        only feeds another one); C(module), a check module of this collection, and its C(args)
        (an argument that is V(null) is left out, as C(omit) would); C(skip) or C(error), a reason that
        records the rows as V(SKIP) or V(ERROR) without running anything; C(after), names of checks to
        wait for; C(needs), arguments taken from an earlier check's result,
        C({argument.path: {from: name, path: result.path, default: value}}); C(export), facts to set on
        the environment's hosts from the result, C({fact: {path: result.path, default: value}})."
    type: list
    elements: str
  sections:
    description:
      - Section roles of this collection whose checks this task plans for every environment of the play,
        each a role name (V(solvereign.release_ops.health) or V(health)) or C({role, tags}).
      - For the first host of each environment, the role's planned checks (its role var
        C(_<role>_planned_checks)) are templated with that host's variables, the role's defaults and vars
        and the extra vars, with the precedence a play listing the roles gives them, after the role's
        C(meta/argument_specs.yml) validated them as the role's own validation task would. An environment
        whose variables fail that validation or cannot be templated gets the section's rows as V(ERROR),
        saying why; the other sections and environments go on.
      - A section whose C(tags) the run does not select (C(--tags), C(--skip-tags)) is left out.
      - The plan of a host (C(solvereign_check_plan)) runs after the planned sections.
    type: list
    elements: raw
    default: []
  max_workers:
    description:
      - How many checks run at the same time, over all environments (they mostly wait on the network),
        besides those of the modules in O(limits).
      - Each PostgreSQL check holds one connection of its environment's database while it runs.
    type: int
    default: 128
  limits:
    description:
      - How many checks of one module may run at the same time, by module name; they get workers of their
        own, so the other checks never queue behind them. The UI login smokes of all environments share
        one Chromium, each in a browser context of its own (a renderer, about 30 MB of its own), so they
        are bounded whatever the number of environments.
    type: dict
    default: {ui_login_check: 6}
notes:
  - The modules that run this way are C(auth_smoke), C(container_logs_check), C(git_tag_check),
    C(http_check), C(pg_migrations_check), C(pg_settings_info), C(pg_tenant_isolation_check),
    C(pg_verify_function_check), C(prometheus_check), C(security_headers_check), C(sentry_check),
    C(ui_login_check) and C(webhook_check).
  - Each environment's checks start as soon as it is planned. A plan naming any other module, or malformed
    otherwise, fails the task when its environment is planned; the checks of the environments planned
    before it finish first.
seealso:
  - module: solvereign.release_ops.checklist_record
"""

EXAMPLES = r"""
- name: Plan the health probes
  ansible.builtin.set_fact:
    solvereign_check_plan:
      - name: health
        rows: [{id: "2.1", title: Staging health}]
        module: solvereign.release_ops.http_check
        args:
          check_id: "2.1"
          check_title: Staging health
          environment: "{{ solvereign_environment }}"
          base_url: "{{ solvereign_url }}"
          probes: [{path: /api/health}, {path: /api/health/ready}, {path: /api/health/live}]

- name: Run the planned checks of every environment at once
  solvereign.release_ops.run_checks:
  run_once: true
  register: verify_checks_run

# Or let the task plan the sections itself, for every environment of the play:
- name: Plan and run sections 2 and 3 of every environment
  solvereign.release_ops.run_checks:
    sections:
      - {role: solvereign.release_ops.health, tags: [health]}
      - {role: solvereign.release_ops.security_headers, tags: [headers]}
  run_once: true
  register: verify_checks_run

- name: Record the rows of this host's environment
  solvereign.release_ops.checklist_record:
    checks: "{{ verify_checks_run.environments[solvereign_environment] }}"
  when: solvereign_environment in verify_checks_run.environments
"""

RETURN = r"""
environments:
  description: By environment, its rows, the facts its plan exported and the host whose plan ran.
  returned: always
  type: dict
  sample:
    staging:
      host: staging-docker-1
      facts: {auth_smoke_session_fingerprints: []}
      rows: [{id: "2.1", environment: staging, status: PASS, summary: "GET /api/health: HTTP 200 in 0.012s"}]
counts:
  description: Number of rows by status, over all environments.
  returned: always
  type: dict
  sample: {PASS: 20, WARN: 1}
elapsed_s:
  description: Wall time of all the checks, in seconds.
  returned: always
  type: float
planned_s:
  description: Seconds from the start of the task until every environment was planned (the checks of the
    environments planned first run meanwhile).
  returned: always
  type: float
host_tasks:
  description:
    - By section role and task file, the hosts that must still run that file of the role themselves,
      e.g. C(observability)'s C(logs) (7.3) on docker hosts that are not the controller.
  returned: always
  type: dict
  sample: {observability: {logs: [staging-docker-1, staging-docker-2]}}
"""
