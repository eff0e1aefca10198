# -*- coding: utf-8 -*-
# Copyright: (c) 2026, SOLVEREIGN release engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run a soak on the controller: the decision engine, the probes (existing check modules) and the evidence."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import time

from ansible.plugins.action import ActionBase
from ansible.utils.display import Display

from ansible_collections.solvereign.release_ops.plugins.module_utils import checklist as checklist_files
from ansible_collections.solvereign.release_ops.plugins.module_utils import soak
from ansible_collections.solvereign.release_ops.plugins.module_utils import http_client
from ansible_collections.solvereign.release_ops.plugins.module_utils.http_client import HttpClient
from ansible_collections.solvereign.release_ops.plugins.module_utils.prometheus import (
    PrometheusClient,
    auth_headers,
)
from ansible_collections.solvereign.release_ops.plugins.module_utils.redact import redact_structure
from ansible_collections.solvereign.release_ops.plugins.module_utils.sentry import SentryClient
from ansible_collections.solvereign.release_ops.plugins.module_utils.soak_chart import draw_charts
from ansible_collections.solvereign.release_ops.plugins.module_utils.soak_runner import (
    SoakRunner,
    StateError,
    build_row,
)

display = Display()

ARGUMENT_SPEC = dict(
    policy_file=dict(type="path", required=True),
    variables=dict(type="dict", default={}),
    mode=dict(type="str", choices=["live", "retrospective"], default="live"),
    start=dict(type="raw"),
    duration=dict(type="str", default="2h"),
    strict=dict(type="bool", default=False),
    prometheus_url=dict(type="str", required=True),
    prometheus_username=dict(type="str"),
    prometheus_password=dict(type="str", no_log=True),
    prometheus_token=dict(type="str", no_log=True),
    sentry=dict(type="dict"),
    docker=dict(type="dict"),
    probes=dict(type="dict", default={}),
    evidence_dir=dict(type="path", required=True),
    environment=dict(type="str", required=True),
    release=dict(type="str", default=""),
    checklist=dict(type="bool", default=True),
    charts=dict(type="bool", default=True),
    timeout=dict(type="float", default=10.0),
    validate_certs=dict(type="bool", default=True),
    ca_path=dict(type="path"),
)


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False
    _supports_check_mode = True

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        self._task_vars = task_vars or {}
        validation, args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)
        secrets = [args.get("prometheus_password"), args.get("prometheus_token"),
                   (args.get("sentry") or {}).get("token")]
        secrets = tuple(s for s in secrets if s)
        if http_client.requests is None:
            result.update(failed=True, msg="the soak needs the Python library requests on the controller")
            return result
        try:
            outcome = self._soak(args, secrets)
        except (soak.PolicyError, soak.InputError, StateError) as exc:
            result.update(failed=True, msg="refused before any measurement: %s" % exc.message,
                          field=getattr(exc, "field", None))
            return result
        result.update(redact_structure(outcome, secrets))
        result["changed"] = False
        return result

    # ------------------------------------------------------------------------------------
    def _soak(self, args, secrets):
        now = time.time()
        start = soak.parse_time(args["start"], "soak_start") if args.get("start") not in (None, "") else None
        duration = soak.parse_soak_duration(args["duration"])
        policy = soak.load_policy(args["policy_file"], args["variables"])
        http = HttpClient(timeout=args["timeout"], retries=1, validate_certs=args["validate_certs"],
                          ca_path=args.get("ca_path"), secrets=secrets)
        client = PrometheusClient(http, args["prometheus_url"], auth_headers(
            args.get("prometheus_username"), args.get("prometheus_password"), args.get("prometheus_token")))
        soak_dir = os.path.join(args["evidence_dir"], "soak")
        mode = args["mode"]
        resume_from = None
        if start is None:
            if mode == "retrospective":
                raise soak.InputError("soak_start", "a retrospective soak needs the start of the past window "
                                      "(ISO 8601 or epoch seconds), e.g. -e soak_start=2026-12-01T10:00:00Z")
            resume_from = _resumable_start(soak_dir, policy, duration, now)
            start = resume_from or now
        runner = SoakRunner(policy, client, start, duration, mode, soak_dir, strict=args["strict"],
                            probe=self._probe_runner(args["probes"]), sentry=self._sentry(args.get("sentry"), http),
                            docker_logs=self._docker_logs(args.get("docker"), args["environment"]),
                            progress=display.display, check_mode=self._task.check_mode)
        runner.validate(now, resuming=resume_from is not None)
        display.display("soak %s of %s to %s (%s), policy %s sha256 %s" % (
            mode, soak.utc(runner.start, True), soak.utc(runner.end, True), soak.format_duration(duration),
            policy.name, policy.sha256[:12]))
        document = runner.run()
        charts = None
        if args["charts"]:
            charts = draw_charts(policy, runner.records, soak_dir, runner.start, runner.end, document["verdict"])
        runner.write(document, charts)
        row = build_row(document, args["environment"])
        checklist_path = None
        if args["checklist"]:
            checklist_path = merge_row(args["evidence_dir"], row, args["release"], secrets)
        verdict = document["verdict"]
        if verdict == soak.ROLLBACK:
            message = "%s roll back because %s" % ("would" if self._task.check_mode else "must",
                                                   "; ".join(document["reasons"]))
        else:
            message = "soak %s: %s" % (verdict, "; ".join(document["reasons"]))
        return dict(verdict=verdict, reasons=document["reasons"], message=message, row=row,
                    signals=document["signals"], triggers=document["triggers"], window=document["window"],
                    policy_sha256=policy.sha256, verdict_path=os.path.join(soak_dir, "verdict.json"),
                    measurements_path=os.path.join(soak_dir, "measurements.jsonl"), checklist_path=checklist_path,
                    charts=document.get("charts", []), charts_missing=document.get("charts_missing", []),
                    resumed_measurements=document["resumed_measurements"], elapsed_s=document["elapsed_s"],
                    measurements=document["measurements"])

    def _probe_runner(self, probes):
        """Each probe runs an existing check module of the collection and reads its row."""
        if not probes:
            return None

        def run(name):
            spec = probes.get(name)
            if not spec:
                return "SKIP", "not configured (no probe %r given to the soak)" % name
            if spec.get("skip"):
                return "SKIP", str(spec["skip"])
            try:
                outcome = self._execute_module(module_name=spec["module"], module_args=dict(spec.get("args") or {}),
                                               task_vars=self._task_vars)
            except Exception as exc:  # the probe's failure is an ERROR measurement, the soak goes on
                return "ERROR", "%s could not run: %s" % (spec["module"], exc)
            if outcome.get("failed"):
                return "ERROR", "%s failed: %s" % (spec["module"], outcome.get("msg"))
            rows = outcome.get("rows") or ([outcome["row"]] if outcome.get("row") else [])
            wanted = str(spec.get("row") or "")
            rows = [r for r in rows if not wanted or str(r.get("id")) == wanted]
            if not rows:
                return "ERROR", "%s returned no row %s" % (spec["module"], wanted)
            row = rows[0]
            return row.get("status", "ERROR"), "row %s %s: %s" % (row.get("id"), row.get("status"), row.get("summary"))
        return run

    def _docker_logs(self, docker, environment):
        """Error lines of ``docker logs --since/--until`` through the collection's container_logs_check."""
        containers = [c for c in (docker or {}).get("containers") or [] if c]
        if not containers:
            return None

        def count(start, end):
            module_args = {"check_id": "8.1", "check_title": "Soak error log volume", "environment": environment,
                           "containers": containers, "since": soak.utc(start, True), "until": soak.utc(end, True)}
            if docker.get("docker_host"):
                module_args["docker_host"] = docker["docker_host"]
            outcome = self._execute_module(module_name="solvereign.release_ops.container_logs_check",
                                           module_args=module_args, task_vars=self._task_vars)
            if outcome.get("failed"):
                raise RuntimeError("docker logs could not be read: %s" % outcome.get("msg"))
            summaries = outcome.get("containers") or []
            broken = [s for s in summaries if s.get("error")]
            if broken or len(summaries) < len(containers):
                reason = "; ".join(s["error"] for s in broken) or (outcome.get("row") or {}).get("summary")
                raise RuntimeError("docker logs could not be read: %s" % reason)
            total = sum(int(s.get("error_lines") or 0) for s in summaries)
            return total, "error lines of docker logs of %s" % ", ".join(containers)
        return count

    def _sentry(self, sentry, http):
        if not sentry or not all(sentry.get(k) for k in ("url", "org", "project", "token")):
            return None
        client = SentryClient(http, sentry["url"], sentry["token"])
        project = {}

        def count(query, start, end, mode):
            if "id" not in project:
                project["id"] = client.project(sentry["org"], sentry["project"])["id"]
            environment = sentry.get("environment") or None
            return client.event_count(sentry["org"], project["id"], query, environment=environment,
                                      start=soak.utc(start, True), end=soak.utc(end, True))
        return count


