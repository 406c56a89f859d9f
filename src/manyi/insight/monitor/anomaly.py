"""Is the latest period unusual for its own series? Four methods, NumPy only.

All four compare the current value with an *expected* value and divide by a *scale*:

``seasonal_mad``
    expected = median of the history at the same position in the season (the same weekday for
    daily series, the same hour for hourly ones); scale = 1.4826 × the median absolute
    deviation of the history from those medians (a robust standard deviation: one bad day in
    the history does not blind the rule, as it would a mean and standard deviation).
``stl``
    an STL-like decomposition of the history (Cleveland et al. 1990, simplified): a centred
    moving-median trend, seasonal medians of the detrended values, then three robustness passes
    with bisquare weights; expected = a robust (bisquare-weighted) line through the last two
    seasons of deseasonalised values, read one period ahead, + the season's component; scale =
    1.4826 × MAD of the residuals. Follows a level that moves during the history (a growing
    shop) better than ``seasonal_mad``.
``ewma``
    an exponentially weighted moving average (λ = 0.2) of the robust z-scores of the last
    ``run`` periods, each scored against the ``seasonal_mad`` baseline of the history *before*
    the run (phase I / phase II, as in control charts); fires when the EWMA leaves
    ``± L·√(λ/(2 − λ)·(1 − (1 − λ)^{2t}))``. Catches a small shift that lasts.
``cusum``
    the tabular CUSUM of the same z-scores with allowance k = 0.5 (tuned to a one-standard-
    deviation shift); fires when the sum passes h, then restarts from 0.

Small series get a floor under the scale: the sampling noise of the current value (√expected
for counts, √(p(1 − p)/n) for shares, s/√n for means). Without it a series that is mostly 0
(complaints of a small shop) has a MAD of 0 and every single event would be "infinitely"
unusual. A history that is exactly constant (and a current value equal to it) scores 0;
scores are capped at ±:data:`MAX_SCORE`.

Examples
--------
>>> import numpy as np
>>> from manyi.insight.monitor.anomaly import seasonal_mad
>>> history = np.array([10.0, 12, 11, 9, 10, 11, 12] * 4)
>>> r = seasonal_mad(history, 25.0, season=7, floor=1.0)
>>> r.expected, round(r.score, 1)
(10.0, 15.0)
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import pandas as pd

FloatArray = npt.NDArray[np.float64]

#: Limits by method and sensitivity: |z| for seasonal_mad/stl, L for ewma, h for cusum.
LIMITS: dict[str, dict[str, float]] = {
    "seasonal_mad": {"low": 4.5, "medium": 3.5, "high": 3.0},
    "stl": {"low": 4.5, "medium": 3.5, "high": 3.0},
    "ewma": {"low": 3.5, "medium": 3.0, "high": 2.5},
    "cusum": {"low": 6.0, "medium": 5.0, "high": 4.0},
}
EWMA_LAMBDA = 0.2
CUSUM_K = 0.5
MAD_TO_SD = 1.4826
MAX_SCORE = 1000.0


@dataclass(frozen=True)
class AnomalyScore:
    """Outcome of one method on one period.

    Attributes
    ----------
    expected
        The value the history predicts for the current period.
    scale
        The standard deviation the deviation is measured in (after the floor).
    score
        The statistic compared with the limit: z for ``seasonal_mad``/``stl``, the
        standardised EWMA, or the CUSUM sum (positive up, negative down).
    history
        History periods with a value.
    detail
        Method-specific numbers (``mad_scale``, ``floor``, ``alarms`` in the run, ...).
    """

    expected: float | None
    scale: float | None
    score: float | None
    history: int
    detail: dict[str, float] = field(default_factory=dict)


def _cap(score: float) -> float:
    if math.isnan(score):
        return 0.0
    return max(-MAX_SCORE, min(MAX_SCORE, score))


def robust_z(deviation: float, scale: float) -> float:
    """``deviation / scale`` capped at ±MAX_SCORE; 0/0 is 0 and x/0 the cap."""
    if scale > 0:
        return _cap(deviation / scale)
    return 0.0 if deviation == 0 else math.copysign(MAX_SCORE, deviation)


def _groups(length: int, season: int, offset: int = 0) -> npt.NDArray[np.int64]:
    """Season position of periods 0..length-1 relative to period ``length + offset``."""
    return (np.arange(length) - (length + offset)) % season


def seasonal_medians(history: FloatArray, season: int) -> tuple[FloatArray, float, int]:
    """Median per season position (relative to the period after the history) and robust scale.

    Returns
    -------
    (medians, scale, used)
        ``medians[g]`` for positions ``g = 0..season-1`` (position 0 is the period right after
        the history, 1 the one after that, ...; NaN where the history has no value there), the
        scale 1.4826 × MAD of the deviations from them, and the number of history values used.
    """
    h = np.asarray(history, dtype=np.float64)
    groups = _groups(len(h), season)
    valid = np.isfinite(h)
    overall = float(np.median(h[valid])) if valid.any() else math.nan
    medians = np.full(season, overall)
    for g in range(season):
        values = h[valid & (groups == g)]
        if len(values):
            medians[g] = float(np.median(values))
    deviations = h[valid] - medians[groups[valid]]
    scale = MAD_TO_SD * float(np.median(np.abs(deviations))) if len(deviations) else math.nan
    return medians, scale, int(valid.sum())


def seasonal_mad(history: FloatArray, current: float, *, season: int, floor: float) -> AnomalyScore:
    """Robust z-score of ``current`` against the same season position in ``history``."""
    medians, mad_scale, used = seasonal_medians(history, season)
    if used == 0:
        return AnomalyScore(None, None, None, 0)
    expected = float(medians[0])
    scale = max(mad_scale, floor)
    return AnomalyScore(
        expected,
        scale,
        robust_z(current - expected, scale),
        used,
        {"mad_scale": mad_scale, "floor": floor},
    )


def _bisquare(residuals: FloatArray) -> FloatArray:
    spread = 6.0 * float(np.median(np.abs(residuals[np.isfinite(residuals)])))
    if spread <= 0:
        return np.ones_like(residuals)
    u = np.clip(np.abs(residuals) / spread, 0.0, 1.0)
    weights: FloatArray = (1 - u**2) ** 2
    return np.where(np.isfinite(weights), weights, 0.0)


def stl_decompose(
    history: FloatArray, season: int, *, passes: int = 3
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Trend, seasonal component (per position, as :func:`seasonal_medians`) and residuals.

    Missing values (NaN) get no weight; the trend is a centred moving average of width
    ``season`` over the deseasonalised values with bisquare robustness weights.
    """
    h = np.asarray(history, dtype=np.float64)
    valid = np.isfinite(h)
    groups = _groups(len(h), season)
    series = pd.Series(np.where(valid, h, np.nan))
    trend = series.rolling(season, center=True, min_periods=1).median().to_numpy()
    weights = valid.astype(np.float64)

    def seasonal_from(detrended: FloatArray, w: FloatArray) -> FloatArray:
        comp = np.zeros(season)
        for g in range(season):
            mask = (groups == g) & valid & (w > 0)
            if mask.any():
                comp[g] = float(np.average(detrended[mask], weights=w[mask]))
        centred: FloatArray = comp - comp.mean()
        return centred

    # Start from medians (robust to a wild day) and weight the first pass by their residuals.
    detrended = h - trend
    component = np.zeros(season)
    for g in range(season):
        mask = (groups == g) & valid
        if mask.any():
            component[g] = float(np.median(detrended[mask]))
    component -= component.mean()
    weights = np.where(
        valid, _bisquare(np.where(valid, detrended - component[groups], np.nan)), 0.0
    )
    for _ in range(passes):
        deseason = np.where(valid, h - component[groups], 0.0)
        num = pd.Series(deseason * weights).rolling(season, center=True, min_periods=1).sum()
        den = pd.Series(weights).rolling(season, center=True, min_periods=1).sum()
        trend = (num / den.where(den > 0)).to_numpy()
        component = seasonal_from(h - trend, weights)
        residuals = np.where(valid, h - trend - component[groups], np.nan)
        weights = np.where(valid, _bisquare(residuals), 0.0)
    residuals = np.where(valid, h - trend - component[groups], np.nan)
    return trend, component, residuals


