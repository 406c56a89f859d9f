# ruff: noqa: N803  (T, X, R are the notation of the papers and of lifetimes)
"""Maximum-likelihood machinery shared by the CLV models.

Every model is fitted on the log of its parameters (all are positive), minimising the
weighted mean negative log-likelihood with L-BFGS-B.  Rows that repeat the same summary
(for example ``(x, t_x, T)``) are collapsed into one row with a weight, so a million customers
cost as much as their distinct summaries.  Standard errors come from the inverse of the
observed information (the Hessian of the total negative log-likelihood in the natural
parameters), computed by central differences of the gradient.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt
from scipy import optimize

from manyi.insight.clv.errors import ConvergenceError, NotFittedError

FloatArray = npt.NDArray[np.float64]
ArrayLike = npt.ArrayLike

#: Objective in log-parameters: returns (value, gradient).
Objective = Callable[[FloatArray], tuple[float, FloatArray]]


def as_float_array(values: ArrayLike, name: str) -> FloatArray:
    """Return ``values`` as a 1-D float array, rejecting NaN and infinity.

    Examples
    --------
    >>> as_float_array([1, 2], "frequency")
    array([1., 2.])
    """
    array = np.asarray(values, dtype=np.float64)
    if array.ndim != 1:
        array = array.reshape(-1)
    if not np.all(np.isfinite(array)):
        bad = int(np.flatnonzero(~np.isfinite(array))[0])
        raise ValueError(f"{name} must be finite; row {bad} is {array[bad]!r}")
    return array


def compress_rows(
    *columns: FloatArray, weights: FloatArray | None = None
) -> tuple[list[FloatArray], FloatArray]:
    """Collapse identical rows into distinct rows with summed weights.

    Parameters
    ----------
    *columns
        Equal-length 1-D arrays; a row is the tuple of their values.
    weights
        Optional weight per row (default 1).

    Returns
    -------
    (distinct columns, weights)

    Examples
    --------
    >>> cols, w = compress_rows(np.array([0.0, 1.0, 0.0]), np.array([2.0, 3.0, 2.0]))
    >>> [c.tolist() for c in cols], w.tolist()
    ([[0.0, 1.0], [2.0, 3.0]], [2.0, 1.0])
    """
    stacked = np.column_stack(columns)
    # Sorting a contiguous void view is several times faster than np.unique(axis=0).
    stacked = np.ascontiguousarray(stacked)
    view = stacked.view(np.dtype((np.void, stacked.dtype.itemsize * stacked.shape[1]))).ravel()
    _, first, inverse = np.unique(view, return_index=True, return_inverse=True)
    base = np.ones(len(stacked)) if weights is None else weights
    summed = np.bincount(inverse.ravel(), weights=base, minlength=len(first)).astype(np.float64)
    distinct = stacked[first]
    return [distinct[:, j].copy() for j in range(distinct.shape[1])], summed


def central_gradient(
    fun: Callable[[FloatArray], float], x: FloatArray, rel_step: float = 1e-5
) -> FloatArray:
    """Central-difference gradient of a scalar function.

    Examples
    --------
    >>> central_gradient(lambda v: float(np.sum(v**2)), np.array([1.0, 2.0])).round(6)
    array([2., 4.])
    """
    grad = np.empty_like(x)
    for j in range(len(x)):
        h = rel_step * max(1.0, abs(x[j]))
        up, down = x.copy(), x.copy()
        up[j] += h
        down[j] -= h
        grad[j] = (fun(up) - fun(down)) / (2 * h)
    return grad


def hessian_from_gradient(
    grad: Callable[[FloatArray], FloatArray], x: FloatArray, rel_step: float = 1e-4
) -> FloatArray:
    """Symmetrised central-difference Hessian from a gradient function.

    Examples
    --------
    >>> hessian_from_gradient(lambda v: np.array([2 * v[0], 6 * v[1]]), np.ones(2)).round(6)
    array([[2., 0.],
           [0., 6.]])
    """
    k = len(x)
    hess = np.empty((k, k))
    for j in range(k):
        h = rel_step * max(1.0, abs(x[j]))
        up, down = x.copy(), x.copy()
        up[j] += h
        down[j] -= h
        hess[:, j] = (grad(up) - grad(down)) / (2 * h)
    return 0.5 * (hess + hess.T)


class MaximumLikelihoodModel:
    """Base class: parameter handling, the optimiser, standard errors, the fitted check.

    Subclasses set ``param_names`` and implement ``_objective`` (weighted mean negative
    log-likelihood and its gradient in log-parameters) and ``_total_loglik``.
    """

    param_names: ClassVar[tuple[str, ...]] = ()
    #: Gradient is analytic (True) or by central differences (False).
    analytic_gradient: ClassVar[bool] = True

    def __init__(
        self,
        *,
        penalizer: float = 0.0,
        initial_params: Mapping[str, float] | None = None,
        tol: float = 1e-10,
        max_iter: int = 2000,
    ) -> None:
        self.penalizer = penalizer
        self.initial_params = initial_params
        self.tol = tol
        self.max_iter = max_iter

    # -- learned state -------------------------------------------------------------------
    params_: dict[str, float]
    standard_errors_: dict[str, float]
    covariance_: FloatArray
    loglik_: float
    n_customers_: float
    n_iter_: int

    def __repr__(self) -> str:
        fitted = getattr(self, "params_", None)
        if fitted is None:
            return f"{type(self).__name__}(penalizer={self.penalizer})"
        inner = ", ".join(f"{k}={v:.4g}" for k, v in fitted.items())
        return f"{type(self).__name__}({inner}, loglik={self.loglik_:.2f})"

    def _check_fitted(self) -> FloatArray:
        if not hasattr(self, "params_"):
            raise NotFittedError(
                f"this {type(self).__name__} is not fitted yet; call fit(...) first"
            )
        return np.array([self.params_[name] for name in self.param_names])

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """Constructor parameters (scikit-learn convention)."""
        return {
            "penalizer": self.penalizer,
            "initial_params": self.initial_params,
            "tol": self.tol,
            "max_iter": self.max_iter,
        }

    def set_params(self, **params: Any) -> MaximumLikelihoodModel:
        """Set constructor parameters (scikit-learn convention)."""
        for key, value in params.items():
            if key not in self.get_params():
                raise ValueError(f"unknown parameter {key!r} for {type(self).__name__}")
            setattr(self, key, value)
        return self

    # -- to implement --------------------------------------------------------------------
    def _default_start(self, data: Sequence[FloatArray], weights: FloatArray) -> FloatArray:
        raise NotImplementedError

    def _loglik_and_grad(
        self, params: FloatArray, data: Sequence[FloatArray], weights: FloatArray
    ) -> tuple[float, FloatArray]:
        """Weighted total log-likelihood and its gradient in the natural parameters."""
        raise NotImplementedError

    def _loglik_value(
        self, params: FloatArray, data: Sequence[FloatArray], weights: FloatArray
    ) -> float:
        return self._loglik_and_grad(params, data, weights)[0]

    # -- fitting -------------------------------------------------------------------------
    def _start(self, data: Sequence[FloatArray], weights: FloatArray) -> FloatArray:
        start = self._default_start(data, weights)
        if self.initial_params is not None:
            unknown = set(self.initial_params) - set(self.param_names)
            if unknown:
                raise ValueError(
                    f"initial_params has unknown names {sorted(unknown)}; "
                    f"expected some of {list(self.param_names)}"
                )
            for j, name in enumerate(self.param_names):
                if name in self.initial_params:
                    start[j] = float(self.initial_params[name])
        if np.any(start <= 0):
            raise ValueError(f"initial parameters must be positive, got {start.tolist()}")
        return np.log(start)

    def _fit_counts(
        self,
        frequency: ArrayLike,
        recency: ArrayLike,
        T: ArrayLike,
        weights: ArrayLike | None,
    ) -> None:
        """Validate ``(x, t_x, T)`` rows, merge repeated ones into weights, and fit."""
        x, t_x, age, w = validate_frequency_recency_age(frequency, recency, T, weights)
        (x, t_x, age), w = compress_rows(x, t_x, age, weights=w)
        self._fit_arrays((x, t_x, age), w)

    def _fit_arrays(self, data: Sequence[FloatArray], weights: FloatArray) -> None:
        total = float(weights.sum())
        if total <= 0:
            raise ValueError("there are no customers to fit")
        if self.penalizer < 0:
            raise ValueError(f"penalizer must be >= 0, got {self.penalizer}")

        def objective(theta: FloatArray) -> tuple[float, FloatArray]:
            params = np.exp(theta)
            if self.analytic_gradient:
                ll, grad = self._loglik_and_grad(params, data, weights)
                grad_theta = grad * params
            else:
                ll = self._loglik_value(params, data, weights)
                grad_theta = central_gradient(
                    lambda t: self._loglik_value(np.exp(t), data, weights), theta, 1e-6
                )
            value = -ll / total + self.penalizer * float(np.sum(params**2))
            gradient = -grad_theta / total + 2 * self.penalizer * params**2
            if not np.isfinite(value):
                # Let the line search back off instead of crashing on an overflow.
                return 1e300, np.zeros_like(theta)
            return value, gradient

        theta0 = self._start(data, weights)
        with np.errstate(all="ignore"):
            result = optimize.minimize(
                objective,
                theta0,
                jac=True,
                method="L-BFGS-B",
                options={
                    "maxiter": self.max_iter,
                    "ftol": self.tol * 1e-3,
                    "gtol": self.tol,
                    "maxcor": 20,
                },
            )
            # L-BFGS-B sometimes stops in its line search right at the optimum; polish once
            # with BFGS and accept when the gradient is flat.
            grad_norm = float(np.max(np.abs(objective(result.x)[1])))
            if not result.success or grad_norm > 1e-6:
                polished = optimize.minimize(
                    objective,
                    result.x,
                    jac=True,
                    method="BFGS",
                    options={"gtol": 1e-9, "maxiter": self.max_iter},
                )
                if polished.fun <= result.fun:
                    result = polished
                grad_norm = float(np.max(np.abs(objective(result.x)[1])))
        if not np.all(np.isfinite(result.x)) or result.fun >= 1e299 or grad_norm > 1e-4:
            raise ConvergenceError(
                f"{type(self).__name__} did not converge: {result.message} "
                f"(largest gradient {grad_norm:.3g}, parameters "
                f"{dict(zip(self.param_names, np.exp(result.x).round(6).tolist(), strict=True))})."
                " Hint: check that the time unit suits the data (weeks rather than days), "
                "pass initial_params near plausible values, or add a small penalizer "
                "such as 0.001."
            )
        params = np.exp(result.x)
        self.params_ = dict(zip(self.param_names, params.tolist(), strict=True))
        self.n_iter_ = int(result.nit)
        self.n_customers_ = total
        with np.errstate(all="ignore"):
            self.loglik_ = float(self._loglik_value(params, data, weights))
            self.covariance_ = self._covariance(params, data, weights)
        se = np.sqrt(np.where(np.diag(self.covariance_) >= 0, np.diag(self.covariance_), np.nan))
        self.standard_errors_ = dict(zip(self.param_names, se.tolist(), strict=True))

    def _covariance(
        self, params: FloatArray, data: Sequence[FloatArray], weights: FloatArray
    ) -> FloatArray:
        if self.analytic_gradient:

            def grad(p: FloatArray) -> FloatArray:
                return -self._loglik_and_grad(p, data, weights)[1]
        else:

            def grad(p: FloatArray) -> FloatArray:
                return -central_gradient(lambda q: self._loglik_value(q, data, weights), p, 1e-5)

        hess = hessian_from_gradient(grad, params, 1e-4 if self.analytic_gradient else 1e-3)
        try:
            cov: FloatArray = np.asarray(np.linalg.inv(hess), dtype=np.float64)
        except np.linalg.LinAlgError:
            cov = np.full_like(hess, np.nan)
        return cov


def validate_frequency_recency_age(
    frequency: ArrayLike, recency: ArrayLike, T: ArrayLike, weights: ArrayLike | None = None
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """Check a repeat-purchase summary and return it as float arrays with weights.

    ``frequency`` (x) is the number of repeat purchases, ``recency`` (t_x) the time from the
    first to the last purchase, ``T`` the time from the first purchase to the end of the
    period, all in one time unit.

    Examples
    --------
    >>> x, t_x, T, w = validate_frequency_recency_age([0, 2], [0.0, 3.0], [5.0, 5.0])
    >>> w.tolist()
    [1.0, 1.0]
    """
    x = as_float_array(frequency, "frequency")
    t_x = as_float_array(recency, "recency")
    age = as_float_array(T, "T")
    if not len(x) == len(t_x) == len(age):
        raise ValueError(
            f"frequency, recency and T differ in length: {len(x)}, {len(t_x)}, {len(age)}"
        )
    w: FloatArray = np.ones(len(x)) if weights is None else as_float_array(weights, "weights")
    if len(w) != len(x):
        raise ValueError(f"weights has {len(w)} rows, frequency has {len(x)}")
    checks = [
        (x < 0, "frequency must be >= 0"),
        (np.abs(x - np.round(x)) > 1e-9, "frequency must be a whole number"),
        (t_x < 0, "recency must be >= 0"),
        (t_x > age + 1e-9, "recency must not exceed T"),
        (age <= 0, "T must be > 0"),
        ((x == 0) & (t_x != 0), "recency must be 0 when frequency is 0"),
        (w < 0, "weights must be >= 0"),
    ]
    for bad, reason in checks:
        if np.any(bad):
            row = int(np.flatnonzero(bad)[0])
            raise ValueError(
                f"{reason}; row {row} has frequency={x[row]:g}, "
                f"recency={t_x[row]:g}, T={age[row]:g}"
            )
    return x, t_x, age, w


def mean_count_and_age(data: Sequence[FloatArray], weights: FloatArray) -> tuple[float, float]:
    """Weighted mean repeat count and age of ``(x, t_x, T)`` data, for starting values."""
    x, _, age = data
    total = weights.sum()
    return float(weights @ x / total), float(weights @ age / total)
