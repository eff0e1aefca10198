"""Set-Cookie parsing and judging (module_utils/cookies.py)."""

import pytest

from ansible_collections.solvereign.release_ops.plugins.module_utils import cookies as ck


def judge(header, https=True):
    return ck.judge_cookie(ck.parse_set_cookie(header), https)


def test_parse_keeps_no_value():
    cookie = ck.parse_set_cookie("__Host-session=s3cr3tvalue; Path=/; Secure; HttpOnly; SameSite=Lax")
    assert cookie["name"] == "__Host-session" and cookie["has_value"]
    assert cookie["secure"] and cookie["httponly"] and cookie["samesite"] == "lax" and cookie["path"] == "/"
    assert "s3cr3tvalue" not in repr(cookie)
    assert "s3cr3tvalue" not in ck.describe(cookie)


def test_attribute_names_are_case_insensitive():
    cookie = ck.parse_set_cookie("sid=x; secure; HTTPONLY; samesite=STRICT; path=/; DOMAIN=example.com")
    assert cookie["secure"] and cookie["httponly"] and cookie["samesite"] == "strict"
    assert cookie["domain"] == "example.com"


@pytest.mark.parametrize("header,status,text", [
    ("__Host-session=v; Path=/; Secure; HttpOnly; SameSite=Lax", "PASS", ""),
    ("sid=v; Path=/; Secure; HttpOnly; SameSite=Strict", "PASS", ""),
    ("sid=v; Path=/; Secure; SameSite=Lax", "FAIL", "no HttpOnly"),
    ("sid=v; Path=/; HttpOnly; SameSite=Lax", "FAIL", "no Secure"),
    ("sid=v; Path=/; Secure; HttpOnly", "FAIL", "no SameSite attribute (browsers default to Lax"),
    ("sid=v; Path=/; Secure; HttpOnly; SameSite=None", "FAIL", "SameSite=None (sent on cross-site requests"),
    ("sid=v; Path=/; Secure; HttpOnly; SameSite=none", "FAIL", "the runbook asks Lax or Strict"),
    ("sid=v; Path=/; Secure; HttpOnly; SameSite", "FAIL", "not a valid value"),
    ("sid=v; Path=/; HttpOnly; SameSite=None", "FAIL", "SameSite=None without Secure"),
    ("sid=v; Secure; HttpOnly; SameSite=Sometimes", "FAIL", "not a valid value"),
    ("__Host-sid=v; Path=/; HttpOnly; SameSite=Lax", "FAIL", "__Host- prefix requires Secure"),
    ("__Host-sid=v; Path=/app; Secure; HttpOnly; SameSite=Lax", "FAIL", "requires Path=/"),
    ("__Host-sid=v; Secure; HttpOnly; SameSite=Lax", "FAIL", "requires Path=/ (got no Path)"),
    ("__Host-sid=v; Path=/; Domain=example.com; Secure; HttpOnly; SameSite=Lax", "FAIL", "forbids Domain"),
    ("__host-sid=v; Path=/; HttpOnly; SameSite=Lax", "FAIL", "__Host- prefix"),
    ("__Secure-sid=v; HttpOnly; SameSite=Lax", "FAIL", "__Secure- prefix requires Secure"),
    ("__Secure-sid=v; Secure; HttpOnly; SameSite=Lax; Domain=example.com", "PASS", ""),
])
def test_judge(header, status, text):
    got, problems, dummy = judge(header)
    assert got == status, problems
    assert text in "; ".join(problems)


def test_plain_http_note():
    status, dummy, notes = judge("sid=v; Path=/; Secure; HttpOnly; SameSite=Lax", https=False)
    assert status == "PASS" and "HTTPS" in notes[0]


@pytest.mark.parametrize("header,deletion", [
    ("sid=; Path=/; Max-Age=0", True),
    ('sid=""; Path=/', True),
    ("sid=v; Max-Age=0", True),
    ("sid=v; Max-Age=3600", False),
    ("sid=v", False),
])
def test_is_deletion(header, deletion):
    assert ck.is_deletion(ck.parse_set_cookie(header)) is deletion
