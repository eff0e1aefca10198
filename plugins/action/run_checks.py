# -*- coding: utf-8 -*-
# Copyright: (c) 2026, SOLVEREIGN release engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run the checks that the section roles planned, for every environment of the play at once."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import threading
import time
from concurrent.futures import ThreadPoolExecutor

from ansible.errors import AnsibleActionFail
from ansible.module_utils.common.text.converters import to_text
from ansible.plugins.action import ActionBase
from ansible.utils.display import Display

from ansible_collections.solvereign.release_ops.plugins.filter.checklist import (
    error_rows,
    rows_from_result,
    skipped_rows,
)
from ansible_collections.solvereign.release_ops.plugins.module_utils import browser, in_process
from ansible_collections.solvereign.release_ops.plugins.module_utils.redact import redact_text
from ansible_collections.solvereign.release_ops.plugins.plugin_utils import section_plans

display = Display()

PLAN_FACT = "solvereign_check_plan"
ENTRY_KEYS = frozenset(("name", "rows", "module", "args", "skip", "error", "after", "needs", "export", "no_log"))
MISSING = object()


def dig(value, path):
    """``value['a']['b']`` for the path ``a.b``; MISSING where a step is absent."""
    for step in [s for s in str(path).split(".") if s]:
        if isinstance(value, dict) and step in value:
            value = value[step]
        elif isinstance(value, list) and step.isdigit() and int(step) < len(value):
            value = value[int(step)]
        else:
            return MISSING
    return value


def put(arguments, path, value):
    """Set ``arguments['a']['b'] = value`` for the path ``a.b``, creating dicts on the way."""
    steps = [s for s in str(path).split(".") if s]
    target = arguments
    for step in steps[:-1]:
        target = target.setdefault(step, {})
    target[steps[-1]] = value


def validate_plan(environment, plan):
    """Refuse a malformed plan before anything runs, naming the entry and the key."""
    names = set()
    for index, entry in enumerate(plan):
        where = "%s: entry %d of %s" % (environment, index, PLAN_FACT)
        if not isinstance(entry, dict):
            raise AnsibleActionFail("%s is not a dict" % where)
        unknown = set(entry) - ENTRY_KEYS
        if unknown:
            raise AnsibleActionFail("%s (%s) has unknown keys %s (allowed: %s)" % (
                where, entry.get("name"), ", ".join(sorted(unknown)), ", ".join(sorted(ENTRY_KEYS))))
        name = entry.get("name")
        if not name or name in names:
            raise AnsibleActionFail("%s needs a 'name' unique in its environment, got %r" % (where, name))
        names.add(name)
        rows = entry.get("rows")
        if not isinstance(rows, list) or not all(isinstance(r, dict) and "id" in r and "title" in r for r in rows):
            raise AnsibleActionFail("%s (%s) needs 'rows': a list of {id, title} (empty for a check that only "
                                    "feeds another one)" % (where, name))
        if not entry.get("skip") and not entry.get("error"):
            if not entry.get("module"):
                raise AnsibleActionFail("%s (%s) needs 'module' (or 'skip'/'error' with a reason)" % (where, name))
            if in_process.short_name(to_text(entry["module"])) not in in_process.CHECK_MODULES:
                raise AnsibleActionFail("%s (%s): %s is not a check module of %s that runs in-process (%s)" % (
                    where, name, entry["module"], in_process.COLLECTION, ", ".join(sorted(in_process.CHECK_MODULES))))
    for entry in plan:
        for earlier in waits_for(entry):
            if earlier not in names:
                raise AnsibleActionFail("%s: %s waits for %r, which is not planned" % (
                    environment, entry["name"], earlier))


def waits_for(entry):
    """The names of the checks that ``entry`` must wait for."""
    return list(entry.get("after") or []) + [n.get("from") for n in (entry.get("needs") or {}).values()]


