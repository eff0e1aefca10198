#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, SOLVEREIGN release engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: hotfix_release
short_description: Make a patch release with git as the runbook's section 9 says, refusing every shortcut
version_added: 0.1.0
description:
  - Works in a checkout of the release repository on the controller, with the runbook's git commands
    (9.2 to 9.5) run through argument lists, never a shell.
  - "B(Plan) (read only, also in check mode): refuses a dirty working tree, a cherry-pick or merge in
    progress, an O(version) that is not semver or not greater than the O(base_tag), a base tag that
    does not exist, a fix commit that is not found, an existing tag C(v<version>) locally or on the
    origin that this hotfix did not make, a version file without a version, and missing evidence:
    no fix commit adds or changes a file matching O(regression_glob), a security fix without
    O(security_signoff), a staging verification artifact that is missing or not a PASS. Every
    refusal names what to set or do, and happens before anything changes."
  - "B(Branch) C(hotfix/v<version>) from the base tag and C(git cherry-pick -x) each of O(cherry_pick)
    in order. On a conflict the cherry-pick is aborted, the branch is put back as it was (removed
    if this run created it), the checkout returns to its previous branch, and the conflicting files
    are named. With an empty O(cherry_pick) the commits already on the branch are the fix."
  - "B(Bump) the version in O(version_files) and commit V(chore: bump version to <version>)."
  - "B(Gate) (9.4): run O(test_command) on the branch and record its summary line; failing tests
    refuse the tag (the branch is kept for the re-run)."
  - "B(Tag) (9.3): annotated C(v<version>) with exactly the runbook's message. B(Push) the branch and
    the tag to O(remote) with O(push), B(merge back) into O(main_branch) with O(merge_main) (a merge
    commit; a conflict is aborted and leaves the main branch as it was)."
  - A re-run continues where an earlier run stopped; a branch with the same cherry-picks, its bump
    commit and its tag are reused, never duplicated, moved or forced.
  - The checkout is returned to the branch it was on at the end of every run.
author:
  - SOLVEREIGN release engineering (@solvereign)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: Check mode runs the plan with all its refusals and returns it; it changes nothing and writes no evidence.
  diff_mode:
    support: none
  platform:
    platforms: posix
