"""playbooks/hotfix.yml (runbook section 9) with real git: a throwaway project in a repository with a
bare origin, released as v3.7.0, with fix commits on main.

History of main (v3.7.0 is the release commit):

    v3.7.0 --- refactor --- FIX --- CONFLICT --- NOTEST --- BROKEN

FIX fixes total() and adds its regression test; CONFLICT changes the line the refactor changed
(it does not cherry-pick onto v3.7.0); NOTEST fixes label() without a test; BROKEN adds a
regression test that fails.
"""

import json
import os
import subprocess
import sys

import pytest

from .conftest import assert_no_traceback, run_playbook

PLAYBOOK = "playbooks/hotfix.yml"
TEST_COMMAND = "%s -m pytest -q -p no:cacheprovider" % sys.executable
DESCRIPTION = "total() ignores missing items"

CALC = '''"""A tiny calculator."""


def divide(a, b):
    return a / b


# ----------------------------------------------------------------------------


def total(items):
    return sum(items)


# ----------------------------------------------------------------------------


def label(name):
    return name
'''

TESTS = '''from calc import divide, total


def test_divide():
    assert divide(6, 3) == 2


def test_total():
    assert total([1, 2, 3]) == 6
'''

PYPROJECT = '''[project]
name = "calc"
version = "3.7.0"
description = "tiny"

[tool.other]
version = "9.9.9"
'''

PACKAGE_JSON = '''{
  "name": "calc-ui",
  "version": "3.7.0",
  "private": true,
  "dependencies": {"left-pad": "1.3.0"}
}
'''

GIT_ENV = dict(os.environ, GIT_CONFIG_GLOBAL=os.devnull, GIT_CONFIG_NOSYSTEM="1", LC_ALL="C")


def git(repo, *args):
    return subprocess.run(["git"] + list(args), cwd=str(repo), env=GIT_ENV, check=True,
                          capture_output=True, text=True).stdout.strip()


def write(repo, path, text):
    full = os.path.join(str(repo), path)
    os.makedirs(os.path.dirname(full), exist_ok=True)
    with open(full, "w") as handle:
        handle.write(text)


def commit(repo, message, files):
    for path, text in files.items():
        write(repo, path, text)
    git(repo, "add", "--", *files)
    git(repo, "commit", "-q", "-m", message)
    return git(repo, "rev-parse", "HEAD")


class Project:
    def __init__(self, root):
        self.origin = root / "origin.git"
        self.repo = root / "calc"
        git(root, "init", "-q", "--bare", "-b", "main", str(self.origin))
        git(root, "init", "-q", "-b", "main", str(self.repo))
        for key, value in (("user.name", "Release Engineer"), ("user.email", "release@calc.example"),
                           ("commit.gpgsign", "false"), ("tag.gpgsign", "false")):
            git(self.repo, "config", key, value)
        git(self.repo, "remote", "add", "origin", str(self.origin))
        self.release = commit(self.repo, "chore: release 3.7.0", {
            "calc.py": CALC, "tests/test_calc.py": TESTS, "pyproject.toml": PYPROJECT,
            "package.json": PACKAGE_JSON, ".gitignore": "__pycache__/\n.pytest_cache/\n"})
        git(self.repo, "tag", "-a", "v3.7.0", "-m", "GA Release: SOLVEREIGN v3.7.0")
        calc = CALC.replace("return a / b", "return round(a / b, 6)")
        commit(self.repo, "refactor: divide rounds to 6 places", {"calc.py": calc})
        calc = calc.replace("return sum(items)", "return sum(i for i in items if i is not None)")
        self.fix = commit(self.repo, "fix: total ignores missing items", {
            "calc.py": calc,
            "tests/test_total_missing.py": "from calc import total\n\n\ndef test_total_missing():\n"
                                           "    assert total([1, None, 2]) == 3\n"})
        calc = calc.replace("return round(a / b, 6)", "return round(a / b, 6) if b else None")
        self.conflict = commit(self.repo, "fix: divide by zero gives None", {
            "calc.py": calc,
            "tests/test_divide_zero.py": "from calc import divide\n\n\ndef test_zero():\n"
                                         "    assert divide(1, 0) is None\n"})
        calc = calc.replace("return name", "return name.strip()")
        self.notest = commit(self.repo, "fix: label strips blanks", {"calc.py": calc})
        self.broken = commit(self.repo, "fix: label is upper case", {
            "tests/test_label_upper.py": "from calc import label\n\n\ndef test_upper():\n"
                                         "    assert label('a') == 'A'\n"})
        git(self.repo, "push", "-q", "origin", "main", "v3.7.0")

    def refs(self, where=None):
        return git(where or self.repo, "for-each-ref", "--format=%(objectname) %(refname)")

    def status(self):
        return git(self.repo, "status", "--porcelain")

    def head(self):
        return git(self.repo, "symbolic-ref", "--short", "HEAD")

    def has(self, ref, where=None):
        return subprocess.run(["git", "rev-parse", "-q", "--verify", ref], cwd=str(where or self.repo),
                              env=GIT_ENV, capture_output=True, check=False).returncode == 0

    def log(self, rev_range):
        return git(self.repo, "log", "--reverse", "--format=%s", rev_range).splitlines()


