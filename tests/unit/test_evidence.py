"""The evidence pack: secret scan, manifest, archive, report, required items, signing."""

import base64
import hashlib
import json
import os
import re
import shutil
import subprocess
import zipfile
from urllib.parse import quote

import pytest

from ansible_collections.solvereign.release_ops.plugins.filter import evidence as evidence_filter
from ansible_collections.solvereign.release_ops.plugins.module_utils import evidence, evidence_render
from ansible_collections.solvereign.release_ops.plugins.modules import evidence_pack

from tests import evidence_fixtures as fixtures

from .conftest import Route, run_module

SECRET = "s3cr3t-Passw0rd!"
SECRETS = [{"name": "solvereign_login_password", "value": SECRET},
           {"name": "solvereign_sentry_token", "value": "sntrys_0123456789abcdef"}]


def row(check_id, title, status="PASS", env="local", evidence_files=()):
    out = {"id": check_id, "title": title, "environment": env, "status": status,
           "summary": "%s %s" % (title, status), "findings": [{"name": "probe", "status": status, "message": "m"}]}
    if evidence_files:
        out["evidence"] = list(evidence_files)
    return out


def make_pack(tmp_path, rows=None, files=None):
    """A pack as verify leaves it: checklist.json and the evidence files."""
    root = tmp_path / "release_evidence" / "v3.7.0"
    root.mkdir(parents=True)
    files = {
        "health_check.log": "$ curl -sf \"http://x/api/health\" && echo \"PASS\" || echo \"FAIL\"\n< HTTP 200\nPASS\n",
        "rls_verify.log": "check_name | status\nrls_enabled | PASS\n",
        "login_smoke.png": fixtures.png(),
        "webhook_signature_reject.log": "POST /webhook -> 403\n",
        "migrations_applied.log": "041 | 041_final_hardening\n",
    } if files is None else files
    for name, content in files.items():
        mode = "wb" if isinstance(content, bytes) else "w"
        with open(str(root / name), mode) as handle:
            handle.write(content)
    rows = [row("2.1", "Staging health", evidence_files=[str(root / "health_check.log")]),
            row("1.2", "Staging version", "FAIL"), row("1.1", "Tag verification"),
            row("6.2", "RLS hardening", evidence_files=[str(root / "rls_verify.log")])] if rows is None else rows
    with open(str(root / "checklist.json"), "w") as handle:
        json.dump({"release": "3.7.0", "verdict": "FAIL", "generated_at": "2026-01-11T10:00:00Z", "checks": rows},
                  handle)
    return root


def build(root, **kwargs):
    kwargs.setdefault("secrets", SECRETS)
    kwargs.setdefault("date", "20260111")
    return evidence.build(str(root), **kwargs)


def sha256sum_check(root):
    return subprocess.run(["sha256sum", "-c", "--strict", evidence.MANIFEST], cwd=str(root),
                          capture_output=True, text=True, check=False)


# --------------------------------------------------------------------------- secret scan

@pytest.mark.parametrize("dsn, password", [
    ("postgresql://ro:pa%40ss@db:5432/app", "pa@ss"),
    ("host=db user=ro password='it''s' dbname=app".replace("''", "\\'"), "it's"),
    ("host=db user=ro password=plain dbname=app", "plain"),
    ("postgresql://ro@db/app", None),
    ("", None),
])
def test_dsn_password(dsn, password):
    assert evidence.dsn_password(dsn) == password


@pytest.mark.parametrize("encode", [
    lambda s: s,
    lambda s: quote(s, safe=""),
    lambda s: re.sub(r"%[0-9A-F]{2}", lambda m: m.group(0).lower(), quote(s, safe="")),
    lambda s: base64.b64encode(s.encode()).decode(),
    lambda s: base64.b64encode(("user:" + s).encode()).decode(),          # Basic auth header
    lambda s: base64.b64encode(("ab" + s + "tail").encode()).decode(),    # another alignment
    lambda s: base64.urlsafe_b64encode(("x" + s).encode()).decode(),
], ids=["plain", "url", "url-lower", "base64", "basic-auth", "base64-shifted", "base64-urlsafe"])
def test_scan_finds_every_encoding(tmp_path, encode):
    path = tmp_path / "auth.log"
    path.write_text("Authorization: Basic %s\n" % encode(SECRET))
    prepared, ignored = evidence.prepare_secrets(SECRETS)
    assert ignored == []
    found = evidence.scan_file(str(path), prepared)
    assert [name for name, dummy in found] == ["solvereign_login_password"]


