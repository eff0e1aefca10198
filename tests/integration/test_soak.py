"""playbooks/soak.yml: retrospective soaks judged on a real Prometheus backfilled with synthetic
two-hour windows, bad input refused up front, and live soaks against the reference stack."""

import json
import os
import signal
import subprocess
import sys
import time

import hashlib

import pytest
import yaml

from ansible_collections.solvereign.release_ops.plugins.module_utils.http_client import HttpClient
from ansible_collections.solvereign.release_ops.plugins.module_utils.prometheus import PrometheusClient
from ansible_collections.solvereign.release_ops.plugins.module_utils.soak import load_policy
from ansible_collections.solvereign.release_ops.plugins.module_utils.soak_runner import SoakRunner, build_row
from tests.integration.conftest import ANSIBLE_PLAYBOOK, COMPONENTS, ROOT, assert_no_traceback, run_playbook
from tests.integration.soak_tsdb import JOB, SCENARIOS, BackfilledPrometheus
# The rollback fixtures (a Docker engine, an origin, a compose project) are used by name.
from tests.integration.test_rollback import engine, origin, project  # noqa: F401 pylint: disable=unused-import
from tests.stack import compose_stack, dockerd

POLICY = os.path.join(ROOT, "roles", "soak", "files", "runbook_policy.yml")
LIVE_POLICY = os.path.join(ROOT, "tests", "integration", "files", "soak_live_policy.yml")


@pytest.fixture(scope="session")
def backfilled(tmp_path_factory):
    """One Prometheus, its TSDB backfilled once per session with every scenario's window."""
    prometheus = BackfilledPrometheus(tmp_path_factory.mktemp("soak-tsdb"))
    try:
        prometheus.start()
    except (RuntimeError, OSError) as exc:
        pytest.fail("the backfilled Prometheus did not start: %s" % exc, pytrace=False)
    yield prometheus
    prometheus.stop()


class Soak(object):
    def __init__(self, run):
        self.run = run
        self.rc = run.rc
        self.output = run.output
        self.dir = os.path.join(run.evidence_dir, "soak")
        path = os.path.join(self.dir, "verdict.json")
        self.verdict = json.load(open(path)) if os.path.exists(path) else None
        path = os.path.join(self.dir, "measurements.jsonl")
        self.measurements = [json.loads(line) for line in open(path)] if os.path.exists(path) else []

    def signal(self, name):
        return [s for s in self.verdict["signals"] if s["name"] == name][0]

    def row(self):
        return self.run.row("8.1")


def retrospective(backfilled, tmp_path, scenario, args=(), env=None, **extra):
    start, _end = backfilled.layout.window(scenario)
    variables = {"soak_mode": "retrospective", "soak_start": int(start), "soak_duration": "2h",
                 "solvereign_prometheus_url": backfilled.url, "solvereign_sentry_url": "",
                 "soak_variables": {"containers": ["solvereign-api"]}, "solvereign_log_containers": [],
                 "soak_charts": False}
    variables.update(extra)
    return Soak(run_playbook(tmp_path / "evidence", playbook="playbooks/soak.yml", extra_vars=variables, args=args,
                             env=env))


EXPECTED = [
    ("healthy", "PASS", None),
    ("5xx_6pct_6min", "ROLLBACK", "5xx rate 6% > 5% for"),
    ("5xx_6pct_4min", "FAIL", "5xx rate"),
    ("5xx_0.8pct_20min", "FAIL", "5xx rate 0.8% >= 0.5%"),
    ("p95_11s_6min", "ROLLBACK", "p95 latency 11.43s > 10s for"),
    ("p95_3s_10min", "FAIL", "p95 latency 4.875s >= 2s"),
    ("outage_3min", "ROLLBACK", "service outage (value 0, rollback when == 0) for 3m30s"),
    ("outage_90s", "PASS", None),
    ("5xx_7min_missing_scrape", "ROLLBACK", "5xx rate 6% > 5% for"),
    ("5xx_2pct_min17_to_25", "FAIL", "5xx rate 2% >= 0.5%"),
    ("db_60_30min", "FAIL", "active db connections 60 >= 50"),
    ("memory_90pct", "FAIL", "memory usage 90% >= 80%"),
    ("no_series", "INCONCLUSIVE", "no data"),
    ("zero_traffic", "ROLLBACK", "service outage"),
]
assert set(name for name, _v, _r in EXPECTED) == set(SCENARIOS)


