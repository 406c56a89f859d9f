# ruff: noqa: N803, N806  (T, X, R are the notation of the papers and of lifetimes)
"""Exact Shapley (LMG) decomposition of R² from the correlation matrix.

Lindeman, Merenda & Gold (1980); Grömping (2007).  The R² of a linear regression on a subset
S of the standardised drivers is ``r_S' R_SS⁻¹ r_S`` (``R`` the drivers' correlation matrix,
``r`` their correlations with the target), so no regression is refitted: the 2^p subsets are
enumerated as bitmasks, grouped by their number of columns, and solved as batches of small
linear systems.  A driver's share is the average of its R² increment over all orderings.
"""

from __future__ import annotations

from collections.abc import Sequence
from math import factorial

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]

#: Beyond this many drivers the 2^p subsets get too many; use relative weights.
MAX_SHAPLEY_DRIVERS = 15


def correlation_parts(X: FloatArray, y: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Correlation matrix of the columns of ``X`` and their correlations with ``y``.

    Examples
    --------
    >>> R, r = correlation_parts(np.array([[1.0], [2.0], [3.0]]), np.array([1.0, 2.0, 4.0]))
    >>> R.tolist(), r.round(3).tolist()
    ([[1.0]], [0.982])
    """
    full = np.atleast_2d(
        np.asarray(np.corrcoef(np.column_stack([X, y]), rowvar=False), dtype=np.float64)
    )
    return full[:-1, :-1], full[:-1, -1]


def subset_r2(R: FloatArray, r: FloatArray, groups: Sequence[Sequence[int]]) -> FloatArray:
    """R² of every subset of driver groups, indexed by bitmask (bit j = group j).

    Examples
    --------
    >>> R = np.array([[1.0, 0.0], [0.0, 1.0]]); r = np.array([0.6, 0.3])
    >>> subset_r2(R, r, [[0], [1]]).round(2).tolist()
    [0.0, 0.36, 0.09, 0.45]
    """
    p = len(groups)
    k = len(r)
    masks = np.arange(2**p)
    group_bits = ((masks[:, None] >> np.arange(p)) & 1).astype(bool)  # (2^p, p)
    membership = np.zeros((p, k), dtype=bool)
    for j, cols in enumerate(groups):
        membership[j, list(cols)] = True
    columns = (group_bits.astype(np.int64) @ membership.astype(np.int64)) > 0  # (2^p, k)
    sizes = columns.sum(axis=1)
    out = np.zeros(2**p)
    for m in np.unique(sizes):
        if m == 0:
            continue
        rows = np.flatnonzero(sizes == m)
        # Stable argsort of "not selected" puts the selected column indices first, in order.
        idx = np.argsort(~columns[rows], axis=1, kind="stable")[:, :m]
        R_sub = R[idx[:, :, None], idx[:, None, :]]
        r_sub = r[idx]
        try:
            beta = np.linalg.solve(R_sub, r_sub[:, :, None])[:, :, 0]
        except np.linalg.LinAlgError:
            beta = np.einsum("nij,nj->ni", np.linalg.pinv(R_sub), r_sub)
        out[rows] = np.einsum("ni,ni->n", r_sub, beta)
    return out


def shapley_from_subsets(values: FloatArray, p: int) -> FloatArray:
    """Shapley values of ``p`` players from the value of every coalition (bitmask-indexed).

    Examples
    --------
    >>> shapley_from_subsets(np.array([0.0, 0.36, 0.09, 0.45]), 2).round(2).tolist()
    [0.36, 0.09]
    """
    masks = np.arange(2**p)
    sizes = ((masks[:, None] >> np.arange(p)) & 1).sum(axis=1)
    weights = np.array(
        [factorial(s) * factorial(p - s - 1) / factorial(p) if s < p else 0.0 for s in range(p + 1)]
    )
    shares = np.empty(p)
    for j in range(p):
        without = masks[(masks >> j) & 1 == 0]
        shares[j] = np.sum(weights[sizes[without]] * (values[without | (1 << j)] - values[without]))
    return shares


def shapley_r2(
    R: FloatArray, r: FloatArray, groups: Sequence[Sequence[int]] | None = None
) -> tuple[FloatArray, float]:
    """LMG shares of R² per driver group and the full R²; the shares add up to R².

    Parameters
    ----------
    R : ndarray, shape (k, k)
        Correlation matrix of the driver columns.
    r : ndarray, shape (k,)
        Correlations of the driver columns with the target.
    groups : sequence of sequences of int, optional
        Columns of each driver (default: one column per driver).

    Returns
    -------
    (shares, r2)

    Examples
    --------
    >>> R = np.array([[1.0, 0.5], [0.5, 1.0]]); r = np.array([0.6, 0.4])
    >>> shares, r2 = shapley_r2(R, r)
    >>> shares.round(4).tolist(), round(r2, 4)
    ([0.2867, 0.0867], 0.3733)
    """
    groups = [[j] for j in range(len(r))] if groups is None else [list(g) for g in groups]
    p = len(groups)
    if p > MAX_SHAPLEY_DRIVERS:
        raise ValueError(
            f"exact Shapley needs 2^p subsets; {p} drivers is more than "
            f"{MAX_SHAPLEY_DRIVERS}: use relative weights"
        )
    values = subset_r2(R, r, groups)
    return shapley_from_subsets(values, p), float(values[-1])
