"""Security header judging (module_utils/headers.py) and the security_headers_check module."""

import pytest

from ansible_collections.solvereign.release_ops.plugins.module_utils import headers as hdr
from ansible_collections.solvereign.release_ops.plugins.modules import security_headers_check

from .conftest import Route, run_module

GOOD = [
    ("Strict-Transport-Security", "max-age=31536000; includeSubDomains"),
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Content-Security-Policy", "default-src 'self'"),
    ("X-XSS-Protection", "1; mode=block"),
]
POLICY = hdr.merge_policy({})


def replace(headers, name, *values):
    out = [(n, v) for n, v in headers if n.lower() != name.lower()]
    return out + [(name, v) for v in values]


def results(header_list, https=True, policy=None):
    policy = POLICY if policy is None else policy
    return dict((name, (status, message, value)) for name, status, message, value
                in hdr.evaluate_headers(header_list, https, policy))


def test_runbook_headers_pass_with_xxp_advice_warn():
    judged = results(GOOD)
    assert set(judged) == {hdr.HSTS, hdr.XCTO, hdr.XFO, hdr.CSP, hdr.XXP}
    assert [judged[n][0] for n in (hdr.HSTS, hdr.XCTO, hdr.XFO, hdr.CSP)] == ["PASS"] * 4
    assert judged[hdr.XXP][0] == "WARN" and "OWASP" in judged[hdr.XXP][1]
    assert judged[hdr.XFO][2] == "DENY"


def test_names_are_case_insensitive():
    lower = [(n.lower(), v) for n, v in GOOD]
    upper = [(n.upper(), v) for n, v in GOOD]
    assert results(lower) == results(GOOD) == results(upper)


def test_xxp_advice_can_be_silenced_or_followed():
    assert results(GOOD, policy=hdr.merge_policy({"xxp_advise_modern": False}))[hdr.XXP][0] == "PASS"
    modern = hdr.merge_policy({"xxp_expected": "0"})
    assert results(replace(GOOD, "X-XSS-Protection", "0"), policy=modern)[hdr.XXP][0] == "PASS"
    assert results(replace(GOOD, "X-XSS-Protection"), policy=modern)[hdr.XXP][0] == "PASS"
    assert results(GOOD, policy=modern)[hdr.XXP][0] == "FAIL"


@pytest.mark.parametrize("values,status", [
    ((), "FAIL"),
    (("0",), "FAIL"),
    (("1",), "FAIL"),
    (("1;mode=block",), "WARN"),
    (("1; MODE=BLOCK",), "WARN"),
    (("1; mode=block", "1; mode=block"), "FAIL"),
])
def test_xxp_as_the_runbook_asks(values, status):
    assert results(replace(GOOD, "X-XSS-Protection", *values))[hdr.XXP][0] == status


@pytest.mark.parametrize("values,status,text", [
    (("max-age=31536000; includeSubDomains",), "PASS", "max-age=31536000"),
    (("max-age=63072000; includeSubDomains; preload",), "PASS", ""),
    (('max-age="31536000"; includesubdomains',), "PASS", ""),
    (("max-age=300",), "FAIL", "max-age=300 < 31536000"),
    (("max-age=31536000",), "FAIL", "includeSubDomains is missing"),
    (("includeSubDomains",), "FAIL", "max-age is missing"),
    (("max-age=abc; includeSubDomains",), "FAIL", "not a number"),
    (("max-age=31536000; includeSubDomains", "max-age=31536000; includeSubDomains"), "FAIL", "more than once"),
    (("max-age=31536000; includeSubDomains, max-age=0",), "FAIL", "more than once"),
    ((), "FAIL", "missing"),
])
def test_hsts(values, status, text):
    got, message, dummy = results(replace(GOOD, "Strict-Transport-Security", *values))[hdr.HSTS]
    assert got == status and text in message


