# ruff: noqa: N803  (T, X, R are the notation of the papers and of lifetimes)
"""Customer lifetime value: discounted expected transactions times expected spend.

Discrete-period discounted cash flow as in Fader, Hardie & Lee (2005), "RFM and CLV": the
expected transactions in period ``k`` are ``E[Y(k·Δ)] - E[Y((k-1)·Δ)]`` given the customer's
history, valued at the Gamma-Gamma expected spend and discounted by ``(1 + d)^k``.
"""

from __future__ import annotations

import numpy as np

from manyi.insight.clv.estimator import ArrayLike, FloatArray
from manyi.insight.clv.gamma_gamma import GammaGammaModel
from manyi.insight.clv.holdout import TransactionModel


def discounted_expected_transactions(
    model: TransactionModel,
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,
    *,
    periods: int,
    period_length: float,
    discount_rate: float,
) -> FloatArray:
    """Σ_k (E[Y(kΔ)] - E[Y((k-1)Δ)]) / (1 + d)^k for k = 1..periods, per customer.

    Parameters
    ----------
    model : fitted BetaGeoModel or ParetoNBDModel
    frequency, recency, T : array-like
        The customers' summaries in the model's time unit.
    periods : int
        Number of future periods (e.g. 12 months).
    period_length : float
        Length of one period in the model's time unit (a month in weeks is 365.25/12/7).
    discount_rate : float
        Discount rate per period (0.01 per month is about 12.7 % a year).

    Returns
    -------
    ndarray

    Examples
    --------
    >>> from manyi.insight.clv.bgnbd import BetaGeoModel
    >>> from manyi.insight.clv.sample_data import load_cdnow_summary
    >>> s = load_cdnow_summary()
    >>> m = BetaGeoModel().fit(s.frequency_cal, s.recency_cal, s.T_cal)
    >>> month = 365.25 / 12 / 7  # in weeks
    >>> discounted_expected_transactions(m, [2], [30.43], [38.86], periods=12,
    ...                                  period_length=month, discount_rate=0.01).round(3)
    array([1.472])
    """
    if periods < 1 or period_length <= 0 or discount_rate <= -1:
        raise ValueError("periods must be >= 1, period_length > 0 and discount_rate > -1")
    x, t_x, age = (np.asarray(v, dtype=np.float64).reshape(-1) for v in (frequency, recency, T))
    grid = (np.arange(periods + 1, dtype=np.float64) * period_length)[:, None]
    cumulative = model.conditional_expected_purchases(grid, x, t_x, age)
    per_period = np.diff(cumulative, axis=0)
    discount = (1.0 + discount_rate) ** -np.arange(1, periods + 1, dtype=np.float64)
    out: FloatArray = discount @ per_period
    return out


def customer_lifetime_value(
    transaction_model: TransactionModel,
    spend_model: GammaGammaModel,
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,
    monetary_value: ArrayLike,
    *,
    periods: int = 12,
    period_length: float,
    discount_rate: float = 0.01,
    margin: float = 1.0,
) -> FloatArray:
    """Expected discounted value of each customer over the next ``periods`` periods.

    ``margin · E[M | x, m_x] · DET`` where DET comes from
    :func:`discounted_expected_transactions`; with ``margin=1`` it is revenue, not profit.

    Examples
    --------
    >>> from manyi.insight.clv.bgnbd import BetaGeoModel
    >>> from manyi.insight.clv.sample_data import load_cdnow_summary
    >>> s = load_cdnow_summary()
    >>> x, t_x, T, m = s.frequency_cal, s.recency_cal, s.T_cal, s.monetary_value_cal
    >>> bg, gg = BetaGeoModel().fit(x, t_x, T), GammaGammaModel().fit(x, m)
    >>> clv = customer_lifetime_value(bg, gg, x, t_x, T, m, period_length=365.25 / 12 / 7)
    >>> clv[:3].round(2)
    array([36.3 ,  4.64,  8.35])
    """
    det = discounted_expected_transactions(
        transaction_model,
        frequency,
        recency,
        T,
        periods=periods,
        period_length=period_length,
        discount_rate=discount_rate,
    )
    spend = spend_model.conditional_expected_average_spend(
        np.asarray(frequency, dtype=np.float64).reshape(-1),
        np.asarray(monetary_value, dtype=np.float64).reshape(-1),
    )
    out: FloatArray = margin * spend * det
    return out
