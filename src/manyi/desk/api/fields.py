"""Input types shared by the routers: bounded, database-safe text, ids, versions, amounts.

Every bound here mirrors a column or a rule, so bad input is answered with a field-level 422
instead of reaching the database: PostgreSQL refuses NUL characters in text and JSON, lone
surrogates cannot be encoded, ``NaN`` is not JSON, a ``varchar(64)`` refuses 65 characters, and
a bigint ends at 2**63 - 1.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any

from django.utils.translation import gettext as _
from ninja import Schema
from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field

#: The largest value of a bigint primary key.
MAX_ID = 2**63 - 1
#: The largest positive integer column (``Case.version``).
MAX_INT = 2**31 - 1


def check_text(value: str) -> str:
    """Refuse text the database cannot store (NUL, lone surrogates)."""
    if "\x00" in value:
        raise ValueError(_("Text cannot contain NUL characters."))
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError(_("Text must be valid Unicode (it has a lone surrogate).")) from None
    return value


def check_json(value: Any, *, depth: int = 0) -> Any:
    """Refuse JSON the database cannot store: NUL or lone surrogates in strings (keys too),
    non-finite numbers, nesting deeper than 10."""
    if depth > 10:
        raise ValueError(_("Nested too deeply (at most 10 levels)."))
    if isinstance(value, str):
        return check_text(value)
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(_("Numbers must be finite."))
    if isinstance(value, dict):
        for key, item in value.items():
            check_text(str(key))
            check_json(item, depth=depth + 1)
    elif isinstance(value, list):
        for item in value:
            check_json(item, depth=depth + 1)
    return value


def one_of(values: tuple[str, ...]) -> AfterValidator:
    """A validator accepting only ``values`` (pair it with ``Field(json_schema_extra=enum(...))``
    so the OpenAPI document lists them)."""

    def check(value: str) -> str:
        if value not in values:
            raise ValueError(_("Use one of: %(values)s.") % {"values": ", ".join(values)})
        return value

    return AfterValidator(check)


def enum(values: tuple[str, ...]) -> dict[str, Any]:
    return {"enum": list(values)}


#: A primary key of a bigint table (cases, users).
Id = Annotated[int, Field(ge=1, le=MAX_ID)]
#: ``Case.version`` as the client read it.
Version = Annotated[int, Field(ge=1, le=MAX_INT)]
#: A refund or other amount of money: ``Case.refund_amount`` is ``numeric(14, 2)``.
Amount = Annotated[Decimal, Field(ge=0, max_digits=14, decimal_places=2, allow_inf_nan=False)]
#: An identifier from the shop (order, customer): ``KeyField(max_length=64)``.
ShopKey = Annotated[str, Field(min_length=1, max_length=64), AfterValidator(check_text)]
#: ``Team.code``.
TeamCode = Annotated[str, Field(min_length=1, max_length=32), AfterValidator(check_text)]
#: Messages, descriptions, notes.
LongText = Annotated[str, Field(max_length=50_000), AfterValidator(check_text)]
#: A reply, note or contact: must say something.
MessageText = Annotated[str, Field(min_length=1, max_length=50_000), AfterValidator(check_text)]
#: A free-form JSON object from another system (at most 10 levels deep).
JsonObject = Annotated[dict[str, Any], AfterValidator(check_json)]


class Input(Schema):
    """A request body: unknown fields are refused, not ignored (a typo must not pass silently)."""

    model_config = ConfigDict(extra="forbid", use_enum_values=True)


class Output(BaseModel):
    """A response body the view builds from plain values (a dict of fields, never a model
    instance). A plain pydantic model: ninja's ``Schema`` wraps every field access in a
    getter for ORM objects, which costs a case read more than its JSON encoding."""


def in_utc(value: datetime) -> datetime:
    """An instant as UTC: PostgreSQL refuses a UTC offset beyond ±15:59 (ISO 8601 and Python
    allow up to ±23:59), and one instant is the same whatever offset it was written with. An
    instant that falls outside years 1-9999 in UTC is refused."""
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValueError(_("The date is out of range.")) from None


#: A date and time with its offset (``...Z`` or ``...+08:00``), kept as UTC.
Instant = Annotated[AwareDatetime, AfterValidator(in_utc)]
