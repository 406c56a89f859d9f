"""Delivery against satisfaction: do late orders get worse ratings?

An order is *delivered* when it has both ``delivered_at`` and ``estimated_delivery_at``; it is
*late* when its delivery date is after its estimated delivery date, both taken as calendar dates
in the shop's zone (a parcel delivered at 22:00 on the promised day is on time). Ratings are the
review rows of delivered orders (an order rated twice counts twice, as the buyer spoke twice).

Examples
--------
>>> from manyi.data.samples import sample_path
>>> from manyi.insight.sources import open_source
>>> src = open_source(f"olist:{sample_path('olist')}")   # the bundled 3,000-order sample
>>> from manyi.insight.delivery import delivery_vs_rating
>>> d = delivery_vs_rating(src)
>>> round(d.late_share.value, 3), round(d.late_mean.value, 1), round(d.on_time_mean.value, 1)
(0.076, 2.3, 4.3)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

import ibis
import pandas as pd

from manyi.insight.intervals import (
    Estimate,
    mean_difference,
    mean_estimate,
    proportion,
    sample_sd,
)
from manyi.insight.ratings import check_scale
from manyi.insight.slicing import (
    add_dimensions,
    as_number,
    between,
    key_columns,
    parse_by,
    run_grouped,
)

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from manyi.insight.sources import Source

#: Days-late buckets: (label, lowest days late, highest days late or None for open).
DAYS_LATE_BUCKETS: tuple[tuple[str, int, int | None], ...] = (
    ("on_time", -10_000, 0),
    ("1-3", 1, 3),
    ("4-7", 4, 7),
    ("8-14", 8, 14),
    ("15+", 15, None),
)


@dataclass(frozen=True)
class DeliveryRating:
    """Late share and ratings of on-time and late orders.

    Attributes
    ----------
    late_share
        Share of delivered orders that were late (Wilson 95 %), n = delivered orders.
    on_time_mean, late_mean
        Mean rating of reviews of on-time / late orders (t 95 %).
    on_time_bad_share, late_bad_share
        Share of those reviews with 1–2★ (Wilson 95 %).
    mean_gap
        ``late_mean - on_time_mean`` with a Welch-normal 95 % interval.
    buckets
        One row per days-late bucket: ``bucket``, ``orders``, ``n``, ``mean``, ``mean_low``,
        ``mean_high``, ``bad_share``, ``bad_share_low``, ``bad_share_high``.
    """

    late_share: Estimate
    on_time_mean: Estimate
    late_mean: Estimate
    on_time_bad_share: Estimate
    late_bad_share: Estimate
    mean_gap: Estimate
    buckets: pd.DataFrame


def delivered_orders(
    src: Source, *, since: date | None = None, until: date | None = None
) -> ir.Table:
    """Delivered orders (purchased in [since, until]) with ``late`` and ``days_late``."""
    orders = src.table("orders")
    orders = orders.filter(
        orders.delivered_at.notnull()
        & orders.estimated_delivery_at.notnull()
        & between(src, orders.purchased_at, since, until)
    )
    delivered = src.local_date(orders.delivered_at)
    promised = src.local_date(orders.estimated_delivery_at)
    days_late = delivered.delta(promised, unit="day")
    return orders.mutate(late=delivered > promised, days_late=days_late)


def _bucket(days_late: ir.IntegerValue) -> ir.StringValue:
    branches = []
    for label, low, high in DAYS_LATE_BUCKETS:
        cond = days_late >= low if high is None else (days_late >= low) & (days_late <= high)
        branches.append((cond, label))
    return ibis.cases(*branches)


def delivery_vs_rating(
    src: Source,
    *,
    since: date | None = None,
    until: date | None = None,
) -> DeliveryRating:
    """Late share, mean rating and 1–2★ share for on-time vs late orders, and by days late.

    Parameters
    ----------
    src
        The source.
    since, until
        Shop-local purchase dates to keep. For slices of the late share see
        :func:`late_share_by`.
    """
    orders = delivered_orders(src, since=since, until=until)
    late_counts = src.execute(
        orders.aggregate(n=orders.count(), late=ibis.cases((orders.late, 1), else_=0).sum())
    ).iloc[0]
    late_share = proportion(as_number(late_counts["late"]), as_number(late_counts["n"]))

    check_scale(src, src.table("reviews"), "rating", 1, 5, what="reviews.rating")
    reviews = src.table("reviews").select("order_id", "review_id", "rating")
    rows = orders.select("order_id", "late", "days_late").join(reviews, "order_id")
    rows = rows.filter(rows.rating.notnull()).mutate(bucket=_bucket(rows.days_late))
    r = rows.rating.cast("float64")
    grouped = run_grouped(
        src,
        rows,
        ["bucket"],
        orders=rows.order_id.nunique(),
        n=rows.count(),
        total=r.sum(),
        total_sq=(r * r).sum(),
        bad=ibis.cases((rows.rating <= 2, 1), else_=0).sum(),
    )
    by_bucket = {str(row["bucket"]): row for _, row in grouped.iterrows()}
    bucket_rows = []
    for label, _, _ in DAYS_LATE_BUCKETS:
        row = by_bucket.get(label)
        n = as_number(row["n"]) if row is not None else 0.0
        tot = as_number(row["total"]) if row is not None else 0.0
        sq = as_number(row["total_sq"]) if row is not None else 0.0
        bad = as_number(row["bad"]) if row is not None else 0.0
        mean = mean_estimate(tot, sq, n)
        share = proportion(bad, n)
        bucket_rows.append(
            {
                "bucket": label,
                "orders": int(as_number(row["orders"])) if row is not None else 0,
                "n": int(n),
                "mean": mean.value,
                "mean_low": mean.low,
                "mean_high": mean.high,
                "bad_share": share.value,
                "bad_share_low": share.low,
                "bad_share_high": share.high,
            }
        )

    def pooled(labels: list[str]) -> tuple[float, float, float, float]:
        sel = [by_bucket[lab] for lab in labels if lab in by_bucket]
        return (
            sum(as_number(s["n"]) for s in sel),
            sum(as_number(s["total"]) for s in sel),
            sum(as_number(s["total_sq"]) for s in sel),
            sum(as_number(s["bad"]) for s in sel),
        )

    n0, t0, q0, b0 = pooled(["on_time"])
    n1, t1, q1, b1 = pooled([label for label, _, _ in DAYS_LATE_BUCKETS[1:]])
    on_time = mean_estimate(t0, q0, n0)
    late = mean_estimate(t1, q1, n1)
    gap = mean_difference(late, sample_sd(t1, q1, n1), on_time, sample_sd(t0, q0, n0))
    return DeliveryRating(
        late_share=late_share,
        on_time_mean=on_time,
        late_mean=late,
        on_time_bad_share=proportion(b0, n0),
        late_bad_share=proportion(b1, n1),
        mean_gap=gap,
        buckets=pd.DataFrame(bucket_rows),
    )


def late_share_by(
    src: Source,
    by: str | Sequence[str],
    *,
    since: date | None = None,
    until: date | None = None,
) -> pd.DataFrame:
    """Share of late orders per slice (period of purchase, seller, category, region).

    Returns
    -------
    pandas.DataFrame
        Key columns, ``orders``, ``late``, ``late_share``, ``late_share_low``,
        ``late_share_high``.
    """
    names = parse_by(by)
    orders = delivered_orders(src, since=since, until=until)
    rows = add_dimensions(src, orders, names, time_column="purchased_at")
    keys = key_columns(names)
    # An order counts once per slice; only the seller, category and region joins can repeat it
    # (a count of distinct 32-character ids costs ~40 % of the query by month).
    repeats = any(n in ("seller", "category", "region") for n in names)
    raw = run_grouped(
        src,
        rows,
        keys,
        orders=rows.order_id.nunique() if repeats else rows.count(),
        late=ibis.cases((rows.late, 1), else_=0).sum(),
    )
    out = raw[keys].copy()
    out["orders"] = [int(as_number(v)) for v in raw["orders"]]
    out["late"] = [int(as_number(v)) for v in raw["late"]]
    ests = [proportion(k, n) for k, n in zip(out["late"], out["orders"], strict=True)]
    out["late_share"] = [e.value for e in ests]
    out["late_share_low"] = [e.low for e in ests]
    out["late_share_high"] = [e.high for e in ests]
    return out