def depth(entry, plan, seen=()):
    """0 for a check that waits for nothing, else one more than the deepest check it waits for."""
    if entry["name"] in seen:
        raise AnsibleActionFail("%s waits for itself through %s" % (entry["name"], " -> ".join(seen)))
    by_name = dict((e["name"], e) for e in plan)
    return max([depth(by_name[n], plan, seen + (entry["name"],)) + 1 for n in waits_for(entry)] or [0])


def lane_of(entry, limits):
    """The module name of a check whose module is limited, else None (the shared workers)."""
    short = in_process.short_name(to_text(entry.get("module") or ""))
    return short if short in limits else None


class EnvironmentRun(object):
    """The planned checks of one environment, each run as soon as the ones it waits for are done."""

    def __init__(self, environment, plan, gate_reason):
        self.environment = environment
        self.plan = plan
        self.gate_reason = gate_reason
        self.results = {}
        self.rows = {}
        self.done = dict((entry["name"], threading.Event()) for entry in plan)


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False
    _supports_check_mode = True

    _VALID_ARGS = frozenset(("hosts", "max_workers", "limits", "sections"))

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        task_vars = task_vars or {}
        args = self._task.args
        unknown = set(args) - self._VALID_ARGS
        if unknown:
            raise AnsibleActionFail("unsupported option(s) %s" % ", ".join(sorted(unknown)))
        hosts = args.get("hosts") or task_vars.get("ansible_play_hosts") or []
        try:
            max_workers = int(args.get("max_workers") or 128)
            # How many checks of one module may run at once over all environments: the UI smokes
            # share one Chromium, a renderer each.
            limits = dict(ui_login_check=6)
            limits.update(dict((str(name), int(count)) for name, count in (args.get("limits") or {}).items()))
        except (TypeError, ValueError, AttributeError):
            raise AnsibleActionFail("max_workers must be a number and limits a dict of numbers by module name, got "
                                    "%r and %r" % (args.get("max_workers"), args.get("limits")))

        sections = args.get("sections") or []
        if not isinstance(sections, list):
            raise AnsibleActionFail("sections must be a list of role names or {role, tags}, got %r" % (sections,))
        planner = None
        if sections:
            roles = section_plans.selected_sections(section_plans.load_sections(self._loader, sections), task_vars)
            play = getattr(getattr(self._task, "_parent", None), "_play", None)
            planner = section_plans.EnvironmentPlanner(self._templar, self._loader, roles, task_vars.get("hostvars"),
                                                       play_vars=play.get_vars() if play is not None else None)
        started = time.monotonic()
        runs, leaders, roles_by_environment, hosts_of = [], {}, {}, {}
        pools = {}
        jobs = 0
        # The UI checks of the run share one Chromium, closed when the run ends.
        with browser.pooled():
            try:
                # Each environment's checks start as soon as it is planned, while the next one is planned.
                # The templating of every environment's plan reuses what it compiled for the first one.
                with section_plans.templates_compiled_once():
                    for run in self._environments(hosts, task_vars.get("hostvars") or {}, planner, leaders,
                                                  roles_by_environment, hosts_of):
                        runs.append(run)
                        # A check is queued after the ones it waits for, so a waiting worker never holds up
                        # a check that has not started. The checks of a limited module have workers of their
                        # own (as many as the limit), so the other checks never wait behind them; the rest
                        # share max_workers (they mostly wait on the network).
                        for entry in sorted(run.plan, key=lambda item, plan=run.plan: depth(item, plan)):
                            lane = lane_of(entry, limits)
                            if lane not in pools:
                                pools[lane] = ThreadPoolExecutor(max_workers=max(1, limits[lane] if lane else max_workers))
                            pools[lane].submit(self._run_entry, run, entry)
                            jobs += 1
                planned = time.monotonic()
            finally:
                for pool in pools.values():
                    pool.shutdown(wait=True)
        elapsed = time.monotonic() - started
        host_tasks = dict((role, dict((name, [h for env in envs for h in hosts_of[env]]) for name, envs in files.items()))
                          for role, files in roles_by_environment.items())

        environments = {}
        for run in runs:
            rows = [row for entry in run.plan for row in run.rows[entry["name"]]]
            exported = {}
            for entry in run.plan:
                for fact, spec in (entry.get("export") or {}).items():
                    value = dig(run.results.get(entry["name"]) or {}, (spec or {}).get("path", ""))
                    exported[fact] = (spec or {}).get("default") if value is MISSING else value
            environments[run.environment] = dict(rows=rows, facts=exported, host=leaders[run.environment])
        counts = {}
        for info in environments.values():
            for row in info["rows"]:
                counts[row["status"]] = counts.get(row["status"], 0) + 1
        result.update(changed=False, environments=environments, counts=counts, elapsed_s=round(elapsed, 3),
                      host_tasks=host_tasks, planned_s=round(planned - started, 3),
                      msg="%d checks of %d environment(s) in %.1fs: %s" % (
                          jobs, len(runs), elapsed,
                          ", ".join("%s %d" % (k, v) for k, v in sorted(counts.items())) or "no rows"))
        return result

    # ------------------------------------------------------------------------------------
    def _environments(self, hosts, hostvars, planner, leaders, host_tasks, hosts_of):
        """One run per environment, yielded as soon as it is planned: the plan of its first host in the
        play (the planned sections, then the host's own plan fact). Fills ``leaders`` (the host of each
        environment), ``hosts_of`` (its hosts) and ``host_tasks`` (by section role and task file, the
        environments whose hosts must still run it)."""
        for host in hosts:
            hvars = hostvars.get(host) or {}
            environment = hvars.get("solvereign_environment")
            if not environment:
                continue
            environment = to_text(environment)
            hosts_of.setdefault(environment, []).append(host)
            if environment in leaders:
                continue
            own_plan = hvars.get(PLAN_FACT)
            if planner is None and own_plan is None:
                continue
            plan, files = planner.plan(host, environment) if planner is not None else ([], {})
            plan = list(plan) + list(own_plan or [])
            validate_plan(environment, plan)
            leaders[environment] = host
            for role, names in files.items():
                for name in names:
                    host_tasks.setdefault(role, {}).setdefault(to_text(name), []).append(environment)
            yield EnvironmentRun(environment, plan, to_text(hvars.get("solvereign_gate_reason") or ""))

    def _run_entry(self, run, entry):
        name = entry["name"]
        try:
            for earlier in waits_for(entry):
                run.done[earlier].wait()
            result = self._outcome(run, entry)
            run.results[name] = result
            run.rows[name] = self._rows(run, entry, result)
        except Exception as exc:  # a defect in one check must not take the others down
            message = "the check could not run: %s: %s" % (type(exc).__name__, redact_text(to_text(exc)))
            run.results[name] = dict(failed=True, msg=message)
            run.rows[name] = error_rows(entry["rows"], run.environment, message)
        finally:
            run.done[name].set()

    def _rows(self, run, entry, result):
        if run.gate_reason:
            return skipped_rows(entry["rows"], run.environment, run.gate_reason)
        if entry.get("skip"):
            return skipped_rows(entry["rows"], run.environment, to_text(entry["skip"]))
        if entry.get("error"):
            return error_rows(entry["rows"], run.environment, to_text(entry["error"]))
        # A row belongs to the environment whose plan ran it, whatever the module was told.
        return [dict(row, environment=run.environment)
                for row in rows_from_result(result, entry["rows"], run.environment)]

    def _outcome(self, run, entry):
        if run.gate_reason or entry.get("skip") or entry.get("error"):
            return dict(skipped=True)
        # An argument given as None is left out, as omit would leave it out of a task.
        arguments = dict((k, v) for k, v in (entry.get("args") or {}).items() if v is not None)
        for path, need in (entry.get("needs") or {}).items():
            value = dig(run.results.get(need.get("from")) or {}, need.get("path", ""))
            put(arguments, path, need.get("default") if value is MISSING or value in (None, "") else value)
        module = to_text(entry["module"])
        started = time.monotonic()
        result = in_process.run_module(module, arguments, check_mode=bool(self._task.check_mode))
        display.vvv("run_checks: %s %s in %.2fs" % (run.environment, entry["name"], time.monotonic() - started))
        return result
