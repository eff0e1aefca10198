"""Time a retrospective soak of a two-hour window (target: under 10 s wall time).

    make bench                      # bench/run.py runs it at its end (BENCH_SOAK_ROUNDS, default 3)
    BENCH_ROUNDS=10 .venv/bin/python bench/soak.py

Backfills a Prometheus (its own port and data dir) with synthetic two-hour windows, then runs
playbooks/soak.yml retrospectively on the healthy and on a rollback window, and prints the median
wall time of the playbook (evidence and charts included) and of the soak itself (queries and judging).
"""

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from tests.integration.soak_tsdb import BackfilledPrometheus  # noqa: E402

BIN = os.path.dirname(sys.executable)
TARGET_S = 10.0


def measure(rounds=5, report=print):
    """Median wall times of the retrospective soak per scenario: [{scenario, wall_s, soak_s, verdict}]."""
    work = tempfile.mkdtemp(prefix="solvereign-bench-soak-")
    prometheus = BackfilledPrometheus(work)
    started = time.monotonic()
    prometheus.start()
    report("backfilled Prometheus ready in %.1fs (%s)" % (time.monotonic() - started, prometheus.url))
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"), PATH=BIN + os.pathsep + os.environ["PATH"])
    results = []
    try:
        report("%-44s %12s %12s %8s" % ("retrospective soak, 2h window (median of %d)" % rounds, "playbook", "soak",
                                        "verdict"))
        for scenario in ("healthy", "5xx_6pct_6min"):
            start, _end = prometheus.layout.window(scenario)
            evidence = os.path.join(work, "evidence-" + scenario)
            cmd = [os.path.join(BIN, "ansible-playbook"), "playbooks/soak.yml", "-i", "inventories/local", "-e",
                   json.dumps({"soak_mode": "retrospective", "soak_start": int(start), "soak_duration": "2h",
                               "solvereign_prometheus_url": prometheus.url, "solvereign_sentry_url": "",
                               "soak_variables": {"containers": ["solvereign-api"]}, "solvereign_log_containers": [],
                               "solvereign_evidence_dir": evidence})]
            walls, inner, verdict = [], [], None
            for dummy in range(rounds):
                began = time.monotonic()
                subprocess.run(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               check=False)
                walls.append(time.monotonic() - began)
                with open(os.path.join(evidence, "soak", "verdict.json")) as handle:
                    document = json.load(handle)
                inner.append(document["elapsed_s"])
                verdict = document["verdict"]
            result = {"scenario": scenario, "wall_s": statistics.median(walls), "soak_s": statistics.median(inner),
                      "verdict": verdict, "rounds": rounds}
            results.append(result)
            report("%-44s %11.2fs %11.2fs %8s" % (scenario, result["wall_s"], result["soak_s"], verdict))
            if result["wall_s"] >= TARGET_S:
                report("  slower than the %.0f s target" % TARGET_S)
    finally:
        prometheus.stop()
        shutil.rmtree(work, ignore_errors=True)
    return results


def main():
    measure(int(os.environ.get("BENCH_ROUNDS", "5")))


if __name__ == "__main__":
    main()
