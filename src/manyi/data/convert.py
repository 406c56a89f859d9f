"""Turn source text into typed canonical values, or say precisely why not.

A converter takes the raw text of one cell and returns the value, ``None`` for an empty cell,
or raises :class:`ValueError` whose message is the reason shown to the user.

>>> from manyi.data.schema import Column, ColumnType
>>> to_decimal = converter_for(Column("price", ColumnType.DECIMAL, min_value=0))
>>> to_decimal("19.9")
Decimal('19.90')
>>> to_decimal("abc")
Traceback (most recent call last):
...
ValueError: not a number
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from manyi.data.schema import Column, ColumnType

Converter = Callable[[str], Any]

CENT = Decimal("0.01")
TRUE_WORDS = frozenset({"1", "true", "t", "yes", "y"})
FALSE_WORDS = frozenset({"0", "false", "f", "no", "n"})


def converter_for(
    column: Column,
    *,
    timezone: dt.tzinfo = dt.UTC,
    date_format: str | None = None,
) -> Converter:
    """Return the converter for ``column``.

    Parameters
    ----------
    column
        The canonical column; its type, nullability and bounds are enforced.
    timezone
        The zone of naive source timestamps (Olist records São Paulo wall-clock time).
    date_format
        A :func:`datetime.datetime.strptime` format; ISO 8601 is accepted when ``None``.
    """
    base = _base_converter(column, timezone, date_format)
    checks = _checks(column)
    nullable = column.nullable

    # Converters run millions of times per import: compose only the steps that apply.
    if base is str and not checks:

        def convert_text(text: str) -> Any:
            text = text.strip()
            if text:
                return text
            if nullable:
                return None
            raise ValueError("a value is required")

        return convert_text

    def convert(text: str) -> Any:
        text = text.strip()
        if not text:
            if nullable:
                return None
            raise ValueError("a value is required")
        value = base(text)
        for check in checks:
            check(value)
        return value

    return convert


def _checks(column: Column) -> list[Callable[[Any], None]]:
    checks: list[Callable[[Any], None]] = []
    if column.max_length is not None:
        limit = column.max_length

        def check_length(value: Any) -> None:
            if len(value) > limit:
                raise ValueError(f"longer than {limit} characters")

        checks.append(check_length)
    if column.min_value is not None:
        low = column.min_value

        def check_low(value: Any) -> None:
            if value < low:
                raise ValueError(f"below the minimum {low:g}")

        checks.append(check_low)
    if column.max_value is not None:
        high = column.max_value

        def check_high(value: Any) -> None:
            if value > high:
                raise ValueError(f"above the maximum {high:g}")

        checks.append(check_high)
    if column.choices is not None:
        choices = frozenset(column.choices)
        listed = ", ".join(column.choices)

        def check_choice(value: Any) -> None:
            if value not in choices:
                raise ValueError(f"not one of {listed}")

        checks.append(check_choice)
    return checks


def _base_converter(column: Column, timezone: dt.tzinfo, date_format: str | None) -> Converter:
    kind = column.type
    if kind is ColumnType.STRING:
        return str
    if kind is ColumnType.INTEGER:
        return parse_integer
    if kind is ColumnType.DECIMAL:
        return parse_money
    if kind is ColumnType.FLOAT:
        return parse_float
    if kind is ColumnType.BOOLEAN:
        return parse_boolean
    if kind is ColumnType.TIMESTAMP:
        return functools.partial(parse_timestamp, timezone=timezone, date_format=date_format)
    raise AssertionError(f"unhandled column type {kind}")  # pragma: no cover


def parse_integer(text: str) -> int:
    """Parse an integer; ``"3.0"`` is accepted (spreadsheets write integers that way)."""
    try:
        return int(text)
    except ValueError:
        pass
    try:
        number = float(text)
    except ValueError:
        raise ValueError("not a whole number") from None
    if not number.is_integer():
        raise ValueError("not a whole number")
    return int(number)


def parse_float(text: str) -> float:
    try:
        number = float(text)
    except ValueError:
        raise ValueError("not a number") from None
    if number != number or number in (float("inf"), float("-inf")):
        raise ValueError("not a finite number")
    return number


def parse_money(text: str) -> Decimal:
    """Parse an amount of money to two decimal places (banker's rounding)."""
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ValueError("not a number") from None
    if not value.is_finite():
        raise ValueError("not a finite number")
    return value.quantize(CENT, rounding=ROUND_HALF_EVEN)


def parse_boolean(text: str) -> bool:
    word = text.lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ValueError("not a yes/no value")


def parse_timestamp(
    text: str, *, timezone: dt.tzinfo = dt.UTC, date_format: str | None = None
) -> dt.datetime:
    """Parse a timestamp to an aware UTC datetime; naive text is read in ``timezone``.

    >>> parse_timestamp("2017-10-02 10:56:33", timezone=ZoneInfo("America/Sao_Paulo"))
    datetime.datetime(2017, 10, 2, 13, 56, 33, tzinfo=datetime.timezone.utc)
    """
    try:
        if date_format is None:
            value = dt.datetime.fromisoformat(text)
        else:
            value = dt.datetime.strptime(text, date_format)  # noqa: DTZ007 - zone applied below
    except ValueError:
        expected = date_format or "ISO 8601 such as 2018-06-12 20:07:44"
        raise ValueError(f"not a date-time in the form {expected}") from None
    if value.tzinfo is not None:
        return value.astimezone(dt.UTC)
    if timezone is dt.UTC:
        return value.replace(tzinfo=dt.UTC)
    offset = _hour_offset(timezone, value.year, value.month, value.day, value.hour)
    if offset is None:  # the zone changes its offset within this hour: convert exactly
        return value.replace(tzinfo=timezone).astimezone(dt.UTC)
    return (value - offset).replace(tzinfo=dt.UTC)


@functools.lru_cache(maxsize=65_536)
def _hour_offset(
    timezone: dt.tzinfo, year: int, month: int, day: int, hour: int
) -> dt.timedelta | None:
    """The zone's UTC offset throughout one local hour, or ``None`` if it changes inside it.

    One look-up per local hour instead of per value makes naive-time conversion several times
    faster on large imports, with the same result as ``astimezone``.
    """
    start = dt.datetime(year, month, day, hour, tzinfo=timezone).utcoffset()
    end = dt.datetime(year, month, day, hour, 59, 59, 999_999, tzinfo=timezone).utcoffset()
    return start if start == end else None


@functools.cache
def zone(name: str) -> ZoneInfo:
    """The time zone called ``name``, with a clear error for a misspelt one."""
    try:
        return ZoneInfo(name)
    except (KeyError, ValueError):
        raise ValueError(f"unknown time zone {name!r}") from None