def judge(backfilled, tmp_path, scenario, policy_file=POLICY, containers=("solvereign-api",)):
    """The soak engine in-process (what the soak_run action runs) on the backfilled Prometheus."""
    start, end = backfilled.layout.window(scenario)
    policy = load_policy(policy_file, {"job": JOB, "db_name": "solvereign", "containers": list(containers)})
    client = PrometheusClient(HttpClient(timeout=10), backfilled.url)
    runner = SoakRunner(policy, client, start, end - start, "retrospective", str(tmp_path / scenario / "soak"))
    runner.validate()
    document = runner.run()
    runner.write(document)
    return document, runner.records


@pytest.mark.parametrize("scenario, verdict, reason", EXPECTED, ids=[e[0] for e in EXPECTED])
def test_retrospective_soak_of_a_backfilled_window(backfilled, tmp_path, scenario, verdict, reason):
    document, records = judge(backfilled, tmp_path, scenario)
    assert document["verdict"] == verdict, document["reasons"]
    if reason:
        assert any(reason in r for r in document["reasons"]), document["reasons"]
    assert document["policy_sha256"] == hashlib.sha256(open(POLICY, "rb").read()).hexdigest()
    start, end = backfilled.layout.window(scenario)
    assert document["window"]["start"] == time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(start))
    assert document["window"]["end"] == time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(end))
    # row 8.1: PASS; FAIL for FAIL and ROLLBACK; ERROR for INCONCLUSIVE
    assert build_row(document, "local")["status"] == {"PASS": "PASS", "FAIL": "FAIL", "ROLLBACK": "FAIL",
                                                      "INCONCLUSIVE": "ERROR"}[verdict]
    # every measurement is kept: 8 checkpoints of 15 min, 4 of 30 min; probes cannot look back
    checkpoints = [m for m in records if m["kind"] == "checkpoint"]
    assert len([m for m in checkpoints if m["signal"] == "5xx rate"]) == 8
    assert len([m for m in checkpoints if m["signal"] == "active db connections"]) == 4
    assert all(set(("time", "value", "status", "reason")) <= set(m) for m in records)
    signals = dict((s["name"], s) for s in document["signals"])
    assert signals["tenant isolation"]["status"] == "SKIP"
    assert "cannot look into the past" in signals["tenant isolation"]["reason"]
    assert signals["error log volume"]["status"] == "SKIP"
    if verdict != "ROLLBACK":
        assert document["triggers"] == []


def test_a_signal_without_its_source_is_skip_with_the_reason(backfilled, tmp_path):
    document, _records = judge(backfilled, tmp_path, "healthy", containers=("no-such-container",))
    memory = [s for s in document["signals"] if s["name"] == "memory usage"][0]
    assert memory["status"] == "SKIP" and "cAdvisor is not scraped" in memory["reason"]
    assert document["verdict"] == "PASS"


