"""Deterministic samples that cap the model fitting and text work of the report.

Aggregates run in the engine on every row; models (drivers, sentiment) need rows in Python, so
they take at most ``limit`` rows chosen by a hash of a key: the same rows on every run of the
same engine (no random seed to thread through), spread over the whole period (not the first
rows of a file, which are often the oldest). Engines hash differently, so DuckDB and Spark may
pick different rows; SQLite has no hash function and takes the first rows in key order.

Examples
--------
>>> import ibis
>>> from manyi.insight.sampling import hash_sample
>>> t = ibis.memtable({"order_id": [f"o{i}" for i in range(100)]})
>>> sample = hash_sample(t, "order_id", 10, engine="duckdb")
>>> len(sample.to_pandas()), sorted(sample.to_pandas().order_id) == sorted(
...     hash_sample(t, "order_id", 10, engine="duckdb").to_pandas().order_id)
(10, True)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import ibis.expr.types as ir


def hash_sample(table: ir.Table, key: str, limit: int, *, engine: str) -> ir.Table:
    """At most ``limit`` rows of ``table``: those with the smallest hash of ``key``.

    Parameters
    ----------
    table
        Any Ibis table.
    key
        A column that identifies the rows (ties are broken by the key itself).
    limit
        Most rows to keep (>= 1).
    engine
        The source's engine (``Source.engine``); ``"sqlite"`` orders by the key instead.
    """
    if limit < 1:
        raise ValueError(f"limit must be at least 1, got {limit}")
    column = table[key]
    order = [column] if engine == "sqlite" else [column.hash(), column]
    return table.order_by(order).limit(limit)
