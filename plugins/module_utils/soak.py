# -*- coding: utf-8 -*-
# Copyright: (c) 2026, SOLVEREIGN release engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE: the soak decision engine (runbook 8.1 and 8.2), pure Python and without I/O.

- :func:`load_policy` reads and validates a policy file (YAML or JSON); every error names the
  field (``signals[2].trigger.for``) and the file.
- :func:`judge_window` judges the samples of one checkpoint window: every point of every series
  counts and the worst series wins. A measurement is PASS, FAIL, INCONCLUSIVE (no data, NaN,
  no traffic) or ERROR (query failed; the caller builds those).
- :func:`find_breaches` finds "held for > N" runs of a rollback trigger with a coverage guard:
  a gap of up to ``max_gap`` between two breaching points is bridged (it neither resets nor
  extends the breach by itself), and a run needs ``min_coverage`` of its points present.
- :func:`signal_status` applies the limits (failures, consecutive failures, inconclusives,
  consecutive errors); a signal that never produced a good measurement never passes.
- :func:`final_verdict` gives PASS, FAIL, ROLLBACK or INCONCLUSIVE with reasons a person can read.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import hashlib
import json
import math
import re
import string

from ansible_collections.solvereign.release_ops.plugins.module_utils.prometheus import (
    format_labels,
    format_value,
    parse_duration,
)
from ansible_collections.solvereign.release_ops.plugins.module_utils.thresholds import (
    ThresholdError,
    parse_threshold,
)

try:
    import yaml
except ImportError:  # pragma: no cover - ansible-core depends on PyYAML
    yaml = None

PASS = "PASS"
FAIL = "FAIL"
INCONCLUSIVE = "INCONCLUSIVE"
ERROR = "ERROR"
SKIP = "SKIP"
ROLLBACK = "ROLLBACK"
MEASUREMENT_STATUSES = (PASS, FAIL, INCONCLUSIVE, ERROR, SKIP)
VERDICTS = (PASS, FAIL, ROLLBACK, INCONCLUSIVE)

# error_logs: Sentry's error events when Sentry is configured, else the error lines of docker logs.
SOURCES = ("prometheus", "sentry", "docker_logs", "error_logs")
COUNT_SOURCES = ("sentry", "docker_logs", "error_logs")
DEFAULT_LIMITS = {"failures": 0, "consecutive_failures": None, "inconclusives": 0, "consecutive_errors": 2}
_POLICY_FIELDS = frozenset(("version", "name", "description", "step", "trigger_interval", "max_gap", "min_coverage",
                            "limits", "variables", "traffic", "signals", "alerts", "probes"))
_SIGNAL_FIELDS = frozenset(("name", "description", "source", "query", "ratio", "threshold", "checkpoint", "limits",
                            "needs_traffic", "requires", "requires_hint", "absent_is_zero", "trigger", "sentry_query"))
_TRIGGER_FIELDS = frozenset(("query", "when", "for", "description"))
_TRAFFIC_FIELDS = frozenset(("query", "min_rate"))
_ALERT_FIELDS = frozenset(("name", "expr", "for", "description"))
_PROBE_FIELDS = frozenset(("interval", "checks"))
_PROBE_CHECK_FIELDS = frozenset(("name", "incident", "description"))
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 _./()%-]*$")


class PolicyError(ValueError):
    """A policy that cannot be used; ``field`` is the dotted path of the offending field."""

    def __init__(self, field, message, path=None):
        self.field = field
        self.path = path
        where = "%s: " % path if path else ""
        super(PolicyError, self).__init__("%spolicy field %s: %s" % (where, field, message))
        self.message = str(self)


class InputError(ValueError):
    """A soak input (start, duration, mode) that cannot be used; names the variable."""

    def __init__(self, field, message):
        self.field = field
        super(InputError, self).__init__("%s: %s" % (field, message))
        self.message = str(self)


# --- small formatting helpers ---------------------------------------------------------------
def format_duration(seconds):
    """``390`` -> ``6m30s``; ``7200`` -> ``2h``; ``45`` -> ``45s``."""
    seconds = int(round(float(seconds)))
    if seconds <= 0:
        return "0s"
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    text = "%dd" % days if days else ""
    if hours:
        text += "%dh" % hours
    if minutes:
        text += "%dm" % minutes
    if secs:
        text += "%ds" % secs
    return text


