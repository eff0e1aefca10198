#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, SOLVEREIGN release engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: checklist_write
short_description: Write the runbook checklist as JSON, Markdown and JUnit XML
version_added: 0.1.0
description:
  - Takes the checklist rows of one or more environments and writes C(checklist.json),
    C(checklist.md) and C(junit.xml) into O(evidence_dir).
  - The verdict is V(FAIL) when any row is V(FAIL) or V(ERROR), or with O(strict) when any row is
    V(SKIP), and when there are no rows at all.
  - Rows are written as given, sorted in runbook order; known secrets are masked once more.
  - The module reports the verdict; failing the play on a V(FAIL) verdict is left to the caller,
    so the files are written whatever the outcome.
  - Runs on the controller, inside Ansible's own process (an action plugin of the same name), whatever
    the task's host; the checklist is always written there.
author:
  - SOLVEREIGN release engineering (@solvereign)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: none
    details: The checklist is the report of the run, so it is written in check mode too (the
      playbooks set C(check_mode=false) on this task); it never touches the system under test.
  diff_mode:
    support: none
  platform:
    platforms: posix
options:
  rows:
    description: Checklist rows, as returned in RV(solvereign.release_ops.http_check#module:row) by the check modules.
    type: list
    elements: dict
    required: true
  release:
    description: Release version the checklist is for, for example V(3.7.0).
    type: str
    required: true
  evidence_dir:
    description: Directory to write into; created when missing.
    type: path
    required: true
  strict:
    description: Count V(SKIP) rows as failing the verdict.
    type: bool
    default: false
  secrets:
    description: Values that must not appear in the files; masked if they do.
    type: list
    elements: str
    default: []
"""

EXAMPLES = r"""
- name: Write the checklist
  solvereign.release_ops.checklist_write:
    rows: "{{ solvereign_checklist_rows }}"
    release: "3.7.0"
    evidence_dir: release_evidence/v3.7.0
  check_mode: false
  delegate_to: localhost
  register: checklist
"""

RETURN = r"""
verdict:
  description: V(PASS) or V(FAIL).
  returned: always
  type: str
  sample: FAIL
counts:
  description: Number of rows per status.
  returned: always
  type: dict
  sample: {"PASS": 20, "WARN": 1, "FAIL": 1, "ERROR": 0, "SKIP": 2}
paths:
  description: Absolute paths of the files written.
  returned: always
  type: dict
  sample: {"json": "/srv/release_evidence/v3.7.0/checklist.json", "markdown": "...", "junit": "..."}
failing:
  description: C(id environment status summary) of every row that fails the verdict.
  returned: always
  type: list
  elements: str
markdown:
  description: The Markdown rendering, for printing.
  returned: always
  type: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.solvereign.release_ops.plugins.module_utils import checklist as render


def main(module_factory=AnsibleModule):
    module = module_factory(
        argument_spec=dict(
            rows=dict(type="list", elements="dict", required=True),
            release=dict(type="str", required=True),
            evidence_dir=dict(type="path", required=True),
            strict=dict(type="bool", default=False),
            secrets=dict(type="list", elements="str", default=[], no_log=True),
        ),
        supports_check_mode=False,
    )
    p = module.params
    checklist = render.build(p["rows"], p["release"], strict=p["strict"], secrets=p["secrets"])
    try:
        paths = render.write_all(p["evidence_dir"], checklist)
    except (IOError, OSError) as exc:
        module.fail_json(msg="cannot write the checklist into %s: %s" % (p["evidence_dir"], exc))
    failing_statuses = ("FAIL", "ERROR", "SKIP") if p["strict"] else ("FAIL", "ERROR")
    failing = ["%s %s %s: %s" % (r["id"], r.get("environment"), r["status"], r.get("summary"))
               for r in checklist["checks"] if r.get("status") in failing_statuses]
    module.exit_json(changed=True, verdict=checklist["verdict"], counts=checklist["counts"], paths=paths,
                     failing=failing, markdown=render.to_markdown(checklist))


if __name__ == "__main__":
    main()
