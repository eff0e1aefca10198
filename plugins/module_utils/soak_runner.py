# -*- coding: utf-8 -*-
# Copyright: (c) 2026, SOLVEREIGN release engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE: runs a soak (live or retrospective) with the decision engine of ``soak.py``.

The runner does the I/O: PromQL range queries through :class:`PrometheusClient`, probe and
Sentry callbacks, the state that lets a killed live soak resume, and the evidence files
(``measurements.jsonl``, ``state.json``, ``verdict.json``, charts). Time and sleeping are
injected, so tests can drive it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import math
import os
import time

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX
    fcntl = None

from ansible_collections.solvereign.release_ops.plugins.module_utils import soak
from ansible_collections.solvereign.release_ops.plugins.module_utils.prometheus import (
    PrometheusError,
    format_value,
    series_of,
)
from ansible_collections.solvereign.release_ops.plugins.module_utils.result import (
    CheckRow,
    utc_now_iso,
    write_evidence,
)

STATE = "state.json"
MEASUREMENTS = "measurements.jsonl"
VERDICT = "verdict.json"
ROW_ID = "8.1"
ROW_TITLE = "Soak (2h)"


class StateError(ValueError):
    def __init__(self, field, message):
        super(StateError, self).__init__("%s: %s" % (field, message))
        self.field = field
        self.message = str(self)


class Task(object):
    """One measurement to make: a checkpoint window of a signal (or a probe run)."""

    def __init__(self, signal, start, end):
        self.signal = signal
        self.start = start
        self.end = end

    @property
    def key(self):
        return "checkpoint|%s|%d" % (self.signal.name, int(round(self.end)))


