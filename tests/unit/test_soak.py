"""The soak decision engine: policy validation, window judging, triggers, limits and the verdict."""

import json
import os

import pytest

from ansible_collections.solvereign.release_ops.plugins.module_utils import soak
from ansible_collections.solvereign.release_ops.plugins.module_utils.soak_runner import SoakRunner, build_row

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RUNBOOK_POLICY = os.path.join(ROOT, "roles", "soak", "files", "runbook_policy.yml")
VARS = {"job": "solvereign-api", "db_name": "solvereign", "containers": "solvereign-api"}
T0 = 1796000400.0  # 2026-12-01T... aligned to the hour
STEP = 30.0


def policy_doc(**overrides):
    doc = {
        "version": 1, "name": "test", "step": "30s", "max_gap": "1m", "min_coverage": 0.8,
        "variables": {"job": "solvereign-api"},
        "signals": [
            {"name": "5xx rate", "query": 'rate(x{job="$job"}[5m])', "ratio": True, "threshold": "< 0.5%",
             "checkpoint": "15m", "trigger": {"when": "> 5%", "for": "5m"}},
        ],
    }
    doc.update(overrides)
    return doc


def write_policy(tmp_path, doc, name="policy.yml"):
    path = tmp_path / name
    path.write_text(json.dumps(doc))
    return str(path)


def series(values, start=T0, step=STEP, labels=None, skip=()):
    """One series from a list of values; ``None`` or an index in ``skip`` is a missing point."""
    points = [(start + i * step, float(v)) for i, v in enumerate(values) if v is not None and i not in skip]
    return (labels or {}, points)


# --- policy --------------------------------------------------------------------------------
def test_the_shipped_runbook_policy_loads_with_the_runbook_numbers():
    policy = soak.load_policy(RUNBOOK_POLICY, VARS)
    by_name = dict((s.name, s) for s in policy.signals)
    assert by_name["5xx rate"].threshold.text == "< 0.5%" and by_name["5xx rate"].checkpoint == 900
    assert by_name["5xx rate"].trigger.when.text == "> 5%" and by_name["5xx rate"].trigger.for_s == 300
    assert by_name["p95 latency"].threshold.text == "< 2s" and by_name["p95 latency"].trigger.when.text == "> 10s"
    assert by_name["error log volume"].threshold.text == "< 10" and by_name["error log volume"].checkpoint == 1800
    assert by_name["memory usage"].threshold.text == "< 80%" and by_name["memory usage"].checkpoint == 1800
    assert by_name["active db connections"].threshold.text == "< 50"
    assert by_name["service outage"].trigger.for_s == 120 and by_name["service outage"].threshold is None
    assert '{job="solvereign-api",status=~"5.."}' in by_name["5xx rate"].query
    assert 'datname="solvereign"' in by_name["active db connections"].query
    probes = set(s.name for s in policy.signals if s.source == "probe")
    assert probes == {"tenant isolation", "hardening", "login smoke"}
    assert len(policy.sha256) == 64 and policy.sha256 == soak.sha256_file(RUNBOOK_POLICY)


def test_policy_sha256_changes_with_the_file(tmp_path):
    one = soak.load_policy(write_policy(tmp_path, policy_doc(), "a.yml"), VARS)
    two = soak.load_policy(write_policy(tmp_path, policy_doc(name="other"), "b.yml"), VARS)
    assert one.sha256 != two.sha256