options:
  repo:
    description: Root of a checkout (with working tree) of the release repository.
    type: path
    required: true
  base_tag:
    description: The released tag the hotfix branches from, for example V(v3.7.0).
    type: str
    required: true
  version:
    description: The patch version, semver without a leading C(v), greater than the base, for example V(3.7.1).
    type: str
    required: true
  cherry_pick:
    description:
      - Fix commits (full or abbreviated hashes) to cherry-pick in this order.
      - Empty to release the fix commits already on C(hotfix/v<version>).
    type: list
    elements: str
    default: []
  description:
    description: One line describing the fix; the tag message's C(Fix:) line.
    type: str
    required: true
  test_command:
    description:
      - Command run in O(repo) on the hotfix branch; it must exit 0. Split like a shell would split it,
        but not run by a shell (use C(sh -c '...') for pipes).
      - Its last summary line (pytest's C(12 passed in 0.84s)) becomes the tag message's C(Tested:) line.
    type: str
    default: python -m pytest -q
  regression_glob:
    description: At least one file the fix commits add or change must match this glob (C(**) spans directories).
    type: str
    default: "tests/**"
  version_files:
    description:
      - Files whose version is bumped, each a path relative to O(repo) or a dict with C(path) and
        C(regex) (a Python regex whose group C(version), or else its first group, is the version).
      - >-
        V(pyproject.toml) and V(package.json) have built-in regexes (the first C(version = "...") line,
        the first C("version": "...")). A file whose regex matches nothing is refused.
    type: list
    elements: raw
    default: [pyproject.toml, package.json]
  security:
    description: The fix is a security fix; it then needs O(security_signoff).
    type: bool
    default: false
  security_signoff:
    description: Name of the security lead who signed off the fix (recorded as evidence).
    type: str
    default: ""
  staging_evidence:
    description:
      - A staging verification artifact that must be a PASS, the C(checklist.json) of
        C(playbooks/verify.yml) against staging running the hotfix (or its directory). Its
        C(verdict) must be V(PASS) and its C(release), when set, the hotfix version.
      - Empty to not require one.
    type: path
    default: ""
  push:
    description: Push the branch and the tag (and with O(merge_main) the main branch) to O(remote). Never forced.
    type: bool
    default: false
  merge_main:
    description: Merge the hotfix branch into O(main_branch) with a merge commit (runbook 9.5).
    type: bool
    default: false
  main_branch:
    description: The branch the hotfix is merged back into.
    type: str
    default: main
  remote:
    description: The remote that is checked for an existing tag and pushed to.
    type: str
    default: origin
  evidence_dir:
    description:
      - Directory for the evidence files C(result.json), C(tests.log), C(tag_message.txt),
        C(security_signoff.txt) and C(staging_checklist.json). Empty for none.
      - Inside O(repo) it is left out of the clean working tree check.
    type: path
    default: ""
requirements:
  - git on the controller
notes:
  - The commits are made with the repository's git identity (C(user.name), C(user.email)).
"""

EXAMPLES = r"""
- name: Patch release v3.7.1 from v3.7.0 with one cherry-picked fix, pushed and merged back
  solvereign.release_ops.hotfix_release:
    repo: /srv/checkouts/solvereign
    base_tag: v3.7.0
    version: 3.7.1
    cherry_pick: [3f2c1ab]
    description: "Dispatch list no longer drops sites with a pending import"
    test_command: .venv/bin/python -m pytest -q
    push: true
    merge_main: true
    evidence_dir: release_evidence/v3.7.1/hotfix
  delegate_to: localhost

- name: A security fix, committed on hotfix/v3.7.2 directly, with staging evidence
  solvereign.release_ops.hotfix_release:
    repo: /srv/checkouts/solvereign
    base_tag: v3.7.1
    version: 3.7.2
    description: "Session cookie is bound to the tenant"
    security: true
    security_signoff: "A. Security Lead"
    staging_evidence: release_evidence/staging-3.7.2/checklist.json
    version_files:
      - pyproject.toml
      - package.json
      - path: backend/solvereign/__init__.py
        regex: '__version__ = "([^"]+)"'
"""

RETURN = r"""
refused:
  description: Why the flow refused (what to fix), or null.
  returned: always
  type: str
missing:
  description: Each missing piece of evidence when the gate refused.
  returned: always
  type: list
  elements: str
plan:
  description: The steps this run takes (in check mode, would take).
  returned: always
  type: list
  elements: str
actions:
  description: What this run changed, in order.
  returned: always
  type: list
  elements: str
result:
  description:
    - The content of C(result.json) - C(version), C(base_tag), C(branch) and C(tag) (null unless they
      exist), C(commits) (C(sha), C(subject), C(cherry_picked_from)), C(cherry_picked_from), C(tested)
      (the test summary line), C(pushed), C(merged), C(refused), C(missing), C(check_mode),
      C(generated_at), C(evidence) (paths).
  returned: always
  type: dict
tag_message:
  description: The tag message, when the tag exists.
  returned: always
  type: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.solvereign.release_ops.plugins.module_utils._hotfix import (
    DEFAULT_VERSION_FILES,
    GitError,
    HotfixFlow,
    Refusal,
    write_hotfix_evidence,
)
from ansible_collections.solvereign.release_ops.plugins.module_utils.result import utc_now_iso


def main():
    module = AnsibleModule(
        argument_spec=dict(
            repo=dict(type="path", required=True),
            base_tag=dict(type="str", required=True),
            version=dict(type="str", required=True),
            cherry_pick=dict(type="list", elements="str", default=[]),
            description=dict(type="str", required=True),
            test_command=dict(type="str", default="python -m pytest -q"),
            regression_glob=dict(type="str", default="tests/**"),
            version_files=dict(type="list", elements="raw", default=list(DEFAULT_VERSION_FILES)),
            security=dict(type="bool", default=False),
            security_signoff=dict(type="str", default=""),
            staging_evidence=dict(type="path", default=""),
            push=dict(type="bool", default=False),
            merge_main=dict(type="bool", default=False),
            main_branch=dict(type="str", default="main"),
            remote=dict(type="str", default="origin"),
            evidence_dir=dict(type="path", default=""),
        ),
        supports_check_mode=True,
    )
    params = dict(module.params)
    params["cherry_pick"] = [str(sha).strip() for sha in params["cherry_pick"] or []]
    params["security_signoff"] = params["security_signoff"] or ""
    flow = HotfixFlow(module, params)
    refused, missing = None, []
    try:
        flow.plan()
        if not module.check_mode:
            flow.apply()
    except Refusal as exc:
        refused, missing = exc.message, exc.missing
    except GitError as exc:
        refused = "%s (nothing was forced; fix the repository and re-run)" % exc

    result = flow.outcome() if flow.git else dict(
        version=params["version"], base_tag=params["base_tag"], branch=None, tag=None, commits=[],
        cherry_picked_from=[], tested=None, pushed=False, merged=False)
    result.update(refused=refused, missing=missing, check_mode=module.check_mode, generated_at=utc_now_iso(),
                  plan=flow.plan_lines, actions=flow.actions)
    evidence = {} if module.check_mode else write_hotfix_evidence(params["evidence_dir"], flow, result)
    result["evidence"] = evidence
    changed = flow.would_change() if module.check_mode and not refused else bool(flow.actions)
    output = dict(changed=changed, refused=refused, missing=missing, plan=flow.plan_lines,
                  actions=flow.actions, result=result, tag_message=flow.state.get("tag_message") or "")
    if refused:
        module.fail_json(msg=refused, **output)
    module.exit_json(**output)


if __name__ == "__main__":
    main()
