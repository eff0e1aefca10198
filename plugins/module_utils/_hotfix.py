# -*- coding: utf-8 -*-
# Copyright: (c) 2026, SOLVEREIGN release engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE: the hotfix flow of runbook section 9 (used by the hotfix_release module only).

The flow works in a checkout of the release repository, like the runbook's commands:
branch ``hotfix/v<version>`` from the base tag, cherry-pick the fixes (``-x``), bump the version
files, run the evidence gate, tag with the runbook's message, push, merge back to main.

Everything that can be refused is refused by :meth:`HotfixFlow.plan`, which only reads. The
steps that change the repository are each re-entrant: a re-run after a failure finds the branch,
the bump commit and the tag it made before and continues after them. Nothing is ever forced:
no ``--force``, no tag moved, no branch rewritten except to undo this run's own cherry-picks
after a conflict. The checkout is returned to the branch it was on at the end of every run.

The pure helpers (semver, version bumping, tag message, globs, test summary) have no git
dependency and are unit tested directly.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import re
import shlex
import tempfile

from ansible_collections.solvereign.release_ops.plugins.module_utils.redact import redact_text
from ansible_collections.solvereign.release_ops.plugins.module_utils.result import utc_now_iso, write_evidence

# ---------------------------------------------------------------------------------------------
# Pure helpers
# ---------------------------------------------------------------------------------------------

_IDENT = r"(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)"
SEMVER = re.compile(
    r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-(" + _IDENT + r"(?:\." + _IDENT + r")*))?"
    r"(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$")

BUMP_SUBJECT = "chore: bump version to %s"
CHERRY_PICK_TRAILER = re.compile(r"^\(cherry picked from commit ([0-9a-f]{40})\)\s*$", re.M)

# Version files known by name; any other file needs its own regex.
KNOWN_VERSION_REGEXES = {
    "pyproject.toml": r"""(?m)^version\s*=\s*["']([^"']+)["']""",
    "package.json": r'''"version"\s*:\s*"([^"]+)"''',
}
DEFAULT_VERSION_FILES = ["pyproject.toml", "package.json"]

_SUMMARY = re.compile(
    r"\b(?:\d+ (?:passed|failed|errors?|skipped|xfailed|xpassed|deselected|warnings?)|no tests ran)\b"
    r".* in \d+(?:\.\d+)?s\b")


class Refusal(Exception):
    """The flow refuses: the message says what is wrong and what to set or do."""

    def __init__(self, message, missing=None):
        super(Refusal, self).__init__(message)
        self.message = message
        self.missing = list(missing or [])


class GitError(Exception):
    pass


def parse_semver(text):
    """``"3.7.1"`` -> (3, 7, 1, prerelease identifiers); None when ``text`` is not semver 2.0."""
    match = SEMVER.match(text or "")
    if not match:
        return None
    pre = tuple(match.group(4).split(".")) if match.group(4) else ()
    return int(match.group(1)), int(match.group(2)), int(match.group(3)), pre


def _pre_key(pre):
    # A version without pre-release outranks one with; numeric identifiers sort below alphanumeric.
    if not pre:
        return (1,)
    return (0,) + tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in pre) + ((-1, 0, ""),)


def compare_semver(left, right):
    """-1, 0 or 1 by semver 2.0 precedence (build metadata ignored). Raises ValueError."""
    a, b = parse_semver(left), parse_semver(right)
    if a is None or b is None:
        raise ValueError("not a semantic version: %r" % (left if a is None else right))
    ka = a[:3] + (_pre_key(a[3]),)
    kb = b[:3] + (_pre_key(b[3]),)
    return (ka > kb) - (ka < kb)


def version_from_tag(tag):
    """``v3.7.0`` -> ``3.7.0`` (the leading ``v`` is optional)."""
    return tag[1:] if tag[:1] in ("v", "V") and parse_semver(tag[1:]) else tag


def normalize_version_files(entries):
    """Version file entries (a path, or a dict with ``path`` and optional ``regex``) as dicts.

    Raises ValueError naming the entry that is unusable.
    """
    result = []
    for index, entry in enumerate(entries or []):
        if isinstance(entry, str):
            entry = {"path": entry}
        if not isinstance(entry, dict) or not isinstance(entry.get("path"), str) or not entry["path"].strip():
            raise ValueError("hotfix_version_files[%d] must be a path or a dict with path and regex, got %r"
                             % (index, entry))
        unknown = set(entry) - set(("path", "regex"))
        if unknown:
            raise ValueError("hotfix_version_files[%d] has unknown key(s) %s (only path and regex)"
                             % (index, ", ".join(sorted(unknown))))
        path = os.path.normpath(entry["path"].strip())
        if os.path.isabs(path) or path == ".." or path.startswith("../"):
            raise ValueError("hotfix_version_files[%d]: %s must be a path inside the repository" % (index, entry["path"]))
        regex = entry.get("regex") or KNOWN_VERSION_REGEXES.get(os.path.basename(path))
        if not regex:
            raise ValueError("hotfix_version_files[%d]: %s has no known version format; give it a regex with one "
                             "group around the version, e.g. {path: %s, regex: '__version__ = \"([^\"]+)\"'}"
                             % (index, path, path))
        try:
            compiled = re.compile(regex)
        except re.error as exc:
            raise ValueError("hotfix_version_files[%d]: regex %r does not compile: %s" % (index, regex, exc))
        if compiled.groups < 1:
            raise ValueError("hotfix_version_files[%d]: regex %r needs a group around the version" % (index, regex))
        result.append({"path": path, "regex": regex})
    return result