@pytest.mark.parametrize("mutate, field, words", [
    (lambda d: d.update(colour="red"), "colour", "unknown field"),
    (lambda d: d["signals"][0].update(treshold="< 1%"), "signals[0].treshold", "unknown field"),
    (lambda d: d["signals"][0].update(threshold="below 1 percent"), "signals[0] (5xx rate).threshold",
     "cannot parse threshold"),
    (lambda d: d["signals"][0]["trigger"].update(when="5%"), "signals[0] (5xx rate).trigger.when",
     "cannot parse threshold"),
    (lambda d: d["signals"][0]["trigger"].update(**{"for": "five minutes"}), "signals[0] (5xx rate).trigger.for",
     "malformed duration"),
    (lambda d: d["signals"][0].update(checkpoint="0s"), "signals[0] (5xx rate).checkpoint", "longer than 0s"),
    (lambda d: d["signals"][0].update(query='x{job="$jb"}'), "signals[0] (5xx rate).query", "unknown variable $jb"),
    (lambda d: d["signals"][0].update(ratio="yes"), "signals[0] (5xx rate).ratio", "true or false"),
    (lambda d: d["signals"][0].update(limits={"failures": -1}), "signals[0] (5xx rate).limits.failures",
     "whole number"),
    (lambda d: d["signals"][0].update(limits={"retries": 1}), "signals[0] (5xx rate).limits.retries",
     "unknown field"),
    (lambda d: d["signals"][0].pop("checkpoint"), "signals[0] (5xx rate).checkpoint", "needs a checkpoint"),
    (lambda d: d["signals"].append(dict(d["signals"][0])), "signals[1].name", "used twice"),
    (lambda d: d.update(signals=[]), "signals", "non-empty list"),
    (lambda d: d.update(min_coverage=2), "min_coverage", "(0, 1]"),
    (lambda d: d.update(version=2), "version", "only version 1"),
    (lambda d: d["signals"][0].update(needs_traffic=True), "signals[0] (5xx rate).needs_traffic", "traffic section"),
    (lambda d: d["signals"][0].update(source="loki"), "signals[0] (5xx rate).source", "must be one of"),
    (lambda d: d.update(probes={"interval": "15m", "checks": [{"name": "x", "kind": "y"}]}),
     "probes.checks[0].kind", "unknown field"),
])
def test_bad_policies_are_refused_naming_the_field(tmp_path, mutate, field, words):
    doc = policy_doc()
    mutate(doc)
    path = write_policy(tmp_path, doc)
    with pytest.raises(soak.PolicyError) as caught:
        soak.load_policy(path, VARS)
    assert caught.value.field == field
    assert words in str(caught.value) and path in str(caught.value)


def test_unreadable_and_unparsable_policy_files(tmp_path):
    with pytest.raises(soak.PolicyError) as caught:
        soak.load_policy(str(tmp_path / "missing.yml"))
    assert caught.value.field == "soak_policy_file" and "cannot read" in str(caught.value)
    bad = tmp_path / "bad.yml"
    bad.write_text("signals: [\n")
    with pytest.raises(soak.PolicyError) as caught:
        soak.load_policy(str(bad))
    assert "not valid YAML" in str(caught.value)


# --- inputs --------------------------------------------------------------------------------
@pytest.mark.parametrize("text, expected", [
    ("2026-12-01T10:00:00Z", 1796119200.0),
    ("2026-12-01T11:00:00+01:00", 1796119200.0),
    ("1796119200", 1796119200.0),
    (1796119200, 1796119200.0),
])
def test_start_accepts_iso_and_epoch(text, expected):
    assert soak.parse_time(text) == expected


@pytest.mark.parametrize("text", ["yesterday", "2026-13-01T00:00:00Z", "", True])
def test_bad_start_names_soak_start(text):
    with pytest.raises(soak.InputError) as caught:
        soak.parse_time(text)
    assert caught.value.field == "soak_start"


def test_durations():
    assert soak.parse_soak_duration("2h") == 7200 and soak.parse_soak_duration("90m") == 5400
    assert soak.parse_soak_duration("45s") == 45
    with pytest.raises(soak.InputError) as caught:
        soak.parse_soak_duration("two hours")
    assert caught.value.field == "soak_duration"
    assert soak.format_duration(390) == "6m30s" and soak.format_duration(7200) == "2h"


