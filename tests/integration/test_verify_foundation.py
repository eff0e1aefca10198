"""verify.yml, sections 1-2, against the real reference stack."""

import json
import os
import socket
import threading

from .conftest import assert_no_traceback, closed_port

SECTIONS_1_2 = ["--tags", "fingerprint,health"]


def test_healthy_stack_passes(fresh_metrics, verify):
    run = verify()
    assert run.checklist is not None, run.output[-3000:]
    assert run.checklist["verdict"] == "PASS", json.dumps(run.checklist, indent=1)
    for check_id in ("1.1", "1.2", "2.1"):
        assert run.status(check_id) == "PASS", run.row(check_id)
    assert run.rc == 0, run.output[-3000:]
    assert len(run.row("2.1")["findings"]) == 3
    for name in ("checklist.md", "junit.xml"):
        assert os.path.getsize(os.path.join(run.evidence_dir, name)) > 0
    assert "| 2.1 | local | Staging health | [x] PASS |" in open(os.path.join(run.evidence_dir, "checklist.md")).read()


def test_check_mode_runs_the_checks_and_writes_the_checklist(stack, verify):
    run = verify(args=["--check"] + SECTIONS_1_2)
    assert run.rc == 0, run.output[-3000:]
    assert run.status("1.2") == "PASS" and run.status("2.1") == "PASS"


def test_wrong_version_fails_row_1_2_only(api_faults, verify):
    api_faults("wrong_version")
    run = verify(args=SECTIONS_1_2)
    assert run.status("1.2") == "FAIL"
    assert "3.6.2" in run.row("1.2")["summary"]
    assert run.status("1.1") == "PASS" and run.status("2.1") == "PASS"
    assert run.checklist["verdict"] == "FAIL"
    assert run.rc != 0
    assert "DO NOT proceed" in " ".join(run.row("1.2")["advice"])


def test_ready_503_fails_row_2_1(api_faults, verify):
    api_faults("ready_503")
    run = verify(args=SECTIONS_1_2)
    row = run.row("2.1")
    assert row["status"] == "FAIL"
    assert [f["status"] for f in row["findings"]] == ["PASS", "FAIL", "PASS"]
    assert "/api/health/ready" in row["summary"] and "503" in row["summary"]
    assert run.status("1.2") == "PASS"
    assert run.rc != 0


def test_health_not_json_is_error_for_the_version_row(api_faults, verify):
    api_faults("health_not_json")
    run = verify(args=SECTIONS_1_2)
    assert run.status("1.2") == "ERROR"
    assert "expected a JSON body" in run.row("1.2")["summary"]
    assert_no_traceback(run)


def test_tag_on_another_commit_fails_row_1_1(origin_faults, verify):
    origin_faults("tag_wrong_commit")
    run = verify(args=SECTIONS_1_2)
    row = run.row("1.1")
    assert row["status"] == "FAIL"
    assert [f["name"] for f in row["findings"] if f["status"] == "FAIL"] == ["commit"]
    assert run.status("1.2") == "PASS"


def test_missing_tag_fails_row_1_1(origin_faults, verify):
    origin_faults("tag_missing")
    run = verify(args=SECTIONS_1_2)
    assert run.status("1.1") == "FAIL"
    assert "does not exist" in run.row("1.1")["summary"]


def test_unreachable_url_gives_error_rows_and_a_checklist(stack, verify):
    run = verify(env={"SOLVEREIGN_URL": "http://127.0.0.1:%d" % closed_port()}, args=SECTIONS_1_2)
    assert run.checklist is not None
    assert run.status("1.2") == "ERROR" and run.status("2.1") == "ERROR"
    assert "cannot connect" in run.row("2.1")["summary"]
    assert run.status("1.1") == "PASS"
    assert run.checklist["verdict"] == "FAIL" and run.rc != 0
    assert_no_traceback(run)


def test_hanging_service_times_out_as_error(stack, verify):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    accepted = []
    stop = threading.Event()

    def accept():  # accept connections and never answer
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except socket.timeout:
                continue
    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        url = "http://127.0.0.1:%d" % listener.getsockname()[1]
        run = verify(env={"SOLVEREIGN_URL": url}, extra_vars={"solvereign_http_timeout": 1}, args=SECTIONS_1_2)
    finally:
        stop.set()
        thread.join()
        for conn in accepted:
            conn.close()
        listener.close()
    assert run.status("2.1") == "ERROR"
    assert "no answer within 1.0s" in run.row("2.1")["summary"]
    assert run.rc != 0


