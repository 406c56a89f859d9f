# ruff: noqa: N803  (T, X, R are the notation of the papers and of lifetimes)
"""Checks of a fitted purchase model against what the customers did afterwards.

Two views, as in Fader, Hardie & Lee (2005): the conditional expectation of holdout-period
transactions grouped by calibration-period frequency, and the tracking of cumulative repeat
transactions for the whole customer base, period by period.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import pandas as pd

from manyi.insight.clv.estimator import ArrayLike, FloatArray


class TransactionModel(Protocol):
    """What the checks need from a fitted BG/NBD or Pareto/NBD model."""

    def conditional_expected_purchases(
        self, t: ArrayLike, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
    ) -> FloatArray: ...

    def expected_purchases(self, t: ArrayLike) -> FloatArray: ...


class SpendModel(Protocol):
    """What the spend check needs from a fitted Gamma-Gamma model."""

    def conditional_expected_average_spend(
        self, frequency: ArrayLike, monetary_value: ArrayLike
    ) -> FloatArray: ...


@dataclass(frozen=True)
class HoldoutCheck:
    """Expected against actual holdout transactions.

    Attributes
    ----------
    by_frequency : pandas.DataFrame
        One row per calibration frequency (the last row groups ``max_frequency`` and above):
        ``frequency_cal`` (label), ``customers``, ``actual`` and ``expected`` mean holdout
        repeat transactions per customer.
    actual_total, expected_total : float
        Holdout repeat transactions of all customers.
    """

    by_frequency: pd.DataFrame
    actual_total: float
    expected_total: float

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready form."""
        return {
            "by_frequency": self.by_frequency.to_dict(orient="records"),
            "actual_total": self.actual_total,
            "expected_total": self.expected_total,
        }


def check_holdout(
    model: TransactionModel, summary: pd.DataFrame, *, max_frequency: int = 7
) -> HoldoutCheck:
    """Compare E[Y(holdout) | calibration summary] with the holdout transactions.

    Parameters
    ----------
    model : fitted BetaGeoModel or ParetoNBDModel
    summary : pandas.DataFrame
        Output of :func:`manyi.insight.clv.rfm.summarise_calibration_holdout`, executed.
    max_frequency : int
        Calibration frequencies at or above this are pooled in one row labelled ``"7+"``.

    Returns
    -------
    HoldoutCheck

    Examples
    --------
    >>> from manyi.insight.clv.bgnbd import BetaGeoModel
    >>> from manyi.insight.clv.sample_data import load_cdnow_summary
    >>> s = load_cdnow_summary()
    >>> m = BetaGeoModel().fit(s.frequency_cal, s.recency_cal, s.T_cal)
    >>> check = check_holdout(m, s)
    >>> check.actual_total, round(check.expected_total, 1)
    (1882.0, 1653.4)
    """
    expected = model.conditional_expected_purchases(
        summary["duration_holdout"].to_numpy(float),
        summary["frequency_cal"].to_numpy(float),
        summary["recency_cal"].to_numpy(float),
        summary["T_cal"].to_numpy(float),
    )
    freq = summary["frequency_cal"].to_numpy()
    bucket = np.minimum(freq, max_frequency)
    frame = pd.DataFrame(
        {
            "bucket": bucket,
            "actual": summary["frequency_holdout"].to_numpy(float),
            "expected": expected,
        }
    )
    grouped = (
        frame.groupby("bucket")
        .agg(customers=("actual", "size"), actual=("actual", "mean"), expected=("expected", "mean"))
        .reset_index()
    )
    grouped.insert(
        0,
        "frequency_cal",
        [f"{b}+" if b == max_frequency else str(b) for b in grouped.pop("bucket")],
    )
    return HoldoutCheck(
        by_frequency=grouped,
        actual_total=float(frame["actual"].sum()),
        expected_total=float(expected.sum()),
    )


