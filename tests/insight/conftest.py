"""Fixtures of the insight tests: the Olist sample, desk-like databases, Spark, tiny sources."""

from __future__ import annotations

import os
import secrets
import sqlite3
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pandas as pd
import pytest

from manyi.data.schema import SHOP_TABLES, ColumnType
from manyi.insight.sources import Source, open_source
from manyi.insight.survey_tables import SURVEY_TABLES

LOCAL_PG = "postgresql://postgres@127.0.0.1:5432/postgres"

# --- row factories and desk-like databases (plain functions, handed out by `helpers`) -------

SURROGATE_ID = {"order_items", "payments", "reviews"}  # the desk adds an integer id to these
_SQL_TYPES = {
    ColumnType.STRING: "varchar(255)",
    ColumnType.INTEGER: "integer",
    ColumnType.DECIMAL: "decimal(12, 2)",
    ColumnType.FLOAT: "real",
    ColumnType.TIMESTAMP: "datetime",
    ColumnType.BOOLEAN: "bool",
}


def _ddl(name: str, kind: str) -> str:
    table = next(t for t in SHOP_TABLES if t.name == name)
    cols = []
    if name in SURROGATE_ID:
        cols.append("id integer primary key" if kind == "sqlite" else "id serial primary key")
    for c in table.columns:
        sql_type = _SQL_TYPES[c.type]
        if kind == "postgres":
            sql_type = {
                "datetime": "timestamp with time zone",
                "real": "double precision",
                "varchar(255)": "text",
            }.get(sql_type, sql_type)
        cols.append(f"{c.name} {sql_type}{'' if c.nullable else ' not null'}")
    return f"create table {name} ({', '.join(cols)})"


def _indexes(name: str) -> list[str]:
    """The unique key and the foreign-key indexes Django creates."""
    table = next(t for t in SHOP_TABLES if t.name == name)
    out = [f"create unique index {name}_key on {name} ({', '.join(table.key)})"]
    for i, column in enumerate(table.references):
        out.append(f"create index {name}_ref{i} on {name} ({column})")
    return out


def _cell(value: Any, kind: ColumnType, db: str) -> Any:
    if value is None or value is pd.NaT or (isinstance(value, float) and value != value):
        return None
    if kind == ColumnType.TIMESTAMP:
        ts = pd.Timestamp(value).tz_convert("UTC")
        # Django stores aware datetimes in SQLite as naive UTC text.
        return ts.strftime("%Y-%m-%d %H:%M:%S.%f") if db == "sqlite" else ts.to_pydatetime()
    if kind == ColumnType.DECIMAL:
        return str(Decimal(str(value)).quantize(Decimal("0.01")))
    if kind == ColumnType.INTEGER:
        return int(value)
    return value


def _rows(name: str, frame: pd.DataFrame, db: str) -> tuple[list[str], list[tuple[Any, ...]]]:
    table = next(t for t in SHOP_TABLES if t.name == name)
    cols = [c for c in table.columns if c.name in frame.columns]
    data = frame[[c.name for c in cols]].astype(object).where(frame.notna(), None)
    rows = [
        tuple(_cell(v, c.type, db) for v, c in zip(rec, cols, strict=True))
        for rec in data.itertuples(index=False)
    ]
    return [c.name for c in cols], rows


def write_sqlite(path: Path, frames: dict[str, pd.DataFrame]) -> None:
    """A SQLite file laid out as the desk stores the canonical tables."""
    con = sqlite3.connect(path)
    for name, frame in frames.items():
        con.execute(_ddl(name, "sqlite"))
        cols, rows = _rows(name, frame, "sqlite")
        marks = ", ".join("?" for _ in cols)
        con.executemany(f"insert into {name} ({', '.join(cols)}) values ({marks})", rows)
        for statement in _indexes(name):
            con.execute(statement)
    con.commit()
    con.close()


