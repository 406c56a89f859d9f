"""Satisfaction and churn on the e-commerce churn data set (5,630 customers of an online shop).

:func:`read_ecommerce_churn` reads the file (gzip or plain CSV) as published — one row per
customer with ``CustomerID, Churn, SatisfactionScore, Complain, OrderCount, ...`` — and
:func:`churn_by` / :func:`churn_model` relate churn and order counts to satisfaction and
complaints. The product never ships this file; pass its path.

Examples
--------
>>> import tempfile, pathlib
>>> from manyi.insight.churn import read_ecommerce_churn, churn_by
>>> path = pathlib.Path(tempfile.mkdtemp()) / "churn.csv"
>>> _ = path.write_text("CustomerID,Churn,SatisfactionScore,Complain,OrderCount\\n"
...                     "1,1,1,1,2\\n2,0,5,0,4\\n3,0,5,0,\\n")
>>> churn_by(read_ecommerce_churn(path), "Complain")[["level", "customers", "churn_rate"]]
   level  customers  churn_rate
0      0          2         0.0
1      1          1         1.0
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from manyi.insight.errors import InsightError, ScaleError
from manyi.insight.intervals import mean_estimate, proportion
from manyi.insight.logit import LogitModel

REQUIRED = ("CustomerID", "Churn", "SatisfactionScore", "Complain", "OrderCount")


def read_ecommerce_churn(path: str | Path) -> pd.DataFrame:
    """Read the churn file and check its key columns.

    Raises
    ------
    InsightError
        Missing file or column; ``ScaleError`` for a satisfaction score outside 1–5 or a
        churn/complaint flag other than 0/1 (the message names the file, line and field).
    """
    path = Path(path)
    if not path.is_file():
        raise InsightError(f"{path}: no such file")
    frame = pd.read_csv(path)
    missing = [c for c in REQUIRED if c not in frame.columns]
    if missing:
        raise InsightError(f"{path}: missing column(s) {', '.join(missing)}")
    checks = {"SatisfactionScore": (1, 5), "Churn": (0, 1), "Complain": (0, 1)}
    for column, (low, high) in checks.items():
        values = frame[column]
        bad = values.notna() & ((values < low) | (values > high) | (values != values.round()))
        if bad.any():
            first = int(np.flatnonzero(bad.to_numpy())[0])
            raise ScaleError(
                f"{path}, line {first + 2}, field {column}: {values.iloc[first]} is not a whole "
                f"number in {low}–{high}"
            )
    return frame


def churn_by(frame: pd.DataFrame, column: str) -> pd.DataFrame:
    """Churn rate (Wilson 95 %) and mean order count (t 95 %) per level of ``column``.

    Rows with a missing ``column`` are left out; a missing order count is left out of that
    mean only (``order_n`` says how many counts the mean rests on).
    """
    if column not in frame.columns:
        raise InsightError(f"no column {column!r}")
    records = []
    for level, part in frame.dropna(subset=[column]).groupby(column):
        churn = proportion(float(part["Churn"].sum()), float(part["Churn"].notna().sum()))
        orders = part["OrderCount"].dropna().astype(float)
        mean = mean_estimate(float(orders.sum()), float((orders**2).sum()), float(len(orders)))
        records.append(
            {
                "level": level.item() if hasattr(level, "item") else level,
                "customers": len(part),
                "churned": int(part["Churn"].sum()),
                "churn_rate": churn.value,
                "churn_rate_low": churn.low,
                "churn_rate_high": churn.high,
                "order_n": mean.n,
                "orders_mean": mean.value,
                "orders_mean_low": mean.low,
                "orders_mean_high": mean.high,
            }
        )
    return pd.DataFrame(records)


def churn_model(
    frame: pd.DataFrame,
    features: Sequence[str] = ("SatisfactionScore", "Complain"),
) -> tuple[LogitModel, pd.DataFrame]:
    """Logistic model of ``Churn`` on ``features`` (complete cases) and its odds ratios.

    Returns
    -------
    (model, odds_ratios)
        The fitted :class:`~manyi.insight.logit.LogitModel` and its ``odds_ratios()`` table.
    """
    data = frame.dropna(subset=[*features, "Churn"])
    model = LogitModel().fit(data[list(features)], data["Churn"].to_numpy())
    return model, model.odds_ratios()
