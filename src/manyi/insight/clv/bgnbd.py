# ruff: noqa: N803  (T, X, R are the notation of the papers and of lifetimes)
"""The BG/NBD model of repeat purchasing (Fader, Hardie & Lee 2005).

While alive, a customer buys as a Poisson process with rate λ ~ Gamma(r, α); after each
purchase she drops out with probability p ~ Beta(a, b).  The likelihood of one customer with
``x`` repeat purchases, the last at ``t_x``, observed for ``T`` since the first purchase, is

    L = B(a, b+x)/B(a, b) · Γ(r+x) α^r / (Γ(r) (α+T)^(r+x))
        + 1{x>0} · B(a+1, b+x-1)/B(a, b) · Γ(r+x) α^r / (Γ(r) (α+t_x)^(r+x)).

Both terms are formed in logs and combined with ``logaddexp``, which is the remedy of
Hardie's note 027 ("Overcoming the BG/NBD model's #NUM! error problem"): the raw
``(α+T)^(r+x)`` overflows for heavy buyers.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

import numpy as np
from scipy.special import betaln, digamma, expit, gammaln, hyp2f1

from manyi.insight.clv.estimator import (
    ArrayLike,
    FloatArray,
    MaximumLikelihoodModel,
    mean_count_and_age,
)


def _log_terms(
    params: FloatArray, x: FloatArray, t_x: FloatArray, T: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray]:
    r, alpha, a, b = params
    x1 = np.maximum(x, 1.0)  # the second term only exists for x > 0; keep betaln finite
    a1 = betaln(a, b + x) - (r + x) * np.log(alpha + T)
    a2 = np.where(x > 0, betaln(a + 1, b + x1 - 1) - (r + x) * np.log(alpha + t_x), -np.inf)
    return a1, a2, np.logaddexp(a1, a2)


def bgnbd_loglik(params: FloatArray, x: FloatArray, t_x: FloatArray, T: FloatArray) -> FloatArray:
    """Log-likelihood of each customer under BG/NBD with ``params = (r, alpha, a, b)``.

    Examples
    --------
    >>> float(bgnbd_loglik(np.array([0.24, 4.4, 0.79, 2.4]), np.array([2.0]),
    ...                    np.array([30.43]), np.array([38.86]))[0].round(3))
    -9.468
    """
    r, alpha, a, b = params
    _, _, lse = _log_terms(params, x, t_x, T)
    out: FloatArray = gammaln(r + x) - gammaln(r) + r * np.log(alpha) - betaln(a, b) + lse
    return out


def _loglik_and_grad(
    params: FloatArray, x: FloatArray, t_x: FloatArray, T: FloatArray, w: FloatArray
) -> tuple[float, FloatArray]:
    r, alpha, a, b = params
    a1, a2, lse = _log_terms(params, x, t_x, T)
    ll = gammaln(r + x) - gammaln(r) + r * np.log(alpha) - betaln(a, b) + lse
    w1 = np.exp(a1 - lse)
    w2 = np.exp(a2 - lse)
    x1 = np.maximum(x, 1.0)
    log_at, log_atx = np.log(alpha + T), np.log(alpha + t_x)
    psi_abx = digamma(a + b + x)
    g_r = digamma(r + x) - digamma(r) + np.log(alpha) - w1 * log_at - w2 * log_atx
    g_alpha = r / alpha - (r + x) * (w1 / (alpha + T) + w2 / (alpha + t_x))
    g_a = (
        -(digamma(a) - digamma(a + b))
        + w1 * (digamma(a) - psi_abx)
        + w2 * (digamma(a + 1) - psi_abx)
    )
    g_b = (
        -(digamma(b) - digamma(a + b))
        + w1 * (digamma(b + x) - psi_abx)
        + w2 * (digamma(b + x1 - 1) - psi_abx)
    )
    grad = np.array([w @ g_r, w @ g_alpha, w @ g_a, w @ g_b])
    return float(w @ ll), grad


class BetaGeoModel(MaximumLikelihoodModel):
    """BG/NBD ("beta-geometric / negative binomial") model fitted by maximum likelihood.

    Parameters
    ----------
    penalizer : float
        L2 penalty on the parameters added to the mean negative log-likelihood (as in
        lifetimes); 0 gives the plain maximum-likelihood estimate.
    initial_params : mapping, optional
        Starting values by name (``r``, ``alpha``, ``a``, ``b``).
    tol : float
        Gradient tolerance of the optimiser on the mean log-likelihood.
    max_iter : int
        Iteration limit of the optimiser.

    Attributes
    ----------
    params_ : dict
        ``r``, ``alpha``, ``a``, ``b``.
    standard_errors_ : dict
        Asymptotic standard errors from the observed information matrix.
    covariance_ : ndarray
        Inverse of the observed information matrix.
    loglik_ : float
        Log-likelihood at the estimate (sum over customers).
    n_customers_ : float
        Number of customers (sum of weights).

    Examples
    --------
    >>> from manyi.insight.clv.sample_data import load_cdnow_summary
    >>> s = load_cdnow_summary()  # CDNOW, 39 weeks of calibration
    >>> model = BetaGeoModel().fit(s.frequency_cal, s.recency_cal, s.T_cal)
    >>> {k: round(v, 4) for k, v in model.params_.items()}
    {'r': 0.2426, 'alpha': 4.4136, 'a': 0.7929, 'b': 2.4259}
    >>> round(model.loglik_, 2)
    -9582.43
    """

    param_names: ClassVar[tuple[str, ...]] = ("r", "alpha", "a", "b")

    def fit(
        self,
        frequency: ArrayLike,
        recency: ArrayLike,
        T: ArrayLike,
        *,
        weights: ArrayLike | None = None,
    ) -> BetaGeoModel:
        """Fit by maximum likelihood.

        Parameters
        ----------
        frequency, recency, T : array-like
            Repeat purchases ``x``, time of the last purchase ``t_x`` and age ``T`` (time
            since the first purchase), in one time unit (see
            :func:`manyi.insight.clv.rfm.summarise_transactions`).
        weights : array-like, optional
            Number of customers each row stands for.

        Returns
        -------
        self
        """
        self._fit_counts(frequency, recency, T, weights)
        return self

    def _default_start(self, data: Sequence[FloatArray], weights: FloatArray) -> FloatArray:
        mean_x, mean_t = mean_count_and_age(data, weights)
        # r/alpha is the purchase rate: start it at the observed rate.
        return np.array([1.0, mean_t / max(mean_x, 0.1), 1.0, 1.0])

    def _loglik_and_grad(
        self, params: FloatArray, data: Sequence[FloatArray], weights: FloatArray
    ) -> tuple[float, FloatArray]:
        x, t_x, age = data
        return _loglik_and_grad(params, x, t_x, age, weights)

    # -- predictions ---------------------------------------------------------------------
    def probability_alive(
        self, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
    ) -> FloatArray:
        """P(alive | x, t_x, T), the probability that the customer has not dropped out.

        Examples
        --------
        >>> from manyi.insight.clv.sample_data import load_cdnow_summary
        >>> s = load_cdnow_summary()
        >>> m = BetaGeoModel().fit(s.frequency_cal, s.recency_cal, s.T_cal)
        >>> m.probability_alive([0, 2], [0.0, 30.43], [38.86, 38.86]).round(3)
        array([1.   , 0.727])
        """
        r, alpha, a, b = self._check_fitted()
        x, t_x, age = (np.asarray(v, dtype=np.float64) for v in (frequency, recency, T))
        with np.errstate(divide="ignore", invalid="ignore"):
            log_odds_dead = (
                np.log(a)
                - np.log(b + np.maximum(x, 1) - 1)
                + (r + x) * (np.log(alpha + age) - np.log(alpha + t_x))
            )
        out: FloatArray = np.where(x > 0, expit(-log_odds_dead), 1.0)
        return out

    def conditional_probability_of_purchase(
        self, t: ArrayLike, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
    ) -> FloatArray:
        """P(at least one purchase in the next ``t`` time units | x, t_x, T).

        A BG/NBD customer drops out only right after a purchase, so one who is alive at ``T``
        buys in ``(T, T+t]`` unless the Poisson clock stays silent; given that she is alive,
        her rate is Gamma(r+x, α+T) (the alive term of the likelihood), hence

            P = P(alive | x, t_x, T) · (1 − ((α+T) / (α+T+t))^(r+x)).

        Broadcasts like :meth:`conditional_expected_purchases`.

        Examples
        --------
        >>> from manyi.insight.clv.sample_data import load_cdnow_summary
        >>> s = load_cdnow_summary()
        >>> m = BetaGeoModel().fit(s.frequency_cal, s.recency_cal, s.T_cal)
        >>> m.conditional_probability_of_purchase(39, [0, 2], [0.0, 30.43], [38.86, 38.86]).round(3)
        array([0.144, 0.555])
        """
        r, alpha, _, _ = self._check_fitted()
        t, x, t_x, age = (np.asarray(v, dtype=np.float64) for v in (t, frequency, recency, T))
        silent = np.exp((r + x) * (np.log(alpha + age) - np.log(alpha + age + t)))
        out: FloatArray = self.probability_alive(x, t_x, age) * (1.0 - silent)
        return out

    def conditional_expected_purchases(
        self, t: ArrayLike, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
    ) -> FloatArray:
        """E[Y(t) | x, t_x, T]: expected purchases in the next ``t`` time units.

        Broadcasts over all arguments (e.g. ``t`` of shape ``(k, 1)`` against customers of
        shape ``(n,)`` gives a ``(k, n)`` table).

        Examples
        --------
        >>> from manyi.insight.clv.sample_data import load_cdnow_summary
        >>> s = load_cdnow_summary()
        >>> m = BetaGeoModel().fit(s.frequency_cal, s.recency_cal, s.T_cal)
        >>> round(m.conditional_expected_purchases(39, 2, 30.43, 38.86).item(), 3)
        1.226
        """
        r, alpha, a, b = self._check_fitted()
        t, x, t_x, age = (np.asarray(v, dtype=np.float64) for v in (t, frequency, recency, T))
        z = t / (alpha + age + t)
        # Euler's transformation of 2F1(r+x, b+x; a+b+x-1; z) times ((α+T)/(α+T+t))^(r+x):
        # the transformed series stays near 1 for heavy buyers instead of overflowing.
        tail = (1 - z) ** (a - 1) * hyp2f1(a + b - 1 - r, a - 1, a + b + x - 1, z)
        expected = (a + b + x - 1) / (a - 1) * (1 - tail)
        out: FloatArray = expected * self.probability_alive(x, t_x, age)
        return out

    def expected_purchases(self, t: ArrayLike) -> FloatArray:
        """E[X(t)]: expected purchases of a new customer in ``t`` time units after the first.

        Examples
        --------
        >>> from manyi.insight.clv.sample_data import load_cdnow_summary
        >>> s = load_cdnow_summary()
        >>> m = BetaGeoModel().fit(s.frequency_cal, s.recency_cal, s.T_cal)
        >>> m.expected_purchases([26, 52]).round(3)
        array([0.901, 1.444])
        """
        zero = np.zeros_like(np.asarray(t, dtype=np.float64))
        return self.conditional_expected_purchases(t, zero, zero, zero)
