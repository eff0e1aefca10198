#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, SOLVEREIGN release engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: last_good_release_info
short_description: The last known good release before a failed one, from the origin's tags (runbook 8.3 step 1)
version_added: 0.2.0
description:
  - Reads the tags of O(repo) with C(git ls-remote --tags) and picks the newest release tag older than
    O(failed_tag) in semantic-version order (V(v3.6.10) is newer than V(v3.6.9)), like the runbook's
    C(git tag -l "v3.6*" --sort=-v:refname | head -1).
  - Pre-releases (V(v3.6.11-rc1)), C(-reverted) tags and releases that carry a C(-reverted) tag are never
    picked. With O(version) that version is checked instead (a release tag of the repository, older than
    O(failed_tag)).
  - Only reads; fails with a message naming what to set when no version qualifies.
author:
  - SOLVEREIGN release engineering (@solvereign)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details:
      - Only reads; runs the same in check mode.
  diff_mode:
    support: none
  platform:
    platforms: posix
options:
  repo:
    description: Path or URL of the repository holding the release tags (C(solvereign_git_repo)).
    type: str
    required: true
  failed_tag:
    description: The failed release (C(solvereign_release_tag)), for example V(v3.7.0).
    type: str
    required: true
  version:
    description: An explicit rollback target (V(v3.6.9) or V(3.6.9)); empty to pick the last good one.
    type: str
    default: ""
  timeout:
    description: Seconds git may wait on the network.
    type: int
    default: 30
"""

EXAMPLES = r"""
- name: Last known good version before v3.7.0
  solvereign.release_ops.last_good_release_info:
    repo: git@github.com:solvereign/solvereign.git
    failed_tag: v3.7.0
  register: last_good
"""

RETURN = r"""
version:
  description: The rollback target tag.
  returned: success
  type: str
  sample: v3.6.10
commit:
  description: The commit of RV(version).
  returned: success
  type: str
failed_commit:
  description: The commit of O(failed_tag); null when the tag is not on the repository.
  returned: success
  type: str
releases:
  description: Release tags of the repository, newest first.
  returned: success
  type: list
  elements: str
excluded:
  description: Tags that are not release candidates for a rollback, each with C(tag) and C(reason).
  returned: success
  type: list
  elements: dict
reverted:
  description: Versions that carry a C(-reverted) tag.
  returned: success
  type: list
  elements: str
tags:
  description: Every tag of the repository with its commit.
  returned: success
  type: dict
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.solvereign.release_ops.plugins.module_utils.git_cli import Git, GitError, origin_url
from ansible_collections.solvereign.release_ops.plugins.module_utils.release_versions import (
    VersionError,
    classify_tags,
    last_good_version,
    parse_ls_remote,
    reverted_versions,
)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            repo=dict(type="str", required=True),
            failed_tag=dict(type="str", required=True),
            version=dict(type="str", default=""),
            timeout=dict(type="int", default=30),
        ),
        supports_check_mode=True,
    )
    p = module.params
    if not p["repo"].strip():
        module.fail_json(msg="repo is empty: set solvereign_git_repo to the repository holding the release tags")
    git = Git(module, timeout=p["timeout"])
    try:
        tags = parse_ls_remote(git.run(["ls-remote", "--tags", origin_url(p["repo"])]))
    except GitError as exc:
        module.fail_json(msg="cannot read the tags of %s: %s (check solvereign_git_repo)" % (p["repo"], exc))
    try:
        version = last_good_version(list(tags), p["failed_tag"], p["version"] or None)
    except VersionError as exc:
        module.fail_json(msg=str(exc), tags=tags)
    releases, excluded = classify_tags(list(tags))
    module.exit_json(changed=False, version=version, commit=tags.get(version), failed_commit=tags.get(p["failed_tag"]),
                     releases=releases, excluded=excluded, reverted=reverted_versions(list(tags)), tags=tags)


if __name__ == "__main__":
    main()
