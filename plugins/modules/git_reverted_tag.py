#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, SOLVEREIGN release engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: git_reverted_tag
short_description: Tag a failed release as reverted on the origin (runbook 8.3 Post-Rollback)
version_added: 0.2.0
description:
  - Creates the annotated tag C(<tag><suffix>) (V(v3.7.0-reverted)) on the commit of O(tag) and pushes it
    to O(repo), as the runbook's Post-Rollback asks ("Tag failed release as v3.7.0-reverted for tracking").
  - An existing tag is never moved or replaced; the push is never forced. When the tag already exists the
    module reports it (with a warning when it points at another commit) and changes nothing.
  - With O(push=false) nothing is created; the module reports the commands to run.
author:
  - SOLVEREIGN release engineering (@solvereign)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details:
      - Reports whether the tag would be created; fetches nothing and pushes nothing.
  diff_mode:
    support: none
  platform:
    platforms: posix
options:
  repo:
    description: Path or URL of the origin (C(solvereign_git_repo)).
    type: str
    required: true
  tag:
    description: The failed release tag, for example V(v3.7.0). It must exist on O(repo).
    type: str
    required: true
  suffix:
    description: Suffix of the new tag.
    type: str
    default: "-reverted"
  annotation:
    description: Annotation of the new tag.
    type: str
    required: true
  push:
    description: Create and push the tag; V(false) only reports what would be done.
    type: bool
    default: true
  tagger_name:
    description:
      - Tagger name (C(GIT_COMMITTER_NAME)); empty for git's configuration, and V(solvereign.release_ops)
        when git has no identity configured.
    type: str
    default: ""
  tagger_email:
    description:
      - Tagger e-mail (C(GIT_COMMITTER_EMAIL)); empty for git's configuration, and V(release-ops@localhost)
        when git has no identity configured.
    type: str
    default: ""
  timeout:
    description: Seconds git may wait on the network.
    type: int
    default: 30
"""

EXAMPLES = r"""
- name: Tag v3.7.0 as reverted on the origin
  solvereign.release_ops.git_reverted_tag:
    repo: git@github.com:solvereign/solvereign.git
    tag: v3.7.0
    annotation: "Reverted: rolled back to v3.6.10 (5xx rate > 5% for 5 min)"
"""

RETURN = r"""
name:
  description: The reverted tag's name.
  returned: always
  type: str
  sample: v3.7.0-reverted
commit:
  description: The commit the reverted tag points at (the failed release's commit).
  returned: always
  type: str
existed:
  description: Whether the tag was already on the origin (then it is left as it is).
  returned: always
  type: bool
created:
  description: Whether the tag was created and pushed by this run.
  returned: always
  type: bool
pushed:
  description: Whether the tag is on the origin at the end (in check mode, whether it would be).
  returned: always
  type: bool
commands:
  description: The git commands that create and push the tag (for O(push=false), to run by hand).
  returned: always
  type: list
  elements: str
"""

import shutil
import tempfile

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.solvereign.release_ops.plugins.module_utils.git_cli import Git, GitError, origin_url
from ansible_collections.solvereign.release_ops.plugins.module_utils.release_versions import parse_ls_remote


def main():
    module = AnsibleModule(
        argument_spec=dict(
            repo=dict(type="str", required=True),
            tag=dict(type="str", required=True),
            suffix=dict(type="str", default="-reverted"),
            annotation=dict(type="str", required=True),
            push=dict(type="bool", default=True),
            tagger_name=dict(type="str", default=""),
            tagger_email=dict(type="str", default=""),
            timeout=dict(type="int", default=30),
        ),
        supports_check_mode=True,
    )
    p = module.params
    name = p["tag"] + p["suffix"]
    url = origin_url(p["repo"])
    git = Git(module, timeout=p["timeout"], identity={"GIT_COMMITTER_NAME": p["tagger_name"],
                                                      "GIT_COMMITTER_EMAIL": p["tagger_email"]})
    commands = ["git fetch %s refs/tags/%s:refs/tags/%s" % (p["repo"], p["tag"], p["tag"]),
                "git tag -a %s %s^{commit} -m '<message>'" % (name, p["tag"]),
                "git push %s refs/tags/%s" % (p["repo"], name)]
    result = dict(changed=False, name=name, commit=None, existed=False, created=False, pushed=False, commands=commands)
    try:
        tags = parse_ls_remote(git.run(["ls-remote", "--tags", url]))
    except GitError as exc:
        module.fail_json(msg="cannot read the tags of %s: %s (check solvereign_git_repo)" % (p["repo"], exc), **result)
    if p["tag"] not in tags:
        module.fail_json(msg="the failed release tag %s is not on %s: cannot tag its commit as reverted"
                         % (p["tag"], p["repo"]), **result)
    commit = tags[p["tag"]]
    result["commit"] = commit
    if name in tags:
        result.update(existed=True, pushed=True, commit=tags[name])
        if tags[name] != commit:
            module.warn("%s already exists on the origin and points at %s, not at %s's commit %s; it is never moved"
                        % (name, tags[name][:12], p["tag"], commit[:12]))
        module.exit_json(**result)
    if not p["push"]:
        module.exit_json(**result)
    result["changed"] = True
    if module.check_mode:
        result["pushed"] = True
        module.exit_json(**result)
    scratch = tempfile.mkdtemp(prefix="solvereign-reverted-")
    try:
        git.run(["init", "-q", "--bare", scratch])
        try:
            git.run(["var", "GIT_COMMITTER_IDENT"], cwd=scratch)
        except GitError:
            git.env.setdefault("GIT_COMMITTER_NAME", "solvereign.release_ops")
            git.env.setdefault("GIT_COMMITTER_EMAIL", "release-ops@localhost")
        git.run(["fetch", "-q", "--no-tags", url, "refs/tags/%s:refs/tags/%s" % (p["tag"], p["tag"])], cwd=scratch)
        git.run(["tag", "-a", name, "%s^{commit}" % p["tag"], "-m", p["annotation"]], cwd=scratch)
        # Never forced: the origin refuses the push when the tag appeared in the meantime.
        git.run(["push", "-q", url, "refs/tags/%s:refs/tags/%s" % (name, name)], cwd=scratch)
    except GitError as exc:
        result["changed"] = False
        module.fail_json(msg="cannot create and push %s to %s: %s" % (name, p["repo"], exc), **result)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    result.update(created=True, pushed=True)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