def test_window_validation(tmp_path):
    policy = soak.parse_policy(policy_doc())
    now = T0 + 10 * 3600
    assert soak.validate_window(policy, T0, 7200, "retrospective", now) == T0 + 7200
    with pytest.raises(soak.InputError, match="checkpoint interval 15m") as caught:
        soak.validate_window(policy, T0, 600, "retrospective", now)
    assert caught.value.field == "soak_duration"
    with pytest.raises(soak.InputError, match="in the future") as caught:
        soak.validate_window(policy, now + 60, 7200, "retrospective", now)
    assert caught.value.field == "soak_start"
    with pytest.raises(soak.InputError, match="ends in the future"):
        soak.validate_window(policy, now - 3600, 7200, "retrospective", now)
    with pytest.raises(soak.InputError, match="older than Prometheus' retention"):
        soak.validate_window(policy, T0, 7200, "retrospective", now, retention_s=3600)
    with pytest.raises(soak.InputError, match="already over"):
        soak.validate_window(policy, T0, 7200, "live", now)


def test_checkpoint_windows_cover_the_range_without_gaps():
    windows = soak.checkpoint_windows(0, 7200, 900)
    assert len(windows) == 8 and windows[0] == (0, 900) and windows[-1] == (6300, 7200)
    assert all(a[1] == b[0] for a, b in zip(windows, windows[1:]))
    assert soak.checkpoint_windows(0, 1000, 900)[-1] == (900, 1000)


# --- judging a checkpoint window -----------------------------------------------------------
def signal(**overrides):
    doc = policy_doc()
    doc["signals"][0].update(overrides)
    return soak.parse_policy(doc).signals[0]


def test_a_healthy_window_passes_with_its_worst_value():
    m = soak.judge_window(signal(), [series([0.001] * 31)], T0, T0 + 900, STEP, 0.8)
    assert m["status"] == "PASS" and m["value"] == 0.001
    assert "0.1% < 0.5%" in m["reason"]


def test_one_breaching_point_between_checkpoints_fails_the_window():
    values = [0.001] * 31
    values[17] = 0.02
    m = soak.judge_window(signal(), [series(values)], T0, T0 + 900, STEP, 0.8)
    assert m["status"] == "FAIL" and m["value"] == 0.02
    assert "2% >= 0.5%" in m["reason"] and "1 of 31 points breached" in m["reason"]


def test_every_series_is_judged_and_the_worst_wins():
    healthy = series([0.001] * 31, labels={"instance": "a"})
    sick = series([0.001] * 20 + [0.03] * 11, labels={"instance": "b"})
    sicker = series([0.001] * 25 + [0.09] * 6, labels={"instance": "c"})
    m = soak.judge_window(signal(), [healthy, sick, sicker], T0, T0 + 900, STEP, 0.8)
    assert m["status"] == "FAIL" and m["value"] == 0.09 and m["labels"] == {"instance": "c"}
    assert 'instance="c"' in m["reason"] and "over 3 series" in m["reason"]


def test_no_series_is_inconclusive_not_zero():
    m = soak.judge_window(signal(), [], T0, T0 + 900, STEP, 0.8)
    assert m["status"] == "INCONCLUSIVE" and "no data" in m["reason"]


def test_count_signals_may_read_absence_as_zero():
    m = soak.judge_window(signal(absent_is_zero=True, threshold="< 10", ratio=False), [], T0, T0 + 900, STEP, 0.8)
    assert m["status"] == "PASS" and m["value"] == 0


def test_nan_points_are_not_healthy():
    m = soak.judge_window(signal(), [series([float("nan")] * 31)], T0, T0 + 900, STEP, 0.8)
    assert m["status"] == "INCONCLUSIVE" and "NaN" in m["reason"]


def test_low_coverage_is_inconclusive_but_a_breach_in_few_points_still_fails():
    sparse = series([0.001 if i % 5 == 0 else None for i in range(31)])
    assert soak.judge_window(signal(), [sparse], T0, T0 + 900, STEP, 0.8)["status"] == "INCONCLUSIVE"
    sparse_bad = series([0.02 if i == 10 else (0.001 if i % 5 == 0 else None) for i in range(31)])
    assert soak.judge_window(signal(), [sparse_bad], T0, T0 + 900, STEP, 0.8)["status"] == "FAIL"


