"""sentry_check against the Sentry stand-in (real HTTP, Sentry's documented shapes)."""

import json

import pytest

from ansible_collections.solvereign.release_ops.plugins.module_utils import sentry
from ansible_collections.solvereign.release_ops.plugins.modules import sentry_check
from tests.stack.sentry_standin import SentryStandin

from .conftest import run_module

TOKEN = "sntrys_standin_secret_token_123"


@pytest.fixture
def standin():
    with SentryStandin(token=TOKEN) as server:
        yield server


def run(standin, monkeypatch, **extra):
    args = {"check_id": "7.1", "check_title": "Sentry error rate", "environment": "local", "url": standin.url,
            "org": "solvereign", "project": "solvereign-api", "token": TOKEN, "retries": 0}
    args.update(extra)
    result, failed = run_module(sentry_check.main, args, monkeypatch)
    assert not failed, result
    assert TOKEN not in json.dumps(result)
    return result


def test_quiet_hour_passes_with_pagination(standin, monkeypatch):
    result = run(standin, monkeypatch, new_issue_query="is:unresolved")
    row = result["row"]
    assert row["status"] == "PASS", row
    assert "0 error event(s) in the last 1h" in row["summary"]
    # page size 2, three issues: two pages followed through the Link header
    issue_pages = [r for r in standin.requests if r["path"].endswith("/issues/")]
    assert len(issue_pages) == 2 and issue_pages[1]["params"]["cursor"] == ["0:2:0"]
    assert all(r["authorization"] == "Bearer " + TOKEN for r in standin.requests)
    events = [r for r in standin.requests if r["path"].endswith("/events/")][0]["params"]
    assert events["field"] == ["count()"] and events["query"] == ["level:error"]
    assert events["statsPeriod"] == ["1h"] and events["project"] == ["4505012"]


def test_default_new_issue_query_uses_first_seen(standin, monkeypatch):
    assert run(standin, monkeypatch)["row"]["status"] == "PASS"
    issues = [r for r in standin.requests if r["path"].endswith("/issues/")][0]["params"]
    assert issues["query"] == ["is:unresolved firstSeen:-1h"]


def test_25_errors_fail(standin, monkeypatch):
    standin.case = "errors_25"
    row = run(standin, monkeypatch)["row"]
    assert row["status"] == "FAIL"
    assert [f["status"] for f in row["findings"]] == ["FAIL", "PASS"]
    assert "25 error event(s)" in row["summary"] and "25 >= 10" in row["summary"]


def test_new_issue_fails_with_title_and_permalink(standin, monkeypatch):
    standin.case = "new_issue"
    result = run(standin, monkeypatch)
    row = result["row"]
    assert row["status"] == "FAIL"
    assert [f["status"] for f in row["findings"]] == ["PASS", "FAIL"]
    assert "ZeroDivisionError: division by zero" in row["summary"]
    assert standin.url + "/organizations/solvereign/issues/7004/" in row["summary"]
    assert result["new_issues"][0]["shortId"] == "SOLVEREIGN-API-4"


def test_bad_token_is_error(standin, monkeypatch):
    standin.case = "bad_token"
    row = run(standin, monkeypatch)["row"]
    assert row["status"] == "ERROR"
    assert "rejected the token" in row["summary"] and "401" in row["summary"]


def test_rate_limited_retries_then_errors(standin, monkeypatch):
    standin.case = "rate_limited"
    standin.retry_after = "0"
    row = run(standin, monkeypatch, max_rate_limit_retries=2)["row"]
    assert row["status"] == "ERROR"
    assert "429" in row["summary"] and "gave up" in row["summary"]
    assert len(standin.requests) == 3


def test_rate_limited_once_is_waited_out(standin, monkeypatch):
    standin.case = "rate_limited_once"
    result = run(standin, monkeypatch)
    assert result["row"]["status"] == "PASS"
    assert result["rate_limit_waits"] == [1.0]


def test_too_long_retry_after_gives_up_at_once(standin, monkeypatch):
    standin.case = "rate_limited"
    standin.retry_after = "3600"
    row = run(standin, monkeypatch)["row"]
    assert row["status"] == "ERROR" and len(standin.requests) == 1


def test_unknown_project_is_error(standin, monkeypatch):
    row = run(standin, monkeypatch, project="nope")["row"]
    assert row["status"] == "ERROR" and "404" in row["summary"]


def test_unreachable_sentry_is_error(closed_port, monkeypatch):
    args = {"check_id": "7.1", "check_title": "Sentry", "environment": "local", "retries": 0,
            "url": "http://127.0.0.1:%d" % closed_port, "org": "o", "project": "p", "token": TOKEN}
    result, failed = run_module(sentry_check.main, args, monkeypatch)
    assert not failed and result["row"]["status"] == "ERROR"
    assert "unreachable" in result["row"]["summary"]


def test_parse_link_header():
    header = ('<https://sentry.io/api/0/organizations/o/issues/?cursor=0:0:1>; rel="previous"; results="false"; '
              'cursor="0:0:1", <https://sentry.io/api/0/organizations/o/issues/?cursor=0:100:0>; rel="next"; '
              'results="true"; cursor="0:100:0"')
    links = sentry.parse_link_header(header)
    assert [l["rel"] for l in links] == ["previous", "next"]
    assert sentry.next_cursor(header) == "0:100:0"
    assert sentry.next_cursor(header.replace('results="true"', 'results="false"')) is None
    assert sentry.next_cursor("") is None


def test_retry_after_forms():
    assert sentry.retry_after_seconds("7") == 7.0
    assert sentry.retry_after_seconds(None) == 1.0
    assert sentry.retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0


def test_event_count_of_a_closed_window_sends_start_and_end(standin):
    from ansible_collections.solvereign.release_ops.plugins.module_utils.http_client import HttpClient
    standin.case = "errors_25"
    client = sentry.SentryClient(HttpClient(timeout=5, retries=0), standin.url, TOKEN)
    count = client.event_count("solvereign", "4505012", "level:error", start="2026-12-01T10:00:00Z",
                               end="2026-12-01T10:30:00Z")
    assert count == 25
    params = [r for r in standin.requests if r["path"].endswith("/events/")][-1]["params"]
    assert params["start"] == ["2026-12-01T10:00:00Z"] and params["end"] == ["2026-12-01T10:30:00Z"]
    assert "statsPeriod" not in params
