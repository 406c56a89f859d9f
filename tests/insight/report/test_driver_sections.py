# ruff: noqa: N806  (X is the notation of the regression)
"""The key-driver section: shares add up to an independently fitted R², the churn part, edges."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest
from sklearn.linear_model import LogisticRegression

from manyi.insight.rating_drivers import rating_driver_rows
from manyi.insight.report.driver_sections import DRIVERS, compute_drivers, render_drivers
from manyi.insight.report.section import NoData, ReportContext
from manyi.insight.sources import Source


@pytest.fixture(scope="module")
def data(bundled: Source) -> dict[str, Any]:
    out = compute_drivers(ReportContext(src=bundled))
    assert out is not None
    return out


def ols_fit(frame: pd.DataFrame) -> tuple[float, dict[str, float]]:
    """R² and coefficients of rating on the drivers (category as dummies), by least squares."""
    X = pd.get_dummies(frame.drop(columns="rating"), columns=["category"], drop_first=True)
    design = np.column_stack([np.ones(len(X)), X.to_numpy(dtype=float)])
    y = frame["rating"].to_numpy(dtype=float)
    beta = np.linalg.lstsq(design, y, rcond=None)[0]
    residual = y - design @ beta
    r2 = 1 - residual @ residual / ((y - y.mean()) @ (y - y.mean()))
    return float(r2), dict(zip(X.columns, beta[1:], strict=True))


def test_lmg_parts_add_up_to_the_r2_of_a_least_squares_fit(
    data: dict[str, Any], bundled: Source
) -> None:
    # given the same rows fitted by plain least squares
    frame = rating_driver_rows(bundled).frame
    frame["price"] = np.log2(1 + frame["price"])
    r2, coef = ols_fit(frame.dropna())
    rating = data["rating"]
    rows = {d["driver"]: d for d in rating["drivers"]}
    # then the LMG parts and the relative weights add up to that R², the ordinal parts to theirs
    assert rating["r2"] == pytest.approx(r2, rel=1e-9)
    assert sum(d["lmg"] for d in rows.values()) == pytest.approx(r2, rel=1e-9)
    assert sum(d["relative_weight"] for d in rows.values()) == pytest.approx(r2, rel=1e-9)
    assert sum(d["ordinal"] for d in rows.values()) == pytest.approx(rating["pseudo_r2"])
    assert sum(d["lmg_share"] for d in rows.values()) == pytest.approx(1.0)
    # and the effects are the least-squares coefficients in their units
    assert rows["late"]["effect"] == pytest.approx(coef["late"], rel=1e-9)
    assert rows["freight_share"]["effect"] == pytest.approx(0.1 * coef["freight_share"], rel=1e-9)
    assert rows["category"]["effect"] is None
    # late delivery leads on both the linear and the ordinal scale, and hurts the rating
    assert rating["drivers"][0]["driver"] == "late"
    assert max(rows.values(), key=lambda d: d["ordinal"])["driver"] == "late"
    assert rows["late"]["effect"] < -1
    for d in rows.values():
        assert d["lmg_low"] <= d["lmg_high"]
    assert rating["sampled"] is False
    assert rating["reviews"] == len(frame.dropna())
    assert {c["category"] for c in rating["categories"]} == set(frame["category"].dropna())


def test_without_a_churn_file_the_section_says_so(data: dict[str, Any]) -> None:
    assert data["churn"] is None
    assert "--churn-file" in data["churn_reason"]["en"]
    assert json.loads(json.dumps(data, allow_nan=False)) == data


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_render_gives_valid_charts_and_findings(data: dict[str, Any], lang: str) -> None:
    blocks = render_drivers(data, lang)
    assert len(blocks) == 1
    go.Figure(blocks[0].figure)
    assert ("Late delivery carries" if lang == "en" else "其中延迟送达占") in blocks[0].finding


@pytest.mark.slow
def test_churn_drivers_with_the_churn_file(bundled: Source, shared_data: Path) -> None:
    path = shared_data / "ecommerce_churn" / "ecommerce_customer_churn.csv.gz"
    out = compute_drivers(ReportContext(src=bundled, churn_path=path))
    assert out is not None
    churn = out["churn"]
    frame = pd.read_csv(path)
    names = ["SatisfactionScore", "Complain", "Tenure", "DaySinceLastOrder"]
    complete = frame[["Churn", *names]].dropna()
    assert churn["rows"] == len(complete)
    assert [d["driver"] for d in churn["drivers"]][:2] == ["Tenure", "Complain"]
    assert sum(d["share"] for d in churn["drivers"]) == pytest.approx(1.0)
    # the pseudo-R² is McFadden's from an independent (scikit-learn) fit
    X, y = complete[names].to_numpy(float), complete["Churn"].to_numpy(float)
    p = LogisticRegression(C=np.inf, max_iter=5000, tol=1e-10).fit(X, y).predict_proba(X)[:, 1]
    full = np.sum(y * np.log(p) + (1 - y) * np.log(1 - p))
    null = np.sum(y * np.log(y.mean()) + (1 - y) * np.log(1 - y.mean()))
    assert churn["pseudo_r2"] == pytest.approx(1 - full / null, abs=1e-4)
    complaint = next(d for d in churn["drivers"] if d["driver"] == "Complain")
    assert complaint["correlation"] > 0  # complaints go with more churn
    blocks = render_drivers(out, "en")
    assert len(blocks) == 2
    assert "complaints carry" in blocks[1].finding


@pytest.mark.slow
def test_the_15k_sample_is_capped_as_asked(olist: Source) -> None:
    out = compute_drivers(ReportContext(src=olist, options={"drivers_max_orders": 4000}))
    assert out is not None
    rating = out["rating"]
    assert rating["sampled"] is True
    assert rating["max_orders"] == 4000
    assert rating["orders"] > 14_000
    assert 3900 <= rating["rated_orders"] <= 4000
    assert rating["rated_orders"] <= rating["reviews"] <= rating["rated_orders"] + 40
    assert rating["drivers"][0]["driver"] == "late"


def test_tiny_data_says_why(make_source: Callable[..., Source], helpers: SimpleNamespace) -> None:
    o, r = helpers.order, helpers.review
    src = make_source(
        orders=[
            o(
                "o1",
                "c1",
                "2024-01-01",
                delivered_at="2024-01-04",
                estimated_delivery_at="2024-01-05",
            )
        ],
        reviews=[r("r1", "o1", 5, "2024-01-06")],
    )
    with pytest.raises(NoData) as why:
        DRIVERS.compute(ReportContext(src=src))
    assert "Too few rated, delivered orders" in why.value.reason["en"]
    assert "驱动因素" in why.value.reason["zh"]