def test_points_without_traffic_do_not_count():
    doc = policy_doc(traffic={"query": "sum(rate(r[5m]))", "min_rate": 0.1})
    doc["signals"][0]["needs_traffic"] = True
    sig = soak.parse_policy(doc).signals[0]
    values = [0.001] * 31
    no_traffic = [(T0 + i * STEP, 0.0) for i in range(31)]
    m = soak.judge_window(sig, [series(values)], T0, T0 + 900, STEP, 0.8, traffic=no_traffic, min_rate=0.1)
    assert m["status"] == "INCONCLUSIVE" and "traffic below 0.1 req/s" in m["reason"]
    busy = [(T0 + i * STEP, 5.0) for i in range(31)]
    assert soak.judge_window(sig, [series(values)], T0, T0 + 900, STEP, 0.8, traffic=busy,
                             min_rate=0.1)["status"] == "PASS"


def test_count_judging_scales_to_per_hour():
    sig = soak.parse_policy(policy_doc(signals=[{"name": "errors", "source": "sentry", "threshold": "< 10",
                                                 "checkpoint": "30m"}])).signals[0]
    ok = soak.judge_count(sig, 4, T0, T0 + 1800)
    bad = soak.judge_count(sig, 6, T0, T0 + 1800)
    assert ok["status"] == "PASS" and ok["value"] == 8
    assert bad["status"] == "FAIL" and "12/hour >= 10/hour (6 in 30m" in bad["reason"]


# --- rollback triggers ---------------------------------------------------------------------
def breaches(values, skip=(), max_gap=60.0, min_coverage=0.8, sig=None):
    return soak.find_breaches(sig or signal(), [series(values, skip=skip)], STEP, max_gap, min_coverage)


def test_a_breach_held_longer_than_for_fires_with_a_readable_reason():
    runs = breaches([0.001] * 10 + [0.061] * 13 + [0.001] * 10)
    assert runs[0]["fired"] and runs[0]["duration"] == 390
    assert runs[0]["reason"] == "5xx rate 6.1%% > 5%% for 6m30s (%s–%s)" % (
        soak.utc(T0 + 300), soak.utc(T0 + 300 + 390))


def test_a_breach_shorter_than_for_does_not_fire():
    runs = breaches([0.001] * 10 + [0.06] * 8 + [0.001] * 10)
    assert runs and not runs[0]["fired"] and runs[0]["duration"] == 240


def test_exactly_for_does_not_fire_it_must_be_longer():
    runs = breaches([0.001] * 10 + [0.06] * 10 + [0.001] * 10)
    assert runs[0]["duration"] == 300 and not runs[0]["fired"]


def test_one_missing_scrape_inside_a_breach_neither_resets_it():
    values = [0.001] * 10 + [0.06] * 14 + [0.001] * 10
    runs = breaches(values, skip=(17,))
    assert runs[0]["fired"] and runs[0]["duration"] == 420 and runs[0]["points"] == 13
    # without the gap tolerance the same data is two short breaches: the guard is what bridges it
    split = breaches(values, skip=(16, 17, 18), max_gap=0)
    assert len(split) == 2 and not any(r["fired"] for r in split)


def test_a_gap_does_not_fake_a_breach():
    # breaching points far apart with healthy data missing between them: not one long breach
    values = [0.06] + [None] * 12 + [0.06]
    runs = breaches(values)
    assert all(not r["fired"] for r in runs) and all(r["duration"] == 30 for r in runs)
    # and a run with too few of its points present does not count
    thin = [0.06 if i % 3 == 0 else None for i in range(30)]
    runs = breaches(thin, max_gap=90.0)
    assert runs[0]["duration"] > 300 and not runs[0]["fired"] and "not counted" in runs[0]["reason"]


def test_a_healthy_point_inside_a_breach_resets_it():
    values = [0.06] * 6 + [0.001] + [0.06] * 6
    runs = breaches(values)
    assert len(runs) == 2 and not any(r["fired"] for r in runs)


def test_every_series_is_searched_for_breaches():
    sig = signal()
    healthy = series([0.001] * 20, labels={"instance": "a"})
    sick = series([0.001] * 2 + [0.08] * 12 + [0.001] * 6, labels={"instance": "b"})
    runs = soak.find_breaches(sig, [healthy, sick], STEP, 60, 0.8)
    assert runs[0]["fired"] and runs[0]["labels"] == {"instance": "b"} and 'instance="b"' in runs[0]["reason"]


