# -*- coding: utf-8 -*-
# Copyright: (c) 2026, SOLVEREIGN release engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Name every required variable that is missing, empty or refers to an undefined variable."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import re

from ansible.errors import AnsibleError, AnsibleUndefinedVariable
from ansible.plugins.action import ActionBase

_UNDEFINED_NAME = re.compile(r"'([A-Za-z_][A-Za-z0-9_]*)' is undefined")


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False
    _supports_check_mode = True
    _VALID_ARGS = frozenset(("names", "hint", "formats"))

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        task_vars = task_vars or {}
        names = self._task.args.get("names") or []
        hint = self._task.args.get("hint") or ""
        if isinstance(names, str):
            names = [names]
        formats = self._task.args.get("formats") or {}
        if not isinstance(formats, dict) or not all(isinstance(f, dict) and f.get("pattern") for f in formats.values()):
            raise AnsibleError("formats must map variable names to {pattern, problem}, got %r" % (formats,))
        missing, empty, unresolved, malformed = [], [], [], []
        values = {}
        for name in names:
            if name not in task_vars:
                missing.append(name)
                continue
            try:
                value = self._templar.template(task_vars[name])
            except AnsibleUndefinedVariable as exc:
                found = _UNDEFINED_NAME.search(str(exc))
                unresolved.append("%s (it refers to %s, which is not defined%s)" % (
                    name, found.group(1) if found else "a variable",
                    ": is the vault file loaded? use --ask-vault-pass or --vault-id"
                    if found and found.group(1).startswith("vault_") else ""))
                continue
            except AnsibleError as exc:
                unresolved.append("%s (cannot be evaluated: %s)" % (name, " ".join(str(exc).split())[:200]))
                continue
            if value is None or (isinstance(value, str) and not value.strip()):
                empty.append(name)
            else:
                values[name] = value
        for name, spec in formats.items():
            if name not in values:
                continue
            text = str(values[name])
            try:
                matched = re.search(spec["pattern"], text)
            except re.error as exc:
                raise AnsibleError("formats: the pattern of %s is not a regular expression: %s" % (name, exc))
            if not matched:
                problem = spec.get("problem") or "does not match %s" % spec["pattern"]
                malformed.append("%s %s %s" % (name, json.dumps(text), problem))
        problems = []
        if missing:
            problems.append("missing: %s" % ", ".join(missing))
        if empty:
            problems.append("empty: %s" % ", ".join(empty))
        if unresolved:
            problems.append("undefined: %s" % "; ".join(unresolved))
        result.update(changed=False, missing=missing, empty=empty, unresolved=unresolved, malformed=malformed)
        if malformed and not problems:
            result.update(failed=True, msg="; ".join(malformed))
            return result
        if malformed:
            problems.append("malformed: %s" % "; ".join(malformed))
        if problems:
            result["failed"] = True
            result["msg"] = "Required variable(s) %s.%s" % (" / ".join(problems), (" " + hint) if hint else "")
        else:
            result["msg"] = "all %d required variables are set" % len(names)
        return result