@pytest.fixture
def project(tmp_path):
    return Project(tmp_path)


def hotfix(project, tmp_path, check=False, inventories=(), env=None, **variables):
    """Run playbooks/hotfix.yml; without inventories, with none at all (the implicit localhost)."""
    env = dict(env or {})
    if not inventories:
        empty = tmp_path / "no-inventory"
        empty.mkdir(exist_ok=True)
        env.setdefault("ANSIBLE_INVENTORY", str(empty))
    extra = {"hotfix_repo": str(project.repo), "hotfix_base_tag": "v3.7.0", "hotfix_version": "3.7.1",
             "hotfix_cherry_pick": [project.fix], "hotfix_description": DESCRIPTION,
             "hotfix_test_command": TEST_COMMAND}
    extra.update(variables)
    run = run_playbook(tmp_path / "evidence", playbook=PLAYBOOK, inventories=inventories, extra_vars=extra,
                       env=env, args=["--check"] if check else [], timeout=300)
    assert_no_traceback(run)
    evidence = variables.get("solvereign_evidence_dir", run.evidence_dir) or os.path.join(
        env["PWD"], "release_evidence", "v" + extra["hotfix_version"])
    path = os.path.join(evidence, "hotfix", "result.json")
    run.result = json.load(open(path)) if os.path.exists(path) else None
    return run


def expected_message(project, tested):
    return ("Patch Release: SOLVEREIGN v3.7.1\n\nFix: %s\n\nCherry-picked from: %s\nTested: %s"
            % (DESCRIPTION, project.fix, tested))


