"""Intervals checked against the textbook formulas worked by hand."""

from __future__ import annotations

import math

import pytest

from manyi.insight.intervals import (
    Estimate,
    mean_difference,
    mean_estimate,
    proportion,
    sample_sd,
    wilson_interval,
)


def test_wilson_interval_matches_the_formula_by_hand() -> None:
    # given 81 successes in 100 trials; by hand with z = 1.959964, z² = 3.841459:
    #   centre = (0.81 + z²/200) / (1 + z²/100) = 0.829207 / 1.038415 = 0.798532
    #   half   = z √(0.81·0.19/100 + z²/40000) / 1.038415 = 0.076320
    # when the interval is computed
    low, high = wilson_interval(81, 100)
    # then it is (0.7222, 0.8749)
    assert low == pytest.approx(0.798532 - 0.076320, abs=2e-6)
    assert high == pytest.approx(0.798532 + 0.076320, abs=2e-6)


def test_wilson_interval_at_the_edges_stays_inside_zero_one() -> None:
    # given no successes and all successes / then the interval touches 0 and 1 but is not empty
    low0, high0 = wilson_interval(0, 10)
    low1, high1 = wilson_interval(10, 10)
    assert low0 == 0.0
    assert high0 == pytest.approx(3.8415 / (10 + 3.8415), abs=1e-4)  # z²/(n+z²) when p = 0
    assert high1 == 1.0
    assert low1 == pytest.approx(1 - high0)


def test_wilson_interval_rejects_impossible_counts() -> None:
    with pytest.raises(ValueError, match="n > 0"):
        wilson_interval(0, 0)
    with pytest.raises(ValueError, match=r"successes must lie in \[0, n\]"):
        wilson_interval(11, 10)


def test_proportion_of_nothing_has_no_value() -> None:
    assert proportion(0, 0) == Estimate(None, 0)


def test_mean_estimate_uses_student_t() -> None:
    # given the values 2, 4, 6: mean 4, sd 2, t(0.975, 2) = 4.302653
    est = mean_estimate(12.0, 4 + 16 + 36, 3)
    # then the interval is 4 ± 4.302653 · 2/√3
    half = 4.302653 * 2 / math.sqrt(3)
    assert est.value == 4.0
    assert est.low == pytest.approx(4 - half, abs=1e-5)
    assert est.high == pytest.approx(4 + half, abs=1e-5)


def test_mean_estimate_edge_cases() -> None:
    # no rows: no mean; one row: a mean without interval; all equal: a zero-width interval
    assert mean_estimate(0, 0, 0) == Estimate(None, 0)
    assert mean_estimate(5, 25, 1) == Estimate(5.0, 1)
    equal = mean_estimate(15, 75, 3)
    assert (equal.value, equal.low, equal.high) == (5.0, 5.0, 5.0)


def test_mean_difference_is_welch_normal() -> None:
    # given two means with their sds
    a, b = Estimate(4.0, 100), Estimate(3.0, 50)
    diff = mean_difference(a, 1.0, b, 2.0)
    # then the half width is 1.96 √(1/100 + 4/50)
    half = 1.959964 * math.sqrt(0.01 + 0.08)
    assert diff.value == 1.0
    assert diff.low == pytest.approx(1 - half, abs=1e-5)
    assert mean_difference(Estimate(4.0, 1), 0.0, b, 2.0).value is None


def test_sample_sd() -> None:
    assert sample_sd(12, 56, 3) == pytest.approx(2.0)
    assert sample_sd(5, 25, 1) == 0.0
