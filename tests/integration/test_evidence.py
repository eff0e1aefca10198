"""The evidence pack (runbook section 10) after verify against the real reference stack."""

import base64
import json
import os
import shutil
import subprocess
import zipfile

import pytest

from ansible_collections.solvereign.release_ops.plugins.module_utils import browser

from tests import evidence_fixtures as fixtures
from .conftest import assert_no_traceback, run_playbook

SIGNER = "release@solvereign.example.com"
RUNBOOK_ITEMS = ("health_check_staging.png", "login_smoke.png", "rls_verify.png", "webhook_signature_reject.log",
                 "migrations_applied.log")
COLOURS = {"PASS": "rgb(217, 242, 217)", "WARN": "rgb(255, 241, 194)", "FAIL": "rgb(248, 208, 208)",
           "ERROR": "rgb(244, 199, 240)", "SKIP": "rgb(230, 230, 230)", "NOT RUN": "rgb(250, 250, 250)"}


def load(pack, name):
    with open(os.path.join(pack, name)) as handle:
        return json.load(handle)


def manifest_files(pack):
    with open(os.path.join(pack, "MANIFEST.sha256")) as handle:
        return [line.rstrip("\n").split("  ", 1)[1] for line in handle]


def sha256sum_check(pack):
    return subprocess.run(["sha256sum", "-c", "--strict", "MANIFEST.sha256"], cwd=pack, capture_output=True,
                          text=True, check=False)


def archive_of(pack):
    parent = os.path.dirname(pack)
    found = [n for n in os.listdir(parent) if n.startswith("release_evidence_v3.7.0_") and n.endswith(".zip")]
    return os.path.join(parent, found[0]) if found else None


@pytest.fixture(scope="module")
def signing_key(tmp_path_factory):
    directory = tmp_path_factory.mktemp("key")
    key = str(directory / "evidence_ed25519")
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", SIGNER, "-f", key], check=True)
    return key


@pytest.fixture(scope="module")
def healthy(stack, tmp_path_factory, signing_key):
    """One verify of the healthy stack with the pack signed; shared by the tests below.

    Section 7 is left out: its Prometheus windows still see the faults of earlier tests, and it
    adds no item to the pack."""
    pack = tmp_path_factory.mktemp("healthy") / "release_evidence" / "v3.7.0"
    run = run_playbook(pack, extra_vars={"evidence_signing_key": signing_key, "checklist_print": False},
                       args=["--skip-tags", "observability"])
    assert run.checklist is not None, run.output[-3000:]
    return run


def copy_pack(run, tmp_path):
    target = tmp_path / "release_evidence" / "v3.7.0"
    shutil.copytree(run.evidence_dir, str(target))
    return str(target)


