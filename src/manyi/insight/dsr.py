"""DSR-style shop ratings (Taobao 店铺动态评分): a rolling mean per seller and dimension.

Dimensions are ``as_described`` (描述相符), ``service`` (服务态度) and ``logistics`` (物流服务),
each 1–5, answered in a ``dsr`` survey about an order. A rating counts towards seller ``s`` at
time ``as_of`` when

* it was given within ``accept_days`` (the rating period, default 15) calendar days after the
  day the order was completed (delivered) — ratings before completion or later are ignored;
* its day falls in the window ``(as_of − window_days, as_of]`` (default 180 days, ``as_of``
  included);
* the buyer has not already used up ``max_per_buyer`` counted ratings of that seller and
  dimension in the same ``cap_period_days`` block (no cap by default).

A buyer who does not rate gives *no* score (no default 5★ fills the silence). A seller without
counted ratings has no DSR. Each score is compared with its *industry*: the mean of all counted
ratings of sellers in the same main category (the category of most of the seller's items), as
``(shop − industry) / industry``.

Without a ``dsr`` survey, :func:`dsr_scores` can use review ratings (``source="reviews"``) as a
single ``overall`` dimension.

Examples
--------
>>> from manyi.insight.dsr import DSRPolicy
>>> DSRPolicy().window_days, DSRPolicy().accept_days
(180, 15)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

import ibis
import pandas as pd

from manyi.insight.errors import InsightError
from manyi.insight.intervals import mean_estimate
from manyi.insight.ratings import check_scale
from manyi.insight.repeat import DAY
from manyi.insight.slicing import add_dimensions, as_number, key_columns, parse_by, run_grouped
from manyi.insight.surveys import survey_rows

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from manyi.insight.sources import Source

DSR_DIMENSIONS = ("as_described", "service", "logistics")
_EPOCH = date(1970, 1, 1)


@dataclass(frozen=True)
class DSRPolicy:
    """Window, rating period and per-buyer cap of the DSR (see the module docs)."""

    window_days: int = 180
    accept_days: int = 15
    max_per_buyer: int | None = None
    cap_period_days: int = 30

    def __post_init__(self) -> None:
        if self.window_days < 1 or self.accept_days < 0 or self.cap_period_days < 1:
            raise ValueError("window_days and cap_period_days must be >= 1, accept_days >= 0")
        if self.max_per_buyer is not None and self.max_per_buyer < 1:
            raise ValueError("max_per_buyer must be >= 1 (or None for no cap)")


def dsr_rows(src: Source, source: str = "surveys") -> ir.Table:
    """Rating rows: ``seller_id, customer_id, dimension, value, rated_day, completed_day``.

    ``source="surveys"`` reads the ``dsr`` instrument; ``"reviews"`` uses review ratings as the
    ``overall`` dimension. Days are shop-local calendar days counted from 1970-01-01 (whole
    numbers keep the window arithmetic portable across engines).
    """
    orders = src.table("orders").select(
        "order_id", "delivered_at", buyer=src.table("orders").customer_id
    )
    sellers = src.table("order_items").select("order_id", "seller_id").distinct()
    if source == "surveys":
        rows = survey_rows(src, "dsr", items=list(DSR_DIMENSIONS), check=(1, 5))
        rows = rows.select("order_id", "item", "value", "answered_at")
        rows = rows.rename(dimension="item", rated_at="answered_at")
    elif source == "reviews":
        reviews = src.table("reviews")
        check_scale(src, reviews, "rating", 1, 5, what="reviews.rating")
        rows = reviews.select(
            "order_id",
            dimension=ibis.literal("overall"),
            value=reviews.rating.cast("float64"),
            rated_at=reviews.created_at,
        )
    else:
        raise InsightError(f"DSR source must be 'surveys' or 'reviews', not {source!r}")
    rows = rows.join(orders, "order_id").join(sellers, "order_id")
    return rows.select(
        "seller_id",
        customer_id=rows.buyer,
        dimension=rows.dimension,
        value=rows.value.cast("float64"),
        rated_day=_day_number(src, rows.rated_at),
        completed_day=_day_number(src, rows.delivered_at),
    )


def _day_number(src: Source, ts: ir.TimestampValue) -> ir.IntegerValue:
    seconds = src.local_time(ts).epoch_seconds()
    return (seconds / DAY).floor().cast("int64")


def seller_categories(src: Source) -> ir.Table:
    """Each seller's main category: the category of most of its order lines (ties by name)."""
    items = src.table("order_items").select("seller_id", "product_id")
    products = src.table("products").select("product_id", "category")
    lines = items.join(products, "product_id", how="left")
    counts = lines.group_by(["seller_id", "category"]).aggregate(lines_n=lines.count())
    rank = ibis.row_number().over(
        group_by=counts.seller_id, order_by=[ibis.desc(counts.lines_n), counts.category]
    )
    ranked = counts.mutate(rank=rank)
    return ranked.filter(ranked["rank"] == 0).select("seller_id", "category")


