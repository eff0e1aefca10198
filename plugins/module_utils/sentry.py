# -*- coding: utf-8 -*-
# Copyright: (c) 2026, SOLVEREIGN release engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A client for the parts of Sentry's web API (``/api/0/``) that the error-rate check reads.

- token auth (``Authorization: Bearer <token>``), for sentry.io and self-hosted alike;
- cursor pagination through the ``Link`` header (``rel="next"; results="true"; cursor="..."``);
- HTTP 429 answered with a bounded wait (``Retry-After``) and retry, then :class:`SentryError`;
- 401/403/404 turned into errors that say what to fix.

Endpoints (Sentry's documented API):
``GET /api/0/projects/{org}/{project}/`` (the project's numeric id),
``GET /api/0/organizations/{org}/events/?field=count()&query=...&statsPeriod=...&project=<id>``
(error event count), ``GET /api/0/organizations/{org}/issues/?project=<id>&query=...`` (issues).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import email.utils
import re
import time

from ansible_collections.solvereign.release_ops.plugins.module_utils.http_client import HttpError, join_url

try:
    from urllib.parse import quote, urlencode
except ImportError:  # pragma: no cover
    from urllib import quote, urlencode

_LINK_PART = re.compile(r'<(?P<url>[^>]*)>(?P<params>(?:\s*;\s*[^;,]+=(?:"[^"]*"|[^;,]*))*)')
_LINK_PARAM = re.compile(r'\s*;\s*(?P<key>[^=;\s]+)\s*=\s*(?:"(?P<quoted>[^"]*)"|(?P<bare>[^;,]*))')


class SentryError(Exception):
    """No usable answer. ``kind``: unreachable, auth, forbidden, not_found, rate_limited, http, protocol."""

    def __init__(self, kind, message):
        super(SentryError, self).__init__(message)
        self.kind = kind
        self.message = message


def parse_link_header(value):
    """``[{url, rel, results, cursor}]`` from a Sentry ``Link`` header."""
    links = []
    for match in _LINK_PART.finditer(value or ""):
        link = {"url": match.group("url")}
        for param in _LINK_PARAM.finditer(match.group("params")):
            link[param.group("key").lower()] = param.group("quoted") if param.group("quoted") is not None \
                else (param.group("bare") or "").strip()
        links.append(link)
    return links


def next_cursor(link_header):
    """The cursor of the next page, or None when Sentry says there are no more results."""
    for link in parse_link_header(link_header):
        if link.get("rel") == "next":
            return link.get("cursor") if link.get("results") == "true" and link.get("cursor") else None
    return None


def retry_after_seconds(value, default=1.0):
    """Seconds from a ``Retry-After`` header (delta seconds or an HTTP date)."""
    if not value:
        return default
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
        return max(0.0, (when - datetime.datetime.now(datetime.timezone.utc)).total_seconds())
    except (TypeError, ValueError):
        return default


def parse_time(value):
    """Sentry's ISO 8601 timestamps (``2026-11-28T10:00:00.123Z``) as aware datetimes, or None."""
    if not value:
        return None
    text = str(value).replace("Z", "+00:00")
    text = re.sub(r"\.(\d{6})\d+", r".\1", text)
    try:
        parsed = datetime.datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=datetime.timezone.utc)


_PERIOD = re.compile(r"^(\d+)([smhdw])$")


def period_seconds(period):
    match = _PERIOD.match(str(period).strip())
    if not match:
        raise ValueError("period %r is not a Sentry statsPeriod like 1h, 30m or 1d" % (period,))
    return int(match.group(1)) * {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}[match.group(2)]


class SentryClient(object):
    def __init__(self, http_client, base_url, token, max_rate_limit_retries=3, max_wait=30.0, sleep=time.sleep,
                 max_pages=20):
        self.http = http_client
        self.base_url = base_url
        self.headers = {"Authorization": "Bearer %s" % token, "Accept": "application/json"}
        self.max_rate_limit_retries = max_rate_limit_retries
        self.max_wait = max_wait
        self.max_pages = max_pages
        self._sleep = sleep
        self.requests = 0
        self.rate_limit_waits = []

    def get(self, path, params):
        """GET ``path`` with ``params``; return ``(document, response)``."""
        url = join_url(self.base_url, path) + "?" + urlencode(params, doseq=True)
        attempt = 0
        while True:
            attempt += 1
            self.requests += 1
            try:
                response = self.http.request("GET", url, headers=self.headers)
            except HttpError as exc:
                raise SentryError("unreachable", "Sentry is unreachable: %s" % exc.message)
            if response.status != 429:
                break
            wait = retry_after_seconds(response.headers.get("retry-after"))
            if attempt > self.max_rate_limit_retries or wait > self.max_wait:
                raise SentryError("rate_limited", "Sentry rate-limited %s (HTTP 429, Retry-After %s s) %d time(s); "
                                  "gave up: %s" % (path, format(wait, "g"), attempt, _detail(response)))
            self.rate_limit_waits.append(wait)
            self._sleep(wait)
        if response.status == 401:
            raise SentryError("auth", "Sentry rejected the token (HTTP 401: %s): check the auth token "
                              "(solvereign_sentry_token)" % _detail(response))
        if response.status == 403:
            raise SentryError("forbidden", "the token may not read %s (HTTP 403: %s): it needs the org:read, "
                              "project:read and event:read scopes" % (path, _detail(response)))
        if response.status == 404:
            raise SentryError("not_found", "%s not found (HTTP 404: %s): check the organization and project "
                              "slugs" % (path, _detail(response)))
        if not 200 <= response.status < 300:
            raise SentryError("http", "GET %s answered HTTP %s: %s" % (path, response.status, _detail(response)))
        try:
            document = response.json()
        except ValueError as exc:
            raise SentryError("protocol", "GET %s: %s" % (path, exc))
        return document, response

    def paginate(self, path, params):
        """Every item of a paginated list endpoint, following ``Link: rel="next"`` cursors."""
        items, cursor, pages = [], None, 0
        while True:
            page_params = dict(params)
            if cursor:
                page_params["cursor"] = cursor
            document, response = self.get(path, page_params)
            if not isinstance(document, list):
                raise SentryError("protocol", "GET %s: expected a JSON list, got %s" % (path, type(document).__name__))
            items.extend(document)
            pages += 1
            cursor = next_cursor(response.headers.get("link"))
            if not cursor:
                return items
            if pages >= self.max_pages:
                raise SentryError("protocol", "GET %s: more than %d pages; narrow the query" % (path, self.max_pages))

    def project(self, org, project):
        document = self.get("/api/0/projects/%s/%s/" % (quote(org, safe=""), quote(project, safe="")), {})[0]
        if not isinstance(document, dict) or not document.get("id"):
            raise SentryError("protocol", "project %s/%s: answer has no id" % (org, project))
        return document

    def event_count(self, org, project_id, query, period=None, environment=None, start=None, end=None):
        """Events matching ``query`` in the last ``period``, or between ``start`` and ``end`` (ISO 8601)."""
        params = {"field": "count()", "query": query, "project": project_id}
        if start and end:
            params.update(start=start, end=end)
        else:
            params["statsPeriod"] = period
        if environment:
            params["environment"] = environment
        document = self.get("/api/0/organizations/%s/events/" % quote(org, safe=""), params)[0]
        try:
            value = document["data"][0]["count()"] if document["data"] else 0
            return int(value)
        except (KeyError, IndexError, TypeError, ValueError):
            raise SentryError("protocol", "events answer without data[0]['count()']: %r" % (str(document)[:200],))

    def issues(self, org, project_id, query, period, environment=None, limit=100):
        params = {"project": project_id, "query": query, "statsPeriod": period, "limit": limit}
        if environment:
            params["environment"] = environment
        return self.paginate("/api/0/organizations/%s/issues/" % quote(org, safe=""), params)


def _detail(response):
    try:
        document = response.json()
        if isinstance(document, dict) and document.get("detail"):
            return str(document["detail"])[:200]
    except ValueError:
        pass
    return " ".join(response.body[:200].split()) or "no detail"


def new_issues(issues, window_s, now=None):
    """Issues whose ``firstSeen`` lies inside the window (re-checked here, whatever the server did)."""
    now = now or datetime.datetime.now(datetime.timezone.utc)
    fresh = []
    for issue in issues:
        first = parse_time(issue.get("firstSeen"))
        if first is None or (now - first).total_seconds() <= window_s:
            fresh.append(issue)
    return fresh
