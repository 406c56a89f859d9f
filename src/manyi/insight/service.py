"""After-sales service KPIs over the canonical ``cases`` and ``case_events`` tables.

Definitions (the same on every engine):

* **First-response time** is ``first_response_at − opened_at``; **resolution time** is
  ``done_at − opened_at``, where ``done_at`` is ``resolved_at``, or ``closed_at`` for a case
  closed without being resolved. Both are hours of *calendar* time over the cases *opened* in
  the window: count, mean (Student-t 95 %), median and 90th percentile (linear interpolation
  between order statistics, as ``quantile_cont``). Business-time figures need the shop's
  calendar (working hours, holidays, 调休 make-up days): the desk computes them with its SLA
  clocks (``manyi.desk.cases.sla``) and stores the due instants used below.
* **SLA attainment** is the share of cases with a due instant whose first response / resolution
  came at or before it (Wilson 95 %). A case still waiting counts as missed once its due
  instant is before ``as_of`` (default: the latest instant in the data, so a saved export gives
  the same figures tomorrow) and is left out (``*_pending``) while the due instant is ahead.
  Cases without a due instant (no SLA policy) are counted in ``*_no_due`` and left out.
* **Reopen rate** is the share of resolved cases that were reopened: a ``case_events`` row whose
  ``from_status`` is a done status (``resolved``, ``closed``) and whose ``to_status`` is not.
* **Return rate** is the share of delivered orders (purchased in the window) with at least one
  ``return_refund`` or ``refund_only`` case (Wilson 95 %); by reason, and by product category.
* **Backlog** is the number of cases open at the end of each day, week or month: +1 at opening,
  −1 when the status enters a done status, +1 when it leaves one (from ``case_events``; a
  source without them counts −1 at ``done_at``). Periods are shop-local (``src.timezone``).

Slices (``by=``): ``day`` / ``week`` / ``month`` (of ``opened_at``; of the purchase for the
return rate), the case's own ``team``, ``channel``, ``kind``, ``priority``, ``reason`` and
``assignee``, and through the order ``category`` and ``seller`` (of the order's *first item*, so
a case counts once) and ``region`` (the customer's). A slice value may be ``None`` (a case
without a team, an order without a category).

Examples
--------
>>> import pandas as pd, tempfile
>>> from pathlib import Path
>>> from manyi.insight.sources import open_source
>>> from manyi.insight.service import response_times, sla_attainment
>>> folder = Path(tempfile.mkdtemp())
>>> at = lambda text: pd.Timestamp(text, tz="UTC")
>>> pd.DataFrame({
...     "case_id": [1, 2, 3], "kind": ["question"] * 3, "channel": ["email", "chat", "chat"],
...     "status": ["resolved", "resolved", "new"], "priority": ["normal"] * 3,
...     "currency": ["CNY"] * 3,
...     "opened_at": [at("2026-03-02 09:00"), at("2026-03-02 10:00"), at("2026-03-03 09:00")],
...     "first_response_at": [at("2026-03-02 10:00"), at("2026-03-02 14:00"), None],
...     "first_response_due_at": [at("2026-03-02 11:00")] * 2 + [at("2026-03-03 11:00")],
... }).to_parquet(folder / "cases.parquet")
>>> src = open_source(f"parquet:{folder}")
>>> row = response_times(src).iloc[0]
>>> int(row.cases), int(row.first_response_n), float(row.first_response_median_h)
(3, 2, 2.5)
>>> sla = sla_attainment(src).iloc[0]           # case 3 is still waiting, not yet due
>>> int(sla.first_response_due), int(sla.first_response_met), int(sla.first_response_pending)
(2, 1, 1)
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

import ibis
import ibis.expr.datatypes as dt
import pandas as pd

from manyi.insight.errors import InsightError, ScaleError
from manyi.insight.intervals import mean_estimate, proportion
from manyi.insight.slicing import PERIODS, add_dimensions, as_number, between, run_grouped

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from manyi.insight.sources import Source

#: Statuses in which a case is finished (the desk's resolution clock stops there).
DONE_STATUSES = ("resolved", "closed", "rejected_closed")
#: Case kinds that return goods or money.
RETURN_KINDS = ("return_refund", "refund_only")
#: Slices that are columns of the case itself.
CASE_COLUMNS = ("team", "channel", "kind", "priority", "reason", "assignee")
#: Slices reached through the case's order (first item) or customer.
ORDER_DIMENSIONS = ("category", "seller", "region")
DIMENSIONS = (*PERIODS, *CASE_COLUMNS, *ORDER_DIMENSIONS)
#: Percentiles reported for the durations.
QUANTILES = {"median": 0.5, "p90": 0.9}
_UTC = dt.Timestamp(timezone="UTC")
_HOUR = 3600.0


# --- rows and slices -------------------------------------------------------------------------


def case_rows(src: Source, *, since: date | None = None, until: date | None = None) -> ir.Table:
    """Cases opened on shop-local dates [since, until] with ``done_at``, ``first_response_h``
    and ``resolution_h`` (calendar hours; null while not answered / not done).

    Raises
    ------
    ScaleError
        When a first response or resolution is dated before the opening (naming the cases).
    SourceError
        When the source has no ``cases`` table.
    """
    key = ("service.case_rows", since, until)

    def build() -> ir.Table:
        cases = src.table("cases")
        cases = cases.filter(between(src, cases.opened_at, since, until))
        done_at = ibis.coalesce(cases.resolved_at, cases.closed_at)
        opened = _seconds(cases.opened_at)
        return cases.mutate(
            done_at=done_at,
            first_response_h=(_seconds(cases.first_response_at) - opened) / _HOUR,
            resolution_h=(_seconds(done_at) - opened) / _HOUR,
        )

    rows = src.memo(key, build)
    _check_order(src, rows)
    return rows


def _seconds(ts: ir.TimestampValue) -> ir.FloatingValue:
    return ts.epoch_seconds().cast("float64")


def _check_order(src: Source, rows: ir.Table) -> None:
    # A reply before the case existed is a data error (a clock set wrong, a bad import): the
    # figures would be quietly wrong, so stop and name the cases, as ratings do for a 6★.
    bad = rows.filter((rows.first_response_h < 0) | (rows.resolution_h < 0))
    count = int(src.execute(bad.count()))
    if count == 0:
        return
    sample = src.execute(bad.select("case_id").order_by("case_id").limit(3))
    ids = ", ".join(str(v) for v in sample["case_id"])
    raise ScaleError(
        f"cases: {count} case(s) were answered or resolved before they were opened "
        f"(case_id {ids}); fix first_response_at / resolved_at / closed_at"
    )


def parse_service_by(by: str | Sequence[str] | None) -> tuple[str, ...]:
    """Validate a ``by`` argument of this module.

    Raises
    ------
    InsightError
        For an unknown slice or two periods at once.

    Examples
    --------
    >>> from manyi.insight.service import parse_service_by
    >>> parse_service_by(["month", "team"])
    ('month', 'team')
    """
    if by is None:
        return ()
    names = (by,) if isinstance(by, str) else tuple(by)
    unknown = [n for n in names if n not in DIMENSIONS]
    if unknown:
        raise InsightError(f"cannot slice cases by {unknown}; choose from {', '.join(DIMENSIONS)}")
    if sum(n in PERIODS for n in names) > 1:
        raise InsightError("slice by at most one period (day, week or month)")
    return names


def _key(name: str) -> str:
    return "period" if name in PERIODS else "seller_id" if name == "seller" else name


def _first_items(src: Source) -> ir.Table:
    """``order_id`` → ``category`` and ``seller_id`` of the order's first item (lowest line)."""

    def build() -> ir.Table:
        items = src.table("order_items").select("order_id", "line_no", "product_id", "seller_id")
        first = items.mutate(
            _n=ibis.row_number().over(ibis.window(group_by="order_id", order_by="line_no"))
        )
        first = first.filter(first._n == 0).drop("_n", "line_no")
        if not src.has("products"):
            return first.mutate(category=ibis.null().cast(dt.string)).drop("product_id")
        products = src.table("products").select("product_id", "category")
        out = first.left_join(products, "product_id")
        return out.select("order_id", "seller_id", "category")

    return src.memo(("service.first_items",), build)


