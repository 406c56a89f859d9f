"""Repeat purchases, orders and revenue per customer by the rating of the first order.

Definitions (the same on every engine):

* an order *counts* unless its status is ``canceled`` or ``unavailable``; its revenue is
  ``item_total + freight_total``;
* an order's rating is the mean of its reviews' ratings; its *tier* is ``1-2`` (mean ≤ 2.5),
  ``3`` (mean < 3.5) or ``4-5``; an order without a review is ``unrated``;
* a customer's *first order* is their earliest counted order (ties broken by ``order_id``), and
  the customer's tier is that order's tier;
* a *repeat customer* has two or more counted orders (within ``horizon_days`` of the first order
  when a horizon is given; then only customers first seen at least ``horizon_days`` before the
  last purchase in the data are counted, so everyone had the same time to come back).

Examples
--------
>>> from manyi.data.samples import sample_path
>>> from manyi.insight.sources import open_source
>>> src = open_source(f"olist:{sample_path('olist')}")   # the bundled 3,000-order sample
>>> from manyi.insight.repeat import repeat_by_first_rating
>>> repeat_by_first_rating(src)[["tier", "customers", "repeaters"]]
      tier  customers  repeaters
0      1-2        405          0
1        3        259          0
2      4-5       2262          7
3  unrated         26          0
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

import ibis
import pandas as pd

from manyi.insight.intervals import mean_estimate, proportion, sample_sd
from manyi.insight.ratings import check_scale
from manyi.insight.slicing import as_number, between, run_grouped

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from manyi.insight.sources import Source

TIERS = ("1-2", "3", "4-5", "unrated")
EXCLUDED_STATUSES = ("canceled", "unavailable")
DAY = 86_400
#: The columns of :func:`customer_summary`, one row per customer.
SUMMARY_COLUMNS = (
    "tier",
    "first_s",
    "second_s",
    "orders",
    "revenue",
    "first_revenue",
    "last_s",
    "last_rating",
    "trailing_revenue",
)


def order_tier(mean_rating: ir.FloatingValue) -> ir.StringValue:
    """Tier label of an order's mean rating (``unrated`` when null)."""
    return ibis.cases(
        (mean_rating.isnull(), "unrated"),
        (mean_rating <= 2.5, "1-2"),
        (mean_rating < 3.5, "3"),
        else_="4-5",
    )


def counted_orders(
    src: Source, *, since: date | None = None, until: date | None = None
) -> ir.Table:
    """Counted orders with ``revenue``, ``purchased_s`` (epoch seconds) and their rating tier."""
    orders = src.table("orders")
    orders = orders.filter(
        ~orders.status.isin(EXCLUDED_STATUSES) & between(src, orders.purchased_at, since, until)
    )
    reviews = src.table("reviews")
    check_scale(src, reviews, "rating", 1, 5, what="reviews.rating")
    per_order = reviews.group_by("order_id").aggregate(
        order_rating=reviews.rating.cast("float64").mean()
    )
    out = orders.join(per_order, "order_id", how="left")
    return out.select(
        "order_id",
        "customer_id",
        "purchased_at",
        purchased_s=src.epoch_seconds(out.purchased_at),
        revenue=out.item_total.fill_null(0) + out.freight_total.fill_null(0),
        order_rating=out.order_rating,
        tier=order_tier(out.order_rating),
    )


def customer_summary(
    src: Source,
    *,
    since: date | None = None,
    until: date | None = None,
    horizon_days: int | None = None,
    trailing_days: int = 365,
) -> ir.Table:
    """One row per customer (no id): ``tier`` (first order), ``first_s``, ``second_s``, ``orders``,
    ``revenue``, ``first_revenue`` (of the first order), ``last_s`` (epoch seconds of the first,
    second and last counted order), ``last_rating`` (rating of the last rated counted order,
    latest purchase first, ties by the larger ``order_id``; null when none is rated) and
    ``trailing_revenue`` (revenue of the counted orders in the ``trailing_days`` before the last
    counted purchase in the data, whatever ``horizon_days``).

    Computed once per source and arguments (see :meth:`Source.memo`): repeat purchase, retention,
    revenue at risk and the value by tier (:mod:`manyi.insight.tier_value`) all read it.
    """
    return src.memo(
        ("customer_summary", since, until, horizon_days, trailing_days),
        lambda: _customer_summary(src, since, until, horizon_days, trailing_days),
    )