def write_postgres(url: str, frames: dict[str, pd.DataFrame]) -> None:
    """The canonical tables in a PostgreSQL database, as the desk stores them."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as con:
        for name, frame in frames.items():
            con.execute(f"drop table if exists {name}")
            con.execute(_ddl(name, "postgres"))
            cols, rows = _rows(name, frame, "postgres")
            with con.cursor().copy(f"copy {name} ({', '.join(cols)}) from stdin") as copy:
                for row in rows:
                    copy.write_row(row)
            for statement in _indexes(name):
                con.execute(statement)


def ts(text: str) -> datetime:
    """An aware UTC datetime from ``YYYY-MM-DD[ HH:MM]``."""
    fmt = "%Y-%m-%d %H:%M" if " " in text else "%Y-%m-%d"
    return datetime.strptime(text, fmt).replace(tzinfo=UTC)


def order(order_id: str, customer: str, purchased: str, **extra: Any) -> dict[str, Any]:
    """An orders row with the required columns filled."""
    row: dict[str, Any] = {
        "order_id": order_id,
        "customer_id": customer,
        "status": "delivered",
        "purchased_at": ts(purchased),
        "currency": "BRL",
        "item_total": 10.0,
        "freight_total": 0.0,
    }
    for key, value in extra.items():
        row[key] = ts(value) if key.endswith("_at") and isinstance(value, str) else value
    return row


def review(review_id: str, order_id: str, rating: int | None, created: str) -> dict[str, Any]:
    """A reviews row."""
    return {
        "review_id": review_id,
        "order_id": order_id,
        "rating": rating,
        "created_at": ts(created),
        "source": "shop",
    }


@pytest.fixture(scope="session")
def helpers() -> SimpleNamespace:
    """Row factories and database writers (tests cannot import modules under importlib mode)."""
    return SimpleNamespace(
        ts=ts, order=order, review=review, write_sqlite=write_sqlite, write_postgres=write_postgres
    )


@pytest.fixture(scope="session")
def olist_dir(shared_data: Path) -> Path:
    return shared_data / "olist" / "sample_15k"


@pytest.fixture(scope="session")
def olist(olist_dir: Path) -> Iterator[Source]:
    """The Olist 15k sample read directly, on DuckDB (shared: tests only read it)."""
    src = open_source(f"olist:{olist_dir}")
    yield src
    src.close()


@pytest.fixture(scope="session")
def bundled_dir() -> Path:
    """The Olist sample bundled with the package (3,000 orders): no ../shared needed."""
    from manyi.data.samples import sample_path

    return Path(sample_path("olist"))


@pytest.fixture(scope="session")
def bundled(bundled_dir: Path) -> Iterator[Source]:
    """The bundled Olist sample on DuckDB (shared: tests only read it)."""
    src = open_source(f"olist:{bundled_dir}")
    yield src
    src.close()


@pytest.fixture(scope="session")
def olist_frames(olist: Source) -> dict[str, pd.DataFrame]:
    """The canonical tables of the Olist sample as pandas frames (to copy into databases)."""
    return {name: olist.execute(olist.table(name)) for name in olist.raw}


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A scratch PostgreSQL database: inside $MANYI_TEST_DATABASE_URL's server when set (the CI
    harness's throwaway cluster), else on the machine's server. Dropped afterwards."""
    import psycopg

    base = os.environ.get("MANYI_TEST_DATABASE_URL") or LOCAL_PG
    name = f"manyi_insight_{secrets.token_hex(4)}"
    try:
        with psycopg.connect(base, autocommit=True) as con:
            con.execute(f"create database {name}")
    except psycopg.OperationalError as exc:
        pytest.fail(f"PostgreSQL at {base} is not reachable: {exc}")
    head, _, _ = base.rpartition("/")
    url = f"{head}/{name}"
    yield url
    with psycopg.connect(base, autocommit=True) as con:
        con.execute(f"drop database if exists {name} with (force)")


@pytest.fixture(scope="session")
def spark_session() -> Any:
    """One local Spark session for the whole run (starting one takes ~8 s)."""
    from manyi.insight.spark import local_spark_session

    return local_spark_session(cores=2, memory="1g")


# --- tiny hand-made sources ----------------------------------------------------------------


def _frame(name: str, rows: list[dict[str, Any]]) -> pd.DataFrame:
    if name in SURVEY_TABLES:
        columns = list(SURVEY_TABLES[name])
        if name == "survey_responses" and any("channel" in r for r in rows):
            columns.append("channel")
    else:
        columns = [c.name for c in next(t for t in SHOP_TABLES if t.name == name).columns]
    frame = pd.DataFrame(rows, columns=columns)
    for col in frame.columns:
        if col.endswith("_at"):
            frame[col] = pd.to_datetime(frame[col], utc=True)
    numeric = {
        "rating",
        "line_no",
        "seq",
        "installments",
        "value",
        "item_total",
        "freight_total",
        "price",
        "freight",
        "amount",
    }
    for col in numeric & set(frame.columns):
        frame[col] = pd.to_numeric(frame[col]).astype(
            "float64" if col not in {"rating", "line_no", "seq"} else "Int64"
        )
    for col in frame.columns:
        if frame[col].dtype == object:
            frame[col] = frame[col].astype("string")
    return frame


@pytest.fixture
def make_source(tmp_path: Path) -> Iterator[Callable[..., Source]]:
    """Build a ``parquet:DIR`` source from lists of row dicts per table (missing columns null)."""
    opened: list[Source] = []

    def build(timezone: str = "UTC", **tables: list[dict[str, Any]]) -> Source:
        folder = tmp_path / f"src{len(opened)}"
        folder.mkdir()
        for name, rows in tables.items():
            _frame(name, rows).to_parquet(folder / f"{name}.parquet")
        src = open_source(f"parquet:{folder}", timezone=timezone)
        opened.append(src)
        return src

    yield build
    for src in opened:
        src.close()
