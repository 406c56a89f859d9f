"""Fixtures of the monitor tests: hand-made sources with cases and surveys, the Olist sample."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
import pytest

from manyi.data.schema import TABLES, ColumnType
from manyi.insight.sources import Source, open_source
from manyi.insight.survey_tables import SURVEY_TABLES

_INTEGER = {ColumnType.INTEGER}
_FLOAT = {ColumnType.FLOAT, ColumnType.DECIMAL}


def at(text: str, zone: str = "UTC") -> datetime:
    """An aware instant from ``YYYY-MM-DD[ HH:MM]`` wall time in ``zone``."""
    fmt = "%Y-%m-%d %H:%M" if " " in text else "%Y-%m-%d"
    return datetime.strptime(text, fmt).replace(tzinfo=ZoneInfo(zone)).astimezone(UTC)


def order(order_id: str, purchased: str, **extra: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "order_id": order_id,
        "customer_id": f"c-{order_id}",
        "status": "delivered",
        "purchased_at": purchased,
        "currency": "BRL",
        "item_total": 100.0,
        "freight_total": 10.0,
    }
    row.update(extra)
    return row


def review(review_id: str, order_id: str, rating: int, created: str, **extra: Any) -> dict:
    row = {
        "review_id": review_id,
        "order_id": order_id,
        "rating": rating,
        "created_at": created,
        "source": "shop",
    }
    row.update(extra)
    return row


def case(case_id: int, opened: str, **extra: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "case_id": case_id,
        "kind": "question",
        "channel": "web",
        "status": "new",
        "priority": "normal",
        "currency": "BRL",
        "opened_at": opened,
    }
    row.update(extra)
    return row


def _columns(name: str) -> dict[str, ColumnType]:
    if name in SURVEY_TABLES:
        kinds = {"answered_at": ColumnType.TIMESTAMP, "value": ColumnType.FLOAT}
        return {c: kinds.get(c, ColumnType.STRING) for c in SURVEY_TABLES[name]}
    return {c.name: c.type for c in TABLES[name].columns}


def _frame(name: str, rows: list[dict[str, Any]], zone: str) -> pd.DataFrame:
    columns = _columns(name)
    extra = [k for r in rows for k in r if k not in columns]
    frame = pd.DataFrame(rows, columns=list(columns) + sorted(set(extra)))
    for col, kind in columns.items():
        values = frame[col]
        if kind == ColumnType.TIMESTAMP:
            frame[col] = pd.to_datetime(
                [None if v is None or v != v else at(v, zone) for v in values], utc=True
            )
        elif kind in _INTEGER:
            frame[col] = pd.array(values, dtype="Int64")
        elif kind in _FLOAT:
            frame[col] = pd.to_numeric(values).astype("float64")
        else:
            frame[col] = values.astype("string")
    return frame


@pytest.fixture
def build_source(tmp_path: Path) -> Iterator[Callable[..., Source]]:
    """``build_source(timezone="UTC", orders=[...], reviews=[...], cases=[...], ...)`` writes
    one Parquet file per table (times are wall times in ``timezone``) and opens it."""
    opened: list[Source] = []

    def build(timezone: str = "UTC", **tables: list[dict[str, Any]]) -> Source:
        folder = tmp_path / f"src{len(opened)}"
        folder.mkdir()
        for name, rows in tables.items():
            _frame(name, rows, timezone).to_parquet(folder / f"{name}.parquet")
        src = open_source(f"parquet:{folder}", timezone=timezone)
        opened.append(src)
        return src

    yield build
    for src in opened:
        src.close()


@pytest.fixture(scope="session")
def rows() -> SimpleNamespace:
    """Row factories (tests cannot import each other under importlib mode)."""
    return SimpleNamespace(at=at, order=order, review=review, case=case)
