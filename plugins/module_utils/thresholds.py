# -*- coding: utf-8 -*-
# Copyright: (c) 2026, SOLVEREIGN release engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Thresholds written the way the runbook writes them: ``< 2s``, ``< 1%``, ``>= 041``.

Units normalise to a base: durations to seconds (``ms``, ``s``, ``m``, ``h``), percentages stay
in percent (``< 1%`` compares against a value already expressed in percent, or against a
ratio when ``ratio=True`` is passed to :meth:`Threshold.holds`).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import math
import operator
import re

_OPERATORS = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "==": operator.eq,
    "=": operator.eq,
    "!=": operator.ne,
}
_UNITS = {"": 1.0, "ms": 0.001, "s": 1.0, "m": 60.0, "min": 60.0, "h": 3600.0, "%": 1.0}
_PATTERN = re.compile(r"^\s*(?P<op><=|>=|==|!=|<|>|=)\s*(?P<number>[+-]?(?:\d+(?:\.\d*)?|\.\d+))\s*(?P<unit>ms|min|s|m|h|%)?\s*$")


class ThresholdError(ValueError):
    pass


class Threshold(object):
    def __init__(self, text, op, number, unit):
        self.text = text
        self.op = op
        self.unit = unit or ""
        self.value = number * _UNITS[self.unit]

    @property
    def is_percent(self):
        return self.unit == "%"

    def holds(self, observed, ratio=False):
        """True when ``observed`` satisfies the threshold. NaN never does."""
        observed = float(observed)
        if math.isnan(observed):
            return False
        if ratio and self.is_percent:
            observed *= 100.0
        return _OPERATORS[self.op](observed, self.value)

    def describe(self, observed, ratio=False):
        """``'0.71 s < 2 s'`` style text for findings."""
        shown = float(observed) * (100.0 if ratio and self.is_percent else 1.0)
        verdict = self.op if self.holds(observed, ratio) else negate(self.op)
        unit = "s" if self.unit in ("ms", "s", "m", "min", "h") else self.unit
        return "%s%s %s %s%s" % (format_number(shown), unit, verdict, format_number(self.value), unit)

    def format(self, observed, ratio=False):
        """``observed`` in this threshold's unit: ``'6.1%'`` for a ratio against a percent threshold, ``'11s'``."""
        observed = float(observed)
        if math.isnan(observed):
            return "NaN"
        if math.isinf(observed):
            return "+Inf" if observed > 0 else "-Inf"
        shown = observed * (100.0 if ratio and self.is_percent else 1.0)
        unit = "s" if self.unit in ("ms", "s", "m", "min", "h") else self.unit
        return "%s%s" % (format_number(round(shown, 6)), unit)

    def __repr__(self):
        return "Threshold(%r)" % self.text


def negate(op):
    return {"<": ">=", "<=": ">", ">": "<=", ">=": "<", "==": "!=", "=": "!=", "!=": "=="}[op]


def format_number(value):
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return ("%.4g" % value)


def parse_threshold(text):
    """Parse ``'< 2s'`` into a :class:`Threshold`; raise ThresholdError with a clear message."""
    if isinstance(text, (int, float)):
        raise ThresholdError("threshold %r has no comparison operator; write it like '< 2s' or '>= 041'" % (text,))
    match = _PATTERN.match(str(text or ""))
    if not match:
        raise ThresholdError(
            "cannot parse threshold %r: expected an operator (<, <=, >, >=, ==, !=), a number and "
            "an optional unit (ms, s, m, h, %%), e.g. '< 2s', '< 1%%', '>= 041'" % (text,))
    return Threshold(str(text).strip(), match.group("op"), float(match.group("number")), match.group("unit"))
