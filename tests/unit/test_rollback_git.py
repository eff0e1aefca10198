"""last_good_release_info and git_reverted_tag against a real local bare origin."""

import subprocess

import pytest

from ansible_collections.solvereign.release_ops.plugins.modules import git_reverted_tag, last_good_release_info
from tests.stack.compose_stack import create_origin

from .conftest import run_module


def git(path, *args):
    return subprocess.run(["git", "--git-dir", path] + list(args), capture_output=True, text=True,
                          check=False).stdout.strip()


@pytest.fixture
def origin(tmp_path):
    path = str(tmp_path / "origin.git")
    return path, create_origin(path)


def test_last_good_release(origin, monkeypatch):
    path, commits = origin
    result, failed = run_module(last_good_release_info.main, {"repo": path, "failed_tag": "v3.7.0"}, monkeypatch)
    assert not failed and result["version"] == "v3.6.10" and result["commit"] == commits["v3.6.10"]
    assert result["failed_commit"] == commits["v3.7.0"]
    assert {"tag": "v3.6.11-rc1", "reason": "pre-release"} in result["excluded"]


def test_last_good_release_unreadable_repo(tmp_path, monkeypatch):
    result, failed = run_module(last_good_release_info.main, {"repo": str(tmp_path / "nope.git"),
                                                              "failed_tag": "v3.7.0"}, monkeypatch)
    assert failed and "check solvereign_git_repo" in result["msg"]


def test_reverted_tag_created_once_never_moved(origin, monkeypatch):
    path, commits = origin
    args = {"repo": path, "tag": "v3.7.0", "annotation": "Reverted: rolled back to v3.6.10",
            "tagger_name": "Release Ops", "tagger_email": "ops@example.com"}
    result, failed = run_module(git_reverted_tag.main, args, monkeypatch, check_mode=True)
    assert not failed and result["changed"] and not result["created"]
    assert git(path, "tag", "-l", "v3.7.0-reverted") == ""

    result, failed = run_module(git_reverted_tag.main, args, monkeypatch)
    assert not failed and result["changed"] and result["created"]
    assert git(path, "cat-file", "-t", "v3.7.0-reverted") == "tag"
    assert git(path, "rev-parse", "v3.7.0-reverted^{commit}") == commits["v3.7.0"]
    obj = git(path, "rev-parse", "v3.7.0-reverted")

    result, failed = run_module(git_reverted_tag.main, dict(args, annotation="other"), monkeypatch)
    assert not failed and not result["changed"] and result["existed"]
    assert git(path, "rev-parse", "v3.7.0-reverted") == obj


def test_reverted_tag_pointing_elsewhere_is_left_alone(origin, monkeypatch):
    path, commits = origin
    subprocess.run(["git", "--git-dir", path, "tag", "v3.7.0-reverted", commits["v3.6.2"]], check=True)
    result, failed = run_module(git_reverted_tag.main, {"repo": path, "tag": "v3.7.0", "annotation": "m"}, monkeypatch)
    assert not failed and not result["changed"] and result["existed"]
    assert git(path, "rev-parse", "v3.7.0-reverted") == commits["v3.6.2"]


def test_reverted_tag_without_push_creates_nothing(origin, monkeypatch):
    path = origin[0]
    result, failed = run_module(git_reverted_tag.main, {"repo": path, "tag": "v3.7.0", "annotation": "m", "push": False},
                                monkeypatch)
    assert not failed and not result["changed"] and not result["created"]
    assert git(path, "tag", "-l", "v3.7.0-reverted") == ""


def test_reverted_tag_needs_the_failed_tag(origin, monkeypatch):
    path = origin[0]
    result, failed = run_module(git_reverted_tag.main, {"repo": path, "tag": "v9.9.9", "annotation": "m"}, monkeypatch)
    assert failed and "v9.9.9 is not on" in result["msg"]
