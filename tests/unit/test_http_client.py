import pytest

from ansible_collections.solvereign.release_ops.plugins.module_utils.http_client import (
    HttpClient, HttpError, join_url, validate_url,
)

from .conftest import Route


def client(**kwargs):
    kwargs.setdefault("retry_backoff", 0.0)
    return HttpClient(**kwargs)


def test_answer_status_headers_timing_and_repeats(server):
    server.routes["/api/health"] = Route(200, {"version": "3.7.0"}, headers=[
        ("Strict-Transport-Security", "max-age=1"), ("Strict-Transport-Security", "max-age=2")])
    response = client().request("GET", server.url + "/api/health")
    assert response.status == 200
    assert response.json() == {"version": "3.7.0"}
    assert response.header_values("strict-transport-security") == ["max-age=1", "max-age=2"]
    assert response.elapsed_s >= 0


def test_non_json_body_is_a_readable_error(server):
    server.routes["/api/health"] = Route(200, "<html>ok</html>", content_type="text/html")
    response = client().request("GET", server.url + "/api/health")
    with pytest.raises(ValueError) as caught:
        response.json()
    assert "expected a JSON body, got text/html" in str(caught.value)


def test_refused_connection_is_retried_then_reported(closed_port):
    slept = []
    c = HttpClient(retries=2, retry_backoff=0.1, sleep=slept.append)
    with pytest.raises(HttpError) as caught:
        c.request("GET", "http://127.0.0.1:%d/api/health" % closed_port)
    assert caught.value.kind == "connection"
    assert "tried 3 times" in caught.value.message
    assert slept == [0.1, 0.2]


def test_read_timeout_is_not_retried(server):
    server.routes["/slow"] = Route(200, {}, delay=1.5)
    with pytest.raises(HttpError) as caught:
        client(timeout=0.3, retries=3).request("GET", server.url + "/slow")
    assert caught.value.kind == "timeout"
    assert "no answer within 0.3s" in caught.value.message
    assert len(server.requests) == 1


def test_http_error_status_is_an_answer_not_retried(server):
    server.routes["/api/health/ready"] = Route(503, {"detail": "db down"})
    response = client(retries=3).request("GET", server.url + "/api/health/ready")
    assert response.status == 503
    assert len(server.requests) == 1


def test_redirect_loop_is_reported(server):
    server.routes["/a"] = Route(302, "", headers=[("Location", "/b")])
    server.routes["/b"] = Route(302, "", headers=[("Location", "/a")])
    with pytest.raises(HttpError) as caught:
        client(follow_redirects=True, max_redirects=4).request("GET", server.url + "/a")
    assert caught.value.kind == "redirects"
    # not followed by default: the redirect itself is the answer
    assert client().request("GET", server.url + "/a").status == 302


def test_tls_failure_is_reported(server):
    https_url = server.url.replace("http://", "https://") + "/api/health"
    with pytest.raises(HttpError) as caught:
        client(retries=0).request("GET", https_url)
    assert caught.value.kind in ("tls", "connection")
    assert "TLS" in caught.value.message or "SSL" in caught.value.message


@pytest.mark.parametrize("url", ["", "staging.example.com", "ftp://x", "http://", "http://exa mple.com",
                                 "https://host:99999/x", None])
def test_malformed_urls(url):
    with pytest.raises(HttpError) as caught:
        validate_url(url)
    assert caught.value.kind == "invalid_url"


def test_join_url():
    assert join_url("https://h/prefix/", "/api/health") == "https://h/prefix/api/health"
    assert join_url("https://h", "https://other/x") == "https://other/x"


def test_transcript_is_redacted(server):
    server.routes["/api/auth/login"] = Route(200, {"ok": True}, headers=[("Set-Cookie", "session=abc123; HttpOnly")])
    c = client(secrets=["hunter22"])
    c.request("POST", server.url + "/api/auth/login", json_body={"email": "a@b", "password": "hunter22"},
              headers={"Cookie": "session=zzz999"})
    text = repr(c.transcript)
    assert "hunter22" not in text and "abc123" not in text and "zzz999" not in text
    assert "HttpOnly" in text
