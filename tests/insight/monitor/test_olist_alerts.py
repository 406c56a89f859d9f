"""Alert rules on real daily series of the Olist sample (15,000 orders, 2016–2018).

* a quiet stretch raises no alarm, and over five months the share of alarm days stays small;
* with their days shuffled (no change can be real any more) the change test fires at close to
  its nominal rate thanks to the overdispersion correction, and far above it without;
* a jump injected into the real series from day D is found within a few days.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from manyi.insight.monitor.debounce import notifications
from manyi.insight.monitor.evaluate import backtest
from manyi.insight.monitor.rules import AnomalyRule, ChangeRule, Rule
from manyi.insight.monitor.series import metric_series
from manyi.insight.sources import Source

pytestmark = pytest.mark.slow

METRICS = (
    "orders",
    "late_share",
    "mean_rating",
    "bad_review_share",
    "good_review_rate",
    "complaints",
)
SATISFACTION = METRICS[1:]


@pytest.fixture(scope="module")
def daily(olist: Source) -> dict[str, pd.DataFrame]:
    return {m: metric_series(olist, m, date(2017, 1, 1), date(2018, 8, 31)) for m in METRICS}


def _fired(rule: Rule, series: pd.DataFrame, first: str, last: str) -> list[str]:
    return [r.period for r in backtest(rule, series, first, last) if r.fired]


def test_a_quiet_summer_raises_no_alarm(daily: dict[str, pd.DataFrame]) -> None:
    # 2017-06-15 – 2017-09-15: 93 days before the Black Friday run-up, no known incident.
    for metric in SATISFACTION:
        for method in ("seasonal_mad", "stl"):
            rule = AnomalyRule(metric, method=method)  # type: ignore[arg-type]
            assert _fired(rule, daily[metric], "2017-06-15", "2017-09-15") == [], (metric, method)


def test_alarm_days_stay_rare_over_five_months(daily: dict[str, pd.DataFrame]) -> None:
    # 2017-06-01 – 2017-10-31 (153 days); the shop grew from 20 to 30 orders a day meanwhile.
    first, last = "2017-06-01", "2017-10-31"
    for metric in METRICS:
        rules: list[Rule] = [
            ChangeRule(metric),
            ChangeRule(metric, window=7),
            ChangeRule(metric, baseline="same_weekday"),
            AnomalyRule(metric),
            AnomalyRule(metric, method="stl"),
            AnomalyRule(metric, method="cusum"),
        ]
        for rule in rules:
            results = backtest(rule, daily[metric], first, last)
            judged = [r for r in results if r.status in ("fired", "quiet")]
            fired = sum(r.fired for r in judged)
            assert len(judged) >= 120, rule.id
            assert fired / len(judged) <= 0.05, (rule.id, fired)
            # with the default 3-day cooldown at most one message every ~4 weeks
            assert len(notifications(rule, results)) <= 6, rule.id


def _shuffled(series: pd.DataFrame, seed: int) -> pd.DataFrame:
    order = np.random.default_rng(seed).permutation(len(series))
    out = series.drop(columns="period").iloc[order].reset_index(drop=True)
    out.insert(0, "period", series["period"].to_numpy())
    return out


def test_overdispersion_keeps_shuffled_days_near_the_nominal_rate(
    daily: dict[str, pd.DataFrame],
) -> None:
    # Shuffling the days of 2017-05 – 2017-10 leaves real day-to-day variation but no real change.
    fired = {True: 0, False: 0}
    judged = 0
    for metric in METRICS:
        series = daily[metric]
        series = series[(series.period >= "2017-05-01") & (series.period <= "2017-10-31")]
        for seed in range(3):
            days = _shuffled(series.reset_index(drop=True), seed)
            for corrected in (True, False):
                rule = ChangeRule(metric, alpha=0.01, direction="up", overdispersion=corrected)
                results = [r for r in backtest(rule, days, "2017-05-29", "2017-10-31") if r.p_value]
                fired[corrected] += sum(r.fired for r in results)
                judged += len(results) if corrected else 0
    corrected_rate, plain_rate = fired[True] / judged, fired[False] / judged
    assert judged > 2500
    assert corrected_rate <= 0.03  # 1 % nominal; measured 2.0 %
    assert plain_rate > 1.5 * corrected_rate  # measured 3.8 %


def _inject(series: pd.DataFrame, metric: str, start: str, size: float, seed: int) -> pd.DataFrame:
    """Add ``size`` (a share in points, or a relative rise of a count) from day ``start`` on."""
    rng = np.random.default_rng(seed)
    out = series.copy()
    after = out.period >= pd.Timestamp(start)
    before = (out.period < pd.Timestamp(start)) & (
        out.period >= pd.Timestamp(start) - pd.Timedelta(days=28)
    )
    if metric == "complaints":
        extra = rng.poisson(size * out.loc[before, "n"].mean(), int(after.sum()))
        out.loc[after, "n"] += extra
        out.loc[after, "value"] = out.loc[after, "n"]
        return out
    n = out.loc[after, "n"].to_numpy()
    k = out.loc[after, "k"].to_numpy()
    base = out.loc[before, "k"].sum() / out.loc[before, "n"].sum()
    extra = rng.binomial((n - k).astype(int), size / (1 - base))
    out.loc[after, "k"] = k + extra
    out.loc[after, "value"] = np.where(n > 0, (k + extra) / np.maximum(n, 1), np.nan)
    return out


STARTS = ("2017-08-01", "2017-08-15", "2017-09-01", "2017-09-15", "2017-10-01")


def _delay(rule: Rule, series: pd.DataFrame, start: str) -> int | None:
    end = pd.Timestamp(start) + pd.Timedelta(days=20)
    results = backtest(rule, series, start, end)
    return next((i for i, r in enumerate(results) if r.fired), None)


def test_ten_more_points_of_late_deliveries_are_found_within_a_week(
    daily: dict[str, pd.DataFrame],
) -> None:
    # late share was 3–6 % in these months; from day D it is 10 points higher
    rules: list[Rule] = [
        ChangeRule("late_share"),
        AnomalyRule("late_share"),
        AnomalyRule("late_share", method="stl"),
        AnomalyRule("late_share", method="cusum"),
    ]
    for start in STARTS:
        for seed in range(3):
            series = _inject(daily["late_share"], "late_share", start, 0.10, seed)
            for rule in rules:
                delay = _delay(rule, series, start)
                assert delay is not None, (rule.id, start, seed)
                assert delay <= 7, (rule.id, start, seed, delay)


def test_doubled_complaints_are_found_by_the_charts_within_ten_days(
    daily: dict[str, pd.DataFrame],
) -> None:
    # about 2.5 complaints a day (1–2★ reviews), doubled from day D: too small for one day
    # alone, clear for a chart that adds the days up
    for start in STARTS:
        for seed in range(3):
            series = _inject(daily["complaints"], "complaints", start, 1.0, seed)
            for method in ("cusum", "ewma"):
                rule = AnomalyRule("complaints", method=method)  # type: ignore[arg-type]
                delay = _delay(rule, series, start)
                assert delay is not None, (method, start, seed)
                assert delay <= 10, (method, start, seed, delay)
            weekly = _delay(ChangeRule("complaints", window=7), series, start)
            assert weekly is None or weekly <= 10
