from __future__ import annotations

import csv
import datetime as dt
import gzip
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path

import pytest

from manyi.data.cdnow import CdnowReader
from manyi.data.errors import RowProblem
from manyi.data.samples import sample_path


def read(path: Path, table: str) -> tuple[list[tuple], list[RowProblem]]:
    problems: list[RowProblem] = []

    def sink(problem: RowProblem, cells: Sequence[str]) -> None:
        problems.append(problem)

    return [r for b in CdnowReader(path).batches(table, sink) for r in b.rows], problems


def test_the_bundled_sample_matches_its_file() -> None:
    path = sample_path("cdnow")
    with gzip.open(path, "rt", newline="") as handle:
        raw = list(csv.DictReader(handle))
    orders, problems = read(path, "orders")
    customers, _ = read(path, "customers")
    assert problems == []
    assert len(orders) == len(raw) == 6919
    assert len(customers) == len({r["customer_id"] for r in raw}) == 2357
    assert sum(o[10] for o in orders) == sum(Decimal(r["dollar_value"]) for r in raw)
    first = orders[0]
    assert first[:5] == (
        "0001-19970101-1",
        "0001",
        "00004",
        "delivered",
        dt.datetime(1997, 1, 1, tzinfo=dt.UTC),
    )
    assert first[9:11] == ("USD", Decimal("29.33"))


@pytest.mark.slow
def test_the_original_master_text_file(shared_data: Path) -> None:
    orders, problems = read(shared_data / "cdnow" / "CDNOW_master.txt.gz", "orders")
    customers, _ = read(shared_data / "cdnow" / "CDNOW_master.txt.gz", "customers")
    assert problems == []
    assert (len(orders), len(customers)) == (69_659, 23_570)
    assert len({o[0] for o in orders}) == len(orders)  # same-day repeats get their own ids
    assert min(o[4] for o in orders).date() == dt.date(1997, 1, 1)
    assert max(o[4] for o in orders).date() == dt.date(1998, 6, 30)


def test_first_purchase_becomes_customer_created_at() -> None:
    customers, _ = read(sample_path("cdnow"), "customers")
    orders, _ = read(sample_path("cdnow"), "orders")
    first: dict[str, dt.datetime] = {}
    for o in orders:
        first[o[1]] = min(first.get(o[1], o[4]), o[4])
    assert {c[0]: c[4] for c in customers} == first


def test_bad_lines_are_named(tmp_path: Path) -> None:
    path = tmp_path / "cdnow.txt"
    path.write_text(
        " 00001 19970101  1   11.77\n 00002 19971399  1   12.00\n 00003 19970102  2   x\n",
        encoding="utf-8",
    )
    orders, problems = read(path, "orders")
    assert len(orders) == 1
    assert [(p.line, p.column, p.value) for p in problems] == [
        (2, "date", "19971399"),
        (3, "dollar_value", "x"),
    ]