def test_equality_triggers_read_as_rollback_conditions():
    doc = policy_doc(signals=[{"name": "service outage", "query": "up", "trigger": {"when": "== 0", "for": "2m"}}])
    sig = soak.parse_policy(doc).signals[0]
    runs = soak.find_breaches(sig, [series([1] * 5 + [0] * 7 + [1] * 5)], STEP, 60, 0.8)
    assert runs[0]["fired"] and "rollback when == 0) for 3m30s" in runs[0]["reason"]
    runs = soak.find_breaches(sig, [series([1] * 5 + [0] * 3 + [1] * 5)], STEP, 60, 0.8)
    assert not runs[0]["fired"]


def test_alert_expressions_fire_when_they_return_anything():
    doc = policy_doc(alerts=[{"name": "data corruption alert", "expr": "corruption_detected > 0"}])
    sig = soak.parse_policy(doc).signal("data corruption alert")
    assert soak.find_breaches(sig, [series([1])], STEP, 60, 0.8)[0]["fired"]
    assert soak.find_breaches(sig, [], STEP, 60, 0.8) == []


# --- limits and the verdict ----------------------------------------------------------------
def m(status, reason="r"):
    return {"status": status, "reason": reason}


@pytest.mark.parametrize("statuses, limits, expected", [
    (["PASS"] * 8, {}, "PASS"),
    (["PASS"] * 7 + ["FAIL"], {}, "FAIL"),
    (["PASS", "FAIL", "PASS", "FAIL"], {"failures": 2}, "PASS"),
    (["PASS", "FAIL", "FAIL", "PASS"], {"failures": 2, "consecutive_failures": 1}, "FAIL"),
    (["PASS", "FAIL", "PASS", "FAIL", "FAIL"], {"failures": 2}, "FAIL"),
    (["PASS", "ERROR", "ERROR", "PASS"], {}, "PASS"),
    (["PASS", "ERROR", "ERROR", "ERROR"], {}, "ERROR"),
    (["PASS", "INCONCLUSIVE"], {}, "INCONCLUSIVE"),
    (["PASS", "INCONCLUSIVE"], {"inconclusives": 1}, "PASS"),
    (["ERROR", "ERROR"], {}, "INCONCLUSIVE"),
    (["INCONCLUSIVE"], {"inconclusives": 5}, "INCONCLUSIVE"),
    (["SKIP"], {}, "SKIP"),
])
def test_signal_status_applies_the_limits(statuses, limits, expected):
    sig = signal(limits=limits) if limits else signal()
    status, reason = soak.signal_status(sig, [m(s) for s in statuses])
    assert status == expected, reason


def test_never_a_good_measurement_never_passes():
    status, reason = soak.signal_status(signal(limits={"consecutive_errors": 10}), [m("ERROR", "down")] * 3)
    assert status == "INCONCLUSIVE" and "never produced a good measurement" in reason


@pytest.mark.parametrize("signals, fired, strict, verdict", [
    ([{"name": "a", "status": "PASS", "reason": "ok"}], [], False, "PASS"),
    ([{"name": "a", "status": "FAIL", "reason": "bad"}], [], False, "FAIL"),
    ([{"name": "a", "status": "FAIL", "reason": "bad"}], [{"reason": "5xx"}], False, "ROLLBACK"),
    ([{"name": "a", "status": "PASS", "reason": "ok"}, {"name": "b", "status": "INCONCLUSIVE", "reason": "?"}],
     [], False, "INCONCLUSIVE"),
    ([{"name": "a", "status": "PASS", "reason": "ok"}, {"name": "b", "status": "ERROR", "reason": "?"}],
     [], False, "INCONCLUSIVE"),
    ([{"name": "a", "status": "PASS", "reason": "ok"}, {"name": "b", "status": "SKIP", "reason": "no"}],
     [], False, "PASS"),
    ([{"name": "a", "status": "PASS", "reason": "ok"}, {"name": "b", "status": "SKIP", "reason": "no"}],
     [], True, "FAIL"),
    ([{"name": "b", "status": "SKIP", "reason": "no"}], [], False, "INCONCLUSIVE"),
])
def test_final_verdict(signals, fired, strict, verdict):
    assert soak.final_verdict(signals, fired, strict)[0] == verdict


