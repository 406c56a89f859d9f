"""The rows a key-driver analysis of the review rating needs: one per review of a delivered order.

Each review of a delivered order (see :func:`manyi.insight.delivery.delivered_orders`) gets its
order's

* ``delivery_days`` — purchase to delivery, in days (fractional);
* ``late`` — 1 when delivered after the promised date (shop-local calendar dates), else 0;
* ``freight_share`` — ``freight_total / (item_total + freight_total)`` (null when both are 0);
* ``price`` — ``item_total``, the order's goods value;
* ``items`` — the order's number of lines (null without ``order_items``);
* ``category`` — the category of its most expensive line (ties: lowest line number); only the
  ``top_categories`` most frequent categories keep their name, the rest (and lines without a
  category) are ``other`` (null without ``products``).

The engine picks the delivered orders (at most ``max_orders``, a deterministic hash sample:
see :mod:`manyi.insight.sampling`) before anything is joined; only the sample's ids come back,
and the drivers are computed for those orders alone.

Examples
--------
>>> from manyi.data.samples import sample_path
>>> from manyi.insight.sources import open_source
>>> from manyi.insight.rating_drivers import rating_driver_rows
>>> rows = rating_driver_rows(open_source(f"olist:{sample_path('olist')}"), max_orders=500)
>>> rows.orders, rows.sampled_orders, sorted(rows.frame.columns)[:4]
(2915, 500, ['category', 'delivery_days', 'freight_share', 'items'])
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

import ibis
import numpy as np
import pandas as pd

from manyi.insight.ratings import check_scale
from manyi.insight.sampling import hash_sample
from manyi.insight.slicing import between

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from manyi.insight.sources import Source

#: The drivers, in the order the report lists them.
RATING_DRIVERS = ("delivery_days", "late", "freight_share", "price", "items", "category")
DAY = 86_400.0


@dataclass(frozen=True)
class RatingDriverRows:
    """Review rows with their order's drivers.

    Attributes
    ----------
    frame
        ``rating`` and the columns of :data:`RATING_DRIVERS` (one row per review).
    orders
        Delivered orders in the period (before sampling).
    sampled_orders
        Orders drawn (``min(orders, max_orders)``).
    rated_orders
        Orders of the sample with a rating: those whose reviews are in ``frame``.
    max_orders
        The cap that was applied.
    categories
        The category names kept as levels (most frequent first); the rest are ``other``.
    """

    frame: pd.DataFrame
    orders: int
    sampled_orders: int
    rated_orders: int
    max_orders: int
    categories: tuple[str, ...]


def rating_driver_rows(
    src: Source,
    *,
    since: date | None = None,
    until: date | None = None,
    max_orders: int = 10_000,
    top_categories: int = 10,
) -> RatingDriverRows:
    """Reviews of (at most ``max_orders``) delivered orders with their drivers.

    Parameters
    ----------
    src
        A source with ``orders`` and ``reviews`` (``order_items`` and ``products`` optional).
    since, until
        Shop-local purchase dates to keep (inclusive).
    max_orders
        Most orders to read (deterministic hash sample of the delivered, rated orders).
    top_categories
        Categories kept by name; the others are pooled as ``other``.
    """
    reviews = src.table("reviews")
    check_scale(src, reviews, "rating", 1, 5, what="reviews.rating")
    orders = src.table("orders")
    delivered = orders.filter(
        orders.delivered_at.notnull()
        & orders.estimated_delivery_at.notnull()
        & between(src, orders.purchased_at, since, until)
    ).select(
        "order_id",
        "purchased_at",
        "delivered_at",
        "estimated_delivery_at",
        price=orders.item_total,
        freight=orders.freight_total,
    )
    # The sample is drawn from the delivered orders alone, carrying the few columns it needs:
    # joining the reviews first, or reading the orders again, would cost more passes over the
    # largest tables on ten million orders. Orders of the sample without a rating have no row.
    total = int(src.execute(delivered.count()))
    sample = src.execute(hash_sample(delivered, "order_id", max_orders, engine=src.engine))
    sample["order_id"] = sample["order_id"].astype(str)
    chosen = ibis.memtable(sample)
    # "late" as in manyi.insight.delivery: the shop-local delivery date after the promised one.
    picked = chosen.select(
        "order_id",
        late=(
            src.local_date(chosen.delivered_at) > src.local_date(chosen.estimated_delivery_at)
        ).cast("int64"),
        delivery_days=(chosen.delivered_at.epoch_seconds() - chosen.purchased_at.epoch_seconds())
        / DAY,
        price=chosen.price.cast("float64"),
        freight=chosen.freight.cast("float64"),
    )
    has_items = src.has("order_items")
    if has_items:
        items = src.table("order_items").join(picked.select("order_id"), "order_id")
        counts = items.group_by("order_id").aggregate(items=items.count())
        picked = _left_join(picked, counts)
        if src.has("products"):
            products = src.table("products").select("product_id", "category")
            lines = items.join(products, "product_id", how="left")
            rank = ibis.row_number().over(
                group_by=lines.order_id,
                order_by=[lines.price.desc(), lines.line_no, lines.product_id],
            )
            main = lines.mutate(rank=rank)
            main = main.filter(main["rank"] == 0).select("order_id", main_category=main.category)
            picked = _left_join(picked, main)
    rows = reviews.filter(reviews.rating.notnull()).select("order_id", "rating")
    rows = rows.join(picked, "order_id")
    frame: pd.DataFrame = src.execute(rows)
    # Engines return rows in no fixed order; a fixed order keeps the bootstrap reproducible.
    frame = frame.sort_values(["order_id", "rating"], kind="stable", ignore_index=True)
    out = pd.DataFrame(
        {
            "rating": frame["rating"].astype("float64"),
            "delivery_days": frame["delivery_days"].astype("float64"),
            "late": frame["late"].astype("float64"),
        }
    )
    price = frame["price"].astype("float64")
    freight = frame["freight"].astype("float64")
    paid = price.fillna(0) + freight.fillna(0)
    out["freight_share"] = (freight.fillna(0) / paid).where(paid > 0)
    out["price"] = price
    out["items"] = frame["items"].astype("float64") if has_items else np.nan
    kept: tuple[str, ...] = ()
    if "main_category" in frame.columns:
        named = frame["main_category"].astype("object").where(frame["main_category"].notna())
        counts = named.value_counts()
        ranked = sorted(counts.items(), key=lambda item: (-item[1], str(item[0])))
        kept = tuple(str(c) for c, _ in ranked[:top_categories])
        out["category"] = named.where(named.isin(kept), "other").astype("object")
    else:
        out["category"] = None
    return RatingDriverRows(
        frame=out,
        orders=total,
        sampled_orders=min(total, max_orders),
        rated_orders=int(frame["order_id"].nunique()),
        max_orders=max_orders,
        categories=kept,
    )


def _left_join(left: ir.Table, right: ir.Table) -> ir.Table:
    """``left`` with the other columns of ``right`` matched on ``order_id`` (null if none)."""
    joined = left.join(right, left.order_id == right.order_id, how="left")
    return joined.select(left, *[joined[c] for c in right.columns if c != "order_id"])
