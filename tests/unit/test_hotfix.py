"""The hotfix flow's pure logic: semver, version bumping, the tag message, globs, test summaries."""

import json
import os
import subprocess

import pytest

from ansible_collections.solvereign.release_ops.plugins.module_utils import _hotfix as hf
from ansible_collections.solvereign.release_ops.plugins.modules import hotfix_release

from .conftest import run_module


@pytest.mark.parametrize("text, parsed", [
    ("3.7.1", (3, 7, 1, ())),
    ("0.0.0", (0, 0, 0, ())),
    ("10.20.30", (10, 20, 30, ())),
    ("3.7.1-rc.1", (3, 7, 1, ("rc", "1"))),
    ("3.7.1+build.5", (3, 7, 1, ())),
])
def test_parse_semver(text, parsed):
    assert hf.parse_semver(text) == parsed


@pytest.mark.parametrize("text", ["v3.7.1", "3.7", "3.7.1.2", "03.7.1", "3.7.01", "", "3.7.1-", "3.7.1-01", " 3.7.1"])
def test_parse_semver_refuses(text):
    assert hf.parse_semver(text) is None


@pytest.mark.parametrize("one, other, expected", [
    ("3.7.1", "3.7.0", 1),
    ("3.7.0", "3.7.0", 0),
    ("3.6.9", "3.7.0", -1),
    ("3.10.0", "3.9.9", 1),       # numeric, not lexical
    ("4.0.0", "3.99.99", 1),
    ("3.7.1-rc.1", "3.7.1", -1),  # a pre-release precedes its release
    ("3.7.1-rc.1", "3.7.0", 1),
    ("3.7.1-rc.2", "3.7.1-rc.10", -1),
    ("3.7.1-alpha", "3.7.1-alpha.1", -1),
    ("3.7.1-alpha.beta", "3.7.1-alpha.1", 1),
    ("3.7.1+build.2", "3.7.1+build.1", 0),
])
def test_compare_semver(one, other, expected):
    assert hf.compare_semver(one, other) == expected
    assert hf.compare_semver(other, one) == -expected


def test_compare_semver_names_the_bad_version():
    with pytest.raises(ValueError, match="'3.7'"):
        hf.compare_semver("3.7", "3.7.0")


@pytest.mark.parametrize("tag, version", [("v3.7.0", "3.7.0"), ("3.7.0", "3.7.0"), ("V3.7.0", "3.7.0"),
                                          ("release-3.7", "release-3.7")])
def test_version_from_tag(tag, version):
    assert hf.version_from_tag(tag) == version


PYPROJECT = '[build-system]\nrequires = ["setuptools"]\n\n[project]\nname = "x"\nversion = "3.7.0"\n\n' \
            '[tool.x]\nversion = "1.0.0"\n'


def test_bump_pyproject_changes_the_first_version_line_only():
    old, text = hf.bump_text(PYPROJECT, hf.KNOWN_VERSION_REGEXES["pyproject.toml"], "3.7.1")
    assert old == "3.7.0"
    assert text == PYPROJECT.replace('version = "3.7.0"', 'version = "3.7.1"')
    assert 'version = "1.0.0"' in text


def test_bump_pyproject_single_quotes():
    old, text = hf.bump_text("[project]\nversion = '3.7.0'\n", hf.KNOWN_VERSION_REGEXES["pyproject.toml"], "3.7.1")
    assert (old, text) == ("3.7.0", "[project]\nversion = '3.7.1'\n")


def test_bump_pyproject_ignores_keys_that_only_end_in_version():
    text = '[project]\nmin_version = "1.0"\nversion = "3.7.0"\n'
    old, bumped = hf.bump_text(text, hf.KNOWN_VERSION_REGEXES["pyproject.toml"], "3.7.1")
    assert old == "3.7.0" and 'min_version = "1.0"' in bumped


def test_bump_package_json_keeps_the_document():
    doc = '{\n  "name": "ui",\n  "version": "3.7.0",\n  "dependencies": {"x": "1.2.3"}\n}\n'
    old, text = hf.bump_text(doc, hf.KNOWN_VERSION_REGEXES["package.json"], "3.7.1")
    assert old == "3.7.0"
    assert json.loads(text) == dict(json.loads(doc), version="3.7.1")
    assert text == doc.replace('"3.7.0"', '"3.7.1"')