def test_happy_path_branches_bumps_tags_pushes_and_merges(project, tmp_path):
    before = project.refs()
    check = hotfix(project, tmp_path, check=True, hotfix_push=True, hotfix_merge_main=True)
    assert check.rc == 0, check.output[-3000:]
    assert "cherry-pick -x %s" % project.fix in check.output and "tag -a v3.7.1" in check.output
    assert project.refs() == before and project.status() == "" and check.result is None

    run = hotfix(project, tmp_path, hotfix_push=True, hotfix_merge_main=True)
    assert run.rc == 0, run.output[-3000:]
    assert project.log("v3.7.0..hotfix/v3.7.1") == ["fix: total ignores missing items", "chore: bump version to 3.7.1"]
    assert project.head() == "main" and project.status() == ""
    # the bump: the project's version lines only, not other tables' version keys
    pyproject = git(project.repo, "show", "hotfix/v3.7.1:pyproject.toml")
    assert 'version = "3.7.1"' in pyproject and 'version = "9.9.9"' in pyproject
    assert json.loads(git(project.repo, "show", "hotfix/v3.7.1:package.json"))["version"] == "3.7.1"
    # the tag: annotated, on the bump commit, with exactly the runbook's message
    assert git(project.repo, "cat-file", "-t", "v3.7.1") == "tag"
    assert git(project.repo, "rev-parse", "v3.7.1^{commit}") == git(project.repo, "rev-parse", "hotfix/v3.7.1")
    tested = run.result["tested"]
    assert tested.startswith("3 passed in ") and tested.endswith("s")
    assert git(project.repo, "tag", "-l", "--format=%(contents)", "v3.7.1") == expected_message(project, tested)
    # pushed: branch and tag on the origin are the local ones
    for ref in ("refs/tags/v3.7.1", "refs/heads/hotfix/v3.7.1"):
        assert git(project.origin, "rev-parse", ref) == git(project.repo, "rev-parse", ref)
    # merged back: a merge commit on main, pushed
    assert git(project.repo, "rev-list", "--parents", "-n", "1", "main").count(" ") == 2
    assert git(project.origin, "rev-parse", "main") == git(project.repo, "rev-parse", "main")
    result = run.result
    assert (result["branch"], result["tag"], result["pushed"], result["merged"], result["refused"]) == (
        "hotfix/v3.7.1", "v3.7.1", True, True, None)
    assert [c["cherry_picked_from"] for c in result["commits"]] == [project.fix, None]
    evidence = os.path.join(run.evidence_dir, "hotfix")
    assert open(os.path.join(evidence, "tag_message.txt")).read() == expected_message(project, tested) + "\n"
    assert tested in open(os.path.join(evidence, "tests.log")).read()

    # idempotent: the re-run and its check find everything done and change nothing
    done = project.refs(), project.refs(project.origin)
    again = hotfix(project, tmp_path, check=True, hotfix_push=True, hotfix_merge_main=True)
    assert again.rc == 0 and "exists from an earlier run" in again.output, again.output[-3000:]
    assert "changed=0" in again.output
    again = hotfix(project, tmp_path, hotfix_push=True, hotfix_merge_main=True)
    assert again.rc == 0, again.output[-3000:]
    assert (project.refs(), project.refs(project.origin)) == done
    assert again.result["actions"] == [] and again.result["tested"] == tested


def test_conflicting_cherry_pick_leaves_the_repository_clean(project, tmp_path):
    before = project.refs()
    run = hotfix(project, tmp_path, hotfix_cherry_pick=[project.fix, project.conflict])
    assert run.rc != 0
    assert "conflicts in calc.py" in run.output and "aborted" in run.output
    assert project.refs() == before and project.status() == "" and project.head() == "main"
    assert not project.has("refs/heads/hotfix/v3.7.1") and not project.has("CHERRY_PICK_HEAD")
    assert run.result["branch"] is None and run.result["tag"] is None and "calc.py" in run.result["refused"]


def test_fix_without_regression_test_is_refused(project, tmp_path):
    before = project.refs()
    run = hotfix(project, tmp_path, hotfix_cherry_pick=[project.notest])
    assert run.rc != 0
    assert "regression test" in run.result["refused"] and "tests/**" in run.result["refused"]
    assert project.refs() == before


def test_missing_evidence_is_listed_item_by_item(project, tmp_path):
    staging = tmp_path / "staging" / "checklist.json"
    staging.parent.mkdir()
    staging.write_text(json.dumps({"release": "3.7.1", "verdict": "FAIL",
                                   "checks": [{"id": "2.1", "status": "FAIL"}]}))
    before = project.refs()
    run = hotfix(project, tmp_path, hotfix_cherry_pick=[project.notest], hotfix_security=True,
                 hotfix_staging_evidence=str(staging))
    assert run.rc != 0
    missing = run.result["missing"]
    assert len(missing) == 3, missing
    assert "regression test" in missing[0]
    assert "hotfix_security_signoff" in missing[1]
    assert "verdict FAIL" in missing[2] and "2.1" in missing[2]
    assert project.refs() == before

    # absent staging evidence is missing too; a PASS of another release does not count
    run = hotfix(project, tmp_path, hotfix_staging_evidence=str(tmp_path / "nowhere" / "checklist.json"))
    assert run.rc != 0 and "does not exist" in run.result["missing"][0]
    staging.write_text(json.dumps({"release": "3.7.0", "verdict": "PASS", "checks": []}))
    run = hotfix(project, tmp_path, hotfix_staging_evidence=str(staging))
    assert run.rc != 0 and "verified release 3.7.0, not 3.7.1" in run.result["missing"][0]
    assert project.refs() == before