def test_scan_has_no_false_alarm_on_clean_files(tmp_path):
    (tmp_path / "clean.log").write_text("password=******** token ******** " + base64.b64encode(b"other").decode())
    (tmp_path / "picture.png").write_bytes(fixtures.png(64, 64))
    prepared = evidence.prepare_secrets(SECRETS)[0]
    assert evidence.scan_files(str(tmp_path), ["clean.log", "picture.png"], prepared) == []


COOKIE = "Qm9vX3Nlc3Npb24tdG9rZW4tNDI_x-y"   # a session cookie value, known to the scan only by its hash
COOKIE_PRINTS = [{"name": "session cookie of the login smoke (staging)",
                  "sha256": hashlib.sha256(COOKIE.encode()).hexdigest()}]


@pytest.mark.parametrize("text", [
    "Cookie: __Host-session=%s; theme=dark" % COOKIE,
    "set-cookie: sid=%s" % quote(COOKIE, safe=""),
    "blob %s" % base64.b64encode(("__Host-session=" + COOKIE).encode()).decode(),
    '{"cookie": "%s"}' % COOKIE,
], ids=["header", "url-encoded", "base64", "json"])
def test_fingerprinted_session_cookie_is_found_without_knowing_it(tmp_path, text):
    (tmp_path / "auth.log").write_text(text + "\n")
    known = evidence.prepare_fingerprints(COOKIE_PRINTS)
    found = evidence.scan_file(str(tmp_path / "auth.log"), [], known)
    assert [name for name, dummy in found] == ["session cookie of the login smoke (staging)"]


def test_fingerprints_give_no_false_alarm_and_ignore_malformed_digests(tmp_path):
    (tmp_path / "clean.log").write_text("Cookie: __Host-session=********; other-token-abcdefghijklmnop\n")
    known = evidence.prepare_fingerprints(COOKIE_PRINTS + [{"name": "bad", "sha256": "not-a-digest"}])
    assert list(known.values()) == ["session cookie of the login smoke (staging)"]
    assert evidence.scan_files(str(tmp_path), ["clean.log"], [], known) == []


def test_planted_session_cookie_stops_the_archive(tmp_path):
    root = make_pack(tmp_path)
    (root / "auth_smoke.log").write_text("GET /api/auth/me\nCookie: __Host-session=%s\n" % COOKIE)
    result, failure = build(root, fingerprints=COOKIE_PRINTS)
    assert failure and "auth_smoke.log contains session cookie of the login smoke (staging) (plain)" in failure
    assert COOKIE not in failure and result["archive"]["written"] is False
    assert "session cookie of the login smoke (staging)" in result["secret_scan"]["variables"]


def test_short_and_empty_values_are_reported_not_scanned():
    prepared, ignored = evidence.prepare_secrets([{"name": "a", "value": "ab"}, {"name": "b", "value": ""},
                                                  {"name": "c", "value": None}, {"name": "d", "value": "long enough"}])
    assert [name for name, dummy in prepared] == ["d"]
    assert [i["variable"] for i in ignored] == ["a"] and "too short" in ignored[0]["reason"]


def test_one_value_in_two_variables_is_named_by_both():
    prepared = evidence.prepare_secrets([{"name": "x", "value": "samevalue"}, {"name": "y", "value": "samevalue"}])[0]
    assert [name for name, dummy in prepared] == ["x / y"]


# --------------------------------------------------------------------------- the whole pack