def test_bump_named_group_wins_over_group_one():
    regex = r'(__version__) = "(?P<version>[^"]+)"'
    assert hf.bump_text('__version__ = "3.7.0"\n', regex, "3.7.1") == ("3.7.0", '__version__ = "3.7.1"\n')


def test_bump_without_a_version_is_an_error():
    with pytest.raises(ValueError, match="no version matches"):
        hf.bump_text('[project]\nname = "x"\n', hf.KNOWN_VERSION_REGEXES["pyproject.toml"], "3.7.1")


def test_version_files_defaults_and_custom_regex():
    files = hf.normalize_version_files(["pyproject.toml", "web/package.json",
                                        {"path": "src/x/__init__.py", "regex": '__version__ = "([^"]+)"'}])
    assert [f["path"] for f in files] == ["pyproject.toml", "web/package.json", "src/x/__init__.py"]
    assert files[1]["regex"] == hf.KNOWN_VERSION_REGEXES["package.json"]


@pytest.mark.parametrize("entry, text", [
    ("VERSION", "has no known version format"),
    ({"path": "x.py", "regex": "version"}, "needs a group"),
    ({"path": "x.py", "regex": "("}, "does not compile"),
    ({"path": "../x/pyproject.toml"}, "inside the repository"),
    ({"path": "/etc/pyproject.toml"}, "inside the repository"),
    ({"file": "pyproject.toml"}, "must be a path"),
    ({"path": "pyproject.toml", "pattern": "x"}, "unknown key(s) pattern"),
    (3, "must be a path"),
])
def test_version_files_refused_with_the_entry_named(entry, text):
    with pytest.raises(ValueError) as caught:
        hf.normalize_version_files(["pyproject.toml", entry])
    assert "hotfix_version_files[1]" in str(caught.value) and text in str(caught.value)


def test_tag_message_is_the_runbooks_template():
    message = hf.render_tag_message("3.7.1", "Dispatch list keeps pending sites", ["a" * 40], "12 passed in 0.84s")
    assert message == ("Patch Release: SOLVEREIGN v3.7.1\n"
                       "\n"
                       "Fix: Dispatch list keeps pending sites\n"
                       "\n"
                       "Cherry-picked from: " + "a" * 40 + "\n"
                       "Tested: 12 passed in 0.84s")


def test_tag_message_lists_every_commit_and_prefix_matches():
    shas = ["a" * 40, "b" * 40]
    message = hf.render_tag_message("3.7.1", "fix", shas, "3 passed in 0.1s")
    assert "Cherry-picked from: %s, %s\n" % tuple(shas) in message
    prefix = hf.tag_message_prefix("3.7.1", "fix", shas)
    assert message.startswith(prefix) and message[len(prefix):] == "3 passed in 0.1s"
    assert not message.startswith(hf.tag_message_prefix("3.7.1", "fix", shas[:1]))


@pytest.mark.parametrize("pattern, path, matches", [
    ("tests/**", "tests/test_x.py", True),
    ("tests/**", "tests/unit/deep/test_x.py", True),
    ("tests/**", "src/tests/test_x.py", False),
    ("tests/**", "tests", False),
    ("**/test_*.py", "test_x.py", True),
    ("**/test_*.py", "backend/tests/test_x.py", True),
    ("**/test_*.py", "backend/tests/helper.py", False),
    ("tests/*.py", "tests/unit/test_x.py", False),
    ("tests/test_?.py", "tests/test_a.py", True),
    ("tests/[ab].py", "tests/[ab].py", True),  # brackets are literal
    ("tests/[ab].py", "tests/a.py", False),
])
def test_glob(pattern, path, matches):
    assert bool(hf.matching_paths([path], pattern)) is matches