def utc(ts, with_date=False):
    moment = datetime.datetime.fromtimestamp(float(ts), datetime.timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ" if with_date else "%H:%M:%S")


def parse_time(value, field="soak_start"):
    """ISO 8601 (``2026-12-01T10:00:00Z``, offsets allowed) or epoch seconds -> epoch seconds."""
    if isinstance(value, bool):
        raise InputError(field, "%r is neither ISO 8601 nor epoch seconds" % (value,))
    if isinstance(value, (int, float)):
        return float(value)
    text = str(value or "").strip()
    if not text:
        raise InputError(field, "empty: give ISO 8601 (2026-12-01T10:00:00Z) or epoch seconds")
    if re.match(r"^\d+(\.\d+)?$", text):
        return float(text)
    iso = text[:-1] + "+00:00" if text.endswith(("Z", "z")) else text
    try:
        moment = datetime.datetime.fromisoformat(iso)
    except ValueError:
        raise InputError(field, "%r is neither ISO 8601 (2026-12-01T10:00:00Z) nor epoch seconds" % (text,))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.timezone.utc)
    return moment.timestamp()


def parse_soak_duration(value, field="soak_duration"):
    try:
        seconds = parse_duration(str(value).strip())
    except ValueError as exc:
        raise InputError(field, "%s (for example 2h, 90m or 45s)" % exc)
    if seconds <= 0:
        raise InputError(field, "must be longer than 0s")
    return seconds


def show(value, threshold, ratio):
    """A value with the threshold's unit: ratios against percent thresholds shown as percent."""
    if value is None:
        return "no value"
    return threshold.format(value, ratio)


# --- policy ---------------------------------------------------------------------------------
class Trigger(object):
    def __init__(self, query, when, for_s, present=False, description=""):
        self.query = query
        self.when = when
        self.for_s = for_s
        self.present = present
        self.description = description

    def breached(self, value, ratio):
        if self.present:
            return not math.isnan(value)
        return self.when.holds(value, ratio)

    def describe(self, ratio):
        if self.present:
            return "any series returned" + (" for > %s" % format_duration(self.for_s) if self.for_s else "")
        return "%s for > %s" % (self.when.text, format_duration(self.for_s))


class Signal(object):
    def __init__(self, name, source="prometheus", query=None, threshold=None, ratio=False, checkpoint=None,
                 limits=None, needs_traffic=False, requires=None, requires_hint="", absent_is_zero=False,
                 trigger=None, description="", probe=None, incident="", sentry_query="level:error"):
        self.name = name
        self.source = source
        self.query = query
        self.threshold = threshold
        self.ratio = ratio
        self.checkpoint = checkpoint
        self.limits = dict(limits or DEFAULT_LIMITS)
        self.needs_traffic = needs_traffic
        self.requires = requires
        self.requires_hint = requires_hint
        self.absent_is_zero = absent_is_zero
        self.trigger = trigger
        self.description = description
        self.probe = probe
        self.incident = incident
        self.sentry_query = sentry_query

    @property
    def has_checkpoints(self):
        return self.checkpoint is not None

    def to_dict(self):
        return {
            "name": self.name, "source": self.source, "query": self.query,
            "threshold": self.threshold.text if self.threshold else None,
            "checkpoint": format_duration(self.checkpoint) if self.checkpoint else None,
            "trigger": ({"query": self.trigger.query, "when": self.trigger.describe(self.ratio)}
                        if self.trigger else None),
            "limits": self.limits,
        }


class Policy(object):
    def __init__(self, name, sha256, path, step, trigger_interval, max_gap, min_coverage, signals, traffic=None,
                 version=1):
        self.name = name
        self.sha256 = sha256
        self.path = path
        self.step = step
        self.trigger_interval = trigger_interval
        self.max_gap = max_gap
        self.min_coverage = min_coverage
        self.signals = signals
        self.traffic = traffic
        self.version = version

    def signal(self, name):
        for sig in self.signals:
            if sig.name == name:
                return sig
        raise KeyError(name)

    def queries(self):
        """``(field, signal name, promql)`` of every PromQL expression, for validating them up front."""
        out = []
        if self.traffic:
            out.append(("traffic.query", "traffic", self.traffic["query"]))
        for index, sig in enumerate(self.signals):
            if sig.source != "prometheus":
                continue
            if sig.query:
                out.append(("signals[%d].query" % index, sig.name, sig.query))
            if sig.requires:
                out.append(("signals[%d].requires" % index, sig.name, "count(last_over_time(%s[1m]))" % sig.requires))
            if sig.trigger and sig.trigger.query and sig.trigger.query != sig.query:
                out.append(("signals[%d].trigger.query" % index, sig.name, sig.trigger.query))
        return out

    def shortest_interval(self):
        intervals = [s.checkpoint for s in self.signals if s.checkpoint]
        return min(intervals) if intervals else None


