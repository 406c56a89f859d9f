"""The bridge from the desk database to ``manyi.insight``: open it as a source, slice it.

Dashboards, alerts, the live view and campaign reviews never aggregate through the ORM: they
open the desk database the way ``manyi report --source <database URL>`` does — DuckDB attaches
it read-only (SQLite through the sqlite scanner, PostgreSQL through the postgres scanner) — and
run the library's Ibis expressions there. The operational database only serves plain scans to
DuckDB, with no locks held (PostgreSQL in a read-only snapshot). A SQLite desk database is not
attached itself but as a consistent copy taken with SQLite's backup API and retaken after each
commit: DuckDB's own SQLite must never open a WAL file that Django's SQLite uses in the same
process (``manyi.desk.dashboards.snapshot`` explains the crash that causes).

Slicing (seller, category, channel, team) is done once, here, by narrowing the raw tables the
source hands to every metric: every library function then computes on the slice unchanged.
"""

from __future__ import annotations

import dataclasses
import hashlib
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import ibis.expr.datatypes as dt
from django.conf import settings
from django.db import connections

from manyi.desk.dashboards.filters import DashboardFilters
from manyi.desk.dashboards.snapshot import (
    Snapshot,
    SnapshotStore,
    process_directory,
    take_private_copy,
)
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
    analysis cannot starve the web workers of a small machine. The caller closes it. A SQLite
    database is read from a private consistent copy taken now (deleted on close), so the
    source does not see later commits.
    """
    if connections["default"].vendor == "sqlite":
        copy = take_private_copy(Path(connections["default"].settings_dict["NAME"]))
        src = _open_duckdb(f"sqlite:///{copy}", threads=threads)
        src._cleanup.append(copy.parent)
        return src
    return _open_duckdb(desk_source_spec(), threads=threads)


def _open_duckdb(spec: str, *, threads: int | None = None) -> Source:
    limit = getattr(settings, "MANYI_ANALYSIS_MEMORY_LIMIT", None) or None
    if threads is None:
        threads = getattr(settings, "MANYI_ANALYSIS_THREADS", None) or None
    src = open_source(
        spec,
        timezone=shop_timezone(),
        memory_limit=limit,
        threads=int(threads) if threads else None,
    )
    # The report names the desk database, not the copy it was read from.
    return dataclasses.replace(src, spec=desk_source_spec())


# Opening costs ~0.5 s (the scanner extension, ATTACH, one schema query per table), more than
# most dashboard blocks take to compute: each thread keeps its source open and reuses it. On
# PostgreSQL the scanner reads the database at query time, so a reused source sees every
# committed change; on SQLite the source is re-attached (a few ms) to the current snapshot at
# the start of each use. What a source caches is the schema only.
_local = threading.local()
_opened: list[Source] = []
_opened_lock = threading.Lock()
#: Moves on each close_pooled_sources(): a thread that outlived it (a kept-alive server
#: connection) then opens a new source instead of using its closed one.
_generation = 0
#: SQLite only: the snapshot store of each desk database file this process analyses.
_stores: dict[Path, SnapshotStore] = {}
_stores_lock = threading.Lock()


@dataclasses.dataclass
class _Pooled:
    key: tuple[str, str]
    generation: int
    source: Source
    #: The snapshot attached as ``desk`` (SQLite), ``None`` on PostgreSQL.
    attached: Path | None


def _snapshot_store() -> SnapshotStore:
    database = Path(connections["default"].settings_dict["NAME"]).resolve()
    with _stores_lock:
        store = _stores.get(database)
        if store is None:
            parent = Path(
                getattr(settings, "MANYI_ANALYSIS_SNAPSHOT_DIR", None)
                or Path(settings.HOME) / "cache" / "analysis-snapshots"
            )
            # One folder per process (snapshots are private to it), one per database in it.
            digest = hashlib.sha256(str(database).encode()).hexdigest()[:12]
            store = SnapshotStore(database, process_directory(parent) / digest)
            _stores[database] = store
        return store


@contextmanager
def _held_snapshot() -> Iterator[Snapshot | None]:
    """The snapshot DuckDB reads, kept from deletion while in use (``None`` on PostgreSQL)."""
    if connections["default"].vendor != "sqlite":
        yield None
        return
    store = _snapshot_store()
    snapshot = store.acquire()
    try:
        yield snapshot
    finally:
        store.release(snapshot)


def _pooled(snapshot: Snapshot | None) -> Source:
    key = (desk_source_spec(), shop_timezone())
    path = snapshot.path if snapshot is not None else None
    current: _Pooled | None = getattr(_local, "pooled", None)
    if current is not None and current.key == key and current.generation == _generation:
        if current.attached != path:
            # Same database, same schema: only the file behind the ``desk`` catalog changes, so
            # the Ibis tables (bound by catalog and name) stay valid.
            current.source.con.raw_sql("DETACH desk")
            current.source.con.raw_sql(
                f"ATTACH '{_quoted(str(path))}' AS desk (TYPE sqlite, READ_ONLY)"
            )
            current.attached = path
        return current.source
    src = _open_duckdb(f"sqlite:///{path}") if path is not None else _open_duckdb(key[0])
    _nullable_case_ids(src)
    with _opened_lock:
        _opened.append(src)
        generation = _generation
    _local.pooled = _Pooled(key, generation, src, path)
    return src


def _quoted(text: str) -> str:
    return text.replace("'", "''")


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
    """Close every pooled source and delete the snapshots (tests before dropping a database;
    benchmarks between runs)."""
    global _generation
    with _opened_lock:
        sources = list(_opened)
        _opened.clear()
        _generation += 1
    for src in sources:
        src.close()
    _local.__dict__.pop("pooled", None)
    with _stores_lock:
        stores = list(_stores.values())
        _stores.clear()
    for store in stores:
        store.close()


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

    The source is pooled per thread (see above); do not close it. On SQLite it reads a snapshot
    no older than the last commit before the call (see ``manyi.desk.dashboards.snapshot``).
    """
    with _held_snapshot() as snapshot:
        base = _pooled(snapshot)
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