def _customer_summary(
    src: Source,
    since: date | None,
    until: date | None,
    horizon_days: int | None,
    trailing_days: int,
) -> ir.Table:
    orders = counted_orders(src, since=since, until=until)
    # The last counted purchase in the data, read first (the status and date filters of
    # counted_orders, without its join to the reviews) and passed on as a constant: as a scalar
    # subquery inside the aggregate's FILTER it made DuckDB's grouping 2.3x slower.
    plain = src.table("orders")
    plain = plain.filter(
        ~plain.status.isin(EXCLUDED_STATUSES) & between(src, plain.purchased_at, since, until)
    )
    latest = src.execute(src.epoch_seconds(plain.purchased_at).max())
    none = latest is None or latest != latest  # no counted order
    end: ir.NumericValue = (
        ibis.null("float64") if none else ibis.literal(float(latest), type="float64")
    )

    def recent_of(rows: ir.Table) -> ir.BooleanValue:
        if none:
            return ibis.literal(False)
        return rows.purchased_s > end - trailing_days * DAY

    # Most customers have one counted order (at 10M orders: 9.98M customers): their row of the
    # summary is their order itself. Only the others need the window that ranks orders per
    # customer, whose sort on (customer, purchase time, order id) was most of this query; a
    # count per customer (a partition without order) is cheaper than that sort. On 1M orders:
    # 3.2 s -> 1.5 s, on 10M: see docs/benchmarks/report.md.
    counted = orders.mutate(k=orders.count().over(group_by=orders.customer_id))
    single = counted.filter(counted.k == 1)
    multi = counted.filter(counted.k > 1)
    in_order = [multi.purchased_at, multi.order_id]
    rank = ibis.row_number().over(group_by=multi.customer_id, order_by=in_order)
    # The last rated order (latest purchase, larger id) is the rated one with no rated order
    # after it in the same order: a count over the following rows of the same window, so that
    # the orders are sorted once. purchased_at is never null, so both orders agree on every
    # engine.
    rated_after = multi.order_rating.count().over(
        ibis.window(group_by=multi.customer_id, order_by=in_order, rows=(1, None))
    )
    ranked = multi.mutate(rank=rank, rated_after=rated_after, recent=recent_of(multi))
    # One pass of conditional aggregates per customer: the first and second orders are the rows
    # ranked 0 and 1, the totals the others. (Joining the ranked orders back to their first and
    # second rows read them four times: ~40 % slower on 1M orders.)
    # The first order is the earliest, so its purchased_s is the customer's minimum.
    within = None
    if horizon_days is not None:
        first_s = ranked.purchased_s.min().over(group_by=ranked.customer_id)
        ranked = ranked.mutate(first_s=first_s)
        within = ranked.purchased_s <= ranked.first_s + horizon_days * DAY
    first, second = ranked["rank"] == 0, ranked["rank"] == 1
    many = ranked.group_by("customer_id").aggregate(
        tier=ranked.tier.max(where=first),
        first_s=ranked.purchased_s.max(where=first),
        second_s=ranked.purchased_s.max(where=second),
        orders=ranked.count(where=within),
        revenue=ranked.revenue.sum(where=within),
        first_revenue=ranked.revenue.max(where=first),
        last_s=ranked.purchased_s.max(where=within),
        last_rating=ranked.order_rating.max(where=ranked.rated_after == 0),
        trailing_revenue=ranked.revenue.sum(where=ranked.recent),
    )
    # customer_id is dropped on purpose: the consumers only aggregate by tier, and the ids are
    # most of the memory of this (materialised) table.
    many = many.select(*SUMMARY_COLUMNS)
    kinds = many.schema()
    # A customer's only order is their first and last; the sums over it are its own values
    # (a sum over no rows is null, as the aggregate above gives for trailing_revenue).
    one = single.select(
        tier=single.tier,
        first_s=single.purchased_s,
        second_s=ibis.null(),
        orders=ibis.literal(1),
        revenue=single.revenue,
        first_revenue=single.revenue,
        last_s=single.purchased_s,
        last_rating=single.order_rating,
        trailing_revenue=ibis.ifelse(recent_of(single), single.revenue, ibis.null()),
    )
    one = one.select(*[one[c].cast(kinds[c]).name(c) for c in SUMMARY_COLUMNS])
    out = many.union(one, distinct=False)
    if horizon_days is not None:
        out = out.filter(out.first_s <= end - horizon_days * DAY)
    return out


def repeat_by_first_rating(
    src: Source,
    *,
    since: date | None = None,
    until: date | None = None,
    horizon_days: int | None = None,
) -> pd.DataFrame:
    """Repeat-purchase rate, orders and revenue per customer by first-order rating tier.

    Returns
    -------
    pandas.DataFrame
        One row per tier in ``1-2, 3, 4-5, unrated`` order: ``customers``, ``repeaters``,
        ``repeat_rate`` (+ ``_low``/``_high``, Wilson 95 %), ``orders_per_customer`` and
        ``revenue_per_customer`` (+ ``_low``/``_high``, t 95 %), plus ``revenue_sd``.
    """
    people = customer_summary(src, since=since, until=until, horizon_days=horizon_days)
    o = people.orders.cast("float64")
    rev = people.revenue.cast("float64")
    raw = run_grouped(
        src,
        people,
        ["tier"],
        customers=people.count(),
        repeaters=ibis.cases((people.orders >= 2, 1), else_=0).sum(),
        o_sum=o.sum(),
        o_sq=(o * o).sum(),
        r_sum=rev.sum(),
        r_sq=(rev * rev).sum(),
    )
    found = {str(row["tier"]): row for _, row in raw.iterrows()}
    records = []
    for tier in TIERS:
        row = found.get(tier)

        def get(column: str, row: pd.Series | None = row) -> float:
            return as_number(row[column]) if row is not None else 0.0

        n = get("customers")
        rate = proportion(get("repeaters"), n)
        per = mean_estimate(get("o_sum"), get("o_sq"), n)
        revenue = mean_estimate(get("r_sum"), get("r_sq"), n)
        records.append(
            {
                "tier": tier,
                "customers": int(n),
                "repeaters": int(get("repeaters")),
                "repeat_rate": rate.value,
                "repeat_rate_low": rate.low,
                "repeat_rate_high": rate.high,
                "orders_per_customer": per.value,
                "orders_per_customer_low": per.low,
                "orders_per_customer_high": per.high,
                "revenue_per_customer": revenue.value,
                "revenue_per_customer_low": revenue.low,
                "revenue_per_customer_high": revenue.high,
                "revenue_sd": sample_sd(get("r_sum"), get("r_sq"), n),
            }
        )
    return pd.DataFrame(records)
