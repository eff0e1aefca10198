# -*- coding: utf-8 -*-
# Copyright: (c) 2026, SOLVEREIGN release engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Per-task wall times of a playbook run, for bench/run.py (not part of the collection)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = """
    name: bench_timing
    type: aggregate
    short_description: Write the wall time of every task to a JSON file
    description:
      - Records when each task started and when its last host result arrived, with the task's role
        and play, and writes them to the file named by E(BENCH_TIMING_FILE) when the playbook ends.
      - Used by C(bench/run.py) to say where the time of a verify run goes.
    requirements:
      - enable with ANSIBLE_CALLBACK_PLUGINS=bench/callback_plugins and ANSIBLE_CALLBACKS_ENABLED=bench_timing
"""

import json
import os
import resource
import time

from ansible.plugins.callback import CallbackBase


def _cpu_s():
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "bench_timing"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, *args, **kwargs):
        super(CallbackModule, self).__init__(*args, **kwargs)
        self._path = os.environ.get("BENCH_TIMING_FILE")
        self._started = time.time()
        self._play = None
        self._tasks = {}
        self._order = []

    def v2_playbook_on_start(self, playbook):
        self._started = time.time()

    def v2_playbook_on_play_start(self, play):
        self._play = play.get_name()

    def _task_start(self, task):
        key = task._uuid
        if key not in self._tasks:
            role = task._role.get_name() if getattr(task, "_role", None) else None
            self._tasks[key] = {"name": task.get_name(), "role": role, "play": self._play, "action": task.action,
                                "start": time.time(), "end": None, "results": 0, "cpu_at_start": _cpu_s()}
            self._order.append(key)

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._task_start(task)

    def v2_playbook_on_handler_task_start(self, task):
        self._task_start(task)

    def _result(self, result):
        task = getattr(result, "task", None) or getattr(result, "_task", None)
        entry = self._tasks.get(getattr(task, "_uuid", None))
        if entry is not None:
            entry["end"] = time.time()
            entry["results"] += 1

    def v2_runner_on_ok(self, result):
        self._result(result)

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._result(result)

    def v2_runner_on_skipped(self, result):
        self._result(result)

    def v2_runner_on_unreachable(self, result):
        self._result(result)

    def v2_playbook_on_stats(self, stats):
        if not self._path:
            return
        ended = time.time()
        cpu_at_end = _cpu_s()
        tasks = []
        for index, key in enumerate(self._order):
            entry = dict(self._tasks[key])
            # CPU from this task's start to the next one's: ansible-playbook's own and that of the processes
            # it reaped (its workers, and what they started) in between.
            following = self._tasks[self._order[index + 1]]["cpu_at_start"] if index + 1 < len(self._order) \
                else cpu_at_end
            entry["cpu_s"] = round(following - entry.pop("cpu_at_start"), 3)
            entry["end"] = entry["end"] or entry["start"]
            entry["duration_s"] = round(entry["end"] - entry["start"], 4)
            tasks.append(entry)
        with open(self._path, "w") as handle:
            json.dump({"playbook_start": self._started, "playbook_end": ended, "tasks": tasks}, handle)
