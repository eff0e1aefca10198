"""Last known good version: semantic-version order, pre-releases and reverted tags excluded."""

import pytest

from ansible_collections.solvereign.release_ops.plugins.module_utils.release_versions import (
    VersionError,
    classify_tags,
    image_tag,
    is_release,
    last_good_version,
    parse_ls_remote,
    parse_version,
    same_version,
)

TAGS = ["v3.6.2", "v3.6.9", "v3.6.10", "v3.6.11-rc1", "v3.7.0"]


def test_runbook_tags_pick_v3_6_10():
    assert last_good_version(TAGS, "v3.7.0") == "v3.6.10"


def test_semver_order_not_text_order():
    releases, excluded = classify_tags(TAGS + ["latest", "v3.7.0-reverted"])
    assert releases == ["v3.7.0", "v3.6.10", "v3.6.9", "v3.6.2"]
    assert {e["tag"]: e["reason"] for e in excluded} == {
        "latest": "not a version", "v3.6.11-rc1": "pre-release", "v3.7.0-reverted": "reverted release"}


@pytest.mark.parametrize("failed, expected", [("v3.6.10", "v3.6.9"), ("v3.6.9", "v3.6.2"), ("3.7.0", "v3.6.10"),
                                              ("v3.8.0", "v3.7.0")])
def test_older_than_the_failed_release(failed, expected):
    assert last_good_version(TAGS, failed) == expected


def test_a_reverted_release_is_never_the_target():
    assert last_good_version(TAGS + ["v3.6.10-reverted"], "v3.7.0") == "v3.6.9"


def test_a_pre_release_is_never_the_target():
    assert last_good_version(["v3.6.2", "v3.6.11-rc1"], "v3.7.0") == "v3.6.2"


def test_nothing_older_names_rollback_version():
    with pytest.raises(VersionError, match="set rollback_version"):
        last_good_version(["v3.7.0", "v3.7.1-rc1"], "v3.7.0")


@pytest.mark.parametrize("explicit, expected", [("v3.6.9", "v3.6.9"), ("3.6.2", "v3.6.2")])
def test_explicit_version(explicit, expected):
    assert last_good_version(TAGS, "v3.7.0", explicit) == expected


@pytest.mark.parametrize("explicit, message", [
    ("v3.6.11-rc1", "not a release version"),
    ("v3.7.0", "not older than the failed release"),
    ("v3.6.5", "not a tag of the repository"),
    ("banana", "not a release version"),
])
def test_explicit_version_refused(explicit, message):
    with pytest.raises(VersionError, match=message):
        last_good_version(TAGS, "v3.7.0", explicit)


def test_failed_release_must_be_a_version():
    with pytest.raises(VersionError, match="solvereign_release_tag"):
        last_good_version(TAGS, "main")


def test_parse_and_compare():
    assert parse_version("v3.6.10") == (3, 6, 10, "")
    assert parse_version("3.6.11-rc1") == (3, 6, 11, "rc1")
    assert parse_version("v3.6") is None and parse_version("") is None and parse_version(None) is None
    assert is_release("v3.6.10") and not is_release("v3.6.11-rc1") and not is_release("v3.7.0-reverted")
    assert same_version("3.6.10", "v3.6.10") and not same_version("3.6.1", "3.6.10")


@pytest.mark.parametrize("image, tag", [
    ("solvereign/api:v3.7.0", "v3.7.0"),
    ("registry.example.com:5000/solvereign/api:v3.6.10", "v3.6.10"),
    ("registry.example.com:5000/solvereign/api", None),
    ("solvereign/api:v3.6.9@sha256:abc", "v3.6.9"),
    ("", None),
])
def test_image_tag(image, tag):
    assert image_tag(image) == tag


def test_ls_remote_peels_annotated_tags():
    text = ("1111\trefs/tags/v3.6.10\n2222\trefs/tags/v3.6.10^{}\n3333\trefs/tags/light\n"
            "4444\trefs/heads/main\n")
    assert parse_ls_remote(text) == {"v3.6.10": "2222", "light": "3333"}
