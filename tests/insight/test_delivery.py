"""Delivery vs satisfaction: checked against plain pandas on the Olist files, and edge cases."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest

from manyi.insight.delivery import delivery_vs_rating, late_share_by
from manyi.insight.sources import Source


def _pandas_late(olist_dir: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    # Olist's dates are São Paulo wall time, so the calendar dates are read straight off the file.
    orders = pd.read_csv(olist_dir / "olist_orders_dataset.csv.gz")
    orders = orders.dropna(
        subset=["order_delivered_customer_date", "order_estimated_delivery_date"]
    )
    delivered = pd.to_datetime(orders["order_delivered_customer_date"]).dt.normalize()
    promised = pd.to_datetime(orders["order_estimated_delivery_date"]).dt.normalize()
    orders = orders.assign(late=delivered > promised, days=(delivered - promised).dt.days)
    reviews = pd.read_csv(olist_dir / "olist_order_reviews_dataset.csv.gz")
    return orders, reviews.merge(orders[["order_id", "late", "days"]], on="order_id")


def test_late_share_and_means_equal_pandas_on_olist(olist: Source, olist_dir: Path) -> None:
    # given the late flag and the ratings computed with plain pandas on the raw files
    orders, rated = _pandas_late(olist_dir)
    # when the engine computes delivery vs rating
    got = delivery_vs_rating(olist)
    # then late share, on-time and late mean rating and 1–2★ shares are the same
    assert got.late_share.n == len(orders)
    assert got.late_share.value == pytest.approx(orders["late"].mean(), rel=1e-12)
    on_time, late = rated[~rated["late"]], rated[rated["late"]]
    assert got.on_time_mean.n == len(on_time)
    assert got.on_time_mean.value == pytest.approx(on_time["review_score"].mean(), rel=1e-12)
    assert got.late_mean.value == pytest.approx(late["review_score"].mean(), rel=1e-12)
    assert got.late_bad_share.value == pytest.approx((late["review_score"] <= 2).mean(), rel=1e-12)
    assert got.mean_gap.value == pytest.approx(
        late["review_score"].mean() - on_time["review_score"].mean(), rel=1e-12
    )


def test_days_late_buckets_equal_pandas_on_olist(olist: Source, olist_dir: Path) -> None:
    _, rated = _pandas_late(olist_dir)
    buckets = delivery_vs_rating(olist).buckets.set_index("bucket")
    in_4_7 = rated[(rated["days"] >= 4) & (rated["days"] <= 7)]
    assert buckets.loc["4-7", "n"] == len(in_4_7)
    assert buckets.loc["4-7", "mean"] == pytest.approx(in_4_7["review_score"].mean(), rel=1e-12)
    assert buckets.loc["15+", "n"] == (rated["days"] >= 15).sum()
    assert buckets["n"].sum() == len(rated)


def test_late_share_by_month_adds_up(olist: Source) -> None:
    monthly = late_share_by(olist, "month")
    overall = delivery_vs_rating(olist).late_share
    assert monthly["orders"].sum() == overall.n
    assert monthly["late"].sum() == round(overall.value * overall.n)


def test_late_is_judged_on_local_dates(
    make_source: Callable[..., Source], helpers: SimpleNamespace
) -> None:
    # given an order promised for 10 Jan (03:00 UTC = midnight São Paulo) and delivered at
    # 01:00 UTC on 11 Jan, which is 22:00 on 10 Jan in São Paulo
    o = helpers.order(
        "o1",
        "c1",
        "2024-01-01",
        delivered_at="2024-01-11 01:00",
        estimated_delivery_at="2024-01-10 03:00",
    )
    src = make_source(
        timezone="America/Sao_Paulo",
        orders=[o],
        reviews=[helpers.review("r1", "o1", 5, "2024-01-12")],
    )
    utc = make_source(orders=[o], reviews=[helpers.review("r1", "o1", 5, "2024-01-12")])
    # then it is on time for the shop in São Paulo, and late for a shop on UTC
    assert delivery_vs_rating(src).late_share.value == 0.0
    assert delivery_vs_rating(utc).late_share.value == 1.0


def test_no_delivered_orders(make_source: Callable[..., Source], helpers: SimpleNamespace) -> None:
    # given an order without delivery date (missing values) and nothing else
    src = make_source(orders=[helpers.order("o1", "c1", "2024-01-01")], reviews=[])
    got = delivery_vs_rating(src)
    assert (got.late_share.value, got.late_share.n) == (None, 0)
    assert got.late_mean.value is None
    assert got.on_time_mean.value is None
    assert list(got.buckets["n"]) == [0, 0, 0, 0, 0]


def test_one_late_order_and_all_on_time(
    make_source: Callable[..., Source], helpers: SimpleNamespace
) -> None:
    late = helpers.order(
        "o1", "c1", "2024-01-01", delivered_at="2024-01-15", estimated_delivery_at="2024-01-10"
    )
    src = make_source(orders=[late], reviews=[helpers.review("r1", "o1", 1, "2024-01-16")])
    got = delivery_vs_rating(src)
    assert (got.late_share.value, got.late_mean.value, got.late_mean.low) == (1.0, 1.0, None)
    assert got.buckets.set_index("bucket").loc["4-7", "n"] == 1  # 5 days late
    on_time = [
        helpers.order(
            f"o{i}",
            "c1",
            "2024-01-01",
            delivered_at="2024-01-05",
            estimated_delivery_at="2024-01-10",
        )
        for i in range(3)
    ]
    src = make_source(
        orders=on_time,
        reviews=[helpers.review(f"r{i}", f"o{i}", 4, "2024-01-06") for i in range(3)],
    )
    got = delivery_vs_rating(src)
    assert (got.late_share.value, got.on_time_mean.value, got.on_time_mean.low) == (0.0, 4.0, 4.0)
    assert got.late_mean.value is None