def test_security_fix_with_signoff_and_staging_pass_is_released(project, tmp_path):
    staging = tmp_path / "staging"
    staging.mkdir()
    (staging / "checklist.json").write_text(json.dumps({"release": "3.7.1", "verdict": "PASS", "checks": []}))
    run = hotfix(project, tmp_path, hotfix_security=True, hotfix_security_signoff="A. Security Lead",
                 hotfix_staging_evidence=str(staging), env={"ANSIBLE_SHOW_CUSTOM_STATS": "true"})
    assert run.rc == 0, run.output[-3000:]
    stats = run.output.split("CUSTOM STATS")[-1]  # set_stats, for AWX
    assert "hotfix:" in stats and "tag: v3.7.1" in stats and "refused: null" in stats
    evidence = os.path.join(run.evidence_dir, "hotfix")
    assert "Signed off by: A. Security Lead" in open(os.path.join(evidence, "security_signoff.txt")).read()
    assert json.load(open(os.path.join(evidence, "staging_checklist.json")))["verdict"] == "PASS"
    # without hotfix_push nothing reaches the origin
    assert not project.has("refs/tags/v3.7.1", project.origin)
    assert not project.has("refs/heads/hotfix/v3.7.1", project.origin)
    assert run.result["pushed"] is False and run.result["merged"] is False


def test_failing_tests_are_refused(project, tmp_path):
    run = hotfix(project, tmp_path, hotfix_cherry_pick=[project.fix, project.broken])
    assert run.rc != 0
    assert "tests fail on hotfix/v3.7.1" in run.result["refused"] and "1 failed" in run.result["refused"]
    assert not project.has("refs/tags/v3.7.1") and run.result["tag"] is None and run.result["tested"] is None
    assert "test_upper" in open(os.path.join(run.evidence_dir, "hotfix", "tests.log")).read()
    assert project.head() == "main" and project.status() == ""


@pytest.mark.parametrize("where", ["local", "origin"])
def test_existing_tag_is_refused_and_unchanged(project, tmp_path, where):
    git(project.repo, "tag", "v3.7.1", "main")
    if where == "origin":
        git(project.repo, "push", "-q", "origin", "v3.7.1")
        git(project.repo, "tag", "-d", "v3.7.1")
    before = project.refs(), project.refs(project.origin)
    run = hotfix(project, tmp_path, hotfix_push=True)
    assert run.rc != 0
    assert "v3.7.1 already exists" in run.result["refused"] and "never" in run.result["refused"]
    assert (project.refs(), project.refs(project.origin)) == before


def test_dirty_tree_is_refused(project, tmp_path):
    write(project.repo, "calc.py", CALC + "\n# local edit\n")
    before = project.refs()
    run = hotfix(project, tmp_path)
    assert run.rc != 0
    assert "not clean" in run.result["refused"] and "calc.py" in run.result["refused"]
    assert project.refs() == before and "calc.py" in project.status()


@pytest.mark.parametrize("version, text", [
    ("3.7.0", "not greater than the base 3.7.0"),
    ("3.6.9", "not greater than the base 3.7.0"),
    ("v3.7.1", "not a semantic version"),
    ("3.7", "not a semantic version"),
])
def test_version_not_semver_or_not_greater_is_refused(project, tmp_path, version, text):
    before = project.refs()
    run = hotfix(project, tmp_path, hotfix_version=version)
    assert run.rc != 0 and text in run.result["refused"], run.output[-2000:]
    assert project.refs() == before


