#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, SOLVEREIGN release engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: git_tag_check
short_description: Verify a release tag on the origin repository (runbook row 1.1)
version_added: 0.1.0
description:
  - Looks the tag up on the origin with C(git ls-remote), so the answer is the origin's, not a
    possibly stale local clone's.
  - "Findings: the tag exists; it is annotated; it peels to the expected commit (abbreviated
    hashes match when one is a prefix of the other); its message contains the expected text."
  - To read the tag message the tag alone is fetched, shallow, into a temporary bare repository
    that is deleted afterwards. The origin is never written to.
  - It never re-tags or force-pushes. The runbook's re-tag remedy is returned as advice to be
    carried out by a person after review.
author:
  - SOLVEREIGN release engineering (@solvereign)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - solvereign.release_ops.check_row
options:
  repo:
    description:
      - The origin holding the release tags, as a local path of a (bare) repository or a git URL.
    type: str
    required: true
  tag:
    description: The release tag, for example V(v3.7.0).
    type: str
    required: true
  expected_commit:
    description: The commit the tag must point to; full or abbreviated (at least 4 hex digits).
    type: str
    required: true
  expected_message:
    description:
      - "Text the tag message must contain, for example V(GA Release: SOLVEREIGN v3.7.0)."
      - Empty to skip the message finding.
    type: str
    default: ""
  timeout:
    description: Seconds a git network operation may stall before it is given up.
    type: int
    default: 30
requirements:
  - git on the controller
"""

EXAMPLES = r"""
- name: Verify the release tag on origin (row 1.1)
  solvereign.release_ops.git_tag_check:
    check_id: "1.1"
    check_title: Tag verification
    environment: prod
    repo: git@github.com:solvereign/solvereign.git
    tag: v3.7.0
    expected_commit: 87b4a59
    expected_message: "GA Release: SOLVEREIGN v3.7.0"
  delegate_to: localhost
  register: tag_check
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
tag_object:
  description: Hash of the annotated tag object on the origin, if the tag exists.
  returned: always
  type: str
  sample: 4f1c2d...
peeled_commit:
  description: Hash of the commit the tag points to, if the tag exists.
  returned: always
  type: str
  sample: 87b4a59e0c1f...
"""

import os
import re
import shutil
import tempfile

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.solvereign.release_ops.plugins.module_utils.assertions import commit_matches
from ansible_collections.solvereign.release_ops.plugins.module_utils.redact import redact_text
from ansible_collections.solvereign.release_ops.plugins.module_utils.result import (
    check_common_argument_spec,
    exit_with_row,
    new_row,
)


class GitError(Exception):
    pass


class Git(object):
    def __init__(self, module, timeout):
        self.module = module
        self.binary = module.get_bin_path("git")
        self.env = {
            "GIT_TERMINAL_PROMPT": "0",
            "GIT_ASKPASS": "/bin/true",
            "GIT_SSH_COMMAND": "ssh -o BatchMode=yes -o ConnectTimeout=%d" % timeout,
            "LC_ALL": "C",
        }
        self.config = ["-c", "http.lowSpeedLimit=1", "-c", "http.lowSpeedTime=%d" % timeout,
                       "-c", "protocol.file.allow=always"]

    def run(self, args, cwd=None):
        if not self.binary:
            raise GitError("git is not installed on the controller: install the git package")
        rc, out, err = self.module.run_command([self.binary] + self.config + args, cwd=cwd,
                                               environ_update=self.env)
        if rc != 0:
            raise GitError(redact_text(" ".join((err or out).split()), self.module.no_log_values) or "exit %d" % rc)
        return out


def origin_url(repo):
    """Local paths become file:// URLs so that shallow fetches work."""
    if os.path.isdir(repo):
        return "file://" + os.path.abspath(repo)
    return repo


