# ruff: noqa: N803, N806  (T, X, R are the notation of the papers and of lifetimes)
"""Shapley decomposition of McFadden's pseudo-R² for an ordered outcome (a 1–5★ rating).

A star rating is ordered but not interval-scaled: the step from 1★ to 2★ need not equal the
step from 4★ to 5★, and most ratings pile up at 5★.  The proportional-odds (ordered logit)
model of McCullagh (1980) respects that:

    P(y ≤ k | x) = σ(θ_k − x'β),   k = 1 … K−1,   θ_1 < … < θ_{K−1}

Each subset of drivers gets its own ordered logit (Newton–Raphson with the analytic gradient
and Hessian on standardised columns); the value of a subset is McFadden's
``1 − LL(S) / LL(∅)``, where ``LL(∅)`` is the thresholds-only model (the observed shares of
the K levels), and the shares are the exact Shapley values, so they add up to the pseudo-R²
of the full model — the same construction as :mod:`manyi.insight.drivers.logistic`, of which
this is the K-level generalisation (with K = 2 the two give the same numbers).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
from scipy.special import expit

from manyi.insight.drivers.shapley import shapley_from_subsets

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

#: 2^p ordered-logit fits: beyond this many drivers it gets slow.
MAX_ORDINAL_DRIVERS = 10

_TINY = 1e-300


def ordinal_levels(y: npt.ArrayLike) -> tuple[IntArray, FloatArray]:
    """Codes 0 … K−1 of an ordered outcome and its distinct levels, lowest first.

    Examples
    --------
    >>> codes, levels = ordinal_levels([5.0, 1.0, 4.0, 5.0])
    >>> codes.tolist(), levels.tolist()
    ([2, 0, 1, 2], [1.0, 4.0, 5.0])
    """
    levels, codes = np.unique(np.asarray(y, dtype=np.float64), return_inverse=True)
    return codes.astype(np.int64).reshape(-1), levels


def _cdf_terms(z: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
    """σ(z), its density σ(1−σ) and the density's derivative, with ±inf handled."""
    F = expit(z)
    f = F * (1.0 - F)
    return F, f, f * (1.0 - 2.0 * F)


def ordered_logit_loglik(
    X: FloatArray, codes: IntArray, n_levels: int, *, max_iter: int = 100, tol: float = 1e-10
) -> float:
    """Maximised log-likelihood of a proportional-odds model of ``codes`` (0 … K−1) on ``X``.

    Newton–Raphson from the thresholds of the null model, halving a step that lowers the
    likelihood or disorders the thresholds; a tiny ridge (1e-8) keeps the steps defined
    under separation, as in :func:`~manyi.insight.drivers.logistic.logistic_loglik`.

    Examples
    --------
    >>> X = np.array([[0.0], [1.0], [2.0], [3.0], [4.0], [5.0]])
    >>> round(ordered_logit_loglik(X, np.array([0, 1, 0, 2, 1, 2]), 3), 4)
    -4.7114
    """
    n, k = X.shape
    J = n_levels - 1
    counts = np.bincount(codes, minlength=n_levels)
    if J < 1 or np.any(counts == 0):
        raise ValueError("every one of the K >= 2 levels must occur at least once")
    # Rows sorted by level make each level a contiguous block: the threshold parts of the
    # gradient and Hessian become block sums (np.add.reduceat) instead of n x K products.
    order = np.argsort(codes, kind="stable")
    X, codes = X[order], codes[order]
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    up = codes < J  # rows with a finite upper threshold θ_code
    low = codes > 0  # rows with a finite lower threshold θ_(code−1)
    upper_index = np.minimum(codes, J - 1)
    lower_index = np.maximum(codes - 1, 0)
    cum = np.cumsum(counts)[:-1].astype(np.float64)
    theta = np.log(cum / (n - cum))
    beta = np.zeros(k)
    ridge = 1e-8 * np.eye(J + k)

    def by_level(values: FloatArray) -> FloatArray:
        """Sum of ``values`` (rows, or rows x columns) within each level: shape (K, ...)."""
        out: FloatArray = np.add.reduceat(values, starts, axis=0)
        return out

    def loglik(theta: FloatArray, beta: FloatArray) -> tuple[float, FloatArray, FloatArray]:
        eta = X @ beta
        a = np.where(up, theta[upper_index] - eta, np.inf)
        b = np.where(low, theta[lower_index] - eta, -np.inf)
        return float(np.sum(np.log(np.maximum(expit(a) - expit(b), _TINY)))), a, b

    current, a, b = loglik(theta, beta)
    for _ in range(max_iter):
        Fa, fa, ha = _cdf_terms(a)
        Fb, fb, hb = _cdf_terms(b)
        D = np.maximum(Fa - Fb, _TINY)
        ga, gb, dg = fa / D, fb / D, (fa - fb) / D
        # Second derivatives of log(F(a) − F(b)), a = θ_j − x'β, b = θ_(j−1) − x'β; the
        # terms of a vanish in the top level (a = +inf) and those of b in the bottom one.
        d_aa = ha / D - ga**2
        d_bb = -hb / D - gb**2
        d_ab = ga * gb
        d_a_beta = -ha / D + ga * dg  # times x
        d_b_beta = hb / D - gb * dg
        d_beta_beta = (ha - hb) / D - dg**2
        # Per level j (0 … K−1), θ_j receives the "a" terms and θ_(j−1) the "b" terms.
        sum_a, sum_b = by_level(ga), by_level(gb)
        grad = np.concatenate([sum_a[:J] - sum_b[1:], -(X.T @ dg)])
        H = np.zeros((J + k, J + k))
        diagonal = by_level(d_aa)[:J] + by_level(d_bb)[1:]
        H[np.arange(J), np.arange(J)] = diagonal
        cross = by_level(d_ab)[1:J]  # level j in 1 … J−1 couples θ_j and θ_(j−1)
        H[np.arange(1, J), np.arange(J - 1)] = cross
        H[np.arange(J - 1), np.arange(1, J)] = cross
        xa = by_level(X * d_a_beta[:, None])
        xb = by_level(X * d_b_beta[:, None])
        H[:J, J:] = xa[:J] + xb[1:]
        H[J:, :J] = H[:J, J:].T
        H[J:, J:] = (X * d_beta_beta[:, None]).T @ X
        step = np.linalg.solve(-H + ridge, grad)
        scale = 1.0
        for _halving in range(30):
            new_theta = theta + scale * step[:J]
            new_beta = beta + scale * step[J:]
            if np.all(np.diff(new_theta) > 0):
                value, new_a, new_b = loglik(new_theta, new_beta)
                if value >= current - 1e-12 * (1 + abs(current)):
                    break
            scale /= 2
        else:
            break  # no ascent direction left: at the optimum up to rounding
        theta, beta, a, b = new_theta, new_beta, new_a, new_b
        previous, current = current, value
        if abs(current - previous) < tol * (1 + abs(current)):
            break
    return current


