"""The collection as its users get it: ``ansible-galaxy collection build`` of this checkout, the
tarball installed offline into a temporary collections path, ``ansible-doc`` rendering every module
and role from there, and ``ansible-playbook solvereign.release_ops.verify`` run from a directory
outside the checkout against the reference stack.

Every ansible command here runs with a temporary ansible.cfg whose collections path is ONLY the
temporary one (the checkout's ansible.cfg would find the checkout through .collections), without
scanning sys.path, from a temporary working directory.
"""

import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile

import pytest
import yaml

from tests.integration.conftest import ROOT

BIN = os.path.dirname(sys.executable)
GALAXY = yaml.safe_load(open(os.path.join(ROOT, "galaxy.yml")))
FQCN = "%s.%s" % (GALAXY["namespace"], GALAXY["name"])
TARBALL = "%s-%s-%s.tar.gz" % (GALAXY["namespace"], GALAXY["name"], GALAXY["version"])
MODULES = sorted(os.path.splitext(os.path.basename(p))[0] for p in glob.glob(os.path.join(ROOT, "plugins", "modules", "*.py"))
                 if not os.path.basename(p).startswith("_"))
ROLES = sorted(os.path.basename(os.path.dirname(os.path.dirname(p)))
               for p in glob.glob(os.path.join(ROOT, "roles", "*", "meta", "argument_specs.yml")))
OLD_TARBALL = "%s-%s-0.0.1.tar.gz" % (GALAXY["namespace"], GALAXY["name"])
# What a used checkout holds besides the collection (file planted -> what must not be in the tarball):
# venvs, the .collections link, evidence and its archives, tests' and tools' state and caches.
JUNK = {
    ".venv/bin/python": ".venv",
    ".collections/ansible_collections/solvereign/release_ops": ".collections",
    ".pytest_cache/v/cache/lastfailed": ".pytest_cache",
    "tests/integration/.pytest_cache/v/cache/lastfailed": "tests/integration/.pytest_cache",
    "plugins/module_utils/__pycache__/result.cpython-311.pyc": "plugins/module_utils/__pycache__",
    "plugins/modules/stale.pyc": "plugins/modules/stale.pyc",
    "release_evidence/v3.7.0/checklist.json": "release_evidence",
    "release_evidence_v3.7.0_20261201.zip": "release_evidence_v3.7.0_20261201.zip",
    "evidence/v3.7.0/release_evidence_v3.7.0_20261201.zip": "evidence/v3.7.0/release_evidence_v3.7.0_20261201.zip",
    "tests/output/junit/python-sanity.xml": "tests/output",
    ".stack/env.json": ".stack",
    ".ansible/tmp/state.json": ".ansible",
    "extensions/.ansible/tmp/state.json": "extensions/.ansible",
    "changelogs/.plugin-cache.yaml": "changelogs/.plugin-cache.yaml",
    OLD_TARBALL: OLD_TARBALL,
}


def run(cmd, cwd, env, timeout=300):
    proc = subprocess.run(cmd, cwd=str(cwd), env=env, capture_output=True, text=True, timeout=timeout, check=False)
    proc.output = proc.stdout + proc.stderr
    return proc


def isolated_env(workdir, collections):
    """An environment whose ansible sees only ``collections``."""
    cfg = os.path.join(str(workdir), "ansible.cfg")
    with open(cfg, "w") as handle:
        handle.write("[defaults]\ncollections_path = %s\ncollections_scan_sys_path = False\n"
                     "retry_files_enabled = False\nhost_key_checking = False\n"
                     "[inventory]\nhost_pattern_mismatch = ignore\n" % collections)
    env = dict((k, v) for k, v in os.environ.items() if not k.startswith("ANSIBLE_"))
    env.update(ANSIBLE_CONFIG=cfg, ANSIBLE_COLLECTIONS_PATH=str(collections), ANSIBLE_NOCOLOR="1",
               ANSIBLE_FORCE_COLOR="0", PATH=BIN + os.pathsep + os.environ["PATH"])
    env.pop("PYTHONPATH", None)
    return env