def test_healthy_window_passes_and_merges_row_81_into_the_existing_checklist(backfilled, tmp_path):
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    (evidence / "checklist.json").write_text(json.dumps({
        "release": "3.7.0", "verdict": "PASS", "generated_at": "2026-12-01T10:00:00Z", "strict": False,
        "checks": [{"id": "2.1", "environment": "local", "title": "Staging health", "status": "PASS",
                    "summary": "ok", "findings": []},
                   {"id": "8.1", "environment": "local", "title": "Soak (2h)", "status": "FAIL",
                    "summary": "an older soak", "findings": []}]}))
    soak = retrospective(backfilled, tmp_path, "healthy", soak_charts=True)
    assert soak.rc == 0, soak.output[-3000:]
    checklist = json.load(open(evidence / "checklist.json"))
    assert [(r["id"], r["status"]) for r in checklist["checks"]] == [("2.1", "PASS"), ("8.1", "PASS")]
    assert checklist["release"] == "3.7.0" and checklist["verdict"] == "PASS"
    assert "8.1" in (evidence / "checklist.md").read_text() and "8.1" in (evidence / "junit.xml").read_text()
    # one chart per Prometheus signal against its threshold, PNG
    charts = dict((c["signal"], c["path"]) for c in soak.verdict["charts"])
    for name in ("5xx rate", "p95 latency", "memory usage", "active db connections"):
        assert open(charts[name], "rb").read(8) == b"\x89PNG\r\n\x1a\n"
    assert "soak retrospective of" in soak.output
    # the judged values are real: the healthy 5xx rate is the synthetic 0.1%
    assert soak.signal("5xx rate")["worst"] == "0.1%"
    assert soak.signal("memory usage")["worst"] == "45%"
    # The evidence pack at the end of the soak: the soak's charts inline, the dashboard picture drawn.
    pack = json.load(open(evidence / "evidence.json"))
    assert pack["sources"]["soak"]["verdict"] == "PASS" and pack["archive"]["written"]
    assert "grafana_post_ga.png" not in [m["file"] for m in pack["missing"]]
    html = (evidence / "report.html").read_text()
    assert 'data-id="8.1" data-environment="local" data-status="PASS"' in html
    assert html.count('alt="soak/chart_') == len(soak.verdict["charts"]) >= 4


def test_a_breach_between_two_checkpoints_is_seen_although_both_checkpoint_instants_are_healthy(
        backfilled, tmp_path):
    _document, records = judge(backfilled, tmp_path, "5xx_2pct_min17_to_25")
    failed = [m for m in records if m["kind"] == "checkpoint" and m["signal"] == "5xx rate"
              and m["status"] == "FAIL"]
    assert len(failed) == 1
    samples = failed[0]["samples"][0]["values"]
    first_instant = [m for m in records if m["kind"] == "checkpoint" and m["signal"] == "5xx rate"][0]
    # judged at the checkpoint instants only (minute 15 and minute 30) the breach is invisible
    assert first_instant["samples"][0]["values"][-1][1] < 0.005 and samples[-1][1] < 0.005
    assert max(v for _t, v in samples) >= 0.02 * 0.999


def gapped_policy(tmp_path, max_gap):
    """The runbook policy with 45s trigger rates: at a 30 s scrape one missing scrape leaves a hole."""
    doc = yaml.safe_load(open(POLICY))
    doc["max_gap"] = max_gap
    trigger = doc["signals"][0]["trigger"]
    trigger["query"] = trigger["query"].replace("[1m]", "[45s]")
    path = tmp_path / ("policy_gap_%s.yml" % max_gap)
    path.write_text(yaml.safe_dump(doc))
    return str(path)


def test_one_missing_scrape_neither_resets_the_breach_nor_is_needed_to_fire(backfilled, tmp_path):
    document, records = judge(backfilled, tmp_path / "guard", "5xx_7min_missing_scrape",
                              policy_file=gapped_policy(tmp_path, "1m"))
    assert document["verdict"] == "ROLLBACK", document["reasons"]
    trigger = [m for m in records if m["kind"] == "trigger" and m["signal"] == "5xx rate"][0]
    run = trigger["runs"][0]
    assert run["fired"] and run["points"] < run["expected"]  # the hole is inside the breach
    # without the gap tolerance the same hole splits the breach into two short ones
    document, records = judge(backfilled, tmp_path / "noguard", "5xx_7min_missing_scrape",
                              policy_file=gapped_policy(tmp_path, "0s"))
    assert document["verdict"] == "FAIL", document["reasons"]
    trigger = [m for m in records if m["kind"] == "trigger" and m["signal"] == "5xx rate"][0]
    assert len(trigger["runs"]) >= 2 and not any(r["fired"] for r in trigger["runs"])


def test_a_rollback_verdict_fails_the_playbook_and_records_row_81_as_fail(backfilled, tmp_path):
    soak = retrospective(backfilled, tmp_path, "5xx_6pct_6min", env={"ANSIBLE_SHOW_CUSTOM_STATS": "true"})
    assert soak.rc != 0 and soak.verdict["verdict"] == "ROLLBACK"
    # the verdict handed to AWX workflows (set_stats, shown as custom stats)
    assert "CUSTOM STATS" in soak.output and "soak_verdict: ROLLBACK" in soak.output, soak.output[-1500:]
    assert "must roll back because rollback trigger: 5xx rate 6% > 5% for" in soak.output
    assert soak.row()["status"] == "FAIL" and "ROLLBACK" in soak.row()["summary"]
    assert "charts" not in soak.verdict  # soak_charts: false
    assert_no_traceback(soak.run)


