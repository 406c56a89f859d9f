# ruff: noqa: N803, N806  (T, X, R are the notation of the papers and of lifetimes)
"""Key-driver analysis: which factors move a score, as shares of the explained variance."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd

from manyi.insight.clv.errors import NotFittedError
from manyi.insight.drivers.design import DriverDesign, FloatArray, build_design
from manyi.insight.drivers.logistic import mcfadden_shapley
from manyi.insight.drivers.ordinal import ordinal_shapley
from manyi.insight.drivers.relative_weights import relative_weights
from manyi.insight.drivers.shapley import MAX_SHAPLEY_DRIVERS, correlation_parts, shapley_r2

Method = Literal["auto", "shapley", "relative_weights", "logistic", "ordinal"]
METHODS = ("auto", "shapley", "relative_weights", "logistic", "ordinal")


def _decompose(
    method: str, X: FloatArray, y: FloatArray, groups: Sequence[Sequence[int]]
) -> tuple[FloatArray, float]:
    if method == "logistic":
        return mcfadden_shapley(X, y, groups)
    if method == "ordinal":
        return ordinal_shapley(X, y, groups)
    R, r = correlation_parts(X, y)
    if method == "shapley":
        return shapley_r2(R, r, groups)
    return relative_weights(R, r, groups)


class KeyDriverAnalysis:
    """Decompose the explained variance of a target into one share per driver.

    Parameters
    ----------
    method : {"auto", "shapley", "relative_weights", "logistic", "ordinal"}
        ``shapley``: exact LMG shares of R² (up to 15 drivers); ``relative_weights``:
        Johnson's relative weights (any number); ``logistic``: Shapley shares of McFadden's
        pseudo-R² for a 0/1 target (up to 12 drivers); ``ordinal``: the same for an ordered
        target such as a 1–5★ rating, with a proportional-odds model (up to 10 drivers;
        never chosen by ``auto``); ``auto``: ``logistic`` for a 0/1 target, else ``shapley``
        up to 15 drivers and ``relative_weights`` beyond.
    n_bootstrap : int
        Bootstrap resamples for percentile intervals (0: none).
    confidence : float
        Coverage of the intervals.
    random_state : int, optional
        Seed of the bootstrap.

    Attributes
    ----------
    method_ : str
        Method actually used.
    drivers_ : list of str
    importance_ : ndarray
        Share of R² (or pseudo-R²) per driver; they add up to ``r2_``.
    share_ : ndarray
        ``importance_ / r2_``.
    r2_ : float
    ci_low_, ci_high_ : ndarray or None
        Bootstrap percentile interval of ``importance_``.
    n_samples_ : int
        Rows used (complete cases).

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> frame = pd.DataFrame({"delivery_days": rng.gamma(3, 3, 400),
    ...                       "price": rng.lognormal(4, 1, 400)})
    >>> frame["rating"] = 5 - 0.2 * frame.delivery_days + rng.normal(0, 1, 400)
    >>> kda = KeyDriverAnalysis().fit(frame, target="rating")
    >>> kda.method_, kda.to_frame().driver.tolist()
    ('shapley', ['delivery_days', 'price'])
    """

    def __init__(
        self,
        method: Method = "auto",
        *,
        n_bootstrap: int = 0,
        confidence: float = 0.95,
        random_state: int | None = None,
    ) -> None:
        self.method = method
        self.n_bootstrap = n_bootstrap
        self.confidence = confidence
        self.random_state = random_state

    method_: str
    drivers_: list[str]
    importance_: FloatArray
    share_: FloatArray
    r2_: float
    ci_low_: FloatArray | None
    ci_high_: FloatArray | None
    n_samples_: int

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """Constructor parameters (scikit-learn convention)."""
        return {
            "method": self.method,
            "n_bootstrap": self.n_bootstrap,
            "confidence": self.confidence,
            "random_state": self.random_state,
        }

    def _choose(self, design: DriverDesign) -> str:
        if self.method not in METHODS:
            raise ValueError(f"unknown method {self.method!r}")
        if self.method != "auto":
            return self.method
        if set(np.unique(design.y).tolist()) == {0.0, 1.0}:
            return "logistic"
        return "shapley" if len(design.drivers) <= MAX_SHAPLEY_DRIVERS else "relative_weights"

    def fit(
        self, data: pd.DataFrame, target: str, drivers: Sequence[str] | None = None
    ) -> KeyDriverAnalysis:
        """Fit on a DataFrame; categorical drivers are one-hot encoded and kept as one driver.

        Parameters
        ----------
        data : pandas.DataFrame
        target : str
            Column to explain (a score, a rating, or a 0/1 flag such as churn).
        drivers : sequence of str, optional
            Driver columns (default: all other columns).

        Returns
        -------
        self
        """
        if self.n_bootstrap < 0 or not 0 < self.confidence < 1:
            raise ValueError("n_bootstrap must be >= 0 and confidence between 0 and 1")
        design = build_design(data, target, drivers)
        if len(design.y) < len(design.column_names) + 2:
            raise ValueError(
                f"{len(design.y)} complete rows are too few for "
                f"{len(design.column_names)} driver columns"
            )
        method = self._choose(design)
        importance, r2 = _decompose(method, design.X, design.y, design.groups)
        self.method_ = method
        self.drivers_ = list(design.drivers)
        self.importance_ = importance
        self.r2_ = r2
        self.share_ = importance / r2 if r2 > 0 else np.full_like(importance, np.nan)
        self.n_samples_ = len(design.y)
        self.ci_low_, self.ci_high_ = self._bootstrap(method, design)
        return self

    def _bootstrap(
        self, method: str, design: DriverDesign
    ) -> tuple[FloatArray | None, FloatArray | None]:
        if self.n_bootstrap == 0:
            return None, None
        rng = np.random.default_rng(self.random_state)
        n = len(design.y)
        draws = []
        for _ in range(self.n_bootstrap):
            rows = rng.integers(0, n, n)
            X, y = design.X[rows], design.y[rows]
            # A resample can lose every case of a rare dummy level (or a rare rating level for
            # the ordinal variant); skip such draws.
            if np.any(X.std(axis=0) == 0) or np.std(y) == 0:
                continue
            if method == "ordinal" and len(np.unique(y)) < len(np.unique(design.y)):
                continue
            draws.append(_decompose(method, X, y, design.groups)[0])
        if not draws:
            return None, None
        stacked = np.array(draws)
        tail = (1 - self.confidence) / 2 * 100
        low, high = np.percentile(stacked, [tail, 100 - tail], axis=0)
        return low, high

    def to_frame(self) -> pd.DataFrame:
        """One row per driver, largest share first.

        Returns
        -------
        pandas.DataFrame
            ``driver``, ``importance``, ``share`` and, with a bootstrap, ``ci_low``,
            ``ci_high``.
        """
        if not hasattr(self, "importance_"):
            raise NotFittedError("this KeyDriverAnalysis is not fitted yet; call fit(...) first")
        frame = pd.DataFrame(
            {"driver": self.drivers_, "importance": self.importance_, "share": self.share_}
        )
        if self.ci_low_ is not None and self.ci_high_ is not None:
            frame["ci_low"] = self.ci_low_
            frame["ci_high"] = self.ci_high_
        return frame.sort_values("importance", ascending=False, ignore_index=True)