def test_malformed_url_is_named_before_any_check(stack, verify):
    run = verify(env={"SOLVEREIGN_URL": "staging.solvereign.example.com"})
    assert run.rc != 0
    assert "is not a valid URL" in run.output
    assert run.checklist is None
    assert_no_traceback(run)


def write_inventory(base, groups, host_vars_file=None):
    """An inventory in ``base`` with one local host per group; ``groups`` maps group -> vars."""
    os.makedirs(os.path.join(base, "group_vars"), exist_ok=True)
    lines = ["solvereign:", "  children:"]
    for group in groups:
        lines += ["    %s:" % group, "      hosts:",
                  "        %s-host:" % group, "          ansible_connection: local",
                  "          ansible_python_interpreter: '{{ ansible_playbook_python }}'"]
    with open(os.path.join(base, "hosts.yml"), "w") as handle:
        handle.write("\n".join(lines) + "\n")
    for group, variables in groups.items():
        with open(os.path.join(base, "group_vars", "%s.yml" % group), "w") as handle:
            json.dump(variables, handle)
    return str(base)


def env_vars(stack, environment, **overrides):
    info = stack.env()
    out = {"solvereign_environment": environment, "solvereign_url": info["api_url"],
           "solvereign_release_version": "3.7.0", "solvereign_release_commit": info["release_commit"][:7],
           "solvereign_git_repo": info["origin"]}
    out.update(overrides)
    return out


def test_missing_variable_is_named(stack, verify, tmp_path):
    variables = env_vars(stack, "staging")
    del variables["solvereign_url"]
    inventory = write_inventory(tmp_path / "inv", {"staging": variables})
    run = verify(inventories=[inventory])
    assert run.rc != 0
    assert "solvereign_url" in run.output and "missing" in run.output.lower()
    assert run.checklist is None
    assert_no_traceback(run)


def test_single_host_with_group_vars_all(stack, verify, tmp_path):
    base = tmp_path / "simple"
    os.makedirs(base / "group_vars")
    (base / "hosts.ini").write_text("[solvereign]\nweb01 ansible_connection=local\n")
    (base / "group_vars" / "all.yml").write_text(json.dumps(env_vars(stack, "staging")))
    run = verify(inventories=[str(base / "hosts.ini")], args=SECTIONS_1_2)
    assert run.rc == 0, run.output[-3000:]
    assert run.status("1.2", "staging") == "PASS" and run.status("2.1", "staging") == "PASS"


def test_prod_waits_for_staging(stack, verify, tmp_path):
    staging = write_inventory(tmp_path / "staging", {"staging": env_vars(stack, "staging", solvereign_release_version="3.7.9")})
    prod = write_inventory(tmp_path / "prod", {"prod": env_vars(stack, "prod")})
    run = verify(inventories=[staging, prod], args=SECTIONS_1_2)
    assert run.status("1.2", "staging") == "FAIL"
    for check_id in ("1.1", "1.3", "2.2"):
        row = run.row(check_id, "prod")
        assert row["status"] == "SKIP", row
        assert "staging" in row["summary"] and "DO NOT proceed" in row["summary"]
    assert run.rc != 0


def test_prod_runs_after_staging_passes(stack, verify, tmp_path):
    staging = write_inventory(tmp_path / "staging", {"staging": env_vars(stack, "staging")})
    prod = write_inventory(tmp_path / "prod", {"prod": env_vars(stack, "prod")})
    run = verify(inventories=[staging, prod], args=SECTIONS_1_2)
    assert run.rc == 0, run.output[-3000:]
    assert run.status("1.3", "prod") == "PASS" and run.status("2.2", "prod") == "PASS"
    assert run.row("2.2", "prod")["title"] == "Prod health"
    assert run.status("1.2", "staging") == "PASS"


def test_unloaded_vault_variable_is_named(stack, verify, tmp_path):
    variables = env_vars(stack, "staging", solvereign_url="{{ vault_solvereign_url }}", solvereign_release_version="")
    inventory = write_inventory(tmp_path / "inv", {"staging": variables})
    run = verify(inventories=[inventory])
    assert run.rc != 0
    assert "solvereign_url (it refers to vault_solvereign_url, which is not defined" in " ".join(run.output.split())
    assert "empty: solvereign_release_version" in run.output
    assert run.checklist is None
    assert_no_traceback(run)