def test_check_mode_reports_what_it_would_do(backfilled, tmp_path):
    soak = retrospective(backfilled, tmp_path, "5xx_6pct_6min", args=["--check"])
    assert soak.rc != 0
    assert "would roll back because rollback trigger: 5xx rate 6% > 5% for" in soak.output
    assert soak.verdict["check_mode"] is True


def test_strict_counts_skipped_signals_as_failing(backfilled, tmp_path):
    soak = retrospective(backfilled, tmp_path, "healthy", soak_strict=True)
    assert soak.rc != 0 and soak.verdict["verdict"] == "FAIL"
    assert any("error log volume was not judged and soak_strict is true" in r for r in soak.verdict["reasons"])


def test_rollback_verdict_with_auto_rollback_ends_with_the_old_version_running(backfilled, tmp_path, engine,
                                                                               project, origin):
    # The 5xx trigger fires in the judged window; the rollback role then redeploys the last good
    # release of the compose project (v3.7.0 -> v3.6.10) on the project's Docker engine.
    soak = retrospective(backfilled, tmp_path, "5xx_6pct_6min", soak_auto_rollback=True,
                         rollback_compose_dir=project["dir"], solvereign_git_repo=origin["path"],
                         solvereign_url=compose_stack.api_url(), solvereign_docker_host=engine,
                         rollback_health_timeout=20, rollback_health_interval=1)
    assert soak.verdict["verdict"] == "ROLLBACK"
    # The soak's verdict stays the exit code's reason: not PASS, so non-zero, after the rollback ran.
    assert soak.rc != 0
    assert compose_stack.health()["version"] == "3.6.10"
    result = json.load(open(os.path.join(soak.run.evidence_dir, "rollback", "result.json")))
    assert (result["from"], result["to"], result["changed"]) == ("v3.7.0", "v3.6.10", True)
    assert any("5xx rate 6% > 5% for" in reason for reason in result["reasons"]), result["reasons"]
    assert "v3.7.0-reverted" in subprocess.run(["git", "--git-dir", origin["path"], "tag", "-l"],
                                               capture_output=True, text=True, check=False).stdout
    assert_no_traceback(soak.run)


ERROR_LOG_POLICY = {
    "version": 1, "name": "error-logs-only", "step": "5s",
    "signals": [{"name": "error log volume", "source": "error_logs", "threshold": "< 10", "checkpoint": "10s"}],
}


@pytest.fixture(scope="module")
def log_containers():
    """The project's dockerd with an API-like container that logs 3 errors, then 4 more 20 s later."""
    try:
        host = dockerd.start()
        started = time.time()
        dockerd.run_container("soak-api-errors", "echo 'INFO started'; for i in 1 2 3; do echo \"ERROR plans $i\"; "
                              "done; sleep 20; for i in 4 5 6 7; do echo \"ERROR late $i\"; done")
        dockerd.run_container("soak-api-clean", "echo 'INFO started'; echo 'INFO GET /api/health 200'")
    except dockerd.DockerdError as exc:
        pytest.fail("the test dockerd did not start: %s" % exc, pytrace=False)
    yield host, started
    dockerd.stop()