def ordinal_null_loglik(codes: IntArray, n_levels: int) -> float:
    """Log-likelihood of the thresholds-only model: ``Σ_k n_k log(n_k / n)``.

    Examples
    --------
    >>> round(ordinal_null_loglik(np.array([0, 1, 1, 2]), 3), 4)
    -4.1589
    """
    counts = np.bincount(codes, minlength=n_levels).astype(np.float64)
    seen = counts[counts > 0]
    return float(np.sum(seen * np.log(seen / seen.sum())))


def ordinal_shapley(
    X: FloatArray, y: FloatArray, groups: Sequence[Sequence[int]] | None = None
) -> tuple[FloatArray, float]:
    """Shapley shares of McFadden's pseudo-R² of an ordered logit, and the full pseudo-R².

    Parameters
    ----------
    X : ndarray, shape (n, k)
        Driver columns.
    y : ndarray, shape (n,)
        Ordered outcome (e.g. ratings 1–5); its distinct values are the levels, in order.
    groups : sequence of sequences of int, optional
        Columns of each driver (default: one column per driver).

    Returns
    -------
    (shares, pseudo_r2)

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(600, 2))
    >>> latent = 1.5 * X[:, 0] + 0.3 * X[:, 1] + rng.logistic(size=600)
    >>> y = np.digitize(latent, [-2.0, -0.5, 0.5, 2.0]) + 1.0          # ratings 1–5
    >>> shares, r2 = ordinal_shapley(X, y)
    >>> bool(shares[0] > shares[1]), bool(abs(shares.sum() - r2) < 1e-9)
    (True, True)
    """
    codes, levels = ordinal_levels(y)
    if len(levels) < 2:
        raise ValueError("the ordinal variant needs an outcome with at least two levels")
    groups = [[j] for j in range(X.shape[1])] if groups is None else [list(g) for g in groups]
    p = len(groups)
    if p > MAX_ORDINAL_DRIVERS:
        raise ValueError(
            f"the ordinal Shapley fits 2^p models; {p} drivers is more than {MAX_ORDINAL_DRIVERS}"
        )
    Z = (X - X.mean(axis=0)) / X.std(axis=0)
    K = len(levels)
    null = ordinal_null_loglik(codes, K)
    pseudo = np.zeros(2**p)
    for mask in range(1, 2**p):
        cols = [c for j in range(p) if mask >> j & 1 for c in groups[j]]
        pseudo[mask] = 1.0 - ordered_logit_loglik(Z[:, cols], codes, K) / null
    return shapley_from_subsets(pseudo, p), float(pseudo[-1])
