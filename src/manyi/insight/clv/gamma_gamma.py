"""The Gamma-Gamma model of spend per transaction (Fader, Hardie & Lee 2005, note 025).

A customer's transaction values are Gamma(p, ν) around her mean p/ν, and ν ~ Gamma(q, γ)
across customers.  Fitted on repeat buyers only (``x > 0``), from the number of repeat
transactions ``x`` and their mean value ``m_x``; it assumes spend is independent of the
purchase process (check ``corr(frequency, monetary_value)`` is small before relying on it).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

import numpy as np
from scipy.special import digamma, gammaln

from manyi.insight.clv.estimator import (
    ArrayLike,
    FloatArray,
    MaximumLikelihoodModel,
    as_float_array,
    compress_rows,
)


def gamma_gamma_loglik(params: FloatArray, x: FloatArray, m: FloatArray) -> FloatArray:
    """Log-density of the mean spend ``m`` over ``x`` transactions, per customer.

    Examples
    --------
    >>> float(gamma_gamma_loglik(np.array([6.25, 3.74, 15.44]), np.array([2.0]),
    ...                          np.array([22.35]))[0].round(3))
    -3.551
    """
    p, q, gamma = params
    px = p * x
    out: FloatArray = (
        gammaln(px + q)
        - gammaln(px)
        - gammaln(q)
        + q * np.log(gamma)
        + (px - 1) * np.log(m)
        + px * np.log(x)
        - (px + q) * np.log(gamma + m * x)
    )
    return out


class GammaGammaModel(MaximumLikelihoodModel):
    """Gamma-Gamma spend model fitted by maximum likelihood.

    Parameters
    ----------
    penalizer, initial_params, tol, max_iter
        As for :class:`manyi.insight.clv.bgnbd.BetaGeoModel`; names ``p, q, gamma``.

    Attributes
    ----------
    params_, standard_errors_, covariance_, loglik_
        As for :class:`manyi.insight.clv.bgnbd.BetaGeoModel`.
    n_customers_ : float
        Number of repeat buyers the model was fitted on.

    Examples
    --------
    >>> from manyi.insight.clv.sample_data import load_cdnow_summary
    >>> s = load_cdnow_summary()
    >>> model = GammaGammaModel().fit(s.frequency_cal, s.monetary_value_cal)
    >>> {k: round(v, 2) for k, v in model.params_.items()}, model.n_customers_
    ({'p': 6.25, 'q': 3.74, 'gamma': 15.44}, 946.0)
    """

    param_names: ClassVar[tuple[str, ...]] = ("p", "q", "gamma")

    def fit(
        self, frequency: ArrayLike, monetary_value: ArrayLike, *, weights: ArrayLike | None = None
    ) -> GammaGammaModel:
        """Fit on the repeat buyers; rows with ``frequency == 0`` are left out.

        Parameters
        ----------
        frequency : array-like
            Number of repeat transactions ``x``.
        monetary_value : array-like
            Mean value of those repeat transactions ``m_x`` (> 0 when ``x > 0``).
        weights : array-like, optional
            Number of customers each row stands for.

        Returns
        -------
        self
        """
        x = as_float_array(frequency, "frequency")
        m = as_float_array(monetary_value, "monetary_value")
        if len(x) != len(m):
            raise ValueError(f"frequency has {len(x)} rows, monetary_value has {len(m)}")
        w = np.ones(len(x)) if weights is None else as_float_array(weights, "weights")
        keep = x > 0
        bad = keep & (m <= 0)
        if np.any(bad):
            row = int(np.flatnonzero(bad)[0])
            raise ValueError(
                f"monetary_value must be > 0 for repeat buyers; row {row} has "
                f"frequency={x[row]:g}, monetary_value={m[row]:g}"
            )
        if np.any(x < 0):
            raise ValueError("frequency must be >= 0")
        if not np.any(keep):
            raise ValueError("Gamma-Gamma needs repeat buyers (frequency > 0); there are none")
        (x, m), w = compress_rows(x[keep], m[keep], weights=w[keep])
        self._fit_arrays((x, m), w)
        return self

    def _default_start(self, data: Sequence[FloatArray], weights: FloatArray) -> FloatArray:
        _, m = data
        mean_m = float(weights @ m / weights.sum())
        # Population mean spend is p·γ/(q-1): start with p = 1, q = 2, γ = mean.
        return np.array([1.0, 2.0, mean_m])

    def _loglik_and_grad(
        self, params: FloatArray, data: Sequence[FloatArray], weights: FloatArray
    ) -> tuple[float, FloatArray]:
        p, q, gamma = params
        x, m = data
        px = p * x
        ll = gamma_gamma_loglik(params, x, m)
        psi_all = digamma(px + q)
        log_gm = np.log(gamma + m * x)
        g_p = x * (psi_all - digamma(px) + np.log(m) + np.log(x) - log_gm)
        g_q = psi_all - digamma(q) + np.log(gamma) - log_gm
        g_gamma = q / gamma - (px + q) / (gamma + m * x)
        grad = np.array([weights @ g_p, weights @ g_q, weights @ g_gamma])
        return float(weights @ ll), grad

    # -- predictions ---------------------------------------------------------------------
    def expected_average_spend(self) -> float:
        """Mean spend per transaction of a customer about whom nothing is known, pγ/(q-1).

        Examples
        --------
        >>> from manyi.insight.clv.sample_data import load_cdnow_summary
        >>> s = load_cdnow_summary()
        >>> m = GammaGammaModel().fit(s.frequency_cal, s.monetary_value_cal)
        >>> round(m.expected_average_spend(), 2)
        35.17
        """
        p, q, gamma = self._check_fitted()
        if q <= 1:
            return float("inf")
        return float(p * gamma / (q - 1))

    def conditional_expected_average_spend(
        self, frequency: ArrayLike, monetary_value: ArrayLike
    ) -> FloatArray:
        """E[M | x, m_x]: a weighted mean of the population mean and the customer's own mean.

        ``(q-1)/(px+q-1) · pγ/(q-1) + px/(px+q-1) · m_x``; customers with ``x = 0`` get the
        population mean.

        Examples
        --------
        >>> from manyi.insight.clv.sample_data import load_cdnow_summary
        >>> s = load_cdnow_summary()
        >>> m = GammaGammaModel().fit(s.frequency_cal, s.monetary_value_cal)
        >>> m.conditional_expected_average_spend([2, 0], [22.35, 0.0]).round(2)
        array([24.66, 35.17])
        """
        p, q, gamma = self._check_fitted()
        x = np.asarray(frequency, dtype=np.float64)
        m = np.asarray(monetary_value, dtype=np.float64)
        out: FloatArray = (p * gamma + p * x * m) / (p * x + q - 1)
        return out