def test_pack_manifest_archive_and_result(tmp_path):
    root = make_pack(tmp_path)
    result, failure = build(root)
    assert failure is None
    check = sha256sum_check(root)
    assert check.returncode == 0, check.stdout + check.stderr
    manifest = [line.split("  ", 1)[1] for line in (root / evidence.MANIFEST).read_text().splitlines()]
    assert set(manifest) == set(evidence.pack_files(str(root)))
    for name in ("report.html", "evidence.json", "health_check_staging.png", "rls_verify.png", "checklist.json"):
        assert name in manifest
    archive = tmp_path / "release_evidence" / "release_evidence_v3.7.0_20260111.zip"
    assert result["archive"] == {"path": str(archive), "written": True}
    with zipfile.ZipFile(str(archive)) as handle:
        names = handle.namelist()
        assert handle.testzip() is None
    assert sorted(names) == sorted("release_evidence/v3.7.0/" + n for n in manifest + [evidence.MANIFEST])
    written = json.loads((root / "evidence.json").read_text())
    assert set(["files", "missing", "archive", "secret_scan"]) <= set(written)
    assert written["secret_scan"]["status"] == "PASS"
    assert written["secret_scan"]["variables"] == ["solvereign_login_password", "solvereign_sentry_token"]
    assert {f["path"] for f in written["files"]} == set(manifest) - {"evidence.json"}
    missing = dict((m["file"], m["reason"]) for m in written["missing"])
    assert set(missing) == {"grafana_post_ga.png", "deploy_v3.7.0.log"}
    assert "soak did not run" in missing["grafana_post_ga.png"]
    assert "evidence_deploy_log" in missing["deploy_v3.7.0.log"]


def test_tampered_file_fails_the_manifest_check(tmp_path):
    root = make_pack(tmp_path)
    build(root)
    (root / "migrations_applied.log").write_text("041 | edited afterwards\n")
    check = sha256sum_check(root)
    assert check.returncode != 0 and "migrations_applied.log: FAILED" in check.stdout


def test_planted_secret_stops_the_archive_and_names_file_and_variable(tmp_path):
    root = make_pack(tmp_path)
    build(root)
    archive = tmp_path / "release_evidence" / "release_evidence_v3.7.0_20260111.zip"
    assert archive.exists()
    (root / "webhook_signature_reject.log").write_text("curl -H 'X-Token: %s'\n" % quote(SECRET, safe=""))
    result, failure = build(root)
    assert failure and "webhook_signature_reject.log contains solvereign_login_password (url-encoded)" in failure
    assert SECRET not in failure and quote(SECRET, safe="") not in failure
    assert not archive.exists(), "an archive of the earlier pack must not pass for this one"
    assert result["archive"]["written"] is False and result["archive"]["removed_stale"] is True
    written = json.loads((root / "evidence.json").read_text())
    assert written["secret_scan"]["status"] == "FAIL"
    assert written["secret_scan"]["findings"] == [
        {"file": "webhook_signature_reject.log", "variable": "solvereign_login_password", "encoding": "url-encoded"}]
    assert SECRET not in (root / "evidence.json").read_text()
    assert sha256sum_check(root).returncode == 0, "the pack is still complete and verifiable"


def test_secret_in_a_checklist_row_is_found_in_the_report_too(tmp_path):
    root = make_pack(tmp_path, rows=[row("4.1", "API login valid")])
    data = json.loads((root / "checklist.json").read_text())
    data["checks"][0]["summary"] = "login with " + SECRET
    (root / "checklist.json").write_text(json.dumps(data))
    result, failure = build(root)
    files = sorted(f["file"] for f in result["secret_scan"]["findings"])
    assert files == ["checklist.json", "report.html"]


def test_archive_off(tmp_path):
    root = make_pack(tmp_path)
    result, failure = build(root, archive=False)
    assert failure is None and result["archive"]["written"] is False
    assert result["archive"]["reason"] == "evidence_archive is false"
    assert not os.path.exists(result["archive"]["path"])


def test_report_rows_in_runbook_order_with_placeholders(tmp_path):
    root = make_pack(tmp_path)
    build(root)
    html = (root / "report.html").read_text()
    ids = re.findall(r'<tr class="check [^"]*" data-id="([^"]+)" data-environment="[^"]*" data-status="([^"]+)"', html)
    assert [i for i, dummy in ids] == [c for c, dummy in evidence.SUMMARY]
    statuses = dict(ids)
    assert statuses["1.2"] == "FAIL" and statuses["1.1"] == "PASS" and statuses["8.1"] == "NOT RUN"
    assert statuses["1.3"] == "NOT RUN" and "production was not verified" in html
    assert "<details>" in html and "Release Manager: _______________ Date: _______________" in html
    assert 'href="health_check.log"' in html, "row evidence links are relative to the pack"
    assert re.search(r"(src|href)=\"(https?:)?//", html) is None, "no external assets"
    assert "<script" not in html


