"""PromQL result judging and the prometheus_check module's failure handling."""

import base64
import json

import pytest

from ansible_collections.solvereign.release_ops.plugins.module_utils import prometheus
from ansible_collections.solvereign.release_ops.plugins.module_utils.thresholds import parse_threshold
from ansible_collections.solvereign.release_ops.plugins.modules import prometheus_check

from .conftest import Route, run_module

P95 = parse_threshold("< 2s")
PCT = parse_threshold("< 1%")


def vector(*items):
    return [{"metric": labels, "value": [1700000000.0, value]} for labels, value in items]


def test_vector_single_series_pass():
    status, message, series = prometheus.judge("p95", "q", P95, "vector", vector(({}, "0.0049")))
    assert status == "PASS"
    assert "0.0049s < 2s" in message
    assert series[0]["value"] == "0.0049"


def test_vector_over_threshold_fails_and_names_value_and_query():
    status, message = prometheus.judge("p95", "histogram_quantile(x)", P95, "vector", vector(({}, "4.8")))[:2]
    assert status == "FAIL"
    assert "4.8s >= 2s" in message and "histogram_quantile(x)" in message


def test_several_series_are_all_judged_and_the_worst_is_named():
    result = vector(({"path": "/a"}, "0.1"), ({"path": "/b"}, "3.5"), ({"path": "/c"}, "0.2"))
    status, message, series = prometheus.judge("p95", "q", P95, "vector", result)
    assert status == "FAIL"
    assert '{path="/b"} 3.5s >= 2s' in message and "(3 series)" in message
    assert [s["status"] for s in series] == ["PASS", "FAIL", "PASS"]


def test_empty_vector_is_error_not_zero():
    status, message, series = prometheus.judge("5xx error rate", "sum(x)", PCT, "vector", [])
    assert status == "ERROR" and "no data" in message and "empty vector" in message and "sum(x)" in message
    assert series == []


def test_empty_as_zero_for_count_signals():
    status = prometheus.judge("errors", "q", parse_threshold("< 10"), "vector", [], empty_as_zero=True)[0]
    assert status == "PASS"


def test_nan_is_error():
    status, message = prometheus.judge("p95", "q", P95, "vector", vector(({}, "NaN")))[:2]
    assert status == "ERROR" and "NaN" in message and "0/0" in message


def test_positive_infinity_is_a_value_that_fails():
    status, message = prometheus.judge("p95", "q", P95, "vector", vector(({}, "+Inf")))[:2]
    assert status == "FAIL" and "+Inf" in message


def test_fail_outranks_nan_in_another_series():
    status, dummy, series = prometheus.judge("p95", "q", P95, "vector",
                                             vector(({"i": "a"}, "NaN"), ({"i": "b"}, "9")))
    assert status == "FAIL" and sorted(s["status"] for s in series) == ["ERROR", "FAIL"]


def test_scalar_result():
    status, message = prometheus.judge("ratio", "q", PCT, "scalar", [1700000000.0, "0.5"])[:2]
    assert status == "PASS" and "0.5% < 1%" in message


def test_ratio_values_compare_as_percent():
    status, message = prometheus.judge("err", "q", PCT, "vector", vector(({}, "0.2")), ratio=True)[:2]
    assert status == "FAIL" and "20% >= 1%" in message


def test_matrix_judges_every_point():
    matrix = [{"metric": {"job": "api"}, "values": [[1, "0.1"], [2, "2.5"], [3, "0.2"]]}]
    status, message, series = prometheus.judge("p95", "q", P95, "matrix", matrix)
    assert status == "FAIL" and "2.5s" in message and series[0]["points"] == 3


def test_matrix_with_nan_point_is_error():
    matrix = [{"metric": {}, "values": [[1, "0.1"], [2, "NaN"]]}]
    assert prometheus.judge("p95", "q", P95, "matrix", matrix)[0] == "ERROR"


def test_string_result_is_error():
    status, message = prometheus.judge("x", "q", P95, "string", [1, "hello"])[:2]
    assert status == "ERROR" and "string" in message


