"""Evaluating rules on hand-made series: each verdict checked against the test it should run."""

from __future__ import annotations

import dataclasses
import json
from datetime import date

import numpy as np
import pandas as pd
import pytest

from manyi.insight.errors import InsightError
from manyi.insight.monitor import significance as sig
from manyi.insight.monitor.evaluate import (
    AlertResult,
    apply_fdr,
    backtest,
    baseline_periods,
    evaluate,
    evaluate_all,
)
from manyi.insight.monitor.rules import AnomalyRule, ChangeRule, ThresholdRule

DAYS = pd.date_range("2018-02-01", periods=29, freq="D")  # 28 baseline days + 2018-03-01


def counts(values: list[float], start: str = "2018-02-01") -> pd.DataFrame:
    periods = pd.date_range(start, periods=len(values), freq="D")
    return pd.DataFrame({"period": periods, "value": values, "n": values})


def shares(k: list[int], n: list[int], start: str = "2018-02-01") -> pd.DataFrame:
    periods = pd.date_range(start, periods=len(k), freq="D")
    value = [a / b if b else np.nan for a, b in zip(k, n, strict=True)]
    return pd.DataFrame({"period": periods, "value": value, "n": n, "k": k})


# --- threshold -------------------------------------------------------------------------------


def test_threshold_pools_the_window_and_respects_min_n() -> None:
    series = shares([5, 6, 30], [100, 100, 100], start="2018-03-01")
    rule = ThresholdRule("late_share", ">", 0.1, window=3)
    r = evaluate(rule, series, date(2018, 3, 3))
    assert (r.fired, r.value, r.expected) == (True, pytest.approx(41 / 300), 0.1)
    assert r.message_en == (
        "Late deliveries over the 3 days to 2018-03-03: 13.7 % (n = 300), "
        "above the limit of 10.0 %."
    )
    assert (
        r.message_zh == "截至 2018-03-03 的 3 天 延迟送达占比：13.7%（n = 300），高于阈值 10.0%。"
    )
    quiet = evaluate(ThresholdRule("late_share", ">", 0.1), series, date(2018, 3, 2))
    assert (quiet.fired, quiet.status) == (False, "quiet")
    thin = evaluate(
        ThresholdRule("late_share", ">", 0.1, min_n=500, window=3), series, "2018-03-03"
    )
    assert (thin.status, thin.fired) == ("insufficient_data", False)
    assert "fewer than min_n = 500" in thin.message_en


def test_threshold_on_counts_is_per_period() -> None:
    series = counts([4, 6, 20], start="2018-03-01")
    r = evaluate(ThresholdRule("complaints", ">=", 10, window=3), series, "2018-03-03")
    assert (r.fired, r.value) == (True, 10.0)
    assert "10 a day" in r.message_en
    assert "10/天" in r.message_zh
    low = evaluate(ThresholdRule("orders", "<", 5), series, "2018-03-01")
    assert low.fired


def test_no_value_for_the_period() -> None:
    series = shares([5, 0], [100, 0], start="2018-03-01")
    r = evaluate(ThresholdRule("late_share", ">", 0.1), series, "2018-03-02")
    assert (r.status, r.value) == ("insufficient_data", None)
    outside = evaluate(ThresholdRule("late_share", ">", 0.1), series, "2018-04-01")
    assert outside.status == "insufficient_data"


# --- change ----------------------------------------------------------------------------------


def test_change_on_counts_runs_the_quasi_poisson_test() -> None:
    baseline = [3, 5] * 14  # mean 4, less spread than Poisson: φ = 1
    r = evaluate(ChangeRule("complaints"), counts([*baseline, 12]), "2018-03-01")
    ref = sig.poisson_rates(12, 1, 112, 28, alternative="greater", dispersion_df=27)
    assert r.p_value == pytest.approx(ref.p_value)
    assert (r.fired, r.value, r.expected) == (True, 12.0, 4.0)
    assert r.evidence["ratio"] == pytest.approx(3.0)
    assert r.evidence["baseline_start"] == "2018-02-01"
    assert r.evidence["baseline_end"] == "2018-02-28"
    assert r.message_en.startswith(
        "Complaints on 2018-03-01: 12 a day against 4 a day over the 28 days before, "
        "a significant rise (×3.0; p = "
    )
    assert "显著上升" in r.message_zh
    # a drop is good news for complaints: a one-sided test stays quiet
    drop = evaluate(ChangeRule("complaints"), counts([*baseline, 0]), "2018-03-01")
    assert not drop.fired
    assert drop.p_value > 0.9


def test_change_widens_for_an_overdispersed_baseline() -> None:
    baseline = [0, 8] * 14  # mean 4, variance 16.6: φ ≈ 4.1
    series = counts([*baseline, 12])
    wide = evaluate(ChangeRule("complaints"), series, "2018-03-01")
    narrow = evaluate(ChangeRule("complaints", overdispersion=False), series, "2018-03-01")
    phi = sig.count_dispersion(baseline)
    assert wide.evidence["dispersion"] == pytest.approx(phi)
    assert wide.evidence["statistic"] == pytest.approx(narrow.evidence["statistic"] / phi**0.5)
    assert narrow.fired
    assert not wide.fired


