"""Retention curves by first-order rating: by hand and against pandas on Olist."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest

from manyi.insight.cohorts import retention_by_first_rating
from manyi.insight.sources import Source


def test_retention_by_hand(make_source: Callable[..., Source], helpers: SimpleNamespace) -> None:
    # given, with the last purchase on 2024-07-19 (day 200):
    #   c1 (5★) orders on day 0 and day 40; c2 (5★) on day 0 only; c3 (1★) on day 150 only
    o = helpers.order
    orders = [
        o("a", "c1", "2024-01-01"),
        o("b", "c1", "2024-02-10"),
        o("c", "c2", "2024-01-01"),
        o("d", "c3", "2024-05-30"),
        o("e", "c4", "2024-07-19"),
    ]
    reviews = [
        helpers.review("r1", "a", 5, "2024-01-03"),
        helpers.review("r2", "c", 5, "2024-01-03"),
        helpers.review("r3", "d", 1, "2024-06-01"),
    ]
    src = make_source(orders=orders, reviews=reviews)
    curves = retention_by_first_rating(src, months=6).set_index(["tier", "month"])
    # then at month 1 (30 days) nobody in 4–5★ is back; at month 2 (60 days) c1 is: 1 of 2
    assert (curves.loc[("4-5", 1), "eligible"], curves.loc[("4-5", 1), "retained"]) == (2, 0)
    assert curves.loc[("4-5", 2), "rate"] == 0.5
    # c3 was first seen 50 days before the end: eligible at month 1 only
    assert curves.loc[("1-2", 1), "eligible"] == 1
    assert curves.loc[("1-2", 2), "eligible"] == 0
    assert pd.isna(curves.loc[("1-2", 2), "rate"])


def test_retention_eligibility_matches_pandas_on_olist(olist: Source, olist_dir: Path) -> None:
    # given first-purchase times per person computed with pandas
    orders = pd.read_csv(olist_dir / "olist_orders_dataset.csv.gz")
    people = pd.read_csv(olist_dir / "olist_customers_dataset.csv.gz")
    orders = orders[~orders["order_status"].isin(["canceled", "unavailable"])]
    orders = orders.merge(people, on="customer_id")
    local = pd.to_datetime(orders["order_purchase_timestamp"])
    times = local.dt.tz_localize("America/Sao_Paulo", nonexistent="shift_forward", ambiguous=True)
    first = times.groupby(orders["customer_unique_id"]).min()
    end = times.max()
    # when the engine computes 3-month curves
    curves = retention_by_first_rating(olist, months=3)
    # then eligible customers at month 3 are those first seen 90 days before the last purchase
    eligible = curves[curves["month"] == 3]["eligible"].sum()
    assert eligible == (first <= end - pd.Timedelta(days=90)).sum()


def test_retention_rejects_zero_months(olist: Source) -> None:
    with pytest.raises(ValueError, match="at least 1"):
        retention_by_first_rating(olist, months=0)
