"""Anomaly scores: robust seasonal z, the STL-like decomposition, EWMA and CUSUM, by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from manyi.insight.monitor.anomaly import (
    MAX_SCORE,
    chart_scores,
    cusum_statistic,
    ewma_statistic,
    robust_z,
    seasonal_mad,
    seasonal_medians,
    stl_decompose,
    stl_score,
)


def test_seasonal_medians_by_hand() -> None:
    # 14 days; the day after them has the weekday of days 0 and 7
    history = np.array([10.0, 1, 1, 1, 1, 1, 1, 14, 3, 1, 1, 1, 1, 1])
    medians, scale, used = seasonal_medians(history, season=7)
    assert medians[0] == 12.0  # median of 10 and 14
    assert medians[1] == 2.0  # days 1 and 8: 1 and 3
    assert medians[2] == 1.0
    # deviations from the medians: ±2, ±1 and twelve 0s → median |dev| 0
    assert scale == 0.0
    assert used == 14


def test_seasonal_mad_score_uses_the_floor_when_the_history_is_flat() -> None:
    history = np.array([10.0, 12, 11, 9, 10, 11, 12] * 4)
    r = seasonal_mad(history, 25.0, season=7, floor=1.0)
    assert (r.expected, r.scale, r.score) == (10.0, 1.0, 15.0)
    noisy = history + np.tile([0.0, 2.0, -2.0, 0.0], 7)
    r = seasonal_mad(noisy, 16.0, season=7, floor=0.1)
    deviations = noisy - np.tile(seasonal_medians(noisy, 7)[0][(np.arange(28) - 28) % 7], 1)
    scale = 1.4826 * float(np.median(np.abs(deviations)))
    assert r.scale == pytest.approx(scale)
    assert r.score == pytest.approx((16.0 - r.expected) / scale)


def test_constant_series() -> None:
    flat = np.full(28, 5.0)
    assert seasonal_mad(flat, 5.0, season=7, floor=0.0).score == 0.0
    assert seasonal_mad(flat, 6.0, season=7, floor=0.0).score == MAX_SCORE
    assert seasonal_mad(flat, 4.0, season=7, floor=0.0).score == -MAX_SCORE
    assert stl_score(flat, 5.0, season=7, floor=0.0).score == 0.0
    assert robust_z(0.0, 0.0) == 0.0
    assert robust_z(3.0, 0.0) == MAX_SCORE
    assert robust_z(1e9, 1.0) == MAX_SCORE


def test_missing_history() -> None:
    empty = np.full(28, np.nan)
    r = seasonal_mad(empty, 3.0, season=7, floor=1.0)
    assert (r.expected, r.score, r.history) == (None, None, 0)
    half = np.where(np.arange(28) % 2 == 0, 4.0, np.nan)
    assert seasonal_mad(half, 4.0, season=7, floor=1.0).history == 14


def test_stl_recovers_trend_and_weekly_pattern() -> None:
    rng = np.random.default_rng(3)
    t = np.arange(56)
    season = np.array([3.0, 1.0, 0.0, -1.0, -1.0, -1.0, -1.0])
    groups = (t - 56) % 7
    history = 20 + 0.2 * t + season[groups] + rng.normal(0, 0.3, 56)
    history[30] += 25  # one wild day must not bend the fit
    _trend, component, residuals = stl_decompose(history, 7)
    assert component == pytest.approx(season - season.mean(), abs=0.35)
    truth = 20 + 0.2 * 56 + season[0]
    r = stl_score(history, truth, season=7, floor=0.0)
    # the level of the last week lags a linear trend by about half a week
    assert r.expected == pytest.approx(truth, abs=1.2)
    assert abs(r.score) < 3
    assert stl_score(history, truth + 10, season=7, floor=0.0).score > 5
    assert np.isnan(residuals).sum() == 0


def test_ewma_statistic_by_hand() -> None:
    stat, seen = ewma_statistic(np.array([0.0, 0.0, 3.0]))
    sd = math.sqrt(0.2 / 1.8 * (1 - 0.8**6))
    assert (stat, seen) == (pytest.approx(0.6 / sd), 3)
    # a missing period carries the average over; a missing current period gives no score
    stat2, seen2 = ewma_statistic(np.array([0.0, np.nan, 0.0, 3.0]))
    assert (stat2, seen2) == (pytest.approx(0.6 / sd), 3)
    assert ewma_statistic(np.array([1.0, np.nan]))[0] is None


def test_cusum_statistic_by_hand() -> None:
    z = np.ones(11)  # each step adds 1 - 0.5
    stat, alarms = cusum_statistic(z, limit=5.0, direction="up")
    assert (stat, alarms) == (5.5, 1)
    stat, alarms = cusum_statistic(np.ones(10), limit=5.0, direction="up")
    assert (stat, alarms) == (5.0, 0)
    down, alarms = cusum_statistic(-np.ones(11), limit=5.0, direction="down")
    assert (down, alarms) == (-5.5, 1)
    # an upward drift is invisible to a downward chart
    assert cusum_statistic(np.ones(11), limit=5.0, direction="down") == (0.0, 0)
    # after an alarm the sum restarts
    stat, alarms = cusum_statistic(np.ones(13), limit=5.0, direction="both")
    assert (stat, alarms) == (1.0, 1)


def test_chart_scores() -> None:
    z = chart_scores(
        np.array([12.0, np.nan, 8.0]), np.array([10.0, 10.0, 10.0]), 1.0, np.array([2.0, 2.0, 0.5])
    )
    assert z[0] == 1.0
    assert math.isnan(z[1])
    assert z[2] == -2.0