def _add_dimensions(
    src: Source, rows: ir.Table, names: Sequence[str], *, time_column: str
) -> ir.Table:
    out = rows
    periods = [n for n in names if n in PERIODS]
    if periods:
        out = add_dimensions(src, out, periods, time_column=time_column)
    if "category" in names or "seller" in names:
        first = _first_items(src)
        wanted = [c for c, n in (("category", "category"), ("seller_id", "seller")) if n in names]
        out = out.left_join(first.select("order_id", *wanted), "order_id").drop("order_id_right")
    if "region" in names:
        regions = src.table("customers").select("customer_id", "region")
        out = out.left_join(regions, "customer_id").drop("customer_id_right")
    return out


def _sliced(
    src: Source, rows: ir.Table, by: str | Sequence[str] | None, *, time_column: str
) -> tuple[ir.Table, list[str]]:
    names = parse_service_by(by)
    return _add_dimensions(src, rows, names, time_column=time_column), [_key(n) for n in names]


def _count_where(cond: ir.BooleanValue) -> ir.IntegerScalar:
    return ibis.cases((cond, 1), else_=0).sum()


def _int(value: object) -> int:
    return int(as_number(value))


def _missing(value: Any) -> bool:
    return value is None or bool(pd.isna(value))


def _keys_of(row: pd.Series, keys: Sequence[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k in keys:
        value = row[k]
        if _missing(value):
            out[k] = None
        elif k == "period":  # engines return a date, a Timestamp or (SQLite) text
            out[k] = pd.Timestamp(value).date()
        else:
            out[k] = value
    return out


# --- response and resolution times -----------------------------------------------------------


def response_times(
    src: Source,
    *,
    by: str | Sequence[str] | None = None,
    since: date | None = None,
    until: date | None = None,
) -> pd.DataFrame:
    """First-response and resolution time in calendar hours, per slice of the opened cases.

    Returns
    -------
    pandas.DataFrame
        Key columns, ``cases`` (opened), and for ``first_response`` and ``resolution``:
        ``_n`` (cases answered / done), ``_mean_h`` (+ ``_low``, ``_high``), ``_median_h``,
        ``_p90_h``. No row for a slice without cases; an all-open slice has ``_n = 0`` and
        null times.
    """
    rows, keys = _sliced(src, case_rows(src, since=since, until=until), by, time_column="opened_at")
    measures = ("first_response", "resolution")
    whole = ibis.window(group_by=keys or None)
    ranked = rows
    for m in measures:
        # Exact percentiles from order statistics: rank the values within each slice (nulls
        # last, explicitly, as Spark sorts them first) and keep the two ranks around p·(n − 1).
        value = ranked[f"{m}_h"]
        order = ibis.window(group_by=keys or None, order_by=[value.isnull(), value])
        ranked = ranked.mutate(
            **{
                f"_{m}_rank": ibis.row_number().over(order),
                f"_{m}_count": value.count().over(whole),
            }
        )
    aggs: dict[str, ir.Scalar] = {"cases": ranked.count()}
    for m in measures:
        value = ranked[f"{m}_h"]
        aggs[f"{m}_n"] = value.count()
        aggs[f"{m}_sum"] = value.sum()
        aggs[f"{m}_sq"] = (value * value).sum()
        for name, p in QUANTILES.items():
            low, high = _order_positions(ranked[f"_{m}_count"], p)
            rank = ranked[f"_{m}_rank"]
            aggs[f"{m}_{name}_lo"] = ibis.cases((rank == low, value)).max()
            aggs[f"{m}_{name}_hi"] = ibis.cases((rank == high, value)).max()
    raw = run_grouped(src, ranked, keys, **aggs)
    records = []
    for _, row in raw.iterrows():
        rec: dict[str, Any] = _keys_of(row, keys)
        rec["cases"] = _int(row["cases"])
        for m in measures:
            n = _int(row[f"{m}_n"])
            mean = mean_estimate(as_number(row[f"{m}_sum"]), as_number(row[f"{m}_sq"]), n)
            rec[f"{m}_n"] = n
            rec[f"{m}_mean_h"] = mean.value
            rec[f"{m}_mean_h_low"] = mean.low
            rec[f"{m}_mean_h_high"] = mean.high
            for name, p in QUANTILES.items():
                rec[f"{m}_{name}_h"] = _interpolate(
                    n, p, row[f"{m}_{name}_lo"], row[f"{m}_{name}_hi"]
                )
        records.append(rec)
    columns = [*keys, "cases"]
    for m in measures:
        columns += [f"{m}_n", f"{m}_mean_h", f"{m}_mean_h_low", f"{m}_mean_h_high"]
        columns += [f"{m}_{name}_h" for name in QUANTILES]
    return _frame(records, columns, keys)


def _order_positions(count: ir.IntegerValue, p: float) -> tuple[ir.IntegerValue, ir.IntegerValue]:
    """0-based ranks of the order statistics around quantile ``p`` of ``count`` values.

    Integer arithmetic in tenths keeps every engine on the same ranks (no float floor/ceil).
    """
    tenths = _tenths(p)
    scaled = (count - 1) * tenths
    low = scaled // 10
    high = low + ibis.cases((scaled - low * 10 > 0, 1), else_=0)
    return low, high


def _tenths(p: float) -> int:
    tenths = round(p * 10)
    if abs(tenths - p * 10) > 1e-9:
        raise InsightError(f"percentiles are supported in tenths (0.1, 0.5, 0.9), not {p}")
    return tenths


def _interpolate(n: int, p: float, low: object, high: object) -> float | None:
    if n == 0:
        return None
    scaled = (n - 1) * _tenths(p)
    fraction = (scaled % 10) / 10
    lo, hi = as_number(low), as_number(high)
    return lo + fraction * (hi - lo)


def _frame(records: list[dict[str, Any]], columns: list[str], keys: list[str]) -> pd.DataFrame:
    frame = pd.DataFrame.from_records(records, columns=columns)
    if keys and not frame.empty:
        frame = frame.sort_values(keys, na_position="last", kind="stable").reset_index(drop=True)
    return frame


# --- SLA attainment --------------------------------------------------------------------------


def data_as_of(src: Source) -> datetime | None:
    """The latest instant recorded in ``cases`` (and ``case_events``): the data's "now"."""
    cases = src.table("cases")
    columns = ("opened_at", "first_response_at", "resolved_at", "closed_at")
    row = src.execute(cases.aggregate(**{c: cases[c].max() for c in columns})).iloc[0]
    found = [pd.Timestamp(row[c]) for c in columns if not pd.isna(row[c])]
    if src.has("case_events"):
        events = src.table("case_events")
        last = src.execute(events.at.max())
        if not pd.isna(last):
            found.append(pd.Timestamp(last))
    if not found:
        return None
    latest = max(t.tz_localize("UTC") if t.tzinfo is None else t for t in found)
    return latest.to_pydatetime()


def sla_attainment(
    src: Source,
    *,
    by: str | Sequence[str] | None = None,
    since: date | None = None,
    until: date | None = None,
    as_of: datetime | None = None,
) -> pd.DataFrame:
    """Share of cases answered / resolved at or before their due instant, per slice.

    Parameters
    ----------
    as_of
        The instant a still-waiting case is judged at (aware). Default: :func:`data_as_of`.

    Returns
    -------
    pandas.DataFrame
        Key columns, ``cases``, and for ``first_response`` and ``resolution``: ``_due``
        (cases judged: due instant set and answered/resolved or overdue), ``_met``, ``_rate``
        (+ ``_low``, ``_high``, Wilson 95 %), ``_pending`` (not yet due, still open),
        ``_no_due`` (no due instant).
    """
    rows, keys = _sliced(src, case_rows(src, since=since, until=until), by, time_column="opened_at")
    if as_of is None:
        as_of = data_as_of(src)
    if as_of is not None and (as_of.tzinfo is None or as_of.utcoffset() is None):
        raise InsightError("as_of must be timezone-aware")
    now = ibis.literal(as_of.astimezone(UTC), type=_UTC) if as_of is not None else None
    aggs: dict[str, ir.Scalar] = {"cases": rows.count()}
    for m, done, due in (
        ("first_response", rows.first_response_at, rows.first_response_due_at),
        ("resolution", rows.done_at, rows.resolution_due_at),
    ):
        overdue = (due < now) if now is not None else ibis.literal(False)
        judged = due.notnull() & (done.notnull() | overdue)
        aggs[f"{m}_due"] = _count_where(judged)
        aggs[f"{m}_met"] = _count_where(due.notnull() & done.notnull() & (done <= due))
        aggs[f"{m}_pending"] = _count_where(due.notnull() & ~(done.notnull() | overdue))
        aggs[f"{m}_no_due"] = _count_where(due.isnull())
    raw = run_grouped(src, rows, keys, **aggs)
    records = []
    for _, row in raw.iterrows():
        rec: dict[str, Any] = _keys_of(row, keys)
        rec["cases"] = _int(row["cases"])
        for m in ("first_response", "resolution"):
            judged, met = _int(row[f"{m}_due"]), _int(row[f"{m}_met"])
            est = proportion(met, judged)
            rec.update(
                {
                    f"{m}_due": judged,
                    f"{m}_met": met,
                    f"{m}_rate": est.value,
                    f"{m}_rate_low": est.low,
                    f"{m}_rate_high": est.high,
                    f"{m}_pending": _int(row[f"{m}_pending"]),
                    f"{m}_no_due": _int(row[f"{m}_no_due"]),
                }
            )
        records.append(rec)
    columns = [*keys, "cases"]
    for m in ("first_response", "resolution"):
        columns += [f"{m}_{s}" for s in ("due", "met", "rate", "rate_low", "rate_high")]
        columns += [f"{m}_pending", f"{m}_no_due"]
    return _frame(records, columns, keys)


# --- reopen rate -----------------------------------------------------------------------------


def _left_done(events: ir.Table) -> ir.BooleanValue:
    """Events that take a case out of a done status (a reopening)."""
    from_done = events.from_status.isin(DONE_STATUSES).fill_null(False)
    to_done = events.to_status.isin(DONE_STATUSES).fill_null(False)
    return from_done & events.to_status.notnull() & ~to_done


def _entered_done(events: ir.Table) -> ir.BooleanValue:
    from_done = events.from_status.isin(DONE_STATUSES).fill_null(False)
    to_done = events.to_status.isin(DONE_STATUSES).fill_null(False)
    return to_done & ~from_done


def reopen_rate(
    src: Source,
    *,
    by: str | Sequence[str] | None = None,
    since: date | None = None,
    until: date | None = None,
) -> pd.DataFrame:
    """Share of resolved cases that were reopened at least once (needs ``case_events``).

    A case counts as resolved when the log shows it entering a done status, or it has
    ``resolved_at`` / ``closed_at``.

    Returns
    -------
    pandas.DataFrame
        Key columns, ``cases`` (opened), ``resolved``, ``reopened`` (cases), ``reopenings``
        (events), ``reopen_rate`` (+ ``_low``, ``_high``, Wilson 95 % over ``resolved``).

    Raises
    ------
    SourceError
        When the source has no ``case_events`` table.
    """
    events = src.table("case_events")
    reopens = events.filter(_left_done(events))
    per_case = reopens.group_by("case_id").aggregate(_reopenings=reopens.count())
    done = events.filter(_entered_done(events))
    done_cases = done.group_by("case_id").aggregate(_entered=done.count())
    rows = case_rows(src, since=since, until=until)
    rows = rows.left_join(per_case, "case_id").drop("case_id_right")
    rows = rows.left_join(done_cases, "case_id").drop("case_id_right")
    rows, keys = _sliced(src, rows, by, time_column="opened_at")
    reopenings = rows._reopenings.fill_null(0)
    resolved = rows._entered.notnull() | rows.done_at.notnull() | (reopenings > 0)
    raw = run_grouped(
        src,
        rows,
        keys,
        cases=rows.count(),
        resolved=_count_where(resolved),
        reopened=_count_where(reopenings > 0),
        reopenings=reopenings.sum(),
    )
    records = []
    for _, row in raw.iterrows():
        rec: dict[str, Any] = _keys_of(row, keys)
        resolved_n, reopened_n = _int(row["resolved"]), _int(row["reopened"])
        est = proportion(reopened_n, resolved_n)
        rec.update(
            cases=_int(row["cases"]),
            resolved=resolved_n,
            reopened=reopened_n,
            reopenings=_int(row["reopenings"]),
            reopen_rate=est.value,
            reopen_rate_low=est.low,
            reopen_rate_high=est.high,
        )
        records.append(rec)
    columns = [*keys, "cases", "resolved", "reopened", "reopenings", "reopen_rate"]
    columns += ["reopen_rate_low", "reopen_rate_high"]
    return _frame(records, columns, keys)


# --- return and refund rate ------------------------------------------------------------------


def return_rate(
    src: Source,
    *,
    by: str | Sequence[str] | None = None,
    since: date | None = None,
    until: date | None = None,
) -> pd.DataFrame:
    """Share of delivered orders with a return or refund case, per slice.

    Orders count when delivered (``delivered_at`` set) and purchased on shop-local dates in
    [since, until]; periods are those of the purchase. Slicing by ``reason`` or ``kind`` splits
    the numerator only: each reason's rate is over all delivered orders of the other slices, so
    an order returned for two reasons counts in both. ``category`` / ``seller`` are those of the
    order's first item; ``channel``, ``team``, ``priority``, ``assignee`` are not defined for an
    order without a case and are rejected.

    Returns
    -------
    pandas.DataFrame
        Key columns, ``orders`` (delivered), ``returned`` (of those, orders with a return or
        refund case), ``cases`` (such cases, several per order possible), ``return_rate``
        (+ ``_low``, ``_high``, Wilson 95 %).
    """
    names = parse_service_by(by)
    case_only = [n for n in names if n in ("channel", "team", "priority", "assignee")]
    if case_only:
        raise InsightError(
            f"the return rate is per delivered order; it cannot be sliced by {case_only}"
        )
    numerator_only = [n for n in names if n in ("reason", "kind")]
    order_names = [n for n in names if n not in numerator_only]
    orders = src.table("orders")
    delivered = orders.filter(
        orders.delivered_at.notnull() & between(src, orders.purchased_at, since, until)
    ).select("order_id", "customer_id", "purchased_at")
    delivered = _add_dimensions(src, delivered, order_names, time_column="purchased_at")
    order_keys = [_key(n) for n in order_names]
    keys = [_key(n) for n in names]

    cases = src.table("cases")
    returns = cases.filter(cases.kind.isin(RETURN_KINDS) & cases.order_id.notnull()).select(
        "order_id", "reason", "kind"
    )
    joined = delivered.join(returns, "order_id")
    denominators = run_grouped(src, delivered, order_keys, orders=delivered.order_id.nunique())
    numerators = run_grouped(
        src, joined, keys, returned=joined.order_id.nunique(), cases=joined.count()
    )
    if keys:
        if not order_keys:  # slices of the numerator only: one denominator for all
            numerators["_all"] = denominators["_all"] = 0
        frame = _merge_nullable(denominators, numerators, order_keys or ["_all"])
    else:
        frame = pd.concat([denominators, numerators], axis=1)
    records = []
    for _, row in frame.iterrows():
        orders_n = _int(row["orders"])
        returned = _int(row.get("returned"))
        est = proportion(returned, orders_n)
        rec: dict[str, Any] = _keys_of(row, keys)
        rec.update(
            orders=orders_n,
            returned=returned,
            cases=_int(row.get("cases")),
            return_rate=est.value,
            return_rate_low=est.low,
            return_rate_high=est.high,
        )
        records.append(rec)
    columns = [*keys, "orders", "returned", "cases", "return_rate", "return_rate_low"]
    columns += ["return_rate_high"]
    out = _frame(records, columns, keys)
    if numerator_only:
        # a reason nobody gave is no row (as a slice without cases has none elsewhere)
        out = out[out["returned"] > 0].reset_index(drop=True)
    return out


_NULL_KEY = "\x00null"


def _merge_nullable(left: pd.DataFrame, right: pd.DataFrame, on: list[str]) -> pd.DataFrame:
    """Left-join ``right`` onto ``left`` on ``on`` with null keys equal to each other.

    ``left`` holds every slice (its denominators); slices of ``right`` with extra keys (reason)
    repeat the left row once each.
    """
    a, b = left.copy(), right.copy()
    for frame in (a, b):
        for k in on:
            frame[k] = frame[k].astype(object).where(frame[k].notna(), _NULL_KEY)
    merged = a.merge(b, on=on, how="left")
    for k in on:
        merged[k] = merged[k].where(merged[k] != _NULL_KEY, None)
    return merged


# --- backlog ---------------------------------------------------------------------------------


def backlog(
    src: Source,
    *,
    freq: str = "day",
    by: str | Sequence[str] | None = None,
    since: date | None = None,
    until: date | None = None,
) -> pd.DataFrame:
    """Open cases at the end of each shop-local day, week or month.

    Every case ever opened counts (``since`` / ``until`` only choose the periods shown), so the
    first period carries the backlog built up before it. The grid runs from the first opening
    (or ``since``) to the last change (or ``until``); periods without any change repeat the
    backlog. ``by`` accepts the case's own columns (``team``, ``channel``, ``kind``,
    ``priority``, ``reason``, ``assignee``; their current value).

    Returns
    -------
    pandas.DataFrame
        ``period`` (first day), key columns, ``open`` (at the end of the period), ``opened``,
        ``done`` (entered a done status), ``reopened`` (left one) during the period.
    """
    if freq not in PERIODS:
        raise InsightError(f"backlog freq must be one of {', '.join(PERIODS)}, not {freq!r}")
    names = parse_service_by(by)
    wrong = [n for n in names if n not in CASE_COLUMNS]
    if wrong:
        raise InsightError(
            f"backlog slices by the case's own columns ({', '.join(CASE_COLUMNS)}), not {wrong}"
        )
    keys = list(names)
    cases = src.table("cases").select("case_id", "opened_at", "resolved_at", "closed_at", *keys)
    attrs = cases.select("case_id", *keys)
    one, zero = ibis.literal(1, type=dt.int64), ibis.literal(0, type=dt.int64)
    opened = cases.select(
        "case_id", at=cases.opened_at, delta=one, opened=one, done=zero, reopened=zero
    )
    if src.has("case_events"):
        events = src.table("case_events")
        moves = events.filter(_entered_done(events) | _left_done(events))
        leaving = _left_done(moves)
        changes = moves.select(
            "case_id",
            at=moves.at,
            delta=ibis.ifelse(leaving, one, -one),
            opened=zero,
            done=ibis.ifelse(leaving, zero, one),
            reopened=ibis.ifelse(leaving, one, zero),
        )
        # the log is the truth, but only for cases that exist in the cases table
        changes = changes.join(cases.select("case_id"), "case_id")
    else:
        done_at = ibis.coalesce(cases.resolved_at, cases.closed_at)
        closed = cases.filter(done_at.notnull())
        changes = closed.select(
            "case_id",
            at=ibis.coalesce(closed.resolved_at, closed.closed_at),
            delta=-one,
            opened=zero,
            done=one,
            reopened=zero,
        )
    deltas = opened.union(changes).join(attrs, "case_id")
    deltas = deltas.mutate(day=src.local_date(deltas.at))
    raw = run_grouped(
        src,
        deltas,
        ["day", *keys],
        delta=deltas.delta.sum(),
        opened=deltas.opened.sum(),
        done=deltas.done.sum(),
        reopened=deltas.reopened.sum(),
    )
    columns = ["period", *keys, "open", "opened", "done", "reopened"]
    if raw.empty:
        return pd.DataFrame(columns=columns)
    raw["day"] = pd.to_datetime(raw["day"])
    first = pd.Timestamp(since) if since is not None else raw["day"].min()
    last = pd.Timestamp(until) if until is not None else raw["day"].max()
    if last < first:
        return pd.DataFrame(columns=columns)
    grid = pd.date_range(min(first, raw["day"].min()), last, freq="D")
    code = {"day": "D", "week": "W-SUN", "month": "M"}[freq]  # W-SUN: weeks Monday-Sunday
    groups: list[tuple[tuple[Any, ...], pd.DataFrame]] = []
    if keys:
        for values, part in raw.groupby(keys, dropna=False, sort=True):
            groups.append((values if isinstance(values, tuple) else (values,), part))
    else:
        groups.append(((), raw))
    out: list[pd.DataFrame] = []
    for values, part in groups:
        daily = (
            part.groupby("day")[["delta", "opened", "done", "reopened"]]
            .sum()
            .reindex(grid, fill_value=0)
        )
        daily["open"] = daily["delta"].cumsum()
        daily = daily[daily.index >= first]
        starts = pd.DatetimeIndex(daily.index).to_period(code).start_time
        summary = daily.groupby(starts).agg(
            open=("open", "last"),
            opened=("opened", "sum"),
            done=("done", "sum"),
            reopened=("reopened", "sum"),
        )
        summary.index.name = "period"
        summary = summary.reset_index()
        summary["period"] = summary["period"].dt.date
        for k, v in zip(keys, values, strict=True):
            value: Any = None if _missing(v) else v
            summary[k] = value
        out.append(summary)
    frame = pd.concat(out, ignore_index=True)
    for c in ("open", "opened", "done", "reopened"):
        frame[c] = frame[c].astype("int64")
    frame = frame[columns].sort_values(["period", *keys], na_position="last", kind="stable")
    return frame.reset_index(drop=True)
