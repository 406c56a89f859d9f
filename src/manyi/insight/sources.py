"""Open the canonical tables of a data source as Ibis tables on a chosen engine.

A *spec* names where the tables live:

``sqlite:///path.db`` / ``postgresql://user@host/db``
    the desk database. With ``engine="duckdb"`` it is attached read-only through DuckDB's
    sqlite/postgres scanner (loaded offline from the ``duckdb-extension-*`` packages); with
    ``engine="sqlite"`` / ``engine="postgres"`` the metrics run on the database itself.
``parquet:DIR`` / ``csv:DIR``
    one file per canonical table, ``DIR/<table>.parquet`` or ``DIR/<table>.csv``.
``olist:DIR``
    an Olist Kaggle file set read directly (see :mod:`manyi.insight.olist_source`).

``engine="spark"`` runs the same expressions on PySpark (local mode unless a session is passed).
Files are read by Spark itself; a database or an Olist file set is first copied to Parquet
through DuckDB.

Whatever the source, :meth:`Source.table` returns the canonical columns with one type per kind:
timestamps as ``timestamp('UTC')``, money as ``float64`` (sums of cents are exact far beyond any
shop's turnover in binary floating point; the report rounds to cents), integers as ``int64``.
Extra columns (the desk's surrogate ``id``) are dropped; a missing nullable column reads as null.

Examples
--------
>>> from manyi.data.samples import sample_path
>>> from manyi.insight.sources import open_source
>>> src = open_source(f"olist:{sample_path('olist')}")   # the bundled 3,000-order sample
>>> src.table("reviews").count().execute()
2980
"""

from __future__ import annotations

import functools
import re
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import ibis
import ibis.expr.datatypes as dt

from manyi.data.schema import TABLES, ColumnType
from manyi.insight.errors import SourceError
from manyi.insight.survey_tables import SURVEY_TABLES

if TYPE_CHECKING:
    import ibis.expr.types as ir
    from ibis.backends import BaseBackend

ENGINES = ("duckdb", "spark", "sqlite", "postgres")

_DTYPES: dict[ColumnType, dt.DataType] = {
    ColumnType.STRING: dt.string,
    ColumnType.INTEGER: dt.int64,
    ColumnType.DECIMAL: dt.float64,
    ColumnType.FLOAT: dt.float64,
    ColumnType.TIMESTAMP: dt.Timestamp(timezone="UTC"),
    ColumnType.BOOLEAN: dt.boolean,
}

#: Every table the analysis may read: the shop tables and the two survey tables.
KNOWN_TABLES: dict[str, dict[str, tuple[dt.DataType, bool]]] = {
    **{
        name: {c.name: (_DTYPES[c.type], c.nullable) for c in table.columns}
        for name, table in TABLES.items()
    },
    **SURVEY_TABLES,
}


