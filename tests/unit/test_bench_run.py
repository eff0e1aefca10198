"""bench/run.py: what it compares and counts (the runs themselves need the stack: `make bench`)."""

import json
import os
import subprocess
import sys
import time

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "bench"))

import run as bench  # noqa: E402

INFO = {
    "api_port": 18080, "pg_port": 15432, "prometheus_port": 19090, "sentry_url": "http://127.0.0.1:19091",
    "database_url": "postgresql://solvereign_readonly:secret-pw@127.0.0.1:15432/solvereign",
    "release_version": "3.7.0", "release_commit": "946224751f1c1cdfd3e26a0a82210d845c89063b",
    "origin": "/tmp/stack/origin.git", "login_email": "dispatcher@lts.at", "login_password": "pw",
    "whatsapp_app_secret": "w", "whatsapp_verify_token": "t", "billing_webhook_secret": "b",
    "sendgrid_private_key_path": "/tmp/stack/key.pem", "tenant_id": 1, "site_id": 10,
    "prometheus_job": "solvereign-api", "sentry_org": "solvereign", "sentry_project": "solvereign-api",
    "sentry_token": "tok", "log_containers": ["solvereign-api"], "docker_host": "unix:///tmp/stack/docker.sock",
}


def _row(status, started="2026-01-11T10:00:00.000000Z", duration=0.1, summary=""):
    return {"status": status, "started_at": started, "duration_s": duration, "summary": summary}


def test_shell_rows_are_read_from_the_row_lines(tmp_path):
    output = tmp_path / "shell.log"
    output.write_text('"3.7.0"\nROW 1.2 PASS\nPASS\nROW 6.1 FAIL latest migration 039 (expected 041+)\n'
                      "ROW 7.2 MAYBE\n  ROW 2.1 FAIL\n")
    assert bench.shell_rows(str(output)) == {"1.2": "PASS", "6.1": "FAIL"}


def test_warn_counts_as_pass_and_error_as_fail():
    shell = {"3.1": "PASS", "7.2": "FAIL", "2.1": "FAIL"}
    rows = {"3.1": _row("WARN"), "7.2": _row("ERROR"), "2.1": _row("FAIL")}
    assert bench.disagreements(shell, rows) == []


def test_disagreements_name_the_rows():
    shell = {"1.2": "FAIL", "5.5": "PASS", "6.4": "PASS", "7.1": "PASS"}
    rows = {"1.2": _row("PASS"), "5.5": _row("FAIL"), "7.1": _row("SKIP")}
    assert bench.disagreements(shell, rows) == [
        "1.2: shell FAIL, checklist PASS", "5.5: shell PASS, checklist FAIL", "6.4: shell PASS, checklist no row",
        "7.1: shell PASS, checklist SKIP"]


def test_rows_recorded_by_one_call_count_once_in_the_checks_time():
    rows = {"local": {
        "4.1": _row("PASS", "2026-01-11T10:00:00.000100Z", 0.5),
        "4.2": _row("PASS", "2026-01-11T10:00:00.000200Z", 0.5),
        "4.4": _row("PASS", "2026-01-11T10:00:01.000000Z", 2.0),
        "6.1": _row("PASS", "2026-01-11T10:00:05.000000Z", 0.5),
    }}
    assert bench.check_seconds(rows) == pytest.approx(3.0)


def test_fleet_regressions_count_rows_that_passed_alone():
    alone = {"size": 1, "rows": {"fleet01": {"2.1": _row("PASS"), "4.4": _row("WARN"), "7.3": _row("FAIL")}}}
    at_three = {"size": 3, "rows": {
        "fleet01": {"2.1": _row("PASS"), "4.4": _row("PASS"), "7.3": _row("FAIL")},
        "fleet02": {"2.1": _row("ERROR", summary="connection refused"), "4.4": _row("PASS"), "7.3": _row("FAIL")},
    }}
    found = bench.fleet_regressions([alone, at_three])
    assert found[1] == []
    assert found[3] == ["fleet02 2.1 ERROR: connection refused", "1 environment(s) without any row"]


def test_endpoints_point_every_service_at_the_proxy():
    urls = bench.endpoints(INFO, {"api": ("127.0.1.4", 4001), "postgresql": ("127.0.1.4", 4002),
                                  "prometheus": ("127.0.1.4", 4003), "sentry": ("127.0.1.4", 4004)})
    assert urls == {"url": "http://127.0.1.4:4001", "prometheus_url": "http://127.0.1.4:4003",
                    "sentry_url": "http://127.0.1.4:4004",
                    "database_url": "postgresql://solvereign_readonly:secret-pw@127.0.1.4:4002/solvereign"}
    assert bench.endpoints(INFO, bench.stack_targets(INFO))["database_url"] == INFO["database_url"]


