"""Model rows read with hand-written joins, for the few reads every API call makes.

Django's ORM compiles each queryset to SQL anew on every call: for a one-row read with two
joins that compilation costs more Python than the database spends answering (about 0.5 ms of
a request's CPU per query; ``benchmarks/desk_load.py``). The reads on the API's hot path (the
caller's token with its user, a case with its SLA policy and calendar, its lines, its event
log) are fixed shapes, so their SQL is written here once per database vendor and the rows are
turned into ordinary model instances with :meth:`django.db.models.Model.from_db`, after the
same value converters the ORM applies (SQLite returns datetimes as text, for example).

Column lists come from the models' ``_meta`` at first use, so a new field is read without
touching this module; ``tests/desk/test_sqlrows.py`` checks that every instance built here
equals the one the ORM returns, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import contextlib
import functools
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Field, Model
from django.db.models.base import ModelState
from django.db.models.constants import OnConflict
from django.db.models.signals import post_init, pre_init

Converter = Callable[[Any, Any, BaseDatabaseWrapper], Any]


@dataclass(frozen=True)
class Columns:
    """Some concrete fields of ``model`` under a table alias: their SQL and how to read them."""

    model: type[Model]
    alias: str
    fields: tuple[Field[Any, Any], ...]
    sql: str
    converters: tuple[tuple[int, tuple[Converter, ...], Any], ...]

    @property
    def width(self) -> int:
        return len(self.fields)

    def values(self, row: Sequence[Any], start: int = 0, *, using: str = "default") -> list[Any]:
        """The Python values of ``row[start : start + width]``, converted as the ORM does."""
        values = list(row[start : start + len(self.fields)])
        connection = connections[using]
        for index, funcs, expression in self.converters:
            value = values[index]
            for func in funcs:
                value = func(value, expression, connection)
            values[index] = value
        return values

    @functools.cached_property
    def attnames(self) -> tuple[str, ...]:
        return tuple(f.attname for f in self.fields)

    @functools.cached_property
    def _plain(self) -> bool:
        """Whether the model builds its instances as :class:`Model` does (no ``__init__``
        or ``from_db`` of its own): then :meth:`build` can fill one in directly."""
        model = self.model
        return (
            model.__init__ is Model.__init__
            and getattr(model.from_db, "__func__", None) is Model.from_db.__func__  # type: ignore[attr-defined]
        )

    def build(self, row: Sequence[Any], start: int = 0, *, using: str = "default") -> Model:
        """The model instance held by ``row[start : start + width]``: what
        :meth:`Model.from_db` gives for these fields (the others deferred).

        ``Model.__init__`` sets each field through ``setattr``, sends the ``pre_init`` and
        ``post_init`` signals and handles keyword arguments: for a model without receivers
        of those signals and without an ``__init__`` of its own, the same instance is made
        by putting the values straight into its ``__dict__`` (about a quarter of the CPU of
        an API read went into building its six instances the general way)."""
        values = self.values(row, start, using=using)
        model = self.model
        if not self._plain or _init_signals(model):
            return model.from_db(using, self.attnames, values)
        instance = model.__new__(model)
        state = instance._state = ModelState()
        state.adding = False
        state.db = using
        instance.__dict__.update(zip(self.attnames, values, strict=True))
        return instance

    def is_null(self, row: Sequence[Any], start: int = 0) -> bool:
        """Whether the row of an outer join found nothing (its primary key is NULL)."""
        pk_index = next(i for i, f in enumerate(self.fields) if f.primary_key)
        return row[start + pk_index] is None


def _init_signals(model: type[Model]) -> bool:
    """Whether anything listens to ``pre_init`` or ``post_init`` of ``model`` (usually no
    receiver is connected at all, which is quicker to see)."""
    return bool(
        (pre_init.receivers and pre_init.has_listeners(model))
        or (post_init.receivers and post_init.has_listeners(model))
    )


def attach(instance: Model, name: str, related: Model | None) -> None:
    """Make ``related`` (or ``None``) what ``instance.<name>`` returns, as the ORM's
    ``select_related`` does: without an assignment's checks and routing, since the foreign key
    already holds the related row's key (the row was joined on it)."""
    field = instance._meta.get_field(name)
    field.set_cached_value(instance, related)  # type: ignore[union-attr]


_cache: dict[tuple[str, type[Model], str, tuple[str, ...] | None], Columns] = {}
_lock = threading.Lock()


