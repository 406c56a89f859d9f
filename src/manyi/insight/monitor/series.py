"""Daily or hourly series of the metrics that alerts watch, from any source.

:data:`METRICS` is the registry (an explicit dict, no discovery): metric name →
:class:`MetricSpec`, whose ``compute(src, start, end, freq)`` returns a *tidy* table with one row
per period from ``start`` to ``end`` (shop-local calendar days, both inclusive; ``freq`` is
``"day"`` or ``"hour"``), periods without data included:

``period``
    the period's first instant, shop-local wall time (naive ``datetime64``);
``value``
    the metric (``NaN`` when its denominator is 0);
``n``
    how many units the value rests on (events for counts; orders, reviews, deadlines or
    answers for the others);

and the numerators the tests need, by kind:

=============  ==========================================================================
kind           extra columns
=============  ==========================================================================
count          none (``value == n``; a period without events is 0, not missing)
proportion     ``k`` (the numerator; ``value = k / n``)
mean           ``total``, ``total_sq``, and ``at_<level>`` (counts per scale point) when the
               scale is discrete (ratings 1–5)
nps            ``promoters``, ``detractors`` (``value = 100 (promoters − detractors)/n``)
=============  ==========================================================================

Which instant a row belongs to is chosen for *monitoring* (what became known in that period):

=========================  ===========================================================  =========
metric                     definition                                                  tables
=========================  ===========================================================  =========
``orders``                 orders placed (``purchased_at``)                            orders
``late_share``             orders *delivered* in the period whose delivery date is     orders
                           after the promised date (shop-local dates)
``mean_rating``            mean star rating of reviews written (``created_at``)        reviews
``bad_review_share``       share of those reviews with 1–2★                            reviews
``good_review_rate``       share with 4–5★                                             reviews
``cases_opened``           after-sales cases opened                                    cases
``complaints``             complaint cases opened (not from the ``review`` channel,    reviews,
                           which the desk opens for a bad review) + 1–2★ reviews       cases
``sla_breaches``           share of SLA deadlines (first response, resolution) due in  cases
                           the period that were missed; deadlines after the data's
                           latest instant are not yet judged
``first_response_hours``   mean calendar hours to the first reply, cases opened        cases
``csat``                   share of 4–5 answers to the CSAT item                       surveys
``nps``                    NPS of the answers (0–10)                                   surveys
=========================  ===========================================================  =========

``complaints`` counts the 1–2★ reviews alone when the source has no ``cases`` table (Olist).

Examples
--------
>>> from datetime import date
>>> from manyi.data.samples import sample_path
>>> from manyi.insight.sources import open_source
>>> from manyi.insight.monitor.series import metric_series
>>> src = open_source(f"olist:{sample_path('olist')}")   # the bundled 3,000-order sample
>>> s = metric_series(src, "bad_review_share", date(2018, 3, 1), date(2018, 3, 7))
>>> list(s.columns), len(s)
(['period', 'value', 'n', 'k'], 7)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Literal

import ibis
import numpy as np
import pandas as pd

from manyi.insight.errors import InsightError
from manyi.insight.monitor.localtime import window_local_time
from manyi.insight.ratings import check_scale
from manyi.insight.surveys import has_surveys, survey_rows

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from manyi.insight.sources import Source

MetricKind = Literal["count", "proportion", "mean", "nps"]
Worse = Literal["up", "down", "both"]
FREQS: dict[str, str] = {"day": "D", "hour": "h"}
STEP: dict[str, pd.Timedelta] = {"day": pd.Timedelta(days=1), "hour": pd.Timedelta(hours=1)}
STARS = (1, 2, 3, 4, 5)
#: Promised delivery dates this many days from the window are still converted exactly.
PROMISE_PAD_DAYS = 400

SeriesFunction = Callable[..., pd.DataFrame]


@dataclass(frozen=True)
class MetricSpec:
    """One metric that can be watched.

    Attributes
    ----------
    name
        Registry key.
    kind
        ``count``, ``proportion``, ``mean`` or ``nps``: decides the tests.
    title
        ``{"en": ..., "zh": ...}``.
    unit
        How values are written: ``count``, ``share``, ``stars``, ``hours`` or ``points``.
    worse
        The direction that is bad news (``both`` for orders: a surge or a drop).
    tables
        Tables the source must have (``complaints`` needs only one of them).
    compute
        ``(src, start, end, freq, *, until=None) -> tidy table`` (see the module docs);
        ``until`` (an aware instant) leaves out what happened after it.
    levels
        The discrete scale of a mean (ratings 1–5); empty otherwise.
    instrument
        The survey instrument whose answers the metric needs.
    """

    name: str
    kind: MetricKind
    title: Mapping[str, str]
    unit: str
    worse: Worse
    tables: tuple[str, ...]
    compute: SeriesFunction
    levels: tuple[int, ...] = ()
    instrument: str | None = None

    def columns(self) -> list[str]:
        """The columns of this metric's tidy table."""
        extra: list[str] = {
            "count": [],
            "proportion": ["k"],
            "mean": ["total", "total_sq", *[f"at_{v}" for v in self.levels]],
            "nps": ["promoters", "detractors"],
        }[self.kind]
        return ["period", "value", "n", *extra]


