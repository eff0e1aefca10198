"""Webhook signature helpers (module_utils/webhooks.py), checked against the schemes' own
verification (cryptography's ECDSA, the HMAC definitions the providers document)."""

import base64
import hashlib
import hmac

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from ansible_collections.solvereign.release_ops.plugins.module_utils import webhooks as wh


def test_whatsapp_signature_matches_meta_scheme():
    body = '{"object":"whatsapp_business_account","entry":[]}'
    expected = hmac.new(b"app-secret", body.encode(), hashlib.sha256).hexdigest()
    assert wh.whatsapp_signature("app-secret", body) == "sha256=" + expected
    assert wh.whatsapp_signature("app-secret", body, "sha1").startswith("sha1=")
    assert len(wh.whatsapp_signature("app-secret", body, "sha1")) == 5 + 40


def test_stripe_signature_matches_stripe_scheme():
    header = wh.stripe_signature("whsec_test", 1700000000, '{"type":"test"}')
    expected = hmac.new(b"whsec_test", b'1700000000.{"type":"test"}', hashlib.sha256).hexdigest()
    assert header == "t=1700000000,v1=" + expected
    assert wh.stripe_signature("whsec_test", 1, "x", "v0").startswith("t=1,v0=")


def test_random_ecdsa_signature_is_well_formed_der():
    for dummy in range(50):
        raw = base64.b64decode(wh.random_ecdsa_signature())
        r, s = decode_dss_signature(raw)
        assert r > 0 and s > 0


def test_random_ecdsa_signature_handles_leading_zero_and_high_bit():
    chunks = iter([b"\x00" * 31 + b"\x01", b"\xff" * 32])
    raw = base64.b64decode(wh.random_ecdsa_signature(randbytes=lambda n: next(chunks)))
    assert decode_dss_signature(raw) == (1, int.from_bytes(b"\xff" * 32, "big"))


@pytest.fixture
def key_pair():
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    der_b64 = base64.b64encode(key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                                 serialization.NoEncryption())).decode()
    return key.public_key(), pem, der_b64


@pytest.mark.parametrize("form", ["pem", "der"])
def test_sendgrid_signature_verifies_with_the_public_key(key_pair, form):
    public, pem, der_b64 = key_pair
    private = wh.load_sendgrid_private_key(pem if form == "pem" else der_b64)
    body = '[{"event":"delivered"}]'
    signature = wh.sendgrid_signature(private, 1700000000, body)
    public.verify(base64.b64decode(signature), b"1700000000" + body.encode(), ec.ECDSA(hashes.SHA256()))
    with pytest.raises(InvalidSignature):
        public.verify(base64.b64decode(signature), b"1700000000" + b"tampered", ec.ECDSA(hashes.SHA256()))


@pytest.mark.parametrize("status,verdict", [
    (400, "PASS"), (401, "PASS"), (403, "PASS"), (200, "FAIL"), (202, "FAIL"), (204, "FAIL"),
    (404, "FAIL"), (405, "FAIL"), (500, "FAIL"), (503, "FAIL"), (422, "WARN"), (429, "WARN"), (302, "FAIL"),
])
def test_judge_rejection(status, verdict):
    assert wh.judge_rejection(status)[0] == verdict


@pytest.mark.parametrize("status,verdict", [(200, "PASS"), (204, "PASS"), (401, "FAIL"), (404, "FAIL"), (500, "FAIL")])
def test_judge_acceptance(status, verdict):
    assert wh.judge_acceptance(status)[0] == verdict


def test_format_transcript_labels():
    entry = {"request": {"method": "POST", "url": "http://x/y", "headers": {"A": "b"}, "body": "{}"},
             "response": {"status": 403, "headers": [("content-type", "application/json")], "body": "{}",
                          "elapsed_s": 0.01}}
    text = wh.format_transcript([entry], labels=["probe"])
    assert text.splitlines()[:3] == ["# probe", "> POST http://x/y", "> A: b"]
    assert "< HTTP 403 (0.010s)" in text