@dataclass
class Source:
    """The canonical tables of one data source on one engine.

    Parameters
    ----------
    con
        The Ibis backend the expressions run on.
    engine
        ``"duckdb"``, ``"spark"``, ``"sqlite"`` or ``"postgres"``.
    raw
        The raw Ibis tables by canonical name (only the tables the source has).
    timezone
        The shop's zone (IANA name): calendar dates (late delivery, periods) are taken there.
    spec
        The spec the source was opened from (for the report's header).
    """

    con: BaseBackend
    engine: str
    raw: dict[str, ir.Table]
    timezone: str = "UTC"
    spec: str = ""
    _cleanup: list[Path] = field(default_factory=list, repr=False)
    _cache: dict[str, ir.Table] = field(default_factory=dict, repr=False)
    _memo: dict[tuple[object, ...], ir.Table] = field(default_factory=dict, repr=False)
    _macros: set[str] = field(default_factory=set, repr=False)
    #: Data checks that passed on this source (see :func:`manyi.insight.ratings.check_scale`),
    #: so that the sections sharing a table check it once.
    passed_checks: set[tuple[object, ...]] = field(default_factory=set, repr=False)

    def has(self, name: str) -> bool:
        """Whether the source holds table ``name``."""
        return name in self.raw

    def table(self, name: str) -> ir.Table:
        """Canonical table ``name`` with canonical column names and types.

        Raises
        ------
        SourceError
            When the table is missing or lacks a required column.
        """
        if name in self._cache:
            return self._cache[name]
        if name not in KNOWN_TABLES:
            raise SourceError(f"unknown table {name!r}; known: {', '.join(KNOWN_TABLES)}")
        if name not in self.raw:
            raise SourceError(f"source {self.spec!r} has no table {name!r}")
        raw = self.raw[name]
        have = set(raw.columns)
        cols: dict[str, ir.Value] = {}
        for col, (dtype, nullable) in KNOWN_TABLES[name].items():
            if col in have:
                # Cast only on a real type difference: a cast on a key column hides its index
                # from SQLite/PostgreSQL (nullability alone is no difference).
                cols[col] = raw[col] if _same_kind(raw[col].type(), dtype) else raw[col].cast(dtype)
            elif nullable:
                cols[col] = ibis.null().cast(dtype)
            else:
                raise SourceError(f"table {name!r} of {self.spec!r} lacks required column {col!r}")
        if name == "survey_responses" and "channel" in have:
            cols["channel"] = raw["channel"].cast(dt.string)
        out = raw.select(**cols)
        self._cache[name] = out
        return out

    def memo(self, key: tuple[object, ...], build: Callable[[], ir.Table]) -> ir.Table:
        """An intermediate table computed once per source and reused by several metrics.

        On DuckDB it is materialised (``Table.cache``), elsewhere only the expression is kept.
        Callers key it by everything it depends on (function name and arguments).
        """
        if key not in self._memo:
            table = build()
            self._memo[key] = table.cache() if self.engine == "duckdb" else table
        return self._memo[key]

    def local_time(self, ts: ir.TimestampValue) -> ir.TimestampValue:
        """Wall-clock time of UTC timestamp ``ts`` in the source's zone (naive)."""
        if self.timezone == "UTC":
            return ts
        if self.engine == "duckdb":
            return self._duckdb_local_time(ts)
        return _local_time(self.engine, ts, self.timezone)

    def _duckdb_local_time(self, ts: ir.TimestampValue) -> ir.TimestampValue:
        # The zone's offset search tree (~180 CASE nodes for 1900-2100) lives in a macro on the
        # connection, defined once: spelled out in every query it made Ibis spend ~0.02 s per
        # use compiling it and DuckDB parse 30 kB of SQL (0.4 s per report on any data size).
        name = "manyi_utc_offset_us_" + re.sub(r"[^a-z0-9]+", "_", self.timezone.lower())
        if name not in self._macros:
            body = _offset_sql("us", self.timezone, 1_000_000)
            self.con.raw_sql(f"CREATE OR REPLACE TEMP MACRO {name}(us) AS CAST({body} AS BIGINT)")
            self._macros.add(name)
        utc = dt.Timestamp(timezone="UTC")
        epoch_us = ibis.udf.scalar.builtin(_noop1, name="epoch_us", signature=((utc,), dt.int64))
        offset = ibis.udf.scalar.builtin(_noop1, name=name, signature=((dt.int64,), dt.int64))
        make_timestamp = ibis.udf.scalar.builtin(
            _noop1, name="make_timestamp", signature=((dt.int64,), dt.timestamp)
        )
        micros = epoch_us(ts)
        result: ir.TimestampValue = make_timestamp(micros + offset(micros))
        return result

    def epoch_seconds(self, ts: ir.TimestampValue) -> ir.IntegerValue:
        """Seconds since 1970-01-01 UTC of UTC timestamp ``ts`` (``ts.epoch_seconds()``).

        On DuckDB Ibis spells this ``EPOCH(CAST(ts AS TIMESTAMP))``: the cast of a zoned
        timestamp goes through ICU (~150 ns a value, 1.5 s per column of 10M orders) only to
        land on the same instant; ``EPOCH(ts)`` reads it directly (the same DOUBLE).
        """
        if self.engine != "duckdb":
            return ts.epoch_seconds()
        epoch = ibis.udf.scalar.builtin(
            _noop1,
            name="epoch",
            signature=((dt.Timestamp(timezone="UTC"),), ts.epoch_seconds().type()),
        )
        result: ir.IntegerValue = epoch(ts)
        return result

    def local_date(self, ts: ir.TimestampValue) -> ir.DateValue:
        """Calendar date of UTC timestamp ``ts`` in the source's zone."""
        return self.local_time(ts).date()

    def execute(self, expr: ir.Expr) -> Any:
        """Run ``expr`` on the source's engine and return pandas objects."""
        return self.con.execute(expr)

    def close(self) -> None:
        """Release the connection (not a shared Spark session) and temporary copies."""
        for table in self._memo.values():
            release = getattr(table, "release", None)  # materialised on DuckDB
            if release is not None:
                release()
        self._memo.clear()
        if self.engine != "spark":
            disconnect = getattr(self.con, "disconnect", None)
            if disconnect is not None:
                disconnect()
        for path in self._cleanup:
            shutil.rmtree(path, ignore_errors=True)
        self._cleanup.clear()

    def __enter__(self) -> Source:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _same_kind(have: dt.DataType, want: dt.DataType) -> bool:
    if have.is_string() and want.is_string():
        return True  # varchar(255) is a string
    if have.is_integer() and want.is_integer():
        return True
    return bool(have.copy(nullable=True) == want)