def build(source, output, env):
    proc = run([os.path.join(BIN, "ansible-galaxy"), "collection", "build", "--output-path", str(output), str(source)],
               cwd=output, env=env)
    assert proc.returncode == 0, proc.output[-3000:]
    tarball = os.path.join(str(output), TARBALL)
    assert os.path.isfile(tarball), proc.output[-3000:]
    with tarfile.open(tarball) as tar:
        return tarball, sorted(m.name for m in tar.getmembers())


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    path = tmp_path_factory.mktemp("installed")
    assert not str(path).startswith(ROOT + os.sep)
    return path


@pytest.fixture(scope="module")
def env(workdir):
    collections = workdir / "collections"
    collections.mkdir()
    return isolated_env(workdir, collections)


@pytest.fixture(scope="module")
def built(workdir, env):
    output = workdir / "build"
    output.mkdir()
    return build(ROOT, output, env)


@pytest.fixture(scope="module")
def installed(built, workdir, env):
    tarball, _members = built
    proc = run([os.path.join(BIN, "ansible-galaxy"), "collection", "install", "--offline", tarball,
                "-p", str(workdir / "collections")], cwd=workdir, env=env)
    assert proc.returncode == 0, proc.output[-3000:]
    path = str(workdir / "collections" / "ansible_collections" / GALAXY["namespace"] / GALAXY["name"])
    assert os.path.isfile(os.path.join(path, "MANIFEST.json")) and not os.path.islink(path)
    return path


def test_the_tarball_holds_the_collection_and_none_of_the_checkouts_state(built):
    _tarball, members = built
    for required in ("MANIFEST.json", "FILES.json", "README.md", "meta/runtime.yml", "playbooks/verify.yml",
                     "playbooks/soak.yml", "playbooks/rollback.yml", "playbooks/hotfix.yml", "playbooks/evidence.yml",
                     "inventories/local/hosts.yml", "roles/soak/files/runbook_policy.yml"):
        assert required in members
    assert ["plugins/modules/%s.py" % m in members for m in MODULES] == [True] * len(MODULES)
    assert ["roles/%s/meta/argument_specs.yml" % r in members for r in ROLES] == [True] * len(ROLES)
    unwanted = re.compile(r"(^|/)(\.venv|\.collections|release_evidence|\.pytest_cache|__pycache__|\.ansible|"
                          r"\.stack|\.cache|\.tox|\.git)(/|$)|\.(pyc|zip|tar\.gz)$|^tests/output(/|$)")
    assert [m for m in members if unwanted.search(m)] == []


def test_build_ignores_what_a_used_checkout_accumulates(workdir, env):
    """A copy of the checkout with the state that tests, demos and tools leave behind: none of it is built in."""
    source = workdir / "dirty" / "release_ops"
    shutil.copytree(ROOT, str(source), symlinks=True,
                    ignore=shutil.ignore_patterns(".git", ".venv", ".collections", "release_evidence", "__pycache__",
                                                  ".pytest_cache", ".ansible"))
    for junk in JUNK:
        path = source / junk
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("state\n")
    output = workdir / "dirty" / "build"
    output.mkdir()
    _tarball, members = build(source, output, env)
    assert [root for root in sorted(set(JUNK.values()))
            if root in members or any(m.startswith(root + "/") for m in members)] == []
    assert "plugins/modules/http_check.py" in members and "tests/integration/conftest.py" in members


