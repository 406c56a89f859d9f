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
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.backends.base.base import BaseDatabaseWrapper

from manyi.data.schema import ColumnType, Table

#: Columns an import may leave empty because the importer derives them afterwards; an empty
#: source value keeps the stored one instead of erasing it.
DERIVED: dict[str, frozenset[str]] = {
    "customers": frozenset({"created_at"}),
    "orders": frozenset({"item_total", "freight_total"}),
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
    ColumnType.STRING: "text",
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

    def write(self, lines: Sequence[int], rows: Sequence[tuple[Any, ...]]) -> None:
        """Stage rows (already validated by a reader), remembering their source lines."""
        if not rows:
            return
        names = ", ".join(("_line", *map(q, self.columns)))
        if self.vendor == "postgresql":
            raw = self.connection.connection
            with (
                raw.cursor() as cursor,
                cursor.copy(f"COPY {q(self.name)} ({names}) FROM STDIN") as copy,
            ):
                for line, row in zip(lines, rows, strict=True):
                    copy.write_row((line, *row))
        else:
            adapters = self._adapters
            prepared = [
                (line, *[adapt(v) for adapt, v in zip(adapters, row, strict=True)])
                for line, row in zip(lines, rows, strict=True)
            ]
            marks = ", ".join("?" * (len(self.columns) + 1))
            raw = self.connection.connection
            raw.executemany(f"INSERT INTO {q(self.name)} ({names}) VALUES ({marks})", prepared)
        self.rows += len(rows)

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

    def upsert(self) -> UpsertCounts:
        """Insert new keys, update changed rows, leave identical rows untouched."""
        target, stage = q(self.table.name), q(self.name)
        key = [q(k) for k in self.table.key]
        derived = DERIVED.get(self.table.name, frozenset())
        values = [c for c in self.columns if c not in self.table.key]
        names = ", ".join(q(c) for c in self.columns)
        match = " AND ".join(f"t.{k} = s.{k}" for k in key)

        def incoming(column: str) -> str:
            if column in derived:
                return f"COALESCE(excluded.{q(column)}, {target}.{q(column)})"
            return f"excluded.{q(column)}"

        same = "IS NOT DISTINCT FROM" if self.vendor == "postgresql" else "IS"
        assignments = ", ".join(f"{q(c)} = {incoming(c)}" for c in values)
        unchanged = " AND ".join(f"{target}.{q(c)} {same} {incoming(c)}" for c in values)
        with self.connection.cursor() as cursor:
            cursor.execute(f"SELECT COUNT(*) FROM {stage}")
            staged = int(cursor.fetchone()[0])
            cursor.execute(
                f"SELECT COUNT(*) FROM {stage} s WHERE EXISTS (SELECT 1 FROM {target} t WHERE {match})"
            )
            existing = int(cursor.fetchone()[0])
            conflict = (
                f"DO UPDATE SET {assignments} WHERE NOT ({unchanged})" if values else "DO NOTHING"
            )
            # "WHERE true" lets SQLite tell the upsert clause from a join constraint.
            cursor.execute(
                f"INSERT INTO {target} ({names}) SELECT {names} FROM {stage} WHERE true "
                f"ON CONFLICT ({', '.join(key)}) {conflict}"
            )
            affected = int(cursor.rowcount)
        inserted = staged - existing
        updated = max(affected - inserted, 0)
        return UpsertCounts(inserted=inserted, updated=updated, unchanged=existing - updated)

    def drop(self) -> None:
        with self.connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {q(self.name)}")


def derive_totals(connection: BaseDatabaseWrapper, staged_items: str | None) -> int:
    """Set ``orders.item_total``/``freight_total`` from their items (items are authoritative).

    Only orders with items staged in this import are touched; returns how many changed.
    """
    if staged_items is None:
        return 0
    same = "IS NOT DISTINCT FROM" if connection.vendor == "postgresql" else "IS"
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE orders SET item_total = x.items, freight_total = x.freight FROM ("
            " SELECT i.order_id, ROUND(SUM(i.price), 2) AS items, ROUND(SUM(i.freight), 2) AS freight"
            f" FROM order_items i WHERE i.order_id IN (SELECT order_id FROM {q(staged_items)})"
            " GROUP BY i.order_id) x"
            " WHERE orders.order_id = x.order_id"
            f" AND NOT (orders.item_total {same} x.items AND orders.freight_total {same} x.freight)"
        )
        return int(cursor.rowcount)


def derive_first_seen(connection: BaseDatabaseWrapper, staged_orders: str | None) -> int:
    """Fill ``customers.created_at`` with the first purchase where the source gave none."""
    if staged_orders is None:
        return 0
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE customers SET created_at = x.first FROM ("
            " SELECT o.customer_id, MIN(o.purchased_at) AS first FROM orders o"
            f" WHERE o.customer_id IN (SELECT customer_id FROM {q(staged_orders)})"
            " GROUP BY o.customer_id) x"
            " WHERE customers.customer_id = x.customer_id"
            " AND (customers.created_at IS NULL OR customers.created_at > x.first)"
        )
        return int(cursor.rowcount)


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
