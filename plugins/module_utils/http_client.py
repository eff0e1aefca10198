# -*- coding: utf-8 -*-
# Copyright: (c) 2026, SOLVEREIGN release engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The HTTP client every HTTP check uses.

- explicit connect and read timeouts on every request;
- retries with exponential backoff for connection failures only (never for an HTTP answer,
  never for a read timeout: a probe must not be sent twice to a server that received it);
- TLS verification on by default, with a CA bundle option;
- redirects followed or not, with a bound, and every hop kept;
- per-request timing;
- failures turned into :class:`HttpError` with a kind and a message that says what to do.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import time
import traceback

from ansible.module_utils.basic import missing_required_lib

REQUESTS_IMPORT_ERROR = None
try:
    import requests
except ImportError:  # pragma: no cover - exercised through missing_required_lib
    requests = None
    REQUESTS_IMPORT_ERROR = traceback.format_exc()

from ansible_collections.solvereign.release_ops.plugins.module_utils.redact import (
    redact_headers,
    redact_text,
)

try:
    from urllib.parse import urlsplit
except ImportError:  # pragma: no cover
    from urlparse import urlsplit

USER_AGENT = "solvereign.release_ops (ansible)"


def http_argument_spec():
    """Connection options shared by every HTTP check module (doc fragment: http)."""
    return dict(
        timeout=dict(type="float", default=10.0),
        retries=dict(type="int", default=2),
        retry_backoff=dict(type="float", default=0.5),
        validate_certs=dict(type="bool", default=True),
        ca_path=dict(type="path"),
        follow_redirects=dict(type="bool", default=False),
        max_redirects=dict(type="int", default=5),
    )


def ensure_requests(module):
    if requests is None:
        module.fail_json(msg=missing_required_lib("requests"), exception=REQUESTS_IMPORT_ERROR)


class HttpError(Exception):
    """A request that produced no HTTP answer. ``kind`` is one of KINDS."""

    KINDS = ("invalid_url", "timeout", "connection", "tls", "redirects", "protocol")

    def __init__(self, kind, message, url=None, elapsed_s=None):
        super(HttpError, self).__init__(message)
        self.kind = kind
        self.message = message
        self.url = url
        self.elapsed_s = elapsed_s


class HttpResponse(object):
    def __init__(self, method, url, status, headers, header_list, body, elapsed_s, history, cookies, content=None):
        self.method = method
        self.url = url
        self.status = status
        self.headers = headers              # case-insensitive mapping, repeated headers comma-joined
        self.header_list = header_list      # [(name, value)] as received, repeats kept
        self.body = body
        self.elapsed_s = elapsed_s
        self.history = history              # [(status, url, header_list)] of redirect hops
        self.cookies = cookies              # requests cookie jar (values are secrets)
        self.content = content              # the raw body as bytes (images), when known

    def header_values(self, name):
        lname = name.lower()
        return [v for n, v in self.header_list if n.lower() == lname]

    def json(self):
        """Parsed JSON body; raise ValueError with a readable reason when it is not JSON."""
        try:
            return json.loads(self.body)
        except ValueError:
            ctype = self.headers.get("content-type", "no content type")
            snippet = " ".join(self.body[:80].split())
            raise ValueError("expected a JSON body, got %s: %r" % (ctype, snippet))

    def describe(self):
        return "%s %s -> HTTP %s in %.3fs" % (self.method, self.url, self.status, self.elapsed_s)


def validate_url(url):
    """Raise HttpError(invalid_url) unless ``url`` is an absolute http(s) URL with a host."""
    if not isinstance(url, str) or not url.strip():
        raise HttpError("invalid_url", "no URL given", url=url)
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError as exc:
        raise HttpError("invalid_url", "malformed URL %r: %s" % (url, exc), url=url)
    if parts.scheme not in ("http", "https"):
        raise HttpError("invalid_url", "malformed URL %r: scheme must be http or https" % (url,), url=url)
    if not parts.hostname:
        raise HttpError("invalid_url", "malformed URL %r: no host name" % (url,), url=url)
    if any(c.isspace() for c in url):
        raise HttpError("invalid_url", "malformed URL %r: contains white space" % (url,), url=url)
    return url


def join_url(base, path):
    """Join a base URL (``https://host/prefix``) and a path (``/api/health``)."""
    if path.startswith(("http://", "https://")):
        return path
    return base.rstrip("/") + "/" + path.lstrip("/")


def _header_list(raw_headers):
    """Header pairs as received (urllib3 keeps repeats)."""
    try:
        return list(raw_headers.items())
    except AttributeError:  # pragma: no cover
        return []


