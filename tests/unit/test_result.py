import pytest

from ansible_collections.solvereign.release_ops.plugins.module_utils.result import (
    ERROR, FAIL, PASS, SKIP, WARN, CheckRow, worst_status, write_evidence,
)


@pytest.mark.parametrize("statuses, expected", [
    ([PASS, PASS], PASS),
    ([PASS, WARN], WARN),
    ([PASS, SKIP], PASS),
    ([SKIP, SKIP], SKIP),
    ([PASS, ERROR], ERROR),
    ([ERROR, FAIL, WARN], FAIL),
    ([], ERROR),
])
def test_worst_status(statuses, expected):
    assert worst_status(statuses) == expected


def test_unknown_status_is_rejected():
    with pytest.raises(ValueError):
        worst_status(["OK"])
    with pytest.raises(ValueError):
        CheckRow("1.1", "t", "e").add("x", "GREEN", "m")


def test_row_without_findings_is_error_never_pass():
    row = CheckRow("2.1", "Staging health", "staging").to_dict()
    assert row["status"] == ERROR
    assert row["summary"] == "nothing was evaluated"


def test_row_summary_names_the_worst_findings():
    row = CheckRow("3.1", "Security headers", "staging")
    row.passed("x-frame-options", "DENY")
    row.fail("strict-transport-security", "max-age=300 < 31536000")
    row.warn("x-xss-protection", "modern advice is 0")
    out = row.to_dict()
    assert out["status"] == FAIL
    assert out["summary"] == "max-age=300 < 31536000"
    assert [f["name"] for f in out["findings"]] == ["x-frame-options", "strict-transport-security", "x-xss-protection"]
    assert set(out) >= {"id", "environment", "title", "status", "summary", "findings", "started_at", "duration_s"}


def test_advice_only_when_not_passing():
    row = CheckRow("1.2", "Staging version", "staging")
    row.advice = ["DO NOT proceed"]
    row.passed("/api/health", "ok")
    assert "advice" not in row.to_dict()
    row = CheckRow("1.2", "Staging version", "staging")
    row.advice = ["DO NOT proceed"]
    row.fail("/api/health", "3.6.2")
    assert row.to_dict()["advice"] == ["DO NOT proceed"]


def test_skipped_row_keeps_reason():
    row = CheckRow("4.4", "UI login smoke", "staging")
    row.mark_skipped("no browser on the controller")
    assert row.to_dict()["status"] == SKIP
    assert row.to_dict()["summary"] == "no browser on the controller"


def test_write_evidence_creates_directory(tmp_path):
    path = write_evidence(str(tmp_path / "a" / "b"), "x.log", "hello\n")
    assert open(path).read() == "hello\n"
    assert write_evidence("", "x.log", "ignored") is None