@pytest.mark.parametrize("variables, text", [
    ({"hotfix_base_tag": "v3.6.5"}, "base tag v3.6.5 does not exist"),
    ({"hotfix_cherry_pick": ["deadbeef"]}, "fix commit(s) not found"),
    ({"hotfix_version_files": ["pyproject.toml", {"path": "calc.py", "regex": "__version__ = \"([^\"]+)\""}]},
     "calc.py has no version to bump"),
])
def test_bad_references_are_refused(project, tmp_path, variables, text):
    before = project.refs()
    run = hotfix(project, tmp_path, **variables)
    assert run.rc != 0 and text in run.result["refused"], run.output[-2000:]
    assert project.refs() == before


def test_check_mode_touches_nothing(project, tmp_path):
    before = project.refs(), project.refs(project.origin), project.status()
    run = hotfix(project, tmp_path, check=True, hotfix_push=True, hotfix_merge_main=True)
    assert run.rc == 0, run.output[-3000:]
    assert "create branch hotfix/v3.7.1 from v3.7.0" in run.output
    assert "changed: [localhost]" in run.output  # check mode predicts the change it does not make
    assert "bump pyproject.toml (3.7.0), package.json (3.7.0) to 3.7.1" in run.output
    assert (project.refs(), project.refs(project.origin), project.status()) == before
    assert not os.path.exists(os.path.join(run.evidence_dir, "hotfix"))


def test_rerun_after_refused_gate_continues(project, tmp_path):
    failing = "%s -m pytest -q -p no:cacheprovider tests/test_not_there.py" % sys.executable
    run = hotfix(project, tmp_path, hotfix_test_command=failing)
    assert run.rc != 0 and "tests fail" in run.result["refused"]
    assert project.log("v3.7.0..hotfix/v3.7.1") == ["fix: total ignores missing items", "chore: bump version to 3.7.1"]
    branch = git(project.repo, "rev-parse", "hotfix/v3.7.1")

    run = hotfix(project, tmp_path)
    assert run.rc == 0, run.output[-3000:]
    assert git(project.repo, "rev-parse", "hotfix/v3.7.1") == branch  # reused, not duplicated
    assert git(project.repo, "rev-parse", "v3.7.1^{commit}") == branch
    assert "reuse branch hotfix/v3.7.1" in run.output


def test_commits_already_on_the_branch_are_the_fix(project, tmp_path):
    git(project.repo, "checkout", "-q", "-b", "hotfix/v3.7.1", "v3.7.0")
    direct = commit(project.repo, "fix: total ignores missing items", {
        "calc.py": CALC.replace("return sum(items)", "return sum(i for i in items if i is not None)"),
        "tests/test_total_missing.py": "from calc import total\n\n\ndef test_missing():\n"
                                       "    assert total([None, 1]) == 1\n"})
    git(project.repo, "checkout", "-q", "main")
    cwd = tmp_path / "operator"
    cwd.mkdir()
    run = hotfix(project, tmp_path, hotfix_cherry_pick=[], inventories=("inventories/local",),
                 solvereign_evidence_dir="", env={"PWD": str(cwd)})
    assert run.rc == 0, run.output[-3000:]
    # without solvereign_evidence_dir the evidence goes to release_evidence/v<version> of the current directory
    assert run.result["tag"] == "v3.7.1"
    assert os.path.isfile(cwd / "release_evidence" / "v3.7.1" / "hotfix" / "tag_message.txt")
    message = git(project.repo, "tag", "-l", "--format=%(contents)", "v3.7.1")
    assert "Cherry-picked from: %s\n" % direct in message
    assert project.log("v3.7.0..v3.7.1") == ["fix: total ignores missing items", "chore: bump version to 3.7.1"]


def test_missing_required_variable_names_it(project, tmp_path):
    run = run_playbook(tmp_path / "evidence", playbook=PLAYBOOK, inventories=(),
                       extra_vars={"hotfix_repo": str(project.repo), "hotfix_version": "3.7.1"})
    assert run.rc != 0
    assert "hotfix_base_tag" in run.output and "hotfix_description" in run.output
    assert_no_traceback(run)


