"""Check modules run inside the controller's process give what Ansible's module run gives."""

import re
import threading

import pytest

from ansible_collections.solvereign.release_ops.plugins.module_utils import in_process
from ansible_collections.solvereign.release_ops.plugins.modules import http_check

from .conftest import Route, run_module


def health_args(base_url, path="/api/health", **extra):
    out = {"check_id": "2.1", "check_title": "Staging health", "environment": "staging", "base_url": base_url,
           "probes": [{"path": path}], "retry_backoff": 0.0}
    out.update(extra)
    return out


def test_same_row_as_the_module_run_by_ansible(server, monkeypatch):
    server.routes["/api/health"] = Route(200, {})
    server.routes["/api/health/ready"] = Route(503, {"detail": "database unavailable"})
    for path in ("/api/health", "/api/health/ready", "/nowhere"):
        expected = run_module(http_check.main, health_args(server.url, path), monkeypatch)[0]["row"]
        got = in_process.run_module("solvereign.release_ops.http_check", health_args(server.url, path))["row"]
        for key in ("id", "status"):
            assert got[key] == expected[key], (path, key)
        timing = re.compile(r"in [0-9.]+s")
        assert timing.sub("", got["summary"]) == timing.sub("", expected["summary"])
        assert [(f["name"], f["status"]) for f in got["findings"]] == \
            [(f["name"], f["status"]) for f in expected["findings"]]


def test_invalid_arguments_fail_with_the_argument_spec_message():
    result = in_process.run_module("solvereign.release_ops.http_check", {"check_id": "2.1", "check_title": "x",
                                                                         "environment": "staging"})
    assert result["failed"] and "missing required arguments: probes" in result["msg"]
    result = in_process.run_module("http_check", dict(health_args("http://127.0.0.1:1"), timeout="soon"))
    assert result["failed"] and "timeout" in result["msg"]


def test_no_log_values_are_masked_in_the_result():
    secret = "s3cr3t-value-for-the-test"
    in_process._CALL.begin({"token": secret, "label": "x"}, False)  # pylint: disable=protected-access
    module = in_process.InProcessModule(dict(token=dict(type="str", no_log=True), label=dict(type="str")))
    assert module.params["token"] == secret and secret in module.no_log_values
    with pytest.raises(in_process.ModuleFinished) as finished:
        module.fail_json(msg="Sentry refused token %s" % secret, echo=secret)
    assert secret not in repr(finished.value.result)
    assert finished.value.result["failed"] is True


def test_check_mode_reaches_the_module(server):
    server.routes["/api/health"] = Route(200, {})
    in_process._CALL.begin({}, True)  # pylint: disable=protected-access
    assert in_process.InProcessModule({}, supports_check_mode=True).check_mode is True
    with pytest.raises(in_process.ModuleFinished) as finished:
        in_process.InProcessModule({}, supports_check_mode=False)
    assert finished.value.result["skipped"] is True
    result = in_process.run_module("http_check", health_args(server.url), check_mode=True)
    assert result["row"]["status"] == "PASS"


def test_threads_keep_their_own_arguments(server):
    for index in range(8):
        server.routes["/probe/%d" % index] = Route(200 if index % 2 else 503, {"n": index}, delay=0.05)
    results = {}

    def one(index):
        results[index] = in_process.run_module("http_check", health_args(server.url, "/probe/%d" % index))

    threads = [threading.Thread(target=one, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for index in range(8):
        row = results[index]["row"]
        assert row["findings"][0]["name"] == "/probe/%d" % index
        assert row["status"] == ("PASS" if index % 2 else "FAIL"), row


def test_only_the_collections_check_modules_run_in_process():
    assert in_process.short_name("solvereign.release_ops.http_check") == "http_check"
    assert in_process.short_name("community.general.http_check") is None
    assert in_process.short_name("solvereign.release_ops.compose_service") is None
    with pytest.raises(ValueError):
        in_process.run_module("ansible.builtin.uri", {})