def track_cumulative_transactions(
    model: TransactionModel,
    T_cal: ArrayLike,
    actual_by_period: pd.DataFrame,
    *,
    periods: int | None = None,
) -> pd.DataFrame:
    """Expected against actual cumulative repeat transactions at the end of each period.

    A customer born (first purchase) at time ``b`` contributes ``E[X(k - b)]`` at the end of
    period ``k``; ``b`` is recovered from the calibration ages as ``max(T_cal) - T_cal``, so
    period 1 starts on the day of the earliest first purchase, as in
    :func:`manyi.insight.clv.rfm.repeat_transactions_by_period`.

    Parameters
    ----------
    model : fitted BetaGeoModel or ParetoNBDModel
    T_cal : array-like
        Calibration ages of all customers.
    actual_by_period : pandas.DataFrame
        ``period`` and ``repeat_transactions`` (executed output of
        ``repeat_transactions_by_period``).
    periods : int, optional
        Number of periods to report (default: the last period with data).

    Returns
    -------
    pandas.DataFrame
        ``period``, ``actual_cumulative``, ``expected_cumulative``.

    Examples
    --------
    >>> from manyi.insight.clv.bgnbd import BetaGeoModel
    >>> from manyi.insight.clv.sample_data import load_cdnow_summary
    >>> s = load_cdnow_summary()
    >>> m = BetaGeoModel().fit(s.frequency_cal, s.recency_cal, s.T_cal)
    >>> actual = pd.DataFrame({"period": [10, 60], "repeat_transactions": [100, 50]})
    >>> track = track_cumulative_transactions(m, s.T_cal, actual, periods=78)
    >>> track.iloc[-1].round(0).tolist()
    [78.0, 150.0, 4166.0]
    """
    ages = np.asarray(T_cal, dtype=np.float64)
    birth = ages.max() - ages
    last = int(actual_by_period["period"].max()) if periods is None else periods
    grid = np.arange(1, last + 1, dtype=np.float64)
    # Customers share few distinct birth times (purchase days): evaluate each once.
    births, counts = np.unique(birth, return_counts=True)
    age = np.clip(grid[:, None] - births[None, :], 0.0, None)
    expected = np.where(age > 0, model.expected_purchases(age), 0.0) @ counts
    per_period = np.zeros(last)
    for period, n in zip(
        actual_by_period["period"], actual_by_period["repeat_transactions"], strict=True
    ):
        if 1 <= int(period) <= last:
            per_period[int(period) - 1] += float(n)
    return pd.DataFrame(
        {
            "period": grid.astype(int),
            "actual_cumulative": per_period.cumsum(),
            "expected_cumulative": expected,
        }
    )


def check_spend_holdout(
    model: SpendModel, summary: pd.DataFrame, *, max_frequency: int = 7
) -> pd.DataFrame:
    """Expected against actual mean spend per holdout transaction, by calibration frequency.

    Only customers who bought in the holdout period count (they have a spend to compare).

    Parameters
    ----------
    model : fitted GammaGammaModel
    summary : pandas.DataFrame
        Executed output of :func:`manyi.insight.clv.rfm.summarise_calibration_holdout`.
    max_frequency : int
        Calibration frequencies at or above this are pooled.

    Returns
    -------
    pandas.DataFrame
        ``frequency_cal``, ``customers``, ``actual`` and ``expected`` mean spend.

    Examples
    --------
    >>> from manyi.insight.clv.gamma_gamma import GammaGammaModel
    >>> from manyi.insight.clv.sample_data import load_cdnow_summary
    >>> s = load_cdnow_summary()
    >>> gg = GammaGammaModel().fit(s.frequency_cal, s.monetary_value_cal)
    >>> int(check_spend_holdout(gg, s).customers.sum())
    684
    """
    buyers = summary[summary["frequency_holdout"] > 0]
    expected = model.conditional_expected_average_spend(
        buyers["frequency_cal"].to_numpy(float), buyers["monetary_value_cal"].to_numpy(float)
    )
    frame = pd.DataFrame(
        {
            "bucket": np.minimum(buyers["frequency_cal"].to_numpy(), max_frequency),
            "actual": buyers["monetary_value_holdout"].to_numpy(float),
            "expected": expected,
        }
    )
    grouped = (
        frame.groupby("bucket")
        .agg(customers=("actual", "size"), actual=("actual", "mean"), expected=("expected", "mean"))
        .reset_index()
    )
    grouped.insert(
        0,
        "frequency_cal",
        [f"{b}+" if b == max_frequency else str(b) for b in grouped.pop("bucket")],
    )
    return grouped