def ls_remote_tag(git, url, tag):
    """Return (tag_object_sha, peeled_sha) or (None, None) when the tag is absent."""
    ref = "refs/tags/%s" % tag
    out = git.run(["ls-remote", url, ref, ref + "^{}"])
    direct = peeled = None
    for line in out.splitlines():
        parts = line.split("\t")
        if len(parts) != 2:
            continue
        if parts[1] == ref:
            direct = parts[0]
        elif parts[1] == ref + "^{}":
            peeled = parts[0]
    return direct, peeled


def read_tag_message(git, url, tag):
    """Fetch only the tag into a throw-away bare repo and return its annotation message."""
    scratch = tempfile.mkdtemp(prefix="solvereign-tag-")
    try:
        git.run(["init", "--bare", "-q", scratch])
        git.run(["fetch", "-q", "--no-tags", "--depth=1", url,
                 "+refs/tags/%s:refs/tags/%s" % (tag, tag)], cwd=scratch)
        raw = git.run(["cat-file", "tag", "refs/tags/%s" % tag], cwd=scratch)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    message = raw.partition("\n\n")[2]
    message = re.split(r"\n-----BEGIN (?:PGP|SSH) SIGNATURE-----", message)[0]
    return message.strip()


def main(module_factory=AnsibleModule):
    argument_spec = check_common_argument_spec()
    argument_spec.update(
        repo=dict(type="str", required=True),
        tag=dict(type="str", required=True),
        expected_commit=dict(type="str", required=True),
        expected_message=dict(type="str", default=""),
        timeout=dict(type="int", default=30),
    )
    module = module_factory(argument_spec=argument_spec, supports_check_mode=True)
    p = module.params
    row = new_row(module)
    tag = p["tag"]
    shown_repo = redact_text(p["repo"])
    row.advice = [
        "Find the correct release commit, then re-tag by hand after review: git tag -d %s && "
        "git tag -a %s <correct-sha> -m \"%s\" && git push -f origin %s (this check never changes tags)"
        % (tag, tag, p["expected_message"] or "GA Release", tag),
        "Document the discrepancy in the release notes",
    ]
    git = Git(module, p["timeout"])
    url = origin_url(p["repo"])
    result = dict(tag_object=None, peeled_commit=None)
    try:
        direct, peeled = ls_remote_tag(git, url, tag)
    except GitError as exc:
        row.error("origin", "cannot list tags of %s: %s" % (shown_repo, exc))
        row.advice = ["Check solvereign_git_repo and the controller's access to it (SSH key, token, network)"]
        exit_with_row(module, row, **result)

    if not direct:
        row.fail("exists", "tag %s does not exist on %s" % (tag, shown_repo))
        exit_with_row(module, row, **result)
    row.passed("exists", "tag %s exists on %s" % (tag, shown_repo))
    result["tag_object"] = direct

    if peeled:
        row.passed("annotated", "tag %s is annotated (tag object %s)" % (tag, direct[:12]))
    else:
        peeled = direct
        row.fail("annotated", "tag %s is a lightweight tag; a release tag must be annotated (git tag -a)" % tag)
    result["peeled_commit"] = peeled

    if commit_matches(peeled, p["expected_commit"]):
        row.passed("commit", "tag %s points to %s (expected %s)" % (tag, peeled[:12], p["expected_commit"]))
    else:
        row.fail("commit", "tag %s points to %s, expected %s" % (tag, peeled[:12], p["expected_commit"]))

    if p["expected_message"]:
        if not result["tag_object"] or direct == peeled:
            row.fail("message", "a lightweight tag has no message; expected it to contain %r" % p["expected_message"])
        else:
            try:
                message = read_tag_message(git, url, tag)
            except GitError as exc:
                row.error("message", "cannot read the message of tag %s: %s" % (tag, exc))
            else:
                first_line = message.splitlines()[0] if message else ""
                if p["expected_message"] in message:
                    row.passed("message", "tag message contains %r" % p["expected_message"])
                else:
                    row.fail("message", "tag message %r does not contain %r" % (first_line[:120], p["expected_message"]))
    exit_with_row(module, row, **result)


if __name__ == "__main__":
    main()
