"""Row 4.4 on two markups of the login page, each UI fault turning exactly 4.4 red, and the
runbook's SameSite rule of row 3.2, against the real reference stack and headless Chromium."""

import json

import pytest

from .conftest import assert_no_traceback

AUTH_TAGS = ["--tags", "auth"]
AUTH_ROWS = ("3.2", "4.1", "4.2", "4.3", "4.4")
VARIANTS = {"standard": (), "plain": ("ui_plain_markup",)}
# fault -> (the findings of 4.4 that fail, a text its summary carries)
UI_FAULTS = {
    "ui_dashboard_without_name": (["user name"], "expected 'Dana Dispatcher'"),
    "ui_dashboard_console_error": (["console"], "/platform/static/admin"),
    "ui_login_redirects_elsewhere": (["redirect"], "landed on /platform/welcome"),
    # Chromium also logs the refused login's HTTP 401 as a console error: both are true.
    "ui_login_rejects_valid_password": (["redirect", "console"], "instead of redirecting to /platform-admin"),
}


def assert_only_red(run, red):
    for check_id in AUTH_ROWS:
        row = run.row(check_id)
        if check_id in red:
            assert row["status"] == "FAIL", json.dumps(row, indent=1)
        else:
            assert row["status"] in ("PASS", "WARN"), json.dumps(row, indent=1)


def failed(row):
    return [f["name"] for f in row["findings"] if f["status"] in ("FAIL", "ERROR")]


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_healthy_login_page_passes_4_4(variant, api_faults, verify):
    api_faults(*VARIANTS[variant])
    run = verify(args=AUTH_TAGS)
    assert_only_red(run, red=())
    row = run.row("4.4")
    assert "Dana Dispatcher" in row["summary"] and "the page header" in row["summary"]
    controls = [f["controls"] for f in row["findings"] if f["name"] == "login page"][0]
    if variant == "plain":
        # No ids and no type=email: found by autocomplete, type=password and the button without a type.
        assert "[type=text]" in controls["email"] and "[autocomplete=username]" in controls["email"]
        assert controls["password"].startswith("input[type=password]")
        assert controls["submit"].startswith("button") and "[id=" not in json.dumps(controls)
    else:
        assert controls == {"email": "input[type=email][name=email][id=email][autocomplete=username]",
                            "password": "input[type=password][name=password][id=password][autocomplete=current-password]",
                            "submit": "button[type=submit][id=login-submit]"}
    assert run.rc == 0, run.output[-2000:]
    assert_no_traceback(run)


@pytest.mark.parametrize("variant", sorted(VARIANTS))
@pytest.mark.parametrize("fault", sorted(UI_FAULTS))
def test_ui_fault_turns_only_4_4_red(fault, variant, api_faults, verify):
    api_faults(fault, *VARIANTS[variant])
    run = verify(args=AUTH_TAGS, extra_vars={"auth_smoke_ui_timeout": 8})
    assert_only_red(run, red=("4.4",))
    findings, text = UI_FAULTS[fault]
    row = run.row("4.4")
    assert failed(row) == findings, json.dumps(row, indent=1)
    assert text in row["summary"], row["summary"]
    assert run.rc != 0
    assert_no_traceback(run)


@pytest.mark.parametrize("fault,text", [
    ("cookie_samesite_none_secure", "SameSite=None (sent on cross-site requests; the runbook asks Lax or Strict)"),
    ("cookie_no_samesite", "no SameSite attribute"),
])
def test_samesite_other_than_lax_or_strict_fails_3_2(fault, text, api_faults, verify):
    api_faults(fault)
    run = verify(args=AUTH_TAGS)
    # The browser keeps these cookies (Secure, same-site navigation), so only 3.2 turns red.
    assert_only_red(run, red=("3.2",))
    assert text in run.row("3.2")["summary"], run.row("3.2")
    assert run.rc != 0
