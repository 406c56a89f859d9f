"""Reads of the shop data for the desk's pages."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Avg, Count, Max, Min

from manyi.desk.commerce.models import Customer, ImportRun, Order, Review


@dataclass(frozen=True)
class ShopOverview:
    orders: int
    customers: int
    reviews: int
    mean_rating: float | None
    ratings: dict[int, int]
    first_order: object
    last_order: object


def get_shop_overview() -> ShopOverview:
    """Counts and the rating distribution: a handful of aggregate queries, no rows loaded."""
    span = Order.objects.aggregate(first=Min("purchased_at"), last=Max("purchased_at"))
    reviews = Review.objects.aggregate(n=Count("id"), mean=Avg("rating"))
    ratings = dict.fromkeys(range(1, 6), 0)
    for row in Review.objects.values("rating").annotate(n=Count("id")):
        ratings[row["rating"]] = row["n"]
    return ShopOverview(
        orders=Order.objects.count(),
        customers=Customer.objects.count(),
        reviews=reviews["n"],
        mean_rating=reviews["mean"],
        ratings=ratings,
        first_order=span["first"],
        last_order=span["last"],
    )


def list_import_runs(limit: int = 10) -> list[ImportRun]:
    return list(ImportRun.objects.order_by("-started_at")[:limit])