def sha256_file(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(65536), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _check_fields(mapping, allowed, field, path):
    if not isinstance(mapping, dict):
        raise PolicyError(field, "must be a mapping, got %s" % type(mapping).__name__, path)
    unknown = sorted(set(mapping) - allowed)
    if unknown:
        raise PolicyError("%s.%s" % (field, unknown[0]) if field else unknown[0],
                          "unknown field (allowed: %s)" % ", ".join(sorted(allowed)), path)


def _duration(value, field, path, allow_zero=False):
    try:
        seconds = parse_duration(str(value).strip())
    except ValueError as exc:
        raise PolicyError(field, str(exc), path)
    if seconds < 0 or (seconds == 0 and not allow_zero):
        raise PolicyError(field, "must be longer than 0s", path)
    return seconds


def _threshold(value, field, path):
    try:
        return parse_threshold(value)
    except ThresholdError as exc:
        raise PolicyError(field, str(exc), path)


def _substitute(text, variables, field, path):
    if not isinstance(text, str) or not text.strip():
        raise PolicyError(field, "must be a non-empty PromQL string", path)
    try:
        return " ".join(string.Template(text).substitute(variables).split())
    except KeyError as exc:
        raise PolicyError(field, "unknown variable $%s (known: %s)" % (exc.args[0], ", ".join(
            "$" + k for k in sorted(variables)) or "none"), path)
    except ValueError as exc:
        raise PolicyError(field, "bad $ placeholder: %s (write $$ for a literal $)" % exc, path)


def _bool(mapping, key, field, path, default=False):
    value = mapping.get(key, default)
    if not isinstance(value, bool):
        raise PolicyError(field, "must be true or false, got %r" % (value,), path)
    return value


def _limits(value, base, field, path):
    limits = dict(base)
    if value is None:
        return limits
    _check_fields(value, frozenset(DEFAULT_LIMITS), field, path)
    for key, number in value.items():
        if isinstance(number, bool) or not isinstance(number, int) or number < 0:
            raise PolicyError("%s.%s" % (field, key), "must be a whole number >= 0, got %r" % (number,), path)
        limits[key] = number
    return limits


def promql_value(value):
    """A variable's text inside a PromQL string literal; a list is a regex alternation of its items."""
    if isinstance(value, (list, tuple)):
        return "|".join(re.escape(str(item)).replace("\\", "\\\\") for item in value)
    return str(value)


def parse_policy(document, sha256="", path=None, variables=None):
    """Validate a parsed policy document and return a :class:`Policy`."""
    if not isinstance(document, dict):
        raise PolicyError("(top level)", "the policy must be a mapping with 'signals'", path)
    _check_fields(document, _POLICY_FIELDS, "", path)
    version = document.get("version", 1)
    if version != 1:
        raise PolicyError("version", "only version 1 is understood, got %r" % (version,), path)
    merged = dict((k, promql_value(v)) for k, v in (variables or {}).items())
    own = document.get("variables") or {}
    if not isinstance(own, dict):
        raise PolicyError("variables", "must be a mapping of name: value", path)
    for key, value in own.items():
        merged.setdefault(str(key), promql_value(value))
    step = _duration(document.get("step", "30s"), "step", path)
    trigger_interval = _duration(document.get("trigger_interval", "30s"), "trigger_interval", path)
    max_gap = _duration(document.get("max_gap", "1m"), "max_gap", path, allow_zero=True)
    min_coverage = document.get("min_coverage", 0.8)
    if isinstance(min_coverage, bool) or not isinstance(min_coverage, (int, float)) or not 0 < min_coverage <= 1:
        raise PolicyError("min_coverage", "must be a number in (0, 1], got %r" % (min_coverage,), path)
    base_limits = _limits(document.get("limits"), DEFAULT_LIMITS, "limits", path)

    traffic = None
    if document.get("traffic") is not None:
        _check_fields(document["traffic"], _TRAFFIC_FIELDS, "traffic", path)
        rate = document["traffic"].get("min_rate", 0.0)
        if isinstance(rate, bool) or not isinstance(rate, (int, float)) or rate < 0:
            raise PolicyError("traffic.min_rate", "must be a number >= 0 (requests per second), got %r" % (rate,), path)
        traffic = {"query": _substitute(document["traffic"].get("query"), merged, "traffic.query", path),
                   "min_rate": float(rate)}

    raw_signals = document.get("signals")
    if not isinstance(raw_signals, list) or not raw_signals:
        raise PolicyError("signals", "must be a non-empty list", path)
    signals = []
    names = set()
    for index, raw in enumerate(raw_signals):
        field = "signals[%d]" % index
        _check_fields(raw, _SIGNAL_FIELDS, field, path)
        name = raw.get("name")
        if not isinstance(name, str) or not _NAME.match(name):
            raise PolicyError(field + ".name", "must be a short name (letters, digits, spaces, _./()%%-), got %r"
                              % (name,), path)
        if name in names:
            raise PolicyError(field + ".name", "%r is used twice" % name, path)
        names.add(name)
        field = "signals[%d] (%s)" % (index, name)
        source = raw.get("source", "prometheus")
        if source not in SOURCES:
            raise PolicyError(field + ".source", "must be one of %s, got %r" % (", ".join(SOURCES), source), path)
        threshold = _threshold(raw["threshold"], field + ".threshold", path) if raw.get("threshold") is not None else None
        checkpoint = _duration(raw["checkpoint"], field + ".checkpoint", path) if raw.get("checkpoint") is not None else None
        if (threshold is None) != (checkpoint is None):
            raise PolicyError(field + (".checkpoint" if checkpoint is None else ".threshold"),
                              "a soak threshold needs a checkpoint interval and the other way round", path)
        ratio = _bool(raw, "ratio", field + ".ratio", path)
        query = None
        if source == "prometheus":
            query = _substitute(raw.get("query"), merged, field + ".query", path)
        elif raw.get("query") is not None:
            raise PolicyError(field + ".query", "only a prometheus signal has a query", path)
        trigger = None
        if raw.get("trigger") is not None:
            tfield = field + ".trigger"
            _check_fields(raw["trigger"], _TRIGGER_FIELDS, tfield, path)
            if source != "prometheus":
                raise PolicyError(tfield, "only a prometheus signal has a trigger (probes trigger by failing)", path)
            if raw["trigger"].get("when") is None:
                raise PolicyError(tfield + ".when", "missing: the rollback condition, e.g. '> 5%'", path)
            when = _threshold(raw["trigger"]["when"], tfield + ".when", path)
            if raw["trigger"].get("for") is None:
                raise PolicyError(tfield + ".for", "missing: how long the condition must hold, e.g. 5m", path)
            for_s = _duration(raw["trigger"]["for"], tfield + ".for", path, allow_zero=True)
            tquery = (_substitute(raw["trigger"]["query"], merged, tfield + ".query", path)
                      if raw["trigger"].get("query") is not None else query)
            trigger = Trigger(tquery, when, for_s, description=str(raw["trigger"].get("description") or ""))
        if source == "prometheus" and threshold is None and trigger is None:
            raise PolicyError(field, "needs a threshold with a checkpoint, a trigger, or both", path)
        if source in COUNT_SOURCES and threshold is None:
            raise PolicyError(field + ".threshold", "a %s signal needs a threshold and a checkpoint" % source, path)
        requires = _substitute(raw["requires"], merged, field + ".requires", path) if raw.get("requires") else None
        signals.append(Signal(
            name, source=source, query=query, threshold=threshold, ratio=ratio, checkpoint=checkpoint,
            limits=_limits(raw.get("limits"), base_limits, field + ".limits", path),
            needs_traffic=_bool(raw, "needs_traffic", field + ".needs_traffic", path),
            requires=requires, requires_hint=str(raw.get("requires_hint") or ""),
            absent_is_zero=_bool(raw, "absent_is_zero", field + ".absent_is_zero", path),
            trigger=trigger, description=str(raw.get("description") or ""),
            incident=str(raw.get("incident") or ""), sentry_query=str(raw.get("sentry_query") or "level:error")))
        if signals[-1].needs_traffic and traffic is None:
            raise PolicyError(field + ".needs_traffic", "needs the policy's traffic section (query, min_rate)", path)

    for index, raw in enumerate(document.get("alerts") or []):
        field = "alerts[%d]" % index
        _check_fields(raw, _ALERT_FIELDS, field, path)
        name = raw.get("name")
        if not isinstance(name, str) or not _NAME.match(name) or name in names:
            raise PolicyError(field + ".name", "must be a short name not used by another signal, got %r" % (name,),
                              path)
        names.add(name)
        expr = _substitute(raw.get("expr"), merged, "%s (%s).expr" % (field, name), path)
        for_s = _duration(raw.get("for", "0s"), "%s (%s).for" % (field, name), path, allow_zero=True)
        signals.append(Signal(name, query=expr, limits=base_limits, description=str(raw.get("description") or ""),
                              trigger=Trigger(expr, None, for_s, present=True)))

    if document.get("probes") is not None:
        _check_fields(document["probes"], _PROBE_FIELDS, "probes", path)
        interval = _duration(document["probes"].get("interval", "15m"), "probes.interval", path)
        checks = document["probes"].get("checks") or []
        if not isinstance(checks, list):
            raise PolicyError("probes.checks", "must be a list of {name, incident}", path)
        for index, raw in enumerate(checks):
            field = "probes.checks[%d]" % index
            _check_fields(raw, _PROBE_CHECK_FIELDS, field, path)
            name = raw.get("name")
            if not isinstance(name, str) or not _NAME.match(name) or name in names:
                raise PolicyError(field + ".name", "must be a short name not used by another signal, got %r"
                                  % (name,), path)
            names.add(name)
            signals.append(Signal(name, source="probe", checkpoint=interval, limits=base_limits, probe=name,
                                  incident=str(raw.get("incident") or "incident"),
                                  description=str(raw.get("description") or "")))
    return Policy(str(document.get("name") or "policy"), sha256, path, step, trigger_interval, max_gap,
                  float(min_coverage), signals, traffic=traffic, version=version)


def load_policy(path, variables=None):
    """Read, validate and fingerprint a policy file."""
    try:
        with open(path, "rb") as handle:
            raw = handle.read()
    except (IOError, OSError) as exc:
        raise PolicyError("soak_policy_file", "cannot read %s: %s" % (path, exc.strerror or exc))
    digest = hashlib.sha256(raw).hexdigest()
    text = raw.decode("utf-8", "replace")
    try:
        document = yaml.safe_load(text) if yaml is not None else json.loads(text)
    except Exception as exc:  # yaml.YAMLError and ValueError; the message is what matters
        raise PolicyError("(file)", "not valid YAML: %s" % " ".join(str(exc).split()), path)
    return parse_policy(document, digest, path, variables)


def validate_window(policy, start, duration, mode, now, retention_s=None, resuming=False):
    """Reject a window that cannot be judged, before any measurement."""
    end = start + duration
    if mode not in ("live", "retrospective"):
        raise InputError("soak_mode", "must be live or retrospective, got %r" % (mode,))
    for sig in policy.signals:
        if sig.checkpoint and sig.checkpoint > duration:
            raise InputError("soak_duration", "%s is shorter than the checkpoint interval %s of signal %r in the "
                             "policy: no checkpoint could be judged"
                             % (format_duration(duration), format_duration(sig.checkpoint), sig.name))
    if policy.step > duration:
        raise InputError("soak_duration", "%s is shorter than the policy's step %s" % (
            format_duration(duration), format_duration(policy.step)))
    if mode == "retrospective":
        if start > now:
            raise InputError("soak_start", "%s is in the future: a retrospective soak judges a past window "
                             "(use soak_mode=live to watch from now)" % utc(start, True))
        if end > now:
            raise InputError("soak_start", "the window %s to %s ends in the future (%s from now): choose an earlier "
                             "soak_start or a shorter soak_duration, or use soak_mode=live"
                             % (utc(start, True), utc(end, True), format_duration(end - now)))
    elif end < now and not resuming:
        raise InputError("soak_start", "the live window %s to %s is already over: use soak_mode=retrospective to "
                         "judge a past window" % (utc(start, True), utc(end, True)))
    if retention_s and start < now - retention_s:
        raise InputError("soak_start", "%s is older than Prometheus' retention (%s): the samples of that window "
                         "are gone" % (utc(start, True), format_duration(retention_s)))
    return end


def checkpoint_windows(start, end, interval):
    """``[(a, b)]`` covering ``[start, end]`` in steps of ``interval``; the last one may be shorter."""
    windows = []
    a = float(start)
    while a < end - 1e-6:
        b = min(a + interval, end)
        windows.append((a, b))
        a = b
    return windows


# --- judging --------------------------------------------------------------------------------
def _expected_points(start, end, step):
    return int(math.floor((end - start) / step + 1e-9)) + 1


def _traffic_ok(traffic_points, min_rate, step):
    """A predicate on timestamps: True where the traffic reached ``min_rate``."""
    if traffic_points is None:
        return None
    by_ts = {}
    for ts, value in traffic_points:
        by_ts[round(ts, 3)] = value

    def ok(ts):
        value = by_ts.get(round(ts, 3))
        return value is not None and not math.isnan(value) and value >= min_rate
    return ok


def judge_window(signal, series, start, end, step, min_coverage, traffic=None, min_rate=0.0):
    """Judge one checkpoint window of a prometheus signal.

    ``series`` is ``[(labels, [(ts, value)])]`` for ``[start, end]``; ``traffic`` the request rate
    points of the same window when the signal needs traffic. Returns a measurement dict.
    """
    threshold = signal.threshold
    expected = _expected_points(start, end, step)
    series = [(labels, points) for labels, points in series if points]
    if not series and signal.absent_is_zero:
        series = [({}, [(end, 0.0)])]
        expected = 1
    traffic_ok = _traffic_ok(traffic, min_rate, step) if signal.needs_traffic else None
    if not series:
        return dict(status=INCONCLUSIVE, value=None, series=[], points=0, expected=expected,
                    reason="%s: no data: the query returned no series for %s–%s" % (signal.name, utc(start), utc(end)))
    judged = []
    covered = set()
    no_traffic = set()
    nan_points = 0
    for labels, points in series:
        good = []
        for ts, value in points:
            if math.isnan(value):
                nan_points += 1
                continue
            if traffic_ok is not None and not traffic_ok(ts):
                no_traffic.add(round(ts, 3))
                continue
            good.append((ts, value))
        bad = [(ts, v) for ts, v in good if not threshold.holds(v, signal.ratio)]
        for ts, _value in good:
            covered.add(round(ts, 3))
        if bad:
            worst = _worst(bad, threshold)
            status = FAIL
        elif good:
            worst = _worst(good, threshold)
            status = PASS
        else:
            worst, status = None, INCONCLUSIVE
        judged.append(dict(labels=labels, status=status, worst=worst, bad=bad, good=len(good), points=len(points)))
    failing = [j for j in judged if j["status"] == FAIL]
    expected = max(expected, 1)
    coverage = len(covered) / float(expected)
    if failing:
        decider = max(failing, key=lambda j: _badness(j["worst"][1], threshold, signal.ratio))
        bad = decider["bad"]
        first, last = bad[0][0], bad[-1][0]
        where = format_labels(decider["labels"]) + " " if decider["labels"] and len(judged) > 1 else ""
        reason = "%s %s%s %s %s at %s (%d of %d points breached, %s–%s%s)" % (
            signal.name, where, show(decider["worst"][1], threshold, signal.ratio),
            _negate(threshold.op), show(threshold.value, threshold, False), utc(decider["worst"][0]),
            len(bad), decider["good"], utc(first), utc(last), _series_note(judged))
        return dict(status=FAIL, value=decider["worst"][1], at=decider["worst"][0], labels=decider["labels"],
                    series=_series_view(judged, threshold, signal.ratio), points=len(covered), expected=expected,
                    breach={"start": first, "end": last, "points": len(bad)}, reason=reason)
    if coverage < min_coverage:
        why = []
        if nan_points:
            why.append("%d NaN (e.g. 0/0 at zero traffic)" % nan_points)
        if no_traffic:
            why.append("%d with traffic below %s req/s" % (len(no_traffic), format_value(min_rate)))
        reason = "%s: not enough data: %d of %d points usable (%d%% < %d%%)%s, %s–%s" % (
            signal.name, len(covered), expected, int(coverage * 100), int(min_coverage * 100),
            (": " + ", ".join(why)) if why else "", utc(start), utc(end))
        return dict(status=INCONCLUSIVE, value=None, series=_series_view(judged, threshold, signal.ratio),
                    points=len(covered), expected=expected, reason=reason)
    passing = [j for j in judged if j["status"] == PASS]
    decider = max(passing, key=lambda j: _badness(j["worst"][1], threshold, signal.ratio))
    reason = "%s worst %s %s %s (%d points%s, %s–%s)" % (
        signal.name, show(decider["worst"][1], threshold, signal.ratio), threshold.op,
        show(threshold.value, threshold, False), len(covered), _series_note(judged), utc(start), utc(end))
    return dict(status=PASS, value=decider["worst"][1], at=decider["worst"][0], labels=decider["labels"],
                series=_series_view(judged, threshold, signal.ratio), points=len(covered), expected=expected,
                reason=reason)


def judge_count(signal, count, start, end):
    """A count-type signal (error events): the count scaled to the threshold's per-hour basis."""
    threshold = signal.threshold
    hours = max((end - start) / 3600.0, 1e-9)
    per_hour = count / hours
    ok = threshold.holds(per_hour)
    reason = "%s %s/hour %s %s/hour (%d in %s, %s–%s)" % (
        signal.name, format_value(round(per_hour, 2)), threshold.op if ok else _negate(threshold.op),
        format_value(threshold.value), count, format_duration(end - start), utc(start), utc(end))
    return dict(status=PASS if ok else FAIL, value=per_hour, count=count, series=[], points=1, expected=1,
                reason=reason)


def _series_note(judged):
    return " over %d series" % len(judged) if len(judged) > 1 else ""


def _series_view(judged, threshold, ratio):
    return [{"labels": j["labels"], "status": j["status"],
             "worst": format_value(j["worst"][1]) if j["worst"] else None,
             "points": j["points"]} for j in judged]


def _negate(op):
    return {"<": ">=", "<=": ">", ">": "<=", ">=": "<", "==": "!=", "=": "!=", "!=": "=="}[op]


def _badness(value, threshold, ratio):
    """Larger is worse: distance on the wrong side of the threshold's direction."""
    if threshold.op in ("<", "<="):
        return value
    if threshold.op in (">", ">="):
        return -value
    return 0 if threshold.holds(value, ratio) else 1


def _worst(points, threshold):
    if threshold.op in ("<", "<="):
        return max(points, key=lambda p: p[1])
    if threshold.op in (">", ">="):
        return min(points, key=lambda p: p[1])
    bad = [p for p in points if not threshold.holds(p[1])]
    return (bad or points)[0]


def find_breaches(signal, series, step, max_gap, min_coverage):
    """Runs of consecutive breaching points per series, with the coverage guard.

    Two breaching points at most ``step + max_gap`` apart belong to one run (a missing scrape
    neither resets it nor counts as breach by itself); a present healthy point ends a run. A run
    covers ``last - first + step`` and fires when that exceeds the trigger's ``for`` and at least
    ``min_coverage`` of its points are present. Returns every run, fired or not, worst first.
    """
    trigger = signal.trigger
    runs = []
    limit = step + max_gap + 1e-6
    for labels, points in series:
        current = None
        for ts, value in sorted(points):
            if math.isnan(value) and not trigger.present:
                continue
            if trigger.breached(value, signal.ratio):
                if current is not None and ts - current["last"] <= limit:
                    current["last"] = ts
                    current["points"] += 1
                    current["values"].append(value)
                else:
                    if current is not None:
                        runs.append(current)
                    current = {"labels": labels, "first": ts, "last": ts, "points": 1, "values": [value]}
            elif current is not None:
                runs.append(current)
                current = None
        if current is not None:
            runs.append(current)
    out = []
    for run in runs:
        duration = run["last"] - run["first"] + step
        expected = _expected_points(run["first"], run["last"], step)
        coverage = run["points"] / float(expected)
        fired = duration > trigger.for_s + 1e-6 and coverage >= min_coverage
        if trigger.present:
            value = max(run["values"])
        elif trigger.when.op in ("<", "<="):
            value = min(run["values"])
        else:
            value = max(run["values"])
        out.append(dict(labels=run["labels"], start=run["first"], end=run["last"] + step, duration=duration,
                        points=run["points"], expected=expected, coverage=coverage, fired=fired, value=value,
                        reason=_breach_reason(signal, value, run, duration, coverage, min_coverage)))
    out.sort(key=lambda r: (not r["fired"], -r["duration"]))
    return out


def _breach_reason(signal, value, run, duration, coverage, min_coverage):
    trigger = signal.trigger
    where = format_labels(run["labels"]) + " " if run["labels"] else ""
    span = "(%s–%s)" % (utc(run["first"]), utc(run["last"] + (duration - (run["last"] - run["first"]))))
    if trigger.present:
        text = "%s %sfiring for %s %s" % (signal.name, where, format_duration(duration), span)
    else:
        shown = show(value, trigger.when, signal.ratio)
        if trigger.when.op in ("<", "<=", ">", ">="):
            text = "%s %s%s %s for %s %s" % (signal.name, where, shown, trigger.when.text, format_duration(duration),
                                             span)
        else:
            text = "%s %s(value %s, rollback when %s) for %s %s" % (
                signal.name, where, shown, trigger.when.text, format_duration(duration), span)
    if coverage < min_coverage:
        text += "; not counted: only %d%% of its points present (< %d%%)" % (coverage * 100, min_coverage * 100)
    return text


def signal_status(signal, measurements):
    """The signal's status from its measurements and limits: ``(status, reason)``."""
    if not measurements:
        return INCONCLUSIVE, "%s: no measurement was made" % signal.name
    statuses = [m["status"] for m in measurements]
    if all(s == SKIP for s in statuses):
        return SKIP, measurements[-1]["reason"]
    limits = signal.limits
    fails = statuses.count(FAIL)
    inconclusive = statuses.count(INCONCLUSIVE)
    worst_fail = [m for m in measurements if m["status"] == FAIL]
    consecutive = limits["consecutive_failures"]
    consecutive = limits["failures"] if consecutive is None else consecutive
    if fails > limits["failures"] or _longest(statuses, FAIL) > consecutive:
        return FAIL, "; ".join(m["reason"] for m in worst_fail[:3]) + (
            "; and %d more failed measurements" % (fails - 3) if fails > 3 else "")
    if _longest(statuses, ERROR) > limits["consecutive_errors"]:
        errors = [m for m in measurements if m["status"] == ERROR]
        return ERROR, "%s: %d consecutive measurements failed (limit %d): %s" % (
            signal.name, _longest(statuses, ERROR), limits["consecutive_errors"], errors[-1]["reason"])
    if inconclusive > limits["inconclusives"]:
        last = [m for m in measurements if m["status"] == INCONCLUSIVE][-1]
        return INCONCLUSIVE, "%s: %d inconclusive measurements (limit %d): %s" % (
            signal.name, inconclusive, limits["inconclusives"], last["reason"])
    if PASS not in statuses:
        return INCONCLUSIVE, "%s never produced a good measurement: %s" % (signal.name, measurements[-1]["reason"])
    passed = [m for m in measurements if m["status"] == PASS]
    tolerated = len(statuses) - len(passed)
    return PASS, "%s: %d of %d measurements passed%s" % (
        signal.name, len(passed), len(statuses), " (%d tolerated by the limits)" % tolerated if tolerated else "")


def _longest(statuses, wanted):
    best = run = 0
    for status in statuses:
        run = run + 1 if status == wanted else 0
        best = max(best, run)
    return best


def final_verdict(signal_results, fired, strict=False):
    """``(verdict, reasons)`` from ``[{name, status, reason}]`` and the fired triggers ``[{reason}]``."""
    if fired:
        return ROLLBACK, ["rollback trigger: %s" % f["reason"] for f in fired]
    failed = [s for s in signal_results if s["status"] == FAIL]
    if failed:
        return FAIL, ["soak threshold breached: %s" % s["reason"] for s in failed]
    skipped = [s for s in signal_results if s["status"] == SKIP]
    if strict and skipped:
        return FAIL, ["%s was not judged and soak_strict is true: %s" % (s["name"], s["reason"]) for s in skipped]
    unsure = [s for s in signal_results if s["status"] in (INCONCLUSIVE, ERROR)]
    if unsure:
        return INCONCLUSIVE, ["%s: %s" % (s["status"].lower(), s["reason"]) for s in unsure]
    judged = [s for s in signal_results if s["status"] == PASS]
    if not judged:
        return INCONCLUSIVE, ["no signal could be judged"]
    return PASS, ["%s within threshold for the whole window" % ", ".join(s["name"] for s in judged)]


def row_status(verdict):
    """Row 8.1: PASS; FAIL for FAIL and ROLLBACK; ERROR for INCONCLUSIVE."""
    return {PASS: "PASS", FAIL: "FAIL", ROLLBACK: "FAIL"}.get(verdict, "ERROR")


def finding_status(status):
    return {INCONCLUSIVE: "ERROR"}.get(status, status)