def bump_text(text, regex, new_version):
    """Replace the first version matched by ``regex`` (group ``version`` or group 1).

    Returns (old_version, new_text). Raises ValueError when the text holds no version.
    """
    compiled = re.compile(regex)
    match = compiled.search(text)
    if not match:
        raise ValueError("no version matches %r" % regex)
    group = "version" if "version" in compiled.groupindex else 1
    start, end = match.span(group)
    return match.group(group), text[:start] + new_version + text[end:]


def render_tag_message(version, description, cherry_picked_from, tested):
    """The runbook's 9.3 tag message, exactly."""
    return ("Patch Release: SOLVEREIGN v%s\n\nFix: %s\n\nCherry-picked from: %s\nTested: %s"
            % (version, description, ", ".join(cherry_picked_from), tested))


def tag_message_prefix(version, description, cherry_picked_from):
    """Everything of the tag message up to the test summary (which differs from run to run)."""
    return render_tag_message(version, description, cherry_picked_from, "")


def glob_to_regex(pattern):
    """A path glob as a regex: ``**`` spans directories, ``*`` and ``?`` stay within one."""
    out, i = [], 0
    while i < len(pattern):
        char = pattern[i]
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
            continue
        if pattern.startswith("**", i):
            out.append(".*")
            i += 2
            continue
        if char == "*":
            out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        else:
            out.append(re.escape(char))
        i += 1
    return re.compile("^" + "".join(out) + "$")


def matching_paths(paths, pattern):
    regex = glob_to_regex(pattern)
    return [p for p in paths if regex.match(p)]


def summary_line(output):
    """The test run's summary (pytest's ``12 passed in 0.84s``), else its last non-empty line."""
    lines = [line.strip().strip("=").strip() for line in (output or "").splitlines()]
    lines = [line for line in lines if line]
    for line in reversed(lines):
        if _SUMMARY.search(line):
            return line
    return lines[-1] if lines else ""


def read_staging_evidence(path, version):
    """Judge a staging verification artifact; return (problem or None, document or None)."""
    if os.path.isdir(path):
        path = os.path.join(path, "checklist.json")
    if not os.path.isfile(path):
        return ("staging verification: %s does not exist (run playbooks/verify.yml against staging at %s "
                "and set hotfix_staging_evidence to its checklist.json)" % (path, version)), None
    try:
        with open(path) as handle:
            document = json.load(handle)
    except (OSError, ValueError) as exc:
        return "staging verification: %s is not a readable checklist.json (%s)" % (path, exc), None
    if not isinstance(document, dict):
        return "staging verification: %s is not a checklist (no verdict)" % path, None
    verdict = document.get("verdict")
    if verdict != "PASS":
        failing = [str(r.get("id")) for r in document.get("checks") or []
                   if isinstance(r, dict) and r.get("status") in ("FAIL", "ERROR")]
        return ("staging verification: %s has verdict %s, not PASS%s" % (
            path, verdict, (" (failing rows: %s)" % ", ".join(failing)) if failing else "")), document
    release = document.get("release")
    if release not in (None, "") and version_from_tag(str(release)) != version:
        return ("staging verification: %s verified release %s, not %s (verify staging running the hotfix)"
                % (path, release, version)), document
    return None, document


# ---------------------------------------------------------------------------------------------
# git
# ---------------------------------------------------------------------------------------------

class Git(object):
    """git in one checkout, through ``module.run_command`` with argument lists."""

    def __init__(self, module, repo, timeout=60):
        self.module = module
        self.repo = repo
        self.binary = module.get_bin_path("git")
        self.env = {
            "GIT_TERMINAL_PROMPT": "0",
            "GIT_ASKPASS": "/bin/true",
            "GIT_SSH_COMMAND": "ssh -o BatchMode=yes -o ConnectTimeout=%d" % timeout,
            "GIT_EDITOR": "true",
            "GIT_MERGE_AUTOEDIT": "no",
            "LC_ALL": "C",
        }

    def run(self, args, check=True):
        if not self.binary:
            raise GitError("git is not installed on the controller: install the git package")
        rc, out, err = self.module.run_command([self.binary] + list(args), cwd=self.repo, environ_update=self.env,
                                               expand_user_and_vars=False)
        if check and rc != 0:
            text = " ".join((err or out or "").split())
            raise GitError("git %s: %s" % (" ".join(args[:2]), redact_text(text, self.module.no_log_values) or "exit %d" % rc))
        return rc, out, err

    def out(self, *args):
        return self.run(args)[1].strip()

    def ok(self, *args):
        return self.run(args, check=False)[0] == 0

    def rev(self, spec):
        rc, out, dummy = self.run(["rev-parse", "-q", "--verify", spec], check=False)
        return out.strip() if rc == 0 and out.strip() else None


