"""execution-environment.yml: ``ansible-builder create`` writes the build context (the image build
needs registries this machine cannot reach), and the context carries what the playbooks need: the
runtime and optional Python packages, the system packages for Debian and Red Hat based images,
the collections of collections/requirements.yml, and this collection's own tarball."""

import json
import os
import re
import shutil
import subprocess
import sys
import tarfile

import pytest
import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.dirname(sys.executable)
# Optional at run time, used by the checks: 4.4, 5.2's signed probes, the evidence pictures, the soak charts.
OPTIONAL = ("cryptography", "pillow", "matplotlib")
# Executables the modules and roles call, by the package that brings them on each platform.
SYSTEM = {"git": ("git", "git"), "ssh-keygen": ("openssh-client", "openssh-clients"),
          "psql": ("postgresql-client", "postgresql"), "chromium": ("chromium", "chromium"),
          "docker": ("docker.io", "docker-ce-cli"),
          "compose": ("docker-compose", "docker-compose-plugin"), "fonts": ("fonts-dejavu-core", "dejavu-sans-fonts")}


def requirement_lines(path):
    return [line.strip() for line in open(path) if line.strip() and not line.startswith("#")]


def requirement_name(line):
    return re.split(r"[<>=!~ \[]", line, 1)[0].lower()


def bindep_packages(text, platform):
    found = set()
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        name, _sep, profiles = line.partition("[")
        tags = profiles.rstrip("]").split()
        platforms = [t for t in tags if t.startswith("platform:")]
        if not platforms or "platform:" + platform in platforms:
            found.add(name.strip())
    return found


def context_problems(context):
    """What the build context lacks, as text (empty when it carries everything)."""
    problems = []
    containerfile = open(os.path.join(context, "Containerfile")).read()
    build = os.path.join(context, "_build")
    python = requirement_lines(os.path.join(build, "requirements.txt")) if os.path.exists(
        os.path.join(build, "requirements.txt")) else []
    wanted = [line for line in requirement_lines(os.path.join(ROOT, "requirements.txt"))
              if requirement_name(line) != "ansible-core"]
    wanted += [line for line in requirement_lines(os.path.join(ROOT, "requirements-test.txt"))
               if requirement_name(line) in OPTIONAL]
    for line in wanted:
        if line not in python:
            problems.append("python: %s is not in _build/requirements.txt" % line)
    core = [line for line in requirement_lines(os.path.join(ROOT, "requirements.txt"))
            if requirement_name(line) == "ansible-core"][0]
    if 'ARG ANSIBLE_INSTALL_REFS="%s ' % core not in containerfile:
        problems.append("ansible-core: %s is not what the image installs" % core)
    bindep = open(os.path.join(build, "bindep.txt")).read() if os.path.exists(os.path.join(build, "bindep.txt")) else ""
    for what, (debian, redhat) in sorted(SYSTEM.items()):
        if debian not in bindep_packages(bindep, "dpkg"):
            problems.append("system: %s (%s) is not in bindep.txt for dpkg" % (what, debian))
        if redhat not in bindep_packages(bindep, "rpm"):
            problems.append("system: %s (%s) is not in bindep.txt for rpm" % (what, redhat))
    galaxy = os.path.join(build, "requirements.yml")
    if not os.path.exists(galaxy) or "ansible-galaxy collection install" not in containerfile:
        problems.append("galaxy: the collections of collections/requirements.yml are not installed")
    elif open(galaxy).read() != open(os.path.join(ROOT, "collections", "requirements.yml")).read():
        problems.append("galaxy: _build/requirements.yml is not collections/requirements.yml")
    tarballs = os.listdir(os.path.join(build, "collection")) if os.path.isdir(
        os.path.join(build, "collection")) else []
    if len(tarballs) != 1 or "/tmp/solvereign-collection/*.tar.gz" not in containerfile:
        problems.append("collection: solvereign.release_ops is not installed into the image")
    return problems


