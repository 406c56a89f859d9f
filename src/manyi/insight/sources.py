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
>>> from manyi.insight.sources import open_source
>>> src = open_source("olist:../shared/data/olist/sample_15k")  # doctest: +SKIP
>>> src.table("reviews").count().execute()  # doctest: +SKIP
14944
"""

from __future__ import annotations

import shutil
import tempfile
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
                same = raw[col].type().copy(nullable=True) == dtype
                cols[col] = raw[col] if same else raw[col].cast(dtype)
            elif nullable:
                cols[col] = ibis.null().cast(dtype)
            else:
                raise SourceError(f"table {name!r} of {self.spec!r} lacks required column {col!r}")
        if name == "survey_responses" and "channel" in have:
            cols["channel"] = raw["channel"].cast(dt.string)
        out = raw.select(**cols)
        self._cache[name] = out
        return out

    def local_time(self, ts: ir.TimestampValue) -> ir.TimestampValue:
        """Wall-clock time of UTC timestamp ``ts`` in the source's zone (naive)."""
        if self.timezone == "UTC":
            return ts
        return _local_time(self.engine, ts, self.timezone)

    def local_date(self, ts: ir.TimestampValue) -> ir.DateValue:
        """Calendar date of UTC timestamp ``ts`` in the source's zone."""
        return self.local_time(ts).date()

    def execute(self, expr: ir.Expr) -> Any:
        """Run ``expr`` on the source's engine and return pandas objects."""
        return self.con.execute(expr)

    def close(self) -> None:
        """Release the connection (not a shared Spark session) and temporary copies."""
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


def _local_time(engine: str, ts: ir.TimestampValue, zone: str) -> ir.TimestampValue:
    # Each engine spells "UTC instant -> wall clock in zone" differently; Ibis has no portable op.
    utc = dt.Timestamp(timezone="UTC")
    if engine in ("duckdb", "postgres"):
        fn = ibis.udf.scalar.builtin(
            _noop2, name="timezone", signature=((dt.string, utc), dt.timestamp)
        )
        return fn(zone, ts)  # type: ignore[no-any-return]
    if engine == "spark":
        fn = ibis.udf.scalar.builtin(
            _noop2, name="from_utc_timestamp", signature=((utc, dt.string), dt.timestamp)
        )
        return fn(ts, zone)  # type: ignore[no-any-return]
    if engine == "sqlite":
        fn = ibis.udf.scalar.python(
            _sqlite_local_time,
            name="manyi_local_time",
            signature=((dt.string, dt.string), dt.string),
        )
        return fn(ts.cast(dt.string), zone).cast(dt.timestamp)  # type: ignore[no-any-return]
    raise SourceError(f"unknown engine {engine!r}")


def _noop2(a: Any, b: Any) -> Any:  # pragma: no cover - placeholder body of a builtin UDF
    return None


def _sqlite_local_time(value: str | None, zone: str) -> str | None:
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    if value is None:
        return None
    instant = datetime.fromisoformat(value)
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=UTC)
    return instant.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M:%S.%f")


def open_source(
    spec: str,
    engine: str = "duckdb",
    *,
    timezone: str | None = None,
    spark_session: Any = None,
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


def _open_database(
    spec: str, kind: str, engine: str, timezone: str, spark_session: Any
) -> Source:
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
