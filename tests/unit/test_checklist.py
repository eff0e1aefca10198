import json
import xml.etree.ElementTree as ET

from ansible_collections.solvereign.release_ops.plugins.filter import checklist as filters
from ansible_collections.solvereign.release_ops.plugins.module_utils import checklist as render
from ansible_collections.solvereign.release_ops.plugins.module_utils.result import CheckRow
from ansible_collections.solvereign.release_ops.plugins.modules import checklist_write

from .conftest import run_module


def row(check_id, status, env="staging", message="m"):
    r = CheckRow(check_id, "Check %s" % check_id, env)
    if status == "SKIP":
        r.mark_skipped("not configured")
    else:
        r.add("f", status, message)
    return r.to_dict()


def test_verdict_rules():
    assert render.verdict([row("1.1", "PASS"), row("3.1", "WARN")]) == "PASS"
    assert render.verdict([row("1.1", "PASS"), row("2.1", "ERROR")]) == "FAIL"
    assert render.verdict([row("1.1", "PASS"), row("2.1", "FAIL")]) == "FAIL"
    assert render.verdict([row("1.1", "PASS"), row("4.4", "SKIP")]) == "PASS"
    assert render.verdict([row("1.1", "PASS"), row("4.4", "SKIP")], strict=True) == "FAIL"
    assert render.verdict([]) == "FAIL"


def test_rows_sorted_in_runbook_order_and_secrets_masked():
    rows = [row("10.1", "PASS"), row("2.1", "PASS"), row("1.1", "FAIL", message="password hunter22")]
    out = render.build(rows, "3.7.0", secrets=["hunter22"])
    assert [r["id"] for r in out["checks"]] == ["1.1", "2.1", "10.1"]
    assert "hunter22" not in json.dumps(out)
    assert out["counts"]["FAIL"] == 1 and out["verdict"] == "FAIL"


def test_files_written_by_module(tmp_path, monkeypatch):
    rows = [row("1.1", "PASS"), row("2.1", "ERROR", message="cannot connect"), row("4.4", "SKIP")]
    result, failed = run_module(checklist_write.main, {"rows": rows, "release": "3.7.0",
                                                       "evidence_dir": str(tmp_path / "ev")}, monkeypatch)
    assert not failed and result["verdict"] == "FAIL"
    data = json.load(open(result["paths"]["json"]))
    assert set(data) >= {"release", "verdict", "generated_at", "checks"}
    assert data["release"] == "3.7.0"
    md = open(result["paths"]["markdown"]).read()
    assert "| 2.1 | staging | Check 2.1 | [?] ERROR | cannot connect |" in md
    suite = ET.parse(result["paths"]["junit"]).getroot()
    assert suite.get("tests") == "3" and suite.get("errors") == "1" and suite.get("skipped") == "1"
    assert result["failing"] == ["2.1 staging ERROR: cannot connect"]


def test_checklist_row_filter_turns_failures_into_error_rows():
    spec = {"id": "1.2", "title": "Staging version"}
    good = {"row": row("1.2", "PASS")}
    assert filters.checklist_row(good, spec, "staging")["status"] == "PASS"
    crashed = {"failed": True, "msg": "missing required arguments: base_url postgresql://u:pw9@h/db"}
    out = filters.checklist_row(crashed, spec, "staging")
    assert out["status"] == "ERROR" and "missing required arguments" in out["summary"]
    assert "pw9" not in out["summary"]
    skipped = filters.checklist_row({"skipped": True}, spec, "staging", "solvereign_git_repo is not set")
    assert skipped["status"] == "SKIP" and skipped["summary"] == "solvereign_git_repo is not set"


def test_gate_reason_and_reports():
    hostvars = {
        "stg": {"solvereign_environment": "staging", "solvereign_evidence_path": "/e",
                "solvereign_release_version": "3.7.0",
                "solvereign_checklist_rows": [row("1.2", "FAIL"), row("2.1", "PASS")]},
        "prd": {"solvereign_environment": "prod", "solvereign_evidence_path": "/e",
                "solvereign_release_version": "3.7.0", "solvereign_checklist_rows": [row("2.2", "SKIP", "prod")]},
        "prd2": {"solvereign_environment": "prod"},
    }
    reason = filters.gate_reason(hostvars, ["stg", "prd", "prd2"], "prod")
    assert "staging (1.2 FAIL)" in reason and "DO NOT proceed" in reason
    assert filters.gate_reason(hostvars, ["prd"], "prod") == ""
    reports = filters.checklist_reports(hostvars, ["stg", "prd", "prd2"])
    assert len(reports) == 1 and [r["id"] for r in reports[0]["rows"]] == ["1.2", "2.1", "2.2"]


def test_merge_host_rows_keeps_every_host():
    spec = {"id": "7.3", "title": "Log sampling"}
    ok = row("7.3", "PASS", message="0 error lines")
    bad = row("7.3", "FAIL", message="stack trace")
    merged = filters.merge_host_rows({"web1": ok, "web2": bad, "web3": None}, spec, "prod")
    assert merged["status"] == "FAIL"
    assert [f["name"] for f in merged["findings"]] == ["web1: f", "web2: f", "web3"]
    assert merged["findings"][2]["status"] == "ERROR" and "did not run" in merged["findings"][2]["message"]
    skipped = filters.merge_host_rows({"web1": row("7.3", "SKIP")}, spec, "prod")
    assert skipped["status"] == "SKIP" and skipped["summary"] == "web1: not configured"
    assert filters.merge_host_rows({}, spec, "prod")["status"] == "ERROR"
