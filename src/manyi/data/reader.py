"""The reader contract: a source yields batches of canonical rows with their provenance.

Readers stream: memory does not grow with the file. Each row keeps its source file and line, so
a later check (a reference to a missing order, a duplicate key) can still name where it came from.

A reader reports bad rows to a ``problems`` callback and leaves them out; the caller decides
whether one problem fails the whole import (strict, the default) or is written to a rejects file.
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import io
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from manyi.data.convert import Converter, converter_for
from manyi.data.errors import RowProblem, SourceError
from manyi.data.schema import TABLES, Table

#: Called once per bad row with the problem and the row's raw cells.
ProblemSink = Callable[[RowProblem, Sequence[str]], None]

BATCH_SIZE = 5000


@dataclass
class Batch:
    """Canonical rows of one table, in ``table.column_names`` order, with their source lines."""

    table: Table
    file: str
    rows: list[tuple[Any, ...]] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.rows)


class Reader(Protocol):
    """What every source offers; see :class:`manyi.data.olist.OlistReader` for an example."""

    name: str

    def tables(self) -> tuple[str, ...]:
        """The canonical tables this source provides, parents before children."""
        ...

    def batches(
        self, table: str, problems: ProblemSink, *, batch_size: int = BATCH_SIZE
    ) -> Iterator[Batch]:
        """Yield the valid rows of ``table``; report each bad row to ``problems``."""
        ...

    def files(self) -> list[Path]:
        """Every file the source reads (for the import log and its checksum)."""
        ...


def open_reader(kind: str, path: str | Path, **options: Any) -> Reader:
    """Open a source by kind: ``olist`` (a directory), ``cdnow`` (a file) or ``csv`` (a mapping).

    >>> from manyi.data.samples import sample_path
    >>> open_reader("cdnow", sample_path("cdnow")).tables()
    ('customers', 'orders')
    """
    if kind == "olist":
        from manyi.data.olist import OlistReader

        return OlistReader(Path(path), **options)
    if kind == "cdnow":
        from manyi.data.cdnow import CdnowReader

        return CdnowReader(Path(path), **options)
    if kind in ("csv", "mapping"):
        from manyi.data.mapped import MappedReader

        return MappedReader.from_yaml(Path(path), **options)
    raise SourceError(f"unknown source kind {kind!r}: use olist, cdnow or csv")


def open_text(path: Path) -> io.TextIOWrapper:
    """Open a CSV file, plain or gzip (by its magic bytes, not its name), dropping a UTF-8 BOM."""
    with path.open("rb") as probe:
        magic = probe.read(2)
    raw: Any = gzip.open(path, "rb") if magic == b"\x1f\x8b" else path.open("rb")  # noqa: SIM115 - closed by the returned wrapper
    return io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")


def iter_csv(path: Path, *, delimiter: str = ",") -> Iterator[tuple[int, list[str], list[str]]]:
    """Yield ``(line, header, cells)`` for each record; ``line`` is where the record starts.

    Quoted cells may span lines (review texts do), so the start line is tracked from the end
    line of the previous record rather than counted.
    """
    with open_text(path) as handle:
        reader = csv.reader(handle, delimiter=delimiter)
        try:
            header = [h.strip() for h in next(reader)]
        except StopIteration:
            raise SourceError(f"{path.name}: the file is empty (no header row)") from None
        except UnicodeDecodeError as exc:
            raise SourceError(f"{path.name}: not UTF-8 text ({exc.reason})") from None
        previous_end = reader.line_num
        try:
            for cells in reader:
                start = previous_end + 1
                previous_end = reader.line_num
                if not cells:
                    continue
                yield start, header, cells
        except csv.Error as exc:
            raise SourceError(f"{path.name}, line {reader.line_num}: {exc}") from None
        except UnicodeDecodeError as exc:
            raise SourceError(
                f"{path.name}, line {reader.line_num + 1}: not UTF-8 text ({exc.reason})"
            ) from None


@dataclass(frozen=True)
class FieldSpec:
    """How one canonical column is filled: from a source column, or a constant."""

    column: str
    source: str | None = None
    constant: Any = None


class RowBuilder:
    """Builds canonical tuples from source cells, reporting the first bad cell of a row.

    ``fields`` maps each canonical column to a source column or a constant; columns not
    mentioned are ``None``.
    """

    def __init__(
        self,
        table: Table,
        file: Path,
        header: Sequence[str],
        fields: Sequence[FieldSpec],
        *,
        timezone: dt.tzinfo = dt.UTC,
        date_formats: dict[str, str] | None = None,
    ) -> None:
        self.table = table
        self.file = file.name
        positions = {name: i for i, name in enumerate(header)}
        by_column = {f.column: f for f in fields}
        date_formats = date_formats or {}
        missing = sorted(
            f.source for f in fields if f.source is not None and f.source not in positions
        )
        if missing:
            raise SourceError(
                f"{file.name}: missing column(s) {', '.join(missing)}; "
                f"the header has {', '.join(header)}"
            )
        self.plan: list[tuple[str, str, int | None, Converter | None, Any]] = []
        for column in table.columns:
            spec = by_column.get(column.name)
            convert = converter_for(
                column, timezone=timezone, date_format=date_formats.get(column.name)
            )
            if spec is None or spec.source is None:
                constant = None if spec is None else spec.constant
                self.plan.append((column.name, column.name, None, None, constant))
            else:
                self.plan.append((column.name, spec.source, positions[spec.source], convert, None))
        self.width = len(header)

    def build(
        self, line: int, cells: Sequence[str], problems: ProblemSink
    ) -> tuple[Any, ...] | None:
        """The canonical row for ``cells``, or ``None`` after reporting its first problem."""
        if len(cells) != self.width:
            problems(
                RowProblem(
                    self.file,
                    line,
                    "*",
                    ",".join(cells)[:80],
                    f"has {len(cells)} cells where the header has {self.width}",
                ),
                cells,
            )
            return None
        values: list[Any] = []
        append = values.append
        for _column, source, position, convert, constant in self.plan:
            if position is None:
                append(constant)
                continue
            text = cells[position]
            try:
                append(convert(text))  # type: ignore[misc]
            except ValueError as exc:
                problems(RowProblem(self.file, line, source, text, str(exc)), cells)
                return None
        return tuple(values)


def table(name: str) -> Table:
    """The canonical table called ``name``."""
    try:
        return TABLES[name]
    except KeyError:
        raise SourceError(f"unknown canonical table {name!r}") from None