class HttpClient(object):
    def __init__(self, timeout=10.0, retries=2, retry_backoff=0.5, validate_certs=True, ca_path=None,
                 follow_redirects=False, max_redirects=5, secrets=(), sleep=time.sleep):
        self.timeout = float(timeout)
        self.retries = max(0, int(retries))
        self.retry_backoff = float(retry_backoff)
        self.verify = (ca_path or True) if validate_certs else False
        self.follow_redirects = follow_redirects
        self.max_redirects = max_redirects
        self.secrets = tuple(s for s in secrets if s)
        self._sleep = sleep
        self.session = requests.Session()
        self.session.headers["User-Agent"] = USER_AGENT
        self.session.max_redirects = max_redirects
        self.transcript = []

    @classmethod
    def from_module(cls, module, secrets=()):
        p = module.params
        return cls(timeout=p["timeout"], retries=p["retries"], retry_backoff=p["retry_backoff"],
                   validate_certs=p["validate_certs"], ca_path=p["ca_path"],
                   follow_redirects=p["follow_redirects"], max_redirects=p["max_redirects"],
                   secrets=tuple(secrets) + tuple(module.no_log_values))

    def request(self, method, url, headers=None, json_body=None, data=None, follow_redirects=None,
                cookies=None):
        validate_url(url)
        follow = self.follow_redirects if follow_redirects is None else follow_redirects
        attempt = 0
        started = time.monotonic()
        while True:
            attempt += 1
            err = None
            try:
                answer = self.session.request(
                    method, url, headers=headers, json=json_body, data=data, cookies=cookies,
                    timeout=(min(self.timeout, 10.0), self.timeout), verify=self.verify,
                    allow_redirects=follow)
                break
            except requests.exceptions.SSLError as exc:
                raise HttpError("tls", "TLS handshake with %s failed: %s. Check the certificate, or give "
                                "the CA bundle with ca_path (validate_certs=false only for a test "
                                "target)" % (url, _reason(exc)), url, time.monotonic() - started)
            except requests.exceptions.ConnectTimeout:
                err = HttpError("timeout", "connecting to %s timed out after %.1fs: is the host reachable "
                                "from the controller?" % (url, min(self.timeout, 10.0)), url)
            except requests.exceptions.ReadTimeout:
                raise HttpError("timeout", "%s %s sent no answer within %.1fs (timeout): the service "
                                "hangs or is overloaded" % (method, url, self.timeout), url,
                                time.monotonic() - started)
            except requests.exceptions.TooManyRedirects:
                raise HttpError("redirects", "%s %s: more than %d redirects (redirect loop?)"
                                % (method, url, self.max_redirects), url, time.monotonic() - started)
            except requests.exceptions.ConnectionError as exc:
                err = HttpError("connection", "cannot connect to %s: %s. Is the service running and "
                                "the URL right?" % (url, _reason(exc)), url)
            except (requests.exceptions.InvalidURL, requests.exceptions.MissingSchema,
                    requests.exceptions.InvalidSchema) as exc:
                raise HttpError("invalid_url", "malformed URL %r: %s" % (url, exc), url)
            except requests.exceptions.RequestException as exc:
                raise HttpError("protocol", "%s %s failed: %s" % (method, url, _reason(exc)), url,
                                time.monotonic() - started)
            if err is None:  # pragma: no cover - every except branch above sets or raises
                raise HttpError("protocol", "%s %s failed" % (method, url), url)
            if attempt > self.retries:
                err.elapsed_s = time.monotonic() - started
                if attempt > 1:
                    err.message += " (tried %d times)" % attempt
                    err.args = (err.message,)
                raise err
            self._sleep(self.retry_backoff * (2 ** (attempt - 1)))
        elapsed = time.monotonic() - started
        history = [(h.status_code, h.url, _header_list(h.raw.headers)) for h in answer.history]
        response = HttpResponse(
            method=method, url=answer.url, status=answer.status_code,
            headers=dict((k.lower(), v) for k, v in answer.headers.items()),
            header_list=_header_list(answer.raw.headers) or list(answer.headers.items()),
            body=answer.text, elapsed_s=round(elapsed, 4), history=history, cookies=answer.cookies,
            content=answer.content)
        self._record(method, url, headers, json_body if json_body is not None else data, response)
        return response

    def _record(self, method, url, headers, body, response):
        """Keep a redacted transcript entry for evidence."""
        self.transcript.append({
            "request": {
                "method": method, "url": url,
                "headers": redact_headers(dict(headers or {}), self.secrets),
                "body": redact_text(body if isinstance(body, str) else json.dumps(body) if body is not None else None,
                                    self.secrets),
            },
            "response": {
                "status": response.status,
                "headers": redact_headers(response.header_list, self.secrets),
                "body": redact_text(response.body[:2000], self.secrets),
                "elapsed_s": response.elapsed_s,
            },
        })


def _reason(exc):
    """The innermost readable reason of a requests/urllib3 exception."""
    text = str(exc)
    for marker in ("Failed to establish a new connection: ", "Caused by ", "SSLError("):
        if marker in text:
            text = text.split(marker, 1)[1]
    text = text.strip("()'\" ")
    for noise in ("[Errno 111] ", "[Errno -2] ", "[Errno -3] "):
        text = text.replace(noise, "")
    return text[:300]