def _local_time(engine: str, ts: ir.TimestampValue, zone: str) -> ir.TimestampValue:
    # Each engine spells "UTC instant -> wall clock in zone" differently; Ibis has no portable op.
    utc = dt.Timestamp(timezone="UTC")
    if engine == "duckdb":
        # DuckDB's timezone() goes through ICU at ~250 ns a value; adding the zone's UTC offset
        # (a small search tree over its transitions) to the epoch is ~8x faster on 10M rows.
        epoch_us = ibis.udf.scalar.builtin(_noop1, name="epoch_us", signature=((utc,), dt.int64))
        make_timestamp = ibis.udf.scalar.builtin(
            _noop1, name="make_timestamp", signature=((dt.int64,), dt.timestamp)
        )
        micros = epoch_us(ts)
        offset = _offset_expr(micros, zone, 1_000_000)
        return make_timestamp(micros + offset)
    if engine == "postgres":
        fn = ibis.udf.scalar.builtin(
            _noop2, name="timezone", signature=((dt.string, utc), dt.timestamp)
        )
        return fn(zone, ts)
    if engine == "spark":
        fn = ibis.udf.scalar.builtin(
            _noop2, name="from_utc_timestamp", signature=((utc, dt.string), dt.timestamp)
        )
        return fn(ts, zone)
    if engine == "sqlite":
        # SQLite has no zones at all: shift the epoch by the offset, then datetime(unixepoch).
        from_unix = ibis.udf.scalar.builtin(
            _noop2, name="datetime", signature=((dt.int64, dt.string), dt.string)
        )
        seconds = ts.epoch_seconds()
        local = from_unix(seconds + _offset_expr(seconds, zone, 1), "unixepoch")
        return local.cast(dt.timestamp)
    raise SourceError(f"unknown engine {engine!r}")


def _noop1(a: Any) -> Any:  # pragma: no cover - placeholder body of a builtin UDF
    return None


def _noop2(a: Any, b: Any) -> Any:  # pragma: no cover - placeholder body of a builtin UDF
    return None


@functools.cache
def zone_transitions(zone: str) -> tuple[tuple[int, int], ...]:
    """``(from_epoch_second, utc_offset_seconds)`` of ``zone`` from 1900 to 2100, in order.

    Examples
    --------
    >>> from manyi.insight.sources import zone_transitions
    >>> zone_transitions("UTC")
    ((-2208988800, 0),)
    >>> zone_transitions("America/Sao_Paulo")[-1]   # Brazil's last DST ended 17 Feb 2019
    (1550368800, -10800)
    """
    from datetime import UTC, datetime, timedelta
    from zoneinfo import ZoneInfo

    tz = ZoneInfo(zone)
    start = datetime(1900, 1, 1, tzinfo=UTC)

    def offset(at: datetime) -> int:
        delta = at.astimezone(tz).utcoffset()
        return int(delta.total_seconds()) if delta is not None else 0

    out = [(int(start.timestamp()), offset(start))]
    step = timedelta(days=7)  # no zone changes its offset twice within a week
    at = start
    while at.year < 2100:
        nxt = at + step
        if offset(nxt) != offset(at):
            lo, hi = at, nxt  # bisect to the second of the change
            while hi - lo > timedelta(seconds=1):
                mid = lo + (hi - lo) / 2
                lo, hi = (mid, hi) if offset(mid) == offset(lo) else (lo, mid)
            out.append((int(hi.timestamp()), offset(hi)))
        at = nxt
    return tuple(out)


def _offset_sql(epoch: str, zone: str, scale: int) -> str:
    """:func:`_offset_expr` as SQL text on column or parameter ``epoch``."""
    changes = zone_transitions(zone)

    def tree(lo: int, hi: int) -> str:
        if lo == hi:
            return str(changes[lo][1] * scale)
        mid = (lo + hi + 1) // 2
        at = changes[mid][0] * scale
        return f"CASE WHEN {epoch} < {at} THEN {tree(lo, mid - 1)} ELSE {tree(mid, hi)} END"

    return tree(0, len(changes) - 1)


