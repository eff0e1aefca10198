"""The playbooks through ``ansible-runner run``, as AWX runs a job: a private data dir with the
project (the repository's files, its tests left out), the inventory as AWX hands it to a job (the SCM source
imported with ``ansible-inventory --list --export``, served by an inventory script), the job
template's extra vars (roles/awx/vars/main.yml, rendered as the role sends them) with the survey
answers in env/extravars, and the collection found through ANSIBLE_COLLECTIONS_PATH in
env/envvars, as in the execution environment. The artifacts are read as AWX reads them: rc and
status, the job events, and the set_stats data of the playbook_on_stats event."""

import glob
import json
import os
import shutil
import subprocess
import sys

import jinja2
import pytest
import yaml

from tests.integration.conftest import ROOT
from tests.integration.soak_tsdb import BackfilledPrometheus, Layout

BIN = os.path.dirname(sys.executable)
RUNNER = os.path.join(BIN, "ansible-runner")


def _unsafe_loader():
    class Loader(yaml.SafeLoader):
        pass
    Loader.add_constructor("!unsafe", lambda loader, node: loader.construct_scalar(node))
    return Loader


def template_extra_vars(name, evidence_root):
    """A job template's extra_vars as the role sends them to AWX (awx_evidence_root rendered)."""
    data = yaml.load(open(os.path.join(ROOT, "roles", "awx", "vars", "main.yml")), Loader=_unsafe_loader())
    template = [t for t in data["awx_job_templates"] if t["name"] == name][0]
    context = {"awx_evidence_root": evidence_root}
    context["_awx_evidence_dir"] = jinja2.Template(data["_awx_evidence_dir"]).render(**context)
    rendered = {}
    for key, value in template["extra_vars"].items():
        # first the role's templating, then what is left is the job's (AWX allows Jinja in template extra_vars)
        rendered[key] = jinja2.Template(value).render(**context)
    return rendered


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    """The project as AWX syncs it, the collection as the execution environment holds it, and the
    local inventory as AWX imports an SCM inventory source."""
    base = tmp_path_factory.mktemp("awx")
    project_dir = base / "project"
    files = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                           capture_output=True, check=True).stdout.decode().split("\0")
    for name in filter(None, files):
        source = os.path.join(ROOT, name)
        if os.path.isfile(source) and not name.startswith("tests/"):
            os.makedirs(os.path.dirname(str(project_dir / name)), exist_ok=True)
            shutil.copy2(source, str(project_dir / name))
    collections = base / "collections" / "ansible_collections" / "solvereign"
    collections.mkdir(parents=True)
    os.symlink(ROOT, str(collections / "release_ops"))
    env = dict(os.environ, PATH=BIN + os.pathsep + os.environ["PATH"])
    env.pop("ANSIBLE_CONFIG", None)
    proc = subprocess.run([os.path.join(BIN, "ansible-inventory"), "-i", "inventories/local/hosts.yml", "--list",
                           "--export"], cwd=str(project_dir), env=env, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    return {"dir": str(project_dir), "collections": str(base / "collections"), "inventory": json.loads(proc.stdout)}


class Job(object):
    """One ansible-runner run and its artifacts."""

    def __init__(self, base, ident):
        self.dir = os.path.join(base, "artifacts", ident)
        self.rc = int(open(os.path.join(self.dir, "rc")).read())
        self.status = open(os.path.join(self.dir, "status")).read().strip()
        self.events = [json.load(open(path)) for path in
                       sorted(glob.glob(os.path.join(self.dir, "job_events", "*.json")),
                              key=lambda p: int(os.path.basename(p).split("-")[0]))]
        self.stdout = open(os.path.join(self.dir, "stdout")).read()

    @property
    def artifact_data(self):
        """What AWX stores as the job's artifacts and passes on to the next workflow nodes."""
        stats = [e for e in self.events if e["event"] == "playbook_on_stats"]
        assert len(stats) == 1, [e["event"] for e in self.events][-5:]
        return stats[0]["event_data"]["artifact_data"]

    def results_of(self, action):
        """The results of the task running ``action`` (item results of a loop), from the job events."""
        found = []
        for event in self.events:
            data = event.get("event_data", {})
            if event["event"] in ("runner_item_on_ok", "runner_item_on_failed") and data.get("task_action") == action:
                found.append(data["res"])
        return found


def run_job(project, tmp_path, ident, playbook, template, answers, extra_vars=None, env=None):
    """``ansible-runner run`` in a fresh private data dir laid out as AWX lays it out."""
    base = tmp_path / ident
    (base / "inventory").mkdir(parents=True)
    (base / "env").mkdir()
    os.symlink(project["dir"], str(base / "project"))
    script = base / "inventory" / "hosts"
    script.write_text("#!%s\nimport sys\nsys.stdout.write(%r)\n" % (sys.executable, json.dumps(project["inventory"])))
    script.chmod(0o755)
    evidence_root = str(tmp_path / "evidence")
    variables = template_extra_vars(template, evidence_root) if template else {}
    variables.update(answers)
    variables.update(extra_vars or {})
    (base / "env" / "extravars").write_text(yaml.safe_dump(variables))
    envvars = {"ANSIBLE_COLLECTIONS_PATH": project["collections"], "ANSIBLE_NOCOLOR": "1"}
    for name, value in os.environ.items():
        if name.startswith("SOLVEREIGN_"):
            envvars[name] = value
    envvars.update(env or {})
    (base / "env" / "envvars").write_text(yaml.safe_dump(envvars))
    run_env = dict(os.environ, PATH=BIN + os.pathsep + os.environ["PATH"])
    run_env.pop("ANSIBLE_CONFIG", None)
    proc = subprocess.run([RUNNER, "run", str(base), "-p", playbook, "--ident", ident], env=run_env,
                          capture_output=True, text=True, timeout=600, check=False)
    job = Job(str(base), ident)
    job.runner_rc = proc.returncode
    job.evidence_root = evidence_root
    return job


LOCAL_RELEASE = {"solvereign_release_version": "3.7.0", "solvereign_release_tag": "v3.7.0",
                 "solvereign_release_commit": "9462247"}


def checklist_rows(job):
    """The rows the checklist writer got, from the job events (its loop item's rows)."""
    results = job.results_of("solvereign.release_ops.checklist_write")
    assert len(results) == 1, [e.get("event_data", {}).get("task_action") for e in job.events][-40:]
    return results[0]["item"]["rows"], results[0]


def test_verify_through_ansible_runner_passes_with_its_checklist_and_set_stats(project, tmp_path, stack, fresh_metrics):
    job = run_job(project, tmp_path, "verify-healthy", "playbooks/verify.yml", "SOLVEREIGN verify", LOCAL_RELEASE)
    assert (job.rc, job.status, job.runner_rc) == (0, "successful", 0), job.stdout[-3000:]
    evidence = os.path.join(job.evidence_root, "local", "v3.7.0")
    checklist = json.load(open(os.path.join(evidence, "checklist.json")))
    assert checklist["verdict"] == "PASS"
    rows, written = checklist_rows(job)
    assert sorted((r["id"], r["status"]) for r in rows) == sorted((r["id"], r["status"]) for r in checklist["checks"])
    assert {"1.1", "1.2", "2.1", "3.1", "4.1", "6.1", "7.2"} <= set(r["id"] for r in rows)
    assert written["verdict"] == "PASS" and "| 1.1 |" in written["markdown"]
    stats = job.artifact_data
    assert stats["verify_verdict"] == "PASS"
    assert stats["verify_counts"] == checklist["counts"]
    assert stats["verify_checklist_path"] == os.path.join(evidence, "checklist.json")
    assert stats["verify_environments"] == ["local"]
    assert stats["evidence_json"] == os.path.join(evidence, "evidence.json") and stats["evidence_secret_scan"] == "PASS"
    # secrets stay out of what AWX stores
    secret = stack.env()["login_password"]
    events_text = open(os.path.join(job.dir, "stdout")).read() + json.dumps(job.events)
    assert secret and secret not in events_text


def test_a_faulted_verify_fails_and_hands_over_fail(project, tmp_path, api_faults):
    api_faults("wrong_version")
    job = run_job(project, tmp_path, "verify-faulted", "playbooks/verify.yml", "SOLVEREIGN verify", LOCAL_RELEASE,
                  extra_vars={"evidence_enabled": False})
    assert job.rc != 0 and job.status == "failed", job.stdout[-3000:]
    rows, _written = checklist_rows(job)
    statuses = dict((r["id"], r["status"]) for r in rows)
    assert statuses["1.2"] == "FAIL" and statuses["2.1"] == "PASS"
    stats = job.artifact_data
    assert stats["verify_verdict"] == "FAIL" and stats["verify_counts"]["FAIL"] >= 1
    assert "Verdict FAIL" in job.stdout
    # The workflow's evidence node after it: the pack is written, and with evidence_fail_on_verdict the
    # node fails on the FAIL checklist, so that the workflow ends failed; the plain template passes.
    for ident, extra, rc in (("evidence-node", {"evidence_fail_on_verdict": True}, 2), ("evidence-plain", {}, 0)):
        evidence = run_job(project, tmp_path, ident, "playbooks/evidence.yml", "SOLVEREIGN evidence",
                           LOCAL_RELEASE, extra_vars=dict(stats, **extra))
        assert evidence.rc == rc, evidence.stdout[-3000:]
        assert evidence.artifact_data["evidence_json"] == os.path.join(job.evidence_root, "local", "v3.7.0",
                                                                       "evidence.json")
        assert os.path.exists(evidence.artifact_data["evidence_json"])


@pytest.fixture(scope="module")
def backfilled(tmp_path_factory):
    prometheus = BackfilledPrometheus(tmp_path_factory.mktemp("runner-tsdb"),
                                      layout=Layout(names=("healthy", "5xx_6pct_6min", "5xx_0.8pct_20min")))
    try:
        prometheus.start()
    except (RuntimeError, OSError) as exc:
        pytest.fail("the backfilled Prometheus did not start: %s" % exc, pytrace=False)
    yield prometheus
    prometheus.stop()


def soak(project, tmp_path, backfilled, scenario):
    start, _end = backfilled.layout.window(scenario)
    answers = dict(LOCAL_RELEASE, soak_mode="retrospective", soak_start=str(int(start)), soak_duration="2h")
    return run_job(project, tmp_path, "soak-" + scenario.replace(".", "_"), "playbooks/soak.yml", "SOLVEREIGN soak",
                   answers, extra_vars={"soak_auto_rollback": False, "solvereign_prometheus_url": backfilled.url,
                                        "solvereign_sentry_url": "", "solvereign_log_containers": [],
                                        "soak_variables": {"containers": ["solvereign-api"]}, "soak_charts": False,
                                        "evidence_enabled": False})


@pytest.mark.parametrize("scenario, verdict", [("healthy", "PASS"), ("5xx_6pct_6min", "ROLLBACK"),
                                               ("5xx_0.8pct_20min", "FAIL")])
def test_a_retrospective_soak_hands_its_verdict_to_the_rollback_node(project, tmp_path, backfilled, scenario, verdict, stack):
    job = soak(project, tmp_path, backfilled, scenario)
    assert (job.rc == 0) == (verdict == "PASS") and job.status == ("successful" if verdict == "PASS" else "failed"), \
        job.stdout[-3000:]
    stats = job.artifact_data
    assert stats["soak_verdict"] == verdict
    assert stats["soak_environment"] == "local"
    verdict_json = json.load(open(stats["soak_verdict_path"]))
    assert verdict_json["verdict"] == verdict and stats["soak_reasons"] == verdict_json["reasons"]
    if verdict == "PASS":
        return
    # The workflow's next node: the rollback template with the node's extra_data and the soak's artifacts.
    answers = {"solvereign_release_tag": "v3.7.0", "rollback_compose_dir": "", "rollback_confirm": ""}
    rollback = run_job(project, tmp_path, "rollback-after-" + scenario.replace(".", "_"), "playbooks/rollback.yml",
                       "SOLVEREIGN rollback", answers,
                       extra_vars=dict(stats, rollback_soak_gate=True,
                                       rollback_reason="The soak's verdict in the release workflow"))
    result = os.path.join(rollback.evidence_root, "local", "v3.7.0", "rollback", "result.json")
    if verdict == "ROLLBACK":
        # it acts: here the pre-flight refuses (no compose project), which proves the gate let it through
        assert rollback.rc != 0, rollback.stdout[-3000:]
        assert "rollback_compose_dir is empty" in json.load(open(result))["refused"]
        assert rollback.artifact_data["rollback"]["refused"]
    else:
        assert (rollback.rc, rollback.status) == (0, "successful"), rollback.stdout[-3000:]
        messages = [e["event_data"]["res"].get("msg", "") for e in rollback.events if e["event"] == "runner_on_ok"]
        assert any("the soak's verdict is FAIL, not ROLLBACK. Nothing was changed." in str(m) for m in messages)
        assert not os.path.exists(result) and "rollback" not in rollback.artifact_data