def test_error_log_volume_counts_docker_log_errors_inside_the_window_only(backfilled, log_containers, tmp_path):
    host, started = log_containers
    policy = tmp_path / "error_logs.yml"
    policy.write_text(yaml.safe_dump(ERROR_LOG_POLICY))
    start = int(started) - 2
    while time.time() < started + 24:  # the late errors are logged, after the window
        time.sleep(0.5)

    def soak_of(containers, where):
        return Soak(run_playbook(tmp_path / where, playbook="playbooks/soak.yml", extra_vars={
            "soak_mode": "retrospective", "soak_start": start, "soak_duration": "20s", "soak_policy_file": str(policy),
            "solvereign_prometheus_url": backfilled.url, "solvereign_sentry_url": "", "soak_charts": False,
            "solvereign_log_containers": containers, "solvereign_docker_host": host}))

    noisy = soak_of(["soak-api-errors", "soak-api-clean"], "noisy")
    assert noisy.verdict["verdict"] == "FAIL", noisy.output[-2000:]
    counts = [m["count"] for m in noisy.measurements if m["kind"] == "checkpoint"]
    assert sum(counts) == 3 and all(m["source"] == "docker_logs" for m in noisy.measurements)
    assert any("error log volume 1080/hour >= 10/hour (3 in 10s" in r for r in noisy.verdict["reasons"])
    clean = soak_of(["soak-api-clean"], "clean")
    assert clean.verdict["verdict"] == "PASS" and clean.rc == 0, clean.output[-2000:]
    missing = soak_of(["soak-no-such-container"], "missing")
    assert missing.verdict["verdict"] == "INCONCLUSIVE"
    assert "soak-no-such-container" in missing.signal("error log volume")["reason"]
    assert_no_traceback(missing.run)


def write_policy(tmp_path, change):
    doc = yaml.safe_load(open(POLICY))
    change(doc)
    path = tmp_path / "policy.yml"
    path.write_text(yaml.safe_dump(doc))
    return str(path)


BAD_INPUT = [
    ("unknown policy field", lambda tmp, bp: {"soak_policy_file": write_policy(
        tmp, lambda d: d["signals"][1].update(thresold="< 2s"))}, "signals[1].thresold", "unknown field"),
    ("bad threshold", lambda tmp, bp: {"soak_policy_file": write_policy(
        tmp, lambda d: d["signals"][0].update(threshold="under half a percent"))},
     "signals[0] (5xx rate).threshold", "cannot parse threshold"),
    ("invalid PromQL", lambda tmp, bp: {"soak_policy_file": write_policy(
        tmp, lambda d: d["signals"][4].update(query="sum(pg_stat_activity_count{datname=})"))},
     "signals[4].query", "'active db connections': Prometheus rejected the query (bad_data)"),
    ("interval longer than the duration", lambda tmp, bp: {"soak_duration": "10m"},
     "soak_duration", "shorter than the checkpoint interval 15m"),
    ("start in the future", lambda tmp, bp: {"soak_start": int(time.time()) + 3600},
     "soak_start", "is in the future"),
    ("older than retention", lambda tmp, bp: {"soak_start": "2026-01-01T00:00:00Z"},
     "soak_start", "older than Prometheus' retention (7d)"),
    ("malformed start", lambda tmp, bp: {"soak_start": "yesterday"}, "soak_start", "neither ISO 8601"),
]


@pytest.mark.parametrize("case, variables, field, words", BAD_INPUT, ids=[b[0] for b in BAD_INPUT])
def test_bad_input_is_refused_before_any_measurement(backfilled, tmp_path, case, variables, field, words):
    soak = retrospective(backfilled, tmp_path, "healthy", **variables(tmp_path, backfilled))
    assert soak.rc != 0
    assert_no_traceback(soak.run)
    assert "refused before any measurement" in soak.output, soak.output[-2000:]
    assert field in soak.output and words in soak.output, soak.output[-2000:]
    assert soak.measurements == [] and soak.verdict is None


def test_unreachable_prometheus_is_named(tmp_path):
    from tests.integration.conftest import closed_port
    soak = Soak(run_playbook(tmp_path / "evidence", playbook="playbooks/soak.yml", extra_vars={
        "soak_mode": "retrospective", "soak_start": int(time.time()) - 7300, "soak_duration": "2h",
        "solvereign_prometheus_url": "http://127.0.0.1:%d" % closed_port(), "solvereign_sentry_url": ""}))
    assert soak.rc != 0 and soak.verdict is None
    assert "solvereign_prometheus_url: Prometheus is unreachable" in soak.output
    assert_no_traceback(soak.run)


