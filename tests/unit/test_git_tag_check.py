import subprocess

import pytest

from ansible_collections.solvereign.release_ops.plugins.modules import git_tag_check
from tests.stack.origin import create_origin

from .conftest import run_module


def tag_args(repo, commit, **extra):
    out = {"check_id": "1.1", "check_title": "Tag verification", "environment": "staging", "repo": repo,
           "tag": "v3.7.0", "expected_commit": commit, "expected_message": "GA Release: SOLVEREIGN v3.7.0"}
    out.update(extra)
    return out


@pytest.fixture(scope="module")
def healthy_origin(tmp_path_factory):
    path = str(tmp_path_factory.mktemp("origin") / "origin.git")
    return path, create_origin(path)


def refs(path):
    return subprocess.run(["git", "--git-dir", path, "show-ref"], capture_output=True, text=True, check=True).stdout


def test_healthy_tag_passes_with_abbreviated_commit(healthy_origin, monkeypatch):
    path, info = healthy_origin
    before = refs(path)
    result, failed = run_module(git_tag_check.main, tag_args(path, info["release_commit"][:7]), monkeypatch, check_mode=True)
    assert not failed and result["changed"] is False
    row = result["row"]
    assert row["status"] == "PASS", row
    assert [f["name"] for f in row["findings"]] == ["exists", "annotated", "commit", "message"]
    assert result["peeled_commit"] == info["release_commit"]
    assert refs(path) == before  # the origin is never written to


def test_file_url_works_too(healthy_origin, monkeypatch):
    path, info = healthy_origin
    result = run_module(git_tag_check.main, tag_args("file://" + path, info["release_commit"]), monkeypatch)[0]
    assert result["row"]["status"] == "PASS"


@pytest.mark.parametrize("fault, finding, text", [
    ("tag_wrong_commit", "commit", "expected"),
    ("tag_lightweight", "annotated", "lightweight"),
    ("tag_wrong_message", "message", "does not contain"),
    ("tag_missing", "exists", "does not exist"),
])
def test_faults_fail_the_right_finding(tmp_path, monkeypatch, fault, finding, text):
    path = str(tmp_path / "origin.git")
    info = create_origin(path, [fault])
    result = run_module(git_tag_check.main, tag_args(path, info["release_commit"][:7]), monkeypatch)[0]
    row = result["row"]
    assert row["status"] == "FAIL"
    failing = [f for f in row["findings"] if f["status"] == "FAIL"]
    assert failing[0]["name"] == finding and text in failing[0]["message"]
    assert any("git push -f" in a for a in row["advice"])  # advice only: nothing is pushed


def test_unreachable_origin_is_error(tmp_path, monkeypatch):
    result, failed = run_module(git_tag_check.main, tag_args(str(tmp_path / "nope.git"), "87b4a59"), monkeypatch)
    assert not failed
    assert result["row"]["status"] == "ERROR"
    assert "cannot list tags" in result["row"]["summary"]


def test_credentials_in_origin_url_are_not_shown(monkeypatch):
    url = "https://deploy:t0psecret@127.0.0.1:1/solvereign.git"
    result = run_module(git_tag_check.main, tag_args(url, "87b4a59", timeout=5), monkeypatch)[0]
    assert result["row"]["status"] == "ERROR"
    assert "t0psecret" not in repr(result)
