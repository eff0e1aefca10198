"""Time a retrospective soak of a two-hour window (target: under 10 s wall time).

    make bench                      # runs this after bench/run.py
    BENCH_ROUNDS=10 .venv/bin/python bench/soak.py

Backfills a Prometheus (its own port and data dir) with synthetic two-hour windows, then runs
playbooks/soak.yml retrospectively on the healthy and on a rollback window, and prints the median
wall time of the playbook (evidence and charts included) and of the soak itself (queries and judging).
"""

import json
import os
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


def main():
    rounds = int(os.environ.get("BENCH_ROUNDS", "5"))
    work = tempfile.mkdtemp(prefix="solvereign-bench-soak-")
    prometheus = BackfilledPrometheus(work)
    started = time.monotonic()
    prometheus.start()
    print("backfilled Prometheus ready in %.1fs (%s)" % (time.monotonic() - started, prometheus.url))
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"), PATH=BIN + os.pathsep + os.environ["PATH"])
    try:
        print("%-44s %12s %12s %8s" % ("retrospective soak, 2h window (median of %d)" % rounds, "playbook", "soak",
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
                document = json.load(open(os.path.join(evidence, "soak", "verdict.json")))
                inner.append(document["elapsed_s"])
                verdict = document["verdict"]
            wall = statistics.median(walls)
            print("%-44s %11.2fs %11.2fs %8s" % (scenario, wall, statistics.median(inner), verdict))
            if wall >= TARGET_S:
                print("  slower than the %.0f s target" % TARGET_S)
    finally:
        prometheus.stop()


if __name__ == "__main__":
    main()