class SoakRunner(object):
    def __init__(self, policy, client, start, duration, mode, evidence_dir, strict=False, probe=None, sentry=None,
                 progress=None, now=time.time, sleep=time.sleep, check_mode=False, settle=None, docker_logs=None):
        self.policy = policy
        self.client = client
        self.start = float(start)
        self.duration = float(duration)
        self.end = self.start + self.duration
        self.mode = mode
        self.dir = evidence_dir
        self.strict = strict
        self.probe = probe
        self.sentry = sentry
        self.docker_logs = docker_logs
        self.progress = progress or (lambda line: None)
        self.now = now
        self.sleep = sleep
        self.check_mode = check_mode
        self.settle = policy.step if settle is None else settle
        self.records = []
        self.done = set()
        self.fired = []
        self.resumed = 0
        self.trigger_until = self.start
        self.skips = {}
        self.queries = 0

    # --- setup ------------------------------------------------------------------------------
    def validate(self, now=None, resuming=False):
        """Reject bad windows and PromQL before any measurement (raises InputError/PolicyError)."""
        now = self.now() if now is None else now
        retention = None
        try:
            retention = self.client.retention_seconds()
        except PrometheusError as exc:
            if exc.kind == "unreachable":
                raise soak.InputError("solvereign_prometheus_url", exc.message)
        soak.validate_window(self.policy, self.start, self.duration, self.mode, now, retention, resuming)
        at = min(self.start, now)
        for field, name, promql in self.policy.queries():
            try:
                self.client.query(promql, at)
                self.queries += 1
            except PrometheusError as exc:
                if exc.kind == "unreachable":
                    raise soak.InputError("solvereign_prometheus_url", exc.message)
                raise soak.PolicyError("%s" % field, "signal %r: %s (query: %s)" % (name, exc.message, promql),
                                       self.policy.path)
        return retention

    def plan(self):
        tasks = []
        for sig in self.policy.signals:
            if sig.source == "probe" and self.mode == "retrospective":
                tasks.append(Task(sig, self.start, self.end))
            elif sig.checkpoint:
                for a, b in soak.checkpoint_windows(self.start, self.end, sig.checkpoint):
                    tasks.append(Task(sig, a, b))
        tasks.sort(key=lambda t: (t.end, self.policy.signals.index(t.signal)))
        return tasks

    def _path(self, name):
        return os.path.join(self.dir, name)

    def lock(self):
        """Hold ``soak/lock`` while running: a second soak on the same evidence dir is refused."""
        if fcntl is None or self.mode != "live":
            return
        os.makedirs(self.dir, exist_ok=True)
        handle = open(self._path("lock"), "a+")
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except (IOError, OSError):
            handle.seek(0)
            owner = handle.read().strip() or "unknown"
            handle.close()
            raise StateError("solvereign_evidence_dir", "a soak is still running on %s (pid %s): wait for it to end "
                             "or stop it before starting or resuming another" % (self.dir, owner))
        handle.seek(0)
        handle.truncate()
        handle.write("%d\n" % os.getpid())
        handle.flush()
        self._lock = handle

    def load_state(self):
        """Resume a live soak of the same window and policy from its measurements, if any."""
        path = self._path(STATE)
        if self.mode != "live" or not os.path.exists(path):
            return False
        try:
            with open(path) as handle:
                state = json.load(handle)
        except (IOError, OSError, ValueError):
            return False
        if state.get("finished") or state.get("mode") != "live":
            return False
        if abs(float(state.get("start", 0)) - self.start) > 1 or abs(float(state.get("end", 0)) - self.end) > 1:
            if float(state.get("end", 0)) < self.now() - 3600:
                return False  # abandoned long ago: a new soak replaces it
            raise StateError("soak_start", "an unfinished live soak of %s to %s (%s) is in %s: run again without "
                             "soak_start and with soak_duration=%s to resume it, or use another evidence dir"
                             % (soak.utc(float(state["start"]), True), soak.utc(float(state["end"]), True),
                                soak.format_duration(float(state["end"]) - float(state["start"])), self.dir,
                                soak.format_duration(float(state["end"]) - float(state["start"]))))
        if state.get("policy_sha256") != self.policy.sha256:
            raise StateError("soak_policy_file", "an unfinished soak in %s was started with another policy (sha256 %s, "
                             "now %s): finish it with the same policy file, or use another evidence dir"
                             % (self.dir, state.get("policy_sha256"), self.policy.sha256))
        records = []
        try:
            with open(self._path(MEASUREMENTS)) as handle:
                for line in handle:
                    line = line.strip()
                    if line:
                        try:
                            records.append(json.loads(line))
                        except ValueError:
                            break  # a line cut by the kill: measured again
        except (IOError, OSError):
            records = []
        self.records = records
        self.done = set(r["key"] for r in records if r.get("key"))
        self.fired = [f for r in records for f in r.get("fired") or []]
        self.trigger_until = float(state.get("trigger_until") or self.start)
        self.resumed = len(records)
        return True

    def _fresh(self):
        os.makedirs(self.dir, exist_ok=True)
        for name in (MEASUREMENTS, STATE, VERDICT):
            if os.path.exists(self._path(name)):
                os.remove(self._path(name))
        self._save_state(False)

    def _save_state(self, finished):
        state = {"mode": self.mode, "start": self.start, "end": self.end, "policy_sha256": self.policy.sha256,
                 "policy": self.policy.path, "measurements": len(self.records), "trigger_until": self.trigger_until,
                 "finished": finished, "updated_at": utc_now_iso()}
        write_evidence(self.dir, STATE, json.dumps(state, indent=2) + "\n")

    def _record(self, record):
        record.setdefault("time", soak.utc(record.get("window", {}).get("end_ts", self.now()), True))
        self.records.append(record)
        if record.get("key"):
            self.done.add(record["key"])
        with open(self._path(MEASUREMENTS), "a") as handle:
            handle.write(json.dumps(record, default=str, allow_nan=False) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        self._save_state(False)

    # --- measuring --------------------------------------------------------------------------
    def _range(self, promql, start, end):
        self.queries += 1
        rtype, result = self.client.query_range(promql, start, end, self.policy.step)[:2]
        return [(labels, [(float(ts), v) for ts, v in points]) for labels, points in series_of(rtype, result)]

    def _requires(self, sig):
        """None when the signal's source is there, else the SKIP reason."""
        if not sig.requires:
            return None
        if sig.name in self.skips:
            return self.skips[sig.name]
        lookback = int(self.duration + 6 * 3600)
        promql = "count(last_over_time(%s[%ds]))" % (sig.requires, lookback)
        self.queries += 1
        rtype, result = self.client.query(promql, self.end if self.mode == "retrospective" else self.now())[:2]
        reason = None
        if not result:
            reason = "not configured: %s (no series of %s in Prometheus within %s before the window end)" % (
                sig.requires_hint or "its source is not scraped", sig.requires, soak.format_duration(lookback))
        self.skips[sig.name] = reason
        return reason

    def _samples(self, series):
        return [{"labels": labels, "values": [[ts, _json_number(v)] for ts, v in points]} for labels, points in series]

    def measure(self, task):
        sig = task.signal
        window = {"start": soak.utc(task.start, True), "end": soak.utc(task.end, True), "end_ts": task.end}
        base = {"kind": "checkpoint", "key": task.key, "signal": sig.name, "window": window,
                "threshold": sig.threshold.text if sig.threshold else None}
        if sig.source == "probe":
            return self._probe(task, base)
        if sig.source in soak.COUNT_SOURCES:
            return self._count(task, base)
        base["query"] = sig.query
        try:
            skip = self._requires(sig)
            if skip:
                return dict(base, status=soak.SKIP, value=None, samples=[], reason="%s: %s" % (sig.name, skip))
            series = self._range(sig.query, task.start, task.end)
            if task.start > self.start:
                # The previous checkpoint judged the point at its end: each window is (start, end].
                series = [(labels, [p for p in points if p[0] > task.start + 1e-6]) for labels, points in series]
            traffic = None
            if sig.needs_traffic:
                traffic_series = self._range(self.policy.traffic["query"], task.start, task.end)
                traffic = [p for _labels, points in traffic_series for p in points]
        except PrometheusError as exc:
            return dict(base, status=soak.ERROR, value=None, samples=[],
                        reason="%s: %s (query: %s)" % (sig.name, exc.message, sig.query))
        judged = soak.judge_window(sig, series, task.start, task.end, self.policy.step, self.policy.min_coverage,
                                   traffic=traffic, min_rate=self.policy.traffic["min_rate"] if traffic is not None
                                   else 0.0)
        out = dict(base, status=judged["status"], value=_json_number(judged["value"]), reason=judged["reason"],
                   points=judged["points"], expected=judged["expected"], series=judged["series"],
                   samples=self._samples(series))
        if judged.get("breach"):
            out["breach"] = judged["breach"]
        return out

    def _probe(self, task, base):
        sig = task.signal
        if self.mode == "retrospective":
            return dict(base, status=soak.SKIP, value=None, reason="%s: probe triggers cannot look into the past "
                        "(retrospective soak); they run at each checkpoint of a live soak" % sig.name)
        if self.probe is None:
            return dict(base, status=soak.SKIP, value=None, reason="%s: not configured" % sig.name)
        status, summary = self.probe(sig.probe)
        status = {"WARN": soak.PASS}.get(status, status)
        out = dict(base, status=status, value=None, reason="%s: %s" % (sig.name, summary))
        if status == soak.FAIL:
            out["fired"] = [{"signal": sig.name, "reason": "%s: %s: %s" % (sig.incident, sig.name, summary),
                             "at": soak.utc(self.now(), True)}]
        return out

    def _count(self, task, base):
        """Count-type signals: Sentry error events, or error lines of docker logs, in the window."""
        sig = task.signal
        source = sig.source
        if source == "error_logs":
            source = "sentry" if self.sentry is not None else ("docker_logs" if self.docker_logs is not None else None)
        counter = {"sentry": self.sentry, "docker_logs": self.docker_logs}.get(source)
        if counter is None:
            wanted = {"sentry": "no Sentry (set solvereign_sentry_url, _org, _project and _token)",
                      "docker_logs": "no containers to read (set solvereign_log_containers and solvereign_docker_host)"}
            why = wanted.get(sig.source) or "%s, and %s" % (wanted["sentry"], wanted["docker_logs"])
            return dict(base, status=soak.SKIP, value=None, reason="%s: not configured: %s" % (sig.name, why))
        try:
            if source == "sentry":
                count, detail = self.sentry(sig.sentry_query, task.start, task.end, self.mode), "Sentry error events"
            else:
                count, detail = self.docker_logs(task.start, task.end)
        except Exception as exc:  # SentryError, docker failures: an ERROR measurement, never a crash
            return dict(base, status=soak.ERROR, value=None, source=source,
                        reason="%s: %s" % (sig.name, getattr(exc, "message", exc)))
        judged = soak.judge_count(sig, count, task.start, task.end)
        return dict(base, status=judged["status"], value=judged["value"], count=count, source=source,
                    reason="%s (%s)" % (judged["reason"], detail))

    # --- triggers ---------------------------------------------------------------------------
    def evaluate_triggers(self, start, end):
        """Evaluate every trigger over ``[start, end]``; record one entry per signal."""
        fired_now = []
        for sig in self.policy.signals:
            if not sig.trigger:
                continue
            window = {"start": soak.utc(start, True), "end": soak.utc(end, True), "end_ts": end}
            base = {"kind": "trigger", "signal": sig.name, "window": window, "query": sig.trigger.query,
                    "when": sig.trigger.describe(sig.ratio)}
            try:
                series = self._range(sig.trigger.query, start, end)
            except PrometheusError as exc:
                self._record(dict(base, status=soak.ERROR, value=None, samples=[],
                                  reason="%s trigger: %s (query: %s)" % (sig.name, exc.message, sig.trigger.query)))
                continue
            runs = soak.find_breaches(sig, series, self.policy.step, self.policy.max_gap, self.policy.min_coverage)
            fired = [r for r in runs if r["fired"]]
            present = any(points for _labels, points in series)
            if fired:
                run = fired[0]
                status, reason = soak.FAIL, run["reason"]
                entry = {"signal": sig.name, "reason": run["reason"], "start": soak.utc(run["start"], True),
                         "end": soak.utc(run["end"], True), "duration_s": run["duration"],
                         "value": _json_number(run["value"]), "at": soak.utc(end, True)}
                if not any(f["signal"] == sig.name for f in self.fired):
                    fired_now.append(entry)
            elif not present and not sig.trigger.present:
                status, reason = soak.INCONCLUSIVE, "%s trigger: no data for %s–%s (query: %s)" % (
                    sig.name, soak.utc(start), soak.utc(end), sig.trigger.query)
            else:
                longest = runs[0]["reason"] if runs else "never breached"
                status, reason = soak.PASS, "%s trigger (%s) did not fire: longest breach: %s" % (
                    sig.name, sig.trigger.describe(sig.ratio), longest)
            record = dict(base, status=status, value=_json_number(runs[0]["value"]) if runs else None, reason=reason,
                          runs=[dict((k, _json_number(v) if k == "value" else v) for k, v in r.items()
                                     if k != "labels") for r in runs[:5]],
                          samples=self._samples(series))
            if fired_now and fired_now[-1]["signal"] == sig.name:
                record["fired"] = [fired_now[-1]]
            self._record(record)
        self.fired.extend(fired_now)
        return fired_now

    # --- the run ----------------------------------------------------------------------------
    def run(self):
        started = time.time()
        self.lock()
        resumed = self.load_state()
        if not resumed:
            self._fresh()
        tasks = self.plan()
        if self.mode == "retrospective":
            for task in tasks:
                self._record(self.measure(task))
            self.evaluate_triggers(self.start, self.end)
            self.trigger_until = self.end
        else:
            self._live(tasks)
        result = self.finish()
        result["elapsed_s"] = round(time.time() - started, 3)
        result["resumed_measurements"] = self.resumed
        return result

    def _live(self, tasks):
        if self.resumed:
            self.progress("soak resumed: %d measurements already made, %d remaining" % (
                len(self.done), len([t for t in tasks if t.key not in self.done])))
        if self.now() < self.start:
            self.progress("soak starts at %s, waiting %s" % (soak.utc(self.start, True),
                                                             soak.format_duration(self.start - self.now())))
            while self.now() < self.start:
                self.sleep(min(30.0, self.start - self.now()))
        interval = self.policy.trigger_interval
        lookback = max([s.trigger.for_s for s in self.policy.signals if s.trigger] or [0]) + 2 * interval \
            + self.policy.step
        next_trigger = self.now()
        while True:
            now = self.now()
            due = [t for t in tasks if t.key not in self.done and t.end + self.settle <= now]
            for end in sorted(set(t.end for t in due)):
                batch = [t for t in due if t.end == end]
                lines = []
                for task in batch:
                    record = self.measure(task)
                    self._record(record)
                    if record.get("fired"):
                        self.fired.extend(record["fired"])
                    lines.append("%s %s" % (record["status"], record["reason"]))
                self.progress("soak %s elapsed, %s remaining: %s" % (
                    soak.format_duration(end - self.start), soak.format_duration(self.end - end), " | ".join(lines)))
            if self.fired:
                self.progress("soak stopped early: %s" % "; ".join(f["reason"] for f in self.fired))
                return
            now = self.now()
            if now >= next_trigger and self.trigger_until < self.end:
                until = min(now, self.end)
                fired = self.evaluate_triggers(max(self.start, until - lookback), until)
                self.trigger_until = until
                self._save_state(False)
                next_trigger = now + interval
                if fired:
                    self.progress("soak stopped early: %s" % "; ".join(f["reason"] for f in fired))
                    return
            pending = [t for t in tasks if t.key not in self.done]
            if not pending and self.trigger_until >= self.end:
                return
            now = self.now()
            wake = [next_trigger if self.trigger_until < self.end else None] + [t.end + self.settle for t in pending]
            wake = [w for w in wake if w is not None]
            if now >= self.end + self.settle and self.trigger_until < self.end:
                next_trigger = now
                continue
            self.sleep(max(0.05, min(wake) - now) if wake else 0.05)

    # --- outcome ----------------------------------------------------------------------------
    def signal_results(self):
        out = []
        for sig in self.policy.signals:
            checks = [r for r in self.records if r["signal"] == sig.name and r["kind"] == "checkpoint"]
            triggers = [r for r in self.records if r["signal"] == sig.name and r["kind"] == "trigger"]
            if sig.checkpoint:
                status, reason = soak.signal_status(sig, checks)
            else:
                status, reason = self._trigger_only_status(sig, triggers)
            judged = [r for r in checks if r["status"] in (soak.PASS, soak.FAIL) and r.get("value") is not None]
            worst = None
            if judged and sig.threshold is not None:
                value = max((r["value"] for r in judged), key=lambda v: soak._badness(v, sig.threshold, sig.ratio))
                worst = soak.show(value, sig.threshold, sig.ratio) if sig.source not in soak.COUNT_SOURCES else \
                    "%s/hour" % format_value(round(value, 2))
            fired = [f for f in self.fired if f["signal"] == sig.name]
            entry = {"name": sig.name, "status": status, "worst": worst,
                     "threshold": sig.threshold.text if sig.threshold else None,
                     "checkpoint": soak.format_duration(sig.checkpoint) if sig.checkpoint else None,
                     "trigger": sig.trigger.describe(sig.ratio) if sig.trigger else (
                         sig.incident if sig.source == "probe" else None),
                     "triggered": bool(fired), "source": sig.source, "query": sig.query,
                     "measurements": len(checks) + len(triggers),
                     "counts": dict((s, sum(1 for r in checks + triggers if r["status"] == s))
                                    for s in soak.MEASUREMENT_STATUSES),
                     "reason": reason}
            out.append(entry)
        return out

    def _trigger_only_status(self, sig, triggers):
        if not triggers:
            return soak.INCONCLUSIVE, "%s: the trigger was never evaluated" % sig.name
        if any(r.get("fired") for r in triggers) or any(f["signal"] == sig.name for f in self.fired):
            return soak.FAIL, [r for r in triggers if r["status"] == soak.FAIL][-1]["reason"]
        statuses = [r["status"] for r in triggers]
        if soak._longest(statuses, soak.ERROR) > sig.limits["consecutive_errors"]:
            return soak.ERROR, [r for r in triggers if r["status"] == soak.ERROR][-1]["reason"]
        if soak.PASS not in statuses:
            return soak.INCONCLUSIVE, "%s never produced a good measurement: %s" % (sig.name, triggers[-1]["reason"])
        return soak.PASS, "%s: no trigger fired (%s)" % (sig.name, sig.trigger.describe(sig.ratio))

    def finish(self):
        signals = self.signal_results()
        verdict, reasons = soak.final_verdict(signals, self.fired, self.strict)
        skipped = [s for s in signals if s["status"] == soak.SKIP]
        document = {
            "verdict": verdict, "reasons": reasons, "policy_sha256": self.policy.sha256,
            "policy": {"name": self.policy.name, "path": self.policy.path, "step": soak.format_duration(self.policy.step)},
            "mode": self.mode, "strict": bool(self.strict), "check_mode": bool(self.check_mode),
            "window": {"start": soak.utc(self.start, True), "end": soak.utc(self.end, True),
                       "duration": soak.format_duration(self.duration)},
            "judged_until": soak.utc(min(self.end, max([self.trigger_until] + [
                r["window"]["end_ts"] for r in self.records if r.get("window")])), True),
            "signals": signals, "triggers": self.fired,
            "skipped": [{"name": s["name"], "reason": s["reason"]} for s in skipped],
            "measurements": len(self.records), "queries": self.queries, "generated_at": utc_now_iso(),
        }
        return document

    def write(self, document, charts=None):
        if charts is not None:
            document["charts"] = charts.get("written", [])
            if charts.get("missing"):
                document["charts_missing"] = charts["missing"]
        path = write_evidence(self.dir, VERDICT, json.dumps(document, indent=2, default=str) + "\n")
        self._save_state(True)
        return path


def _json_number(value):
    if value is None:
        return None
    value = float(value)
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return value


def build_row(document, environment):
    """Row 8.1 from a verdict document."""
    row = CheckRow(ROW_ID, ROW_TITLE, environment)
    for sig in document["signals"]:
        row.add(sig["name"], soak.finding_status(sig["status"]), sig["reason"], worst=sig.get("worst"),
                threshold=sig.get("threshold"))
    for fired in document["triggers"]:
        row.fail("rollback trigger", fired["reason"])
    status = soak.row_status(document["verdict"])
    if status != "PASS" and row.status == "PASS":
        row.error("verdict", "; ".join(document["reasons"]))
    row.summary = "%s: %s" % (document["verdict"], "; ".join(document["reasons"]))
    if len(row.summary) > 480:
        row.summary = row.summary[:477] + "..."
    if document["verdict"] == soak.ROLLBACK:
        row.advice = ["Initiate the rollback (runbook 8.3): playbooks/rollback.yml, or soak_auto_rollback=true"]
    elif document["verdict"] == soak.FAIL:
        row.advice = ["The soak threshold was breached: investigate before declaring the release stable"]
    elif document["verdict"] == soak.INCONCLUSIVE:
        row.advice = ["Not enough good measurements: fix the signals' data and soak again"]
    data = row.to_dict()
    data["status"] = status
    return data
