# ruff: noqa: N803, N806  (T, X, R are the notation of the papers and of lifetimes)
from __future__ import annotations

from itertools import combinations
from math import factorial
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from manyi.insight.drivers.design import build_design
from manyi.insight.drivers.relative_weights import relative_weights
from manyi.insight.drivers.shapley import correlation_parts, shapley_r2

DRIVERS = [
    "Tenure",
    "WarehouseToHome",
    "HourSpendOnApp",
    "NumberOfDeviceRegistered",
    "SatisfactionScore",
    "NumberOfAddress",
    "Complain",
    "CouponUsed",
    "DaySinceLastOrder",
    "PreferedOrderCat",
]


def churn(shared_data: Path) -> pd.DataFrame:
    return pd.read_csv(shared_data / "ecommerce_churn" / "ecommerce_customer_churn.csv.gz")


def refit_r2(X: np.ndarray, y: np.ndarray, cols: list[int]) -> float:
    design = np.column_stack([np.ones(len(y)), X[:, cols]])
    beta = np.linalg.lstsq(design, y, rcond=None)[0]
    residual = y - design @ beta
    return float(1 - residual @ residual / ((y - y.mean()) @ (y - y.mean())))


def brute_force_lmg(X: np.ndarray, y: np.ndarray, groups: list[list[int]]) -> np.ndarray:
    p = len(groups)
    r2 = {}
    for size in range(p + 1):
        for subset in combinations(range(p), size):
            r2[subset] = refit_r2(X, y, [c for g in subset for c in groups[g]]) if subset else 0.0
    shares = np.zeros(p)
    for j in range(p):
        others = [g for g in range(p) if g != j]
        for size in range(p):
            weight = factorial(size) * factorial(p - size - 1) / factorial(p)
            for subset in combinations(others, size):
                shares[j] += weight * (r2[tuple(sorted((*subset, j)))] - r2[subset])
    return shares


def test_lmg_equals_a_brute_force_refit_of_every_subset(shared_data: Path) -> None:
    # given 10 drivers of the order count, one of them categorical (6 levels, 5 dummies)
    design = build_design(churn(shared_data), "OrderCount", DRIVERS)
    groups = [list(g) for g in design.groups]
    # when the LMG shares come from the correlation matrix
    R, r = correlation_parts(design.X, design.y)
    shares, r2 = shapley_r2(R, r, groups)
    # then they equal averaging over 1,024 least-squares refits, and add up to the full R²
    assert shares == pytest.approx(brute_force_lmg(design.X, design.y, groups), abs=1e-10)
    assert shares.sum() == pytest.approx(r2, abs=1e-12)
    assert r2 == pytest.approx(
        refit_r2(design.X, design.y, list(range(design.X.shape[1]))), abs=1e-10
    )


def test_relative_weights_add_up_to_r2_and_track_lmg(shared_data: Path) -> None:
    design = build_design(churn(shared_data), "OrderCount", DRIVERS[:-1])
    R, r = correlation_parts(design.X, design.y)
    weights, r2 = relative_weights(R, r)
    shares, r2_lmg = shapley_r2(R, r)
    assert weights.sum() == pytest.approx(r2, abs=1e-12)
    assert r2 == pytest.approx(r2_lmg, abs=1e-12)
    # the two methods rank the drivers alike: same top driver
    assert int(np.argmax(weights)) == int(np.argmax(shares))


def test_more_than_fifteen_drivers_is_refused() -> None:
    with pytest.raises(ValueError, match="16 drivers is more than 15"):
        shapley_r2(np.eye(16), np.full(16, 0.1))
