# ruff: noqa: N803, N806  (T, X, R are the notation of the papers and of lifetimes)
"""Shapley decomposition of McFadden's pseudo-R² for a binary outcome (churn, top-box rating).

Each subset of drivers gets its own logistic regression (Newton-Raphson on standardised
columns, which converges in a handful of steps); the value of a subset is McFadden's
``1 - LL(S) / LL(∅)`` and the shares are its exact Shapley values, so they add up to the
pseudo-R² of the full model.  The cost is 2^p logistic fits, hence the lower limit.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
from scipy.special import expit, log_expit

from manyi.insight.drivers.shapley import shapley_from_subsets

FloatArray = npt.NDArray[np.float64]

MAX_LOGISTIC_DRIVERS = 12


def logistic_loglik(
    X: FloatArray, y: FloatArray, *, max_iter: int = 50, tol: float = 1e-10
) -> float:
    """Maximised log-likelihood of a logistic regression of ``y`` (0/1) on ``X`` + intercept.

    A tiny ridge (1e-8) keeps Newton's steps defined under separation.

    Examples
    --------
    >>> X = np.array([[0.0], [1.0], [2.0], [3.0]]); y = np.array([0.0, 1.0, 0.0, 1.0])
    >>> round(logistic_loglik(X, y), 4)
    -2.3475
    """
    design = np.column_stack([np.ones(len(y)), X])
    beta = np.zeros(design.shape[1])
    mean = float(np.clip(y.mean(), 1e-12, 1 - 1e-12))
    beta[0] = np.log(mean / (1 - mean))
    ridge = 1e-8 * np.eye(design.shape[1])
    previous = -np.inf
    for _ in range(max_iter):
        eta = design @ beta
        p = expit(eta)
        gradient = design.T @ (y - p)
        hessian = (design * (p * (1 - p))[:, None]).T @ design + ridge
        beta = beta + np.linalg.solve(hessian, gradient)
        eta = design @ beta
        current = float(np.sum(y * log_expit(eta) + (1 - y) * log_expit(-eta)))
        if abs(current - previous) < tol * (1 + abs(current)):
            break
        previous = current
    return current


def mcfadden_shapley(
    X: FloatArray, y: FloatArray, groups: Sequence[Sequence[int]] | None = None
) -> tuple[FloatArray, float]:
    """Shapley shares of McFadden's pseudo-R² per driver and the full pseudo-R².

    Parameters
    ----------
    X : ndarray, shape (n, k)
        Driver columns.
    y : ndarray, shape (n,)
        Binary outcome (0/1).
    groups : sequence of sequences of int, optional
        Columns of each driver (default: one column per driver).

    Returns
    -------
    (shares, pseudo_r2)

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(500, 2)); y = (X[:, 0] + rng.logistic(size=500) > 0).astype(float)
    >>> shares, r2 = mcfadden_shapley(X, y)
    >>> bool(shares[0] > shares[1]), bool(abs(shares.sum() - r2) < 1e-9)
    (True, True)
    """
    values = np.unique(y)
    if not set(values.tolist()) <= {0.0, 1.0} or len(values) != 2:
        raise ValueError("the logistic variant needs a 0/1 target with both values present")
    groups = [[j] for j in range(X.shape[1])] if groups is None else [list(g) for g in groups]
    p = len(groups)
    if p > MAX_LOGISTIC_DRIVERS:
        raise ValueError(
            f"the logistic Shapley fits 2^p models; {p} drivers is more than {MAX_LOGISTIC_DRIVERS}"
        )
    Z = (X - X.mean(axis=0)) / X.std(axis=0)
    null = logistic_loglik(np.empty((len(y), 0)), y)
    pseudo = np.zeros(2**p)
    for mask in range(1, 2**p):
        cols = [c for j in range(p) if mask >> j & 1 for c in groups[j]]
        pseudo[mask] = 1.0 - logistic_loglik(Z[:, cols], y) / null
    return shapley_from_subsets(pseudo, p), float(pseudo[-1])