# --- windows and periods ---------------------------------------------------------------------


def check_window(start: date, end: date, freq: str) -> None:
    """Raise :class:`InsightError` for an unknown ``freq`` or ``start`` after ``end``."""
    if freq not in FREQS:
        raise InsightError(f"freq must be one of {', '.join(FREQS)}, not {freq!r}")
    if start > end:
        raise InsightError(f"the window starts on {start} after it ends on {end}")


def periods(start: date, end: date, freq: str) -> pd.DatetimeIndex:
    """Every period of shop-local days ``start``..``end`` (inclusive)."""
    first = pd.Timestamp(start)
    after = pd.Timestamp(end) + pd.Timedelta(days=1)
    return pd.date_range(first, after, freq=FREQS[freq], inclusive="left", name="period")


def windowed(
    src: Source,
    table: ir.Table,
    column: str,
    start: date,
    end: date,
    freq: str,
    *,
    until: datetime | None = None,
) -> ir.Table:
    """Rows of ``table`` whose ``column`` falls on shop-local days start..end, with ``period``.

    ``until`` (an aware instant) also drops rows after it: a live view replayed on old data
    must not see the rest of the current hour.
    """
    # A UTC range one day wider than the local days lets an index narrow the scan; the local
    # date test is then exact (see manyi.insight.monitor.localtime).
    low = datetime.combine(start - timedelta(days=1), time(), tzinfo=UTC)
    high = datetime.combine(end + timedelta(days=2), time(), tzinfo=UTC)
    rows = table.filter((table[column] >= low) & (table[column] < high))
    if until is not None:
        rows = rows.filter(rows[column] <= until)
    rows = rows.mutate(_local=window_local_time(src, rows[column], start, end))
    day = rows["_local"].date()
    rows = rows.filter((day >= start) & (day <= end))
    return rows.mutate(period=rows["_local"].truncate(FREQS[freq])).drop("_local")


def _grouped(src: Source, table: ir.Table, **aggs: ir.Scalar) -> pd.DataFrame:
    frame: pd.DataFrame = src.execute(table.group_by("period").aggregate(**aggs))
    frame["period"] = pd.to_datetime(frame["period"])
    return frame