def test_every_module_and_role_renders_with_ansible_doc_from_the_installed_copy(installed, workdir, env):
    assert sorted(os.path.splitext(n)[0] for n in os.listdir(os.path.join(installed, "plugins", "modules"))
                  if n.endswith(".py") and not n.startswith("_")) == MODULES
    doc = os.path.join(BIN, "ansible-doc")
    modules = ["%s.%s" % (FQCN, m) for m in MODULES]
    roles = ["%s.%s" % (FQCN, r) for r in ROLES]

    text = run([doc, "-t", "module"] + modules, cwd=workdir, env=env)
    assert text.returncode == 0 and "[ERROR]" not in text.output and "was not found" not in text.output, \
        text.output[-3000:]
    for name, module in zip(modules, MODULES):
        header = "> MODULE %s (%s)" % (name, os.path.join(installed, "plugins", "modules", module + ".py"))
        assert header in text.stdout, name
    as_json = run([doc, "-t", "module", "--json"] + modules, cwd=workdir, env=env)
    assert as_json.returncode == 0, as_json.output[-3000:]
    docs = json.loads(as_json.stdout)
    assert sorted(docs) == sorted(modules)
    for name in modules:
        entry = docs[name]["doc"]
        assert entry["short_description"] and entry["description"] and entry["filename"].startswith(installed + os.sep)
        assert docs[name]["examples"] and docs[name]["return"] is not None, name

    text = run([doc, "-t", "role"] + roles, cwd=workdir, env=env)
    assert text.returncode == 0 and "[ERROR]" not in text.output and "was not found" not in text.output, \
        text.output[-3000:]
    for name in roles:
        assert "> ROLE: *%s* (%s)" % (name, installed) in text.stdout, name
    as_json = run([doc, "-t", "role", "--json"] + roles, cwd=workdir, env=env)
    assert as_json.returncode == 0, as_json.output[-3000:]
    docs = json.loads(as_json.stdout)
    assert sorted(docs) == sorted(roles)
    assert [name for name in roles if not docs[name]["entry_points"]["main"].get("short_description")] == []


def test_an_unknown_name_is_not_rendered(installed, workdir, env):
    proc = run([os.path.join(BIN, "ansible-doc"), "-t", "module", "%s.no_such_module" % FQCN], cwd=workdir, env=env)
    assert "%s.no_such_module was not found" % FQCN in proc.output


def test_the_collection_list_names_only_the_installed_copy(installed, workdir, env):
    proc = run([os.path.join(BIN, "ansible-galaxy"), "collection", "list", FQCN, "--format", "json"], cwd=workdir,
               env=env)
    assert proc.returncode == 0, proc.output[-3000:]
    listed = json.loads(proc.stdout)
    assert list(listed) == [os.path.dirname(os.path.dirname(installed))]
    assert listed[os.path.dirname(os.path.dirname(installed))][FQCN]["version"] == GALAXY["version"]


def test_verify_from_the_installed_copy_passes_against_the_reference_stack(fresh_metrics, installed, workdir, env):
    evidence = workdir / "evidence"
    operator = workdir / "operator"
    operator.mkdir()
    proc = run([os.path.join(BIN, "ansible-playbook"), "%s.verify" % FQCN, "-vv",
                "-i", os.path.join(installed, "inventories", "local"),
                "-e", json.dumps({"solvereign_evidence_dir": str(evidence)})], cwd=operator, env=env, timeout=600)
    assert "Traceback (most recent call last)" not in proc.output
    checklist = json.load(open(str(evidence / "checklist.json")))
    assert checklist["verdict"] == "PASS", [(r["id"], r["status"], r["summary"]) for r in checklist["checks"]
                                            if r["status"] not in ("PASS", "WARN", "SKIP")]
    assert proc.returncode == 0, proc.output[-3000:]
    assert [r["id"] for r in checklist["checks"] if r["status"] == "FAIL"] == []
    # The playbook and every role's tasks came from the installed copy, nothing from the checkout.
    task_paths = re.findall(r"^task path: (\S+?):\d+$", proc.stdout, re.M)
    assert task_paths and all(p.startswith(installed + os.sep) for p in task_paths), sorted(set(task_paths))[:10]
    # Roles that run tasks (preflight) and the play whose one task plans every section from the
    # section roles' files next to its action plugin, both of the installed copy.
    assert any("/roles/preflight/" in p for p in task_paths)
    assert any(p.endswith("/playbooks/verify_environment.yml") for p in task_paths)
    # The only paths of the checkout in the output are its venv's (the Python that runs ansible).
    mentioned = set(re.findall(re.escape(ROOT) + r"[^\s'\",)]*", proc.output))
    assert [p for p in mentioned if not p.startswith(os.path.join(ROOT, ".venv"))] == []