# --- live soaks against the reference stack ----------------------------------------------------
def live_command(evidence_dir, duration, **extra):
    variables = {"soak_mode": "live", "soak_duration": duration, "soak_policy_file": LIVE_POLICY,
                 "solvereign_evidence_dir": str(evidence_dir)}
    variables.update(extra)
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"), ANSIBLE_NOCOLOR="1",
               PATH=os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"])
    return [ANSIBLE_PLAYBOOK, "playbooks/soak.yml", "-i", "inventories/local", "-e", json.dumps(variables)], env


def read_measurements(evidence_dir):
    path = os.path.join(str(evidence_dir), "soak", "measurements.jsonl")
    if not os.path.exists(path):
        return []
    out = []
    for line in open(path):
        try:
            out.append(json.loads(line))
        except ValueError:
            pass
    return out


def kill_tree(pid):
    """SIGKILL a process and every descendant (ansible's workers run in sessions of their own)."""
    children = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open("/proc/%s/stat" % entry) as handle:
                    fields = handle.read().rsplit(")", 1)[1].split()
                children.setdefault(int(fields[1]), []).append(int(entry))
            except (IOError, OSError, IndexError, ValueError):
                continue
    tree, todo = [], [pid]
    while todo:
        current = todo.pop()
        tree.append(current)
        todo.extend(children.get(current, []))
    for member in tree:
        try:
            os.kill(member, signal.SIGKILL)
        except OSError:
            pass


def wait_for(predicate, timeout, proc=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        if proc is not None and proc.poll() is not None:
            return False
        time.sleep(0.5)
    return False


def test_live_soak_killed_midway_resumes_and_passes(stack, tmp_path):
    evidence = tmp_path / "evidence"
    cmd, env = live_command(evidence, "40s")
    first = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                             start_new_session=True)
    try:
        assert wait_for(lambda: len([m for m in read_measurements(evidence) if m["kind"] == "checkpoint"]) >= 3,
                        60, first), "no checkpoint measured: %s" % (first.stdout.read() if first.poll() else "")
    finally:
        kill_tree(first.pid)
        first.wait()
    time.sleep(1)
    before = [m["key"] for m in read_measurements(evidence) if m.get("key")]
    assert not os.path.exists(evidence / "soak" / "verdict.json")

    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=180, check=False)
    output = proc.stdout + proc.stderr
    assert "Traceback (most recent call last)" not in output
    verdict = json.load(open(evidence / "soak" / "verdict.json"))
    assert verdict["verdict"] == "PASS", verdict["reasons"]
    assert proc.returncode == 0, output[-3000:]
    assert "soak resumed: %d measurements already made" % len(before) in output
    assert verdict["resumed_measurements"] >= len(before)
    keys = [m["key"] for m in read_measurements(evidence) if m.get("key")]
    assert keys[:len(before)] == before and len(keys) == len(set(keys))
    assert "elapsed" in output and "remaining" in output
    # the probes ran the real checks at the checkpoints of the live soak
    signals = dict((s["name"], s) for s in verdict["signals"])
    for probe in ("tenant isolation", "hardening", "login smoke"):
        assert signals[probe]["status"] == "PASS", signals[probe]
    assert signals["memory usage"]["status"] == "SKIP" and "cAdvisor" in signals["memory usage"]["reason"]
    assert signals["error log volume"]["status"] == "PASS"  # the Sentry stand-in, as in 7.1
    checklist = json.load(open(evidence / "checklist.json"))
    assert [r["status"] for r in checklist["checks"] if r["id"] == "8.1"] == ["PASS"]