def stl_score(history: FloatArray, current: float, *, season: int, floor: float) -> AnomalyScore:
    """Score of ``current`` against an STL-like forecast from ``history``."""
    h = np.asarray(history, dtype=np.float64)
    valid = np.isfinite(h)
    used = int(valid.sum())
    if used < 2:
        return AnomalyScore(None, None, None, used)
    trend, component, residuals = stl_decompose(h, season)
    groups = _groups(len(h), season)
    deseason = h - component[groups]
    w = _bisquare(np.where(valid, residuals, np.nan)) * valid
    level, slope = _local_line(deseason, w, 2 * season)
    if level is None:
        level, slope = float(trend[-1]), 0.0
    expected = level + float(component[0])
    resid = residuals[np.isfinite(residuals)]
    mad_scale = MAD_TO_SD * float(np.median(np.abs(resid))) if len(resid) else 0.0
    scale = max(mad_scale, floor)
    detail = {
        "mad_scale": mad_scale,
        "floor": floor,
        "level": level,
        "slope": slope,
        "seasonal": float(component[0]),
    }
    return AnomalyScore(expected, scale, robust_z(current - expected, scale), used, detail)


def _local_line(values: FloatArray, weights: FloatArray, span: int) -> tuple[float | None, float]:
    """Weighted least-squares line through the last ``span`` values, read one period ahead.

    Returns ``(value at the next period, slope)``; ``None`` when fewer than 3 values have weight.
    A line (as STL's local-linear loess) follows a trend to the end of the history, where a
    mean of the last week would lag it by half a week.
    """
    x = np.arange(len(values), dtype=np.float64)[-span:]
    y, w = values[-span:], weights[-span:]
    keep = np.isfinite(y) & (w > 0)
    if keep.sum() < 3:
        return None, 0.0
    x, y, w = x[keep], y[keep], w[keep]
    xm = float(np.average(x, weights=w))
    ym = float(np.average(y, weights=w))
    sxx = float(np.sum(w * (x - xm) ** 2))
    slope = float(np.sum(w * (x - xm) * (y - ym)) / sxx) if sxx > 0 else 0.0
    return ym + slope * (len(values) - xm), slope


