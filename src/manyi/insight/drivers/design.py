# ruff: noqa: N806  (T, X, R are the notation of the papers and of lifetimes)
"""Turning a table of drivers into a numeric design with one column group per driver."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class DriverDesign:
    """Numeric drivers ready for the decompositions.

    Attributes
    ----------
    X : ndarray, shape (n, k)
        Numeric columns; a categorical driver contributes one dummy column per level but its
        first (dropped as the baseline).
    y : ndarray, shape (n,)
        Target.
    drivers : tuple of str
        Driver names, one per group.
    groups : tuple of tuple of int
        Column indices of ``X`` belonging to each driver.
    column_names : tuple of str
        Names of the columns of ``X``.
    dropped_rows : int
        Rows left out because the target or a driver was missing.
    """

    X: FloatArray
    y: FloatArray
    drivers: tuple[str, ...]
    groups: tuple[tuple[int, ...], ...]
    column_names: tuple[str, ...]
    dropped_rows: int


def build_design(
    data: pd.DataFrame, target: str, drivers: Sequence[str] | None = None
) -> DriverDesign:
    """Select, clean and encode the drivers of ``target``.

    Numeric and boolean columns are used as they are; text and categorical columns are
    one-hot encoded (first level dropped) and kept together as one driver.  Rows with a
    missing value in the target or any driver are dropped.

    Parameters
    ----------
    data : pandas.DataFrame
    target : str
        Column to explain.
    drivers : sequence of str, optional
        Columns to use (default: every other column).

    Returns
    -------
    DriverDesign

    Examples
    --------
    >>> frame = pd.DataFrame({"score": [1, 3, 5, 4], "late": [1, 0, 0, 0],
    ...                       "channel": ["web", "app", "web", "shop"]})
    >>> d = build_design(frame, "score")
    >>> d.drivers, d.groups, d.column_names
    (('late', 'channel'), ((0,), (1, 2)), ('late', 'channel=shop', 'channel=web'))
    """
    if target not in data.columns:
        raise ValueError(
            f"target column {target!r} is not in the data; it has {list(data.columns)}"
        )
    names = [c for c in data.columns if c != target] if drivers is None else list(drivers)
    missing = [c for c in names if c not in data.columns]
    if missing:
        raise ValueError(f"driver columns {missing} are not in the data")
    if target in names:
        raise ValueError(f"the target {target!r} cannot also be a driver")
    if not names:
        raise ValueError("no driver columns")
    frame = data[[target, *names]]
    complete = frame.dropna()
    y = pd.to_numeric(complete[target], errors="coerce")
    if y.isna().any():
        raise ValueError(f"target column {target!r} must be numeric")
    columns: list[FloatArray] = []
    column_names: list[str] = []
    groups: list[tuple[int, ...]] = []
    for name in names:
        series = complete[name]
        start = len(columns)
        if pd.api.types.is_bool_dtype(series) or pd.api.types.is_numeric_dtype(series):
            columns.append(series.to_numpy(dtype=np.float64))
            column_names.append(name)
        else:
            levels = sorted(series.astype(str).unique())
            for level in levels[1:]:
                columns.append((series.astype(str) == level).to_numpy(dtype=np.float64))
                column_names.append(f"{name}={level}")
        if len(columns) == start:
            raise ValueError(f"driver {name!r} has a single value; it cannot explain anything")
        groups.append(tuple(range(start, len(columns))))
    X = np.column_stack(columns)
    constant = np.flatnonzero(X.std(axis=0) == 0)
    if len(constant):
        raise ValueError(
            f"column {column_names[constant[0]]!r} is constant after dropping "
            "rows with missing values"
        )
    return DriverDesign(
        X=X,
        y=y.to_numpy(dtype=np.float64),
        drivers=tuple(names),
        groups=tuple(groups),
        column_names=tuple(column_names),
        dropped_rows=len(frame) - len(complete),
    )
