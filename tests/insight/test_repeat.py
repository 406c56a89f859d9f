"""Repeat purchase by first-order rating: pandas on the Olist files, and edge cases."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from manyi.insight.repeat import customer_summary, repeat_by_first_rating
from manyi.insight.sources import Source


def pandas_customers(olist_dir: Path) -> pd.DataFrame:
    """Per person: first-order tier, order count and revenue, written with plain pandas."""
    orders = pd.read_csv(olist_dir / "olist_orders_dataset.csv.gz")
    people = pd.read_csv(olist_dir / "olist_customers_dataset.csv.gz")
    items = pd.read_csv(olist_dir / "olist_order_items_dataset.csv.gz")
    reviews = pd.read_csv(olist_dir / "olist_order_reviews_dataset.csv.gz")
    orders = orders[~orders["order_status"].isin(["canceled", "unavailable"])]
    orders = orders.merge(people[["customer_id", "customer_unique_id"]], on="customer_id")
    revenue = items.assign(r=items["price"] + items["freight_value"]).groupby("order_id")["r"].sum()
    orders["revenue"] = orders["order_id"].map(revenue).fillna(0.0)
    rating = reviews.groupby("order_id")["review_score"].mean()
    orders["rating"] = orders["order_id"].map(rating)
    orders = orders.sort_values(["customer_unique_id", "order_purchase_timestamp", "order_id"])
    first = orders.drop_duplicates("customer_unique_id").set_index("customer_unique_id")
    tier = np.select(
        [first["rating"].isna(), first["rating"] <= 2.5, first["rating"] < 3.5],
        ["unrated", "1-2", "3"],
        "4-5",
    )
    per = orders.groupby("customer_unique_id").agg(n=("order_id", "size"), rev=("revenue", "sum"))
    per["tier"] = pd.Series(tier, index=first.index)
    return per


def test_tiers_equal_pandas_on_olist(olist: Source, olist_dir: Path) -> None:
    # given the per-person figures computed with pandas on the raw files
    per = pandas_customers(olist_dir)
    # when the engine computes them
    got = repeat_by_first_rating(olist).set_index("tier")
    # then customers, repeaters and revenue per customer agree for every tier
    for tier in ("1-2", "3", "4-5", "unrated"):
        part = per[per["tier"] == tier]
        assert got.loc[tier, "customers"] == len(part), tier
        assert got.loc[tier, "repeaters"] == (part["n"] >= 2).sum(), tier
        assert got.loc[tier, "orders_per_customer"] == pytest.approx(part["n"].mean(), rel=1e-9)
        assert got.loc[tier, "revenue_per_customer"] == pytest.approx(part["rev"].mean(), rel=1e-9)
    assert got["customers"].sum() == len(per)


def test_horizon_counts_only_orders_soon_after_the_first(
    make_source: Callable[..., Source], helpers: SimpleNamespace
) -> None:
    # given c1 ordering on day 0 and day 100, c2 on day 0 and day 20, c3 once on day 150
    o = helpers.order
    orders = [
        o("a", "c1", "2024-01-01"),
        o("b", "c1", "2024-04-10"),
        o("c", "c2", "2024-01-01"),
        o("d", "c2", "2024-01-21"),
        o("e", "c3", "2024-05-30"),
    ]
    reviews = [
        helpers.review("r1", "a", 5, "2024-01-05"),
        helpers.review("r2", "c", 1, "2024-01-05"),
        helpers.review("r3", "e", 3, "2024-06-01"),
    ]
    src = make_source(orders=orders, reviews=reviews)
    # when repeat purchase is counted within 30 days
    got = repeat_by_first_rating(src, horizon_days=30).set_index("tier")
    # then c1's return after 100 days does not count, c2's after 20 does, and c3 (first seen
    # less than 30 days before the last purchase) is left out
    assert (got.loc["4-5", "customers"], got.loc["4-5", "repeaters"]) == (1, 0)
    assert (got.loc["1-2", "customers"], got.loc["1-2", "repeaters"]) == (1, 1)
    assert got.loc["3", "customers"] == 0
    everything = repeat_by_first_rating(src).set_index("tier")
    assert everything.loc["4-5", "repeaters"] == 1
    assert everything.loc["4-5", "revenue_per_customer"] == 20.0


def test_canceled_orders_do_not_count_and_empty_tiers_have_no_rate(
    make_source: Callable[..., Source], helpers: SimpleNamespace
) -> None:
    o = helpers.order
    orders = [o("a", "c1", "2024-01-01"), o("b", "c1", "2024-02-01", status="canceled")]
    src = make_source(orders=orders, reviews=[helpers.review("r1", "a", 4, "2024-01-05")])
    got = repeat_by_first_rating(src).set_index("tier")
    assert (got.loc["4-5", "customers"], got.loc["4-5", "repeaters"]) == (1, 0)
    assert got.loc["4-5", "repeat_rate_high"] == pytest.approx(3.8415 / 4.8415, abs=1e-4)
    assert got.loc["1-2", "customers"] == 0
    assert pd.isna(got.loc["1-2", "repeat_rate"])


def test_no_orders(make_source: Callable[..., Source]) -> None:
    got = repeat_by_first_rating(make_source(orders=[], reviews=[]))
    assert list(got["customers"]) == [0, 0, 0, 0]


def test_ties_in_time_go_to_the_smaller_order_id_first_and_the_larger_last(
    make_source: Callable[..., Source], helpers: SimpleNamespace
) -> None:
    # given c1's two orders placed at the same second: "a" rated 1★, "b" rated 5★
    o = helpers.order
    orders = [o("b", "c1", "2024-01-01"), o("a", "c1", "2024-01-01")]
    reviews = [
        helpers.review("r1", "a", 1, "2024-01-05"),
        helpers.review("r2", "b", 5, "2024-01-05"),
    ]
    src = make_source(orders=orders, reviews=reviews)
    # when the per-customer summary is read
    row = src.execute(customer_summary(src)).iloc[0]
    # then the first order is "a" (its tier) and the last rated one is "b" (its rating)
    assert (row["tier"], row["orders"], row["last_rating"]) == ("1-2", 2, 5.0)
    assert row["second_s"] == row["first_s"]
