# -*- coding: utf-8 -*-
# Copyright: (c) 2026, SOLVEREIGN release engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE: the compose driver behind the compose_service module. Not a public interface.

- the ``docker compose`` v2 plugin when ``docker compose version`` answers, else the
  ``docker-compose`` v1 binary; every call through ``module.run_command`` with an argument list;
- the service's container found by the labels both versions set
  (``com.docker.compose.project`` / ``com.docker.compose.service``), inspected with ``docker inspect``;
- the user's compose files are never written: the image to run goes into a separate override
  file (``docker-compose.rollback.yml`` by default) passed with ``-f`` after the user's files,
  which works for a literal ``image:`` tag and for a tag taken from a variable in ``.env``;
- every command and its output is kept for the deploy log.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import re

try:
    import yaml
except ImportError:  # pragma: no cover - the plain-up image is then reported as unknown
    yaml = None

OVERRIDE_MARKER = "# Written by solvereign.release_ops.compose_service"
DEFAULT_OVERRIDE = "docker-compose.rollback.yml"
# The files compose reads when no -f is given, in its order of preference.
DEFAULT_FILES = ("compose.yaml", "compose.yml", "docker-compose.yaml", "docker-compose.yml")


class ComposeError(Exception):
    """A compose or docker call that failed; the message says what to check."""


def normalize_project_name(name):
    """A compose project name as compose derives it from a directory name."""
    return re.sub(r"[^-_a-z0-9]", "", (name or "").lower())


def read_env_file(path):
    """KEY=VALUE pairs of a compose ``.env`` file (comments and blank lines ignored)."""
    values = {}
    try:
        with open(path) as handle:
            lines = handle.read().splitlines()
    except (IOError, OSError):
        return values
    for line in lines:
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, value = line.split("=", 1)
        key = key.strip()
        if key.startswith("export "):
            key = key[len("export "):].strip()
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[key] = value
    return values


def default_files(project_src):
    """The compose file compose would pick in ``project_src`` plus its override file, if any."""
    for name in DEFAULT_FILES:
        path = os.path.join(project_src, name)
        if os.path.isfile(path):
            found = [path]
            stem, ext = os.path.splitext(name)
            for override in ("%s.override%s" % (stem, ext), "%s.override.yml" % stem, "%s.override.yaml" % stem):
                candidate = os.path.join(project_src, override)
                if os.path.isfile(candidate) and candidate not in found:
                    found.append(candidate)
                    break
            return found
    return []


def resolve_files(project_src, files):
    """Absolute paths of ``files`` (relative ones are relative to ``project_src``); defaults when empty."""
    if not files:
        found = default_files(project_src)
        if not found:
            raise ComposeError("no compose file in %s (looked for %s): set the compose files explicitly"
                               % (project_src, ", ".join(DEFAULT_FILES)))
        return found
    resolved = []
    for name in files:
        path = name if os.path.isabs(name) else os.path.join(project_src, name)
        if not os.path.isfile(path):
            raise ComposeError("compose file %s does not exist" % path)
        resolved.append(path)
    return resolved


def service_image_from_config(text, service):
    """The ``image`` of ``service`` in the output of ``compose config`` (None when unknown)."""
    if yaml is not None:
        try:
            data = yaml.safe_load(text) or {}
        except yaml.YAMLError:
            data = {}
        services = data.get("services") if isinstance(data, dict) else None
        if isinstance(services, dict) and isinstance(services.get(service), dict):
            image = services[service].get("image")
            return str(image) if image else None
        return None
    match = re.search(r"^  %s:\s*\n((?:    .*\n|\s*\n)*)" % re.escape(service), text, re.M)
    if match:
        image = re.search(r"^    image:\s*['\"]?([^'\"\s]+)", match.group(1), re.M)
        if image:
            return image.group(1)
    return None


def override_text(service, image, labels):
    """The override file: only the service's image (and the given labels)."""
    lines = [OVERRIDE_MARKER, "# The user's compose files are unchanged; pass this file last with -f to keep",
             "# running the image below.", "version: \"3.7\"", "services:", "  %s:" % service,
             "    image: %s" % json.dumps(image)]
    if labels:
        lines.append("    labels:")
        for key in sorted(labels):
            lines.append("      %s: %s" % (json.dumps(str(key)), json.dumps(str(labels[key]))))
    return "\n".join(lines) + "\n"


def container_summary(info):
    """The parts of ``docker inspect`` the module reports."""
    config = info.get("Config") or {}
    state = info.get("State") or {}
    return {
        "id": info.get("Id"),
        "name": (info.get("Name") or "").lstrip("/"),
        "image": config.get("Image"),
        "image_id": info.get("Image"),
        "state": state.get("Status"),
        "running": bool(state.get("Running")),
        "started_at": state.get("StartedAt"),
        "created": info.get("Created"),
        "labels": config.get("Labels") or {},
    }