def test_retrospective_soak_of_the_reference_stack_with_sentry(stack, tmp_path):
    """The last half minute of the running stack, judged after the fact: real scrapes, Sentry's window."""
    import urllib.parse
    import urllib.request
    prometheus = stack.env()["prometheus_url"]

    def oldest_sample_age():
        now = time.time()
        query = urllib.parse.urlencode({"query": 'up{job="solvereign-api"}', "start": now - 60, "end": now,
                                        "step": 2})
        with urllib.request.urlopen(prometheus + "/api/v1/query_range?" + query, timeout=5) as answer:
            result = json.load(answer)["data"]["result"]
        return now - float(result[0]["values"][0][0]) if result else 0.0

    def recent_5xx():
        query = urllib.parse.urlencode({"query": 'sum(increase(http_requests_total{status=~"5.."}[50s]))'})
        with urllib.request.urlopen(prometheus + "/api/v1/query?" + query, timeout=5) as answer:
            result = json.load(answer)["data"]["result"]
        return float(result[0]["value"][1]) if result else 0.0

    # 40 s of samples, none of them from a fault an earlier test switched on
    assert wait_for(lambda: oldest_sample_age() >= 40 and recent_5xx() == 0, 90), "no 40 s of healthy samples"
    start = int(time.time()) - 36
    cmd, env = live_command(tmp_path / "evidence", "30s", soak_mode="retrospective", soak_start=start)
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False)
    output = proc.stdout + proc.stderr
    assert "Traceback (most recent call last)" not in output
    verdict = json.load(open(tmp_path / "evidence" / "soak" / "verdict.json"))
    assert verdict["verdict"] == "PASS" and proc.returncode == 0, (verdict["reasons"], output[-2000:])
    records = read_measurements(tmp_path / "evidence")
    logs = [m for m in records if m["signal"] == "error log volume"]
    assert logs and all(m["source"] == "sentry" and m["status"] == "PASS" for m in logs)
    assert all(m["status"] == "SKIP" for m in records if m["signal"] == "tenant isolation")


@pytest.fixture
def healthy_stack_afterwards(stack):
    """Restart the whole stack after the test: a healthy API and a Prometheus whose TSDB holds none
    of the test's 5xx (later tests judge 5-minute rates on the same Prometheus)."""
    yield stack
    stack.start(components=COMPONENTS)


def test_live_soak_rolls_back_before_its_end_when_5xx_starts_midway(healthy_stack_afterwards, tmp_path):
    evidence = tmp_path / "evidence"
    cmd, env = live_command(evidence, "75s")
    started = time.monotonic()
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)
    try:
        assert wait_for(lambda: any(m["kind"] == "checkpoint" and m["signal"] == "5xx rate"
                                    and m["status"] == "PASS" for m in read_measurements(evidence)), 60, proc)
        healthy_stack_afterwards.restart_api(faults=("high_5xx_rate",))
        output = proc.communicate(timeout=150)[0]
    finally:
        if proc.poll() is None:
            kill_tree(proc.pid)
            proc.wait()
    elapsed = time.monotonic() - started
    assert "Traceback (most recent call last)" not in output
    verdict = json.load(open(evidence / "soak" / "verdict.json"))
    assert verdict["verdict"] == "ROLLBACK", verdict["reasons"]
    assert proc.returncode != 0
    assert verdict["triggers"] and verdict["triggers"][0]["signal"] == "5xx rate"
    assert "soak stopped early" in output
    assert verdict["judged_until"] < verdict["window"]["end"]
    assert elapsed < 75 + 30


def test_prometheus_going_away_mid_soak_gives_errors_and_no_crash(tmp_path):
    """A live soak whose Prometheus stops after the first checkpoint: ERROR measurements, a verdict."""
    from tests.integration.soak_tsdb import Layout
    prometheus = BackfilledPrometheus(tmp_path / "tsdb", layout=Layout(names=("healthy",)))
    prometheus.start()
    evidence = tmp_path / "evidence"
    try:
        cmd, env = live_command(evidence, "30s", solvereign_prometheus_url=prometheus.url, solvereign_sentry_url="",
                                solvereign_database_url="", solvereign_url="", solvereign_log_containers=[])
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                start_new_session=True)
        try:
            assert wait_for(lambda: any(m["kind"] == "checkpoint" for m in read_measurements(evidence)), 60, proc)
            prometheus.stop()
            output = proc.communicate(timeout=120)[0]
        finally:
            if proc.poll() is None:
                kill_tree(proc.pid)
                proc.wait()
    finally:
        prometheus.stop()
    assert "Traceback (most recent call last)" not in output
    verdict = json.load(open(evidence / "soak" / "verdict.json"))
    assert verdict["verdict"] == "INCONCLUSIVE" and proc.returncode != 0
    errors = [m for m in read_measurements(evidence) if m["status"] == "ERROR"]
    assert errors and all("Prometheus is unreachable" in m["reason"] for m in errors)
    assert verdict["judged_until"] == verdict["window"]["end"]  # it watched to the end