def test_change_on_shares_and_minimum_effects() -> None:
    k = [5] * 28 + [12]
    n = [100] * 29
    series = shares(k, n)
    r = evaluate(ChangeRule("late_share"), series, "2018-03-01")
    ref = sig.two_proportions(12, 100, 140, 2800, alternative="greater", dispersion_df=27)
    assert r.p_value == pytest.approx(ref.p_value)
    assert r.fired
    assert "+7.0 points" in r.message_en
    assert "+7.0 个百分点" in r.message_zh
    too_small = evaluate(ChangeRule("late_share", min_change=0.10), series, "2018-03-01")
    assert (too_small.fired, too_small.eligible) == (False, False)
    relative = evaluate(ChangeRule("late_share", min_relative_change=2.0), series, "2018-03-01")
    assert not relative.fired  # +140 %, less than +200 %


def test_change_on_ratings_with_welch_and_mann_whitney() -> None:
    rows = []
    for day in DAYS:
        stars = [30, 5, 10, 25, 130] if day < DAYS[-1] else [20, 2, 2, 4, 12]
        n = sum(stars)
        total = sum(s * c for s, c in zip(range(1, 6), stars, strict=True))
        sq = sum(s * s * c for s, c in zip(range(1, 6), stars, strict=True))
        rows.append(
            {"period": day, "value": total / n, "n": n, "total": total, "total_sq": sq}
            | {f"at_{s}": c for s, c in zip(range(1, 6), stars, strict=True)}
        )
    series = pd.DataFrame(rows)
    welch = evaluate(ChangeRule("mean_rating", overdispersion=False), series, "2018-03-01")
    mw = evaluate(ChangeRule("mean_rating", test="mann_whitney"), series, "2018-03-01")
    ref = sig.mann_whitney_counts(
        [1, 2, 3, 4, 5], [20, 2, 2, 4, 12], [30 * 28, 5 * 28, 10 * 28, 25 * 28, 130 * 28],
        alternative="less",
    )  # fmt: skip
    assert mw.p_value == pytest.approx(ref.p_value)
    assert welch.fired
    assert mw.fired
    assert welch.value == pytest.approx(2.65)
    assert welch.evidence["effect"] == pytest.approx(2.65 - 4.1)


def test_same_weekday_baseline() -> None:
    rule = ChangeRule("orders", baseline="same_weekday")
    periods = baseline_periods(rule, pd.Timestamp("2018-03-01"))  # a Thursday
    assert [p.date().isoformat() for p in periods] == [
        "2018-02-01", "2018-02-08", "2018-02-15", "2018-02-22"
    ]  # fmt: skip
    assert all(p.day_name() == "Thursday" for p in periods)
    week = baseline_periods(ChangeRule("orders", window=2, gap=1), pd.Timestamp("2018-03-01"))
    assert (week[0].date(), week[-1].date(), len(week)) == (
        date(2018, 1, 30),
        date(2018, 2, 26),
        28,
    )


def test_change_needs_half_of_its_baseline() -> None:
    series = counts([4, 5, 12], start="2018-02-27")
    r = evaluate(ChangeRule("orders"), series, "2018-03-01")
    assert r.status == "insufficient_data"
    assert "baseline has data for 2 of 28 periods" in r.message_en


# --- anomaly ---------------------------------------------------------------------------------


def test_anomaly_warms_up_then_fires() -> None:
    quiet = [10.0, 12, 11, 9, 10, 11, 12] * 8
    short = counts([*quiet[:20], 40], start="2018-01-01")
    r = evaluate(AnomalyRule("complaints"), short, "2018-01-21")
    assert r.status == "warming_up"
    assert "warming up (20 of 28" in r.message_en
    series = counts([*quiet, 40])
    at = series["period"].iloc[-1]
    for method in ("seasonal_mad", "stl"):
        fired = evaluate(AnomalyRule("complaints", method=method), series, at)  # type: ignore[arg-type]
        assert fired.fired, method
        assert fired.score > 3.5
        assert fired.expected == pytest.approx(10.0, abs=1.5)
        assert "unusually high" in fired.message_en
        assert "异常偏高" in fired.message_zh
    calm = evaluate(AnomalyRule("complaints"), counts([*quiet, 11]), at)
    assert (calm.fired, calm.status) == (False, "quiet")


def test_charts_catch_a_lasting_small_shift() -> None:
    rng = np.random.default_rng(11)
    before = rng.poisson(10, 56).astype(float)
    after = rng.poisson(14, 14).astype(float)  # +40 %: small for one day, clear over days
    series = counts([*before, *after], start="2018-01-01")
    at = series["period"].iloc[-1]
    assert (
        evaluate(AnomalyRule("complaints", method="cusum"), series, at).evidence["alarms_in_run"]
        >= 1
    )
    assert evaluate(AnomalyRule("complaints", method="ewma"), series, at).fired
    single = [evaluate(AnomalyRule("complaints"), series, p).fired for p in series.period[56:]]
    assert sum(single) <= 3  # one day at a time hardly sees it