def _resumable_start(soak_dir, policy, duration, now):
    """The start of an unfinished live soak in ``soak_dir`` that can still be resumed, else None."""
    try:
        with open(os.path.join(soak_dir, "state.json")) as handle:
            state = json.load(handle)
    except (IOError, OSError, ValueError):
        return None
    if state.get("finished") or state.get("mode") != "live":
        return None
    if abs(float(state.get("end", 0)) - float(state.get("start", 0)) - duration) > 1:
        return None
    if float(state.get("end", 0)) < now - 3600:
        return None
    return float(state["start"])


def merge_row(evidence_dir, row, release, secrets=()):
    """Put row 8.1 into ``<evidence_dir>/checklist.json`` (replacing an older 8.1 of the environment)."""
    path = os.path.join(evidence_dir, "checklist.json")
    rows, strict = [], False
    if os.path.exists(path):
        try:
            with open(path) as handle:
                existing = json.load(handle)
            rows = [r for r in existing.get("checks") or []
                    if not (r.get("id") == row["id"] and r.get("environment") == row["environment"])]
            release = existing.get("release") or release
            strict = bool(existing.get("strict"))
        except (IOError, OSError, ValueError, AttributeError):
            rows = []
    document = checklist_files.build(rows + [row], release or "unknown", strict=strict, secrets=secrets)
    checklist_files.write_all(evidence_dir, document)
    return path
