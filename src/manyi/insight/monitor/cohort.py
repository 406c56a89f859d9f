"""Per-day figures of the orders *placed* on each day: the campaign review's raw material.

A campaign is judged by what happened to the orders placed during it — whether they arrived on
time, how their buyers rated them, whether they complained — even when that happened weeks
later. So the review groups everything by the shop-local **purchase date** of the order (a
*cohort*), unlike the alert series, which group by when a thing became known.

:func:`cohort_days` returns one row per purchase date with

``orders``, ``delivered`` (with a delivery and a promised date), ``late`` (delivery date after
the promised date), ``delivery_days_sum``/``_sq`` (purchase to delivery, days), and for the
reviews of those orders (an order reviewed twice counts twice, as in
:mod:`manyi.insight.delivery`) split by the order's delivery status ``on_time`` / ``late`` /
``undelivered``: ``reviews_<status>``, ``bad_<status>`` (1–2★), and over all of them
``reviews``, ``rating_sum``, ``rating_sq``, ``at_1``..``at_5``, ``good`` (4–5★), ``bad``;
``complaint_cases`` (complaint cases about those orders not opened from a review; 0 without a
``cases`` table).

Only reviews written within ``horizon_days`` of the purchase count when a horizon is given:
comparing a campaign that ended last week with a baseline a month older gives the baseline's
buyers more time to complain, and an equal horizon removes that advantage.

Examples
--------
>>> from datetime import date
>>> from manyi.data.samples import sample_path
>>> from manyi.insight.sources import open_source
>>> from manyi.insight.monitor.cohort import cohort_days
>>> days = cohort_days(open_source(f"olist:{sample_path('olist')}"), date(2018, 3, 1),
...                    date(2018, 3, 7))
>>> len(days), int(days.orders.sum()) > 0
(7, True)
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

import ibis
import pandas as pd

from manyi.insight.monitor.localtime import window_local_time
from manyi.insight.monitor.series import PROMISE_PAD_DAYS, STARS, periods, windowed
from manyi.insight.ratings import check_scale

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from manyi.insight.sources import Source

STATUSES = ("on_time", "late", "undelivered")
DAY = 86_400.0
#: Columns of :func:`cohort_days` after ``day``.
COLUMNS = (
    "orders",
    "delivered",
    "late",
    "delivery_days_sum",
    "delivery_days_sq",
    "reviews",
    "rating_sum",
    "rating_sq",
    *[f"at_{s}" for s in STARS],
    "good",
    "bad",
    *[f"reviews_{s}" for s in STATUSES],
    *[f"bad_{s}" for s in STATUSES],
    "complaint_cases",
)


def _count_when(cond: ir.BooleanValue) -> ir.IntegerScalar:
    return ibis.cases((cond, 1), else_=0).sum()


def cohort_orders(src: Source, first: date, last: date) -> ir.Table:
    """Orders placed on shop-local days first..last with ``period`` (purchase day), ``status``
    (``on_time``/``late``/``undelivered``), ``days_late`` and ``delivery_days``."""
    orders = windowed(src, src.table("orders"), "purchased_at", first, last, "day")
    has_dates = orders.delivered_at.notnull() & orders.estimated_delivery_at.notnull()

    def local_day(column: ir.TimestampValue) -> ir.DateValue:
        return window_local_time(src, column, first, last, pad_days=PROMISE_PAD_DAYS).date()

    delivered_day = local_day(orders.delivered_at)
    promised_day = local_day(orders.estimated_delivery_at)
    days_late = delivered_day.delta(promised_day, unit="day")
    status = ibis.cases(
        (~has_dates, "undelivered"), (delivered_day > promised_day, "late"), else_="on_time"
    )
    seconds = (orders.delivered_at.epoch_seconds() - orders.purchased_at.epoch_seconds()).cast(
        "float64"
    )
    return orders.mutate(
        status=status,
        days_late=ibis.ifelse(has_dates, days_late, ibis.null().cast("int64")),
        delivery_days=ibis.ifelse(has_dates, seconds / DAY, ibis.null().cast("float64")),
    )


def cohort_reviews(src: Source, orders: ir.Table, *, horizon_days: int | None = None) -> ir.Table:
    """Rated reviews of ``orders`` (from :func:`cohort_orders`) with the order's columns."""
    reviews = src.table("reviews")
    reviews = reviews.filter(reviews.rating.notnull())
    rows = reviews.join(
        orders.select("order_id", "period", "status", "days_late", "purchased_at"), "order_id"
    )
    if horizon_days is not None:
        age = rows.created_at.epoch_seconds() - rows.purchased_at.epoch_seconds()
        rows = rows.filter(age <= horizon_days * DAY)
    return rows


