import math

import pytest

from ansible_collections.solvereign.release_ops.plugins.module_utils.thresholds import (
    ThresholdError, parse_threshold,
)


@pytest.mark.parametrize("text, observed, ratio, holds", [
    ("< 2s", 1.99, False, True),
    ("< 2s", 2.0, False, False),
    ("< 2000ms", 1.5, False, True),
    ("< 1%", 0.5, False, True),
    ("< 1%", 0.02, True, False),   # ratio 0.02 is 2 %
    ("< 80%", 0.79, True, True),
    (">= 041", 41, False, True),
    (">= 041", 39, False, False),
    ("< 50", 49, False, True),
    ("<= 10", 10, False, True),
    ("!= 0", 0, False, False),
])
def test_thresholds(text, observed, ratio, holds):
    assert parse_threshold(text).holds(observed, ratio=ratio) is holds


def test_nan_never_holds():
    assert parse_threshold("< 2s").holds(math.nan) is False
    assert parse_threshold("> 2s").holds(math.nan) is False


def test_describe_names_value_and_limit():
    assert parse_threshold("< 2s").describe(2.5) == "2.5s >= 2s"
    assert parse_threshold("< 1%").describe(0.005, ratio=True) == "0.5% < 1%"


@pytest.mark.parametrize("text", ["2s", "< two seconds", "", None, "<< 2", 5])
def test_bad_thresholds_have_clear_errors(text):
    with pytest.raises(ThresholdError) as caught:
        parse_threshold(text)
    assert "threshold" in str(caught.value)
