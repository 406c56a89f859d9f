"""Large shop data sets made from real ones, for benchmarks and load tests.

The generator replicates a real Olist order set: replica ``r`` (1, 2, ...) gets new keys for
orders, customers and reviews (the first six hex digits of each id replaced by ``r``, so a
review id shared by two orders stays shared) and all its dates shifted by a whole number of
days drawn per replica (seeded). Products and sellers are kept: more orders of the same
catalogue. Ratings, texts, prices, delays and the links between rows stay exactly as observed,
so the distributions are real while the volume is not. The last replica is cut to reach the
requested number of orders exactly (with every row of the orders it keeps).

>>> import tempfile
>>> from pathlib import Path
>>> out = Path(tempfile.mkdtemp())
>>> generate_olist(out, orders=5000, seed=1).orders
5000
"""

from __future__ import annotations

import math
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from manyi.data.olist import FILES, OlistReader
from manyi.data.schema import SHOP_TABLES, ColumnType, Table

#: Columns holding ids that get new keys, per Olist file.
ID_COLUMNS = {
    "orders": ("order_id", "customer_id"),
    "customers": ("customer_id", "customer_unique_id"),
    "order_items": ("order_id",),
    "payments": ("order_id",),
    "reviews": ("review_id", "order_id"),
}
#: Columns holding São Paulo wall-clock timestamps, per Olist file.
TIME_COLUMNS = {
    "orders": (
        "order_purchase_timestamp",
        "order_approved_at",
        "order_delivered_carrier_date",
        "order_delivered_customer_date",
        "order_estimated_delivery_date",
    ),
    "order_items": ("shipping_limit_date",),
    "reviews": ("review_creation_date", "review_answer_timestamp"),
}
PER_ORDER = ("orders", "customers", "order_items", "payments", "reviews")
CATALOGUE = ("products", "sellers", "categories")
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"


@dataclass
class Generated:
    """What was written: the folder, the number of orders and the rows per file."""

    directory: Path
    orders: int
    rows: dict[str, int] = field(default_factory=dict)


def generate_olist(
    out_dir: str | Path,
    *,
    orders: int = 1_000_000,
    seed: int = 0,
    source: str | Path | None = None,
    compress: bool = True,
    max_shift_days: int = 730,
) -> Generated:
    """Write an Olist-layout file set of ``orders`` orders replicated from ``source``.

    Parameters
    ----------
    out_dir
        Created if needed; the nine Olist files are written into it.
    orders
        Exact number of orders to write.
    seed
        Seeds the per-replica date shifts.
    source
        An Olist folder (default: the bundled 3,000-order sample).
    compress
        Write ``.csv.gz`` (default) or plain ``.csv``.
    max_shift_days
        Each replica's dates move by a whole number of days in ``[0, max_shift_days)``.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    if orders < 1:
        raise ValueError("orders must be at least 1")
    if source is None:
        from manyi.data.samples import sample_path

        source = sample_path("olist")
    reader = OlistReader(Path(source))
    tables = {key: _read_strings(reader.paths[key]) for key in FILES}
    base_orders = tables["orders"]
    wanted = pc.is_in(tables["payments"]["order_id"], value_set=base_orders["order_id"])
    tables["payments"] = tables["payments"].filter(wanted)
    per_replica = base_orders.num_rows
    replicas = math.ceil(orders / per_replica)
    rng = np.random.default_rng(seed)
    shifts = rng.integers(0, max_shift_days, size=replicas)

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    suffix = ".csv.gz" if compress else ".csv"
    result = Generated(out, 0)
    for key in CATALOGUE:
        path = out / f"{FILES[key]}{suffix}"
        _write(path, [tables[key]], compress)
        result.rows[key] = tables[key].num_rows

    def replicas_of(key: str) -> Iterator[Any]:
        for r in range(1, replicas + 1):
            table = tables[key]
            last = r == replicas
            keep = orders - per_replica * (replicas - 1)
            if last and keep < per_replica:
                kept_orders = base_orders["order_id"].slice(0, keep)
                join = "customer_id" if key == "customers" else "order_id"
                values = (
                    base_orders["customer_id"].slice(0, keep) if key == "customers" else kept_orders
                )
                table = table.filter(pc.is_in(table[join], value_set=values))
            yield _replica(table, key, r, int(shifts[r - 1]), pa, pc)

    for key in PER_ORDER:
        path = out / f"{FILES[key]}{suffix}"
        result.rows[key] = _write(path, replicas_of(key), compress)
    result.orders = result.rows["orders"]
    return result


def generate_canonical(
    out_dir: str | Path,
    *,
    orders: int = 1_000_000,
    seed: int = 0,
    source: str | Path | None = None,
) -> Generated:
    """Write the canonical tables (``<table>.parquet``) of a generated Olist set.

    The Olist files are generated into a temporary folder and read back through
    :class:`~manyi.data.olist.OlistReader`, so the Parquet files hold exactly what an import
    would store.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="manyi-synth-"))
    try:
        made = generate_olist(scratch, orders=orders, seed=seed, source=source, compress=False)
        reader = OlistReader(scratch)
        result = Generated(out, made.orders)

        def reject(problem: Any, cells: Any) -> None:
            raise ValueError(f"generated data failed validation: {problem}")

        for name in reader.tables():
            table = next(t for t in SHOP_TABLES if t.name == name)
            schema = arrow_schema(table)
            with pq.ParquetWriter(out / f"{name}.parquet", schema) as writer:
                count = 0
                for batch in reader.batches(name, reject, batch_size=50_000):
                    columns = list(zip(*batch.rows, strict=True))
                    arrays = [
                        pa.array(list(col), type=schema.field(i).type)
                        for i, col in enumerate(columns)
                    ]
                    writer.write_table(pa.Table.from_arrays(arrays, schema=schema))
                    count += len(batch)
            result.rows[name] = count
        return result
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def arrow_schema(table: Table) -> Any:
    """The Arrow schema of a canonical table (timestamps in UTC, money as decimal(14, 2))."""
    import pyarrow as pa

    types = {
        ColumnType.STRING: pa.string(),
        ColumnType.INTEGER: pa.int64(),
        ColumnType.DECIMAL: pa.decimal128(14, 2),
        ColumnType.FLOAT: pa.float64(),
        ColumnType.TIMESTAMP: pa.timestamp("us", tz="UTC"),
        ColumnType.BOOLEAN: pa.bool_(),
    }
    return pa.schema([pa.field(c.name, types[c.type], nullable=c.nullable) for c in table.columns])


