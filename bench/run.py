"""Time the collection against the runbook's own shell commands on the same target.

    make bench                      # starts the reference stack, N=5 rounds each
    BENCH_ROUNDS=10 make bench

Prints, per section group, the median wall time of the runbook's commands run as a plain shell
script and of the playbook doing the same checks (with evidence and checklist), and their ratio.
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

from tests.stack import stackctl  # noqa: E402

BIN = os.path.dirname(sys.executable)
CASES = [
    # (name, runbook shell script, playbook tags; None runs every section)
    ("sections 1-2 (tag, version, health)", "bench/runbook_sections_1_2.sh", "fingerprint,health"),
    ("sections 1-7 (every automated row)", "bench/runbook_all_sections.sh", None),
]


def timed(cmd, env):
    started = time.monotonic()
    proc = subprocess.run(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, check=False)
    elapsed = time.monotonic() - started
    if proc.returncode not in (0,):
        raise SystemExit("bench: %s failed (exit %d):\n%s" % (" ".join(cmd), proc.returncode, proc.stdout[-2000:]))
    return elapsed


def main():
    rounds = int(os.environ.get("BENCH_ROUNDS", "5"))
    stackctl.start()
    info = stackctl.env()
    env = dict(os.environ, STAGING_URL=info["api_url"], ORIGIN=info["origin"], DATABASE_URL=info["database_url"],
               PROMETHEUS_URL=info["prometheus_url"], SENTRY_URL=info["sentry_url"], SENTRY_TOKEN=info["sentry_token"],
               STAGING_EMAIL=info["login_email"], STAGING_PASSWORD=info["login_password"],
               ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"), PATH=BIN + os.pathsep + os.environ["PATH"])
    evidence = tempfile.mkdtemp(prefix="solvereign-bench-")
    try:
        print("%-40s %12s %12s %8s" % ("case (median of %d)" % rounds, "runbook sh", "playbook", "ratio"))
        for name, script, tags in CASES:
            shell = [timed(["bash", script], env) for dummy in range(rounds)]
            playbook_cmd = [os.path.join(BIN, "ansible-playbook"), "playbooks/verify.yml", "-i", "inventories/local",
                            "-e", json.dumps({"solvereign_evidence_dir": evidence, "checklist_print": False})]
            if tags:
                playbook_cmd += ["--tags", tags]
            playbook = [timed(playbook_cmd, env) for dummy in range(rounds)]
            a, b = statistics.median(shell), statistics.median(playbook)
            print("%-40s %11.3fs %11.3fs %7.1fx" % (name, a, b, b / a))
        print("The playbook also judges what the shell commands leave to the eye, writes the evidence and the\n"
              "checklist, and runs the UI login in Chromium (4.4), which the runbook does by hand.")
    finally:
        stackctl.stop()


if __name__ == "__main__":
    main()