class HotfixFlow(object):
    """One run of the flow. ``plan()`` reads and refuses; ``apply()`` changes, step by step."""

    def __init__(self, module, params):
        self.module = module
        self.p = params
        self.repo = params["repo"]
        self.version = params["version"]
        self.tag = "v" + self.version
        self.branch = "hotfix/" + self.tag
        self.remote = params["remote"]
        self.main = params["main_branch"]
        self.git = None
        self.actions = []  # what this run changed, in order
        self.plan_lines = []
        self.state = {}
        self.tested = None
        self.test_output = None

    # -- plan ----------------------------------------------------------------------------------
    def plan(self):
        p = self.p
        if not os.path.isdir(self.repo):
            raise Refusal("hotfix_repo %s does not exist: set it to a checkout of the release repository" % self.repo)
        self.git = Git(self.module, self.repo)
        rc, top, dummy = self.git.run(["rev-parse", "--show-toplevel"], check=False)
        if rc != 0 or os.path.realpath(top.strip()) != os.path.realpath(self.repo):
            raise Refusal("hotfix_repo %s is not the top of a git checkout: set it to the checkout's root directory"
                          % self.repo)
        if self.git.out("rev-parse", "--is-bare-repository") == "true":
            raise Refusal("hotfix_repo %s is a bare repository: set it to a checkout with a working tree" % self.repo)

        if not p["description"].strip() or "\n" in p["description"].strip():
            raise Refusal("hotfix_description must be one line describing the fix (it becomes the tag's 'Fix:' line)")
        if parse_semver(self.version) is None:
            raise Refusal("hotfix_version %r is not a semantic version: set it like 3.7.1 (no leading v)" % self.version)
        base_commit = self.git.rev("refs/tags/%s^{commit}" % p["base_tag"])
        if not base_commit:
            raise Refusal("base tag %s does not exist in %s: set hotfix_base_tag to the released tag (git fetch --tags "
                          "if it is only on %s)" % (p["base_tag"], self.repo, self.remote))
        base_version = version_from_tag(p["base_tag"])
        if parse_semver(base_version) is None:
            raise Refusal("base tag %s does not name a semantic version: set hotfix_base_tag like v3.7.0" % p["base_tag"])
        if compare_semver(self.version, base_version) <= 0:
            major, minor, patch = parse_semver(base_version)[:3]
            raise Refusal("hotfix_version %s is not greater than the base %s: set the next patch version, e.g. %d.%d.%d"
                          % (self.version, base_version, major, minor, patch + 1))
        self.state.update(base_commit=base_commit, base_version=base_version)
        self.state["original"] = self._current_ref()
        self._refuse_dirty()
        try:
            self.version_files = normalize_version_files(p["version_files"])
        except ValueError as exc:
            raise Refusal(str(exc))

        picks = self._resolve_picks(base_commit)
        self._read_branch(picks, base_commit)
        self._read_version_files()
        self._read_tags()
        self._refuse_missing_evidence()
        self._read_remote()
        self._plan_lines()
        return self.state

    def _current_ref(self):
        rc, out, dummy = self.git.run(["symbolic-ref", "-q", "--short", "HEAD"], check=False)
        if rc == 0 and out.strip():
            return out.strip()
        return self.git.rev("HEAD")

    def _refuse_dirty(self):
        # Dirty as in git describe --dirty: changes to tracked files, staged or not. Untracked files
        # (evidence directories, build output) are not part of any commit the flow makes.
        args = ["status", "--porcelain", "--untracked-files=no", "--", "."]
        evidence = self.p.get("evidence_dir")
        if evidence:
            rel = os.path.relpath(os.path.realpath(evidence), os.path.realpath(self.repo))
            if not rel.startswith(".."):
                args.append(":(exclude)%s" % rel)
        dirty = [line for line in self.git.out(*args).splitlines() if line.strip()]
        if self.git.rev("CHERRY_PICK_HEAD") or self.git.rev("MERGE_HEAD"):
            raise Refusal("a cherry-pick or merge is in progress in %s: finish it or abort it (git cherry-pick --abort, "
                          "git merge --abort), then re-run" % self.repo)
        untracked = self.git.out("ls-files", "--others", "--exclude-standard", "--directory").splitlines()
        self.state["untracked"] = [u for u in untracked if u]
        if dirty:
            raise Refusal("the working tree of %s is not clean (%s): commit or stash the changes, then re-run"
                          % (self.repo, "; ".join(line.strip() for line in dirty[:10])
                             + ("; and %d more" % (len(dirty) - 10) if len(dirty) > 10 else "")))

    def _resolve_picks(self, base_commit):
        picks, missing = [], []
        for sha in self.p["cherry_pick"]:
            full = self.git.rev("%s^{commit}" % sha) if re.match(r"^[0-9a-fA-F]{4,40}$", sha or "") else None
            if not full:
                missing.append(sha)
                continue
            parents = self.git.out("rev-list", "--parents", "-n", "1", full).split()[1:]
            if len(parents) > 1:
                raise Refusal("fix commit %s is a merge commit: name the commits it merges in hotfix_cherry_pick" % sha)
            if self.git.ok("merge-base", "--is-ancestor", full, base_commit):
                raise Refusal("fix commit %s is already part of %s: it needs no hotfix" % (sha, self.p["base_tag"]))
            if full in picks:
                raise Refusal("fix commit %s is named twice in hotfix_cherry_pick" % sha)
            picks.append(full)
        if missing:
            raise Refusal("fix commit(s) not found in %s: %s (use full or abbreviated commit hashes; git fetch %s if "
                          "they are only on %s)" % (self.repo, ", ".join(missing), self.remote, self.remote))
        self.state["picks"] = picks
        return picks

    def _branch_commits(self, base_commit, head):
        commits = []
        out = self.git.out("log", "--reverse", "--format=%H%x00%s%x00%B%x01", "%s..%s" % (base_commit, head))
        for record in out.split("\x01"):
            record = record.strip("\n")
            if not record:
                continue
            sha, subject, body = (record.split("\x00") + ["", ""])[:3]
            found = CHERRY_PICK_TRAILER.findall(body)
            commits.append({"sha": sha, "subject": subject, "cherry_picked_from": found[-1] if found else None})
        return commits

    def _read_branch(self, picks, base_commit):
        head = self.git.rev("refs/heads/%s" % self.branch)
        self.state.update(branch_exists=bool(head), branch_head=head, pending=list(picks), bump_done=False,
                          commits=[], fixes=[])
        bump_subject = BUMP_SUBJECT % self.version
        if not head:
            if not picks:
                raise Refusal("hotfix_cherry_pick is empty and branch %s does not exist: name the fix commits in "
                              "hotfix_cherry_pick, or commit the fix on %s (from %s) and re-run"
                              % (self.branch, self.branch, self.p["base_tag"]))
            self.state["fixes"] = list(picks)
            return
        if not self.git.ok("merge-base", "--is-ancestor", base_commit, head):
            raise Refusal("branch %s exists but does not start from %s: it is not reused; delete or rename it after "
                          "review (git branch -m %s %s-old), then re-run"
                          % (self.branch, self.p["base_tag"], self.branch, self.branch))
        commits = self._branch_commits(base_commit, head)
        self.state["commits"] = commits
        # Bump commits may sit anywhere (a fix added after a refused gate follows the bump);
        # whether the version is bumped is judged from the files (see _read_version_files).
        body = [c for c in commits if c["subject"] != bump_subject]
        if picks:
            applied = [c["cherry_picked_from"] for c in body]
            if None in applied or applied != picks[:len(applied)]:
                raise Refusal(
                    "branch %s already exists with other commits (%s) than the cherry-picks of %s: it is not reused; "
                    "delete it after review (git branch -D %s), or leave hotfix_cherry_pick empty to release the "
                    "commits on it" % (self.branch, "; ".join("%s %s" % (c["sha"][:12], c["subject"]) for c in body)
                                       or "none", ", ".join(s[:12] for s in picks), self.branch))
            self.state["pending"] = picks[len(applied):]
            self.state["fixes"] = list(picks)
        else:
            if not body:
                raise Refusal("branch %s has no fix commit on top of %s: commit the fix on it or name the fix commits "
                              "in hotfix_cherry_pick" % (self.branch, self.p["base_tag"]))
            self.state["pending"] = []
            self.state["fixes"] = [c["cherry_picked_from"] or c["sha"] for c in body]
            self.state["direct"] = [c["sha"] for c in body]

    def _read_tags(self):
        tag_object = self.git.rev("refs/tags/%s" % self.tag)
        self.state.update(tag_object=tag_object, tag_ours=False)
        if not tag_object:
            return
        kind = self.git.out("cat-file", "-t", tag_object)
        target = self.git.rev("refs/tags/%s^{commit}" % self.tag)
        message = ""
        if kind == "tag":
            message = self._tag_message(tag_object)
        prefix = tag_message_prefix(self.version, self.p["description"].strip(), self.state["fixes"])
        ours = (kind == "tag" and self.state["branch_exists"] and self.state["bump_done"] and not self.state["pending"]
                and target == self.state["branch_head"] and message.startswith(prefix))
        if not ours:
            raise Refusal("tag %s already exists (%s at %s) and is not this hotfix's: it is never moved or forced; "
                          "choose another hotfix_version, or delete the tag after review (git tag -d %s)"
                          % (self.tag, "annotated" if kind == "tag" else "lightweight", (target or "?")[:12], self.tag))
        self.state["tag_ours"] = True
        self.tested = message[len(prefix):].strip() or None
        self.state["tag_message"] = message

    def _tag_message(self, tag_object):
        raw = self.git.run(["cat-file", "tag", tag_object])[1]
        message = raw.partition("\n\n")[2]
        message = re.split(r"\n-----BEGIN (?:PGP|SSH) SIGNATURE-----", message)[0]
        return message.rstrip("\n")

    def _read_version_files(self):
        rev = self.state["branch_head"] or self.state["base_commit"]
        planned = []
        for entry in self.version_files:
            rc, text, dummy = self.git.run(["show", "%s:%s" % (rev, entry["path"])], check=False)
            if rc != 0:
                raise Refusal("version file %s does not exist at %s: remove it from hotfix_version_files or give the "
                              "right path" % (entry["path"], self.state["branch_head"] and self.branch or self.p["base_tag"]))
            try:
                old, dummy = bump_text(text, entry["regex"], self.version)
            except ValueError:
                raise Refusal("version file %s has no version to bump (regex %s matches nothing): fix the regex in "
                              "hotfix_version_files or remove the file" % (entry["path"], entry["regex"]))
            planned.append({"path": entry["path"], "from": old, "to": self.version})
        self.state["version_files"] = planned
        self.state["bump_done"] = bool(self.state["branch_head"]) and all(f["from"] == self.version for f in planned)

    def _changed_files(self):
        commits = self.state["picks"] or self.state.get("direct") or []
        files = set()
        for sha in commits:
            out = self.git.out("diff-tree", "--no-commit-id", "--name-status", "-r", "--root", sha)
            for line in out.splitlines():
                parts = line.split("\t")
                if len(parts) >= 2 and not parts[0].startswith("D"):
                    files.add(parts[-1])
        return sorted(files)

    def _refuse_missing_evidence(self):
        p = self.p
        missing = []
        changed = self._changed_files()
        regression = matching_paths(changed, p["regression_glob"])
        self.state["regression_tests"] = regression
        if not regression:
            missing.append("regression test: the fix commits add or change no file matching %s (they change: %s); "
                           "add a test that covers the bug to the fix" % (p["regression_glob"], ", ".join(changed) or "nothing"))
        if p["security"] and not (p["security_signoff"] or "").strip():
            missing.append("security review: hotfix_security is true but hotfix_security_signoff is empty; set it to "
                           "the security lead who signed off")
        self.state["staging"] = None
        if p["staging_evidence"]:
            problem, document = read_staging_evidence(p["staging_evidence"], self.version)
            if problem:
                missing.append(problem)
            else:
                self.state["staging"] = document
        if missing and not self.state["tag_ours"]:
            raise Refusal("evidence missing before %s can be tagged: %s" % (self.tag, " | ".join(missing)), missing)

    def _read_remote(self):
        p = self.p
        rc, url, dummy = self.git.run(["remote", "get-url", self.remote], check=False)
        self.state.update(remote_url=url.strip() if rc == 0 else None, remote_tag=None, remote_branch=None,
                          remote_main=None, main_head=self.git.rev("refs/heads/%s" % self.main))
        if rc != 0:
            if p["push"]:
                raise Refusal("hotfix_push is true but %s has no remote %s: add it (git remote add %s <url>) or set "
                              "hotfix_push to false" % (self.repo, self.remote, self.remote))
            return
        refs = ["refs/tags/%s" % self.tag, "refs/heads/%s" % self.branch, "refs/heads/%s" % self.main]
        try:
            out = self.git.out("ls-remote", self.remote, *refs)
        except GitError as exc:
            raise Refusal("cannot reach %s to check for an existing tag %s: %s" % (self.remote, self.tag, exc))
        remote = dict((line.split("\t")[1], line.split("\t")[0]) for line in out.splitlines() if "\t" in line)
        self.state.update(remote_tag=remote.get(refs[0]), remote_branch=remote.get(refs[1]),
                          remote_main=remote.get(refs[2]))
        if self.state["remote_tag"] and self.state["remote_tag"] != self.state["tag_object"]:
            raise Refusal("tag %s already exists on %s (%s) and is not this hotfix's: it is never forced; choose another "
                          "hotfix_version" % (self.tag, self.remote, self.state["remote_tag"][:12]))
        remote_branch, local_branch = self.state["remote_branch"], self.state["branch_head"]
        if remote_branch and not local_branch:
            raise Refusal("branch %s exists on %s but not here: someone started this hotfix; fetch it (git fetch %s "
                          "%s:%s) and re-run" % (self.branch, self.remote, self.remote, self.branch, self.branch))
        if p["push"] and remote_branch and not self._contains(local_branch, remote_branch):
            raise Refusal("%s/%s has commits the local %s lacks: the push would be rejected (it is never forced); "
                          "review them and update the local branch, then re-run" % (self.remote, self.branch, self.branch))
        if p["push"] and p["merge_main"] and self.state["remote_main"] and self.state["main_head"] and \
                not self._contains(self.state["main_head"], self.state["remote_main"]):
            raise Refusal("%s/%s has commits the local %s lacks: pull them first (git pull --ff-only %s %s), then "
                          "re-run" % (self.remote, self.main, self.main, self.remote, self.main))
        if p["merge_main"] and not self.state["main_head"]:
            raise Refusal("hotfix_merge_main is true but there is no local branch %s: create it from %s/%s or set "
                          "hotfix_main_branch" % (self.main, self.remote, self.main))

    def _contains(self, head, commit):
        """Whether ``commit`` (maybe not even fetched) is reachable from ``head``."""
        return bool(head) and (head == commit or self.git.ok("merge-base", "--is-ancestor", commit, head))

    def _plan_lines(self):
        s, lines = self.state, []
        if not s["branch_exists"]:
            lines.append("create branch %s from %s (%s)" % (self.branch, self.p["base_tag"], s["base_commit"][:12]))
        else:
            lines.append("reuse branch %s (%d commit(s) on %s)" % (self.branch, len(s["commits"]), self.p["base_tag"]))
        for sha in s["pending"]:
            lines.append("cherry-pick -x %s" % sha)
        if not s["bump_done"]:
            lines.append("bump %s to %s and commit '%s'" % (
                ", ".join("%s (%s)" % (f["path"], f["from"]) for f in s["version_files"]), self.version,
                BUMP_SUBJECT % self.version))
        if s["tag_ours"]:
            lines.append("tag %s exists from an earlier run of this hotfix: keep it" % self.tag)
        else:
            lines.append("run the evidence gate: %s; regression test(s) %s%s%s" % (
                self.p["test_command"], ", ".join(s["regression_tests"]),
                "; security sign-off by %s" % self.p["security_signoff"] if self.p["security"] else "",
                "; staging verification %s PASS" % self.p["staging_evidence"] if self.p["staging_evidence"] else ""))
            lines.append("tag -a %s with the runbook's patch release message" % self.tag)
        if self.p["push"]:
            lines.append("push %s and %s to %s" % (self.branch, self.tag, self.remote))
        if self.p["merge_main"]:
            pushed = " and push %s" % self.main if self.p["push"] else ""
            lines.append("merge %s into %s (merge commit)%s" % (self.branch, self.main, pushed))
        if s.get("untracked"):
            lines.append("note: %d untracked path(s) in the checkout are left alone (%s)" % (
                len(s["untracked"]), ", ".join(s["untracked"][:5])))
        lines.append("return the checkout to %s" % s["original"])
        self.plan_lines = lines

    def would_change(self):
        """Whether apply() has anything left to do (what check mode reports as changed)."""
        s = self.state
        if not s:
            return False
        merged = bool(s["main_head"] and s["branch_head"]
                      and self.git.ok("merge-base", "--is-ancestor", s["branch_head"], s["main_head"]))
        return bool(not s["branch_exists"] or s["pending"] or not s["bump_done"] or not s["tag_ours"]
                    or (self.p["push"] and (s["remote_tag"] != s["tag_object"] or s["remote_branch"] != s["branch_head"]))
                    or (self.p["merge_main"] and (not merged or (self.p["push"] and s["remote_main"] != s["main_head"]))))

    # -- apply ---------------------------------------------------------------------------------
    def apply(self):
        """Run the steps; always return the checkout to the ref it was on."""
        try:
            self._cherry_pick()
            self._bump()
            self._gate()
            self._make_tag()
            self._push()
            self._merge()
        finally:
            self._restore()

    def _checkout(self, ref):
        if self._current_ref() != ref:
            self.git.run(["checkout", "-q", ref])

    def _restore(self):
        original = self.state.get("original")
        if not original or not self.git:
            return
        if self.git.rev("CHERRY_PICK_HEAD"):
            self.git.run(["cherry-pick", "--abort"], check=False)
        if self.git.rev("MERGE_HEAD"):
            self.git.run(["merge", "--abort"], check=False)
        self.git.run(["checkout", "-q", original], check=False)

    def _cherry_pick(self):
        s = self.state
        if not s["branch_exists"]:
            self.git.run(["branch", self.branch, s["base_commit"]])
            self.actions.append("created branch %s from %s" % (self.branch, self.p["base_tag"]))
            s["branch_exists"] = True
        if not s["pending"]:
            return
        before = self.git.rev("refs/heads/%s" % self.branch)
        created = not s["branch_head"]
        self._checkout(self.branch)
        for sha in s["pending"]:
            rc, out, err = self.git.run(["cherry-pick", "-x", sha], check=False)
            if rc == 0:
                self.actions.append("cherry-picked %s" % sha[:12])
                continue
            conflicts = [f for f in self.git.out("diff", "--name-only", "--diff-filter=U").splitlines() if f]
            self.git.run(["cherry-pick", "--abort"], check=False)
            self.git.run(["reset", "-q", "--hard", before], check=False)
            self.git.run(["checkout", "-q", s["original"]], check=False)
            if created:
                self.git.run(["branch", "-D", self.branch], check=False)
            else:
                self.git.run(["update-ref", "refs/heads/%s" % self.branch, before], check=False)
            s["branch_exists"] = not created
            del self.actions[:]
            if conflicts:
                raise Refusal("cherry-pick of %s onto %s conflicts in %s: aborted, %s is back on %s and unchanged; "
                              "backport the fix by hand on %s (or cherry-pick its prerequisites first)"
                              % (sha[:12], self.p["base_tag"], ", ".join(conflicts), self.repo, s["original"], self.branch))
            raise Refusal("cherry-pick of %s onto %s failed (%s): aborted, %s is back on %s and unchanged"
                          % (sha[:12], self.p["base_tag"], " ".join((err or out).split())[:300], self.repo, s["original"]))
        s["pending"] = []

    def _bump(self):
        if self.state["bump_done"]:
            return
        self._checkout(self.branch)
        changed = []
        for entry in self.version_files:
            path = os.path.join(self.repo, entry["path"])
            with open(path) as handle:
                text = handle.read()
            try:
                old, new_text = bump_text(text, entry["regex"], self.version)
            except ValueError:
                raise Refusal("version file %s on %s has no version to bump (regex %s matches nothing)"
                              % (entry["path"], self.branch, entry["regex"]))
            if new_text != text:
                with open(path, "w") as handle:
                    handle.write(new_text)
                changed.append(entry["path"])
        if changed:
            self.git.run(["add", "--"] + changed)
            self.git.run(["commit", "-q", "-m", BUMP_SUBJECT % self.version])
            self.actions.append("bumped %s to %s" % (", ".join(changed), self.version))
        self.state["bump_done"] = True

    def _gate(self):
        if self.state["tag_ours"]:
            return
        self._checkout(self.branch)
        try:
            argv = shlex.split(self.p["test_command"])
        except ValueError as exc:
            raise Refusal("hotfix_test_command cannot be split into arguments: %s" % exc)
        if not argv:
            raise Refusal("hotfix_test_command is empty: set the command that runs the tests")
        env = {"PYTHONDONTWRITEBYTECODE": "1"}
        try:
            rc, out, err = self.module.run_command(argv, cwd=self.repo, environ_update=env, handle_exceptions=False)
        except OSError as exc:
            rc, out, err = 127, "", str(exc)
        output = redact_text((out or "") + (("\n" + err) if err else ""), self.module.no_log_values)
        self.test_output = "$ %s\n%s" % (self.p["test_command"], output)
        summary = summary_line(output)
        self.actions.append("ran %s on %s: %s" % (self.p["test_command"], self.branch, summary or "exit %d" % rc))
        if rc != 0:
            raise Refusal("tests fail on %s (exit %d: %s): %s, then re-run; the branch is kept and will be reused"
                          % (self.branch, rc, summary or "no output",
                             "cherry-pick the missing fix onto it by naming it in hotfix_cherry_pick" if self.p["cherry_pick"]
                             else "commit the fix on %s" % self.branch),
                          ["tests: %s" % (summary or "exit %d" % rc)])
        if not summary:
            raise Refusal("the test command printed no summary line to record: make it print one (pytest -q does)")
        self.tested = summary

    def _make_tag(self):
        if self.state["tag_ours"]:
            return
        message = render_tag_message(self.version, self.p["description"].strip(), self.state["fixes"], self.tested)
        handle, path = tempfile.mkstemp(prefix="hotfix-tag-")
        try:
            with os.fdopen(handle, "w") as out:
                out.write(message + "\n")
            self.git.run(["tag", "-a", "--cleanup=verbatim", "-F", path, self.tag, "refs/heads/%s" % self.branch])
        finally:
            os.unlink(path)
        self.actions.append("tagged %s" % self.tag)
        self.state.update(tag_ours=True, tag_object=self.git.rev("refs/tags/%s" % self.tag), tag_message=message)

    def _push(self):
        s = self.state
        if not self.p["push"]:
            return
        head = self.git.rev("refs/heads/%s" % self.branch)
        if s["remote_branch"] != head:
            try:
                self.git.run(["push", "--porcelain", self.remote, "refs/heads/%s:refs/heads/%s" % (self.branch, self.branch)])
            except GitError as exc:
                raise Refusal("pushing %s to %s failed: %s (tag %s is made locally; a re-run pushes it)"
                              % (self.branch, self.remote, exc, self.tag))
            self.actions.append("pushed %s to %s" % (self.branch, self.remote))
            s["remote_branch"] = head
        if s["remote_tag"] != s["tag_object"]:
            try:
                self.git.run(["push", "--porcelain", self.remote, "refs/tags/%s:refs/tags/%s" % (self.tag, self.tag)])
            except GitError as exc:
                raise Refusal("pushing tag %s to %s failed: %s (a re-run pushes it)" % (self.tag, self.remote, exc))
            self.actions.append("pushed tag %s to %s" % (self.tag, self.remote))
            s["remote_tag"] = s["tag_object"]

    def _merge(self):
        s = self.state
        if not self.p["merge_main"]:
            return
        head = self.git.rev("refs/heads/%s" % self.branch)
        if not self.git.ok("merge-base", "--is-ancestor", head, "refs/heads/%s" % self.main):
            before = self.git.rev("refs/heads/%s" % self.main)
            self._checkout(self.main)
            rc, out, err = self.git.run(["merge", "--no-ff", "--no-edit", "-m",
                                         "Merge branch '%s' into %s" % (self.branch, self.main), self.branch], check=False)
            if rc != 0:
                conflicts = [f for f in self.git.out("diff", "--name-only", "--diff-filter=U").splitlines() if f]
                self.git.run(["merge", "--abort"], check=False)
                self.git.run(["reset", "-q", "--hard", before], check=False)
                raise Refusal("merging %s into %s conflicts in %s: aborted, %s is unchanged; merge it by hand "
                              "(git checkout %s && git merge %s)" % (self.branch, self.main,
                                                                     ", ".join(conflicts) or " ".join((err or out).split())[:300],
                                                                     self.main, self.main, self.branch))
            self.actions.append("merged %s into %s" % (self.branch, self.main))
        s["main_head"] = self.git.rev("refs/heads/%s" % self.main)
        if self.p["push"] and s["remote_main"] != s["main_head"]:
            try:
                self.git.run(["push", "--porcelain", self.remote, "refs/heads/%s:refs/heads/%s" % (self.main, self.main)])
            except GitError as exc:
                raise Refusal("pushing %s to %s failed: %s (merge is done locally; update %s and re-run)"
                              % (self.main, self.remote, exc, self.main))
            self.actions.append("pushed %s to %s" % (self.main, self.remote))
            s["remote_main"] = s["main_head"]

    # -- outcome -------------------------------------------------------------------------------
    def outcome(self):
        """What exists now: the content of result.json (without ``refused``)."""
        s, git = self.state, self.git
        branch_head = git.rev("refs/heads/%s" % self.branch) if git else None
        tag_object = git.rev("refs/tags/%s" % self.tag) if git else None
        commits = []
        if branch_head and s.get("base_commit"):
            commits = self._branch_commits(s["base_commit"], branch_head)
        pushed = bool(tag_object and s.get("remote_tag") == tag_object and s.get("remote_branch") == branch_head)
        main_head = git.rev("refs/heads/%s" % self.main) if git else None
        merged = bool(branch_head and main_head and git.ok("merge-base", "--is-ancestor", branch_head, main_head))
        return {
            "version": self.version,
            "base_tag": self.p["base_tag"],
            "branch": self.branch if branch_head else None,
            "tag": self.tag if tag_object else None,
            "commits": commits,
            "cherry_picked_from": list(s.get("fixes") or []),
            "tested": self.tested,
            "pushed": pushed,
            "merged": merged,
        }


def write_hotfix_evidence(evidence_dir, flow, result):
    """Write the evidence files of one run and return their paths by name."""
    paths = {}
    if not evidence_dir:
        return paths
    p = flow.p
    if flow.test_output is not None:
        paths["tests"] = write_evidence(evidence_dir, "tests.log", flow.test_output)
    if p["security"] and (p["security_signoff"] or "").strip():
        paths["security_signoff"] = write_evidence(evidence_dir, "security_signoff.txt", (
            "Security review of %s (%s)\nSigned off by: %s\nRecorded: %s\n"
            % (flow.tag, p["description"].strip(), p["security_signoff"].strip(), utc_now_iso())))
    if flow.state.get("staging") is not None:
        paths["staging_verification"] = write_evidence(evidence_dir, "staging_checklist.json",
                                                       json.dumps(flow.state["staging"], indent=2, sort_keys=True) + "\n")
    if flow.state.get("tag_message"):
        paths["tag_message"] = write_evidence(evidence_dir, "tag_message.txt", flow.state["tag_message"] + "\n")
    result = dict(result, evidence=dict(paths))
    paths["result"] = write_evidence(evidence_dir, "result.json", json.dumps(result, indent=2, sort_keys=True) + "\n")
    return paths
