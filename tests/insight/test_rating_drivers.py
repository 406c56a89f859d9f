"""Rating-driver rows: every column recomputed with pandas on the Olist files."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from manyi.insight.rating_drivers import rating_driver_rows
from manyi.insight.sources import Source


def pandas_rows(folder: Path, top: int = 10) -> pd.DataFrame:
    """Reviews of delivered orders with their drivers, written with plain pandas."""
    orders = pd.read_csv(folder / "olist_orders_dataset.csv.gz")
    reviews = pd.read_csv(folder / "olist_order_reviews_dataset.csv.gz")
    items = pd.read_csv(folder / "olist_order_items_dataset.csv.gz")
    products = pd.read_csv(folder / "olist_products_dataset.csv.gz")
    orders = orders.dropna(
        subset=["order_delivered_customer_date", "order_estimated_delivery_date"]
    )
    bought = pd.to_datetime(orders["order_purchase_timestamp"])
    came = pd.to_datetime(orders["order_delivered_customer_date"])
    promised = pd.to_datetime(orders["order_estimated_delivery_date"])
    orders["late"] = (came.dt.normalize() > promised.dt.normalize()).astype(float)
    # wall-clock São Paulo times: a DST change in between moves this by an hour at most
    orders["delivery_days"] = (came - bought).dt.total_seconds() / 86_400
    sums = items.groupby("order_id").agg(
        price=("price", "sum"), freight=("freight_value", "sum"), items=("order_item_id", "size")
    )
    lines = items.merge(
        products[["product_id", "product_category_name"]], on="product_id", how="left"
    )
    lines = lines.sort_values(["order_id", "price", "order_item_id"], ascending=[True, False, True])
    main = lines.drop_duplicates("order_id").set_index("order_id")["product_category_name"]
    frame = reviews.merge(orders, on="order_id").join(sums, on="order_id")
    frame["category"] = frame["order_id"].map(main)
    frame["freight_share"] = frame["freight"] / (frame["price"] + frame["freight"])
    counts = frame["category"].value_counts()
    kept = sorted(counts.index, key=lambda c: (-counts[c], c))[:top]
    frame["category"] = frame["category"].where(frame["category"].isin(kept), "other")
    return frame.rename(columns={"review_score": "rating"})


def test_rows_equal_pandas_on_the_bundled_sample(bundled: Source, bundled_dir: Path) -> None:
    # given the rows computed with pandas from the raw files
    expected = pandas_rows(bundled_dir)
    # when the engine builds them without a cap
    rows = rating_driver_rows(bundled, max_orders=1_000_000)
    got = rows.frame
    # then the counts, the late share, prices, items and categories agree
    delivered = pd.read_csv(bundled_dir / "olist_orders_dataset.csv.gz").dropna(
        subset=["order_delivered_customer_date", "order_estimated_delivery_date"]
    )
    assert rows.orders == len(delivered) == rows.sampled_orders
    assert rows.rated_orders == expected["order_id"].nunique()
    assert len(got) == len(expected)
    assert got["rating"].mean() == pytest.approx(expected["rating"].mean(), rel=1e-12)
    assert got["late"].mean() == pytest.approx(expected["late"].mean(), rel=1e-12)
    assert got["price"].sum() == pytest.approx(expected["price"].sum(), rel=1e-9)
    assert got["items"].sum() == expected["items"].sum()
    assert got["freight_share"].mean() == pytest.approx(expected["freight_share"].mean(), rel=1e-9)
    assert got["delivery_days"].mean() == pytest.approx(expected["delivery_days"].mean(), rel=1e-3)
    assert got["category"].value_counts().to_dict() == expected["category"].value_counts().to_dict()
    assert len(rows.categories) == 10


def test_the_cap_takes_the_same_orders_every_time(bundled: Source) -> None:
    a = rating_driver_rows(bundled, max_orders=300)
    b = rating_driver_rows(bundled, max_orders=300)
    assert a.sampled_orders == 300
    assert a.orders > 300
    assert a.rated_orders <= 300
    assert a.rated_orders - 10 <= len(a.frame) <= a.rated_orders + 10  # one or two reviews
    pd.testing.assert_frame_equal(a.frame, b.frame)


def test_without_items_and_products_the_item_drivers_are_empty(
    make_source: Callable[..., Source], helpers: SimpleNamespace
) -> None:
    # given two delivered orders (one late) with reviews and no order lines
    o, r = helpers.order, helpers.review
    src = make_source(
        orders=[
            o(
                "o1",
                "c1",
                "2024-01-01",
                delivered_at="2024-01-05",
                estimated_delivery_at="2024-01-06",
                item_total=80.0,
                freight_total=20.0,
            ),
            o(
                "o2",
                "c2",
                "2024-01-01",
                delivered_at="2024-01-09",
                estimated_delivery_at="2024-01-06",
                item_total=50.0,
                freight_total=0.0,
            ),
        ],
        reviews=[r("r1", "o1", 5, "2024-01-07"), r("r2", "o2", 1, "2024-01-10")],
    )
    rows = rating_driver_rows(src)
    frame = rows.frame.sort_values("rating").reset_index(drop=True)
    assert frame["late"].tolist() == [1.0, 0.0]
    assert frame["delivery_days"].tolist() == [8.0, 4.0]
    assert frame["freight_share"].tolist() == [0.0, 0.2]
    assert frame["items"].isna().all()
    assert frame["category"].isna().all()
    assert rows.categories == ()
    assert np.isfinite(frame["price"]).all()
