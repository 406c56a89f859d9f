"""Slice any metric by period, seller, category, region, channel, agent and team.

A metric asks :func:`add_dimensions` for the columns it groups by. The names a caller may pass in
``by``:

``day`` / ``week`` / ``month``
    the calendar period (in the shop's zone) of the row's time column, as column ``period``
    (weeks start on Monday);
``seller``
    ``seller_id`` of the order's items. An order with items from two sellers counts once for
    each of them (a marketplace rating is about the whole order);
``category``
    ``category`` of the order's products, counted once per distinct category of the order;
``region``
    the buyer's ``region`` (state or province);
``channel``
    where the voice came from: ``reviews.source`` for reviews, ``survey_responses.channel`` for
    surveys;
``agent`` / ``team``
    who handled the case a survey was about: ``survey_responses.agent_id`` / ``team_id``, as
    copied when the customer answered (surveys only; ``None`` for a survey about no case).

Examples
--------
>>> from manyi.insight.slicing import parse_by
>>> parse_by(["month", "seller"])
('month', 'seller')
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING

import ibis
import pandas as pd

from manyi.insight.errors import InsightError

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from manyi.insight.sources import Source

PERIODS = {"day": "D", "week": "W", "month": "M"}
DIMENSIONS = (*PERIODS, "seller", "category", "region", "channel", "agent", "team")
_COLUMN = {
    "seller": "seller_id",
    "category": "category",
    "region": "region",
    "channel": "channel",
    "agent": "agent_id",
    "team": "team_id",
}
#: Dimensions read from a column the rows must already carry.
_CARRIED = ("channel", "agent", "team")


def parse_by(by: str | Sequence[str] | None) -> tuple[str, ...]:
    """Validate a ``by`` argument and return it as a tuple.

    Raises
    ------
    InsightError
        For an unknown dimension or two periods at once.
    """
    if by is None:
        return ()
    names = (by,) if isinstance(by, str) else tuple(by)
    unknown = [n for n in names if n not in DIMENSIONS]
    if unknown:
        raise InsightError(f"cannot slice by {unknown}; choose from {', '.join(DIMENSIONS)}")
    if sum(n in PERIODS for n in names) > 1:
        raise InsightError("slice by at most one period (day, week or month)")
    return names


def key_columns(by: Sequence[str]) -> list[str]:
    """The output column names of dimensions ``by``."""
    return ["period" if n in PERIODS else _COLUMN[n] for n in by]


def add_dimensions(
    src: Source,
    table: ir.Table,
    by: Sequence[str],
    *,
    time_column: str,
) -> ir.Table:
    """Add the columns of dimensions ``by`` to ``table`` (which has ``order_id``).

    Parameters
    ----------
    src
        The source (for the order, item, product and customer tables and the shop's zone).
    table
        Rows to slice; needs ``order_id`` for seller/category/region, and ``channel``,
        ``agent_id`` or ``team_id`` already present for channel, agent or team.
    by
        Dimension names, see the module docs.
    time_column
        The timestamp column periods are taken from.
    """
    out = table
    for name in by:
        if name in PERIODS:
            local = src.local_time(out[time_column])
            out = out.mutate(period=local.truncate(PERIODS[name]).date())
        elif name == "seller":
            pairs = src.table("order_items").select("order_id", "seller_id").distinct()
            out = out.join(pairs, "order_id")
        elif name == "category":
            items = src.table("order_items").select("order_id", "product_id")
            products = src.table("products").select("product_id", "category")
            pairs = items.join(products, "product_id").select("order_id", "category").distinct()
            out = out.join(pairs, "order_id")
        elif name == "region":
            if "customer_id" in out.columns:
                people = out
            else:
                orders = src.table("orders").select("order_id", "customer_id")
                people = out.join(orders, "order_id")
            regions = src.table("customers").select("customer_id", "region")
            out = people.join(regions, "customer_id", how="left")
        elif name in _CARRIED and _COLUMN[name] not in out.columns:
            raise InsightError(f"these rows carry no {_COLUMN[name]}: cannot slice by {name}")
    return out


def between(
    src: Source, column: ir.TimestampValue, since: date | None, until: date | None
) -> ir.BooleanValue:
    """Whether ``column`` falls on a shop-local date in ``[since, until]`` (either may be open)."""
    cond: ir.BooleanValue = ibis.literal(True)
    if since is None and until is None:
        return cond
    day = src.local_date(column)
    if since is not None:
        cond = cond & (day >= since)
    if until is not None:
        cond = cond & (day <= until)
    return cond


def run_grouped(
    src: Source, table: ir.Table, keys: Sequence[str], **aggs: ir.Scalar
) -> pd.DataFrame:
    """Aggregate ``table`` by ``keys`` (or over all rows) and return a pandas DataFrame."""
    expr = table.group_by(list(keys)).aggregate(**aggs) if keys else table.aggregate(**aggs)
    if keys:
        expr = expr.order_by(list(keys))
    frame: pd.DataFrame = src.execute(expr)
    return frame


def as_number(value: object) -> float:
    """A count or sum returned by an engine as float; SQL NULL (a sum over no rows) is 0."""
    if value is None:
        return 0.0
    try:
        number = float(value)  # type: ignore[arg-type]
    except TypeError:  # pandas.NA
        return 0.0
    return 0.0 if number != number else number
