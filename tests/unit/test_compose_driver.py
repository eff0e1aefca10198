"""The compose driver's pure parts: project names, .env, default files, config parsing, override file."""

import os

import pytest
import yaml

from ansible_collections.solvereign.release_ops.plugins.module_utils import _compose
from ansible_collections.solvereign.release_ops.plugins.module_utils._compose import (
    ComposeError,
    OVERRIDE_MARKER,
    normalize_project_name,
    override_text,
    read_env_file,
    resolve_files,
    service_image_from_config,
    write_override,
)

# `docker-compose config` (v1.29.2) output for the reference project with API_TAG=v3.7.0 in .env.
CONFIG_V1 = """services:
  api:
    command:
    - httpd
    - -f
    image: solvereign/api:v3.7.0
    network_mode: host
    restart: unless-stopped
  worker:
    image: solvereign/worker:v3.7.0
version: '3.7'
"""


@pytest.mark.parametrize("name, expected", [("solvereign", "solvereign"), ("SOLVEREIGN Prod.1", "solvereignprod1"),
                                            ("my_app-2", "my_app-2")])
def test_project_name(name, expected):
    assert normalize_project_name(name) == expected


def test_env_file(tmp_path):
    path = tmp_path / ".env"
    path.write_text("# comment\nAPI_TAG=v3.7.0\nexport API_PORT = 18180\nQUOTED='a b'\n\nBROKEN\n")
    assert read_env_file(str(path)) == {"API_TAG": "v3.7.0", "API_PORT": "18180", "QUOTED": "a b"}
    assert read_env_file(str(tmp_path / "missing")) == {}


def test_default_files_prefer_compose_yaml_and_its_override(tmp_path):
    for name in ("docker-compose.yml", "compose.yaml", "compose.override.yaml"):
        (tmp_path / name).write_text("services: {}\n")
    assert resolve_files(str(tmp_path), []) == [str(tmp_path / "compose.yaml"), str(tmp_path / "compose.override.yaml")]


def test_no_compose_file_is_a_clear_error(tmp_path):
    with pytest.raises(ComposeError, match="no compose file"):
        resolve_files(str(tmp_path), [])
    with pytest.raises(ComposeError, match="does not exist"):
        resolve_files(str(tmp_path), ["other.yml"])


@pytest.mark.parametrize("service, image", [("api", "solvereign/api:v3.7.0"), ("worker", "solvereign/worker:v3.7.0"),
                                            ("absent", None)])
def test_image_from_config(service, image):
    assert service_image_from_config(CONFIG_V1, service) == image


def test_image_from_config_without_yaml(monkeypatch):
    monkeypatch.setattr(_compose, "yaml", None)
    assert service_image_from_config(CONFIG_V1, "api") == "solvereign/api:v3.7.0"
    assert service_image_from_config(CONFIG_V1, "absent") is None


def test_override_text_is_valid_compose():
    text = override_text("api", "solvereign/api:v3.6.10", {"solvereign.rollback.from": "v3.7.0"})
    assert text.startswith(OVERRIDE_MARKER)
    data = yaml.safe_load(text)
    assert data["services"]["api"] == {"image": "solvereign/api:v3.6.10",
                                       "labels": {"solvereign.rollback.from": "v3.7.0"}}


def test_override_never_replaces_a_user_file(tmp_path):
    path = str(tmp_path / "docker-compose.rollback.yml")
    with open(path, "w") as fh:
        fh.write("services:\n  api:\n    image: mine\n")
    with pytest.raises(ComposeError, match="was not written by compose_service"):
        write_override(path, override_text("api", "x:1", {}))
    assert open(path).read() == "services:\n  api:\n    image: mine\n"


def test_override_rewritten_only_when_different(tmp_path):
    path = str(tmp_path / "o.yml")
    assert write_override(path, override_text("api", "x:1", {})) is True
    assert write_override(path, override_text("api", "x:1", {})) is False
    assert write_override(path, override_text("api", "x:2", {})) is True
    assert "x:2" in open(path).read() and not os.path.exists(path + ".tmp")