def columns(
    model: type[Model], alias: str, names: Iterable[str] | None = None, *, using: str = "default"
) -> Columns:
    """The columns of ``model`` (all concrete fields, or those named, primary key always
    included) as ``alias."col", ...``, with the database's value converters."""
    wanted = None if names is None else tuple(names)
    key = (connections[using].vendor, model, alias, wanted)
    found = _cache.get(key)
    if found is not None:
        return found
    connection = connections[using]
    meta = model._meta
    fields = [
        f
        for f in meta.concrete_fields
        if wanted is None or f.primary_key or f.name in wanted or f.attname in wanted
    ]
    quote = connection.ops.quote_name
    sql = ", ".join(f"{quote(alias)}.{quote(str(f.column))}" for f in fields)
    converters = []
    for index, field in enumerate(fields):
        expression = field.get_col(alias)
        funcs = tuple(
            connection.ops.get_db_converters(expression) + expression.get_db_converters(connection)
        )
        if funcs:
            converters.append((index, funcs, expression))
    found = Columns(model, alias, tuple(fields), sql, tuple(converters))
    with _lock:
        _cache[key] = found
    return found


def table(model: type[Model], alias: str, *, using: str = "default") -> str:
    """``"table" "alias"`` for a FROM or JOIN clause."""
    quote = connections[using].ops.quote_name
    return f"{quote(model._meta.db_table)} {quote(alias)}"


def column(model: type[Model], alias: str, name: str, *, using: str = "default") -> str:
    """``"alias"."column"`` of the field ``name`` (its name or attname)."""
    quote = connections[using].ops.quote_name
    meta = model._meta
    field = next(f for f in meta.concrete_fields if name in (f.name, f.attname))
    return f"{quote(alias)}.{quote(str(field.column))}"


def once(build: Callable[[], str]) -> Callable[[], str]:
    """Cache the SQL text ``build`` writes, per database vendor (decorator)."""
    built: dict[str, str] = {}

    def sql() -> str:
        vendor = connections["default"].vendor
        text = built.get(vendor)
        if text is None:
            text = built[vendor] = build()
        return text

    return sql


_WHERE_SQL: dict[tuple[str, type[Model], str], str] = {}


def rows_where(model: type[Model], name: str, value: Any) -> list[Model]:
    """Every row of ``model`` whose field ``name`` equals ``value``, as instances: one
    hand-written query (its text written once per model and field)."""
    cols = columns(model, "t")
    key = (connections["default"].vendor, model, name)
    sql = _WHERE_SQL.get(key)
    if sql is None:
        sql = _WHERE_SQL[key] = (
            f"SELECT {cols.sql} FROM {table(model, 't')} WHERE {column(model, 't', name)} = %s"
        )
    return [cols.build(row) for row in fetch(sql, [value])]


def quote(name: str) -> str:
    """A table or column name quoted for the database."""
    return str(connections["default"].ops.quote_name(name))


def bare(model: type[Model], name: str) -> str:
    """The quoted column of the field ``name`` without a table (an UPDATE's SET list)."""
    field = next(f for f in model._meta.concrete_fields if name in (f.name, f.attname))
    return quote(str(field.column))


def prep(model: type[Model], name: str, value: Any) -> Any:
    """``value`` as the database takes it for the field ``name`` (for a hand-written UPDATE:
    SQLite, for one, stores datetimes as text in UTC)."""
    field = next(f for f in model._meta.concrete_fields if name in (f.name, f.attname))
    return field.get_db_prep_save(value, connections["default"])


def cursor(using: str = "default") -> Any:
    """A cursor for the fixed statements of this module: Django's cursor (its error mapping,
    query logging and health check) around, on PostgreSQL, a server-side binding psycopg
    cursor instead of Django's default client-side one.

    With server-side binding psycopg prepares a statement the fifth time one connection runs
    it, and from then on PostgreSQL neither parses nor plans it again: for the case read
    (four joined tables, eighty columns) that cut the server's CPU per execution from about
    260 to 60 microseconds. The ORM's own queries keep Django's default (the ORM does not yet
    generate SQL that is always preparable, Django ticket #20516); the statements here are
    plain ``%s`` placeholders for values, which always are (decision 0005).
    """
    connection = connections[using]
    if connection.vendor != "postgresql":
        return connection.cursor()
    _connect(connection)
    with connection.wrap_database_errors:
        return connection._prepare_cursor(_binding_cursor(connection))  # type: ignore[attr-defined]


