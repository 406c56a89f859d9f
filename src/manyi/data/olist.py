"""The Olist Brazilian e-commerce file set (Kaggle), read into canonical tables.

Olist publishes nine CSV files. This reader takes a directory that holds them, plain or gzip.
The files of one order set (customers, orders, order items, reviews) may sit in a sub-directory
whose parent holds the marketplace-wide files (products, sellers, payments, category names), as
in ``shared/data/olist/sample_15k``; payments of orders outside the set are then left out.

Source times are São Paulo wall-clock time and become UTC. ``customer_id`` in the canonical
tables is Olist's ``customer_unique_id`` (the person); Olist's per-order ``customer_id`` is kept
as ``orders.source_customer_id``.

>>> from manyi.data.samples import sample_path
>>> reader = OlistReader(sample_path("olist"))
>>> rows = [r for b in reader.batches("orders", lambda p, c: None) for r in b.rows]
>>> len(rows), rows[0][4].tzname()
(3000, 'UTC')
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from manyi.data.convert import zone
from manyi.data.errors import RowProblem, SourceError
from manyi.data.reader import BATCH_SIZE, Batch, FieldSpec, ProblemSink, RowBuilder, iter_csv, table

TIMEZONE = "America/Sao_Paulo"
CURRENCY = "BRL"

FILES = {
    "customers": "olist_customers_dataset",
    "products": "olist_products_dataset",
    "categories": "product_category_name_translation",
    "sellers": "olist_sellers_dataset",
    "orders": "olist_orders_dataset",
    "order_items": "olist_order_items_dataset",
    "payments": "olist_order_payments_dataset",
    "reviews": "olist_order_reviews_dataset",
}

FIELDS: dict[str, tuple[FieldSpec, ...]] = {
    "customers": (
        FieldSpec("customer_id", "customer_unique_id"),
        FieldSpec("region", "customer_state"),
        FieldSpec("city", "customer_city"),
        FieldSpec("zip_code", "customer_zip_code_prefix"),
    ),
    "products": (
        FieldSpec("product_id", "product_id"),
        FieldSpec("category", "product_category_name"),
        FieldSpec("weight_g", "product_weight_g"),
        FieldSpec("length_cm", "product_length_cm"),
        FieldSpec("height_cm", "product_height_cm"),
        FieldSpec("width_cm", "product_width_cm"),
        FieldSpec("photos_qty", "product_photos_qty"),
        # Olist's own misspelling of "length".
        FieldSpec("name_length", "product_name_lenght"),
        FieldSpec("description_length", "product_description_lenght"),
    ),
    "sellers": (
        FieldSpec("seller_id", "seller_id"),
        FieldSpec("region", "seller_state"),
        FieldSpec("city", "seller_city"),
        FieldSpec("zip_code", "seller_zip_code_prefix"),
    ),
    "orders": (
        FieldSpec("order_id", "order_id"),
        FieldSpec("customer_id", "customer_id"),  # mapped to the person below
        FieldSpec("source_customer_id", "customer_id"),
        FieldSpec("status", "order_status"),
        FieldSpec("purchased_at", "order_purchase_timestamp"),
        FieldSpec("approved_at", "order_approved_at"),
        FieldSpec("shipped_at", "order_delivered_carrier_date"),
        FieldSpec("delivered_at", "order_delivered_customer_date"),
        FieldSpec("estimated_delivery_at", "order_estimated_delivery_date"),
        FieldSpec("currency", constant=CURRENCY),
    ),
    "order_items": (
        FieldSpec("order_id", "order_id"),
        FieldSpec("line_no", "order_item_id"),
        FieldSpec("product_id", "product_id"),
        FieldSpec("seller_id", "seller_id"),
        FieldSpec("price", "price"),
        FieldSpec("freight", "freight_value"),
        FieldSpec("shipping_limit_at", "shipping_limit_date"),
    ),
    "payments": (
        FieldSpec("order_id", "order_id"),
        FieldSpec("seq", "payment_sequential"),
        FieldSpec("method", "payment_type"),
        FieldSpec("installments", "payment_installments"),
        FieldSpec("amount", "payment_value"),
    ),
    "reviews": (
        FieldSpec("review_id", "review_id"),
        FieldSpec("order_id", "order_id"),
        FieldSpec("rating", "review_score"),
        FieldSpec("title", "review_comment_title"),
        FieldSpec("body", "review_comment_message"),
        FieldSpec("language", constant="pt"),
        FieldSpec("created_at", "review_creation_date"),
        FieldSpec("answered_at", "review_answer_timestamp"),
        FieldSpec("source", constant="olist"),
    ),
}


class OlistReader:
    """Read an Olist file set (full Kaggle set, or an order sample beside the shared files).

    Parameters
    ----------
    directory
        Holds the order files; marketplace-wide files are looked up here, then in the parent.
    """

    name = "olist"

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        if not self.directory.is_dir():
            raise SourceError(f"{self.directory}: not a directory")
        self.paths = {key: self._find(stem) for key, stem in FILES.items()}
        self.timezone: dt.tzinfo = zone(TIMEZONE)
        self._customer_map: dict[str, str] | None = None
        self._order_ids: set[str] | None = None
        #: Rows left out on purpose (not errors), per table: payments of other orders, repeats
        #: of a person in the customers file.
        self.skipped: dict[str, int] = {}

    def _find(self, stem: str) -> Path:
        for folder in (self.directory, self.directory.parent):
            for suffix in (".csv", ".csv.gz"):
                candidate = folder / f"{stem}{suffix}"
                if candidate.is_file():
                    return candidate
        raise SourceError(
            f"{self.directory}: {stem}.csv (or .csv.gz) not found here or in the parent directory"
        )

    def tables(self) -> tuple[str, ...]:
        return ("customers", "products", "sellers", "orders", "order_items", "payments", "reviews")

    def files(self) -> list[Path]:
        return [self.paths[key] for key in FILES]

    def batches(
        self, table_name: str, problems: ProblemSink, *, batch_size: int = BATCH_SIZE
    ) -> Iterator[Batch]:
        if table_name not in self.tables():
            raise SourceError(f"the Olist source has no table {table_name!r}")
        rows = getattr(self, f"_rows_{table_name}", None)
        source = rows(problems) if rows is not None else self._rows(table_name, problems)
        yield from _chunk(table(table_name), self.paths[table_name].name, source, batch_size)

    # -- per-table rules ---------------------------------------------------------------

    def _rows(
        self, table_name: str, problems: ProblemSink, *, path: Path | None = None
    ) -> Iterator[tuple[int, tuple[Any, ...]]]:
        path = path or self.paths[table_name]
        builder: RowBuilder | None = None
        for line, header, cells in iter_csv(path):
            if builder is None:
                builder = RowBuilder(
                    table(table_name), path, header, FIELDS[table_name], timezone=self.timezone
                )
            row = builder.build(line, cells, problems)
            if row is not None:
                yield line, row

    def _rows_customers(self, problems: ProblemSink) -> Iterator[tuple[int, tuple[Any, ...]]]:
        # One canonical row per person: the first address the file gives for them.
        seen: set[str] = set()
        mapping: dict[str, str] = {}
        repeats = 0
        path = self.paths["customers"]
        for line, header, cells in iter_csv(path):
            row = self._customer_row(line, header, cells, problems)
            if row is None:
                continue
            source_id, person = cells[header.index("customer_id")].strip(), row[0]
            if not source_id:
                problems(
                    RowProblem(path.name, line, "customer_id", "", "a value is required"), cells
                )
                continue
            mapping[source_id] = person
            if person in seen:
                repeats += 1
                continue
            seen.add(person)
            yield line, row
        self._customer_map = mapping
        self.skipped["customers"] = repeats

    def _customer_row(
        self, line: int, header: Sequence[str], cells: Sequence[str], problems: ProblemSink
    ) -> tuple[Any, ...] | None:
        builder = self.__dict__.get("_customer_builder")
        if builder is None:
            builder = RowBuilder(
                table("customers"), self.paths["customers"], header, FIELDS["customers"]
            )
            self.__dict__["_customer_builder"] = builder
        return builder.build(line, cells, problems)

    def customer_map(self) -> dict[str, str]:
        """Olist's per-order customer id → the person's ``customer_unique_id``."""
        if self._customer_map is None:
            for _ in self._rows_customers(lambda problem, cells: None):
                pass
        assert self._customer_map is not None
        return self._customer_map

    def _rows_products(self, problems: ProblemSink) -> Iterator[tuple[int, tuple[Any, ...]]]:
        english = self._category_names()
        category_at = table("products").column_names.index("category")
        for line, row in self._rows("products", problems):
            name = row[category_at]
            translated = english.get(name) if name is not None else None
            yield line, (*row[: category_at + 1], translated, *row[category_at + 2 :])

    def _category_names(self) -> dict[str, str]:
        names: dict[str, str] = {}
        for _line, header, cells in iter_csv(self.paths["categories"]):
            if len(cells) == len(header) == 2:
                names[cells[0].strip()] = cells[1].strip()
        return names

    def _rows_orders(self, problems: ProblemSink) -> Iterator[tuple[int, tuple[Any, ...]]]:
        people = self.customer_map()
        file = self.paths["orders"].name
        order_ids: set[str] = set()
        for line, row in self._rows("orders", problems):
            person = people.get(row[1])
            if person is None:
                problems(
                    RowProblem(
                        file,
                        line,
                        "customer_id",
                        row[1],
                        f"no such customer in {self.paths['customers'].name}",
                    ),
                    [],
                )
                continue
            order_ids.add(row[0])
            yield line, (row[0], person, *row[2:])
        self._order_ids = order_ids

    def order_ids(self) -> set[str]:
        """The ids of the orders in this file set."""
        if self._order_ids is None:
            self._order_ids = {
                cells[header.index("order_id")].strip()
                for _line, header, cells in iter_csv(self.paths["orders"])
                if len(cells) == len(header)
            }
        return self._order_ids

    def _rows_payments(self, problems: ProblemSink) -> Iterator[tuple[int, tuple[Any, ...]]]:
        shared = self.paths["payments"].parent != self.paths["orders"].parent
        if not shared:
            yield from self._rows("payments", problems)
            return
        # The marketplace-wide payments file: keep the payments of this set's orders only.
        wanted = self.order_ids()
        left_out = 0
        for line, row in self._rows("payments", problems):
            if row[0] in wanted:
                yield line, row
            else:
                left_out += 1
        self.skipped["payments"] = left_out


def _chunk(
    table_: Any, file: str, rows: Iterator[tuple[int, tuple[Any, ...]]], size: int
) -> Iterator[Batch]:
    batch = Batch(table_, file)
    for line, row in rows:
        batch.rows.append(row)
        batch.lines.append(line)
        if len(batch.rows) >= size:
            yield batch
            batch = Batch(table_, file)
    if batch.rows:
        yield batch