def test_verify_leaves_a_complete_verifiable_signed_pack(healthy, signing_key, tmp_path):
    assert healthy.rc == 0, healthy.output[-3000:]
    assert_no_traceback(healthy)
    pack = healthy.evidence_dir
    result = load(pack, "evidence.json")
    for entry in result["files"]:
        assert os.path.isfile(os.path.join(pack, entry["path"])), entry
    present = [i["file"] for i in result["required"] if i["status"] == "present"]
    assert sorted(present) == sorted(RUNBOOK_ITEMS)
    assert [m["file"] for m in result["missing"]] == ["grafana_post_ga.png", "deploy_v3.7.0.log"]
    assert all(m["reason"] for m in result["missing"])
    assert result["secret_scan"]["status"] == "PASS" and result["secret_scan"]["findings"] == []
    for name in ("solvereign_login_password", "solvereign_whatsapp_app_secret", "solvereign_billing_webhook_secret",
                 "solvereign_sentry_token", "solvereign_database_url (password)",
                 "session cookie of the login smoke (local)"):
        assert name in result["secret_scan"]["variables"]
    # The health probe transcript is drawn, and the text sits beside the picture.
    with open(os.path.join(pack, "health_check.log")) as handle:
        assert "/api/health/ready" in handle.read()
    with open(os.path.join(pack, "health_check_staging.png"), "rb") as handle:
        assert handle.read(8) == b"\x89PNG\r\n\x1a\n"

    check = sha256sum_check(pack)
    assert check.returncode == 0, check.stdout + check.stderr
    listed = manifest_files(pack)
    assert set(listed) == set(f["path"] for f in result["files"]) | {"evidence.json"}

    archive = archive_of(pack)
    assert archive and archive == result["archive"]["path"] and result["archive"]["written"]
    with zipfile.ZipFile(archive) as handle:
        names = handle.namelist()
        assert handle.testzip() is None
    expected = listed + ["MANIFEST.sha256", "MANIFEST.sha256.sig"]
    assert sorted(names) == sorted("release_evidence/v3.7.0/" + n for n in expected)

    signers = tmp_path / "allowed_signers"
    with open(signing_key + ".pub") as handle:
        signers.write_text("%s %s" % (SIGNER, handle.read()))
    verify = ["ssh-keygen", "-Y", "verify", "-f", str(signers), "-I", SIGNER, "-n", "solvereign-evidence",
              "-s", os.path.join(pack, "MANIFEST.sha256.sig")]
    with open(os.path.join(pack, "MANIFEST.sha256"), "rb") as handle:
        manifest = handle.read()
    ok = subprocess.run(verify, input=manifest, capture_output=True, check=False)
    assert ok.returncode == 0, ok.stderr
    assert subprocess.run(verify, input=manifest.replace(b"  ", b"  x", 1), capture_output=True,
                          check=False).returncode != 0


def test_report_in_headless_chromium(healthy, tmp_path):
    reason, chromium = browser.unavailable_reason(None)
    assert reason is None, reason
    pack = healthy.evidence_dir
    with browser.Browser(chromium, 30) as session:
        session.driver.get("file://" + os.path.join(pack, "report.html"))
        rows = session.driver.execute_script(
            "return Array.from(document.querySelectorAll('#checklist tr.check')).map(r => ["
            "r.dataset.id, r.dataset.environment, r.cells[3].innerText.trim(),"
            "getComputedStyle(r.cells[3]).backgroundColor]);")
        opened = session.driver.execute_script(
            "const d = document.querySelector('#checklist details'); d.querySelector('summary').click();"
            "return [d.open, d.querySelectorAll('li').length];")
        images = session.driver.execute_script(
            "return Array.from(document.images).map(i => [i.alt, i.complete && i.naturalWidth > 0]);")
        signoff = session.driver.execute_script("return document.getElementById('signoff').innerText;")
        session.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                                       {"width": 1280, "height": 3200, "deviceScaleFactor": 1, "mobile": False})
        shot = str(tmp_path / "report.png")
        with open(shot, "wb") as handle:
            handle.write(session.driver.get_screenshot_as_png())
        errors = session.console_errors()
    assert errors == []
    assert os.path.getsize(shot) > 10000
    expected = dict(((r["id"], r["environment"]), r["status"]) for r in healthy.checklist["checks"])
    shown = dict(((i, e), s) for i, e, s, dummy in rows if s != "NOT RUN")
    assert shown == expected
    for check_id, env, status, colour in rows:
        assert colour == COLOURS[status], (check_id, status, colour)
    assert [r[0] for r in rows] == ["1.1", "1.2", "1.3", "2.1", "2.2", "3.1", "3.2", "4.1", "4.2", "4.3", "4.4", "5.1",
                                    "5.2", "5.3", "5.4", "5.5", "6.1", "6.2", "6.3", "6.4", "7.1", "7.2", "7.3", "8.1"]
    assert opened[0] is True and opened[1] >= 1
    assert images and all(ok for dummy, ok in images), images
    assert "Release Manager: _______________ Date: _______________" in signoff


