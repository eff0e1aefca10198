# -*- coding: utf-8 -*-
# Copyright: (c) 2026, SOLVEREIGN release engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A small client for the Prometheus HTTP API and the rules that judge its answers.

- :class:`PrometheusClient` sends instant (``/api/v1/query``) and range
  (``/api/v1/query_range``) queries through the collection's HTTP client, with basic auth or
  a bearer token, and turns every way of not getting data into :class:`PrometheusError`
  (unreachable, rejected query with Prometheus' own error text, not a Prometheus answer).
- :func:`series_of` flattens vector, matrix and scalar results to ``(labels, points)``.
- :func:`judge` judges every series of a result against a threshold; the worst series wins.
  An empty result and NaN are never healthy; ``+Inf`` is a value like any other.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import math
import re
import time

from ansible_collections.solvereign.release_ops.plugins.module_utils.http_client import HttpError, join_url
from ansible_collections.solvereign.release_ops.plugins.module_utils.redact import redact_text
from ansible_collections.solvereign.release_ops.plugins.module_utils.result import (
    ERROR,
    FAIL,
    PASS,
    SEVERITY,
)

try:
    from urllib.parse import urlencode
except ImportError:  # pragma: no cover
    from urllib import urlencode


class PrometheusError(Exception):
    """No usable answer. ``kind``: ``unreachable``, ``rejected`` or ``protocol``."""

    def __init__(self, kind, message):
        super(PrometheusError, self).__init__(message)
        self.kind = kind
        self.message = message


def auth_headers(username=None, password=None, bearer_token=None):
    """Authorization header for basic auth or a bearer token (bearer wins when both are set)."""
    if bearer_token:
        return {"Authorization": "Bearer %s" % bearer_token}
    if username:
        raw = ("%s:%s" % (username, password or "")).encode("utf-8")
        return {"Authorization": "Basic %s" % base64.b64encode(raw).decode("ascii")}
    return {}


class PrometheusClient(object):
    def __init__(self, http_client, base_url, headers=None):
        self.http = http_client
        self.base_url = base_url
        self.headers = dict(headers or {})
        self._warnings = []

    def _get(self, path, params):
        data = self.api(path, params)
        if not isinstance(data, dict) or "resultType" not in data or "result" not in data:
            raise PrometheusError("protocol", "Prometheus answered success without data.resultType/result")
        return data["resultType"], data["result"], self._warnings

    def api(self, path, params=None):
        """GET any ``/api/v1/...`` endpoint; return its ``data`` (warnings kept in ``self._warnings``)."""
        url = join_url(self.base_url, path) + ("?" + urlencode(params) if params else "")
        try:
            response = self.http.request("GET", url, headers=self.headers)
        except HttpError as exc:
            raise PrometheusError("unreachable", "Prometheus is unreachable: %s" % exc.message)
        try:
            document = response.json()
        except ValueError as exc:
            raise PrometheusError("protocol", "%s answered HTTP %s that is not a Prometheus API answer (%s)"
                                  % (url.split("?", 1)[0], response.status, exc))
        if not isinstance(document, dict) or document.get("status") not in ("success", "error"):
            raise PrometheusError("protocol", "%s answered HTTP %s that is not a Prometheus API answer: %s"
                                  % (url.split("?", 1)[0], response.status,
                                     redact_text(" ".join(response.body[:120].split()), self.http.secrets)))
        if document.get("status") != "success":
            error = document.get("error") or "no error text"
            kind = document.get("errorType") or "HTTP %s" % response.status
            if response.status in (401, 403):
                raise PrometheusError("rejected", "Prometheus refused the credentials (HTTP %s): %s"
                                      % (response.status, error))
            raise PrometheusError("rejected", "Prometheus rejected the query (%s): %s" % (kind, error))
        self._warnings = document.get("warnings") or []
        return document.get("data")

    def query(self, promql, at=None):
        """Instant query; returns ``(result_type, result, warnings)``."""
        params = {"query": promql}
        if at is not None:
            params["time"] = at
        return self._get("/api/v1/query", params)

    def query_range(self, promql, start, end, step):
        """Range query; ``start``/``end`` are unix seconds, ``step`` a duration (``30s``)."""
        return self._get("/api/v1/query_range", {"query": promql, "start": start, "end": end, "step": step})

    def retention_seconds(self):
        """Time-based retention from ``/api/v1/status/runtimeinfo`` (``15d``, ``15d or 10GiB``); None if unknown."""
        data = self.api("/api/v1/status/runtimeinfo")
        text = str((data or {}).get("storageRetention") or "") if isinstance(data, dict) else ""
        match = re.match(r"^\s*((?:\d+(?:ms|s|m|h|d|w|y))+)", text)
        if not match:
            return None
        seconds = parse_duration(match.group(1))
        return seconds or None


_DURATION_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000}


def parse_duration(text):
    """Prometheus duration (``30s``, ``5m``, ``1h30m``) in seconds; ValueError if malformed."""
    text = str(text).strip()
    parts = re.findall(r"(\d+(?:\.\d+)?)(ms|s|m|h|d|w|y)", text)
    if not parts or "".join(n + u for n, u in parts) != text:
        raise ValueError("malformed duration %r: write it like 30s, 5m or 1h" % (text,))
    return sum(float(n) * _DURATION_UNITS[u] for n, u in parts)


