from ansible_collections.solvereign.release_ops.plugins.modules import http_check

from .conftest import Route, run_module


def version_probe(version="3.7.0", commit="87b4a59"):
    return {"path": "/api/health", "json_assertions": [
        {"query": "version", "one_of": [version, "v" + version], "commit_prefix": commit, "match": "any"}]}


def args(base_url, probes, **extra):
    out = {"check_id": "1.2", "check_title": "Staging version", "environment": "staging",
           "base_url": base_url, "probes": probes, "retry_backoff": 0.0}
    out.update(extra)
    return out


def test_version_passes_on_version_or_commit(server, monkeypatch):
    for reported in ("3.7.0", "v3.7.0", "87b4a59", "87b4a59e1234567890", "87b4"):
        server.routes["/api/health"] = Route(200, {"version": reported})
        result, failed = run_module(http_check.main, args(server.url, [version_probe()]), monkeypatch)
        assert not failed and not result["changed"]
        assert result["row"]["status"] == "PASS", (reported, result["row"])


def test_wrong_version_fails_and_names_value(server, monkeypatch):
    server.routes["/api/health"] = Route(200, {"version": "3.6.2"})
    result = run_module(http_check.main, args(server.url, [version_probe()], advice=["DO NOT proceed"]), monkeypatch)[0]
    row = result["row"]
    assert row["status"] == "FAIL"
    assert "'3.6.2'" in row["summary"] and "3.7.0" in row["summary"]
    assert row["advice"] == ["DO NOT proceed"]


def test_html_health_body_is_error(server, monkeypatch):
    server.routes["/api/health"] = Route(200, "<html>hi</html>", content_type="text/html")
    result = run_module(http_check.main, args(server.url, [version_probe()]), monkeypatch)[0]
    assert result["row"]["status"] == "ERROR"
    assert "expected a JSON body" in result["row"]["summary"]


def test_health_row_one_finding_per_endpoint(server, monkeypatch):
    server.routes["/api/health"] = Route(200, {})
    server.routes["/api/health/ready"] = Route(503, {"detail": "database unavailable"})
    server.routes["/api/health/live"] = Route(200, {})
    probes = [{"path": p} for p in ("/api/health", "/api/health/ready", "/api/health/live")]
    result = run_module(http_check.main, args(server.url, probes, check_id="2.1"), monkeypatch, check_mode=True)[0]
    row = result["row"]
    assert [f["status"] for f in row["findings"]] == ["PASS", "FAIL", "PASS"]
    assert row["status"] == "FAIL"
    assert "HTTP 503 (expected 200)" in row["summary"] and "database unavailable" in row["summary"]


def test_unreachable_is_error_not_pass(closed_port, monkeypatch):
    result, failed = run_module(http_check.main, args("http://127.0.0.1:%d" % closed_port, [{"path": "/api/health"}], retries=0), monkeypatch)
    assert not failed
    assert result["row"]["status"] == "ERROR"
    assert "cannot connect" in result["row"]["summary"]


def test_malformed_base_url_is_error(monkeypatch):
    result, failed = run_module(http_check.main, args("staging.example.com", [{"path": "/api/health"}]), monkeypatch)
    assert result["row"]["status"] == "ERROR"
    assert "malformed URL" in result["row"]["summary"]


def test_header_assertions(server, monkeypatch):
    server.routes["/x"] = Route(200, {}, headers=[("X-Frame-Options", "SAMEORIGIN")])
    probe = {"path": "/x", "header_assertions": [{"name": "x-frame-options", "equals": "DENY"}]}
    result = run_module(http_check.main, args(server.url, [probe]), monkeypatch)[0]
    assert result["row"]["status"] == "FAIL"
    assert "header x-frame-options is 'SAMEORIGIN', expected 'DENY'" in result["row"]["summary"]


def test_bad_assertion_keys_fail_the_module(server, monkeypatch):
    probe = {"path": "/x", "json_assertions": [{"query": "a", "equal": 1}]}
    result, failed = run_module(http_check.main, args(server.url, [probe]), monkeypatch)
    assert failed and "unknown keys equal" in result["msg"]


def test_invalid_jmespath_is_error(server, monkeypatch):
    server.routes["/x"] = Route(200, {"a": 1})
    probe = {"path": "/x", "json_assertions": [{"query": "a[", "equals": 1}]}
    result = run_module(http_check.main, args(server.url, [probe]), monkeypatch)[0]
    assert result["row"]["status"] == "ERROR" and "invalid JMESPath" in result["row"]["summary"]


def test_transcript_of_the_probes_is_written_redacted(server, monkeypatch, tmp_path, closed_port):
    server.routes["/api/health"] = Route(200, {"status": "ok", "token": "tok-secret-value"})
    server.routes["/api/health/ready"] = Route(503, {"status": "db down"})
    probes = [{"path": "/api/health"}, {"path": "/api/health/ready"},
              {"path": "http://127.0.0.1:%d/api/health/live" % closed_port}]
    result, failed = run_module(http_check.main, args(server.url, probes, retries=0, evidence_dir=str(tmp_path),
                                                      evidence_name="health_check.log"), monkeypatch)
    assert not failed
    assert result["evidence_file"] == str(tmp_path / "health_check.log")
    text = (tmp_path / "health_check.log").read_text()
    assert '$ curl -sf "%s/api/health" && echo "PASS" || echo "FAIL"' % server.url in text
    assert "< HTTP 200 in" in text and "< HTTP 503 in" in text and "db down" in text
    assert "curl: cannot connect to" in text
    assert text.count("\nPASS\n") == 1 and text.count("\nFAIL\n") == 2
    assert "tok-secret-value" not in text


def test_no_transcript_without_evidence_dir(server, monkeypatch, tmp_path):
    server.routes["/api/health"] = Route(200, {"status": "ok"})
    result, failed = run_module(http_check.main, args(server.url, [{"path": "/api/health"}],
                                                      evidence_name="health_check.log"), monkeypatch)
    assert not failed and "evidence_file" not in result
