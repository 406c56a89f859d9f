"""One figure of the dashboard with its interval, the previous period and the test between them.

The tests are the library's (:mod:`manyi.insight.monitor.significance`), fed with the same
sufficient statistics the metrics return: a share's successes and trials (two-proportion z), a
mean's standard deviation recovered from its t interval (Welch), NPS promoters and detractors
(z on ``√(Var₁ + Var₀)``), and counts over equal periods (Poisson rate test).

A KPI is a plain dict (it goes into the cache and the JSON export):
``key, value, unit, n, low, high, prev, prev_n, delta, delta_low, delta_high, p_value, test,
better, drill``. ``better`` is ``up`` or ``down`` (which direction is good); ``drill`` names the
rows behind the number (see :mod:`manyi.desk.dashboards.drilldown`).
"""

from __future__ import annotations

import math
from typing import Any

from scipy import stats

from manyi.insight.monitor import significance as sig

KPI = dict[str, Any]
#: Below this p-value a change is called significant on the page (and marked ▲/▼).
ALPHA = 0.05


def number(value: Any) -> float | None:
    """A finite float, or ``None`` (pandas NA, NaN, missing)."""
    if value is None:
        return None
    try:
        out = float(value)
    except (TypeError, ValueError):
        return None
    return out if math.isfinite(out) else None


def kpi(
    key: str,
    value: Any,
    *,
    unit: str,
    n: Any = None,
    low: Any = None,
    high: Any = None,
    better: str = "up",
    drill: dict[str, Any] | None = None,
) -> KPI:
    n_value = number(n)
    return {
        "key": key,
        "value": number(value),
        "unit": unit,
        "n": int(n_value) if n_value is not None else None,
        "low": number(low),
        "high": number(high),
        "prev": None,
        "prev_n": None,
        "delta": None,
        "delta_low": None,
        "delta_high": None,
        "p_value": None,
        "test": None,
        "better": better,
        "drill": drill,
    }


def _apply(current: KPI, previous: KPI, result: sig.Comparison | None) -> KPI:
    current["prev"] = previous["value"]
    current["prev_n"] = previous["n"]
    if current["value"] is not None and previous["value"] is not None:
        current["delta"] = current["value"] - previous["value"]
    if result is not None and result.effect is not None:
        current["delta"] = number(result.effect)
        current["delta_low"] = number(result.low)
        current["delta_high"] = number(result.high)
        current["p_value"] = number(result.p_value)
        current["test"] = result.test
    return current


def compare_shares(current: KPI, previous: KPI, k1: Any, n1: Any, k0: Any, n0: Any) -> KPI:
    """Two-proportion z of ``k1/n1`` against ``k0/n0``."""
    values = [number(v) for v in (k1, n1, k0, n0)]
    if any(v is None for v in values) or not values[1] or not values[3]:
        return _apply(current, previous, None)
    a, b, c, d = (float(v) for v in values)  # type: ignore[arg-type]
    return _apply(current, previous, sig.two_proportions(a, b, c, d))


def sd_from_interval(mean: Any, high: Any, n: Any) -> float | None:
    """The sample SD behind a Student-t 95 % interval ``mean ± t·sd/√n``."""
    m, h, count = number(mean), number(high), number(n)
    if m is None or h is None or count is None or count < 2:
        return None
    t = float(stats.t.ppf(0.975, count - 1))
    return (h - m) / t * math.sqrt(count)


def compare_means(current: KPI, previous: KPI, sd1: float | None, sd0: float | None) -> KPI:
    """Welch's t of the two means (SDs given, or recovered with :func:`sd_from_interval`)."""
    m1, m0 = current["value"], previous["value"]
    n1, n0 = current["n"], previous["n"]
    if None in (m1, m0, sd1, sd0, n1, n0):
        return _apply(current, previous, None)
    return _apply(current, previous, sig.welch(m1, sd1, n1, m0, sd0, n0))  # type: ignore[arg-type]


def compare_nps(
    current: KPI, previous: KPI, p1: Any, d1: Any, n1: Any, p0: Any, d0: Any, n0: Any
) -> KPI:
    values = [number(v) for v in (p1, d1, n1, p0, d0, n0)]
    if any(v is None for v in values):
        return _apply(current, previous, None)
    a, b, c, d, e, f = (float(v) for v in values)  # type: ignore[arg-type]
    return _apply(current, previous, sig.nps_difference(a, b, c, d, e, f))


def compare_counts(current: KPI, previous: KPI) -> KPI:
    """Poisson rate test of two counts over periods of equal length."""
    k1, k0 = current["value"], previous["value"]
    if k1 is None or k0 is None:
        return _apply(current, previous, None)
    return _apply(current, previous, sig.poisson_rates(k1, 1.0, k0, 1.0))


def no_test(current: KPI, previous: KPI) -> KPI:
    """Only the difference (figures without a test, e.g. a pooled DSR)."""
    return _apply(current, previous, None)


def significant(item: KPI) -> bool:
    p = item.get("p_value")
    return p is not None and p < ALPHA


def verdict(item: KPI) -> str:
    """``better``, ``worse`` (a significant change either way) or ``same``."""
    if not significant(item) or not item.get("delta"):
        return "same"
    up = item["delta"] > 0
    return "better" if up == (item.get("better") == "up") else "worse"