def test_the_generated_inventory_has_one_group_per_environment(tmp_path):
    environments = [("fleet%02d" % n, bench.endpoints(INFO, {
        "api": ("127.0.1.%d" % n, 4001), "postgresql": ("127.0.1.%d" % n, 4002),
        "prometheus": ("127.0.1.%d" % n, 4003)})) for n in (1, 2)]
    bench.write_inventory(str(tmp_path), INFO, environments)
    proc = subprocess.run([os.path.join(os.path.dirname(sys.executable), "ansible-inventory"), "-i", str(tmp_path),
                           "--list"], capture_output=True, text=True, timeout=60, check=False,
                          env=dict(os.environ, ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg")))
    assert proc.returncode == 0, proc.stderr
    inventory = json.loads(proc.stdout)
    assert inventory["solvereign"]["children"] == ["fleet01", "fleet02"]
    hostvars = inventory["_meta"]["hostvars"]
    assert hostvars["fleet02-host"]["solvereign_url"] == "http://127.0.1.2:4001"
    assert hostvars["fleet02-host"]["solvereign_environment"] == "fleet02"
    assert hostvars["fleet01-host"]["solvereign_release_commit"] == "9462247"
    assert hostvars["fleet01-host"]["solvereign_sentry_url"] == ""
    assert hostvars["fleet01-host"]["ansible_connection"] == "local"


def test_the_process_tree_memory_includes_children():
    child = subprocess.Popen([sys.executable, "-c", "import time; data = bytearray(64 * 2 ** 20); time.sleep(30)"])
    try:
        deadline = time.monotonic() + 10
        while True:
            total, by_name, pids = bench.tree_rss(os.getpid())
            if child.pid in pids and total > 64 * 2 ** 20:
                break
            assert time.monotonic() < deadline, "the child's 64 MB never showed"
            time.sleep(0.1)
        assert sum(by_name.values()) == total
        # PSS never exceeds RSS at one instant; the two are read one after the other while this process
        # keeps allocating, so the RSS is read again after the PSS and the larger one bounds it.
        pss = bench.tree_pss(pids)
        total_after = bench.tree_rss(os.getpid())[0]
        assert 64 * 2 ** 20 // 2 < pss <= max(total, total_after)
    finally:
        child.kill()
        child.wait()


@pytest.mark.parametrize("name, value, message", [
    ("BENCH_FLEET", "1,ten", "BENCH_FLEET must list sizes"),
    ("BENCH_PAIRS", "0", "BENCH_PAIRS must be at least 1"),
    ("BENCH_RTT_MS", "fast", "BENCH_RTT_MS must be a number"),
    ("BENCH_FAULTS", "wrong_version,no_such_fault", "unknown fault(s): no_such_fault"),
])
def test_bad_settings_are_a_clear_error(monkeypatch, name, value, message):
    monkeypatch.setenv(name, value)
    with pytest.raises(bench.BenchError, match=message.replace("(", r"\(").replace(")", r"\)")):
        bench.settings()


def test_settings_default_to_the_issue():
    options = bench.settings()
    assert (options["rtt_ms"], options["pairs"], options["fleet"]) == (100.0, 5, [1, 10, 50])
    assert "wrong_version" in options["faults"]["api"] and "migration_039" in options["faults"]["db"]


def test_the_command_line_rejects_bad_settings_without_a_traceback():
    proc = subprocess.run([sys.executable, os.path.join(ROOT, "bench", "run.py")], capture_output=True, text=True,
                          timeout=60, check=False, env=dict(os.environ, BENCH_PAIRS="many"))
    assert proc.returncode == 2
    assert "bench: BENCH_PAIRS must be a number" in proc.stderr and "Traceback" not in proc.stderr


def _verify_run(wall, rows, started=1000.0):
    return {"wall_s": wall, "started": started, "rows": {"bench": rows}, "verdict": "PASS", "peak_rss": 2 ** 30,
            "peak_pss": 2 ** 29, "peak_by_name": {"chromium": 2 ** 29}, "proxy": [
                {"connections": 2, "bytes_up": 10, "bytes_down": 10, "turns": 4}] * 4,
            "timing": {"playbook_start": started + 1.0, "playbook_end": started + wall - 0.1, "tasks": [
                {"name": "database : Verify the tenant isolation (6.4)", "role": "database", "play": "p",
                 "duration_s": wall / 2}]}}


def _figures(shell_s, verify_s, loopback_verify_s, problems=()):
    rows = {"6.4": _row("PASS", duration=1.5)}
    pair = {"shell": {"wall_s": shell_s, "rows": {"6.4": "PASS"}, "proxy": [
        {"connections": 1, "bytes_up": 1, "bytes_down": 1, "turns": 2}] * 4},
        "verify": _verify_run(verify_s, rows), "disagreements": list(problems)}
    loop = {"shell": {"wall_s": 0.5, "rows": {"6.4": "PASS"}, "proxy": None},
            "verify": _verify_run(loopback_verify_s, rows), "disagreements": []}
    fleet = [dict(_verify_run(10.0, rows), size=1, rows={"fleet01": rows}),
             dict(_verify_run(25.0, rows), size=50,
                  rows=dict(("fleet%02d" % n, rows) for n in range(1, 51)))]
    return {"date": "2026-01-11 10:00", "forks": "10", "load_end": "1.00 1.00 1.00",
            "machine": {"cores": 2, "cpu": "cpu", "memory": "24 GiB", "kernel": "6", "load": "0.5 0.5 0.5",
                        "versions": [("curl", "7.88.1")]},
            "pairs": [pair] * 3, "loopback": [loop], "shell_rows": ["6.4"], "fleet": fleet,
            "faulted": {"faults": ["rls_disabled_plans"], "failing": ["6.4"], "disagreements": []},
            "soak": [{"scenario": "healthy", "wall_s": 5.0, "soak_s": 0.2, "verdict": "PASS", "rounds": 3}]}


def test_the_report_states_the_goals_and_the_figures(monkeypatch):
    options = dict(bench.settings(), pairs=3, loopback_runs=1)
    text = bench.report(options, _figures(shell_s=8.0, verify_s=6.0, loopback_verify_s=5.0))
    assert "| 100 ms round trip (proxy) | 3 pairs | 8.00 s | 6.00 s | 0.75x |" in text
    assert "verify at most 1.0x the shell baseline at 100 ms: met (0.75x; the stretch goal, 0.5x: **not met**)" in text
    assert "verify under 8 s on loopback: met (5.00 s)" in text
    assert "- healthy stack: 4 of 4 runs agree on every row" in text
    assert "| 50 | 25.00 s | 2.50x | PASS | 1024 MB | 512 MB | chromium 512 MB | 0 |" in text
    assert "wall(50) at most 3x wall(1): met; peak RSS under 2 GB: met" in text
    assert "| healthy | 5.00 s | 0.20 s | PASS |" in text
    assert "database 3.00 s (1 tasks)" in text and "account for 1.50 s" in text
    # 1 connection (0.1 s) and 2 turns (0.1 s) to each of four services
    assert "costs at least 0.80 s at 100 ms" in text


def test_the_report_names_goals_not_met_and_disagreements():
    options = dict(bench.settings(), pairs=3, loopback_runs=1)
    text = bench.report(options, _figures(8.0, 40.0, 16.0, problems=["6.4: shell FAIL, checklist PASS"]))
    assert "verify at most 1.0x the shell baseline at 100 ms: **not met** (5.00x; the stretch goal" in text
    assert "verify under 8 s on loopback: **not met** (16.00 s)" in text
    assert "- healthy stack: 1 of 4 runs agree on every row" in text
    assert "  - 6.4: shell FAIL, checklist PASS" in text


def test_without_the_proxy_the_pairs_are_reported_as_loopback():
    options = dict(bench.settings(), rtt_ms=0.0, pairs=3, loopback_runs=0)
    figures = dict(_figures(1.0, 15.0, 15.0), loopback=[])
    text = bench.report(options, figures)
    assert "| loopback (BENCH_RTT_MS=0) | 3 pairs | 1.00 s | 15.00 s | 15.00x |" in text
    assert "- verify on loopback (BENCH_RTT_MS=0) (the median run, 15.00 s)" in text
    assert "baseline at 0 ms" not in text and "network, verify" not in text


def test_the_fleet_reading_splits_the_tasks_every_host_ran_from_those_run_once():
    options = dict(bench.settings(), pairs=3, loopback_runs=1)
    figures = _figures(8.0, 6.0, 5.0)
    largest = figures["fleet"][-1]
    largest["timing"]["tasks"] = [
        {"name": "health : Plan the health probes (2.1)", "role": "health", "play": "p", "duration_s": 0.5,
         "results": 50},
        {"name": "database : Plan the database checks", "role": "database", "play": "p", "duration_s": 2.0,
         "results": 50},
        {"name": "Run the planned checks of every environment at once", "play": "p", "duration_s": 12.0,
         "results": 1},
        {"name": "checklist : Write checklist.json", "role": "checklist", "play": "p", "duration_s": 1.0,
         "results": 1},
    ]
    text = bench.report(options, figures)
    assert ("At 50 environments (25.00 s): 2 tasks ran on every host, 2.50 s in all (25 ms per host and task; "
            "heaviest: database : Plan the database checks 2.00 s; health : Plan the health probes (2.1) 0.50 s); "
            "the tasks run once took 13.00 s (slowest: Run the planned checks of every environment at once 12.00 s; "
            "checklist : Write checklist.json 1.00 s).") in text
    # With the CPU of each task recorded (bench_timing), the per-host tasks' CPU is named too.
    for task, cpu_s in zip(largest["timing"]["tasks"], (0.75, 3.5, 20.0, 1.0)):
        task["cpu_s"] = cpu_s
    assert "2 tasks ran on every host, 2.50 s in all and 4.2 CPU-s of Ansible's processes (25 ms" in \
        bench.report(options, figures)


def test_the_fleet_reading_splits_the_machine_cpu_between_verify_the_proxy_and_the_stack():
    options = dict(bench.settings(), pairs=3, loopback_runs=1)
    figures = _figures(8.0, 6.0, 5.0)
    largest = figures["fleet"][-1]
    largest["timing"]["tasks"] = [{"name": "Run the checks", "play": "p", "duration_s": 12.0, "results": 1}]
    largest.update(cpu_machine_s=40.0, cpu_tree_s=25.0, cpu_bench_s=3.0, cores=2)
    text = bench.report(options, figures)
    assert ("CPU at 50 environments: the machine was busy 40.0 s of the 50.0 s its 2 cores had in the run (80 %): "
            "verify's process tree (Ansible, its workers, the checks and Chromium) 25.0 s, the bench's latency proxy "
            "3.0 s, everything else") in text
    assert "Docker) 12.0 s." in text
    # A run without the readings (an older result) has no CPU line, and no error.
    del largest["cpu_machine_s"]
    assert "CPU at 50" not in bench.report(options, figures)


def test_with_the_stack_measured_the_fleet_reading_names_its_parts_and_the_least_time_the_machine_allows():
    options = dict(bench.settings(), pairs=3, loopback_runs=1)
    figures = _figures(8.0, 6.0, 5.0)
    largest = figures["fleet"][-1]
    largest["timing"]["tasks"] = [{"name": "Run the checks", "play": "p", "duration_s": 12.0, "results": 1}]
    # The tree misses Chromium's renderers (init reaps them): verify is what the stack and proxy left.
    largest.update(cpu_machine_s=45.0, cpu_tree_s=20.0, cpu_bench_s=2.0, cores=2, cpu_chromium_s=15.0,
                   cpu_stack_s={"db": 3.0, "api": 5.0, "prometheus": 0.5, "sentry": 0.5})
    text = bench.report(options, figures)
    assert ("the reference stack that stands in for all 50 environments 9.0 s (the API stand-in 5.0 s, PostgreSQL "
            "3.0 s, Prometheus 0.5 s, the Sentry stand-in 0.5 s), the bench's latency proxy 2.0 s, and verify the "
            "rest, 34.0 s: Chromium 15.0 s (0.30 s per environment, read process by process) and Ansible with the "
            "checks 19.0 s.") in text
    # 15 + 9 + 2 = 26 CPU-s on 2 cores: 13 s, against 3 x 10 s.
    assert ("took 26.0 CPU-s, at least 13.0 s on 2 cores before Ansible does anything (1.3x wall(1); the goal, "
            "3x, is 30.0 s)") in text


def test_a_process_tree_holds_the_cpu_of_its_children():
    busy = "import time\nend = time.process_time() + 0.4\nwhile time.process_time() < end: pass\ntime.sleep(30)"
    child = subprocess.Popen([sys.executable, "-c", busy])
    try:
        deadline = time.monotonic() + 20
        while bench.tree_cpu_s(child.pid) < 0.3:
            assert time.monotonic() < deadline, "the busy child never reached 0.3 CPU-s"
            time.sleep(0.05)
        # The parent's tree holds the child's CPU besides its own while the child runs.
        table = bench._processes()
        own = table[os.getpid()][2] + table[os.getpid()][3]
        assert bench.tree_cpu_s(os.getpid(), table) - own >= 0.29
        # A process that is gone has no tree.
        assert bench.tree_cpu_s(2 ** 22 + 1, table) == 0.0
    finally:
        child.kill()
        child.wait()


def test_a_measured_run_counts_the_cpu_of_its_process_tree(tmp_path):
    busy = [sys.executable, "-c", "import time\nend = time.process_time() + 0.3\nwhile time.process_time() < end: pass"]
    result = bench.run_measured(busy, dict(os.environ), str(tmp_path / "busy.log"), timeout=60)
    assert result["rc"] == 0
    assert result["cpu_tree_s"] >= 0.3
    assert result["cpu_machine_s"] is None or result["cpu_machine_s"] >= 0.25
