"""Logistic regression fitted by IRLS, with Wald intervals from the observed information.

A small estimator following scikit-learn's contract (the constructor stores parameters, ``fit``
validates and sets attributes ending in ``_``, plain pickle works). For the logit link the
observed and expected information coincide: ``I(β) = Xᵀ W X`` with ``W = diag(p (1 − p))``, so
the standard errors are ``√diag(I(β̂)⁻¹)``.

Examples
--------
>>> import numpy as np
>>> from manyi.insight.logit import LogitModel
>>> x = np.array([[0.0], [0.0], [0.0], [1.0], [1.0], [1.0]])
>>> y = np.array([0, 0, 1, 0, 1, 1])
>>> m = LogitModel().fit(x, y)
>>> round(float(np.exp(m.coef_[0])), 3)   # odds ratio (2/1) / (1/2)
4.0
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy.special import ndtr

from manyi.insight.errors import InsightError
from manyi.insight.intervals import Z95


class ConvergenceError(InsightError):
    """IRLS did not converge (often: a predictor separates the outcome perfectly)."""


class LogitModel:
    """Binary logistic regression by iteratively reweighted least squares.

    Parameters
    ----------
    max_iter
        Newton steps before giving up.
    tol
        Stop when the largest absolute change of a coefficient is below ``tol``.
    fit_intercept
        Add a constant column.

    Attributes
    ----------
    coef_, intercept_
        Coefficients (log-odds per unit) and intercept.
    bse_
        Standard errors of ``[intercept, *coef]`` (intercept first when fitted).
    feature_names_in_
        Names of the columns.
    n_iter_, n_obs_, loglik_
        Newton steps used, rows used, log-likelihood at the optimum.
    """

    def __init__(self, max_iter: int = 100, tol: float = 1e-10, fit_intercept: bool = True):
        self.max_iter = max_iter
        self.tol = tol
        self.fit_intercept = fit_intercept

    def fit(self, X: ArrayLike, y: ArrayLike, feature_names: list[str] | None = None) -> LogitModel:  # noqa: N803
        """Fit on rows of ``X`` (2-d, finite) and ``y`` (0/1).

        Raises
        ------
        ValueError
            Bad shapes, non-finite values, or an outcome that is not 0/1 with both classes.
        ConvergenceError
            When the likelihood has no finite maximum (separation) or IRLS does not converge.
        """
        if isinstance(X, pd.DataFrame) and feature_names is None:
            feature_names = [str(c) for c in X.columns]
        x = np.asarray(X, dtype=float)
        target = np.asarray(y, dtype=float)
        if x.ndim != 2 or target.ndim != 1 or x.shape[0] != target.shape[0]:
            raise ValueError("X must be 2-d and y 1-d with one value per row of X")
        if not (np.isfinite(x).all() and np.isfinite(target).all()):
            raise ValueError("X and y must be finite: drop or impute missing values first")
        if not np.isin(target, (0.0, 1.0)).all() or np.unique(target).size < 2:
            raise ValueError("y must hold 0/1 outcomes of both kinds")
        names = feature_names or [f"x{i}" for i in range(x.shape[1])]
        design = np.column_stack([np.ones(len(x)), x]) if self.fit_intercept else x
        beta = np.zeros(design.shape[1])
        converged = False
        n_iter = 0
        for n_iter in range(1, self.max_iter + 1):  # noqa: B007
            eta = design @ beta
            p = 1.0 / (1.0 + np.exp(-eta))
            w = p * (1.0 - p)
            info = design.T @ (design * w[:, None])
            try:
                step = np.linalg.solve(info, design.T @ (target - p))
            except np.linalg.LinAlgError as exc:
                raise ConvergenceError(
                    f"IRLS: singular information matrix ({exc}); drop constant or duplicate columns"
                ) from exc
            beta = beta + step
            if np.max(np.abs(beta)) > 50:
                raise ConvergenceError(
                    "IRLS: coefficients diverge (a predictor separates the outcome perfectly); "
                    "merge sparse levels or drop the predictor"
                )
            if np.max(np.abs(step)) < self.tol:
                converged = True
                break
        if not converged:
            raise ConvergenceError(
                f"IRLS did not converge in {self.max_iter} steps; raise max_iter or rescale X"
            )
        eta = design @ beta
        p = 1.0 / (1.0 + np.exp(-eta))
        info = design.T @ (design * (p * (1.0 - p))[:, None])
        cov = np.linalg.inv(info)
        self.bse_: NDArray[np.float64] = np.sqrt(np.diag(cov))
        self.intercept_: float = float(beta[0]) if self.fit_intercept else 0.0
        self.coef_: NDArray[np.float64] = beta[1:] if self.fit_intercept else beta
        self.feature_names_in_: list[str] = list(names)
        self.n_iter_: int = n_iter
        self.n_obs_: int = len(target)
        eps = 1e-300
        self.loglik_: float = float(
            np.sum(target * np.log(p + eps) + (1 - target) * np.log(1 - p + eps))
        )
        return self

    def odds_ratios(self) -> pd.DataFrame:
        """Odds ratio per feature with its 95 % Wald interval and two-sided p-value."""
        if not hasattr(self, "coef_"):
            raise InsightError("fit the model first")
        se = self.bse_[1:] if self.fit_intercept else self.bse_
        z = self.coef_ / se
        return pd.DataFrame(
            {
                "term": self.feature_names_in_,
                "coef": self.coef_,
                "se": se,
                "odds_ratio": np.exp(self.coef_),
                "low": np.exp(self.coef_ - Z95 * se),
                "high": np.exp(self.coef_ + Z95 * se),
                "p_value": 2 * ndtr(-np.abs(z)),  # = scipy.stats.norm.sf(|z|)
            }
        )

    def predict_proba(self, X: ArrayLike) -> NDArray[np.float64]:  # noqa: N803
        """Probability of outcome 1 for each row of ``X``."""
        x = np.asarray(X, dtype=float)
        eta = self.intercept_ + x @ self.coef_
        out: NDArray[np.float64] = 1.0 / (1.0 + np.exp(-eta))
        return out

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """The constructor parameters (scikit-learn protocol)."""
        return {"max_iter": self.max_iter, "tol": self.tol, "fit_intercept": self.fit_intercept}