@pytest.mark.parametrize("output, summary", [
    ("....\n12 passed in 0.84s\n", "12 passed in 0.84s"),
    ("F.\n=== FAILURES ===\n...\n=========== 1 failed, 1 passed in 0.12s ===========\n", "1 failed, 1 passed in 0.12s"),
    ("..\n2 passed, 1 warning in 1.50s\n\n", "2 passed, 1 warning in 1.50s"),
    ("no tests ran in 0.01s\n", "no tests ran in 0.01s"),
    ("ERROR: file or directory not found: tests/x.py\n\nno tests ran in 0.00s\n", "no tests ran in 0.00s"),
    ("Ran 4 tests in 0.002s\n\nOK\n", "OK"),
    ("", ""),
])
def test_summary_line(output, summary):
    assert hf.summary_line(output) == summary


def test_staging_evidence(tmp_path):
    path = tmp_path / "checklist.json"
    assert "does not exist" in hf.read_staging_evidence(str(path), "3.7.1")[0]
    path.write_text("{not json")
    assert "not a readable checklist.json" in hf.read_staging_evidence(str(path), "3.7.1")[0]
    path.write_text(json.dumps({"release": "3.7.1", "verdict": "FAIL", "checks": [
        {"id": "2.1", "status": "FAIL"}, {"id": "7.2", "status": "ERROR"}, {"id": "1.1", "status": "PASS"}]}))
    problem = hf.read_staging_evidence(str(path), "3.7.1")[0]
    assert "verdict FAIL" in problem and "failing rows: 2.1, 7.2" in problem
    path.write_text(json.dumps({"release": "v3.7.0", "verdict": "PASS"}))
    assert "verified release v3.7.0, not 3.7.1" in hf.read_staging_evidence(str(path), "3.7.1")[0]
    path.write_text(json.dumps({"release": "v3.7.1", "verdict": "PASS"}))
    problem, document = hf.read_staging_evidence(str(tmp_path), "3.7.1")  # a directory holding checklist.json
    assert problem is None and document["verdict"] == "PASS"
    path.write_text(json.dumps(["PASS"]))
    assert "no verdict" in hf.read_staging_evidence(str(path), "3.7.1")[0]


# The module in-process, against a real repository -------------------------------------------

def _git(repo, *args):
    env = dict(os.environ, GIT_CONFIG_GLOBAL=os.devnull, GIT_CONFIG_NOSYSTEM="1", GIT_AUTHOR_NAME="t",
               GIT_AUTHOR_EMAIL="t@example", GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@example")
    return subprocess.run(["git"] + list(args), cwd=str(repo), env=env, check=True, capture_output=True, text=True)


@pytest.fixture
def released(tmp_path):
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "pyproject.toml").write_text('[project]\nversion = "3.7.0"\n')
    (repo / "sub").mkdir()
    (repo / "sub" / "x.txt").write_text("x\n")
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "release")
    _git(repo, "tag", "-a", "v3.7.0", "-m", "GA Release: SOLVEREIGN v3.7.0")
    return repo


def _args(repo, tmp_path, **extra):
    args = {"repo": str(repo), "base_tag": "v3.7.0", "version": "3.7.1", "description": "fix",
            "cherry_pick": ["abcdef1"], "version_files": ["pyproject.toml"], "evidence_dir": str(tmp_path / "ev")}
    args.update(extra)
    return args


def test_module_refusal_writes_result_json(released, tmp_path, monkeypatch):
    result, failed = run_module(hotfix_release.main, _args(released, tmp_path), monkeypatch)
    assert failed and "fix commit(s) not found" in result["msg"] and "abcdef1" in result["msg"]
    written = json.load(open(str(tmp_path / "ev" / "result.json")))
    assert written["refused"] == result["msg"] and written["tag"] is None and written["branch"] is None
    assert result["changed"] is False


def test_module_check_mode_writes_nothing(released, tmp_path, monkeypatch):
    result, failed = run_module(hotfix_release.main, _args(released, tmp_path, version="3.7.0"), monkeypatch,
                                check_mode=True)
    assert failed and "not greater than the base 3.7.0" in result["msg"] and "3.7.1" in result["msg"]
    assert not (tmp_path / "ev").exists()


@pytest.mark.parametrize("where, text", [("sub", "not the top of a git checkout"), ("missing", "does not exist")])
def test_module_needs_the_checkout_root(released, tmp_path, monkeypatch, where, text):
    result, failed = run_module(hotfix_release.main, _args(released / where, tmp_path), monkeypatch)
    assert failed and text in result["msg"] and "hotfix_repo" in result["msg"]
