# ruff: noqa: N803  (T, X, R are the notation of the papers and of lifetimes)
"""Johnson's relative weights (Johnson 2000), for many drivers.

The drivers are replaced by their closest orthogonal counterparts ``Z = X R^(-1/2)``; the
target is regressed on ``Z`` and each ``Z`` is mapped back onto the drivers through the
loadings ``Λ = R^(1/2)``.  The weights ``ε_j = Σ_k Λ_jk² β_k²`` add up to R² and approximate
the Shapley shares closely at a cost of one eigendecomposition.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]


def relative_weights(
    R: FloatArray, r: FloatArray, groups: Sequence[Sequence[int]] | None = None
) -> tuple[FloatArray, float]:
    """Relative weights per driver (summed over a driver's columns) and the full R².

    Examples
    --------
    >>> R = np.array([[1.0, 0.5], [0.5, 1.0]]); r = np.array([0.6, 0.4])
    >>> w, r2 = relative_weights(R, r)
    >>> w.round(4).tolist(), round(r2, 4)
    ([0.2867, 0.0867], 0.3733)
    """
    eigenvalues, vectors = np.linalg.eigh(R)
    eigenvalues = np.clip(eigenvalues, 0.0, None)
    loadings = vectors @ np.diag(np.sqrt(eigenvalues)) @ vectors.T
    beta = np.linalg.lstsq(loadings, r, rcond=None)[0]
    column_weights = (loadings**2) @ (beta**2)
    groups = [[j] for j in range(len(r))] if groups is None else [list(g) for g in groups]
    weights = np.array([column_weights[list(g)].sum() for g in groups])
    return weights, float(column_weights.sum())
