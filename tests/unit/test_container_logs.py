"""Log sampling rules: error lines, stack traces, allowlist, redaction, docker errors."""

from ansible_collections.solvereign.release_ops.plugins.module_utils import container_logs as cl

PY_TRACE = """2026-01-01 INFO request ok
Traceback (most recent call last):
  File "/app/api.py", line 10, in handler
    result = plans()
  File "/app/plans.py", line 3, in plans
    return 1 / 0
           ~~^~~
ZeroDivisionError: division by zero
2026-01-01 INFO next request ok""".splitlines()

JAVA_TRACE = """INFO boot
Exception in thread "main" java.lang.IllegalStateException: pool exhausted
\tat com.solvereign.Pool.get(Pool.java:42)
\tat com.solvereign.Main.main(Main.java:7)
Caused by: java.net.SocketTimeoutException: connect timed out
\tat java.base/java.net.Socket.connect(Socket.java:633)
\t... 2 more
INFO after""".splitlines()


def test_clean_lines_pass():
    found = cl.scan(["INFO started", "INFO GET /api/health 200"], cl.DEFAULT_PATTERNS)
    assert found["error_lines"] == 0 and found["stack_traces"] == [] and found["samples"] == []


def test_error_lines_counted_case_insensitively():
    found = cl.scan(["INFO ok", "ERROR db down", "Critical: disk", "an Exception happened"], cl.DEFAULT_PATTERNS)
    assert found["error_lines"] == 3
    assert found["samples"] == ["ERROR db down", "Critical: disk", "an Exception happened"]


def test_python_traceback_block():
    traces = cl.find_stack_traces(PY_TRACE)
    assert len(traces) == 1
    assert traces[0]["kind"] == "python" and traces[0]["summary"] == "ZeroDivisionError: division by zero"
    assert (traces[0]["start"], traces[0]["end"]) == (1, 8)
    found = cl.scan(PY_TRACE, cl.DEFAULT_PATTERNS)
    assert len(found["stack_traces"]) == 1 and found["error_lines"] == 0


def test_java_trace_block_with_cause():
    traces = cl.find_stack_traces(JAVA_TRACE)
    assert len(traces) == 1 and traces[0]["kind"] == "java"
    assert "IllegalStateException" in traces[0]["summary"]
    assert (traces[0]["start"], traces[0]["end"]) == (1, 7)


def test_allowlist_lets_expected_noise_through():
    lines = ["WARN retrying: connection error to cache (expected during warmup)", "ERROR real problem"]
    found = cl.scan(lines, cl.DEFAULT_PATTERNS, allowlist=["expected during warmup"])
    assert found["error_lines"] == 1 and found["allowed_lines"] == 1
    found = cl.scan(PY_TRACE, cl.DEFAULT_PATTERNS, allowlist=["ZeroDivisionError"])
    assert found["stack_traces"] == [] and found["allowed_stack_traces"] == 1


def test_samples_are_bounded_and_redacted():
    lines = ["ERROR %d Authorization: Bearer abc.def.ghi password=hunter2 postgresql://u:pw@db/x" % i
             for i in range(50)]
    found = cl.scan(lines, cl.DEFAULT_PATTERNS, max_samples=5, redactor=cl.Redactor(secrets=("topsecret",)))
    assert found["error_lines"] == 50 and len(found["samples"]) == 5
    text = " ".join(found["samples"])
    assert "abc.def.ghi" not in text and "hunter2" not in text and ":pw@" not in text
    redact = cl.Redactor(secrets=("topsecret",))
    assert "topsecret" not in redact("ERROR token topsecret leaked")
    assert "sk_live_abcdefgh123" not in redact("ERROR stripe sk_live_abcdefgh123")


def test_merge_streams_orders_by_timestamp():
    out = "2026-01-01T00:00:01.5Z b\n2026-01-01T00:00:03.000000001Z d\n"
    err = "2026-01-01T00:00:01.000000002Z a\n2026-01-01T00:00:02Z c\n"
    assert cl.merge_streams(out, err) == ["a", "b", "c", "d"]


def test_stack_trace_on_stderr_survives_a_stdout_line_stamped_inside_it():
    """docker stamps stdout and stderr separately: a stdout line may sort into a stderr trace."""
    err = ("2026-01-01T00:00:01.000000001Z Traceback (most recent call last):\n"
           "2026-01-01T00:00:01.000000002Z   File \"/app/plans.py\", line 41, in list_plans\n"
           "2026-01-01T00:00:01.000000004Z     return solver.snapshot(tenant)\n"
           "2026-01-01T00:00:01.000000005Z RuntimeError: solver snapshot unavailable\n")
    out = ("2026-01-01T00:00:00.5Z INFO started\n"
           "2026-01-01T00:00:01.000000003Z INFO next request ok\n")
    lines = cl.merge_streams(out, err, with_stream=True)
    assert [text for stream, text in lines][3] == "INFO next request ok"  # sorted into the trace
    found = cl.scan(lines, cl.DEFAULT_PATTERNS)
    assert [t["summary"] for t in found["stack_traces"]] == ["RuntimeError: solver snapshot unavailable"]
    assert found["error_lines"] == 0
    # judged as one merged text, the same logs lose the exception line of the trace
    merged = cl.scan([text for stream, text in lines], cl.DEFAULT_PATTERNS)
    assert merged["stack_traces"][0]["summary"] == "(no exception line)"


def test_classify_docker_errors():
    assert cl.classify_docker_error(1, "Error: No such container: solvereign-api", "solvereign-api")[0] == "missing"
    kind, message = cl.classify_docker_error(
        1, "Cannot connect to the Docker daemon at unix:///x.sock. Is the docker daemon running?", "c")
    assert kind == "docker" and "not reachable" in message
    assert cl.classify_docker_error(125, "weird", "c")[0] == "docker"


def test_invalid_pattern_is_reported():
    import pytest
    with pytest.raises(ValueError, match="not a valid regular expression"):
        cl.compile_patterns(["(unclosed"], "allowlist")


def test_module_without_docker_cli_is_error(monkeypatch):
    from ansible_collections.solvereign.release_ops.plugins.modules import container_logs_check

    from .conftest import run_module

    args = {"check_id": "7.3", "check_title": "Log sampling", "environment": "local",
            "containers": ["solvereign-api"], "docker_bin": "no-such-docker-cli"}
    result, failed = run_module(container_logs_check.main, args, monkeypatch)
    assert not failed and not result["changed"]
    assert result["row"]["status"] == "ERROR"
    assert "docker CLI 'no-such-docker-cli' not found" in result["row"]["summary"]


def test_module_rejects_invalid_allowlist(monkeypatch):
    from ansible_collections.solvereign.release_ops.plugins.modules import container_logs_check

    from .conftest import run_module

    args = {"check_id": "7.3", "check_title": "Log sampling", "environment": "local",
            "containers": ["c"], "allowlist": ["(unclosed"]}
    result, failed = run_module(container_logs_check.main, args, monkeypatch)
    assert failed and "not a valid regular expression" in result["msg"]
