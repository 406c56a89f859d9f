"""State changes of the shop data: importing a source into the desk database.

``import_source`` is all or nothing: every table of the source is staged, checked and moved
into place inside one transaction, so an error, a rejected row (in strict mode) or a killed
process leaves the database exactly as it was. It is idempotent: rows equal to what is stored
are not rewritten, changed rows are updated, and the summary says which was which.
"""

from __future__ import annotations

import csv
import hashlib
import os
import socket
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.utils import timezone

from manyi.data.errors import DataValidationError, RowProblem
from manyi.data.reader import Reader
from manyi.desk.commerce.models import ImportRun, ImportStatus
from manyi.desk.commerce.staging import Stage

#: How many problems an error message lists (all are counted).
SHOWN_PROBLEMS = 20

#: Called as rows are staged: ``(table, rows_so_far)``; ``rows_so_far`` is -1 when the table ends.
Progress = Callable[[str, int], None]


@dataclass
class TableSummary:
    """What happened to one table: rows read from the source and what became of them."""

    read: int = 0
    accepted: int = 0
    rejected: int = 0
    skipped: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0


@dataclass
class ImportSummary:
    run_id: int
    tables: dict[str, TableSummary] = field(default_factory=dict)
    rejects_file: Path | None = None

    @property
    def total(self) -> TableSummary:
        out = TableSummary()
        for part in self.tables.values():
            for name in vars(out):
                setattr(out, name, getattr(out, name) + getattr(part, name))
        return out

    def as_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "tables": {name: vars(part) for name, part in self.tables.items()},
            "total": vars(self.total),
            "rejects_file": str(self.rejects_file) if self.rejects_file else None,
        }


class _Problems:
    """Collects bad rows: counts them, keeps the first few, and writes rejects when asked to."""

    def __init__(self, rejects: IO[str] | None) -> None:
        self.shown: list[RowProblem] = []
        self.count = 0
        self.writer = csv.writer(rejects) if rejects is not None else None
        if self.writer is not None:
            self.writer.writerow(["file", "line", "column", "value", "reason", "row"])

    def __call__(self, problem: RowProblem, cells: Sequence[str]) -> None:
        self.count += 1
        if len(self.shown) < SHOWN_PROBLEMS:
            self.shown.append(problem)
        if self.writer is not None:
            self.writer.writerow(
                [
                    problem.file,
                    problem.line,
                    problem.column,
                    problem.value,
                    problem.reason,
                    "\x1f".join(cells),
                ]
            )


def import_source(
    reader: Reader,
    *,
    kind: str,
    source: str,
    skip_bad_rows: bool = False,
    rejects_path: Path | None = None,
    progress: Progress | None = None,
    using: str = DEFAULT_DB_ALIAS,
) -> ImportSummary:
    """Load every table of ``reader`` into the desk database, all or nothing.

    Parameters
    ----------
    reader
        A :class:`manyi.data.reader.Reader` (Olist, CDNOW, mapped CSV/Parquet).
    kind, source
        Recorded on the :class:`ImportRun` (for example ``"olist"`` and the directory).
    skip_bad_rows
        ``False`` (strict): any bad row fails the import and nothing is written.
        ``True``: bad rows are left out and written to ``rejects_path`` with the reason.
    progress
        Called after each staged batch with the table name and the rows staged so far.

    Raises
    ------
    DataValidationError
        In strict mode, naming the file, line, column, value and reason of the first problems.

    Examples
    --------
    >>> from manyi.data import open_reader                      # doctest: +SKIP
    >>> summary = import_source(open_reader("olist", "shop/"), kind="olist", source="shop/")
    >>> summary.tables["orders"].inserted                        # doctest: +SKIP
    3000
    """
    if skip_bad_rows and rejects_path is None:
        raise ValueError("skip_bad_rows needs a rejects_path to write the rejected rows to")
    _close_interrupted_runs(using)
    run = ImportRun.objects.using(using).create(
        kind=kind,
        source=source,
        fingerprint=_fingerprint(reader),
        started_at=timezone.now(),
        summary={"process": {"host": socket.gethostname(), "pid": os.getpid()}},
    )
    summary = ImportSummary(run_id=run.pk, rejects_file=rejects_path if skip_bad_rows else None)
    rejects = (
        rejects_path.open("w", encoding="utf-8", newline="")
        if skip_bad_rows and rejects_path is not None
        else None
    )
    try:
        _import(reader, summary, _Problems(rejects), skip_bad_rows, progress, using)
    except BaseException as exc:  # KeyboardInterrupt too: the run must not stay "running"
        run.status = ImportStatus.FAILED
        run.error = str(exc)[:10_000]
        run.finished_at = timezone.now()
        run.summary = summary.as_dict()
        run.save(using=using, update_fields=["status", "error", "finished_at", "summary"])
        raise
    finally:
        if rejects is not None:
            rejects.close()
    run.status = ImportStatus.SUCCEEDED
    run.finished_at = timezone.now()
    run.summary = summary.as_dict()
    run.save(using=using, update_fields=["status", "finished_at", "summary"])
    return summary


