"""The canonical tables (v1): the same names and columns in files, in the desk database and in Ibis.

Every reader in :mod:`manyi.data` produces rows of these tables, the desk database stores them
under these names (explicit ``db_table``), and :mod:`manyi.insight` reads them.

Conventions
-----------
* Timestamps are timezone-aware UTC. A source that records local wall-clock time declares its
  zone (Olist: ``America/Sao_Paulo``) and the reader converts.
* Money is :class:`decimal.Decimal` with two decimal places. ``orders.currency`` is the ISO 4217
  code; ``order_items`` and ``payments`` are in the currency of their order.
* ``customer_id`` is the *person* (Olist's ``customer_unique_id``), so repeat purchases are
  visible; the per-order customer id of a source is kept as ``orders.source_customer_id``.
* ``reviews`` is keyed by ``(review_id, order_id)``: Olist reuses one review id for the orders a
  buyer rated together, and each row is that buyer's rating of one order (see
  ``docs/decisions/0002-review-ids.md``).

Examples
--------
>>> from manyi.data.schema import TABLES
>>> TABLES["orders"].key
('order_id',)
>>> [c.name for c in TABLES["order_items"].columns][:3]
['order_id', 'line_no', 'product_id']
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


class ColumnType(enum.Enum):
    """The value types a canonical column can hold."""

    STRING = "string"
    INTEGER = "integer"
    DECIMAL = "decimal"  # money, 2 decimal places
    FLOAT = "float"
    TIMESTAMP = "timestamp"  # timezone-aware, stored as UTC
    BOOLEAN = "boolean"


@dataclass(frozen=True)
class Column:
    """One column of a canonical table.

    ``max_length`` bounds strings; ``min_value``/``max_value`` bound numbers (inclusive);
    ``choices`` restricts strings to a closed set.
    """

    name: str
    type: ColumnType
    nullable: bool = True
    max_length: int | None = None
    min_value: float | None = None
    max_value: float | None = None
    choices: tuple[str, ...] | None = None
    doc: str = ""


@dataclass(frozen=True)
class Table:
    """A canonical table: its columns, its key and the tables its columns refer to."""

    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    references: dict[str, tuple[str, str]] = field(default_factory=dict)
    doc: str = ""

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"table {self.name!r} has no column {name!r}")


S, INT, D, T = ColumnType.STRING, ColumnType.INTEGER, ColumnType.DECIMAL, ColumnType.TIMESTAMP

ORDER_STATUSES = (
    "created",
    "approved",
    "invoiced",
    "processing",
    "shipped",
    "delivered",
    "canceled",
    "unavailable",
)

REVIEW_SOURCES = ("olist", "import", "api", "survey", "taobao", "jd", "pinduoduo", "shop")

ID = 64  # longest accepted key; Olist uses 32 hex characters

CUSTOMERS = Table(
    "customers",
    (
        Column("customer_id", S, nullable=False, max_length=ID, doc="the person"),
        Column("region", S, max_length=64, doc="state or province"),
        Column("city", S, max_length=128),
        Column("zip_code", S, max_length=16),
        Column("created_at", T, doc="first seen (first purchase when the source has no sign-up)"),
    ),
    key=("customer_id",),
)

PRODUCTS = Table(
    "products",
    (
        Column("product_id", S, nullable=False, max_length=ID),
        Column("category", S, max_length=128, doc="the shop's own category name"),
        Column("category_en", S, max_length=128, doc="English category name"),
        Column("weight_g", INT, min_value=0),
        Column("length_cm", INT, min_value=0),
        Column("height_cm", INT, min_value=0),
        Column("width_cm", INT, min_value=0),
        Column("photos_qty", INT, min_value=0),
        Column("name_length", INT, min_value=0),
        Column("description_length", INT, min_value=0),
    ),
    key=("product_id",),
)

SELLERS = Table(
    "sellers",
    (
        Column("seller_id", S, nullable=False, max_length=ID),
        Column("region", S, max_length=64),
        Column("city", S, max_length=128),
        Column("zip_code", S, max_length=16),
    ),
    key=("seller_id",),
)

ORDERS = Table(
    "orders",
    (
        Column("order_id", S, nullable=False, max_length=ID),
        Column("customer_id", S, nullable=False, max_length=ID, doc="the person"),
        Column("source_customer_id", S, max_length=ID, doc="the source's per-order customer id"),
        Column("status", S, nullable=False, choices=ORDER_STATUSES),
        Column("purchased_at", T, nullable=False),
        Column("approved_at", T),
        Column("shipped_at", T, doc="handed to the carrier"),
        Column("delivered_at", T),
        Column("estimated_delivery_at", T),
        Column("currency", S, nullable=False, max_length=3),
        Column("item_total", D, min_value=0, doc="sum of order_items.price"),
        Column("freight_total", D, min_value=0, doc="sum of order_items.freight"),
    ),
    key=("order_id",),
    references={"customer_id": ("customers", "customer_id")},
)

ORDER_ITEMS = Table(
    "order_items",
    (
        Column("order_id", S, nullable=False, max_length=ID),
        Column("line_no", INT, nullable=False, min_value=1),
        Column("product_id", S, nullable=False, max_length=ID),
        Column("seller_id", S, nullable=False, max_length=ID),
        Column("price", D, nullable=False, min_value=0),
        Column("freight", D, nullable=False, min_value=0),
        Column("shipping_limit_at", T),
    ),
    key=("order_id", "line_no"),
    references={
        "order_id": ("orders", "order_id"),
        "product_id": ("products", "product_id"),
        "seller_id": ("sellers", "seller_id"),
    },
)

PAYMENTS = Table(
    "payments",
    (
        Column("order_id", S, nullable=False, max_length=ID),
        Column("seq", INT, nullable=False, min_value=1),
        Column("method", S, nullable=False, max_length=32),
        Column("installments", INT, nullable=False, min_value=0),
        Column("amount", D, nullable=False, min_value=0),
    ),
    key=("order_id", "seq"),
    references={"order_id": ("orders", "order_id")},
)

REVIEWS = Table(
    "reviews",
    (
        Column("review_id", S, nullable=False, max_length=ID),
        Column("order_id", S, nullable=False, max_length=ID),
        Column("rating", INT, nullable=False, min_value=1, max_value=5),
        Column("title", S, max_length=255),
        Column("body", S),
        Column("language", S, max_length=8, doc="ISO 639-1 code when known"),
        Column("created_at", T, nullable=False),
        Column("answered_at", T),
        Column("source", S, nullable=False, max_length=16),
    ),
    key=("review_id", "order_id"),
    references={"order_id": ("orders", "order_id")},
)

#: The shop tables in load order (parents before children).
SHOP_TABLES: tuple[Table, ...] = (
    CUSTOMERS,
    PRODUCTS,
    SELLERS,
    ORDERS,
    ORDER_ITEMS,
    PAYMENTS,
    REVIEWS,
)

# --- after-sales service: written by the desk's cases app, read by manyi.insight.service -----

CASE_KINDS = ("return_refund", "refund_only", "exchange", "repair", "complaint", "question")
CASE_REASONS = (
    "damaged",
    "not_as_described",
    "wrong_item",
    "quality",
    "late_delivery",
    "changed_mind",
    "other",
)
CASE_CHANNELS = ("web", "email", "phone", "chat", "api", "review", "survey")
CASE_PRIORITIES = ("low", "normal", "high", "urgent")

CASES = Table(
    "cases",
    (
        Column("case_id", INT, nullable=False, min_value=1),
        Column("order_id", S, max_length=ID, doc="the order the case is about, if any"),
        Column("customer_id", S, max_length=ID, doc="the person"),
        Column("kind", S, nullable=False, choices=CASE_KINDS),
        Column("reason", S, choices=CASE_REASONS),
        Column("channel", S, nullable=False, choices=CASE_CHANNELS, doc="where it came in"),
        Column("status", S, nullable=False, max_length=20, doc="the desk's workflow status"),
        Column("priority", S, nullable=False, choices=CASE_PRIORITIES),
        Column("team", S, max_length=32, doc="the team whose queue holds it"),
        Column("assignee", S, max_length=150),
        Column("opened_at", T, nullable=False),
        Column("first_response_at", T, doc="first reply to the customer"),
        Column("first_response_due_at", T, doc="SLA due instant of the first response"),
        Column("resolved_at", T, doc="last time the case was resolved"),
        Column("resolution_due_at", T, doc="SLA due instant of the resolution"),
        Column("closed_at", T),
        Column("refund_amount", D, min_value=0),
        Column("currency", S, nullable=False, max_length=3),
    ),
    key=("case_id",),
    references={
        "order_id": ("orders", "order_id"),
        "customer_id": ("customers", "customer_id"),
    },
    doc="one after-sales case: a return, refund, exchange, repair, complaint or question",
)

CASE_EVENTS = Table(
    "case_events",
    (
        Column("case_id", INT, nullable=False),
        Column("seq", INT, nullable=False, min_value=1, doc="1, 2, ... within the case"),
        Column("at", T, nullable=False),
        Column(
            "kind",
            S,
            nullable=False,
            max_length=20,
            doc="opened, transition, assigned, reply, note, customer_message, decision, ...",
        ),
        Column("from_status", S, max_length=20),
        Column("to_status", S, max_length=20),
        Column("actor", S, nullable=False, max_length=150, doc="a username, customer or system"),
    ),
    key=("case_id", "seq"),
    references={"case_id": ("cases", "case_id")},
    doc="a case's timeline and audit log; status changes carry from_status and to_status",
)

#: The after-sales tables, parents before children. They are not part of a shop import.
SERVICE_TABLES: tuple[Table, ...] = (CASES, CASE_EVENTS)

TABLES: dict[str, Table] = {t.name: t for t in (*SHOP_TABLES, *SERVICE_TABLES)}