def _offset_expr(epoch: ir.IntegerValue, zone: str, scale: int) -> ir.IntegerValue:
    """UTC offset of ``zone`` at ``epoch`` (in units of 1/``scale`` s) as a balanced CASE tree."""
    changes = zone_transitions(zone)

    def tree(lo: int, hi: int) -> ir.IntegerValue:
        if lo == hi:
            return ibis.literal(changes[lo][1] * scale, type=dt.int64)
        mid = (lo + hi + 1) // 2
        return ibis.ifelse(epoch < changes[mid][0] * scale, tree(lo, mid - 1), tree(mid, hi))

    return tree(0, len(changes) - 1)


def open_source(
    spec: str,
    engine: str = "duckdb",
    *,
    timezone: str | None = None,
    spark_session: Any = None,
    memory_limit: str | None = None,
    threads: int | None = None,
) -> Source:
    """Open ``spec`` and return its canonical tables on ``engine``.

    Parameters
    ----------
    spec
        ``sqlite:///path.db``, ``postgresql://...``, ``parquet:DIR``, ``csv:DIR`` or
        ``olist:DIR``.
    engine
        ``"duckdb"`` (default), ``"spark"``, or ``"sqlite"`` / ``"postgres"`` to run on the
        database itself (only with a database URL of that kind).
    timezone
        The shop's zone for calendar dates; default ``America/Sao_Paulo`` for Olist, else UTC.
    spark_session
        An existing ``pyspark.sql.SparkSession`` for ``engine="spark"``; by default a local one
        is started (see :func:`manyi.insight.spark.local_spark_session`).
    memory_limit, threads
        DuckDB's ``memory_limit`` (e.g. ``"3GB"``; beyond it DuckDB spills to a temporary
        directory) and worker threads. Default: DuckDB's own (80 % of RAM, all cores).

    Returns
    -------
    Source

    Raises
    ------
    SourceError
        Unknown spec or engine, missing directory, or an engine that cannot read the spec.

    Examples
    --------
    >>> from manyi.insight.sources import open_source
    >>> src = open_source("parquet:/nonexistent")
    Traceback (most recent call last):
    ...
    manyi.insight.errors.SourceError: parquet:/nonexistent: directory /nonexistent does not exist
    """
    if engine not in ENGINES:
        raise SourceError(f"unknown engine {engine!r}; choose one of {', '.join(ENGINES)}")
    if memory_limit is not None and not re.fullmatch(
        r"\d+(\.\d+)?\s*[KMGT]i?B", memory_limit, re.IGNORECASE
    ):
        raise SourceError(f"memory limit {memory_limit!r}: write it like 3GB or 512MB")
    if threads is not None and threads < 1:
        raise SourceError("threads must be at least 1")
    source = _open(spec, engine, timezone, spark_session)
    if source.engine == "duckdb":
        _configure_duckdb(source, memory_limit, threads)
    return source


def _configure_duckdb(source: Source, memory_limit: str | None, threads: int | None) -> None:
    if memory_limit is not None:
        spill = Path(tempfile.mkdtemp(prefix="manyi-duckdb-"))
        source._cleanup.append(spill)
        source.con.raw_sql(f"SET memory_limit = '{memory_limit}'")
        source.con.raw_sql(f"SET temp_directory = '{_quote(str(spill))}'")
        # Row order of intermediate results is never relied on (every metric sorts).
        source.con.raw_sql("SET preserve_insertion_order = false")
    if threads is not None:
        source.con.raw_sql(f"SET threads TO {int(threads)}")


def _open(spec: str, engine: str, timezone: str | None, spark_session: Any) -> Source:
    kind, _, rest = spec.partition(":")
    kind = kind.lower()
    if kind in ("sqlite", "postgresql", "postgres"):
        return _open_database(spec, kind, engine, timezone or "UTC", spark_session)
    if kind in ("parquet", "csv", "olist"):
        directory = Path(rest).expanduser()
        if not directory.is_dir():
            raise SourceError(f"{spec}: directory {directory} does not exist")
        if kind == "olist":
            return _open_olist(spec, directory, engine, timezone, spark_session)
        return _open_files(spec, kind, directory, engine, timezone or "UTC", spark_session)
    raise SourceError(
        f"cannot read source {spec!r}: expected sqlite:///FILE, postgresql://..., "
        "parquet:DIR, csv:DIR or olist:DIR"
    )


def _sqlite_path(spec: str) -> Path:
    # sqlite:///relative.db and sqlite:////absolute.db, as SQLAlchemy/Django URLs spell them.
    path = spec.split(":", 1)[1]
    if path.startswith("///"):
        path = path[3:]
    elif path.startswith("//"):
        path = path[2:]
    return Path(path)


