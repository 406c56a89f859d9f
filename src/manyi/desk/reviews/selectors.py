"""Reads of reviews for the inbox and the API, with the object rules.

Every staff role reads every review; the follow-up *case* of a review is shown only to users who
may see that case (``cases.selectors.can_view``: an agent sees their teams' cases), otherwise
only the fact that one exists. ``list_reviews`` joins what each row shows once
(``select_related`` and one prefetch of the aspects), so a page costs a fixed number of
queries whatever its length.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Value
from django.db.models.functions import Coalesce

from manyi.desk.cases.models import Case
from manyi.desk.cases.selectors import can_view
from manyi.desk.commerce.models import OrderItem, Product, Review
from manyi.desk.reviews.errors import ReviewError, ReviewErrorCode
from manyi.desk.reviews.models import (
    ReplyTemplate,
    ReviewAspect,
    ReviewEvent,
    ReviewReply,
    ReviewStatus,
)
from manyi.desk.reviews.permissions import may_read_reviews

#: Longest search term used (longer input is cut).
SEARCH_LENGTH = 200


@dataclass(frozen=True)
class ReviewFilters:
    rating: int | None = None
    sentiment: str | None = None
    aspect: str | None = None
    negative_aspect: str | None = None
    language: str | None = None
    status: str | None = None
    has_reply: bool | None = None
    has_follow_up: bool | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None
    category: str | None = None
    seller: str | None = None
    search: str | None = None


def _with_status(reviews: QuerySet[Review]) -> QuerySet[Review]:
    return reviews.annotate(inbox_status=Coalesce("inbox__status", Value(ReviewStatus.NEW)))


def visible_reviews(user: Any) -> QuerySet[Review]:
    """Every review ``user`` may read (none for an anonymous user or a role without
    ``commerce.view_review``)."""
    if not may_read_reviews(user):
        return Review.objects.none()
    return Review.objects.all()


def list_reviews(user: Any, filters: ReviewFilters) -> QuerySet[Review]:
    """The reviews matching ``filters``, newest first (ties by id, so paging is stable)."""
    reviews = _with_status(visible_reviews(user)).select_related(
        "order", "analysis", "inbox", "follow_up__case"
    )
    if filters.rating is not None:
        reviews = reviews.filter(rating=filters.rating)
    if filters.sentiment:
        reviews = reviews.filter(analysis__sentiment=filters.sentiment)
    if filters.aspect:
        reviews = reviews.filter(
            Exists(ReviewAspect.objects.filter(review=OuterRef("pk"), aspect=filters.aspect))
        )
    if filters.negative_aspect:
        reviews = reviews.filter(
            Exists(
                ReviewAspect.objects.filter(
                    review=OuterRef("pk"), aspect=filters.negative_aspect, polarity="negative"
                )
            )
        )
    if filters.language:
        # The detected language once analysed, the source's until then.
        reviews = reviews.filter(
            Q(analysis__language=filters.language)
            | Q(analysis__isnull=True, language=filters.language)
        )
    if filters.status == ReviewStatus.NEW:
        reviews = reviews.filter(Q(inbox__isnull=True) | Q(inbox__status=ReviewStatus.NEW))
    elif filters.status:
        reviews = reviews.filter(inbox__status=filters.status)
    if filters.has_reply is not None:
        reviews = reviews.filter(answered_at__isnull=not filters.has_reply)
    if filters.has_follow_up is not None:
        reviews = reviews.filter(follow_up__isnull=not filters.has_follow_up)
    if filters.created_from:
        reviews = reviews.filter(created_at__gte=filters.created_from)
    if filters.created_to:
        reviews = reviews.filter(created_at__lt=filters.created_to)
    if filters.category:
        reviews = reviews.filter(
            Exists(
                OrderItem.objects.filter(
                    order=OuterRef("order_id"), product__category=filters.category
                )
            )
        )
    if filters.seller:
        reviews = reviews.filter(
            Exists(OrderItem.objects.filter(order=OuterRef("order_id"), seller=filters.seller))
        )
    if filters.search:
        term = filters.search.strip()[:SEARCH_LENGTH]
        reviews = reviews.filter(
            Q(body__icontains=term)
            | Q(title__icontains=term)
            | Q(review_id=term)
            | Q(order_id=term)
            | Q(order__customer_id=term)
            | Q(inbox__author_name__icontains=term)
        )
    return reviews.prefetch_related("aspects").order_by("-created_at", "-pk")


def count_statuses(user: Any, filters: ReviewFilters | None = None) -> dict[str, int]:
    """How many reviews each inbox status holds (with the other filters applied), in one
    query."""
    base = list_reviews(user, filters or ReviewFilters()).order_by()
    base = base.prefetch_related(None).select_related(None)
    counts = base.aggregate(
        all=Count("pk"),
        **{s: Count("pk", filter=Q(inbox_status=s)) for s in ReviewStatus.values},
    )
    return {k: int(v or 0) for k, v in counts.items()}


def get_review(user: Any, review_pk: int) -> Review:
    """One review with what its page shows, or ``ReviewError(NOT_FOUND)``."""
    review = (
        _with_status(visible_reviews(user))
        .select_related(
            "order__customer", "analysis", "inbox", "follow_up__case__team", "follow_up__case"
        )
        .prefetch_related("aspects")
        .filter(pk=review_pk)
        .first()
    )
    if review is None:
        raise ReviewError(ReviewErrorCode.NOT_FOUND, f"No review {review_pk}.")
    return review


def visible_follow_up_case(user: Any, review: Review) -> Case | None:
    """The review's follow-up case if ``user`` may see it (another team's is hidden)."""
    link = getattr(review, "follow_up", None)
    if link is None:
        return None
    return link.case if can_view(user, link.case) else None


def has_follow_up(review: Review) -> bool:
    return getattr(review, "follow_up", None) is not None


@dataclass(frozen=True)
class OrderLine:
    line_no: int
    product_id: str
    category: str | None
    seller_id: str
    price: Any


def list_order_lines(review: Review) -> list[OrderLine]:
    items = OrderItem.objects.filter(order_id=review.order_id).select_related("product")
    return [
        OrderLine(i.line_no, i.product_id, i.product.category, i.seller_id, i.price)
        for i in items.order_by("line_no")
    ]


def list_customer_reviews(review: Review, *, limit: int = 10) -> list[Review]:
    """The customer's other reviews, newest first."""
    return list(
        Review.objects.filter(order__customer_id=review.order.customer_id)
        .exclude(pk=review.pk)
        .order_by("-created_at")[:limit]
    )


def list_replies(review: Review) -> list[ReviewReply]:
    return list(review.replies.select_related("template").order_by("created_at", "pk"))


def list_events(review: Review) -> list[ReviewEvent]:
    return list(review.desk_events.order_by("at", "pk"))


def list_reply_templates() -> list[ReplyTemplate]:
    return list(ReplyTemplate.objects.filter(active=True).order_by("name", "language"))


def get_reply_template(template_id: int) -> ReplyTemplate | None:
    return ReplyTemplate.objects.filter(pk=template_id, active=True).first()


def list_categories() -> list[str]:
    categories = (
        Product.objects.exclude(category__isnull=True)
        .exclude(category="")
        .order_by("category")
        .values_list("category", flat=True)
        .distinct()
    )
    return [c for c in categories if c]