def test_soak_charts_are_inline_and_grafana_picture_is_drawn(tmp_path):
    root = make_pack(tmp_path)
    fixtures.write_soak(root)
    result, failure = build(root)
    assert failure is None
    html = (root / "report.html").read_text()
    chart = base64.b64encode((root / "soak" / "chart_5xx_rate.png").read_bytes()).decode()
    assert 'src="data:image/png;base64,%s"' % chart in html
    assert "Soak verdict: <span" in html and "every signal within its soak threshold" in html
    assert (root / "grafana_post_ga.png").read_bytes().startswith(b"\x89PNG")
    item = [i for i in result["required"] if i["file"] == "grafana_post_ga.png"][0]
    assert item == {"item": "Grafana dashboard", "file": "grafana_post_ga.png", "status": "present",
                    "source": "drawn from soak/measurements.jsonl"}
    assert result["sources"]["soak"] == {"ran": True, "file": "soak/verdict.json", "verdict": "PASS"}


def test_measurement_series_reads_samples_and_plain_values():
    series = evidence_render.measurement_series([
        {"kind": "checkpoint", "signal": "a", "samples": [{"values": [[1, "0.5"], [2, "NaN"]]}]},
        {"kind": "trigger", "signal": "a", "samples": [{"values": [[3, 9]]}]},
        {"signal": "b", "time": "2026-01-11T10:00:00Z", "value": 2},
        {"signal": "c", "value": None},
    ])
    assert series == {"a": [(1.0, 0.5)], "b": [(1768125600.0, 2.0)]}


def test_without_pillow_the_pack_says_which_pictures_it_could_not_draw(tmp_path, monkeypatch):
    monkeypatch.setattr(evidence_render, "Image", None)
    root = make_pack(tmp_path)
    fixtures.write_soak(root)
    result, failure = build(root)
    assert failure is None
    assert sorted(n["file"] for n in result["pictures_not_drawn"]) == [
        "grafana_post_ga.png", "health_check_staging.png", "rls_verify.png"]
    missing = dict((m["file"], m["reason"]) for m in result["missing"])
    assert "Pillow" in missing["rls_verify.png"] and "rls_verify.log" in missing["rls_verify.png"]
    assert not (root / "rls_verify.png").exists()


def test_missing_sources_say_why(tmp_path):
    root = make_pack(tmp_path, files={}, rows=[
        dict(row("4.4", "UI login smoke", "SKIP"), summary="selenium is not installed"), row("1.1", "Tag verification")])
    result, failure = build(root)
    missing = dict((m["file"], m["reason"]) for m in result["missing"])
    assert set(missing) == {"health_check_staging.png", "login_smoke.png", "rls_verify.png", "grafana_post_ga.png",
                            "webhook_signature_reject.log", "deploy_v3.7.0.log", "migrations_applied.log"}
    assert "row 4.4 SKIP: selenium is not installed" in missing["login_smoke.png"]
    assert "row 6.1 did not run" in missing["migrations_applied.log"]


def test_no_checklist_at_all(tmp_path):
    root = tmp_path / "pack"
    root.mkdir()
    fixtures.write_soak(root)
    result, failure = build(root, release="3.7.0")
    assert result["sources"]["verify"] == {"ran": False, "file": "checklist.json"}
    assert "verify did not run" in dict((m["file"], m["reason"]) for m in result["missing"])["migrations_applied.log"]
    with pytest.raises(evidence.EvidenceError, match="release version is unknown"):
        build(tmp_path / "pack")  # no release known once checklist.json is absent
    with pytest.raises(evidence.EvidenceError, match="does not exist"):
        build(tmp_path / "nowhere", release="3.7.0")


