from __future__ import annotations

import csv
import datetime as dt
import gzip
import shutil
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from manyi.data.errors import RowProblem, SourceError
from manyi.data.olist import OlistReader
from manyi.data.samples import sample_path

SAO_PAULO = ZoneInfo("America/Sao_Paulo")


def raw_rows(path: Path) -> list[dict[str, str]]:
    with gzip.open(path, "rt", encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def read_all(reader: OlistReader, table: str) -> tuple[list[tuple], list[RowProblem]]:
    problems: list[RowProblem] = []

    def sink(problem: RowProblem, cells: Sequence[str]) -> None:
        problems.append(problem)

    rows = [r for batch in reader.batches(table, sink) for r in batch.rows]
    return rows, problems


def utc(text: str) -> dt.datetime:
    naive = dt.datetime.fromisoformat(text)
    return naive.replace(tzinfo=SAO_PAULO).astimezone(dt.UTC)


@pytest.mark.slow
def test_the_15k_sample_gives_the_documented_counts(shared_data: Path) -> None:
    reader = OlistReader(shared_data / "olist" / "sample_15k")
    counts = {}
    for table in reader.tables():
        rows, problems = read_all(reader, table)
        assert problems == []
        counts[table] = len(rows)
    assert counts == {
        "customers": 14_904,
        "products": 32_951,
        "sellers": 3_095,
        "orders": 15_000,
        "order_items": 17_071,
        "payments": 15_733,
        "reviews": 14_944,
    }
    assert reader.skipped["payments"] == 103_886 - 15_733


@pytest.mark.slow
def test_orders_match_the_file_cell_by_cell(shared_data: Path) -> None:
    folder = shared_data / "olist" / "sample_15k"
    raw = raw_rows(folder / "olist_orders_dataset.csv.gz")
    people = {
        r["customer_id"]: r["customer_unique_id"]
        for r in raw_rows(folder / "olist_customers_dataset.csv.gz")
    }
    rows, _ = read_all(OlistReader(folder), "orders")
    by_id = {r[0]: r for r in rows}
    for source in raw[:: len(raw) // 50]:  # fifty rows spread over the file
        row = by_id[source["order_id"]]
        assert row[1] == people[source["customer_id"]]
        assert row[2] == source["customer_id"]
        assert row[3] == source["order_status"]
        assert row[4] == utc(source["order_purchase_timestamp"])
        delivered = source["order_delivered_customer_date"]
        assert row[7] == (utc(delivered) if delivered else None)
        assert row[9] == "BRL"


@pytest.mark.slow
def test_review_ids_repeated_across_orders_keep_one_row_per_order(shared_data: Path) -> None:
    folder = shared_data / "olist" / "sample_15k"
    raw = raw_rows(folder / "olist_order_reviews_dataset.csv.gz")
    rows, _ = read_all(OlistReader(folder), "reviews")
    assert len({r[0] for r in rows}) == len({r["review_id"] for r in raw}) == 14_924
    assert len({(r[0], r[1]) for r in rows}) == len(rows) == 14_944
    texts = {(r["review_id"], r["order_id"]): r["review_comment_message"] for r in raw}
    for row in rows[:200]:
        assert (row[4] or "") == texts[(row[0], row[1])].strip()  # cells are trimmed
    assert {r[5] for r in rows} == {"pt"}


def test_items_and_payments_of_the_bundled_sample_match_the_files() -> None:
    folder = sample_path("olist")
    items, problems = read_all(OlistReader(folder), "order_items")
    assert problems == []
    raw = raw_rows(folder / "olist_order_items_dataset.csv.gz")
    assert len(items) == len(raw)
    assert sum(r[4] for r in items) == sum(Decimal(r["price"]) for r in raw)
    assert sum(r[5] for r in items) == sum(Decimal(r["freight_value"]) for r in raw)
    payments, _ = read_all(OlistReader(folder), "payments")
    raw_payments = raw_rows(folder / "olist_order_payments_dataset.csv.gz")
    assert sorted((p[0], p[1], p[2]) for p in payments) == sorted(
        (r["order_id"], int(r["payment_sequential"]), r["payment_type"]) for r in raw_payments
    )


def test_products_get_their_english_category() -> None:
    rows, _ = read_all(OlistReader(sample_path("olist")), "products")
    pairs = {(r[1], r[2]) for r in rows if r[1] is not None}
    assert ("beleza_saude", "health_beauty") in pairs
    assert all(english is not None for pt, english in pairs if pt == "informatica_acessorios")


def test_a_bad_date_is_reported_with_file_line_and_column(tmp_path: Path) -> None:
    folder = copy_sample(tmp_path)
    lines = read_lines(folder / "olist_orders_dataset.csv.gz")
    lines[7] = lines[7].replace(lines[7].split(",")[3], "2018-02-30 10:00:00")
    write_lines(folder / "olist_orders_dataset.csv.gz", lines)
    rows, problems = read_all(OlistReader(folder), "orders")
    assert len(rows) == 2999
    assert [(p.file, p.line, p.column, p.value) for p in problems] == [
        ("olist_orders_dataset.csv.gz", 8, "order_purchase_timestamp", "2018-02-30 10:00:00")
    ]
    assert "not a date-time" in problems[0].reason


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    folder = copy_sample(tmp_path)
    (folder / "olist_sellers_dataset.csv.gz").unlink()
    with pytest.raises(SourceError, match=r"olist_sellers_dataset\.csv \(or \.csv\.gz\) not found"):
        OlistReader(folder)


def test_plain_csv_files_read_like_gzip(tmp_path: Path) -> None:
    folder = copy_sample(tmp_path)
    gz = folder / "olist_orders_dataset.csv.gz"
    (folder / "olist_orders_dataset.csv").write_bytes(gzip.decompress(gz.read_bytes()))
    gz.unlink()
    rows, problems = read_all(OlistReader(folder), "orders")
    assert (len(rows), problems) == (3000, [])


def copy_sample(tmp_path: Path) -> Path:
    folder = tmp_path / "olist"
    shutil.copytree(sample_path("olist"), folder)
    return folder


def read_lines(path: Path) -> list[str]:
    return gzip.decompress(path.read_bytes()).decode("utf-8").split("\n")


def write_lines(path: Path, lines: list[str]) -> None:
    path.write_bytes(gzip.compress("\n".join(lines).encode("utf-8")))