def parse_value(raw):
    """A sample value as Prometheus sends it (a string; ``NaN``, ``+Inf``, ``-Inf`` included)."""
    return float(raw)


def series_of(result_type, result):
    """``[(labels, [(timestamp, value)])]`` for vector, matrix and scalar results."""
    if result_type == "vector":
        return [(item.get("metric") or {}, [(item["value"][0], parse_value(item["value"][1]))]) for item in result]
    if result_type == "matrix":
        return [(item.get("metric") or {}, [(ts, parse_value(v)) for ts, v in item.get("values") or []])
                for item in result]
    if result_type == "scalar":
        return [({}, [(result[0], parse_value(result[1]))])]
    raise ValueError("cannot judge a result of type %r (expected vector, matrix or scalar)" % (result_type,))


def format_labels(labels):
    name = labels.get("__name__", "")
    rest = ", ".join('%s="%s"' % (k, v) for k, v in sorted(labels.items()) if k != "__name__")
    return "%s{%s}" % (name, rest)


def format_value(value):
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return "%.4g" % value


def _with_unit(value, threshold, ratio):
    if threshold.is_percent and ratio and not (math.isnan(value) or math.isinf(value)):
        value = value * 100.0
    unit = "s" if threshold.unit in ("ms", "s", "m", "min", "h") else threshold.unit
    return format_value(value) + unit


def _worst_point(points, threshold):
    """The point that decides a series: the first NaN, else the one furthest on the wrong side."""
    for ts, value in points:
        if math.isnan(value):
            return ts, value
    if threshold.op in ("<", "<="):
        return max(points, key=lambda p: p[1])
    if threshold.op in (">", ">="):
        return min(points, key=lambda p: p[1])
    bad = [p for p in points if not threshold.holds(p[1])]
    return (bad or points)[0]


def judge(name, promql, threshold, result_type, result, ratio=False, violation_status=FAIL,
          empty_as_zero=False):
    """Judge a query result; return ``(status, message, series)``.

    ``series`` lists every series with its labels, deciding value and status. The finding's
    status is the worst series status; the message names the worst series (up to three).
    """
    try:
        series = series_of(result_type, result)
    except (ValueError, TypeError, KeyError, IndexError) as exc:
        return ERROR, "%s: unusable answer: %s (query: %s)" % (name, exc, promql), []
    series = [(labels, points) for labels, points in series if points]
    if not series:
        if empty_as_zero:
            series = [({}, [(time.time(), 0.0)])]
        else:
            return ERROR, ("%s: no data: the query returned an empty %s, so it cannot be judged "
                           "(no such series, or the target is not scraped) (query: %s)"
                           % (name, result_type, promql)), []
    judged = []
    for labels, points in series:
        ts, value = _worst_point(points, threshold)
        if math.isnan(value):
            status = ERROR
            text = "NaN (no data to compute it from, e.g. 0/0 at zero traffic)"
        else:
            ok = threshold.holds(value, ratio)
            status = PASS if ok else violation_status
            text = "%s %s %s%s" % (_with_unit(value, threshold, ratio), threshold.op if ok else _negate(threshold.op),
                                   format_value(threshold.value), _unit(threshold))
        judged.append({"labels": labels, "value": format_value(value), "timestamp": ts,
                       "status": status, "text": text, "points": len(points)})
    worst = max(SEVERITY[j["status"]] for j in judged)
    status = [s for s, rank in SEVERITY.items() if rank == worst][0]
    shown = [j for j in judged if j["status"] == status]
    where = "; ".join("%s%s" % (format_labels(j["labels"]) + " " if j["labels"] or len(judged) > 1 else "", j["text"])
                      for j in shown[:3])
    if len(shown) > 3:
        where += "; and %d more series" % (len(shown) - 3)
    count = " (%d series)" % len(judged) if len(judged) > 1 else ""
    if status == PASS:
        message = "%s: %s%s" % (name, where, count)
    else:
        message = "%s: %s%s (query: %s)" % (name, where, count, promql)
    return status, message, judged


def _unit(threshold):
    return "s" if threshold.unit in ("ms", "s", "m", "min", "h") else threshold.unit


def _negate(op):
    return {"<": ">=", "<=": ">", ">": "<=", ">=": "<", "==": "!=", "=": "!=", "!=": "=="}[op]


def judge_traffic(rate_result_type, rate_result, min_rate, low_status, promql):
    """Judge the request-rate guard: ``(status, message, value)``."""
    try:
        values = [point[1] for item in series_of(rate_result_type, rate_result) for point in item[1]]
    except (ValueError, TypeError, KeyError, IndexError) as exc:
        return ERROR, "traffic: unusable answer: %s (query: %s)" % (exc, promql), None
    if not values:
        return low_status, ("not enough traffic: no request rate at all (empty result), so the "
                            "latency and error-rate signals say nothing (query: %s)" % promql), None
    total = sum(v for v in values if not math.isnan(v))
    if total < min_rate:
        return low_status, ("not enough traffic: %s req/s < %s req/s minimum; the signals are not "
                            "meaningful (query: %s)" % (format_value(total), format_value(min_rate), promql)), total
    return PASS, "traffic: %s req/s >= %s req/s" % (format_value(total), format_value(min_rate)), total
