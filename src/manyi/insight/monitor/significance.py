"""Tests that compare a current window with a baseline, from aggregates only.

Every test takes the sufficient statistics an engine returns (counts, sums, sums of squares,
counts per scale point), never row-level data, so the same function serves the alert rules
(one day against 28) and the campaign review (four days against four weeks).

=================  ==================================  =========================================
metric kind        test                                interval of the effect
=================  ==================================  =========================================
proportion         two-proportion z (pooled SE)        Newcombe's hybrid score (method 10)
mean               Welch t (Satterthwaite df)          Welch t
mean, discrete     Mann–Whitney U from counts per      — (the effect is P(X₁ > X₀) + ½P(=))
                   scale point (tie-corrected normal)
count (a rate)     conditional score test on           Wald on the difference; log-scale
                   k₁ | k₁ + k₀ (Poisson)              interval of the rate ratio
count, exact       conditional binomial                Clopper–Pearson mapped to the ratio
                   (Przyborowski–Wilenski)
NPS                z on the difference, variance       ``√(Var₁ + Var₀)``, as
                   ``(p + d − (p − d)²)/n``            :func:`manyi.insight.nps.nps_change`
=================  ==================================  =========================================

**Overdispersion.** Daily counts and shares of a real shop vary more from day to day than a
Poisson or binomial model says (weekday, weather, a carrier's bad week). Judging one day against
four weeks with the textbook variance would raise an alarm every few days. The ``dispersion``
φ ≥ 1 of the baseline periods (Pearson χ² / df, as the Farrington outbreak-detection algorithm
does for weekly counts) widens the variance: the statistic is divided by √φ and the interval
widened by √φ. φ is floored at 1, so it never makes a test stricter than the textbook one. As
in quasi-likelihood models, the statistic is then referred to Student's t on the baseline's
periods − 1 degrees of freedom (``dispersion_df``), since φ is itself estimated.

Examples
--------
>>> from manyi.insight.monitor.significance import two_proportions
>>> r = two_proportions(30, 200, 40, 800)        # 15 % against 5 %
>>> round(r.effect, 3), round(r.statistic, 2), r.p_value < 1e-5
(0.1, 4.96, True)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from scipy import stats

from manyi.insight.intervals import Z95, wilson_interval

Alternative = Literal["two-sided", "greater", "less"]
ALTERNATIVES = ("two-sided", "greater", "less")


@dataclass(frozen=True)
class Comparison:
    """The result of comparing a current window (1) with a baseline (0).

    Attributes
    ----------
    test
        ``two_proportion_z``, ``welch_t``, ``mann_whitney``, ``poisson_rate``,
        ``poisson_exact`` or ``nps_z``.
    statistic
        z, t or U (``None`` when the test cannot be computed: an empty window).
    p_value
        For ``alternative`` ("greater": current above baseline).
    effect, low, high
        Current minus baseline in the metric's units, with its 95 % interval.
    ratio, ratio_low, ratio_high
        Current / baseline where that reads naturally (rates and counts), else ``None``.
    dispersion
        The φ the variance was multiplied by (1 = none).
    extra
        Test-specific numbers (degrees of freedom, P(X₁ > X₀), ...).
    """

    test: str
    statistic: float | None
    p_value: float | None
    effect: float | None
    low: float | None = None
    high: float | None = None
    ratio: float | None = None
    ratio_low: float | None = None
    ratio_high: float | None = None
    dispersion: float = 1.0
    extra: dict[str, float] = field(default_factory=dict)


def _check_alternative(alternative: str) -> None:
    if alternative not in ALTERNATIVES:
        raise ValueError(f"alternative must be one of {ALTERNATIVES}, not {alternative!r}")


def normal_p(z: float, alternative: Alternative) -> float:
    """P-value of a standard-normal statistic ``z``.

    Examples
    --------
    >>> from manyi.insight.monitor.significance import normal_p
    >>> round(normal_p(1.959963984540054, "two-sided"), 6), round(normal_p(-1.0, "greater"), 4)
    (0.05, 0.8413)
    """
    _check_alternative(alternative)
    if alternative == "greater":
        return float(stats.norm.sf(z))
    if alternative == "less":
        return float(stats.norm.cdf(z))
    return float(min(1.0, 2 * stats.norm.sf(abs(z))))


def _p(z: float, alternative: Alternative, df: float | None) -> float:
    """Normal p-value, or Student-t with ``df`` when the variance rests on an estimated φ."""
    if df is None:
        return normal_p(z, alternative)
    if alternative == "greater":
        return float(stats.t.sf(z, df))
    if alternative == "less":
        return float(stats.t.cdf(z, df))
    return float(min(1.0, 2 * stats.t.sf(abs(z), df)))


def _quantile(df: float | None) -> float:
    return Z95 if df is None else float(stats.t.ppf(0.975, df))


def _check_df(df: float | None) -> float | None:
    if df is not None and df < 1:
        return None  # one baseline period: no estimate of φ, the normal reference stays
    return df


def _degenerate(test: str, effect: float | None, alternative: Alternative) -> Comparison:
    """No variance at all: equal values give p = 1, different values certainty."""
    if effect is None:
        return Comparison(test, None, None, None)
    if effect == 0:
        return Comparison(test, 0.0, 1.0, 0.0, 0.0, 0.0)
    toward = (alternative == "greater" and effect > 0) or (alternative == "less" and effect < 0)
    p = 0.0 if alternative == "two-sided" or toward else 1.0
    z = math.copysign(math.inf, effect)
    return Comparison(test, z, p, effect, effect, effect)


def two_proportions(
    k1: float,
    n1: float,
    k0: float,
    n0: float,
    *,
    alternative: Alternative = "two-sided",
    dispersion: float = 1.0,
    dispersion_df: float | None = None,
) -> Comparison:
    """Two-proportion z-test of ``k1/n1`` against ``k0/n0`` (pooled standard error).

    The interval of the difference is Newcombe's hybrid score interval (from the two Wilson
    intervals), widened by √φ when ``dispersion`` > 1. With ``dispersion_df`` (the degrees of
    freedom φ was estimated on) the statistic is referred to Student's t and the interval uses
    its quantile: an estimated φ is itself uncertain, and a normal reference would raise too
    many alarms.

    Examples
    --------
    >>> from manyi.insight.monitor.significance import two_proportions
    >>> r = two_proportions(0, 0, 5, 10)
    >>> r.p_value is None and r.effect is None
    True
    """
    _check_alternative(alternative)
    phi = max(1.0, dispersion)
    if n1 <= 0 or n0 <= 0:
        return Comparison("two_proportion_z", None, None, None, dispersion=phi)
    p1, p0 = k1 / n1, k0 / n0
    diff = p1 - p0
    pooled = (k1 + k0) / (n1 + n0)
    var = pooled * (1 - pooled) * (1 / n1 + 1 / n0)
    if var <= 0:
        out = _degenerate("two_proportion_z", diff, alternative)
        return Comparison(**{**out.__dict__, "dispersion": phi})
    df = _check_df(dispersion_df)
    z = diff / math.sqrt(var * phi)
    l1, u1 = wilson_interval(k1, n1)
    l0, u0 = wilson_interval(k0, n0)
    # Newcombe (1998), method 10: the Wilson limits of each proportion combined in quadrature.
    widen = math.sqrt(phi) * _quantile(df) / Z95
    down = math.sqrt((p1 - l1) ** 2 + (u0 - p0) ** 2) * widen
    up = math.sqrt((u1 - p1) ** 2 + (p0 - l0) ** 2) * widen
    ratio = p1 / p0 if p0 > 0 else None
    return Comparison(
        "two_proportion_z",
        z,
        _p(z, alternative, df),
        diff,
        max(-1.0, diff - down),
        min(1.0, diff + up),
        ratio=ratio,
        dispersion=phi,
    )


def welch(
    mean1: float,
    sd1: float,
    n1: float,
    mean0: float,
    sd0: float,
    n0: float,
    *,
    alternative: Alternative = "two-sided",
    dispersion: float = 1.0,
    dispersion_df: float | None = None,
) -> Comparison:
    """Welch's t-test from means, sample standard deviations and sizes.

    Agrees with ``scipy.stats.ttest_ind_from_stats(..., equal_var=False)`` when ``dispersion``
    is 1. Fewer than two values on either side give no test. With ``dispersion_df`` the degrees
    of freedom are the smaller of Satterthwaite's and those of the φ estimate.
    """
    _check_alternative(alternative)
    phi = max(1.0, dispersion)
    if n1 < 2 or n0 < 2:
        effect = mean1 - mean0 if n1 >= 1 and n0 >= 1 else None
        return Comparison("welch_t", None, None, effect, dispersion=phi)
    diff = mean1 - mean0
    v1, v0 = sd1 * sd1 / n1, sd0 * sd0 / n0
    if v1 + v0 <= 0:
        out = _degenerate("welch_t", diff, alternative)
        return Comparison(**{**out.__dict__, "dispersion": phi})
    se = math.sqrt((v1 + v0) * phi)
    df = (v1 + v0) ** 2 / (v1 * v1 / (n1 - 1) + v0 * v0 / (n0 - 1))
    phi_df = _check_df(dispersion_df)
    if phi_df is not None:
        df = min(df, phi_df)
    t = diff / se
    if alternative == "greater":
        p = float(stats.t.sf(t, df))
    elif alternative == "less":
        p = float(stats.t.cdf(t, df))
    else:
        p = float(min(1.0, 2 * stats.t.sf(abs(t), df)))
    half = float(stats.t.ppf(0.975, df)) * se
    return Comparison(
        "welch_t", t, p, diff, diff - half, diff + half, dispersion=phi, extra={"df": df}
    )


def mann_whitney_counts(
    levels: Sequence[float],
    counts1: Sequence[float],
    counts0: Sequence[float],
    *,
    alternative: Alternative = "two-sided",
) -> Comparison:
    """Mann–Whitney U of two samples on a discrete scale, given the counts at each level.

    U counts the pairs where the current value is higher, ties counting one half; the normal
    approximation uses the tie-corrected variance (as ``scipy.stats.mannwhitneyu`` with
    ``method="asymptotic"`` and ``use_continuity=False``). ``extra["prob_superiority"]`` is
    U / (n₁ n₀), the chance that a current value beats a baseline one.

    Examples
    --------
    >>> from manyi.insight.monitor.significance import mann_whitney_counts
    >>> r = mann_whitney_counts([1, 2, 3, 4, 5], [10, 5, 5, 20, 60], [5, 5, 5, 25, 60])
    >>> round(r.extra["prob_superiority"], 4), round(r.p_value, 3)
    (0.4875, 0.728)
    """
    _check_alternative(alternative)
    c1 = np.asarray(counts1, dtype=np.float64)
    c0 = np.asarray(counts0, dtype=np.float64)
    x = np.asarray(levels, dtype=np.float64)
    if not len(x) == len(c1) == len(c0):
        raise ValueError("levels and both count vectors must have the same length")
    n1, n0 = float(c1.sum()), float(c0.sum())
    if n1 == 0 or n0 == 0:
        return Comparison("mann_whitney", None, None, None)
    order = np.argsort(x)
    x, c1, c0 = x[order], c1[order], c0[order]
    below0 = np.concatenate([[0.0], np.cumsum(c0)[:-1]])
    u = float(np.sum(c1 * (below0 + 0.5 * c0)))
    effect = float((x * c1).sum() / n1 - (x * c0).sum() / n0)
    n = n1 + n0
    ties = c1 + c0
    var = n1 * n0 / 12 * ((n + 1) - float(np.sum(ties**3 - ties)) / (n * (n - 1)))
    prob = u / (n1 * n0)
    if var <= 0:
        out = _degenerate("mann_whitney", effect, alternative)
        return Comparison(**{**out.__dict__, "extra": {"prob_superiority": prob}})
    z = (u - n1 * n0 / 2) / math.sqrt(var)
    return Comparison(
        "mann_whitney",
        u,
        normal_p(z, alternative),
        effect,
        extra={"prob_superiority": prob, "z": z},
    )


def poisson_rates(
    k1: float,
    t1: float,
    k0: float,
    t0: float,
    *,
    alternative: Alternative = "two-sided",
    dispersion: float = 1.0,
    dispersion_df: float | None = None,
) -> Comparison:
    """Compare event rates ``k1/t1`` and ``k0/t0`` (``t`` = exposure: periods, orders).

    Under equal rates, ``k1`` given ``k1 + k0`` is binomial with ``π = t1/(t1 + t0)``; the
    score statistic ``(k1 − Kπ)/√(φKπ(1 − π))`` is that test's normal form, valid when the
    baseline saw no event at all. The effect is ``k1/t1 − k0/t0`` (Wald interval); the rate
    ratio's interval is ``exp(log RR ± 1.96 √(φ(1/k1 + 1/k0)))``. ``dispersion_df`` refers the
    statistic to Student's t, as for :func:`two_proportions`.

    Examples
    --------
    >>> from manyi.insight.monitor.significance import poisson_rates
    >>> r = poisson_rates(20, 1, 112, 28)          # 20 events today, 4 a day before
    >>> r.ratio, round(r.statistic, 2)
    (5.0, 7.37)
    """
    _check_alternative(alternative)
    phi = max(1.0, dispersion)
    if t1 <= 0 or t0 <= 0:
        return Comparison("poisson_rate", None, None, None, dispersion=phi)
    r1, r0 = k1 / t1, k0 / t0
    diff = r1 - r0
    total = k1 + k0
    ratio = r1 / r0 if r0 > 0 else None
    if total == 0:
        return Comparison("poisson_rate", 0.0, 1.0, 0.0, 0.0, 0.0, dispersion=phi)
    df = _check_df(dispersion_df)
    q = _quantile(df)
    pi = t1 / (t1 + t0)
    z = (k1 - total * pi) / math.sqrt(phi * total * pi * (1 - pi))
    half = q * math.sqrt(phi * (k1 / t1**2 + k0 / t0**2))
    ratio_low = ratio_high = None
    if k1 > 0 and k0 > 0 and ratio is not None:
        spread = q * math.sqrt(phi * (1 / k1 + 1 / k0))
        ratio_low, ratio_high = ratio * math.exp(-spread), ratio * math.exp(spread)
    return Comparison(
        "poisson_rate",
        z,
        _p(z, alternative, df),
        diff,
        diff - half,
        diff + half,
        ratio=ratio,
        ratio_low=ratio_low,
        ratio_high=ratio_high,
        dispersion=phi,
    )


def poisson_exact(
    k1: int,
    t1: float,
    k0: int,
    t0: float,
    *,
    alternative: Alternative = "two-sided",
) -> Comparison:
    """Exact conditional test of two Poisson rates: ``k1 ~ Binomial(k1 + k0, t1/(t1 + t0))``.

    The ratio's interval maps the Clopper–Pearson interval of that binomial proportion π to
    ``π/(1 − π) · t0/t1``. Right for small counts; ignores overdispersion.

    Examples
    --------
    >>> from manyi.insight.monitor.significance import poisson_exact
    >>> round(poisson_exact(7, 1, 28, 28, alternative="greater").p_value, 4)
    0.0002
    """
    _check_alternative(alternative)
    if t1 <= 0 or t0 <= 0:
        return Comparison("poisson_exact", None, None, None)
    k1, k0 = int(k1), int(k0)
    total = k1 + k0
    diff = k1 / t1 - k0 / t0
    ratio = (k1 / t1) / (k0 / t0) if k0 > 0 else None
    if total == 0:
        return Comparison("poisson_exact", 0.0, 1.0, 0.0, ratio=None)
    pi = t1 / (t1 + t0)
    result = stats.binomtest(k1, total, pi, alternative=alternative)
    # The interval is two-sided whatever the alternative of the test.
    ci = stats.binomtest(k1, total, pi).proportion_ci(0.95, method="exact")

    def to_ratio(p: float) -> float | None:
        return None if p >= 1 else p / (1 - p) * t0 / t1

    half = Z95 * math.sqrt(k1 / t1**2 + k0 / t0**2)
    return Comparison(
        "poisson_exact",
        float(k1),
        float(result.pvalue),
        diff,
        diff - half,
        diff + half,
        ratio=ratio,
        ratio_low=to_ratio(float(ci.low)),
        ratio_high=to_ratio(float(ci.high)),
    )


def nps_difference(
    promoters1: float,
    detractors1: float,
    n1: float,
    promoters0: float,
    detractors0: float,
    n0: float,
    *,
    alternative: Alternative = "two-sided",
    dispersion: float = 1.0,
    dispersion_df: float | None = None,
) -> Comparison:
    """NPS change (points) with a z-test on ``√(Var₁ + Var₀)``, ``Var = (p + d − (p − d)²)/n``.

    Examples
    --------
    >>> from manyi.insight.monitor.significance import nps_difference
    >>> r = nps_difference(50, 20, 100, 40, 30, 100)
    >>> round(r.effect, 1), round(r.high - r.effect, 1)
    (20.0, 22.3)
    """
    _check_alternative(alternative)
    phi = max(1.0, dispersion)
    if n1 <= 0 or n0 <= 0:
        return Comparison("nps_z", None, None, None, dispersion=phi)
    p1, d1, p0, d0 = promoters1 / n1, detractors1 / n1, promoters0 / n0, detractors0 / n0
    diff = 100 * ((p1 - d1) - (p0 - d0))
    var = (p1 + d1 - (p1 - d1) ** 2) / n1 + (p0 + d0 - (p0 - d0) ** 2) / n0
    if var <= 0:
        out = _degenerate("nps_z", diff, alternative)
        return Comparison(**{**out.__dict__, "dispersion": phi})
    df = _check_df(dispersion_df)
    se = 100 * math.sqrt(var * phi)
    z = diff / se
    q = _quantile(df)
    return Comparison(
        "nps_z", z, _p(z, alternative, df), diff, diff - q * se, diff + q * se, dispersion=phi
    )


# --- overdispersion --------------------------------------------------------------------------


def _pearson(chi2: float, periods: int) -> float:
    if periods < 2:
        return 1.0
    return max(1.0, chi2 / (periods - 1))


def count_dispersion(counts: Sequence[float]) -> float:
    """Pearson dispersion of per-period counts around their mean, floored at 1.

    Examples
    --------
    >>> from manyi.insight.monitor.significance import count_dispersion
    >>> count_dispersion([4, 4, 4, 4]), round(count_dispersion([0, 10, 0, 10]), 2)
    (1.0, 6.67)
    """
    c = np.asarray(counts, dtype=np.float64)
    c = c[np.isfinite(c)]
    if len(c) < 2 or c.mean() <= 0:
        return 1.0
    return _pearson(float(((c - c.mean()) ** 2).sum() / c.mean()), len(c))


def proportion_dispersion(successes: Sequence[float], trials: Sequence[float]) -> float:
    """Pearson dispersion of per-period proportions (extra-binomial variation), floored at 1.

    Examples
    --------
    >>> from manyi.insight.monitor.significance import proportion_dispersion
    >>> proportion_dispersion([5, 5, 5], [50, 50, 50])
    1.0
    """
    k = np.asarray(successes, dtype=np.float64)
    n = np.asarray(trials, dtype=np.float64)
    keep = n > 0
    k, n = k[keep], n[keep]
    if len(n) < 2:
        return 1.0
    p = k.sum() / n.sum()
    if p <= 0 or p >= 1:
        return 1.0
    return _pearson(float(((k - n * p) ** 2 / (n * p * (1 - p))).sum()), len(n))


def mean_dispersion(
    totals: Sequence[float], totals_sq: Sequence[float], counts: Sequence[float]
) -> float:
    """How much more per-period means vary than the spread of single values predicts.

    ``Σ nᵢ (x̄ᵢ − x̄)² / s² / (m − 1)`` with ``s²`` the pooled within-period variance; 1 when
    the periods are as alike as random samples of one population (floored at 1).
    """
    t = np.asarray(totals, dtype=np.float64)
    q = np.asarray(totals_sq, dtype=np.float64)
    n = np.asarray(counts, dtype=np.float64)
    keep = n > 0
    t, q, n = t[keep], q[keep], n[keep]
    if len(n) < 2 or n.sum() <= len(n):
        return 1.0
    means = t / n
    grand = t.sum() / n.sum()
    within = float((q - n * means**2).sum() / (n.sum() - len(n)))
    if within <= 0:
        return 1.0
    return _pearson(float((n * (means - grand) ** 2).sum() / within), len(n))


# --- multiple testing ------------------------------------------------------------------------


def benjamini_hochberg(p_values: Sequence[float | None]) -> list[float | None]:
    """Benjamini–Hochberg adjusted p-values (q-values); ``None`` entries are skipped.

    Rejecting every hypothesis with ``q ≤ α`` keeps the expected share of false alarms among
    the alarms at most α (for independent or positively dependent tests). Agrees with
    ``scipy.stats.false_discovery_control``.

    Examples
    --------
    >>> from manyi.insight.monitor.significance import benjamini_hochberg
    >>> [round(q, 3) for q in benjamini_hochberg([0.01, 0.04, 0.03, 0.2])]
    [0.04, 0.053, 0.053, 0.2]
    >>> benjamini_hochberg([None, 0.5])
    [None, 0.5]
    """
    present = [(i, float(p)) for i, p in enumerate(p_values) if p is not None]
    out: list[float | None] = [None] * len(p_values)
    if not present:
        return out
    m = len(present)
    ranked = sorted(present, key=lambda item: item[1])
    running = 1.0
    for rank in range(m, 0, -1):
        index, p = ranked[rank - 1]
        running = min(running, p * m / rank)
        out[index] = min(1.0, running)
    return out