def test_anomaly_direction() -> None:
    quiet = [100.0, 120, 110, 90, 100, 110, 120] * 8
    series = counts([*quiet, 0])
    at = series["period"].iloc[-1]
    assert not evaluate(AnomalyRule("complaints"), series, at).fired  # fewer complaints: fine
    assert evaluate(AnomalyRule("orders"), series, at).fired  # orders: both ways
    assert evaluate(AnomalyRule("complaints", direction="down"), series, at).fired


def test_anomaly_on_a_constant_series() -> None:
    flat = [0.0] * 56
    at = pd.Timestamp("2018-01-01") + pd.Timedelta(days=56)
    same = evaluate(AnomalyRule("complaints"), counts([*flat, 0], "2018-01-01"), at)
    assert (same.fired, same.score) == (False, 0.0)
    # the count floor (√max(expected, 1)) keeps 1–3 events on a silent series quiet, 4 not
    assert not evaluate(AnomalyRule("complaints"), counts([*flat, 3], "2018-01-01"), at).fired
    assert evaluate(AnomalyRule("complaints"), counts([*flat, 4], "2018-01-01"), at).fired


# --- batches ---------------------------------------------------------------------------------


def _change_result(rule_id: str, p: float) -> AlertResult:
    return AlertResult(
        rule_id, "change", "orders", "2018-03-01", "fired" if p <= 0.01 else "quiet", p <= 0.01,
        1.0, 0.5, p, None, "Orders rose.", "订单上升。", {}, eligible=True,
    )  # fmt: skip


def test_benjamini_hochberg_across_change_rules() -> None:
    results = [_change_result(f"r{i}", p) for i, p in enumerate([0.004, 0.02, 0.5])]
    threshold = dataclasses.replace(results[0], rule_id="t", rule_type="threshold", p_value=None)
    adjusted = apply_fdr([*results, threshold], 0.05)
    assert [r.q_value for r in adjusted[:3]] == [
        pytest.approx(0.012),
        pytest.approx(0.03),
        pytest.approx(0.5),
    ]
    assert [r.fired for r in adjusted] == [True, True, False, True]
    assert adjusted[1].message_en == "Orders rose (BH q = 0.03 across 3 tests)."
    assert adjusted[3] == threshold
    strict = apply_fdr(results, 0.005)
    assert [r.fired for r in strict] == [False, False, False]
    with pytest.raises(InsightError, match="fdr must lie between 0 and 1"):
        apply_fdr(results, 1.0)


def test_evaluate_all_and_backtest() -> None:
    series = counts([*([3, 5] * 14), 12])
    rules = [ChangeRule("complaints"), ThresholdRule("cases_opened", ">", 3)]
    results = evaluate_all(rules, {("complaints", "day"): series}, "2018-03-01", fdr=0.05)
    assert [r.status for r in results] == ["fired", "insufficient_data"]
    assert results[0].q_value == results[0].p_value  # a family of one
    assert "no data for this metric" in results[1].message_en
    days = backtest(ChangeRule("complaints"), series, "2018-02-13", "2018-03-01")
    assert [r.period for r in days[-2:]] == ["2018-02-28", "2018-03-01"]
    assert len(days) == 17
    # a baseline needs data on half its 28 days: from 2018-02-15 on
    assert [r.status for r in days[:3]] == ["insufficient_data", "insufficient_data", "quiet"]
    assert days[-1].status == "fired"


def test_results_are_plain_json() -> None:
    series = counts([*([3, 5] * 14), 12])
    for rule in (ChangeRule("complaints"), AnomalyRule("complaints", method="cusum")):
        payload = evaluate(rule, series, "2018-03-01").to_dict()
        json.dumps(payload, allow_nan=False)


def test_bad_inputs() -> None:
    series = counts([1, 2])
    with pytest.raises(InsightError, match="local wall time"):
        evaluate(ChangeRule("orders"), series, pd.Timestamp("2018-02-02", tz="UTC"))
    with pytest.raises(InsightError, match="lacks column\\(s\\) k"):
        evaluate(ChangeRule("late_share"), series, "2018-02-02")
    twice = pd.concat([series, series])
    with pytest.raises(InsightError, match="repeats a period"):
        evaluate(ChangeRule("orders"), twice, "2018-02-02")


def test_hourly_rules() -> None:
    hours = pd.date_range("2017-11-20", periods=24 * 5, freq="h")
    values = [5.0] * (len(hours) - 1) + [30.0]
    series = pd.DataFrame({"period": hours, "value": values, "n": values})
    at = pd.Timestamp("2017-11-24 23:40")  # the shop's wall time
    r = evaluate(
        ChangeRule("orders", freq="hour", baseline="same_weekday", baseline_periods=96), series, at
    )
    assert r.period == "2017-11-24T23:00"
    assert r.fired
    assert r.evidence["baseline_periods"] == 4  # 23:00 of the four days before
    assert "in the hour from 2017-11-24 23:00" in r.message_en
