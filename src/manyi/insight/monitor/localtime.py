"""Shop-local wall time for instants near a window, as a small SQL expression.

:meth:`manyi.insight.sources.Source.local_time` covers every instant from 1900 to 2100 with a
balanced CASE tree over all of the zone's offset changes (São Paulo: about 90). The tree is
exact everywhere, but Ibis takes ~0.3 s to compile each query that holds it, which is most of the
time of a live-view query over a day of data. Monitoring windows are short, so here the tree
keeps only the offset changes between two days before the window and three days after it
(usually none or one): exact for every instant in that range, which is all the rows a windowed
query keeps. Instants outside it (a promised delivery date months away) must use
``Source.local_time``.

On PostgreSQL and Spark the engine's own zone function is used, as ``Source.local_time`` does.

Examples
--------
>>> from datetime import date
>>> from manyi.insight.monitor.localtime import window_offsets
>>> window_offsets("America/Sao_Paulo", date(2017, 11, 20), date(2017, 11, 27))
((1508036400, -7200),)
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

import ibis
import ibis.expr.datatypes as dt

from manyi.insight.sources import zone_transitions

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from manyi.insight.sources import Source

_UTC = dt.Timestamp(timezone="UTC")


def _epoch(day: date) -> int:
    return int(datetime.combine(day, time(), tzinfo=UTC).timestamp())


def window_offsets(
    zone: str, start: date, end: date, *, pad_days: int = 2
) -> tuple[tuple[int, int], ...]:
    """The zone's ``(from_epoch_second, offset_seconds)`` that matter for days start..end.

    The first entry is the offset in force ``pad_days`` days before ``start`` (its ``from`` is
    kept as in :func:`~manyi.insight.sources.zone_transitions`); the others are the changes up to
    ``pad_days + 1`` days after ``end``.
    """
    low = _epoch(start - timedelta(days=pad_days))
    high = _epoch(end + timedelta(days=pad_days + 1))
    changes = zone_transitions(zone)
    before = [c for c in changes if c[0] <= low]
    inside = [c for c in changes if low < c[0] < high]
    first = [before[-1]] if before else [changes[0]]
    return tuple(first + inside)


def _noop1(a: Any) -> Any:  # pragma: no cover - placeholder body of a builtin UDF
    return None


def _noop2(a: Any, b: Any) -> Any:  # pragma: no cover - placeholder body of a builtin UDF
    return None


def _offset(epoch: ir.IntegerValue, changes: tuple[tuple[int, int], ...], scale: int) -> Any:
    out: Any = ibis.literal(changes[0][1] * scale, type=dt.int64)
    for start, offset in changes[1:]:
        out = ibis.ifelse(epoch >= start * scale, ibis.literal(offset * scale, type=dt.int64), out)
    return out


def window_local_time(
    src: Source, ts: ir.TimestampValue, start: date, end: date, *, pad_days: int = 2
) -> ir.TimestampValue:
    """Wall time of ``ts`` in the shop's zone, exact for instants within the window's days.

    Parameters
    ----------
    src
        The source (engine and zone).
    ts
        A UTC timestamp column.
    start, end
        The shop-local days of the window; instants from ``pad_days`` days before to
        ``pad_days + 1`` days after are converted exactly.
    pad_days
        Widen the exact range (a promised delivery date may lie weeks from the delivery).
    """
    if src.timezone == "UTC":
        return ts
    if src.engine not in ("duckdb", "sqlite"):
        return src.local_time(ts)
    changes = window_offsets(src.timezone, start, end, pad_days=pad_days)
    if src.engine == "duckdb":
        epoch_us = ibis.udf.scalar.builtin(_noop1, name="epoch_us", signature=((_UTC,), dt.int64))
        make_timestamp = ibis.udf.scalar.builtin(
            _noop1, name="make_timestamp", signature=((dt.int64,), dt.timestamp)
        )
        micros = epoch_us(ts)
        result: ir.TimestampValue = make_timestamp(micros + _offset(micros, changes, 1_000_000))
        return result
    from_unix = ibis.udf.scalar.builtin(
        _noop2, name="datetime", signature=((dt.int64, dt.string), dt.string)
    )
    seconds = ts.epoch_seconds()
    local = from_unix(seconds + _offset(seconds, changes, 1), "unixepoch")
    cast: ir.TimestampValue = local.cast(dt.timestamp)
    return cast