def _connect(connection: Any) -> None:
    """What Django's ``cursor()`` does before making one: the request's health check, then a
    connection if there is none."""
    connection.close_if_health_check_failed()
    connection.ensure_connection()


@functools.cache
def _postgresql() -> tuple[Any, Any, int, Any]:
    """Django's PostgreSQL pieces, imported on first use (a SQLite install never needs them)."""
    from django.db.backends.postgresql.base import TIMESTAMPTZ_OID, ServerBindingCursor
    from django.db.backends.postgresql.psycopg_any import register_tzloader
    from psycopg.pq import Format

    return ServerBindingCursor, register_tzloader, TIMESTAMPTZ_OID, Format.TEXT


def _binding_cursor(connection: Any) -> Any:
    """What Django's ``create_cursor`` makes, with server-side binding (the class Django uses
    when ``OPTIONS["server_side_binding"]`` is set) and the same time-zone rule."""
    binding_cursor, register_tzloader, oid, text = _postgresql()
    raw = connection.connection
    created = binding_cursor(raw)
    loader = raw.adapters.get_loader(oid, text)
    if connection.timezone != loader.timezone:
        register_tzloader(connection.timezone, created)
    return created


@contextlib.contextmanager
def pipeline(using: str = "default") -> Iterator[None]:
    """Send the statements run inside one after the other without waiting for each answer
    (psycopg's pipeline mode on PostgreSQL; elsewhere an ordinary block): for a run of
    writes whose answers nothing reads, one round trip instead of one each. An error of any
    of them is raised when the block ends, as Django's error (``IntegrityError``, ...), and
    the statements after it are not run. Reads inside the block wait for everything before
    them, so keep them out."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        yield
        return
    _connect(connection)
    with connection.wrap_database_errors, connection.connection.pipeline():
        yield


def execute(sql: str, params: Sequence[Any]) -> int:
    """Run a write; returns the number of rows it touched."""
    with cursor() as cur:
        cur.execute(sql, params)
        return int(cur.rowcount)


def fetch(sql: str, params: Sequence[Any], *, using: str = "default") -> list[tuple[Any, ...]]:
    """Every row of ``sql`` (``%s`` placeholders, as Django's cursors take them)."""
    with cursor(using) as cur:
        cur.execute(sql, params)
        return list(cur.fetchall())


def insert(
    model: type[Model],
    names: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    ignore_conflicts: bool = False,
) -> int:
    """Insert ``rows`` (values of the fields ``names``, in that order) in one statement, for
    tables whose rows need no generated key back; returns how many rows were inserted.

    Values go through each field's ``get_db_prep_save``, as the ORM's inserts do. With
    ``ignore_conflicts`` a row that would break a unique constraint is skipped (``ON CONFLICT
    DO NOTHING``), after waiting for a concurrent transaction that inserted the same key, as
    ``bulk_create(ignore_conflicts=True)`` does.
    """
    connection = connections["default"]
    head, tail, one, fields, rest = _rows_plan(model, tuple(names), ignore_conflicts)
    defaults = [f.get_default() for f in rest]
    prepared = [
        [f.get_db_prep_save(v, connection) for f, v in zip(fields, [*row, *defaults], strict=True)]
        for row in rows
    ]
    inserted = 0
    with cursor() as cur:
        for start in range(0, len(prepared), _INSERT_BATCH):
            batch = prepared[start : start + _INSERT_BATCH]
            values = ", ".join([one] * len(batch))
            cur.execute(f"{head}{values} {tail}".rstrip(), [v for r in batch for v in r])
            inserted += cur.rowcount if ignore_conflicts else len(batch)
    return inserted


_ROWS_PLANS: dict[tuple[Any, ...], tuple[str, str, str, list[Any], list[Any]]] = {}


def _rows_plan(
    model: type[Model], names: tuple[str, ...], ignore_conflicts: bool
) -> tuple[str, str, str, list[Any], list[Any]]:
    """The INSERT's head and tail, one row's placeholders, the fields it sends (those named,
    then the others, which get their defaults) and the others alone."""
    connection = connections["default"]
    key = (connection.vendor, model, names, ignore_conflicts)
    found = _ROWS_PLANS.get(key)
    if found is not None:
        return found
    meta = model._meta
    named = [next(f for f in meta.concrete_fields if n in (f.name, f.attname)) for n in names]
    # The other columns get their defaults, as a new instance would have them (a NOT NULL
    # column without a database default must not be left out: SQLite's INSERT OR IGNORE
    # would silently skip the row).
    rest = [
        f for f in meta.concrete_fields if f not in named and not getattr(f, "db_returning", False)
    ]
    fields = named + rest
    quote = connection.ops.quote_name
    conflict = OnConflict.IGNORE if ignore_conflicts else None
    head = (
        f"{connection.ops.insert_statement(on_conflict=conflict)} {quote(meta.db_table)} "
        f"({', '.join(quote(str(f.column)) for f in fields)}) VALUES "
    )
    tail = connection.ops.on_conflict_suffix_sql(fields, conflict, None, None) or ""
    one = "(" + ", ".join(["%s"] * len(fields)) + ")"
    found = _ROWS_PLANS[key] = (head, tail, one, fields, rest)
    return found


def insert_objects(objs: Sequence[Model]) -> int:
    """Insert new instances of one model whose primary key is made in Python (a default such
    as a UUID, never a database sequence), every concrete field as ``pre_save`` gives it, as
    ``bulk_create`` would; returns how many."""
    if not objs:
        return 0
    model = type(objs[0])
    meta = model._meta
    assert meta.pk is not None
    assert not getattr(meta.pk, "db_returning", False), "keys made by the database need the ORM"
    fields = list(meta.concrete_fields)
    count = insert(
        model,
        [f.attname for f in fields],
        ([f.pre_save(obj, add=True) for f in fields] for obj in objs),
    )
    for obj in objs:  # now stored, as after bulk_create
        obj._state.adding = False
        obj._state.db = "default"
    return count


def save_new(obj: Model) -> Model:
    """Insert a new instance whose primary key the database makes (an auto-increment id), as
    ``obj.save()`` does for a new row, and set its key; returns ``obj``.

    Every concrete field goes in as ``pre_save`` and ``get_db_prep_save`` give it, like the
    ORM's insert; what this skips is the query compiler, and with it the ``pre_save`` and
    ``post_save`` signals: use it only for models nothing listens to (cases, their events and
    messages; ``tests/desk/api/test_sqlrows.py`` checks the rows equal ``save()``'s).
    """
    model = type(obj)
    meta = model._meta
    connection = connections["default"]
    sql, fields, returning = _insert_plan(model, connection.vendor)
    params = [f.get_db_prep_save(f.pre_save(obj, add=True), connection) for f in fields]
    with cursor() as cur:
        cur.execute(sql, params)
        if returning and connection.features.can_return_columns_from_insert:
            ops: Any = connection.ops  # (not in django-stubs)
            values = ops.fetch_returned_insert_columns(cur, ())
            for field, value in zip(returning, values, strict=True):
                setattr(obj, field.attname, value)
        elif returning:  # pragma: no cover - SQLite before 3.35
            pk_field = meta.pk
            assert pk_field is not None
            setattr(
                obj,
                pk_field.attname,
                connection.ops.last_insert_id(cur, meta.db_table, str(pk_field.column)),
            )
    obj._state.adding = False
    obj._state.db = "default"
    return obj


_INSERT_PLANS: dict[tuple[type[Model], str], tuple[str, list[Any], list[Any]]] = {}


def _insert_plan(model: type[Model], vendor: str) -> tuple[str, list[Any], list[Any]]:
    """The INSERT of a new ``model`` row, the fields it sends and those it gets back."""
    found = _INSERT_PLANS.get((model, vendor))
    if found is not None:
        return found
    connection = connections["default"]
    meta = model._meta
    quote = connection.ops.quote_name
    fields = [f for f in meta.concrete_fields if not getattr(f, "db_returning", False)]
    returning = [f for f in meta.concrete_fields if getattr(f, "db_returning", False)]
    sql = (
        f"INSERT INTO {quote(meta.db_table)} ({', '.join(quote(str(f.column)) for f in fields)}) "
        f"VALUES ({', '.join(['%s'] * len(fields))})"
    )
    if returning and connection.features.can_return_columns_from_insert:
        ops: Any = connection.ops  # (not in django-stubs)
        suffix, _params = ops.return_insert_columns(returning)
        sql += " " + suffix
    found = _INSERT_PLANS[(model, vendor)] = (sql, fields, returning)
    return found


#: Rows per INSERT statement (far below SQLite's and PostgreSQL's limits on parameters).
_INSERT_BATCH = 500