def dsr_scores(
    src: Source,
    *,
    as_of: date | None = None,
    policy: DSRPolicy | None = None,
    source: str = "surveys",
) -> pd.DataFrame:
    """Rolling-window DSR per seller and dimension, against the industry mean.

    Parameters
    ----------
    as_of
        Last shop-local day of the window; default the day of the latest accepted rating.
    policy
        Window, rating period and cap (default :class:`DSRPolicy`).
    source
        ``"surveys"`` (the ``dsr`` instrument) or ``"reviews"``.

    Returns
    -------
    pandas.DataFrame
        ``seller_id, dimension, category, n, score, score_low, score_high, industry_n,
        industry_score, vs_industry``, sorted by seller and dimension.
    """
    policy = policy or DSRPolicy()
    rows = dsr_rows(src, source)
    rows = rows.filter(
        rows.completed_day.notnull()
        & (rows.rated_day >= rows.completed_day)
        & (rows.rated_day <= rows.completed_day + policy.accept_days)
    )
    if policy.max_per_buyer is None:
        per_seller = _per_seller_by_day(src, rows, as_of, policy)
    else:
        per_seller = _per_seller_capped(src, rows, as_of, policy, policy.max_per_buyer)
    if per_seller.empty:
        return _empty()
    per_seller["category_key"] = per_seller["category"].fillna("")
    industry = per_seller.groupby(["category_key", "dimension"], as_index=False)[
        ["n", "total"]
    ].sum()
    industry["industry_score"] = industry["total"] / industry["n"]
    industry = industry.rename(columns={"n": "industry_n"})[
        ["category_key", "dimension", "industry_n", "industry_score"]
    ]
    out = per_seller.merge(industry, on=["category_key", "dimension"], how="left")
    records = []
    for _, row in out.iterrows():
        est = mean_estimate(as_number(row["total"]), as_number(row["total_sq"]), row["n"])
        industry_score = float(row["industry_score"])
        assert est.value is not None
        records.append(
            {
                "seller_id": row["seller_id"],
                "dimension": row["dimension"],
                "category": None if pd.isna(row["category"]) else row["category"],
                "n": int(row["n"]),
                "score": est.value,
                "score_low": est.low,
                "score_high": est.high,
                "industry_n": int(row["industry_n"]),
                "industry_score": industry_score,
                "vs_industry": (est.value - industry_score) / industry_score,
            }
        )
    return pd.DataFrame(records).sort_values(["seller_id", "dimension"], ignore_index=True)


def _per_seller_by_day(
    src: Source, rows: ir.Table, as_of: date | None, policy: DSRPolicy
) -> pd.DataFrame:
    """``n``, ``total``, ``total_sq`` per seller, dimension and category, without a cap.

    The accepted ratings are first summed per seller, dimension and day (one row per seller
    and day where there was one per rating), and the window and its end are taken on those
    sums in the same query: the three-table join of reviews, orders and order lines is read
    once instead of twice (once for the latest day, once for the scores); 1.8 s -> 0.8 s on
    1M orders. Ratings are whole numbers, so the sums are exact whatever the grouping.
    """
    v = rows.value
    daily = rows.group_by(["seller_id", "dimension", "rated_day"]).aggregate(
        n=rows.count(), total=v.sum(), total_sq=(v * v).sum()
    )
    end: ir.IntegerValue | int = (
        daily.rated_day.max().as_scalar() if as_of is None else (as_of - _EPOCH).days
    )
    daily = daily.filter((daily.rated_day > end - policy.window_days) & (daily.rated_day <= end))
    daily = daily.join(seller_categories(src), "seller_id", how="left")
    return run_grouped(
        src,
        daily,
        ["seller_id", "dimension", "category"],
        n=daily.n.sum(),
        total=daily.total.sum(),
        total_sq=daily.total_sq.sum(),
    )


