"""Bulk loading of canonical rows through a staging table, for SQLite and PostgreSQL.

Rows go first into a temporary table that also records each row's source line; the checks
that need the whole table (duplicate keys, references to parents) run there in SQL, naming the
lines at fault; then one ``INSERT ... ON CONFLICT DO UPDATE ... WHERE <changed>`` moves them
into the canonical table, so an unchanged row is never rewritten and a re-run changes nothing.

PostgreSQL is fed with ``COPY``; SQLite with ``executemany`` on prepared rows. Call everything
here inside one ``transaction.atomic()``: the temporary tables live only as long as it does.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from queue import Queue
from typing import Any

from django.db.backends.base.base import BaseDatabaseWrapper

from manyi.data.schema import ColumnType, Table

#: Columns derived from other tables, and how a re-import merges them with the stored value:
#: "earliest" keeps the earlier of the two (a customer's first purchase may be in an older
#: import); "keep" keeps the stored value when the import brings none.
DERIVED: dict[str, dict[str, str]] = {
    "customers": {"created_at": "earliest"},
    "orders": {"item_total": "keep", "freight_total": "keep"},
}

SQLITE_TYPES = {
    ColumnType.STRING: "text",
    ColumnType.INTEGER: "integer",
    ColumnType.DECIMAL: "decimal",
    ColumnType.FLOAT: "real",
    ColumnType.TIMESTAMP: "datetime",
    ColumnType.BOOLEAN: "bool",
}
POSTGRES_TYPES = {
    # Byte-order text matches the identifiers' columns (KeyField) and keeps joins cheap.
    ColumnType.STRING: 'text COLLATE "C"',
    ColumnType.INTEGER: "bigint",
    ColumnType.DECIMAL: "numeric(14, 2)",
    ColumnType.FLOAT: "double precision",
    ColumnType.TIMESTAMP: "timestamptz",
    ColumnType.BOOLEAN: "boolean",
}


@dataclass(frozen=True)
class Orphan:
    """A staged row whose reference names no parent row."""

    line: int
    column: str
    value: str
    parent: str


@dataclass(frozen=True)
class Duplicate:
    """A key that appears on more than one source line."""

    key: tuple[Any, ...]
    first_line: int
    line: int


@dataclass(frozen=True)
class UpsertCounts:
    inserted: int
    updated: int
    unchanged: int


class Stage:
    """A temporary staging table for one canonical table on one connection."""

    def __init__(self, connection: BaseDatabaseWrapper, table: Table) -> None:
        self.connection = connection
        self.table = table
        self.vendor = connection.vendor
        if self.vendor not in ("sqlite", "postgresql"):
            raise NotImplementedError(f"bulk import does not support {self.vendor}")
        self.name = f"stage_{table.name}"
        self.columns = table.column_names
        self.rows = 0
        types = POSTGRES_TYPES if self.vendor == "postgresql" else SQLITE_TYPES
        columns = ", ".join(f"{q(c.name)} {types[c.type]}" for c in table.columns)
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {q(self.name)}")
            cursor.execute(f"CREATE TEMPORARY TABLE {q(self.name)} (_line integer, {columns})")
        self._adapters = [_sqlite_adapter(c.type) for c in table.columns]

    # -- writing ----------------------------------------------------------------------

    def load(self, batches: Iterable[tuple[Sequence[int], Sequence[tuple[Any, ...]]]]) -> None:
        """Stage ``(lines, rows)`` batches (already validated by a reader).

        The database is fed from a second thread while this one keeps parsing, so reading the
        source and writing to the database overlap (the driver releases the GIL while it waits).
        """
        queue: Queue[tuple[Sequence[int], Sequence[tuple[Any, ...]]] | None] = Queue(maxsize=4)
        failure: list[BaseException] = []

        def drain() -> None:
            try:
                if self.vendor == "postgresql":
                    self._copy_from(queue)
                else:
                    self._insert_from(queue)
            except BaseException as exc:  # re-raised in the calling thread
                failure.append(exc)
                while queue.get() is not None:  # unblock the producer, then stop
                    pass

        worker = threading.Thread(target=drain, name=f"stage-{self.table.name}", daemon=True)
        worker.start()
        try:
            for lines, rows in batches:
                if failure:
                    break
                if rows:
                    queue.put((lines, rows))
                    self.rows += len(rows)
        finally:
            queue.put(None)
            worker.join()
        if failure:
            raise failure[0]
        if self.vendor == "postgresql":
            with self.connection.cursor() as cursor:
                cursor.execute(f"ANALYZE {q(self.name)}")  # temp tables are never auto-analysed

    def _copy_from(self, queue: Queue[Any]) -> None:
        names = ", ".join(("_line", *map(q, self.columns)))
        with (
            self.connection.connection.cursor() as cursor,
            cursor.copy(f"COPY {q(self.name)} ({names}) FROM STDIN") as copy,
        ):
            while (item := queue.get()) is not None:
                lines, rows = item
                for line, row in zip(lines, rows, strict=True):
                    copy.write_row((line, *row))

    def _insert_from(self, queue: Queue[Any]) -> None:
        names = ", ".join(("_line", *map(q, self.columns)))
        marks = ", ".join("?" * (len(self.columns) + 1))
        sql = f"INSERT INTO {q(self.name)} ({names}) VALUES ({marks})"
        adapters = self._adapters
        raw = self.connection.connection
        while (item := queue.get()) is not None:
            lines, rows = item
            raw.executemany(
                sql,
                [
                    (line, *[adapt(v) for adapt, v in zip(adapters, row, strict=True)])
                    for line, row in zip(lines, rows, strict=True)
                ],
            )

    # -- checks -----------------------------------------------------------------------

    def duplicates(self, limit: int) -> tuple[list[Duplicate], int]:
        """Keys staged more than once: the first ``limit`` and how many there are."""
        key = ", ".join(q(k) for k in self.table.key)
        sql = (
            f"SELECT {key}, MIN(_line), MAX(_line) FROM {q(self.name)} "
            f"GROUP BY {key} HAVING COUNT(*) > 1 ORDER BY MIN(_line)"
        )
        with self.connection.cursor() as cursor:
            cursor.execute(f"SELECT COUNT(*) FROM ({sql}) d")
            total = cursor.fetchone()[0]
            if not total:
                return [], 0
            cursor.execute(f"{sql} LIMIT {int(limit)}")
            width = len(self.table.key)
            found = [Duplicate(tuple(r[:width]), r[width], r[width + 1]) for r in cursor.fetchall()]
        return found, total

    def drop_earlier_duplicates(self) -> int:
        """Keep the last staged row of each repeated key (skip-bad-rows mode)."""
        match = " AND ".join(f"s2.{q(k)} = {q(self.name)}.{q(k)}" for k in self.table.key)
        with self.connection.cursor() as cursor:
            cursor.execute(
                f"DELETE FROM {q(self.name)} WHERE EXISTS (SELECT 1 FROM {q(self.name)} s2 "
                f"WHERE {match} AND s2._line > {q(self.name)}._line)"
            )
            return int(cursor.rowcount)

    def orphans(self, limit: int) -> tuple[list[Orphan], int]:
        """Rows whose references name no existing parent: the first ``limit`` and the count."""
        found: list[Orphan] = []
        total = 0
        with self.connection.cursor() as cursor:
            for column, (parent, parent_key) in self.table.references.items():
                where = self._orphan_condition(column, parent, parent_key)
                cursor.execute(f"SELECT COUNT(*) FROM {q(self.name)} s WHERE {where}")
                count = int(cursor.fetchone()[0])
                if not count:
                    continue
                total += count
                cursor.execute(
                    f"SELECT s._line, s.{q(column)} FROM {q(self.name)} s WHERE {where} "
                    f"ORDER BY s._line LIMIT {int(limit)}"
                )
                found += [Orphan(r[0], column, str(r[1]), parent) for r in cursor.fetchall()]
        found.sort(key=lambda o: o.line)
        return found[:limit], total

    def drop_orphans(self) -> list[Orphan]:
        """Remove rows with dangling references (skip-bad-rows mode) and return them."""
        removed: list[Orphan] = []
        with self.connection.cursor() as cursor:
            for column, (parent, parent_key) in self.table.references.items():
                where = self._orphan_condition(column, parent, parent_key)
                cursor.execute(f"SELECT s._line, s.{q(column)} FROM {q(self.name)} s WHERE {where}")
                removed += [Orphan(r[0], column, str(r[1]), parent) for r in cursor.fetchall()]
                cursor.execute(
                    f"DELETE FROM {q(self.name)} WHERE _line IN "
                    f"(SELECT s._line FROM {q(self.name)} s WHERE {where})"
                )
        return removed

    def _orphan_condition(self, column: str, parent: str, parent_key: str) -> str:
        return (
            f"s.{q(column)} IS NOT NULL AND NOT EXISTS "
            f"(SELECT 1 FROM {q(parent)} p WHERE p.{q(parent_key)} = s.{q(column)})"
        )

    # -- moving into place ------------------------------------------------------------

    def upsert(self, stages: dict[str, Stage]) -> UpsertCounts:
        """Insert new keys, update changed rows, leave identical rows untouched.

        ``stages`` are the other tables staged by the same import, from which derived columns
        are filled (order totals from the staged items, first-seen from the staged orders).
        """
        target = q(self.table.name)
        key = [q(k) for k in self.table.key]
        values = [c for c in self.columns if c not in self.table.key]
        names = ", ".join(q(c) for c in self.columns)
        source = f"({self._select(stages)}) AS s"
        match = " AND ".join(f"t.{k} = s.{k}" for k in key)
        postgres = self.vendor == "postgresql"
        same = "IS NOT DISTINCT FROM" if postgres else "IS"

        def incoming(column: str) -> str:
            old, new = f"{target}.{q(column)}", f"excluded.{q(column)}"
            rule = DERIVED.get(self.table.name, {}).get(column)
            if rule == "earliest":
                if postgres:
                    return f"LEAST({old}, {new})"  # LEAST ignores NULLs in PostgreSQL
                return f"MIN(COALESCE({old}, {new}), COALESCE({new}, {old}))"
            if rule == "keep":
                return f"COALESCE({new}, {old})"
            return new

        assignments = ", ".join(f"{q(c)} = {incoming(c)}" for c in values)
        unchanged = " AND ".join(f"{target}.{q(c)} {same} {incoming(c)}" for c in values)
        conflict = (
            f"DO UPDATE SET {assignments} WHERE NOT ({unchanged})" if values else "DO NOTHING"
        )
        # "WHERE true" lets SQLite tell the upsert clause from a join constraint.
        upsert = (
            f"INSERT INTO {target} ({names}) SELECT {names} FROM {source} WHERE true "
            f"ON CONFLICT ({', '.join(key)}) {conflict}"
        )
        with self.connection.cursor() as cursor:
            cursor.execute(f"SELECT COUNT(*) FROM {q(self.name)}")
            staged = int(cursor.fetchone()[0])
            if postgres:
                # xmax = 0 marks a freshly inserted row version, so one statement both writes
                # and tells inserted from updated rows, without probing the table beforehand.
                cursor.execute(
                    f"WITH written AS ({upsert} RETURNING (xmax = 0) AS fresh) "
                    "SELECT COUNT(*) FILTER (WHERE fresh), COUNT(*) FROM written"
                )
                inserted, affected = (int(n) for n in cursor.fetchone())
                updated = affected - inserted
                return UpsertCounts(inserted, updated, staged - inserted - updated)
            cursor.execute(
                f"SELECT COUNT(*) FROM {q(self.name)} s "
                f"WHERE EXISTS (SELECT 1 FROM {target} t WHERE {match})"
            )
            existing = int(cursor.fetchone()[0])
            cursor.execute(upsert)
            affected = int(cursor.rowcount)
        inserted = staged - existing
        updated = max(affected - inserted, 0)
        return UpsertCounts(inserted=inserted, updated=updated, unchanged=existing - updated)

    def _select(self, stages: dict[str, Stage]) -> str:
        """The staged rows, with derived columns filled from the other staged tables."""
        plain = f"SELECT * FROM {q(self.name)}"
        items, orders = stages.get("order_items"), stages.get("orders")
        if self.table.name == "orders" and items is not None:
            # An order's items are authoritative for its totals.
            columns = [
                f"COALESCE(x.items, o.{q(c)})"
                if c == "item_total"
                else f"COALESCE(x.freight, o.{q(c)})"
                if c == "freight_total"
                else f"o.{q(c)}"
                for c in self.columns
            ]
            return (
                f"SELECT {_aliased(columns, self.columns)} FROM {q(self.name)} o "
                "LEFT JOIN (SELECT order_id, ROUND(SUM(price), 2) AS items, "
                f"ROUND(SUM(freight), 2) AS freight FROM {q(items.name)} GROUP BY order_id) x "
                "ON x.order_id = o.order_id"
            )
        if self.table.name == "customers" and orders is not None:
            columns = [
                f"COALESCE(c.{q(col)}, x.first)" if col == "created_at" else f"c.{q(col)}"
                for col in self.columns
            ]
            return (
                f"SELECT {_aliased(columns, self.columns)} FROM {q(self.name)} c "
                "LEFT JOIN (SELECT customer_id, MIN(purchased_at) AS first "
                f"FROM {q(orders.name)} GROUP BY customer_id) x ON x.customer_id = c.customer_id"
            )
        return plain

    def drop(self) -> None:
        with self.connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {q(self.name)}")


def _aliased(expressions: Sequence[str], names: Sequence[str]) -> str:
    return ", ".join(f"{e} AS {q(n)}" for e, n in zip(expressions, names, strict=True))


def q(name: str) -> str:
    """Quote an identifier (names here come from the schema, never from input)."""
    return '"' + name.replace('"', '""') + '"'


def _sqlite_adapter(kind: ColumnType) -> Any:
    if kind is ColumnType.TIMESTAMP:
        return _sqlite_timestamp
    if kind is ColumnType.DECIMAL:
        return _sqlite_decimal
    return _identity


def _identity(value: Any) -> Any:
    return value


def _sqlite_timestamp(value: dt.datetime | None) -> str | None:
    # Django's SQLite backend stores aware datetimes as naive UTC text.
    if value is None:
        return None
    return value.astimezone(dt.UTC).replace(tzinfo=None).isoformat(" ")


def _sqlite_decimal(value: Decimal | None) -> str | None:
    return None if value is None else str(value)