class ComposeDriver(object):
    """Runs docker and compose for one project on one engine."""

    def __init__(self, module, project_src, files=None, project_name=None, docker_host=None,
                 docker_cli="docker", compose_cli="docker-compose"):
        self.module = module
        self.project_src = os.path.abspath(project_src)
        if not os.path.isdir(self.project_src):
            raise ComposeError("the compose project directory %s does not exist (rollback_compose_dir / "
                               "project_src)" % self.project_src)
        self.files = resolve_files(self.project_src, files or [])
        env_file = read_env_file(os.path.join(self.project_src, ".env"))
        self.project_name = (project_name or os.environ.get("COMPOSE_PROJECT_NAME") or
                             env_file.get("COMPOSE_PROJECT_NAME") or
                             normalize_project_name(os.path.basename(self.project_src)))
        self.environ = {"DOCKER_HOST": docker_host} if docker_host else {}
        self.docker = self._binary(docker_cli, required=True)
        self.log = []
        self.compose_cli = compose_cli
        self._compose = None

    def _detected(self):
        if self._compose is None:
            self._compose = self._detect_compose(self.compose_cli)
        return self._compose

    @property
    def compose(self):
        return self._detected()[0]

    @property
    def compose_version(self):
        return self._detected()[1]

    # CLI -------------------------------------------------------------------------------------
    def _binary(self, name, required):
        if "/" in name:
            return name if os.access(name, os.X_OK) else None
        found = self.module.get_bin_path(name)
        if not found and required:
            raise ComposeError("%s not found on this host: install the docker CLI (Debian docker.io)" % name)
        return found

    def run(self, args, log=True):
        rc, out, err = self.module.run_command(args, environ_update=self.environ, cwd=self.project_src)
        if log:
            self.log.append({"command": args, "rc": rc, "stdout": out, "stderr": err})
        return rc, out, err

    def _detect_compose(self, compose_cli):
        rc, out, err = self.run([self.docker, "compose", "version", "--short"], log=False)
        if rc == 0 and out.strip():
            return [self.docker, "compose"], "v2 %s" % out.strip()
        binary = self._binary(compose_cli, required=False)
        if not binary:
            raise ComposeError("neither the docker compose plugin nor %s is installed on this host "
                               "(Debian docker-compose)" % compose_cli)
        rc, out, err = self.run([binary, "version", "--short"], log=False)
        if rc != 0:
            raise ComposeError("%s version failed: %s" % (binary, (err or out).strip()[:300]))
        return [binary], "v1 %s" % out.strip()

    def compose_args(self, extra_files=()):
        args = list(self.compose) + ["--project-name", self.project_name, "--project-directory", self.project_src]
        for path in list(self.files) + list(extra_files):
            args += ["-f", path]
        return args

    # Queries ---------------------------------------------------------------------------------
    def services(self):
        rc, out, err = self.run(self.compose_args() + ["config", "--services"], log=False)
        if rc != 0:
            raise ComposeError("compose config failed for %s: %s" % (self.project_src, (err or out).strip()[-500:]))
        return [line.strip() for line in out.splitlines() if line.strip()]

    def configured_image(self, service, extra_files=()):
        rc, out, err = self.run(self.compose_args(extra_files) + ["config"], log=False)
        if rc != 0:
            return None
        return service_image_from_config(out, service)

    def container(self, service):
        """The service's container (the first one when scaled), or None."""
        rc, out, err = self.run([self.docker, "ps", "-a", "-q", "--no-trunc",
                                 "--filter", "label=com.docker.compose.project=%s" % self.project_name,
                                 "--filter", "label=com.docker.compose.service=%s" % service], log=False)
        if rc != 0:
            raise ComposeError("docker ps failed (is the engine reachable? DOCKER_HOST / solvereign_docker_host): %s"
                               % (err or out).strip()[:400])
        ids = out.split()
        if not ids:
            return None
        rc, out, err = self.run([self.docker, "inspect"] + ids, log=False)
        if rc != 0:
            raise ComposeError("docker inspect failed: %s" % (err or out).strip()[:400])
        containers = [container_summary(info) for info in json.loads(out)]
        containers.sort(key=lambda c: (not c["running"], c["name"]))
        return containers[0]

    def image_present(self, image):
        rc, out, err = self.run([self.docker, "image", "inspect", "--format", "{{.Id}}", image], log=False)
        return out.strip() if rc == 0 else None

    # Actions ---------------------------------------------------------------------------------
    def pull(self, image):
        rc, out, err = self.run([self.docker, "pull", image])
        return rc == 0, (err or out).strip()

    def up(self, service, override_file, timeout):
        args = self.compose_args([override_file]) + ["up", "-d", "--no-color", "--force-recreate", "--no-deps",
                                                     "--timeout", str(int(timeout)), service]
        rc, out, err = self.run(args)
        if rc != 0:
            raise ComposeError("compose up of %s failed (rc %s): %s" % (service, rc, (err or out).strip()[-800:]))
        return args

    def log_text(self):
        """The commands run and their output, as the deploy log."""
        blocks = []
        for entry in self.log:
            blocks.append("$ %s\n%s%s[exit %s]\n" % (
                " ".join(entry["command"]), entry["stdout"], entry["stderr"], entry["rc"]))
        return "\n".join(blocks)


def write_override(path, text):
    """Write the override file; refuse to replace a file this module did not write."""
    if os.path.exists(path):
        with open(path) as handle:
            current = handle.read()
        if not current.startswith(OVERRIDE_MARKER):
            raise ComposeError("%s exists and was not written by compose_service: set override_file to another "
                               "path (the file is left as it is)" % path)
        if current == text:
            return False
    tmp = path + ".tmp"
    with open(tmp, "w") as handle:
        handle.write(text)
    os.rename(tmp, path)
    return True
