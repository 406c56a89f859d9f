"""Churn by satisfaction and complaint on the real e-commerce churn file."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from manyi.insight.churn import churn_by, churn_model, read_ecommerce_churn
from manyi.insight.errors import InsightError, ScaleError


@pytest.fixture(scope="module")
def churn_file(shared_data: Path) -> Path:
    return shared_data / "ecommerce_churn" / "ecommerce_customer_churn.csv.gz"


def test_churn_by_satisfaction_equals_pandas(churn_file: Path) -> None:
    raw = pd.read_csv(churn_file)
    got = churn_by(read_ecommerce_churn(churn_file), "SatisfactionScore").set_index("level")
    expected = raw.groupby("SatisfactionScore")["Churn"].agg(["size", "mean"])
    assert list(got.index) == [1, 2, 3, 4, 5]
    assert got["customers"].tolist() == expected["size"].tolist()
    assert got["churn_rate"].tolist() == pytest.approx(expected["mean"].tolist(), rel=1e-12)
    orders = raw.groupby("SatisfactionScore")["OrderCount"].mean()  # NaN left out, like ours
    assert got["orders_mean"].tolist() == pytest.approx(orders.tolist(), rel=1e-12)
    assert (got["order_n"] < got["customers"]).any()  # missing order counts are left out


def test_complaint_odds_ratio_equals_the_cross_ratio(churn_file: Path) -> None:
    # given the complaint-only model, its odds ratio is the 2×2 cross ratio
    frame = read_ecommerce_churn(churn_file)
    _, odds = churn_model(frame, features=["Complain"])
    table = pd.crosstab(frame["Complain"], frame["Churn"])
    cross = (table.loc[1, 1] * table.loc[0, 0]) / (table.loc[1, 0] * table.loc[0, 1])
    assert odds.iloc[0]["odds_ratio"] == pytest.approx(cross, rel=1e-9)
    se = math.sqrt((1 / table).to_numpy().sum())
    assert odds.iloc[0]["se"] == pytest.approx(se, rel=1e-9)


def test_default_model_has_both_terms(churn_file: Path) -> None:
    model, odds = churn_model(read_ecommerce_churn(churn_file))
    assert odds["term"].tolist() == ["SatisfactionScore", "Complain"]
    assert (odds["low"] < odds["odds_ratio"]).all()
    assert (odds["odds_ratio"] < odds["high"]).all()
    assert model.n_obs_ == 5_630


def test_bad_files_are_rejected_naming_line_and_field(tmp_path: Path) -> None:
    bad = tmp_path / "churn.csv"
    bad.write_text("CustomerID,Churn,SatisfactionScore,Complain,OrderCount\n1,0,3,0,2\n2,1,7,0,1\n")
    with pytest.raises(ScaleError, match=r"churn.csv, line 3, field SatisfactionScore: 7"):
        read_ecommerce_churn(bad)
    short = tmp_path / "short.csv"
    short.write_text("CustomerID,Churn\n1,0\n")
    with pytest.raises(InsightError, match="missing column"):
        read_ecommerce_churn(short)
    with pytest.raises(InsightError, match="no such file"):
        read_ecommerce_churn(tmp_path / "none.csv")


def test_churn_by_one_row_and_unknown_column(tmp_path: Path) -> None:
    one = tmp_path / "one.csv"
    one.write_text("CustomerID,Churn,SatisfactionScore,Complain,OrderCount\n1,1,5,0,\n")
    got = churn_by(read_ecommerce_churn(one), "SatisfactionScore").iloc[0]
    assert (got["customers"], got["churn_rate"], got["order_n"]) == (1, 1.0, 0)
    assert got["orders_mean"] is None
    with pytest.raises(InsightError, match="no column 'Age'"):
        churn_by(read_ecommerce_churn(one), "Age")
