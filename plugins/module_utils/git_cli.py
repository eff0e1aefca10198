# -*- coding: utf-8 -*-
# Copyright: (c) 2026, SOLVEREIGN release engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""git on the controller, non-interactive: no prompts, bounded network waits, redacted errors."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible_collections.solvereign.release_ops.plugins.module_utils.redact import redact_text


class GitError(Exception):
    """A git call that failed; the message is redacted."""


class Git(object):
    def __init__(self, module, timeout=30, identity=None):
        self.module = module
        self.binary = module.get_bin_path("git")
        self.env = {
            "GIT_TERMINAL_PROMPT": "0",
            "GIT_ASKPASS": "/bin/true",
            "GIT_SSH_COMMAND": "ssh -o BatchMode=yes -o ConnectTimeout=%d" % timeout,
            "LC_ALL": "C",
        }
        for key, value in (identity or {}).items():
            if value:
                self.env[key] = value
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
    """Local paths become file:// URLs."""
    if repo and os.path.isdir(repo):
        return "file://" + os.path.abspath(repo)
    return repo
