"""The bridge from the desk database to ``manyi.insight``: open it as a source, slice it.

Dashboards, alerts, the live view and campaign reviews never aggregate through the ORM: they
open the desk database the way ``manyi report --source <database URL>`` does — DuckDB attaches
it read-only (SQLite through the sqlite scanner, PostgreSQL through the postgres scanner) — and
run the library's Ibis expressions there. The operational database only serves plain scans to
DuckDB, with no locks held (SQLite in WAL mode, PostgreSQL in a read-only snapshot).

Slicing (seller, category, channel, team) is done once, here, by narrowing the raw tables the
source hands to every metric: every library function then computes on the slice unchanged.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import ibis.expr.datatypes as dt
from django.conf import settings
from django.db import connections

from manyi.desk.dashboards.filters import DashboardFilters
from manyi.insight.sources import Source, open_source

if TYPE_CHECKING:
    import ibis.expr.types as ir


def desk_source_spec(alias: str = "default") -> str:
    """The source spec of the desk database (``sqlite:///…`` or ``postgresql://…``).

    Read from the live connection settings, so a test database (or any alias) is what is
    opened.
    """
    connection = connections[alias]
    params = connection.settings_dict
    if connection.vendor == "sqlite":
        name = connection.settings_dict["NAME"]
        return f"sqlite:///{name}"
    auth = quote(params.get("USER") or "", safe="")
    if params.get("PASSWORD"):
        auth += ":" + quote(params["PASSWORD"], safe="")
    host = params.get("HOST") or "localhost"
    port = f":{params['PORT']}" if params.get("PORT") else ""
    at = f"{auth}@" if auth else ""
    return f"postgresql://{at}{host}{port}/{params['NAME']}"


def database_identity(alias: str = "default") -> str:
    """What tells two desk databases apart in a shared cache (engine, host, name)."""
    params = connections[alias].settings_dict
    return f"{connections[alias].vendor}:{params.get('HOST') or ''}:{params['NAME']}"


def shop_timezone() -> str:
    """The shop's zone: calendar days, periods and "late" are taken there."""
    return str(settings.TIME_ZONE)


def open_desk_source(*, threads: int | None = None) -> Source:
    """The desk database as a :class:`~manyi.insight.sources.Source` on DuckDB (read-only).

    ``MANYI_ANALYSIS_THREADS`` / ``MANYI_ANALYSIS_MEMORY_LIMIT`` (settings) bound DuckDB, so
    analysis cannot starve the web workers of a small machine. The caller closes it.
    """
    limit = getattr(settings, "MANYI_ANALYSIS_MEMORY_LIMIT", None) or None
    if threads is None:
        threads = getattr(settings, "MANYI_ANALYSIS_THREADS", None) or None
    return open_source(
        desk_source_spec(),
        timezone=shop_timezone(),
        memory_limit=limit,
        threads=int(threads) if threads else None,
    )


# Opening costs ~0.5 s (the scanner extension, ATTACH, one schema query per table), more than
# most dashboard blocks take to compute: each thread keeps its source open and reuses it. The
# scanners read the database at query time, so a reused source sees every committed change;
# what it caches is the schema only.
_local = threading.local()
_opened: list[Source] = []
_opened_lock = threading.Lock()
#: One analysis at a time per process. Each thread has its own DuckDB connection, but two
#: connections of one process scanning the same SQLite file at once crashed DuckDB 1.5.5
#: natively (a live-view refresh in a server thread during a campaign review); the results
#: are cached, so serialising costs little.
_analysis_lock = threading.RLock()


def _pooled() -> Source:
    key = (desk_source_spec(), shop_timezone())
    current: tuple[tuple[str, str], Source] | None = getattr(_local, "source", None)
    if current is not None and current[0] == key:
        return current[1]
    src = open_desk_source()
    _nullable_case_ids(src)
    with _opened_lock:
        _opened.append(src)
    _local.source = (key, src)
    return src


def _nullable_case_ids(src: Source) -> None:
    """Give ``cases.case_id`` and ``case_events.case_id`` one nullability.

    Through DuckDB's sqlite scanner both are ``NOT NULL``, and ``manyi.insight.service.backlog``
    unions rows of the two tables after a join that Ibis types as nullable on one side only:
    the union then fails ("Table schemas must be equal"). A cast to a nullable ``int64``
    changes no value.
    """
    for name in ("cases", "case_events"):
        if name in src.raw:
            table = src.raw[name]
            src.raw[name] = table.mutate(case_id=table.case_id.cast(dt.Int64(nullable=True)))


def close_pooled_sources() -> None:
    """Close every pooled source (tests before dropping a database; benchmarks between runs)."""
    with _opened_lock:
        sources = list(_opened)
        _opened.clear()
    for src in sources:
        src.close()
    _local.__dict__.pop("source", None)


def _release(src: Source) -> None:
    """Drop what one use of a pooled source materialised, keeping the connection."""
    for table in src._memo.values():
        release = getattr(table, "release", None)
        if release is not None:
            release()
    src._memo.clear()


@contextmanager
def desk_source(filters: DashboardFilters | None = None) -> Iterator[Source]:
    """``with desk_source(filters) as src:`` the (sliced) desk source of this thread.

    The source is pooled per thread (see above); do not close it.
    """
    with _analysis_lock:
        base = _pooled()
        src = dataclasses.replace(base, _cleanup=[], _cache={}, _memo={})
        sliced = slice_source(src, filters) if filters is not None else src
        try:
            yield sliced
        finally:
            _release(sliced)
            _release(src)


def desk_table(src: Source, name: str) -> ir.Table:
    """A desk table that is not canonical (``review_aspects``, ``macros``, ...) on ``src``'s
    DuckDB connection, so it joins with the canonical tables."""
    return src.con.table(name, database="desk")


def slice_source(src: Source, f: DashboardFilters) -> Source:
    """``src`` narrowed to the filters' seller, category, channel and team.

    * seller / category: the orders with at least one item of that seller / category (whole
      orders), their items of that seller / category, payments, reviews, the cases about those
      orders and survey responses about those orders or cases;
    * channel / team: the cases of that contact channel / team, and only the survey responses
      sent after those cases (ratings, orders and reviews have neither and stay whole).

    The returned source shares ``src``'s connection: close ``src``, not the slice.
    """
    if not (f.orders_sliced or f.cases_sliced):
        return src
    raw: dict[str, Any] = dict(src.raw)
    has = raw.__contains__
    if f.orders_sliced and has("order_items") and has("orders"):
        items = raw["order_items"]
        if f.seller:
            items = items.filter(items.seller_id == f.seller)
        if f.category and has("products"):
            products = raw["products"]
            chosen = products.filter(products.category == f.category)
            items = items.filter(items.product_id.isin(chosen.product_id))
        order_ids = items.select("order_id").distinct()
        raw["order_items"] = items
        for name in ("orders", "reviews", "payments"):
            if has(name):
                table = raw[name]
                raw[name] = table.filter(table.order_id.isin(order_ids.order_id))
        if has("cases"):
            cases = raw["cases"]
            raw["cases"] = cases.filter(cases.order_id.isin(order_ids.order_id))
    if f.cases_sliced and has("cases"):
        cases = raw["cases"]
        if f.channel:
            cases = cases.filter(cases.channel == f.channel)
        if f.team:
            cases = cases.filter(cases.team == f.team)
        raw["cases"] = cases
    if has("survey_responses"):
        responses = raw["survey_responses"]
        if f.cases_sliced and has("cases"):
            responses = responses.filter(responses.case_id.isin(raw["cases"].case_id))
        elif f.orders_sliced and has("orders"):
            keep = responses.order_id.isin(raw["orders"].order_id)
            if has("cases"):
                keep = keep | responses.case_id.isin(raw["cases"].case_id)
            responses = responses.filter(keep)
        raw["survey_responses"] = responses
        if has("survey_answers"):
            answers = raw["survey_answers"]
            raw["survey_answers"] = answers.filter(answers.response_id.isin(responses.response_id))
    if has("case_events") and has("cases"):
        events = raw["case_events"]
        raw["case_events"] = events.filter(events.case_id.isin(raw["cases"].case_id))
    return dataclasses.replace(src, raw=raw, _cleanup=[], _cache={}, _memo={})