def local_environment(base, environment):
    """An inventory whose one environment is the reference stack under another name."""
    os.makedirs(os.path.join(base, "group_vars"), exist_ok=True)
    source = open(os.path.join(os.path.dirname(__file__), "..", "..", "inventories", "local", "group_vars",
                               "local.yml")).read()
    assert "\nsolvereign_environment: local\n" in source
    with open(os.path.join(base, "group_vars", "%s.yml" % environment), "w") as handle:
        handle.write(source.replace("\nsolvereign_environment: local\n", "\nsolvereign_environment: %s\n" % environment))
    with open(os.path.join(base, "hosts.yml"), "w") as handle:
        handle.write("solvereign:\n  children:\n    %s:\n      hosts:\n        %s-host:\n"
                     "          ansible_connection: local\n"
                     "          ansible_python_interpreter: '{{ ansible_playbook_python }}'\n" % (environment, environment))
    return str(base)


def test_two_environments_keep_their_own_evidence(stack, verify, tmp_path):
    inventories = [local_environment(tmp_path / name, name) for name in ("staging", "qa")]
    run = verify(inventories=inventories, args=["--tags", "auth,webhooks,database"])
    assert run.rc == 0, run.output[-3000:]
    evidence = run.evidence_dir
    assert os.path.isfile(os.path.join(evidence, "checklist.json"))
    expected = ("auth_smoke.log", "login_smoke.png", "webhook_signature_reject.log", "migrations_applied.log",
                "rls_verify.log", "rbac_integrity.log", "tenant_isolation.log")
    for environment in ("staging", "qa"):
        for name in expected:
            path = os.path.join(evidence, environment, name)
            assert os.path.getsize(path) > 0, path
        # Each row names the evidence file of its own environment.
        for check_id in ("4.1", "4.4", "5.2", "6.1", "6.2"):
            files = run.row(check_id, environment).get("evidence")
            assert files and all(f.startswith(os.path.join(evidence, environment) + os.sep) for f in files), files
    # Nothing of a single-environment layout (besides the evidence pack), and no temporary file left behind.
    leftovers = [n for n in os.listdir(evidence) if n not in ("checklist.json", "checklist.md", "junit.xml",
                                                              "report.html", "evidence.json", "MANIFEST.sha256",
                                                              "staging", "qa")]
    assert leftovers == [], leftovers
    for environment in ("staging", "qa"):
        assert not [n for n in os.listdir(os.path.join(evidence, environment)) if n.endswith(".tmp")]
    log = open(os.path.join(evidence, "staging", "auth_smoke.log")).read()
    assert stack.env()["login_password"] not in log


def test_the_pack_of_several_environments_is_scanned_for_the_secrets_of_each(stack, verify, tmp_path):
    """The pack is assembled by the first host of the evidence dir; the secrets it is scanned for are
    every verified host's, here one only the second environment has."""
    inventories = [local_environment(tmp_path / name, name) for name in ("staging", "qa")]
    secret = "qa-grafana-token-6f1d0c9e"
    with open(os.path.join(inventories[1], "group_vars", "qa.yml"), "a") as handle:
        handle.write("solvereign_grafana_token: %s\n" % secret)
    evidence = tmp_path / "evidence"
    os.makedirs(str(evidence / "qa"))
    with open(str(evidence / "qa" / "notes.txt"), "w") as handle:
        handle.write("pasted by mistake: %s\n" % secret)
    run = verify(inventories=inventories, evidence_dir=evidence, args=["--tags", "fingerprint"])
    assert run.rc != 0
    assert "qa/notes.txt contains solvereign_grafana_token@qa (plain)" in run.output, run.output[-3000:]
    assert secret not in run.output
    # The checklist covers both environments; the pack was assembled once, beside it.
    assert run.status("1.1", "staging") == "PASS" and run.status("1.1", "qa") == "PASS"
    with open(str(evidence / "evidence.json")) as handle:
        assert json.load(handle)["secret_scan"]["findings"] == [
            {"file": "qa/notes.txt", "variable": "solvereign_grafana_token@qa", "encoding": "plain"}]


def test_one_environment_keeps_the_runbook_names_beside_the_checklist(stack, verify):
    run = verify(args=["--tags", "auth"])
    assert os.path.getsize(os.path.join(run.evidence_dir, "login_smoke.png")) > 0
    assert run.row("4.4")["evidence"] == [os.path.join(run.evidence_dir, "login_smoke.png")]
    assert run.row("4.1")["evidence"] == [os.path.join(run.evidence_dir, "auth_smoke.log")]
