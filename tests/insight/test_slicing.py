"""Slicing by period, seller, category, region and channel."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from types import SimpleNamespace

import pandas as pd
import pytest

from manyi.insight.errors import InsightError
from manyi.insight.ratings import rating_summary
from manyi.insight.slicing import as_number, key_columns, parse_by
from manyi.insight.sources import Source


def test_parse_by_validates_names() -> None:
    assert parse_by(None) == ()
    assert parse_by("week") == ("week",)
    assert key_columns(["month", "seller", "channel"]) == ["period", "seller_id", "channel"]
    with pytest.raises(InsightError, match=r"cannot slice by \['colour'\]"):
        parse_by(["colour"])
    with pytest.raises(InsightError, match="at most one period"):
        parse_by(["day", "month"])


def test_every_dimension_on_a_small_shop(
    make_source: Callable[..., Source], helpers: SimpleNamespace
) -> None:
    # given two orders: o1 from seller S1 (category toys) and S2 (books), o2 from S1 only
    orders = [helpers.order("o1", "c1", "2024-01-01"), helpers.order("o2", "c2", "2024-01-09")]
    items = [
        {
            "order_id": "o1",
            "line_no": 1,
            "product_id": "p1",
            "seller_id": "S1",
            "price": 1.0,
            "freight": 0.0,
        },
        {
            "order_id": "o1",
            "line_no": 2,
            "product_id": "p2",
            "seller_id": "S2",
            "price": 1.0,
            "freight": 0.0,
        },
        {
            "order_id": "o2",
            "line_no": 1,
            "product_id": "p1",
            "seller_id": "S1",
            "price": 1.0,
            "freight": 0.0,
        },
    ]
    products = [{"product_id": "p1", "category": "toys"}, {"product_id": "p2", "category": "books"}]
    customers = [{"customer_id": "c1", "region": "SP"}, {"customer_id": "c2", "region": "RJ"}]
    reviews = [
        helpers.review("r1", "o1", 5, "2024-01-05"),
        helpers.review("r2", "o2", 1, "2024-01-10"),
    ]
    src = make_source(
        orders=orders, order_items=items, products=products, customers=customers, reviews=reviews
    )
    # then an order counts once for each of its sellers and categories
    by_seller = rating_summary(src, by="seller").set_index("seller_id")
    assert by_seller["n"].to_dict() == {"S1": 2, "S2": 1}
    assert by_seller.loc["S1", "mean"] == 3.0
    by_cat = rating_summary(src, by="category").set_index("category")
    assert by_cat["n"].to_dict() == {"books": 1, "toys": 2}
    by_region = rating_summary(src, by="region").set_index("region")
    assert by_region["mean"].to_dict() == {"RJ": 1.0, "SP": 5.0}
    assert rating_summary(src, by="channel").iloc[0]["channel"] == "shop"
    # and weeks start on Monday: 5 Jan 2024 (Fri) in the week of 1 Jan, 10 Jan in the next
    weeks = rating_summary(src, by="week")
    assert [pd.Timestamp(p).date() for p in weeks["period"]] == [date(2024, 1, 1), date(2024, 1, 8)]
    days = rating_summary(src, by=["day", "region"])
    assert len(days) == 2


def test_as_number_treats_sql_null_as_zero() -> None:
    assert as_number(None) == 0.0
    assert as_number(float("nan")) == 0.0
    assert as_number(pd.NA) == 0.0
    assert as_number(3) == 3.0