def _import(
    reader: Reader,
    summary: ImportSummary,
    problems: _Problems,
    skip_bad_rows: bool,
    progress: Progress | None,
    using: str,
) -> None:
    connection = connections[using]
    with transaction.atomic(using=using):
        _tune_session(connection)
        # Stage every table first: derived columns (order totals, first purchase) are then
        # filled from the staged children as each table moves into place, parents first.
        stages: dict[str, Stage] = {}
        for name in reader.tables():
            part = summary.tables[name] = TableSummary()
            stage = stages[name] = Stage(connection, _table(name))
            before = problems.count
            stage.load(_valid_batches(reader, name, problems, skip_bad_rows, progress))
            part.rejected = problems.count - before
            part.skipped = getattr(reader, "skipped", {}).get(name, 0)
            if problems.count and not skip_bad_rows:
                raise DataValidationError(problems.shown, total=problems.count)
            if progress is not None:
                progress(name, -1)
        for name, stage in stages.items():
            part = summary.tables[name]
            _check_whole_table(stage, part, problems, skip_bad_rows, source_file(reader, name))
            counts = stage.upsert(stages)
            part.inserted, part.updated, part.unchanged = (
                counts.inserted,
                counts.updated,
                counts.unchanged,
            )
            part.accepted = part.inserted + part.updated + part.unchanged
            part.read = part.accepted + part.rejected + part.skipped
        for stage in stages.values():
            stage.drop()


def _valid_batches(
    reader: Reader,
    name: str,
    problems: _Problems,
    skip_bad_rows: bool,
    progress: Progress | None,
) -> Iterator[tuple[list[int], list[tuple[Any, ...]]]]:
    staged = 0
    for batch in reader.batches(name, problems):
        if problems.count and not skip_bad_rows:
            continue  # keep reading to count every bad row, but stage nothing more
        staged += len(batch)
        yield batch.lines, batch.rows
        if progress is not None:
            progress(name, staged)


def _tune_session(connection: Any) -> None:
    """Give the database room for the staging tables and the checks."""
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            # The default 2 MB page cache makes index inserts of a large import hit the disk;
            # 64 MB each for the tables and the staging (temporary) tables, this connection only.
            cursor.execute("PRAGMA main.cache_size = -65536")
            cursor.execute("PRAGMA temp.cache_size = -65536")
        return
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        # Staging tables are temporary: without enough temp_buffers they spill to disk.
        # temp_buffers can only change before a session first touches a temporary table.
        cursor.execute(
            "SELECT COUNT(*) FROM pg_class "
            "WHERE relpersistence = 't' AND relnamespace = pg_my_temp_schema()"
        )
        if cursor.fetchone()[0] == 0:
            cursor.execute("SET LOCAL temp_buffers = '256MB'")
        cursor.execute("SET LOCAL work_mem = '128MB'")
        cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")


def _check_whole_table(
    stage: Stage,
    part: TableSummary,
    problems: _Problems,
    skip_bad_rows: bool,
    file: str,
) -> None:
    """Duplicate keys and dangling references, which only the whole table can show."""
    duplicates, count = stage.duplicates(SHOWN_PROBLEMS)
    if count:
        if not skip_bad_rows:
            found = [
                RowProblem(
                    file,
                    d.line,
                    ", ".join(stage.table.key),
                    ", ".join(map(str, d.key)),
                    f"duplicate key: also on line {d.first_line}",
                )
                for d in duplicates
            ]
            raise DataValidationError(found, total=count)
        dropped = stage.drop_earlier_duplicates()
        for d in duplicates:
            problems(
                RowProblem(
                    file,
                    d.first_line,
                    ", ".join(stage.table.key),
                    ", ".join(map(str, d.key)),
                    f"duplicate key: replaced by line {d.line}",
                ),
                [],
            )
        part.rejected += dropped
    orphans, count = stage.orphans(SHOWN_PROBLEMS)
    if count:
        if not skip_bad_rows:
            found = [
                RowProblem(file, o.line, o.column, o.value, f"no such {o.parent[:-1]} ({o.parent})")
                for o in orphans
            ]
            raise DataValidationError(found, total=count)
        for o in stage.drop_orphans():
            problems(
                RowProblem(
                    file, o.line, o.column, o.value, f"no such {o.parent[:-1]} ({o.parent})"
                ),
                [],
            )
            part.rejected += 1


def source_file(reader: Reader, table: str) -> str:
    """The file name a reader takes ``table`` from, for messages."""
    paths = getattr(reader, "paths", None)
    if isinstance(paths, dict) and table in paths:
        return str(paths[table].name)
    mappings = getattr(reader, "mappings", None)
    if isinstance(mappings, dict) and table in mappings:
        return str(mappings[table].file.name)
    files = reader.files()
    return files[0].name if len(files) == 1 else table


def _table(name: str) -> Any:
    from manyi.data.schema import TABLES

    return TABLES[name]


def _fingerprint(reader: Reader) -> str:
    """SHA-256 over the source files' bytes, to recognise the same input imported twice."""
    digest = hashlib.sha256()
    for path in reader.files():
        digest.update(path.name.encode())
        with path.open("rb") as handle:
            while chunk := handle.read(1 << 20):
                digest.update(chunk)
    return digest.hexdigest()


def _close_interrupted_runs(using: str) -> None:
    """Mark runs of this host whose process is gone as failed: their transaction rolled back."""
    host = socket.gethostname()
    for run in ImportRun.objects.using(using).filter(status=ImportStatus.RUNNING):
        owner = run.summary.get("process", {})
        if owner.get("host") != host or _alive(int(owner.get("pid", 0))):
            continue
        run.status = ImportStatus.FAILED
        run.error = (
            "interrupted: the process stopped before the import finished; nothing was written"
        )
        run.finished_at = timezone.now()
        run.save(using=using, update_fields=["status", "error", "finished_at"])


def _alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
