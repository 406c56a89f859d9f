from __future__ import annotations

import csv
import gzip
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.db.models import Count, Sum

from manyi.data import open_reader
from manyi.data.errors import DataValidationError
from manyi.data.samples import sample_path
from manyi.desk.commerce.models import Customer, ImportRun, ImportStatus, Order, OrderItem, Review
from manyi.desk.commerce.services import import_source

Snapshot = Callable[[], dict[str, list[tuple[Any, ...]]]]

pytestmark = pytest.mark.django_db


def load(folder: Path, **options: object):
    return import_source(open_reader("olist", folder), kind="olist", source=str(folder), **options)


def edit_cell(path: Path, line: int, column: str, value: str) -> None:
    """Set one cell of a gzip CSV (``line`` counts the header as 1)."""
    with gzip.open(path, "rt", encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    position = rows[0].index(column)
    rows[line - 1][position] = value
    with gzip.open(path, "wt", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(rows)


def test_the_bundled_sample_loads_completely() -> None:
    summary = load(sample_path("olist"))
    assert Order.objects.count() == 3000
    assert summary.tables["orders"].inserted == 3000
    assert summary.total.rejected == 0
    assert Review.objects.count() == summary.tables["reviews"].inserted
    assert ImportRun.objects.get(pk=summary.run_id).status == ImportStatus.SUCCEEDED


def test_order_totals_are_derived_from_their_items() -> None:
    load(sample_path("olist"))
    order = Order.objects.filter(items__line_no=2).first()
    assert order is not None
    items = OrderItem.objects.filter(order=order).aggregate(p=Sum("price"), f=Sum("freight"))
    assert order.item_total == items["p"]
    assert order.freight_total == items["f"]


def test_customers_are_people_first_seen_at_their_first_purchase() -> None:
    load(sample_path("olist"))
    assert Customer.objects.count() == 2993
    repeat = (
        Customer.objects.filter(orders__isnull=False)
        .annotate(n=Count("orders"))
        .filter(n__gt=1)
        .first()
    )
    assert repeat is not None
    first = Order.objects.filter(customer=repeat).order_by("purchased_at").first()
    assert first is not None
    assert repeat.created_at == first.purchased_at


def test_a_second_run_changes_nothing(snapshot: Snapshot) -> None:
    load(sample_path("olist"))
    before = snapshot()
    again = load(sample_path("olist"))
    assert snapshot() == before
    assert again.total.inserted == 0
    assert again.total.updated == 0
    assert again.total.unchanged == again.total.accepted == 19_023


def test_a_changed_source_row_is_updated_and_only_it(olist_copy: Path) -> None:
    load(olist_copy)
    reviews = olist_copy / "olist_order_reviews_dataset.csv.gz"
    with gzip.open(reviews, "rt", encoding="utf-8", newline="") as handle:
        second = next(iter(csv.DictReader(handle)))
    edit_cell(reviews, 2, "review_score", "1" if second["review_score"] != "1" else "2")
    summary = load(olist_copy)
    assert summary.tables["reviews"].updated == 1
    assert summary.total.updated == 1
    assert summary.total.inserted == 0
    review = Review.objects.get(review_id=second["review_id"], order_id=second["order_id"])
    assert review.rating == (1 if second["review_score"] != "1" else 2)


@pytest.mark.parametrize(
    ("file", "line", "column", "value", "reason"),
    [
        (
            "olist_orders_dataset.csv.gz",
            40,
            "order_purchase_timestamp",
            "2017-13-45 10:00:00",
            "not a date-time",
        ),
        ("olist_order_items_dataset.csv.gz", 100, "order_id", "", "a value is required"),
        ("olist_order_items_dataset.csv.gz", 250, "price", "cento e dez", "not a number"),
        ("olist_order_reviews_dataset.csv.gz", 12, "review_score", "7", "above the maximum 5"),
    ],
)
def test_one_broken_row_fails_the_import_and_changes_nothing(
    olist_copy: Path, snapshot: Snapshot, file: str, line: int, column: str, value: str, reason: str
) -> None:
    load(sample_path("olist"))
    before = snapshot()
    edit_cell(olist_copy / file, line, column, value)
    with pytest.raises(DataValidationError) as failure:
        load(olist_copy)
    message = str(failure.value)
    # Reviews hold multi-line texts, so the record on row 12 may start on a later line.
    assert f"{file}, line " in message
    assert f"column {column!r}: {reason}" in message
    assert snapshot() == before
    problem = failure.value.problems[0]
    assert (problem.file, problem.column, problem.value) == (file, column, value)
    if file != "olist_order_reviews_dataset.csv.gz":
        assert problem.line == line
    run = ImportRun.objects.order_by("-started_at").first()
    assert run is not None
    assert run.status == ImportStatus.FAILED


def test_a_reference_to_a_missing_order_is_named_with_its_line(olist_copy: Path) -> None:
    edit_cell(olist_copy / "olist_order_payments_dataset.csv.gz", 30, "order_id", "f" * 32)
    with pytest.raises(DataValidationError) as failure:
        load(olist_copy)
    problem = failure.value.problems[0]
    assert (problem.file, problem.line, problem.column, problem.value) == (
        "olist_order_payments_dataset.csv.gz",
        30,
        "order_id",
        "f" * 32,
    )
    assert problem.reason == "no such order (orders)"
    assert Order.objects.count() == 0


def test_a_duplicate_key_is_named_with_both_lines(olist_copy: Path) -> None:
    items = olist_copy / "olist_order_items_dataset.csv.gz"
    with gzip.open(items, "rt", encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    rows.append(rows[5])
    with gzip.open(items, "wt", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(rows)
    with pytest.raises(
        DataValidationError,
        match=r"line 3474, column 'order_id, line_no': "
        r"duplicate key: also on line 6",
    ):
        load(olist_copy)
    assert OrderItem.objects.count() == 0


def test_skip_bad_rows_imports_the_rest_and_writes_rejects(
    olist_copy: Path, tmp_path: Path
) -> None:
    edit_cell(olist_copy / "olist_order_items_dataset.csv.gz", 250, "price", "abc")
    edit_cell(olist_copy / "olist_order_payments_dataset.csv.gz", 30, "order_id", "f" * 32)
    rejects = tmp_path / "rejects.csv"
    summary = load(olist_copy, skip_bad_rows=True, rejects_path=rejects)
    assert summary.tables["order_items"].rejected == 1
    assert summary.tables["payments"].rejected == 1
    assert OrderItem.objects.count() == 3471
    with rejects.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["file"], r["line"], r["column"]) for r in rows] == [
        ("olist_order_items_dataset.csv.gz", "250", "price"),
        ("olist_order_payments_dataset.csv.gz", "30", "order_id"),
    ]


def test_cdnow_loads_as_customers_and_orders() -> None:
    summary = import_source(
        open_reader("cdnow", sample_path("cdnow")), kind="cdnow", source="cdnow"
    )
    assert summary.tables["orders"].inserted == 6919
    assert Customer.objects.count() == 2357
    with gzip.open(sample_path("cdnow"), "rt", newline="") as handle:
        expected = sum(Decimal(r["dollar_value"]) for r in csv.DictReader(handle))
    # SQLite keeps decimals with NUMERIC affinity (binary floats), so its sums need rounding.
    total = Order.objects.aggregate(t=Sum("item_total"))["t"]
    assert Decimal(total).quantize(Decimal("0.01")) == expected
    assert Order.objects.filter(currency="USD").count() == 6919