def _per_seller_capped(
    src: Source, rows: ir.Table, as_of: date | None, policy: DSRPolicy, cap: int
) -> pd.DataFrame:
    """As :func:`_per_seller_by_day`, counting at most ``cap`` ratings per buyer and block."""
    if as_of is None:
        latest = src.execute(rows.rated_day.max())
        if latest is None or latest != latest:
            return pd.DataFrame()
        end = int(latest)
    else:
        end = (as_of - _EPOCH).days
    start = end - policy.window_days
    rows = rows.filter((rows.rated_day > start) & (rows.rated_day <= end))
    block = ((rows.rated_day - start - 1) / policy.cap_period_days).floor()
    rows = rows.mutate(block=block)
    nth = ibis.row_number().over(
        group_by=[rows.seller_id, rows.customer_id, rows.dimension, rows.block],
        order_by=[rows.rated_day, rows.value],
    )
    rows = rows.mutate(nth=nth)
    rows = rows.filter(rows.nth < cap)
    rows = rows.join(seller_categories(src), "seller_id", how="left")
    v = rows.value
    return run_grouped(
        src,
        rows,
        ["seller_id", "dimension", "category"],
        n=rows.count(),
        total=v.sum(),
        total_sq=(v * v).sum(),
    )


def dsr_means(
    src: Source,
    *,
    by: str | Sequence[str] | None = None,
    since: date | None = None,
    until: date | None = None,
) -> pd.DataFrame:
    """Plain mean of each DSR dimension per slice (``by``: period, seller, agent, team, ...).

    Unlike :func:`dsr_scores` there is no rolling window, rating period or cap: every ``dsr``
    answer given on a shop-local day in ``[since, until]`` counts once (an order with two sellers
    counts for each when sliced by seller).

    Returns
    -------
    pandas.DataFrame
        Key columns, ``dimension``, ``n``, ``mean``, ``mean_low``, ``mean_high`` (t 95 %), sorted by
        the keys and dimension; no row for a slice without answers.

    Examples
    --------
    >>> import pandas as pd, tempfile
    >>> from pathlib import Path
    >>> from manyi.insight.sources import open_source
    >>> from manyi.insight.dsr import dsr_means
    >>> folder = Path(tempfile.mkdtemp())
    >>> pd.DataFrame({"response_id": ["r1", "r2"], "instrument": ["dsr", "dsr"],
    ...               "team_id": ["returns", "returns"],
    ...               "answered_at": pd.to_datetime(["2026-03-02", "2026-03-03"], utc=True)},
    ...              ).to_parquet(folder / "survey_responses.parquet")
    >>> pd.DataFrame({"response_id": ["r1", "r2"], "item": ["service", "service"],
    ...               "value": [4.0, 5.0]}).to_parquet(folder / "survey_answers.parquet")
    >>> row = dsr_means(open_source(f"parquet:{folder}"), by="team").iloc[0]
    >>> row.team_id, row.dimension, int(row.n), float(row["mean"])
    ('returns', 'service', 2, 4.5)
    """
    names = parse_by(by)
    keys = key_columns(names)
    rows = survey_rows(
        src, "dsr", items=list(DSR_DIMENSIONS), since=since, until=until, check=(1, 5)
    )
    rows = add_dimensions(src, rows, names, time_column="answered_at")
    rows = rows.rename(dimension="item")
    v = rows.value
    raw = run_grouped(
        src,
        rows,
        [*keys, "dimension"],
        n=rows.count(),
        total=v.sum(),
        total_sq=(v * v).sum(),
    )
    records = []
    for _, row in raw.iterrows():
        n = as_number(row["n"])
        est = mean_estimate(as_number(row["total"]), as_number(row["total_sq"]), n)
        rec = {k: row[k] for k in keys}
        rec.update(
            dimension=row["dimension"],
            n=int(n),
            mean=est.value,
            mean_low=est.low,
            mean_high=est.high,
        )
        records.append(rec)
    cols = [*keys, "dimension", "n", "mean", "mean_low", "mean_high"]
    return pd.DataFrame.from_records(records, columns=cols)


def _empty() -> pd.DataFrame:
    return pd.DataFrame(
        columns=[
            "seller_id",
            "dimension",
            "category",
            "n",
            "score",
            "score_low",
            "score_high",
            "industry_n",
            "industry_score",
            "vs_industry",
        ]
    )
