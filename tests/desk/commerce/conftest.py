from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from manyi.data.samples import sample_path
from manyi.data.schema import SHOP_TABLES


def take_snapshot() -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every shop table, in key order: two equal snapshots mean nothing changed."""
    tables = {}
    with connection.cursor() as cursor:
        for table in SHOP_TABLES:
            order = ", ".join(f'"{k}"' for k in table.key)
            cursor.execute(f'SELECT * FROM "{table.name}" ORDER BY {order}')
            tables[table.name] = cursor.fetchall()
    return tables


@pytest.fixture
def snapshot() -> Callable[[], dict[str, list[tuple[Any, ...]]]]:
    return take_snapshot


@pytest.fixture
def olist_copy(tmp_path: Path) -> Path:
    """A writable copy of the bundled 3,000-order Olist sample."""
    folder = tmp_path / "olist"
    shutil.copytree(sample_path("olist"), folder)
    return folder