def _read_strings(path: Path) -> Any:
    """Read a CSV (plain or gzip) with every column as text, empty cells as ``""``."""
    import csv

    import pyarrow as pa
    import pyarrow.csv as pcsv

    from manyi.data.reader import open_text

    with open_text(path) as handle:
        header = [h.strip() for h in next(csv.reader(handle))]
    with path.open("rb") as probe:
        compression = "gzip" if probe.read(2) == b"\x1f\x8b" else None
    with pa.input_stream(str(path), compression=compression) as stream:
        table = pcsv.read_csv(
            stream,
            parse_options=pcsv.ParseOptions(newlines_in_values=True),
            convert_options=pcsv.ConvertOptions(
                column_types=dict.fromkeys(header, pa.string()),
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    # A UTF-8 BOM survives in the first column name; the header read above has none.
    return table.rename_columns(header)


def _replica(table: Any, key: str, replica: int, shift_days: int, pa: Any, pc: Any) -> Any:
    prefix = f"{replica:06x}"
    columns = {}
    for name in table.column_names:
        column = table[name]
        if name in ID_COLUMNS.get(key, ()):
            column = pc.binary_join_element_wise(
                pa.scalar(prefix), pc.utf8_slice_codeunits(column, 6), ""
            )
        elif name in TIME_COLUMNS.get(key, ()) and shift_days:
            empty = pc.equal(column, "")
            parsed = pc.strptime(
                pc.if_else(empty, pa.scalar(None, pa.string()), column),
                format=TIME_FORMAT,
                unit="s",
            )
            moved = pc.add(
                parsed, pa.scalar(np.timedelta64(shift_days, "D").astype("timedelta64[s]"))
            )
            column = pc.fill_null(pc.strftime(moved, format=TIME_FORMAT), "")
        columns[name] = column
    return pa.table(columns)


def _write(path: Path, tables: Any, compress: bool) -> int:
    import pyarrow as pa
    import pyarrow.csv as pcsv

    rows = 0
    sink = pa.CompressedOutputStream(str(path), "gzip") if compress else pa.OSFile(str(path), "wb")
    writer = None
    try:
        for table in tables:
            if writer is None:
                writer = pcsv.CSVWriter(sink, table.schema)
            writer.write_table(table)
            rows += table.num_rows
    finally:
        if writer is not None:
            writer.close()
        sink.close()
    return rows