def test_merge_back_conflict_leaves_main_as_it_was(project, tmp_path):
    # main moved on to 3.8.0.dev0: the bump to 3.7.1 conflicts when merged back
    commit(project.repo, "chore: start 3.8.0", {"pyproject.toml": PYPROJECT.replace('"3.7.0"', '"3.8.0.dev0"')})
    main = git(project.repo, "rev-parse", "main")
    run = hotfix(project, tmp_path, hotfix_merge_main=True)
    assert run.rc != 0  # the tag exists, but not as asked: it is not merged back
    assert "conflicts in pyproject.toml" in run.result["refused"] and "main is unchanged" in run.result["refused"]
    assert git(project.repo, "rev-parse", "main") == main and project.status() == "" and project.head() == "main"
    assert not project.has("MERGE_HEAD")
    assert run.result["tag"] == "v3.7.1" and run.result["merged"] is False

    # merged by hand, the re-run finds the tag and the merge and finishes
    git(project.repo, "merge", "-q", "-X", "ours", "--no-edit", "hotfix/v3.7.1")
    run = hotfix(project, tmp_path, hotfix_merge_main=True)
    assert run.rc == 0, run.output[-3000:]
    assert run.result["merged"] is True and run.result["actions"] == []


def test_fix_added_after_a_refused_gate_is_cherry_picked_onto_the_bump(project, tmp_path):
    run = hotfix(project, tmp_path, hotfix_cherry_pick=[project.fix, project.broken])
    assert run.rc != 0 and "tests fail" in run.result["refused"] and "hotfix_cherry_pick" in run.result["refused"]
    branch = git(project.repo, "rev-parse", "hotfix/v3.7.1")

    # a follow-up that does not apply to v3.7.0: the existing branch is put back exactly as it was
    clash = commit(project.repo, "fix: label upper-cases", {
        "calc.py": git(project.repo, "show", "main:calc.py").replace("return name.strip()", "return name.upper()")})
    run = hotfix(project, tmp_path, hotfix_cherry_pick=[project.fix, project.broken, clash])
    assert run.rc != 0 and "conflicts in calc.py" in run.result["refused"]
    assert git(project.repo, "rev-parse", "hotfix/v3.7.1") == branch and project.status() == ""

    # the follow-up that corrects the regression test continues the same branch after its bump
    follow_up = commit(project.repo, "test: label keeps its case", {
        "tests/test_label_upper.py": "from calc import label\n\n\ndef test_upper():\n    assert label('a') == 'a'\n"})
    run = hotfix(project, tmp_path, hotfix_cherry_pick=[project.fix, project.broken, follow_up])
    assert run.rc == 0, run.output[-3000:]
    assert project.log("v3.7.0..v3.7.1") == [
        "fix: total ignores missing items", "fix: label is upper case", "chore: bump version to 3.7.1",
        "test: label keeps its case"]
    assert git(project.repo, "rev-parse", "hotfix/v3.7.1~1") == branch
    assert "Cherry-picked from: %s, %s, %s\n" % (project.fix, project.broken, follow_up) in git(
        project.repo, "tag", "-l", "--format=%(contents)", "v3.7.1")


def test_origin_ahead_is_refused_before_anything_changes(project, tmp_path):
    # someone else pushed to main: merging back and pushing would be rejected, so nothing starts
    other = tmp_path / "other"
    git(tmp_path, "clone", "-q", str(project.origin), str(other))
    for key, value in (("user.name", "Someone"), ("user.email", "someone@calc.example")):
        git(other, "config", key, value)
    commit(other, "docs: readme", {"README.md": "calc\n"})
    git(other, "push", "-q", "origin", "main")
    before = project.refs()
    run = hotfix(project, tmp_path, hotfix_push=True, hotfix_merge_main=True)
    assert run.rc != 0 and "origin/main has commits the local main lacks" in run.result["refused"]
    assert project.refs() == before

    # someone else started the hotfix on origin: not duplicated locally
    git(other, "push", "-q", "origin", "%s:refs/heads/hotfix/v3.7.1" % project.release)
    run = hotfix(project, tmp_path)
    assert run.rc != 0 and "exists on origin but not here" in run.result["refused"]
    assert project.refs() == before