def _complete(
    raw: pd.DataFrame, spec_kind: MetricKind, columns: list[str], start: date, end: date, freq: str
) -> pd.DataFrame:
    """Every period with the aggregates (0 where none) and ``value`` per kind."""
    index = periods(start, end, freq)
    stats = [c for c in columns if c not in ("period", "value")]
    if raw.empty:
        out = pd.DataFrame(0.0, index=index, columns=stats)
    else:
        out = raw.groupby("period")[stats].sum().reindex(index, fill_value=0)
        out = out.astype("float64").fillna(0.0)
    n = out["n"].to_numpy(dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        if spec_kind == "count":
            value = n.copy()
        elif spec_kind == "proportion":
            value = np.where(n > 0, out["k"].to_numpy() / n, np.nan)
        elif spec_kind == "mean":
            value = np.where(n > 0, out["total"].to_numpy() / n, np.nan)
        else:
            diff = out["promoters"].to_numpy() - out["detractors"].to_numpy()
            value = np.where(n > 0, 100.0 * diff / n, np.nan)
    out.insert(0, "value", value)
    out = out.reset_index()
    for col in stats:
        if col not in ("total", "total_sq"):
            out[col] = out[col].round().astype("int64")
    return out[columns]


def _count_when(cond: ir.BooleanValue) -> ir.IntegerScalar:
    return ibis.cases((cond, 1), else_=0).sum()


# --- the metrics -----------------------------------------------------------------------------


def orders_series(
    src: Source, start: date, end: date, freq: str = "day", *, until: datetime | None = None
) -> pd.DataFrame:
    """Orders placed per period."""
    check_window(start, end, freq)
    rows = windowed(src, src.table("orders"), "purchased_at", start, end, freq, until=until)
    raw = _grouped(src, rows, n=rows.count())
    return _complete(raw, "count", ["period", "value", "n"], start, end, freq)


def late_share_series(
    src: Source, start: date, end: date, freq: str = "day", *, until: datetime | None = None
) -> pd.DataFrame:
    """Share of the orders delivered in each period that arrived after the promised date."""
    check_window(start, end, freq)
    orders = src.table("orders")
    orders = orders.filter(orders.estimated_delivery_at.notnull())
    rows = windowed(src, orders, "delivered_at", start, end, freq, until=until)
    # Promised dates lie days or weeks from the delivery: a wide exact range covers them.
    promised = window_local_time(
        src, rows.estimated_delivery_at, start, end, pad_days=PROMISE_PAD_DAYS
    ).date()
    rows = rows.mutate(late=window_local_time(src, rows.delivered_at, start, end).date() > promised)
    raw = _grouped(src, rows, n=rows.count(), k=_count_when(rows.late))
    return _complete(raw, "proportion", ["period", "value", "n", "k"], start, end, freq)


def _rating_rows(
    src: Source, start: date, end: date, freq: str, until: datetime | None = None
) -> ir.Table:
    reviews = src.table("reviews")
    rows = windowed(
        src, reviews.filter(reviews.rating.notnull()), "created_at", start, end, freq, until=until
    )
    check_scale(src, rows, "rating", 1, 5, what="reviews.rating")
    return rows


def mean_rating_series(
    src: Source, start: date, end: date, freq: str = "day", *, until: datetime | None = None
) -> pd.DataFrame:
    """Mean star rating of the reviews written in each period, with counts per star."""
    check_window(start, end, freq)
    rows = _rating_rows(src, start, end, freq, until)
    r = rows.rating.cast("float64")
    stars = {f"at_{s}": _count_when(rows.rating == s) for s in STARS}
    raw = _grouped(src, rows, n=rows.count(), total=r.sum(), total_sq=(r * r).sum(), **stars)
    return _complete(raw, "mean", METRICS["mean_rating"].columns(), start, end, freq)


def _rating_share(
    src: Source, start: date, end: date, freq: str, low: int, high: int, until: datetime | None
) -> pd.DataFrame:
    check_window(start, end, freq)
    rows = _rating_rows(src, start, end, freq, until)
    hit = (rows.rating >= low) & (rows.rating <= high)
    raw = _grouped(src, rows, n=rows.count(), k=_count_when(hit))
    return _complete(raw, "proportion", ["period", "value", "n", "k"], start, end, freq)


def bad_review_share_series(
    src: Source, start: date, end: date, freq: str = "day", *, until: datetime | None = None
) -> pd.DataFrame:
    """Share of the reviews written in each period with 1–2★."""
    return _rating_share(src, start, end, freq, 1, 2, until)


def good_review_rate_series(
    src: Source, start: date, end: date, freq: str = "day", *, until: datetime | None = None
) -> pd.DataFrame:
    """Share of the reviews written in each period with 4–5★ (the good-review rate)."""
    return _rating_share(src, start, end, freq, 4, 5, until)


def cases_opened_series(
    src: Source, start: date, end: date, freq: str = "day", *, until: datetime | None = None
) -> pd.DataFrame:
    """After-sales cases opened per period."""
    check_window(start, end, freq)
    rows = windowed(src, src.table("cases"), "opened_at", start, end, freq, until=until)
    raw = _grouped(src, rows, n=rows.count())
    return _complete(raw, "count", ["period", "value", "n"], start, end, freq)


def complaints_series(
    src: Source, start: date, end: date, freq: str = "day", *, until: datetime | None = None
) -> pd.DataFrame:
    """Complaint cases (not opened from a review) plus 1–2★ reviews, per period."""
    check_window(start, end, freq)
    if not (src.has("cases") or src.has("reviews")):
        raise InsightError("complaints need a cases or a reviews table")
    parts = []
    if src.has("cases"):
        cases = src.table("cases")
        cases = cases.filter(
            (cases.kind == "complaint")
            # The desk opens a follow-up case for a bad review (channel "review"): the review
            # is already counted.
            & (cases.channel.isnull() | (cases.channel != "review"))
        )
        rows = windowed(src, cases, "opened_at", start, end, freq, until=until)
        parts.append(_grouped(src, rows, n=rows.count()))
    if src.has("reviews"):
        rows = _rating_rows(src, start, end, freq, until)
        rows = rows.filter(rows.rating <= 2)
        parts.append(_grouped(src, rows, n=rows.count()))
    raw = pd.concat(parts, ignore_index=True)
    return _complete(raw, "count", ["period", "value", "n"], start, end, freq)


def _deadline_rows(
    src: Source, start: date, end: date, freq: str, until: datetime | None = None
) -> ir.Table:
    from manyi.insight.service import data_as_of

    cases = src.table("cases")
    done_at = ibis.coalesce(cases.resolved_at, cases.closed_at)
    first = cases.select(due=cases.first_response_due_at, met_at=cases.first_response_at)
    resolution = cases.select(due=cases.resolution_due_at, met_at=done_at)
    deadlines = first.union(resolution)
    rows = windowed(
        src, deadlines.filter(deadlines.due.notnull()), "due", start, end, freq, until=until
    )
    as_of = data_as_of(src)
    if as_of is not None:
        rows = rows.filter(rows.met_at.notnull() | (rows.due < as_of))
    return rows.mutate(missed=rows.met_at.isnull() | (rows.met_at > rows.due))


def sla_breaches_series(
    src: Source, start: date, end: date, freq: str = "day", *, until: datetime | None = None
) -> pd.DataFrame:
    """Share of the SLA deadlines due in each period that were missed."""
    check_window(start, end, freq)
    rows = _deadline_rows(src, start, end, freq, until)
    raw = _grouped(src, rows, n=rows.count(), k=_count_when(rows.missed))
    return _complete(raw, "proportion", ["period", "value", "n", "k"], start, end, freq)


def first_response_hours_series(
    src: Source, start: date, end: date, freq: str = "day", *, until: datetime | None = None
) -> pd.DataFrame:
    """Mean calendar hours to the first reply of the cases opened in each period."""
    check_window(start, end, freq)
    cases = src.table("cases")
    rows = windowed(
        src,
        cases.filter(cases.first_response_at.notnull()),
        "opened_at",
        start,
        end,
        freq,
        until=until,
    )
    hours = (rows.first_response_at.epoch_seconds() - rows.opened_at.epoch_seconds()).cast(
        "float64"
    ) / 3600.0
    rows = rows.mutate(hours=hours)
    raw = _grouped(
        src, rows, n=rows.count(), total=rows.hours.sum(), total_sq=(rows.hours * rows.hours).sum()
    )
    return _complete(raw, "mean", ["period", "value", "n", "total", "total_sq"], start, end, freq)


def csat_series(
    src: Source, start: date, end: date, freq: str = "day", *, until: datetime | None = None
) -> pd.DataFrame:
    """CSAT (share of 4–5 answers on 1–5) of the answers given in each period."""
    check_window(start, end, freq)
    rows = windowed(
        src, survey_rows(src, "csat", items=["csat"]), "answered_at", start, end, freq, until=until
    )
    check_scale(src, rows, "value", 1, 5, what="survey_answers.value (csat)")
    raw = _grouped(src, rows, n=rows.count(), k=_count_when(rows.value >= 4))
    return _complete(raw, "proportion", ["period", "value", "n", "k"], start, end, freq)


def nps_series(
    src: Source, start: date, end: date, freq: str = "day", *, until: datetime | None = None
) -> pd.DataFrame:
    """NPS of the 0–10 answers given in each period."""
    check_window(start, end, freq)
    rows = windowed(
        src, survey_rows(src, "nps", items=["nps"]), "answered_at", start, end, freq, until=until
    )
    check_scale(src, rows, "value", 0, 10, what="survey_answers.value (nps)")
    raw = _grouped(
        src,
        rows,
        n=rows.count(),
        promoters=_count_when(rows.value >= 9),
        detractors=_count_when(rows.value <= 6),
    )
    return _complete(
        raw, "nps", ["period", "value", "n", "promoters", "detractors"], start, end, freq
    )


def _spec(
    name: str,
    kind: MetricKind,
    en: str,
    zh: str,
    unit: str,
    worse: Worse,
    tables: tuple[str, ...],
    compute: SeriesFunction,
    **extra: object,
) -> MetricSpec:
    return MetricSpec(name, kind, {"en": en, "zh": zh}, unit, worse, tables, compute, **extra)  # type: ignore[arg-type]


#: name → spec, in the order reports list them.
METRICS: dict[str, MetricSpec] = {
    "orders": _spec(
        "orders", "count", "Orders", "订单数", "count", "both", ("orders",), orders_series
    ),
    "late_share": _spec(
        "late_share",
        "proportion",
        "Late deliveries",
        "延迟送达占比",
        "share",
        "up",
        ("orders",),
        late_share_series,
    ),
    "mean_rating": _spec(
        "mean_rating",
        "mean",
        "Mean rating",
        "平均评分",
        "stars",
        "down",
        ("reviews",),
        mean_rating_series,
        levels=STARS,
    ),
    "bad_review_share": _spec(
        "bad_review_share",
        "proportion",
        "1–2★ share",
        "差评（1–2★）占比",
        "share",
        "up",
        ("reviews",),
        bad_review_share_series,
    ),
    "good_review_rate": _spec(
        "good_review_rate",
        "proportion",
        "Good-review rate",
        "好评率",
        "share",
        "down",
        ("reviews",),
        good_review_rate_series,
    ),
    "cases_opened": _spec(
        "cases_opened",
        "count",
        "Cases opened",
        "新建工单",
        "count",
        "up",
        ("cases",),
        cases_opened_series,
    ),
    "complaints": _spec(
        "complaints",
        "count",
        "Complaints",
        "投诉",
        "count",
        "up",
        ("reviews", "cases"),
        complaints_series,
    ),
    "sla_breaches": _spec(
        "sla_breaches",
        "proportion",
        "SLA breaches",
        "SLA 超时占比",
        "share",
        "up",
        ("cases",),
        sla_breaches_series,
    ),
    "first_response_hours": _spec(
        "first_response_hours",
        "mean",
        "First response time",
        "首次响应时长",
        "hours",
        "up",
        ("cases",),
        first_response_hours_series,
    ),
    "csat": _spec(
        "csat",
        "proportion",
        "CSAT",
        "CSAT 满意度",
        "share",
        "down",
        ("survey_responses", "survey_answers"),
        csat_series,
        instrument="csat",
    ),
    "nps": _spec(
        "nps",
        "nps",
        "NPS",
        "NPS 净推荐值",
        "points",
        "down",
        ("survey_responses", "survey_answers"),
        nps_series,
        instrument="nps",
    ),
}


def get_metric(name: str) -> MetricSpec:
    """The spec of metric ``name``; :class:`InsightError` naming the known ones otherwise."""
    try:
        return METRICS[name]
    except KeyError:
        raise InsightError(f"unknown metric {name!r}; choose one of {', '.join(METRICS)}") from None


def supports(src: Source, name: str) -> bool:
    """Whether ``src`` has the tables (and survey answers) metric ``name`` needs."""
    spec = get_metric(name)
    if spec.name == "complaints":
        return src.has("cases") or src.has("reviews")
    if not all(src.has(t) for t in spec.tables):
        return False
    return spec.instrument is None or has_surveys(src, spec.instrument)


def available_metrics(src: Source) -> list[str]:
    """The metrics ``src`` can compute, in registry order.

    Examples
    --------
    >>> from manyi.data.samples import sample_path
    >>> from manyi.insight.sources import open_source
    >>> from manyi.insight.monitor.series import available_metrics
    >>> available_metrics(open_source(f"olist:{sample_path('olist')}"))
    ['orders', 'late_share', 'mean_rating', 'bad_review_share', 'good_review_rate', 'complaints']
    """
    return [name for name in METRICS if supports(src, name)]


def metric_series(
    src: Source,
    name: str,
    start: date,
    end: date,
    freq: str = "day",
    *,
    until: datetime | None = None,
) -> pd.DataFrame:
    """The tidy series of metric ``name`` over shop-local days ``start``..``end``.

    ``until`` (an aware instant) leaves out events after it (the live view's "now").

    Raises
    ------
    InsightError
        Unknown metric or frequency, or a window that ends before it starts.
    SourceError
        When the source lacks a table the metric needs.
    """
    spec = get_metric(name)
    check_window(start, end, freq)
    return spec.compute(src, start, end, freq, until=until)
