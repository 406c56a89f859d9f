from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from manyi.data.errors import RowProblem, SourceError
from manyi.data.mapped import MappedReader

ORDERS_CSV = """订单编号,买家,状态,下单时间,金额
T1001,alice,交易成功,2024-11-11 00:00:05,199.00
T1002,bob,交易关闭,2024-11-11 00:01:10,59.5
T1003,alice,卖家已发货,2024-11-12 09:30:00,88
"""

MAPPING = """
source: tmall-export
timezone: Asia/Shanghai
tables:
  customers:
    file: customers.csv
    columns:
      customer_id: 买家
      city: 城市
  orders:
    file: orders.csv
    columns:
      order_id: 订单编号
      customer_id: 买家
      status:
        column: 状态
        values: {交易成功: delivered, 交易关闭: canceled, 卖家已发货: shipped}
      purchased_at: 下单时间
      currency: {value: CNY}
      item_total: 金额
"""


def shop(tmp_path: Path, orders: str = ORDERS_CSV, mapping: str = MAPPING) -> Path:
    (tmp_path / "orders.csv").write_text(orders, encoding="utf-8")
    (tmp_path / "customers.csv").write_text("买家,城市\nalice,杭州\nbob,上海\n", encoding="utf-8")
    path = tmp_path / "mapping.yaml"
    path.write_text(mapping, encoding="utf-8")
    return path


def read(reader: MappedReader, table: str) -> tuple[list[tuple], list[RowProblem]]:
    problems: list[RowProblem] = []

    def sink(problem: RowProblem, cells: Sequence[str]) -> None:
        problems.append(problem)

    return [r for b in reader.batches(table, sink) for r in b.rows], problems


def test_a_mapped_export_becomes_canonical_rows(tmp_path: Path) -> None:
    reader = MappedReader.from_yaml(shop(tmp_path))
    assert reader.tables() == ("customers", "orders")
    assert reader.name == "tmall-export"
    orders, problems = read(reader, "orders")
    assert problems == []
    assert [o[0] for o in orders] == ["T1001", "T1002", "T1003"]
    assert [o[3] for o in orders] == ["delivered", "canceled", "shipped"]
    # 00:00:05 in Shanghai is 16:00:05 UTC the day before.
    assert orders[0][4] == dt.datetime(2024, 11, 10, 16, 0, 5, tzinfo=dt.UTC)
    assert [o[9] for o in orders] == ["CNY"] * 3
    assert [o[10] for o in orders] == [Decimal("199.00"), Decimal("59.50"), Decimal("88.00")]


def test_an_unmapped_value_is_a_row_problem(tmp_path: Path) -> None:
    bad = ORDERS_CSV + "T1004,bob,等待付款,2024-11-12 10:00:00,10\n"
    orders, problems = read(MappedReader.from_yaml(shop(tmp_path, orders=bad)), "orders")
    assert len(orders) == 3
    assert [(p.file, p.line, p.column, p.value) for p in problems] == [
        ("orders.csv", 5, "状态", "等待付款")
    ]


def test_text_in_a_number_column_names_the_source_column(tmp_path: Path) -> None:
    bad = ORDERS_CSV.replace("59.5", "五十九")
    _, problems = read(MappedReader.from_yaml(shop(tmp_path, orders=bad)), "orders")
    assert [(p.line, p.column, p.value, p.reason) for p in problems] == [
        (3, "金额", "五十九", "not a number")
    ]


@pytest.mark.parametrize(
    ("mapping", "message"),
    [
        (
            "tables: {parcels: {file: orders.csv, columns: {}}}",
            "tables.parcels: not a canonical table",
        ),
        (
            "tables: {orders: {file: orders.csv, columns: {order_id: 订单编号}}}",
            "required column\\(s\\) not mapped: customer_id, status, purchased_at, currency",
        ),
        (
            "tables: {orders: {file: nowhere.csv, columns: {}}}",
            "tables.orders.file: .*nowhere.csv does not exist",
        ),
        ("tables: [", "not valid YAML"),
        ("timezone: Mars/Base\ntables: {}", "unknown time zone"),
        (
            "tables: {orders: {file: orders.csv, columns: {order_id: no}}}",
            "YAML read the column name as False; put it in quotes",
        ),
        (
            "tables: {orders: {file: orders.csv, columns: {colour: 状态}}}",
            "columns.colour: orders has no such column",
        ),
    ],
)
def test_mistakes_in_the_mapping_are_explained(tmp_path: Path, mapping: str, message: str) -> None:
    with pytest.raises(SourceError, match=message):
        MappedReader.from_yaml(shop(tmp_path, mapping=mapping))


def test_a_missing_source_column_is_named(tmp_path: Path) -> None:
    reader = MappedReader.from_yaml(shop(tmp_path, orders=ORDERS_CSV.replace("金额", "总价")))
    with pytest.raises(SourceError, match=r"orders\.csv: missing column\(s\) 金额"):
        read(reader, "orders")


def test_parquet_files_are_read_in_batches(tmp_path: Path) -> None:
    table = pa.table(
        {
            "id": [f"P{i}" for i in range(12_000)],
            "cat": ["shoes" if i % 2 else None for i in range(12_000)],
            "grams": list(range(12_000)),
        }
    )
    pq.write_table(table, tmp_path / "products.parquet")
    mapping = tmp_path / "m.yaml"
    mapping.write_text(
        "tables:\n  products:\n    file: products.parquet\n"
        "    columns: {product_id: id, category: cat, weight_g: grams}\n",
        encoding="utf-8",
    )
    rows, problems = read(MappedReader.from_yaml(mapping), "products")
    assert problems == []
    assert len(rows) == 12_000
    assert rows[1][:2] == ("P1", "shoes")
    assert rows[0][1] is None
    assert rows[11_999][3] == 11_999