def test_rollback_hotfix_and_deploy_log(tmp_path):
    root = make_pack(tmp_path)
    fixtures.write_rollback(root)
    fixtures.write_hotfix(root)
    result, failure = build(root)
    reason = dict((m["file"], m["reason"]) for m in result["missing"])["deploy_v3.7.0.log"]
    assert "rollback/deploy_v3.6.10.log" in reason and "version it rolled back to" in reason
    assert result["sources"]["rollback"]["ran"] and result["sources"]["hotfix"]["ran"]
    manifest = (root / evidence.MANIFEST).read_text()
    for name in ("rollback/result.json", "rollback/incident_report.md", "hotfix/result.json"):
        assert "  %s\n" % name in manifest
    deploy = tmp_path / "deploy.out"
    deploy.write_text("kubectl rollout status deploy/api\n")
    result, failure = build(root, deploy_log=str(deploy))
    assert (root / "deploy_v3.7.0.log").read_text() == deploy.read_text()
    assert "deploy_v3.7.0.log" not in [m["file"] for m in result["missing"]]
    with pytest.raises(evidence.EvidenceError, match="evidence_deploy_log .* is not a readable file"):
        build(root, deploy_log=str(tmp_path / "absent.log"))


def test_several_environments_have_their_items_in_their_folders(tmp_path):
    rows = [row("2.1", "Staging health", env="staging"), row("2.2", "Prod health", env="prod")]
    root = make_pack(tmp_path, rows=rows, files={})
    for env in ("staging", "prod"):
        (root / env).mkdir()
        (root / env / "health_check.log").write_text("PASS\n")
    result, failure = build(root)
    present = sorted(i["file"] for i in result["required"] if i["status"] == "present")
    assert present == ["prod/health_check_prod.png", "staging/health_check_staging.png"]


def test_signature_verifies_with_ssh_keygen(tmp_path):
    key = tmp_path / "key"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "release@solvereign", "-f", str(key)],
                   check=True)
    root = make_pack(tmp_path)

    def run_command(args):
        proc = subprocess.run(args, capture_output=True, text=True, check=False)
        return proc.returncode, proc.stdout, proc.stderr

    result, failure = build(root, signing_key=str(key), run_command=run_command)
    assert result["signature"] == str(root / evidence.SIGNATURE)
    signers = tmp_path / "allowed_signers"
    signers.write_text("release@solvereign %s" % (tmp_path / "key.pub").read_text())
    verify = ["ssh-keygen", "-Y", "verify", "-f", str(signers), "-I", "release@solvereign", "-n",
              evidence.SIGNING_NAMESPACE, "-s", str(root / evidence.SIGNATURE)]
    ok = subprocess.run(verify, input=(root / evidence.MANIFEST).read_bytes(), capture_output=True, check=False)
    assert ok.returncode == 0, ok.stderr
    bad = subprocess.run(verify, input=(root / evidence.MANIFEST).read_bytes() + b"x", capture_output=True, check=False)
    assert bad.returncode != 0
    with zipfile.ZipFile(result["archive"]["path"]) as handle:
        assert "release_evidence/v3.7.0/MANIFEST.sha256.sig" in handle.namelist()
    with pytest.raises(evidence.EvidenceError, match="is not a file"):
        build(root, signing_key=str(tmp_path / "nokey"), run_command=run_command)


# --------------------------------------------------------------------------- module and filter

def module_args(root, **extra):
    args = {"evidence_dir": str(root), "date": "20260111",
            "secrets": {"solvereign_login_password": SECRET}, "retry_backoff": 0.0}
    args.update(extra)
    return args


def test_module_fails_naming_file_and_variable(tmp_path, monkeypatch):
    root = make_pack(tmp_path)
    (root / "auth_smoke.log").write_text("password=%s\n" % SECRET)
    result, failed = run_module(evidence_pack.main, module_args(root), monkeypatch)
    assert failed
    assert "auth_smoke.log contains solvereign_login_password (plain)" in result["msg"]
    assert SECRET not in json.dumps(result)
    assert result["archive"]["written"] is False


def test_module_bad_input_is_a_clear_error(tmp_path, monkeypatch):
    result, failed = run_module(evidence_pack.main, module_args(tmp_path / "absent"), monkeypatch)
    assert failed and "does not exist" in result["msg"] and "Traceback" not in result["msg"]
    root = make_pack(tmp_path)
    result, failed = run_module(evidence_pack.main, module_args(root, date="2026-01-11"), monkeypatch)
    assert failed and "must be YYYYMMDD" in result["msg"]
    (root / "checklist.json").write_text("{not json")
    result, failed = run_module(evidence_pack.main, module_args(root), monkeypatch)
    assert failed and "checklist.json is not readable JSON" in result["msg"]


