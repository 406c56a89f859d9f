"""Confidence intervals for rates and means, computed from counts and sums.

The engines return counts, sums and sums of squares; the intervals are computed here so that
every engine gives the same interval from the same aggregates.

Examples
--------
>>> from manyi.insight.intervals import wilson_interval
>>> low, high = wilson_interval(81, 100)
>>> round(low, 4), round(high, 4)
(0.7222, 0.8749)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from scipy.special import stdtrit

Z95 = 1.959963984540054  # the 97.5 % standard-normal quantile


@dataclass(frozen=True)
class Estimate:
    """A point estimate with its sample size and 95 % interval (``None`` when undefined)."""

    value: float | None
    n: int
    low: float | None = None
    high: float | None = None

    def as_dict(self) -> dict[str, float | int | None]:
        """Plain dict for the report's JSON."""
        return {"value": self.value, "n": self.n, "low": self.low, "high": self.high}


def wilson_interval(successes: float, n: float, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval of a proportion ``successes / n``.

    Parameters
    ----------
    successes, n
        Count of successes and of trials; ``0 <= successes <= n`` and ``n > 0``.
    z
        Normal quantile (1.96 for 95 %).

    Returns
    -------
    (low, high)

    Examples
    --------
    >>> from manyi.insight.intervals import wilson_interval
    >>> tuple(round(x, 4) for x in wilson_interval(0, 10))
    (0.0, 0.2775)
    """
    if n <= 0:
        raise ValueError("the Wilson interval needs n > 0")
    if not 0 <= successes <= n:
        raise ValueError(f"successes must lie in [0, n]; got {successes} of {n}")
    p = successes / n
    z2 = z * z
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    # At p = 0 or 1 the bound is exactly 0 or 1; rounding would leave 1e-17 off.
    low = 0.0 if successes == 0 else max(0.0, centre - half)
    high = 1.0 if successes == n else min(1.0, centre + half)
    return low, high


def proportion(successes: float, n: float) -> Estimate:
    """Share ``successes / n`` with its Wilson 95 % interval (value ``None`` when ``n == 0``).

    Examples
    --------
    >>> from manyi.insight.intervals import proportion
    >>> proportion(0, 0)
    Estimate(value=None, n=0, low=None, high=None)
    """
    if n <= 0:
        return Estimate(None, 0)
    low, high = wilson_interval(successes, n)
    return Estimate(successes / n, int(n), low, high)


def mean_estimate(total: float, total_sq: float, n: float) -> Estimate:
    """Mean with a Student-t 95 % interval from the sum and the sum of squares.

    One observation gives the mean without an interval; ``n == 0`` gives no mean.

    Examples
    --------
    >>> from manyi.insight.intervals import mean_estimate
    >>> e = mean_estimate(total=12.0, total_sq=56.0, n=3)   # values 2, 4, 6
    >>> e.value, round(e.low, 3), round(e.high, 3)
    (4.0, -0.968, 8.968)
    """
    if n <= 0:
        return Estimate(None, 0)
    mean = total / n
    if n == 1:
        return Estimate(mean, 1)
    var = max(0.0, (total_sq - n * mean * mean) / (n - 1))
    # stdtrit is what scipy.stats.t.ppf computes (the same bits); scipy.stats itself takes
    # ~0.3-1 s to import, a tenth of the whole report at 1M orders.
    half = float(stdtrit(n - 1, 0.975)) * math.sqrt(var / n)
    return Estimate(mean, int(n), mean - half, mean + half)


def mean_difference(a: Estimate, a_sd: float, b: Estimate, b_sd: float) -> Estimate:
    """Difference ``a - b`` of two independent means with a Welch-normal 95 % interval."""
    if a.value is None or b.value is None or a.n < 2 or b.n < 2:
        return Estimate(None, a.n + b.n)
    diff = a.value - b.value
    half = Z95 * math.sqrt(a_sd**2 / a.n + b_sd**2 / b.n)
    return Estimate(diff, a.n + b.n, diff - half, diff + half)


def sample_sd(total: float, total_sq: float, n: float) -> float:
    """Sample standard deviation from the sum and the sum of squares (0 when ``n < 2``)."""
    if n < 2:
        return 0.0
    mean = total / n
    return math.sqrt(max(0.0, (total_sq - n * mean * mean) / (n - 1)))