def test_row_status_mapping():
    assert [soak.row_status(v) for v in ("PASS", "FAIL", "ROLLBACK", "INCONCLUSIVE")] == [
        "PASS", "FAIL", "FAIL", "ERROR"]


# --- the runner with a fake Prometheus -----------------------------------------------------
class FakeProm(object):
    """Answers range queries from a function of the query; raises what it is told to."""

    def __init__(self, values, fail_after=None, reject=None):
        self.values = values
        self.calls = 0
        self.fail_after = fail_after
        self.reject = reject

    def retention_seconds(self):
        return 15 * 86400

    def query(self, promql, at=None):
        from ansible_collections.solvereign.release_ops.plugins.module_utils.prometheus import PrometheusError
        if self.reject and self.reject in promql:
            raise PrometheusError("rejected", "Prometheus rejected the query (bad_data): parse error")
        return "vector", [{"metric": {}, "value": [at, "1"]}], []

    def query_range(self, promql, start, end, step):
        from ansible_collections.solvereign.release_ops.plugins.module_utils.prometheus import PrometheusError
        self.calls += 1
        if self.fail_after is not None and self.calls > self.fail_after:
            raise PrometheusError("unreachable", "Prometheus is unreachable: connection refused")
        ts = start
        values = []
        while ts <= end + 1e-6:
            values.append([ts, repr(self.values(promql, ts))])
            ts += float(step)
        return "matrix", [{"metric": {}, "values": values}], []


def runner(tmp_path, prom, doc=None, mode="retrospective", **kwargs):
    policy = soak.parse_policy(doc or policy_doc(), "f" * 64, "policy.yml")
    return SoakRunner(policy, prom, T0, 7200, mode, str(tmp_path / "soak"), **kwargs)


def test_runner_rejects_promql_that_prometheus_rejects_naming_the_signal(tmp_path):
    doc = policy_doc()
    doc["signals"][0]["query"] = "rate(x{job=}[5m]"
    with pytest.raises(soak.PolicyError) as caught:
        runner(tmp_path, FakeProm(lambda q, t: 0.0, reject="job=}"), doc).validate(now=T0 + 86400)
    assert caught.value.field == "signals[0].query" and "'5xx rate'" in str(caught.value)
    assert not (tmp_path / "soak").exists()


def test_prometheus_going_away_gives_errors_and_the_limit_decides(tmp_path):
    run = runner(tmp_path, FakeProm(lambda q, t: 0.001, fail_after=3))
    document = run.run()
    assert document["verdict"] == "INCONCLUSIVE"
    statuses = [r["status"] for r in run.records if r["kind"] == "checkpoint"]
    assert statuses[:3] == ["PASS"] * 3 and set(statuses[3:]) == {"ERROR"}
    assert "consecutive measurements failed" in document["signals"][0]["reason"]


def test_retrospective_runner_writes_measurements_and_row(tmp_path):
    def values(q, t):
        return 0.06 if T0 + 2400 <= t < T0 + 2760 else 0.001
    run = runner(tmp_path, FakeProm(values))
    document = run.run()
    run.write(document)
    assert document["verdict"] == "ROLLBACK"
    assert document["reasons"][0].startswith("rollback trigger: 5xx rate 6% > 5% for 6m")
    lines = (tmp_path / "soak" / "measurements.jsonl").read_text().splitlines()
    assert len(lines) == 9  # 8 checkpoints and one trigger evaluation
    first = json.loads(lines[0])
    assert set(["time", "query", "value", "samples", "status", "reason"]) <= set(first)
    verdict = json.loads((tmp_path / "soak" / "verdict.json").read_text())
    assert verdict["policy_sha256"] == "f" * 64 and verdict["window"]["start"] == soak.utc(T0, True)
    row = build_row(document, "prod")
    assert row["id"] == "8.1" and row["status"] == "FAIL" and "ROLLBACK" in row["summary"]


class Clock(object):
    def __init__(self, now):
        self.now = now

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