def test_planted_secret_stops_the_archive(healthy, stack, tmp_path):
    pack = copy_pack(healthy, tmp_path)
    password = stack.env()["login_password"]
    with open(os.path.join(pack, "auth_smoke.log"), "a") as handle:
        handle.write("Authorization: Basic %s\n" % base64.b64encode(("dispatcher:" + password).encode()).decode())
    run = run_playbook(pack, playbook="playbooks/evidence.yml")
    assert run.rc != 0
    assert "auth_smoke.log contains solvereign_login_password (base64)" in run.output, run.output[-3000:]
    assert password not in run.output
    assert archive_of(pack) is None
    result = load(pack, "evidence.json")
    assert result["archive"]["written"] is False
    assert result["secret_scan"]["findings"] == [
        {"file": "auth_smoke.log", "variable": "solvereign_login_password", "encoding": "base64"}]
    assert_no_traceback(run)


def test_pack_after_a_soak_has_the_charts(healthy, tmp_path):
    pack = copy_pack(healthy, tmp_path)
    fixtures.write_soak(pack)
    checklist = load(pack, "checklist.json")
    checklist["checks"].append({"id": "8.1", "title": "Soak (2h)", "environment": "local", "status": "PASS",
                                "summary": "soak PASS over 2h", "findings": [
                                    {"name": "soak", "status": "PASS", "message": "every signal within limits"}],
                                "evidence": [os.path.join(pack, "soak", "verdict.json")]})
    with open(os.path.join(pack, "checklist.json"), "w") as handle:
        json.dump(checklist, handle)
    run = run_playbook(pack, playbook="playbooks/evidence.yml")
    assert run.rc == 0, run.output[-3000:]
    with open(os.path.join(pack, "report.html")) as handle:
        html = handle.read()
    for chart in ("chart_5xx_rate.png", "chart_p95_latency.png"):
        with open(os.path.join(pack, "soak", chart), "rb") as handle:
            assert "data:image/png;base64," + base64.b64encode(handle.read()).decode() in html
    assert 'data-id="8.1" data-environment="local" data-status="PASS"' in html
    result = load(pack, "evidence.json")
    assert result["sources"]["soak"]["verdict"] == "PASS"
    assert [m["file"] for m in result["missing"]] == ["deploy_v3.7.0.log"]
    with open(os.path.join(pack, "grafana_post_ga.png"), "rb") as handle:
        assert handle.read(8) == b"\x89PNG\r\n\x1a\n"
    assert sha256sum_check(pack).returncode == 0
    with zipfile.ZipFile(archive_of(pack)) as handle:
        assert "release_evidence/v3.7.0/soak/measurements.jsonl" in handle.namelist()


def test_failed_verify_still_leaves_a_complete_pack(api_faults, tmp_path):
    api_faults("wrong_version")
    pack = str(tmp_path / "release_evidence" / "v3.7.0")
    run = run_playbook(pack, args=["--tags", "fingerprint,health"], extra_vars={"checklist_print": False})
    assert run.rc != 0
    assert "Verdict FAIL" in run.output
    result = load(pack, "evidence.json")
    assert result["verdict"] == "FAIL" and result["archive"]["written"] is True
    assert sha256sum_check(pack).returncode == 0
    with open(os.path.join(pack, "report.html")) as handle:
        html = handle.read()
    assert 'data-id="1.2" data-environment="local" data-status="FAIL"' in html and "3.6.2" in html
    assert 'id="verdict" class="verdict s-FAIL">FAIL<' in html
    missing = dict((m["file"], m["reason"]) for m in result["missing"])
    assert "row 4.4 did not run" in missing["login_smoke.png"]
    assert "health_check_staging.png" not in missing


def test_evidence_can_be_turned_off(stack, tmp_path):
    pack = str(tmp_path / "release_evidence" / "v3.7.0")
    run = run_playbook(pack, args=["--tags", "fingerprint"], extra_vars={"evidence_enabled": False})
    assert run.rc == 0, run.output[-3000:]
    assert os.path.exists(os.path.join(pack, "checklist.json"))
    assert not os.path.exists(os.path.join(pack, "evidence.json")) and archive_of(pack) is None


def test_evidence_playbook_refuses_a_missing_pack(stack, tmp_path):
    run = run_playbook(str(tmp_path / "nothing"), playbook="playbooks/evidence.yml")
    assert run.rc != 0
    assert "does not exist: run verify" in run.output
    assert_no_traceback(run)
