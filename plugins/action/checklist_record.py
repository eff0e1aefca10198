# -*- coding: utf-8 -*-
# Copyright: (c) 2026, SOLVEREIGN release engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Append checklist rows to the host fact ``solvereign_checklist_rows`` (runs on the controller)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase

from ansible_collections.solvereign.release_ops.plugins.filter.checklist import (
    checklist_row,
    error_rows,
    merge_host_rows,
    recorded_rows,
    rows_from_result,
    skipped_rows,
)

FACT = "solvereign_checklist_rows"


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False
    _supports_check_mode = True

    _VALID_ARGS = frozenset(("result", "row", "rows", "results", "skip", "error", "reason", "environment", "reset",
                             "host_rows", "checks"))

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        task_vars = task_vars or {}
        args = self._task.args
        unknown = set(args) - self._VALID_ARGS
        if unknown:
            raise AnsibleActionFail("unsupported option(s) %s" % ", ".join(sorted(unknown)))
        if args.get("reset"):
            # Start the run with no rows, also where a persistent fact cache kept an old run's.
            result.update(changed=False, rows=[], ansible_facts={FACT: []})
            return result
        environment = args.get("environment") or task_vars.get("solvereign_environment")
        if not environment:
            raise AnsibleActionFail("no environment: set solvereign_environment or the environment option")
        if "checks" in args:
            # What run_checks returned for this environment (its rows and facts), or for every
            # environment (the whole registered result).
            ran = args.get("checks") or {}
            if "environments" in ran:
                ran = ran["environments"].get(environment) or {}
            new_rows = list(ran.get("rows") or [])
            facts = dict(ran.get("facts") or {})
            facts[FACT] = list(recorded_rows(task_vars)) + new_rows
            result.update(changed=False, rows=new_rows, ansible_facts=facts)
            return result
        reason = args.get("reason")
        specs = args.get("rows") or ([args["row"]] if args.get("row") else [])
        if not specs:
            raise AnsibleActionFail("give the row spec ({id, title}) in 'row', or several in 'rows'")

        if args.get("skip"):
            new_rows = skipped_rows(specs, environment, reason or "not applicable")
        elif args.get("error"):
            new_rows = error_rows(specs, environment, reason or "could not be evaluated")
        elif "host_rows" in args:
            # One row per environment from the rows each of its hosts produced.
            if len(specs) != 1:
                raise AnsibleActionFail("'host_rows' records one row: give its spec in 'row'")
            new_rows = [merge_host_rows(args.get("host_rows") or {}, specs[0], environment)]
        elif "results" in args:
            # A module that returns several rows at once (key 'rows'), matched by id.
            new_rows = rows_from_result(args.get("results") or {"rows": []}, specs, environment, reason)
        else:
            if len(specs) != 1:
                raise AnsibleActionFail("'result' records one row: give its spec in 'row'")
            new_rows = [checklist_row(args.get("result"), specs[0], environment, reason)]

        existing = list(recorded_rows(task_vars))
        result.update(changed=False, rows=new_rows, ansible_facts={FACT: existing + new_rows})
        return result