def test_hsts_over_plain_http_says_so():
    status, message, dummy = results(GOOD, https=False)[hdr.HSTS]
    assert status == "PASS" and "only over HTTPS" in message
    status, message, dummy = results(replace(GOOD, "Strict-Transport-Security", "max-age=300"), https=False)[hdr.HSTS]
    assert status == "FAIL"


def test_hsts_preload_policy():
    policy = hdr.merge_policy({"hsts_preload": True})
    assert results(GOOD, policy=policy)[hdr.HSTS][0] == "FAIL"


@pytest.mark.parametrize("csp,status,text", [
    ("default-src 'self'", "PASS", ""),
    ("default-src 'none'; script-src 'self'; object-src 'none'", "PASS", ""),
    ("default-src 'self'; script-src 'self' 'unsafe-inline'", "FAIL", "script-src allows 'unsafe-inline'"),
    ("default-src 'self' 'unsafe-inline'", "FAIL", "default-src allows 'unsafe-inline'"),
    ("default-src 'self'; script-src 'self' 'unsafe-inline' 'nonce-abc123'", "PASS", "cancelled by a nonce"),
    ("default-src 'self'; script-src 'unsafe-inline' 'sha256-AbC='", "PASS", "cancelled"),
    ("default-src 'self'; script-src 'self' 'unsafe-eval'", "FAIL", "'unsafe-eval'"),
    ("default-src *", "FAIL", "allows *"),
    ("default-src 'self'; script-src https:", "FAIL", "allows https:"),
    ("default-src 'self'; script-src 'self' data:", "FAIL", "allows data:"),
    ("default-src 'self'; object-src *", "FAIL", "object-src (for objects) allows *"),
    ("default-src 'self'; script-src 'strict-dynamic'", "FAIL", "'strict-dynamic' without a nonce"),
    ("default-src 'self'; script-src 'strict-dynamic' 'nonce-r4nd'", "PASS", ""),
    ("default-src 'self'; default-src *", "FAIL", "repeated"),
    ("img-src 'self'", "FAIL", "neither script-src nor default-src"),
    ("DEFAULT-SRC 'SELF'", "PASS", ""),
])
def test_csp(csp, status, text):
    got, message, value = results(replace(GOOD, "Content-Security-Policy", csp))[hdr.CSP]
    assert got == status, message
    assert text in message
    assert value == csp


def test_csp_report_only_alone_is_no_csp():
    headers = replace(GOOD, "Content-Security-Policy") + [("Content-Security-Policy-Report-Only", "default-src 'self'")]
    status, message, dummy = results(headers)[hdr.CSP]
    assert status == "FAIL" and "Report-Only" in message


def test_csp_two_policies_the_strict_one_counts():
    headers = replace(GOOD, "Content-Security-Policy", "default-src *", "default-src 'self'")
    status, message, dummy = results(headers)[hdr.CSP]
    assert status == "PASS" and "2 policies" in message


def test_csp_allow_unsafe_inline_by_policy():
    policy = hdr.merge_policy({"csp_allow_unsafe_inline": True})
    headers = replace(GOOD, "Content-Security-Policy", "default-src 'self'; script-src 'self' 'unsafe-inline'")
    assert results(headers, policy=policy)[hdr.CSP][0] == "PASS"


def test_parse_csp():
    policies = hdr.parse_csp("default-src 'self'; Script-Src 'self' 'nonce-x';; script-src *, img-src data:")
    assert len(policies) == 2
    assert policies[0]["directives"]["script-src"] == ["'self'", "'nonce-x'"]
    assert policies[0]["repeated"] == ["script-src"]
    assert policies[1]["directives"] == {"img-src": ["data:"]}