def test_module_takes_grafana_render(tmp_path, monkeypatch, server):
    root = make_pack(tmp_path)
    picture = fixtures.png(8, 8, (10, 200, 10))
    server.routes["/render/d/x/y?from=now-2h"] = Route(200, picture, content_type="image/png")
    result, failed = run_module(evidence_pack.main, module_args(
        root, grafana_url=server.url, grafana_token="glsa_token_value", grafana_render_path="/render/d/x/y?from=now-2h"),
        monkeypatch)
    assert not failed, result
    assert (root / "grafana_post_ga.png").read_bytes() == picture
    assert server.requests[-1][2]["Authorization"] == "Bearer glsa_token_value"
    assert "glsa_token_value" not in (root / "report.html").read_text()


def test_module_grafana_without_png_falls_back_and_says_why(tmp_path, monkeypatch, server):
    root = make_pack(tmp_path)
    fixtures.write_soak(root)
    server.routes["/render"] = Route(401, {"message": "invalid API key"})
    result, failed = run_module(evidence_pack.main, module_args(
        root, grafana_url=server.url, grafana_token="glsa_token_value", grafana_render_path="/render"), monkeypatch)
    assert not failed, result
    item = [i for i in json.loads((root / "evidence.json").read_text())["required"]
            if i["file"] == "grafana_post_ga.png"][0]
    assert item["status"] == "present"
    assert "HTTP 401 without a PNG" in item["source"] and "drawn from soak/measurements.jsonl" in item["source"]


class FakeHostvars(dict):
    pass


def test_filter_collects_configured_and_discovered_secrets():
    hostvars = FakeHostvars({
        "h1": {"solvereign_environment": "staging", "solvereign_login_password": "pw-staging",
               "solvereign_database_url": "postgresql://ro:dbpass@db/app", "rollback_statuspage_api_key": "sp-key",
               "solvereign_url": "https://x", "solvereign_sentry_token": ""},
        "h2": {"solvereign_environment": "prod", "solvereign_login_password": "pw-prod"},
    })
    one = evidence_filter.evidence_secrets(hostvars, ["h1"], ["solvereign_login_password", "solvereign_sentry_token"],
                                           ["extra-value", {"name": "session_cookie", "value": "cookie-value"}])
    assert one == {"solvereign_login_password": "pw-staging", "rollback_statuspage_api_key": "sp-key",
                   "solvereign_database_url (password)": "dbpass", "evidence_secret_values[0]": "extra-value",
                   "session_cookie": "cookie-value"}
    both = evidence_filter.evidence_secrets(hostvars, ["h1", "h2"], ["solvereign_login_password"])
    assert both["solvereign_login_password@staging"] == "pw-staging"
    assert both["solvereign_login_password@prod"] == "pw-prod"
    assert evidence_filter.evidence_secret_names(both)[0] == "rollback_statuspage_api_key@staging"


def test_charts_the_soak_could_not_draw_are_listed(tmp_path):
    root = make_pack(tmp_path)
    fixtures.write_soak(root)
    verdict = json.loads((root / "soak" / "verdict.json").read_text())
    verdict["charts_missing"] = [{"signal": "db connections", "chart": "chart_db_connections.png",
                                  "reason": "no samples to draw"}]
    (root / "soak" / "verdict.json").write_text(json.dumps(verdict))
    result, failure = build(root)
    assert {"file": "soak/chart_db_connections.png", "reason": "the soak could not draw it: no samples to draw"} \
        in result["pictures_not_drawn"]
    assert "soak/chart_db_connections.png: the soak could not draw it" in (root / "report.html").read_text()


def test_a_moved_pack_still_links_its_rows_evidence(tmp_path):
    root = make_pack(tmp_path)
    moved = tmp_path / "moved" / "v3.7.0"
    shutil.copytree(str(root), str(moved))
    build(moved)
    html = (moved / "report.html").read_text()
    assert 'href="health_check.log"' in html and "outside the pack" not in html