def test_violation_status_can_be_error():
    status = prometheus.judge("up", "up", parse_threshold("== 1"), "vector", vector(({"job": "a"}, "0")),
                              violation_status="ERROR")[0]
    assert status == "ERROR"


def test_traffic_guard():
    assert prometheus.judge_traffic("vector", vector(({}, "4")), 0.1, "ERROR", "q")[0] == "PASS"
    status, message = prometheus.judge_traffic("vector", vector(({}, "0.01")), 0.1, "WARN", "q")[:2]
    assert status == "WARN" and "not enough traffic" in message
    status, message = prometheus.judge_traffic("vector", [], 0.1, "ERROR", "q")[:2]
    assert status == "ERROR" and "not enough traffic" in message


@pytest.mark.parametrize("text,seconds", [("30s", 30), ("5m", 300), ("1h30m", 5400), ("250ms", 0.25)])
def test_parse_duration(text, seconds):
    assert prometheus.parse_duration(text) == seconds


def test_parse_duration_rejects_garbage():
    with pytest.raises(ValueError):
        prometheus.parse_duration("5 minutes")


def test_auth_headers():
    assert prometheus.auth_headers(bearer_token="t0k") == {"Authorization": "Bearer t0k"}
    basic = prometheus.auth_headers("u", "p")["Authorization"]
    assert base64.b64decode(basic.split()[1]) == b"u:p"
    assert prometheus.auth_headers() == {}


def module_args(url, **extra):
    args = {"check_id": "7.2", "check_title": "Prometheus metrics", "environment": "local", "url": url,
            "retries": 0, "queries": [{"name": "p95", "query": "up", "threshold": "< 2s"}]}
    args.update(extra)
    return args


def test_unreachable_prometheus_is_error_for_every_query(closed_port, monkeypatch):
    args = module_args("http://127.0.0.1:%d" % closed_port, min_request_rate=0.1, traffic_query="sum(x)",
                       queries=[{"name": "a", "query": "qa", "threshold": "< 2s"},
                                {"name": "b", "query": "qb", "threshold": "< 1%"}])
    result, failed = run_module(prometheus_check.main, args, monkeypatch)
    assert not failed
    row = result["row"]
    assert row["status"] == "ERROR"
    assert [f["status"] for f in row["findings"]] == ["ERROR"] * 3
    assert all("unreachable" in f["message"] for f in row["findings"])
    assert "qb" in row["findings"][2]["message"]


def test_non_prometheus_answer_is_error(server, monkeypatch):
    server.routes["/api/v1/query?query=up"] = Route(200, "<html>login</html>", content_type="text/html")
    result = run_module(prometheus_check.main, module_args(server.url), monkeypatch)[0]
    assert result["row"]["status"] == "ERROR"
    assert "not a Prometheus API answer" in result["row"]["summary"]


def test_rejected_query_keeps_prometheus_error_and_token_is_sent_not_shown(server, monkeypatch, tmp_path):
    server.routes["/api/v1/query?query=up"] = Route(
        400, {"status": "error", "errorType": "bad_data", "error": "parse error: unexpected end of input"})
    args = module_args(server.url, bearer_token="prom-secret-token", evidence_dir=str(tmp_path))
    result = run_module(prometheus_check.main, args, monkeypatch)[0]
    assert result["row"]["status"] == "ERROR"
    assert "parse error: unexpected end of input" in result["row"]["summary"]
    assert server.requests[-1][2]["Authorization"] == "Bearer prom-secret-token"
    evidence = (tmp_path / "prometheus_7.2.json").read_text()
    assert "prom-secret-token" not in json.dumps(result) and "prom-secret-token" not in evidence


def test_bad_threshold_is_an_argument_error(server, monkeypatch):
    args = module_args(server.url, queries=[{"name": "p95", "query": "up", "threshold": "fast"}])
    result, failed = run_module(prometheus_check.main, args, monkeypatch)
    assert failed and "cannot parse threshold" in result["msg"]
