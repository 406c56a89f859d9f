from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from manyi.insight.drivers.analysis import KeyDriverAnalysis


def churn(shared_data: Path) -> pd.DataFrame:
    return pd.read_csv(shared_data / "ecommerce_churn" / "ecommerce_customer_churn.csv.gz")


def test_auto_picks_logistic_for_churn_and_shapley_for_scores(shared_data: Path) -> None:
    frame = churn(shared_data)
    drivers = ["SatisfactionScore", "Complain", "Tenure"]
    assert KeyDriverAnalysis().fit(frame, "Churn", drivers).method_ == "logistic"
    assert KeyDriverAnalysis().fit(frame, "OrderCount", drivers).method_ == "shapley"


def test_bootstrap_interval_brackets_the_estimate(shared_data: Path) -> None:
    kda = KeyDriverAnalysis(n_bootstrap=60, random_state=3).fit(
        churn(shared_data),
        "OrderCount",
        ["CouponUsed", "DaySinceLastOrder", "PreferredLoginDevice"],
    )
    table = kda.to_frame()
    assert table.driver.tolist()[0] == "CouponUsed"
    assert (table.ci_low <= table.importance).all()
    assert (table.importance <= table.ci_high).all()
    assert table.importance.sum() == pytest.approx(kda.r2_)
    assert kda.n_samples_ == int(
        churn(shared_data)[["OrderCount", "CouponUsed", "DaySinceLastOrder"]].notna().all(1).sum()
    )


def test_a_categorical_driver_is_one_row(shared_data: Path) -> None:
    kda = KeyDriverAnalysis().fit(
        churn(shared_data), "OrderCount", ["PreferedOrderCat", "CouponUsed"]
    )
    assert sorted(kda.drivers_) == ["CouponUsed", "PreferedOrderCat"]
    assert len(kda.importance_) == 2
    assert np.isclose(kda.share_.sum(), 1.0)


def test_relative_weights_beyond_fifteen_drivers() -> None:
    rng = np.random.default_rng(7)
    frame = pd.DataFrame(rng.normal(size=(300, 17)), columns=[f"d{i}" for i in range(17)])
    frame["score"] = frame.d0 * 2 + frame.d1 + rng.normal(size=300)
    kda = KeyDriverAnalysis().fit(frame, "score")
    assert kda.method_ == "relative_weights"
    assert kda.to_frame().driver.tolist()[:2] == ["d0", "d1"]
