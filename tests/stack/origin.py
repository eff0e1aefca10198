"""A local bare git repository that stands in for SOLVEREIGN's origin.

History (dates fixed, so every hash is the same on every machine):

    v3.6.0 --- v3.6.2 --- release commit (v3.7.0, annotated "GA Release: SOLVEREIGN v3.7.0") --- main

Faults change the v3.7.0 tag only:
    tag_missing        no v3.7.0 tag on origin
    tag_lightweight    v3.7.0 is a lightweight tag
    tag_wrong_commit   v3.7.0 points at the commit after the release commit
    tag_wrong_message  v3.7.0's message says "Release candidate" instead of "GA Release"
"""

import os
import shutil
import subprocess
import tempfile

ORIGIN_FAULTS = ("tag_missing", "tag_lightweight", "tag_wrong_commit", "tag_wrong_message")

_ENV = {
    "GIT_AUTHOR_NAME": "SOLVEREIGN Release Bot",
    "GIT_AUTHOR_EMAIL": "release@solvereign.example.com",
    "GIT_COMMITTER_NAME": "SOLVEREIGN Release Bot",
    "GIT_COMMITTER_EMAIL": "release@solvereign.example.com",
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "LC_ALL": "C",
}


def _git(args, cwd, date="2026-01-11T09:00:00+00:00"):
    env = dict(os.environ)
    env.update(_ENV)
    env["GIT_AUTHOR_DATE"] = env["GIT_COMMITTER_DATE"] = date
    out = subprocess.run(["git"] + args, cwd=cwd, env=env, check=True, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, timeout=60)
    return out.stdout.strip()


def _commit(work, path, text, message, date):
    with open(os.path.join(work, path), "w") as handle:
        handle.write(text)
    _git(["add", path], work, date)
    _git(["commit", "-q", "-m", message], work, date)
    return _git(["rev-parse", "HEAD"], work, date)


def create_origin(path, faults=()):
    """(Re)create the bare repository at ``path``; return {"release_commit", "next_commit"}."""
    unknown = set(faults) - set(ORIGIN_FAULTS)
    if unknown:
        raise ValueError("unknown origin fault(s): %s" % ", ".join(sorted(unknown)))
    shutil.rmtree(path, ignore_errors=True)
    work = tempfile.mkdtemp(prefix="solvereign-origin-work-")
    try:
        _git(["init", "-q", "-b", "main", work], work)
        _commit(work, "VERSION", "3.6.0\n", "chore: release 3.6.0", "2025-11-02T10:00:00+00:00")
        _git(["tag", "-a", "v3.6.0", "-m", "GA Release: SOLVEREIGN v3.6.0"], work, "2025-11-02T10:05:00+00:00")
        _commit(work, "VERSION", "3.6.2\n", "fix: release 3.6.2", "2025-12-01T10:00:00+00:00")
        _git(["tag", "-a", "v3.6.2", "-m", "Patch Release: SOLVEREIGN v3.6.2"], work, "2025-12-01T10:05:00+00:00")
        release = _commit(work, "VERSION", "3.7.0\n", "chore: release 3.7.0", "2026-01-11T09:00:00+00:00")
        following = _commit(work, "CHANGELOG", "unreleased\n", "docs: start 3.7.1 changelog", "2026-01-12T09:00:00+00:00")
        if "tag_missing" not in faults:
            target = following if "tag_wrong_commit" in faults else release
            if "tag_lightweight" in faults:
                _git(["tag", "v3.7.0", target], work)
            else:
                title = "Release candidate" if "tag_wrong_message" in faults else "GA Release"
                _git(["tag", "-a", "v3.7.0", target, "-m",
                      "%s: SOLVEREIGN v3.7.0\n\nRoutes, RLS hardening (041) and webhook signatures." % title],
                     work, "2026-01-11T09:30:00+00:00")
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        _git(["clone", "-q", "--bare", work, path], os.path.dirname(os.path.abspath(path)))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return {"release_commit": release, "next_commit": following}


if __name__ == "__main__":  # pragma: no cover - manual use
    import json
    import sys

    print(json.dumps(create_origin(sys.argv[1], sys.argv[2:])))
