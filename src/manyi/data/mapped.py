"""A shop's own CSV or Parquet exports, read through a declared column mapping (YAML).

A mapping names, for each canonical table it fills, the file and where each canonical column
comes from: a source column, a constant, or a source column with its values translated.

.. code-block:: yaml

    source: my-tmall-shop          # shown in the import log
    timezone: Asia/Shanghai        # zone of timestamps written without one
    tables:
      orders:
        file: exports/orders.csv   # relative to this mapping file; .csv, .csv.gz or .parquet
        columns:
          order_id: 订单编号
          customer_id: 买家会员名
          status:
            column: 订单状态
            values: {交易成功: delivered, 交易关闭: canceled, 卖家已发货: shipped}
          purchased_at: {column: 订单创建时间, format: "%Y-%m-%d %H:%M:%S"}
          currency: {value: CNY}
          item_total: 商品总价

A table whose file is Parquet is read in record batches; "line" in its messages is the row
number counting the header as line 1, as a spreadsheet would show it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from manyi.data.convert import zone
from manyi.data.errors import RowProblem, SourceError
from manyi.data.reader import (
    BATCH_SIZE,
    Batch,
    FieldSpec,
    ProblemSink,
    RowBuilder,
    iter_csv,
    table,
)
from manyi.data.schema import SHOP_TABLES


@dataclass(frozen=True)
class TableMapping:
    """Where one canonical table comes from."""

    table: str
    file: Path
    fields: tuple[FieldSpec, ...]
    value_maps: dict[str, dict[str, str]] = field(default_factory=dict)
    date_formats: dict[str, str] = field(default_factory=dict)
    delimiter: str = ","


class MappedReader:
    """Read canonical tables from files described by a mapping; see the module docs."""

    name = "csv"

    def __init__(
        self, mappings: Sequence[TableMapping], *, source: str, timezone: dt.tzinfo = dt.UTC
    ) -> None:
        self.mappings = {m.table: m for m in mappings}
        self.name = source
        self.timezone = timezone
        self.skipped: dict[str, int] = {}

    @classmethod
    def from_yaml(cls, path: Path) -> MappedReader:
        """Load a mapping file; every mistake in it is reported with the mapping's name."""
        path = Path(path)
        where = path.name
        try:
            spec = yaml.safe_load(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise SourceError(f"{path}: no such mapping file") from None
        except yaml.YAMLError as exc:
            raise SourceError(f"{where}: not valid YAML: {exc}") from None
        if not isinstance(spec, dict) or not isinstance(spec.get("tables"), dict):
            raise SourceError(f"{where}: expected a 'tables:' section naming canonical tables")
        try:
            timezone = zone(str(spec.get("timezone", "UTC")))
        except ValueError as exc:
            raise SourceError(f"{where}: timezone: {exc}") from None
        mappings = []
        known = {t.name for t in SHOP_TABLES}
        for name, body in spec["tables"].items():
            if name not in known:
                raise SourceError(
                    f"{where}: tables.{name}: not a canonical table "
                    f"(use one of {', '.join(sorted(known))})"
                )
            mappings.append(_table_mapping(where, path.parent, name, body))
        source = str(spec.get("source") or path.stem)
        return cls(mappings, source=source, timezone=timezone)

    def tables(self) -> tuple[str, ...]:
        return tuple(t.name for t in SHOP_TABLES if t.name in self.mappings)

    def files(self) -> list[Path]:
        return [self.mappings[name].file for name in self.tables()]

    def batches(
        self, table_name: str, problems: ProblemSink, *, batch_size: int = BATCH_SIZE
    ) -> Iterator[Batch]:
        mapping = self.mappings.get(table_name)
        if mapping is None:
            raise SourceError(f"the mapping has no table {table_name!r}")
        canonical = table(table_name)
        batch = Batch(canonical, mapping.file.name)
        builder: RowBuilder | None = None
        for line, header, cells in self._records(mapping):
            if builder is None:
                builder = RowBuilder(
                    canonical,
                    mapping.file,
                    header,
                    mapping.fields,
                    timezone=self.timezone,
                    date_formats=mapping.date_formats,
                )
            translated = self._translate(mapping, header, line, cells, problems)
            if translated is None:
                continue
            cells = translated
            row = builder.build(line, cells, problems)
            if row is None:
                continue
            batch.rows.append(row)
            batch.lines.append(line)
            if len(batch) >= batch_size:
                yield batch
                batch = Batch(canonical, mapping.file.name)
        if batch.rows:
            yield batch

    def _records(self, mapping: TableMapping) -> Iterator[tuple[int, list[str], list[str]]]:
        if mapping.file.suffix == ".parquet":
            yield from _iter_parquet(mapping.file)
        else:
            yield from iter_csv(mapping.file, delimiter=mapping.delimiter)

    @staticmethod
    def _translate(
        mapping: TableMapping,
        header: Sequence[str],
        line: int,
        cells: list[str],
        problems: ProblemSink,
    ) -> list[str] | None:
        if not mapping.value_maps:
            return cells
        for source, values in mapping.value_maps.items():
            position = header.index(source)
            if position >= len(cells):
                return cells  # the builder reports the short row
            raw = cells[position].strip()
            if not raw:
                continue
            if raw not in values:
                allowed = ", ".join(values)
                problems(
                    RowProblem(
                        mapping.file.name, line, source, raw, f"not a mapped value ({allowed})"
                    ),
                    cells,
                )
                return None
            cells[position] = values[raw]
        return cells


def _table_mapping(where: str, base: Path, name: str, body: Any) -> TableMapping:
    at = f"{where}: tables.{name}"
    if not isinstance(body, dict) or "file" not in body or "columns" not in body:
        raise SourceError(f"{at}: needs 'file:' and 'columns:'")
    file = (base / str(body["file"])).resolve()
    if not file.is_file():
        raise SourceError(f"{at}.file: {file} does not exist")
    canonical = table(name)
    columns = body["columns"]
    if not isinstance(columns, dict):
        raise SourceError(f"{at}.columns: expected 'canonical_column: source column' pairs")
    fields: list[FieldSpec] = []
    value_maps: dict[str, dict[str, str]] = {}
    formats: dict[str, str] = {}
    for column_name, rule in columns.items():
        if column_name not in canonical.column_names:
            raise SourceError(
                f"{at}.columns.{column_name}: {name} has no such column "
                f"(it has {', '.join(canonical.column_names)})"
            )
        if isinstance(rule, (bool, int, float)):
            raise SourceError(
                f"{at}.columns.{column_name}: YAML read the column name as {rule!r}; "
                "put it in quotes (YAML turns no/yes/on/off and numbers into values)"
            )
        if isinstance(rule, str):
            fields.append(FieldSpec(column_name, rule))
        elif isinstance(rule, Mapping) and "value" in rule:
            fields.append(FieldSpec(column_name, constant=rule["value"]))
        elif isinstance(rule, Mapping) and "column" in rule:
            source = str(rule["column"])
            fields.append(FieldSpec(column_name, source))
            if "values" in rule:
                value_maps[source] = {str(k): str(v) for k, v in dict(rule["values"]).items()}
            if "format" in rule:
                formats[column_name] = str(rule["format"])
        else:
            raise SourceError(
                f"{at}.columns.{column_name}: give a source column name, "
                "{column: NAME[, values: {...}][, format: ...]} or {value: CONSTANT}"
            )
    mapped = {f.column for f in fields}
    required = [c.name for c in canonical.columns if not c.nullable and c.name not in mapped]
    if required:
        raise SourceError(f"{at}.columns: required column(s) not mapped: {', '.join(required)}")
    constants = [f for f in fields if f.source is None]
    for constant in constants:
        _check_constant(at, canonical.column(constant.column).name, constant.constant)
    return TableMapping(
        name,
        file,
        tuple(fields),
        value_maps,
        formats,
        delimiter=str(body.get("delimiter", ",")),
    )


def _check_constant(at: str, column: str, value: Any) -> None:
    if value is None or isinstance(value, (dict, list)):
        raise SourceError(f"{at}.columns.{column}: a constant must be a plain value")


def _iter_parquet(path: Path) -> Iterator[tuple[int, list[str], list[str]]]:
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(path)
    except Exception as exc:  # pyarrow raises several unrelated types for a bad file
        raise SourceError(f"{path.name}: not a readable Parquet file ({exc})") from None
    header = list(parquet.schema_arrow.names)
    line = 1
    for record_batch in parquet.iter_batches(batch_size=BATCH_SIZE):
        columns = [_as_text(c.to_pylist()) for c in record_batch.columns]
        for cells in zip(*columns, strict=True):
            line += 1
            yield line, header, list(cells)


def _as_text(values: list[Any]) -> list[str]:
    out = []
    for value in values:
        if value is None:
            out.append("")
        elif isinstance(value, dt.datetime):
            out.append(value.isoformat())
        else:
            out.append(str(value))
    return out
