from __future__ import annotations

import csv
import gzip
from pathlib import Path

import pyarrow.parquet as pq

from manyi.data.olist import OlistReader
from manyi.data.samples import sample_path
from manyi.data.synth import generate_canonical, generate_olist


def column(path: Path, name: str) -> list[str]:
    with gzip.open(path, "rt", encoding="utf-8", newline="") as handle:
        return [row[name] for row in csv.DictReader(handle)]


def test_the_requested_number_of_orders_with_new_unique_keys(tmp_path: Path) -> None:
    made = generate_olist(tmp_path, orders=7_500, seed=3)
    ids = column(tmp_path / "olist_orders_dataset.csv.gz", "order_id")
    assert made.orders == len(ids) == 7_500
    assert len(set(ids)) == 7_500
    original = set(column(sample_path("olist") / "olist_orders_dataset.csv.gz", "order_id"))
    assert not set(ids) & original


def test_every_generated_row_passes_validation_and_references_resolve(tmp_path: Path) -> None:
    generate_olist(tmp_path, orders=4_000, seed=1)
    reader = OlistReader(tmp_path)
    problems: list[object] = []
    seen: dict[str, set[str]] = {}
    for table in reader.tables():
        keys = set()
        for batch in reader.batches(table, lambda p, c: problems.append(p)):
            keys.update(r[0] for r in batch.rows)
        seen[table] = keys
    assert problems == []
    assert len(seen["orders"]) == 4_000
    items = column(tmp_path / "olist_order_items_dataset.csv.gz", "order_id")
    assert set(items) <= seen["orders"]


def test_dates_move_by_whole_days_per_replica(tmp_path: Path) -> None:
    generate_olist(tmp_path, orders=3_000, seed=5)  # exactly one replica of the bundled sample
    original = column(
        sample_path("olist") / "olist_orders_dataset.csv.gz", "order_purchase_timestamp"
    )
    moved = column(tmp_path / "olist_orders_dataset.csv.gz", "order_purchase_timestamp")
    assert [o[11:] for o in original] == [m[11:] for m in moved]  # same time of day


def test_the_canonical_parquet_holds_what_an_import_would(tmp_path: Path) -> None:
    made = generate_canonical(tmp_path, orders=3_500, seed=2)
    orders = pq.read_table(tmp_path / "orders.parquet")
    assert orders.num_rows == made.orders == 3_500
    assert str(orders.schema.field("purchased_at").type) == "timestamp[us, tz=UTC]"
    assert pq.read_table(tmp_path / "reviews.parquet").num_rows == made.rows["reviews"]
