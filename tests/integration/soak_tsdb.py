"""Synthetic two-hour soak windows backfilled into a real Prometheus TSDB.

Each scenario gets its own time slot (10 minutes of lead-in, the two-hour soak window, a short
tail), so the shipped runbook policy is judged unmodified, with the real job and label names.
The series are written as OpenMetrics, turned into TSDB blocks by
``promtool tsdb create-blocks-from openmetrics`` and served by a Prometheus started on them.
"""

import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.request

JOB = "solvereign-api"
SCRAPE = 30  # seconds
LEAD_IN = 10 * 60
WINDOW = 2 * 3600
TAIL = 5 * 60
SLOT = LEAD_IN + WINDOW + TAIL + 5 * 60
BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2, 2.5, 5, 10, 11.5, 15, 30)
MEMORY_LIMIT = 1024 ** 3


def _healthy(minute):
    return {"rps": 10.0, "err": 0.001, "lat": 0.2, "up": 1, "db": 12, "mem": 0.45}


def _between(a, b, **values):
    def change(minute, state):
        if a <= minute < b:
            state.update(values)
    return change


# name -> (changes applied over the healthy baseline, missing scrape minutes, no data at all)
SCENARIOS = {
    "healthy": ([], (), False),
    "5xx_6pct_6min": ([_between(40, 46, err=0.06)], (), False),
    "5xx_6pct_4min": ([_between(40, 44, err=0.06)], (), False),
    "5xx_0.8pct_20min": ([_between(50, 70, err=0.008)], (), False),
    "p95_11s_6min": ([_between(40, 46, lat=11.0)], (), False),
    "p95_3s_10min": ([_between(40, 50, lat=3.0)], (), False),
    "outage_3min": ([_between(40, 43, up=0)], (), False),
    "outage_90s": ([_between(40, 41.5, up=0)], (), False),
    "5xx_7min_missing_scrape": ([_between(40, 47, err=0.06)], (43.5,), False),
    "5xx_2pct_min17_to_25": ([_between(17, 25, err=0.02)], (), False),
    "db_60_30min": ([_between(30, 60, db=60)], (), False),
    "memory_90pct": ([_between(20, 120, mem=0.90)], (), False),
    "no_series": ([], (), True),
    "zero_traffic": ([_between(-60, 200, rps=0.0)], (), False),
}