def cohort_days(
    src: Source, first: date, last: date, *, horizon_days: int | None = None
) -> pd.DataFrame:
    """One row per purchase day first..last (days without orders included, as zeros)."""
    orders = cohort_orders(src, first, last)
    dd = orders.delivery_days
    o = src.execute(
        orders.group_by("period").aggregate(
            orders=orders.count(),
            delivered=_count_when(orders.status != "undelivered"),
            late=_count_when(orders.status == "late"),
            delivery_days_sum=dd.sum(),
            delivery_days_sq=(dd * dd).sum(),
        )
    )
    parts = [o]
    if src.has("reviews"):
        rows = cohort_reviews(src, orders, horizon_days=horizon_days)
        check_scale(src, rows, "rating", 1, 5, what="reviews.rating")
        r = rows.rating.cast("float64")
        aggs: dict[str, ir.Scalar] = {
            "reviews": rows.count(),
            "rating_sum": r.sum(),
            "rating_sq": (r * r).sum(),
            "good": _count_when(rows.rating >= 4),
            "bad": _count_when(rows.rating <= 2),
        }
        aggs.update({f"at_{s}": _count_when(rows.rating == s) for s in STARS})
        for status in STATUSES:
            mine = rows.status == status
            aggs[f"reviews_{status}"] = _count_when(mine)
            aggs[f"bad_{status}"] = _count_when(mine & (rows.rating <= 2))
        parts.append(src.execute(rows.group_by("period").aggregate(**aggs)))
    if src.has("cases"):
        cases = src.table("cases")
        cases = cases.filter(
            (cases.kind == "complaint") & (cases.channel.isnull() | (cases.channel != "review"))
        )
        rows = cases.select("case_id", "order_id").join(
            orders.select("order_id", "period"), "order_id"
        )
        parts.append(src.execute(rows.group_by("period").aggregate(complaint_cases=rows.count())))
    index = periods(first, last, "day")
    out = pd.DataFrame(index=index)
    for part in parts:
        part = part.assign(period=pd.to_datetime(part["period"])).set_index("period")
        out = out.join(part, how="left")
    out = out.reindex(columns=list(COLUMNS)).astype("float64").fillna(0.0)
    out.index.name = "day"
    return out.reset_index()


def window_sums(days: pd.DataFrame, first: date, last: date) -> dict[str, float]:
    """Sums of :func:`cohort_days` columns over purchase days first..last, and ``days``."""
    mask = (days["day"] >= pd.Timestamp(first)) & (days["day"] <= pd.Timestamp(last))
    part = days.loc[mask]
    out = {c: float(part[c].sum()) for c in COLUMNS}
    out["days"] = float((last - first).days + 1)
    return out


def latest_instant(src: Source) -> datetime | None:
    """The latest timestamp among orders, reviews and cases: the data's "now"."""
    found: list[pd.Timestamp] = []
    checks = {
        "orders": ("purchased_at", "delivered_at"),
        "reviews": ("created_at",),
        "cases": ("opened_at", "resolved_at", "closed_at"),
    }
    for name, columns in checks.items():
        if not src.has(name):
            continue
        table = src.table(name)
        row = src.execute(table.aggregate(**{c: table[c].max() for c in columns})).iloc[0]
        found += [pd.Timestamp(row[c]) for c in columns if not pd.isna(row[c])]
    if not found:
        return None
    latest = max(t.tz_localize("UTC") if t.tzinfo is None else t for t in found)
    return latest.to_pydatetime()
