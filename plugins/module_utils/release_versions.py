# -*- coding: utf-8 -*-
# Copyright: (c) 2026, SOLVEREIGN release engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Release tags in semantic-version order, and the last known good version (runbook 8.3 step 1).

``v3.6.10`` is newer than ``v3.6.9`` (the runbook's ``git tag -l "v3.6*" --sort=-v:refname``).
Pre-releases (``v3.6.11-rc1``) and ``-reverted`` tags are never a rollback target.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

REVERTED_SUFFIX = "-reverted"
_VERSION = re.compile(r"^v?(?P<major>0|[1-9][0-9]*)\.(?P<minor>0|[1-9][0-9]*)\.(?P<patch>0|[1-9][0-9]*)"
                      r"(?:-(?P<pre>[0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$")


class VersionError(ValueError):
    """A version or tag that cannot be used; the message says what to set."""


def parse_version(text):
    """``(major, minor, patch, prerelease)`` of ``v3.6.10`` / ``3.6.10-rc1``; None when not a version."""
    match = _VERSION.match((text or "").strip())
    if not match:
        return None
    return (int(match.group("major")), int(match.group("minor")), int(match.group("patch")), match.group("pre") or "")


def is_release(tag):
    """A plain release tag: a version without pre-release part (``-rc1``, ``-reverted``, ...)."""
    parsed = parse_version(tag)
    return parsed is not None and not parsed[3]


def release_key(tag):
    """Sort key of a release tag (major, minor, patch)."""
    parsed = parse_version(tag)
    if parsed is None:
        raise VersionError("%r is not a version such as v3.6.10" % (tag,))
    return parsed[:3]


def normalize_tag(version, prefix="v"):
    """``3.6.10`` -> ``v3.6.10``; a tag stays as it is."""
    version = (version or "").strip()
    return version if version.startswith(prefix) else prefix + version


def same_version(a, b):
    """``3.6.10`` and ``v3.6.10`` are the same version."""
    pa, pb = parse_version(a), parse_version(b)
    return pa is not None and pa == pb


def classify_tags(tags):
    """Split tag names into releases (newest first) and the excluded ones with the reason."""
    releases, excluded = [], []
    for tag in sorted(set(tags)):
        parsed = parse_version(tag)
        if parsed is None:
            excluded.append({"tag": tag, "reason": "not a version"})
        elif tag.endswith(REVERTED_SUFFIX):
            excluded.append({"tag": tag, "reason": "reverted release"})
        elif parsed[3]:
            excluded.append({"tag": tag, "reason": "pre-release"})
        else:
            releases.append(tag)
    releases.sort(key=release_key, reverse=True)
    return releases, excluded


def reverted_versions(tags):
    """Versions that carry a ``-reverted`` tag (``v3.7.0-reverted`` -> ``v3.7.0``)."""
    return sorted(t[:-len(REVERTED_SUFFIX)] for t in tags if t.endswith(REVERTED_SUFFIX))


def last_good_version(tags, failed, explicit=None):
    """The rollback target: ``explicit`` when given (checked), else the newest release older than ``failed``.

    Releases that were themselves reverted are skipped. Raises VersionError saying what to set.
    """
    if parse_version(failed) is None:
        raise VersionError("the failed release %r is not a version such as v3.7.0: set solvereign_release_tag"
                           % (failed,))
    releases, excluded = classify_tags(tags)
    reverted = set(reverted_versions(tags))
    failed_key = release_key(failed)
    if explicit:
        target = normalize_tag(explicit)
        if not is_release(target):
            raise VersionError("rollback_version %r is not a release version such as v3.6.10 (pre-releases and "
                               "-reverted tags are never a rollback target)" % (explicit,))
        if target not in releases:
            raise VersionError("rollback_version %s is not a tag of the repository (releases: %s)"
                               % (target, ", ".join(releases[:8]) or "none"))
        if release_key(target) >= failed_key:
            raise VersionError("rollback_version %s is not older than the failed release %s" % (target, failed))
        return target
    older = [t for t in releases if release_key(t) < failed_key and t not in reverted]
    if not older:
        raise VersionError("no release tag older than %s in the repository (releases: %s, excluded: %s): "
                           "set rollback_version" % (failed, ", ".join(releases) or "none",
                                                     ", ".join(e["tag"] for e in excluded) or "none"))
    return older[0]


def image_tag(image):
    """The tag of an image reference (``registry:5000/solvereign/api:v3.7.0`` -> ``v3.7.0``); None without one."""
    if not image:
        return None
    name = image.split("@", 1)[0]
    last = name.rsplit("/", 1)[-1]
    if ":" not in last:
        return None
    return last.rsplit(":", 1)[1]


def parse_ls_remote(text):
    """``git ls-remote --tags`` output -> {tag: commit} (annotated tags resolved to their commit)."""
    direct, peeled = {}, {}
    for line in (text or "").splitlines():
        parts = line.split()
        if len(parts) != 2 or not parts[1].startswith("refs/tags/"):
            continue
        sha, ref = parts
        name = ref[len("refs/tags/"):]
        if name.endswith("^{}"):
            peeled[name[:-3]] = sha
        else:
            direct[name] = sha
    return dict((name, peeled.get(name, sha)) for name, sha in direct.items())