@pytest.fixture(scope="module")
def context(tmp_path_factory):
    """The collection tarball (as `make ee-context` builds it) and ``ansible-builder create``."""
    work = tmp_path_factory.mktemp("ee")
    definition = work / "definition"
    for name in ("execution-environment.yml", "bindep.txt", "collections/requirements.yml"):
        os.makedirs(str((definition / name).parent), exist_ok=True)
        shutil.copy2(os.path.join(ROOT, name), str(definition / name))
    proc = subprocess.run([os.path.join(BIN, "ansible-galaxy"), "collection", "build", "--force", "--output-path",
                           str(definition / ".ee" / "dist"), ROOT], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    return build(definition, work / "context")


def build(definition, context):
    proc = subprocess.run([os.path.join(BIN, "ansible-builder"), "create", "--file",
                           str(definition / "execution-environment.yml"), "--context", str(context),
                           "--output-filename", "Containerfile"], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return str(context)


def test_the_definition_is_ansible_builder_v3_with_its_dependencies_in_files():
    definition = yaml.safe_load(open(os.path.join(ROOT, "execution-environment.yml")))
    assert definition["version"] == 3
    assert definition["dependencies"]["system"] == "bindep.txt"
    assert definition["dependencies"]["galaxy"] == "collections/requirements.yml"
    requirements = yaml.safe_load(open(os.path.join(ROOT, "collections", "requirements.yml")))
    assert [c["name"] for c in requirements["collections"]] == ["awx.awx"]


def test_the_generated_context_carries_what_every_playbook_needs(context):
    assert context_problems(context) == []
    containerfile = open(os.path.join(context, "Containerfile")).read()
    assert containerfile.startswith('ARG EE_BASE_IMAGE="quay.io/ansible/awx-ee:')
    # EPEL and Docker's repository come before the system packages are installed
    assert containerfile.index("epel-release") < containerfile.index("install-from-bindep")
    assert "docker-ce.repo" in containerfile
    tarball = os.listdir(os.path.join(context, "_build", "collection"))[0]
    galaxy = yaml.safe_load(open(os.path.join(ROOT, "galaxy.yml")))
    assert tarball == "solvereign-release_ops-%s.tar.gz" % galaxy["version"]
    with tarfile.open(os.path.join(context, "_build", "collection", tarball)) as archive:
        manifest = json.load(archive.extractfile("MANIFEST.json"))
        names = archive.getnames()
    assert manifest["collection_info"]["namespace"] == "solvereign"
    assert "playbooks/verify.yml" in names and "roles/awx/vars/main.yml" in names
    assert not [n for n in names if n.startswith((".venv", ".collections", ".ee"))]


def test_the_galaxy_requirements_are_met_by_the_installed_awx_collection():
    requirements = yaml.safe_load(open(os.path.join(ROOT, "collections", "requirements.yml")))["collections"]
    manifest = os.path.join(ROOT, ".collections", "ansible_collections", "awx", "awx", "MANIFEST.json")
    version = json.load(open(manifest))["collection_info"]["version"]
    from ansible.galaxy.dependency_resolution.versioning import meets_requirements
    assert meets_requirements(version, requirements[0]["version"])


def test_a_definition_that_drops_a_dependency_is_caught(context, tmp_path):
    definition = tmp_path / "definition"
    shutil.copytree(os.path.join(os.path.dirname(context), "definition"), str(definition))
    data = yaml.safe_load(open(str(definition / "execution-environment.yml")))
    data["dependencies"]["python"] = [line for line in data["dependencies"]["python"] if "jmespath" not in line]
    (definition / "execution-environment.yml").write_text(yaml.safe_dump(data))
    text = (definition / "bindep.txt").read_text()
    (definition / "bindep.txt").write_text(text.replace("chromium [platform:rpm epel]\n", ""))
    problems = context_problems(build(definition, tmp_path / "context"))
    assert problems == ["python: jmespath>=1.0,<2 is not in _build/requirements.txt",
                        "system: chromium (chromium) is not in bindep.txt for rpm"]
