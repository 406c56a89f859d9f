"""The tests behind the alert rules and the campaign review, against scipy and hand computations."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from manyi.insight.intervals import wilson_interval
from manyi.insight.monitor.significance import (
    benjamini_hochberg,
    count_dispersion,
    mann_whitney_counts,
    mean_dispersion,
    normal_p,
    nps_difference,
    poisson_exact,
    poisson_rates,
    proportion_dispersion,
    two_proportions,
    welch,
)
from manyi.insight.nps import nps_change, nps_from_counts


def test_two_proportions_matches_the_pooled_z_by_hand() -> None:
    # given 30/200 against 40/800
    r = two_proportions(30, 200, 40, 800, alternative="greater")
    # then z = (0.15 - 0.05) / sqrt(0.07 * 0.93 * (1/200 + 1/800))
    z = 0.1 / math.sqrt(0.07 * 0.93 * (1 / 200 + 1 / 800))
    assert r.statistic == pytest.approx(z)
    assert r.p_value == pytest.approx(stats.norm.sf(z))
    assert r.effect == pytest.approx(0.1)
    assert r.ratio == pytest.approx(3.0)


def test_two_proportions_interval_is_newcombes_hybrid_score() -> None:
    # Newcombe (1998), method 10: the Wilson limits of each proportion in quadrature.
    k1, n1, k0, n0 = 56, 70, 48, 80
    r = two_proportions(k1, n1, k0, n0)
    p1, p0 = k1 / n1, k0 / n0
    (l1, u1), (l0, u0) = wilson_interval(k1, n1), wilson_interval(k0, n0)
    assert r.low == pytest.approx(p1 - p0 - math.sqrt((p1 - l1) ** 2 + (u0 - p0) ** 2))
    assert r.high == pytest.approx(p1 - p0 + math.sqrt((u1 - p1) ** 2 + (p0 - l0) ** 2))
    # Newcombe's published limits for this example: 0.0524 to 0.3339.
    assert (round(r.low, 4), round(r.high, 4)) == (0.0524, 0.3339)


def test_two_proportions_dispersion_divides_z_and_widens_the_interval() -> None:
    plain = two_proportions(30, 200, 40, 800)
    wide = two_proportions(30, 200, 40, 800, dispersion=4.0)
    assert wide.statistic == pytest.approx(plain.statistic / 2)
    assert wide.effect - wide.low == pytest.approx(2 * (plain.effect - plain.low))
    assert wide.dispersion == 4.0
    # a dispersion below 1 never makes the test stricter
    assert two_proportions(30, 200, 40, 800, dispersion=0.5).statistic == plain.statistic


def test_two_proportions_edge_cases() -> None:
    assert two_proportions(0, 0, 3, 10).p_value is None
    same = two_proportions(0, 20, 0, 50)  # no variance at all, no difference
    assert (same.p_value, same.effect) == (1.0, 0.0)
    every = two_proportions(20, 20, 50, 50)
    assert every.p_value == 1.0


@pytest.mark.parametrize("alternative", ["two-sided", "greater", "less"])
def test_welch_agrees_with_scipy(alternative: str) -> None:
    r = welch(4.1, 1.2, 40, 4.4, 0.9, 300, alternative=alternative)  # type: ignore[arg-type]
    ref = stats.ttest_ind_from_stats(
        4.1, 1.2, 40, 4.4, 0.9, 300, equal_var=False, alternative=alternative
    )
    assert r.statistic == pytest.approx(ref.statistic)
    assert r.p_value == pytest.approx(ref.pvalue)
    assert r.effect == pytest.approx(-0.3)


def test_welch_interval_and_dispersion() -> None:
    r = welch(10.0, 2.0, 50, 9.0, 3.0, 80)
    v1, v0 = 4 / 50, 9 / 80
    df = (v1 + v0) ** 2 / (v1**2 / 49 + v0**2 / 79)
    half = stats.t.ppf(0.975, df) * math.sqrt(v1 + v0)
    assert (r.low, r.high) == (pytest.approx(1 - half), pytest.approx(1 + half))
    assert r.extra["df"] == pytest.approx(df)
    assert welch(10.0, 2.0, 50, 9.0, 3.0, 80, dispersion=9.0).statistic == pytest.approx(
        r.statistic / 3
    )


def test_welch_needs_two_values_each_and_handles_constant_samples() -> None:
    assert welch(5.0, 0.0, 1, 4.0, 1.0, 10).p_value is None
    assert welch(5.0, 0.0, 10, 5.0, 0.0, 10).p_value == 1.0
    differ = welch(5.0, 0.0, 10, 4.0, 0.0, 10, alternative="greater")
    assert (differ.p_value, differ.statistic) == (0.0, math.inf)


@pytest.mark.parametrize("alternative", ["two-sided", "greater", "less"])
def test_mann_whitney_from_counts_agrees_with_scipy(alternative: str) -> None:
    levels = [1, 2, 3, 4, 5]
    now, before = [12, 4, 6, 20, 58], [30, 12, 25, 80, 353]
    r = mann_whitney_counts(levels, now, before, alternative=alternative)  # type: ignore[arg-type]
    ref = stats.mannwhitneyu(
        np.repeat(levels, now),
        np.repeat(levels, before),
        alternative=alternative,
        method="asymptotic",
        use_continuity=False,
    )
    assert r.statistic == pytest.approx(ref.statistic)
    assert r.p_value == pytest.approx(ref.pvalue)
    assert r.extra["prob_superiority"] == pytest.approx(ref.statistic / (100 * 500))


def test_mann_whitney_edge_cases() -> None:
    assert mann_whitney_counts([1, 2], [0, 0], [3, 4]).p_value is None
    same = mann_whitney_counts([1, 2, 3], [0, 0, 5], [0, 0, 9])  # every value a 3
    assert same.p_value == 1.0
    with pytest.raises(ValueError, match="same length"):
        mann_whitney_counts([1, 2], [1], [1, 2])


def test_poisson_rates_score_statistic_by_hand() -> None:
    # 20 complaints today against 112 in the 28 days before (4 a day)
    r = poisson_rates(20, 1, 112, 28, alternative="greater")
    total, pi = 132, 1 / 29
    z = (20 - total * pi) / math.sqrt(total * pi * (1 - pi))
    assert r.statistic == pytest.approx(z)
    assert r.p_value == pytest.approx(stats.norm.sf(z))
    assert (r.effect, r.ratio) == (pytest.approx(16.0), pytest.approx(5.0))
    spread = 1.959963984540054 * math.sqrt(1 / 20 + 1 / 112)
    assert r.ratio_low == pytest.approx(5 * math.exp(-spread))
    # a quiet baseline (no event at all) still gives a test
    quiet = poisson_rates(3, 1, 0, 28, alternative="greater")
    assert quiet.p_value is not None
    assert quiet.p_value < 1e-6
    assert quiet.ratio is None
    assert poisson_rates(0, 1, 0, 28).p_value == 1.0
    assert poisson_rates(2, 0, 5, 28).p_value is None


def test_poisson_exact_is_the_conditional_binomial_test() -> None:
    r = poisson_exact(7, 1, 28, 28, alternative="greater")
    ref = stats.binomtest(7, 35, 1 / 29, alternative="greater")
    assert r.p_value == pytest.approx(ref.pvalue)
    ci = stats.binomtest(7, 35, 1 / 29).proportion_ci(0.95, method="exact")
    assert r.ratio_low == pytest.approx(ci.low / (1 - ci.low) * 28)
    assert r.ratio_high == pytest.approx(ci.high / (1 - ci.high) * 28)
    assert r.ratio == pytest.approx(7.0)


def test_nps_difference_uses_the_variance_of_nps_change() -> None:
    r = nps_difference(50, 20, 100, 40, 30, 100)
    ref = nps_change(nps_from_counts(40, 30, 30), nps_from_counts(50, 30, 20))
    assert (r.effect, r.low, r.high) == (
        pytest.approx(ref.value),
        pytest.approx(ref.low),
        pytest.approx(ref.high),
    )
    se = (ref.high - ref.value) / 1.959963984540054
    assert r.p_value == pytest.approx(normal_p(20 / se, "two-sided"))
    assert nps_difference(0, 0, 0, 1, 1, 3).p_value is None


def test_dispersions_by_hand() -> None:
    # counts 0, 10, 0, 10: mean 5, Pearson chi2 = 4 * 25 / 5 = 20 on 3 df
    assert count_dispersion([0, 10, 0, 10]) == pytest.approx(20 / 3)
    assert count_dispersion([4, 4, 4]) == 1.0  # floored: never stricter than Poisson
    assert count_dispersion([0, 0, 0]) == 1.0
    assert count_dispersion([7]) == 1.0
    # shares 10 % and 30 % of 100: pooled 20 %, chi2 = 2 * 100 / (100 * 0.16) = 12.5 on 1 df
    assert proportion_dispersion([10, 30], [100, 100]) == pytest.approx(12.5)
    assert proportion_dispersion([0, 0], [10, 10]) == 1.0
    # two periods of means 1 and 3 (values 0/2 and 2/4), within variance 2: 2*1 + 2*1 = 4 / 2
    assert mean_dispersion([2.0, 6.0], [4.0, 20.0], [2, 2]) == pytest.approx(2.0)


def test_count_dispersion_of_poisson_draws_is_about_one_and_of_a_mixture_more() -> None:
    rng = np.random.default_rng(7)
    assert count_dispersion(rng.poisson(20, 400).tolist()) < 1.3
    mixed = rng.poisson(rng.gamma(2.0, 10.0, 400))  # negative binomial: variance 20 + 200
    assert count_dispersion(mixed.tolist()) > 5


def test_benjamini_hochberg_agrees_with_scipy() -> None:
    p = [0.001, 0.2, 0.03, 0.04, 0.5, 0.012, 0.9]
    ref = stats.false_discovery_control(p, method="bh")
    assert benjamini_hochberg(p) == pytest.approx(list(ref))
    assert benjamini_hochberg([None, 0.01, None]) == [None, 0.01, None]
    assert benjamini_hochberg([]) == []


def test_normal_p_rejects_an_unknown_alternative() -> None:
    with pytest.raises(ValueError, match="alternative"):
        normal_p(1.0, "bigger")  # type: ignore[arg-type]
