from ansible_collections.solvereign.release_ops.plugins.module_utils.redact import (
    MASK, redact_dsn, redact_headers, redact_structure, redact_text,
)


def test_url_dsn_password_is_masked():
    dsn = "postgresql://readonly:s3cr3t-pw@db.example.com:5432/solvereign?sslmode=require"
    assert redact_dsn(dsn) == "postgresql://readonly:%s@db.example.com:5432/solvereign?sslmode=require" % MASK


def test_keyword_dsn_password_is_masked():
    out = redact_dsn("host=db user=ro password='p@ss word' dbname=x")
    assert "p@ss" not in out and "host=db" in out
    assert "s3cr3t" not in redact_dsn("host=db password=s3cr3t dbname=x")


def test_known_secrets_and_json_passwords_are_masked():
    text = 'login {"email": "a@b", "password": "hunter22"} token=abc123 and hunter22 again'
    out = redact_text(text, secrets=["hunter22"])
    assert "hunter22" not in out and "abc123" not in out and "a@b" in out


def test_cookie_values_are_masked_but_attributes_kept():
    headers = [("Set-Cookie", "__Host-session=abcdef123; Path=/; Secure; HttpOnly; SameSite=Lax"),
               ("Authorization", "Bearer xyz"), ("Content-Type", "application/json")]
    out = redact_headers(headers)
    assert out[0] == ("Set-Cookie", "__Host-session=%s; Path=/; Secure; HttpOnly; SameSite=Lax" % MASK)
    assert out[1] == ("Authorization", MASK)
    assert out[2] == ("Content-Type", "application/json")


def test_structure_redaction_recurses():
    out = redact_structure({"a": ["postgresql://u:pw123@h/db", {"b": "pw123"}]}, secrets=["pw123"])
    assert "pw123" not in repr(out)