def _load_scanner(con: Any, name: str) -> None:
    import importlib

    package = importlib.import_module(f"duckdb_extension_{name}")
    found = sorted(Path(str(package.__path__[0])).glob(f"extensions/*/{name}.duckdb_extension"))
    if not found:
        raise SourceError(f"the DuckDB {name} extension is not installed (duckdb-extension-{name})")
    con.load_extension(str(found[-1]))


def _open_database(spec: str, kind: str, engine: str, timezone: str, spark_session: Any) -> Source:
    names = list(KNOWN_TABLES)
    if kind == "sqlite":
        path = _sqlite_path(spec)
        if not path.is_file():
            raise SourceError(f"{spec}: database file {path} does not exist")
        if engine == "postgres":
            raise SourceError("engine 'postgres' needs a postgresql:// source")
        if engine == "sqlite":
            con: Any = ibis.sqlite.connect(str(path))
            tables = set(con.list_tables())
            raw = {n: con.table(n) for n in names if n in tables}
            return Source(con, "sqlite", raw, timezone, spec)
        duck = ibis.duckdb.connect()
        _load_scanner(duck.con, "sqlite_scanner")
        duck.raw_sql(f"ATTACH '{_quote(str(path))}' AS desk (TYPE sqlite, READ_ONLY)")
    else:
        url = "postgresql:" + spec.split(":", 1)[1]
        if engine == "sqlite":
            raise SourceError("engine 'sqlite' needs a sqlite:/// source")
        if engine == "postgres":
            con = ibis.connect(url)
            tables = set(con.list_tables())
            raw = {n: con.table(n) for n in names if n in tables}
            return Source(con, "postgres", raw, timezone, spec)
        duck = ibis.duckdb.connect()
        _load_scanner(duck.con, "postgres_scanner")
        duck.raw_sql(f"ATTACH '{_quote(url)}' AS desk (TYPE postgres, READ_ONLY)")
    present = {
        r[0]
        for r in duck.con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_catalog = 'desk'"
        ).fetchall()
    }
    raw = {n: duck.table(n, database="desk") for n in names if n in present}
    source = Source(duck, "duckdb", raw, timezone, spec)
    if engine == "spark":
        return _to_spark(source, spark_session)
    return source


def _open_files(
    spec: str, kind: str, directory: Path, engine: str, timezone: str, spark_session: Any
) -> Source:
    if engine in ("sqlite", "postgres"):
        raise SourceError(f"engine {engine!r} reads only its own database, not {kind} files")
    files = {n: directory / f"{n}.{kind}" for n in KNOWN_TABLES}
    files = {n: p for n, p in files.items() if p.is_file()}
    if not files:
        raise SourceError(f"{spec}: no <table>.{kind} files in {directory}")
    if engine == "spark":
        session = spark_session or _default_spark()
        con: Any = ibis.pyspark.connect(session)
        reader = con.read_parquet if kind == "parquet" else con.read_csv
    else:
        con = ibis.duckdb.connect()
        reader = con.read_parquet if kind == "parquet" else con.read_csv
    raw = {n: reader(str(p), table_name=f"manyi_{n}") for n, p in files.items()}
    return Source(con, engine, raw, timezone, spec)


def _open_olist(
    spec: str, directory: Path, engine: str, timezone: str | None, spark_session: Any
) -> Source:
    from manyi.insight.olist_source import OLIST_TIMEZONE, register_olist

    if engine in ("sqlite", "postgres"):
        raise SourceError(f"engine {engine!r} reads only its own database, not Olist files")
    duck = ibis.duckdb.connect()
    raw = register_olist(duck, directory)
    source = Source(duck, "duckdb", raw, timezone or OLIST_TIMEZONE, spec)
    if engine == "spark":
        return _to_spark(source, spark_session)
    return source


def _default_spark() -> Any:
    from manyi.insight.spark import local_spark_session

    return local_spark_session()


def _to_spark(source: Source, spark_session: Any) -> Source:
    # Spark reads Parquet natively; DuckDB writes the canonical tables there once (microsecond
    # timestamps: Spark rejects nanosecond Parquet timestamps).
    tmp = Path(tempfile.mkdtemp(prefix="manyi-spark-"))
    for name in source.raw:
        source.con.to_parquet(source.table(name), tmp / f"{name}.parquet")
    source.close()
    spark = _open_files(
        source.spec, "parquet", tmp, "spark", source.timezone, spark_session or _default_spark()
    )
    spark.spec = source.spec
    spark._cleanup.append(tmp)
    return spark


def _quote(text: str) -> str:
    return text.replace("'", "''")