def chart_scores(
    run: FloatArray, expected: FloatArray, mad_scale: float, floors: FloatArray
) -> FloatArray:
    """Robust z-scores of the ``run`` periods: ``(x − expected) / max(mad_scale, floor)``.

    NaN where the run has no value (or no expected value).
    """
    scales = np.maximum(np.nan_to_num(mad_scale, nan=0.0), np.nan_to_num(floors, nan=0.0))
    return np.array(
        [
            robust_z(float(x - e), float(s)) if np.isfinite(x) and np.isfinite(e) else math.nan
            for x, e, s in zip(run, expected, scales, strict=True)
        ]
    )


def ewma_statistic(z: FloatArray, lam: float = EWMA_LAMBDA) -> tuple[float | None, int]:
    """Standardised EWMA of ``z`` at the last period (``None`` when that period has no value).

    The EWMA starts at 0 (the in-control mean); missing periods carry it over. It is divided
    by its exact standard deviation after t values, ``√(λ/(2 − λ)·(1 − (1 − λ)^{2t}))``.
    """
    level, seen = 0.0, 0
    for value in z:
        if np.isfinite(value):
            level = lam * float(value) + (1 - lam) * level
            seen += 1
    if seen == 0 or not np.isfinite(z[-1]):
        return None, seen
    sd = math.sqrt(lam / (2 - lam) * (1 - (1 - lam) ** (2 * seen)))
    return _cap(level / sd), seen


def cusum_statistic(
    z: FloatArray, limit: float, direction: str, k: float = CUSUM_K
) -> tuple[float | None, int]:
    """Tabular CUSUM of ``z``: the sum at the last period (+ up, − down) and alarms in the run.

    The sum restarts from 0 after each alarm, so a lasting shift raises an alarm again only
    after it has built up anew. ``direction`` is ``up``, ``down`` or ``both``.
    """
    high = low = 0.0
    alarms = 0
    last: float | None = None
    for value in z:
        last = None
        if not np.isfinite(value):
            continue
        high = max(0.0, high + float(value) - k)
        low = max(0.0, low - float(value) - k)
        up = high if direction in ("up", "both") else 0.0
        down = low if direction in ("down", "both") else 0.0
        last = up if up >= down else -down
        if max(up, down) > limit:
            alarms += 1
            high = low = 0.0
    return (None if last is None else _cap(last)), alarms
