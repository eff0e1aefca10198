"""A stand-in for the parts of Sentry's web API that the 7.1 check reads (Sentry cannot run here).

It follows Sentry's documented request and response shapes:

- ``Authorization: Bearer <token>``; a missing or wrong token gets 401 ``{"detail": "Invalid token"}``;
- ``GET /api/0/projects/{org}/{project}/`` -> the project (numeric ``id`` as a string, ``slug``...);
- ``GET /api/0/organizations/{org}/events/?field=count()&query=level:error&statsPeriod=1h&project=<id>``
  -> ``{"data": [{"count()": N}], "meta": {"fields": {"count()": "integer"}, "units": {...}}}``;
- ``GET /api/0/organizations/{org}/issues/?project=<id>&query=...firstSeen:-1h&statsPeriod=1h&limit=N``
  -> a list of issues, paginated with ``Link: <...>; rel="previous"; results="false"; cursor="..",
  <...>; rel="next"; results="true"; cursor=".."``;
- rate limiting: 429 with ``Retry-After`` and Sentry's detail text.

Unknown parameters it requires (``field``, ``statsPeriod``, ``project``) give 400 as Sentry does;
the events count takes ``start`` and ``end`` (ISO 8601) in place of ``statsPeriod``, as Sentry does.

Cases (``standin.case = name``): ``quiet`` (no error in the hour, old issues only),
``errors_25`` (25 error events, no new issue), ``new_issue`` (3 errors, one issue first seen
12 minutes ago), ``bad_token`` (the server expects another token: 401), ``rate_limited`` (every
request 429), ``rate_limited_once`` (one 429, then answers).

    with SentryStandin(token="t") as sentry:
        sentry.case = "errors_25"
        ... sentry.url ...
"""

import datetime
import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

CASES = ("quiet", "errors_25", "new_issue", "bad_token", "rate_limited", "rate_limited_once")
ORG = "solvereign"
PROJECT = "solvereign-api"
PROJECT_ID = "4505012"


def _iso(when):
    return when.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