class Layout(object):
    """Where each scenario's soak window lies: slots back to back, ending an hour before ``now``."""

    def __init__(self, now=None, names=tuple(SCENARIOS)):
        now = time.time() if now is None else now
        end = (int(now) // 3600) * 3600 - 3600
        self.names = list(names)
        self.base = end - SLOT * len(self.names)
        self.slots = dict((name, self.base + i * SLOT) for i, name in enumerate(self.names))

    def window(self, name):
        """``(start, end)`` epoch seconds of the scenario's two-hour soak window."""
        start = self.slots[name] + LEAD_IN
        return start, start + WINDOW


def _series_lines(layout):
    """Yield ``(family, line)`` for every sample, grouped by family afterwards."""
    families = {}

    def add(family, labels, ts, value):
        text = ",".join('%s="%s"' % kv for kv in labels)
        families.setdefault(family, []).append("%s{%s} %s %d" % (family, text, repr(float(value)), ts))

    for name in layout.names:
        changes, missing, nothing = SCENARIOS[name]
        if nothing:
            continue
        slot = layout.slots[name]
        soak_start = slot + LEAD_IN
        ok = err = 0.0
        buckets = dict((le, 0.0) for le in BUCKETS)
        inf = total_sum = 0.0
        scenario = ("scenario", name)
        for ts in range(slot, slot + LEAD_IN + WINDOW + TAIL + 1, SCRAPE):
            minute = (ts - soak_start) / 60.0
            state = _healthy(minute)
            for change in changes:
                change(minute, state)
            if any(abs(minute - m) < 1e-6 for m in missing):
                continue
            jl = [("job", JOB), scenario]
            add("up", jl, ts, state["up"])
            pg = [("datname", "solvereign"), ("job", "postgres"), scenario]
            add("pg_stat_activity_count", pg + [("state", "active")], ts, state["db"] // 2)
            add("pg_stat_activity_count", pg + [("state", "idle")], ts, state["db"] - state["db"] // 2)
            mem = [("job", "cadvisor"), ("name", "solvereign-api"), scenario]
            add("container_memory_working_set_bytes", mem, ts, int(state["mem"] * MEMORY_LIMIT))
            add("container_spec_memory_limit_bytes", mem, ts, MEMORY_LIMIT)
            if not state["up"]:
                continue
            requests = state["rps"] * SCRAPE
            err += requests * state["err"]
            ok += requests * (1 - state["err"])
            for le in BUCKETS:
                if state["lat"] <= le:
                    buckets[le] += requests
            inf += requests
            total_sum += requests * state["lat"]
            add("http_requests_total", jl + [("status", "200")], ts, round(ok, 3))
            add("http_requests_total", jl + [("status", "500")], ts, round(err, 3))
            for le in BUCKETS:
                add("http_request_duration_seconds_bucket", jl + [("le", repr(float(le)))], ts, buckets[le])
            add("http_request_duration_seconds_bucket", jl + [("le", "+Inf")], ts, inf)
            add("http_request_duration_seconds_count", jl, ts, inf)
            add("http_request_duration_seconds_sum", jl, ts, round(total_sum, 3))
    return families


def write_openmetrics(layout, path):
    families = _series_lines(layout)
    with open(path, "w") as handle:
        for family, lines in families.items():
            handle.write("# TYPE %s gauge\n" % family)
            # Samples of one series in time order, series after series.
            lines.sort(key=lambda line: (line.rsplit(" ", 2)[0], int(line.rsplit(" ", 1)[1])))
            handle.write("\n".join(lines) + "\n")
        handle.write("# EOF\n")


def free_port():
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


class BackfilledPrometheus(object):
    """Prometheus on a TSDB backfilled with the scenarios; its own port and data dir."""

    def __init__(self, workdir, layout=None, retention="7d"):
        self.workdir = str(workdir)
        self.layout = layout or Layout()
        self.retention = retention
        self.port = free_port()
        self.url = "http://127.0.0.1:%d" % self.port
        self.proc = None

    def build(self):
        data = os.path.join(self.workdir, "data")
        shutil.rmtree(data, ignore_errors=True)
        os.makedirs(data)
        source = os.path.join(self.workdir, "scenarios.om")
        write_openmetrics(self.layout, source)
        promtool = shutil.which("promtool") or "/usr/bin/promtool"
        proc = subprocess.run([promtool, "tsdb", "create-blocks-from", "openmetrics", source, data],
                              capture_output=True, text=True, timeout=300, check=False)
        if proc.returncode != 0:
            raise RuntimeError("promtool failed: %s" % (proc.stderr or proc.stdout)[-2000:])
        return data

    def start(self):
        data = self.build()
        config = os.path.join(self.workdir, "prometheus.yml")
        with open(config, "w") as handle:
            handle.write("global:\n  scrape_interval: 30s\nscrape_configs: []\n")
        log = open(os.path.join(self.workdir, "prometheus.log"), "w")
        binary = shutil.which("prometheus") or "/usr/bin/prometheus"
        self.proc = subprocess.Popen(
            [binary, "--config.file=" + config, "--storage.tsdb.path=" + data,
             "--storage.tsdb.retention.time=" + self.retention, "--web.listen-address=127.0.0.1:%d" % self.port],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("prometheus exited: see %s" % log.name)
            try:
                with urllib.request.urlopen(self.url + "/-/ready", timeout=1) as answer:
                    if answer.status == 200:
                        return self
            except OSError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError("prometheus did not get ready on %s" % self.url)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.proc = None