@pytest.mark.parametrize("xfo,csp,status,text", [
    (("DENY",), "default-src 'self'", "PASS", ""),
    (("sameorigin",), "default-src 'self'", "PASS", ""),
    (("ALLOW-FROM https://x.example",), "default-src 'self'", "FAIL", "not one of"),
    (("DENY", "DENY"), "default-src 'self'", "FAIL", "more than once"),
    (("DENY, SAMEORIGIN",), "default-src 'self'", "FAIL", "more than once"),
    ((), "default-src 'self'", "FAIL", "can be framed"),
    ((), "default-src 'self'; frame-ancestors 'none'", "PASS", "frame-ancestors"),
    ((), "default-src 'self'; frame-ancestors *", "FAIL", "allows framing"),
])
def test_xfo(xfo, csp, status, text):
    headers = replace(replace(GOOD, "Content-Security-Policy", csp), "X-Frame-Options", *xfo)
    got, message, dummy = results(headers)[hdr.XFO]
    assert got == status and text in message


@pytest.mark.parametrize("values,status", [
    (("nosniff",), "PASS"), (("NoSniff",), "PASS"), (("nosniff", "nosniff"), "FAIL"),
    (("nosniff, nosniff",), "FAIL"), (("sniff",), "FAIL"), ((), "FAIL"),
])
def test_xcto(values, status):
    assert results(replace(GOOD, "X-Content-Type-Options", *values))[hdr.XCTO][0] == status


@pytest.mark.parametrize("values,status", [
    (("same-origin",), "PASS"), (("same-origin", "unsafe-none"), "FAIL"), (("same-origin, same-origin",), "FAIL"),
    (("bogus",), "FAIL"),
])
def test_coop_duplicates(values, status):
    assert results(GOOD + [("Cross-Origin-Opener-Policy", v) for v in values])[hdr.COOP][0] == status


def test_unknown_policy_key_is_refused():
    with pytest.raises(ValueError, match="hsts_max"):
        hdr.merge_policy({"hsts_max": 1})


def test_optional_headers_by_policy():
    policy = hdr.merge_policy({"hsts_required": False, "xfo_required": False, "csp_required": False,
                               "xcto_required": False, "xxp_expected": ""})
    judged = results([], policy=policy)
    assert set(v[0] for v in judged.values()) == {"PASS"}


# Module ------------------------------------------------------------------------------------
def module_args(server, **extra):
    args = dict(check_id="3.1", check_title="Security headers", environment="test", base_url=server.url,
                retries=0, timeout=2)
    args.update(extra)
    return args


def test_module_one_finding_per_header_per_url(server, monkeypatch):
    server.routes["/api/health"] = Route(200, {"status": "ok"}, headers=GOOD)
    server.routes["/platform/login"] = Route(200, "<html></html>", content_type="text/html",
                                             headers=replace(GOOD, "X-Frame-Options"))
    result, failed = run_module(security_headers_check.main, module_args(server), monkeypatch)
    assert not failed
    row = result["row"]
    assert row["status"] == "FAIL"
    assert len(row["findings"]) == 10
    assert [f["name"] for f in row["findings"] if f["status"] == "FAIL"] == ["/platform/login x-frame-options"]
    assert "only over HTTPS" in row["findings"][0]["message"]


def test_module_unreachable_is_error(monkeypatch):
    args = dict(check_id="3.1", check_title="Security headers", environment="test",
                base_url="http://127.0.0.1:9", retries=0, timeout=1)
    result, failed = run_module(security_headers_check.main, args, monkeypatch)
    assert not failed and result["row"]["status"] == "ERROR"
    assert "cannot connect" in result["row"]["summary"]


def test_module_error_answer_is_noted(server, monkeypatch):
    server.routes["/api/health"] = Route(503, {"status": "down"}, headers=GOOD)
    result, dummy = run_module(security_headers_check.main, module_args(server, paths=["/api/health"]),
                               monkeypatch)
    names = dict((f["name"], f["status"]) for f in result["row"]["findings"])
    assert names["/api/health"] == "WARN"


def test_module_bad_policy_fails(server, monkeypatch):
    result, failed = run_module(security_headers_check.main, module_args(server, policy={"nope": 1}),
                                monkeypatch)
    assert failed and "nope" in result["msg"]