class SentryStandin:
    def __init__(self, token="sentry-standin-token", org=ORG, project=PROJECT, page_size=2, retry_after="1",
                 port=0):
        self.token = token
        self.org = org
        self.project = project
        self.page_size = page_size
        self.retry_after = retry_after
        self.case = "quiet"
        self.requests = []
        self._rate_limited_once = False
        standin = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                status, body, headers = standin.handle(self)
                payload = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                for name, value in headers:
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.httpd.daemon_threads = True
        self.url = "http://127.0.0.1:%d" % self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # Data of the current case -------------------------------------------------------------
    def _issues(self, now):
        def issue(num, title, culprit, first_seen_ago, count, level="error"):
            return {
                "id": str(7000 + num), "shortId": "SOLVEREIGN-API-%X" % num, "title": title, "culprit": culprit,
                "permalink": "%s/organizations/%s/issues/%d/" % (self.url, self.org, 7000 + num),
                "logger": None, "level": level, "status": "unresolved", "statusDetails": {},
                "isPublic": False, "platform": "python",
                "project": {"id": PROJECT_ID, "name": self.project, "slug": self.project},
                "type": "error", "metadata": {"type": title.split(":")[0], "value": title.partition(": ")[2]},
                "numComments": 0, "assignedTo": None, "isBookmarked": False, "isSubscribed": False,
                "hasSeen": True, "annotations": [], "count": str(count), "userCount": 1,
                "firstSeen": _iso(now - first_seen_ago), "lastSeen": _iso(now - datetime.timedelta(minutes=3)),
                "stats": {"24h": []},
            }
        days = datetime.timedelta(days=1)
        issues = [issue(1, "OperationalError: connection reset by peer", "app.db in connect", 30 * days, 40),
                  issue(2, "TimeoutError: solver timed out", "solver.run", 12 * days, 7),
                  issue(3, "KeyError: 'site_id'", "api.plans in list_plans", 3 * days, 2)]
        if self.case == "new_issue":
            issues.append(issue(4, "ZeroDivisionError: division by zero", "api.kpi in ratio",
                                datetime.timedelta(minutes=12), 3))
        return issues

    def _error_count(self):
        return {"errors_25": 25, "new_issue": 3}.get(self.case, 0)

    # Request handling ---------------------------------------------------------------------
    def handle(self, request):
        parts = urlsplit(request.path)
        params = parse_qs(parts.query)
        self.requests.append({"path": parts.path, "params": params,
                              "authorization": request.headers.get("Authorization")})
        if self.case == "rate_limited" or (self.case == "rate_limited_once" and not self._rate_limited_once):
            self._rate_limited_once = True
            return 429, {"detail": "You are attempting to use this endpoint too frequently. Limit is 40 "
                                   "requests in 1 seconds"}, [("Retry-After", self.retry_after)]
        expected = "other-token-than-yours" if self.case == "bad_token" else self.token
        if request.headers.get("Authorization") != "Bearer %s" % expected:
            return 401, {"detail": "Invalid token"}, []
        now = datetime.datetime.now(datetime.timezone.utc)

        match = re.fullmatch(r"/api/0/projects/([^/]+)/([^/]+)/", parts.path)
        if match:
            if match.groups() != (self.org, self.project):
                return 404, {"detail": "The requested resource does not exist"}, []
            return 200, {"id": PROJECT_ID, "slug": self.project, "name": self.project, "platform": "python",
                         "dateCreated": "2025-01-10T09:00:00.000Z", "isBookmarked": False, "isMember": True,
                         "features": [], "firstEvent": "2025-01-10T09:05:00.000Z", "status": "active",
                         "organization": {"id": "1", "slug": self.org, "name": "SOLVEREIGN"}}, []

        match = re.fullmatch(r"/api/0/organizations/([^/]+)/(events|issues)/", parts.path)
        if not match:
            return 404, {"detail": "The requested resource does not exist"}, []
        if match.group(1) != self.org:
            return 404, {"detail": "The requested resource does not exist"}, []
        if params.get("project") != [PROJECT_ID]:
            return 400, {"detail": "Invalid project parameter. Values must be numbers."}, []
        if match.group(2) == "events":
            if "count()" not in params.get("field", []):
                return 400, {"detail": "No columns selected"}, []
            if not params.get("statsPeriod") and not (params.get("start") and params.get("end")):
                return 400, {"detail": "statsPeriod (or start and end) is required here"}, []
            query = params.get("query", [""])[0]
            count = self._error_count() if "level:error" in query else self._error_count() + 5
            return 200, {"data": [{"count()": count}],
                         "meta": {"fields": {"count()": "integer"}, "units": {"count()": None},
                                  "isMetricsData": False, "tips": {}}}, []

        query = params.get("query", [""])[0]
        issues = self._issues(now)
        window = re.search(r"firstSeen:-(\d+)([mhd])", query)
        if window:
            seconds = int(window.group(1)) * {"m": 60, "h": 3600, "d": 86400}[window.group(2)]
            issues = [i for i in issues if (now - datetime.datetime.fromisoformat(
                i["firstSeen"].replace("Z", "+00:00"))).total_seconds() <= seconds]
        limit = min(int(params.get("limit", ["100"])[0]), self.page_size)
        cursor = params.get("cursor", ["0:0:0"])[0]
        try:
            offset = int(cursor.split(":")[1])
        except (IndexError, ValueError):
            return 400, {"detail": "Invalid cursor parameter."}, []
        page = issues[offset:offset + limit]
        has_next = offset + limit < len(issues)
        base = {k: v[0] for k, v in params.items() if k != "cursor"}

        def link(rel, at, results):
            cur = "0:%d:%d" % (at, 1 if rel == "previous" else 0)
            href = "%s%s?%s" % (self.url, parts.path, urlencode(dict(base, cursor=cur)))
            return '<%s>; rel="%s"; results="%s"; cursor="%s"' % (href, rel, "true" if results else "false", cur)
        header = ", ".join([link("previous", max(0, offset - limit), offset > 0),
                            link("next", offset + limit, has_next)])
        return 200, page, [("Link", header)]


def main(argv=None):
    """Serve the stand-in until terminated (the reference stack runs it as a component)."""
    import argparse
    import signal

    parser = argparse.ArgumentParser(description="Sentry web API stand-in on 127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--case", choices=CASES, default="quiet")
    args = parser.parse_args(argv)
    standin = SentryStandin(token=args.token, port=args.port)
    standin.case = args.case
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *unused: stopped.set())
    signal.signal(signal.SIGINT, lambda *unused: stopped.set())
    stopped.wait()
    standin.close()


if __name__ == "__main__":
    main()