def test_live_runner_stops_at_the_first_fired_trigger_and_resumes_without_repeating(tmp_path):
    def values(q, t):
        return 0.06 if t >= T0 + 3000 else 0.001
    clock = Clock(T0)
    lines = []
    prom = FakeProm(values)
    run = runner(tmp_path, prom, mode="live", now=clock, sleep=clock.sleep, progress=lines.append)
    document = run.run()
    assert document["verdict"] == "ROLLBACK"
    assert T0 + 3300 <= clock.now < T0 + 3400
    assert any("elapsed" in line and "remaining" in line for line in lines)
    assert any("stopped early" in line for line in lines)

    # a killed soak: the state has the first checkpoints; a new runner resumes from them
    healthy_clock = Clock(T0 + 1900)
    first = runner(tmp_path / "second", FakeProm(lambda q, t: 0.001), mode="live", now=healthy_clock,
                   sleep=healthy_clock.sleep)
    first.load_state()
    first._fresh()
    for task in first.plan()[:2]:
        first._record(first.measure(task))
    again_clock = Clock(T0 + 7300)
    prom = FakeProm(lambda q, t: 0.001)
    again = runner(tmp_path / "second", prom, mode="live", now=again_clock, sleep=again_clock.sleep)
    document = again.run()
    assert again.resumed == 2 and document["verdict"] == "PASS"
    keys = [json.loads(line).get("key") for line in
            (tmp_path / "second" / "soak" / "measurements.jsonl").read_text().splitlines()]
    checkpoint_keys = [k for k in keys if k]
    assert len(checkpoint_keys) == len(set(checkpoint_keys)) == 8


def test_resume_with_another_policy_is_refused(tmp_path):
    clock = Clock(T0 + 1000)
    run = runner(tmp_path, FakeProm(lambda q, t: 0.001), mode="live", now=clock, sleep=clock.sleep)
    run._fresh()
    other = soak.parse_policy(policy_doc(), "e" * 64, "other.yml")
    again = SoakRunner(other, FakeProm(lambda q, t: 0.001), T0, 7200, "live", str(tmp_path / "soak"), now=clock)
    with pytest.raises(ValueError) as caught:
        again.load_state()
    assert "another policy" in str(caught.value) and caught.value.field == "soak_policy_file"


def test_a_second_live_soak_on_the_same_evidence_dir_is_refused_while_the_first_runs(tmp_path):
    clock = Clock(T0 + 10)
    first = runner(tmp_path, FakeProm(lambda q, t: 0.001), mode="live", now=clock, sleep=clock.sleep)
    first.lock()
    second = runner(tmp_path, FakeProm(lambda q, t: 0.001), mode="live", now=clock, sleep=clock.sleep)
    with pytest.raises(ValueError) as caught:
        second.lock()
    assert "a soak is still running" in str(caught.value) and str(os.getpid()) in str(caught.value)
    first._lock.close()
    second.lock()


def test_list_variables_become_an_escaped_regex_for_promql():
    assert soak.promql_value(["solvereign-api", "a.b"]) == "solvereign\\\\-api|a\\\\.b"
    assert soak.promql_value("solvereign") == "solvereign"


def test_an_unfinished_live_soak_is_never_replaced_silently(tmp_path):
    clock = Clock(T0 + 100)
    first = runner(tmp_path, FakeProm(lambda q, t: 0.001), mode="live", now=clock, sleep=clock.sleep)
    first._fresh()
    policy = soak.parse_policy(policy_doc(), "f" * 64, "policy.yml")
    other = SoakRunner(policy, FakeProm(lambda q, t: 0.001), T0 + 60, 3600, "live", str(tmp_path / "soak"), now=clock)
    with pytest.raises(ValueError) as caught:
        other.load_state()
    assert caught.value.field == "soak_start" and "soak_duration=2h to resume it" in str(caught.value)
    # abandoned long ago: a new soak may start
    late = Clock(T0 + 7200 + 4000)
    again = SoakRunner(policy, FakeProm(lambda q, t: 0.001), late(), 3600, "live", str(tmp_path / "soak"), now=late)
    assert again.load_state() is False
