"""The reviews REST API: ``/api/reviews``.

``POST /api/reviews`` stores a review from a shop platform, analyses it at once and applies the
bad-review rule (the answer says whether a follow-up case was opened). ``GET /api/reviews``
lists them with the inbox's filters. Every role reads; analysts may not write (403). A review's
follow-up case is shown only to callers who may see that case (``follow_up`` is ``null`` and
``has_follow_up`` true for another team's).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from django.http import HttpRequest, HttpResponse
from ninja import Header, Query, Router, Schema
from pydantic import AfterValidator, ConfigDict, Field

from manyi.desk.api.auth import api_auth
from manyi.desk.api.errors import ApiError, ErrorOut
from manyi.desk.api.fields import (
    MAX_ID,
    Input,
    Instant,
    LongText,
    ShopKey,
    check_text,
    enum,
    one_of,
)
from manyi.desk.api.idempotency import respond_once
from manyi.desk.api.paging import page_of
from manyi.desk.commerce.models import Review
from manyi.desk.reviews import selectors, services
from manyi.desk.reviews.errors import ReviewError
from manyi.desk.reviews.models import Aspect, Polarity, ReviewStatus
from manyi.desk.reviews.selectors import ReviewFilters

router = Router(tags=["reviews"])

READ = api_auth("commerce.view_review")

ERRORS: dict[int, Any] = {
    400: ErrorOut,
    401: ErrorOut,
    403: ErrorOut,
    404: ErrorOut,
    409: ErrorOut,
    422: ErrorOut,
}


def _rating(value: int) -> int:
    if not 1 <= value <= 5:
        raise ValueError(f"A rating is 1 to 5 stars, not {value}.")
    return value


#: Strict: ``"5"``, ``5.0`` and ``true`` are refused, not converted.
Rating = Annotated[
    int,
    Field(strict=True, description="Stars, 1 to 5", json_schema_extra={"minimum": 1, "maximum": 5}),
    AfterValidator(_rating),
]
Title = Annotated[str, Field(max_length=255), AfterValidator(check_text)]
Source = Annotated[str, Field(min_length=1, max_length=16), AfterValidator(check_text)]
AuthorName = Annotated[str, Field(max_length=128), AfterValidator(check_text)]
Language = Annotated[
    str, Field(pattern=r"^[a-z]{2,3}(-[a-z]{2,4})?$", max_length=8, description="zh, en, pt, ...")
]
ReviewPk = Annotated[int, Field(ge=1, le=MAX_ID, description="The review's id in the desk")]
SearchText = Annotated[str, Field(max_length=200), AfterValidator(check_text)]
ReplyText = Annotated[
    str, Field(min_length=1, max_length=services.MAX_REPLY_LENGTH), AfterValidator(check_text)
]
StatusName = Annotated[
    str, Field(json_schema_extra=enum(tuple(ReviewStatus.values))), one_of(tuple(ReviewStatus))
]
IdempotencyKeyHeader = Annotated[
    str | None,
    Header(
        None,
        alias="Idempotency-Key",
        description="A unique key per logical request (a UUID); retries send the same key.",
    ),
]


class NewReviewIn(Input):
    """A review from a shop platform. Only ``order_id`` and ``rating`` are required."""

    order_id: ShopKey
    rating: Rating
    title: Title | None = None
    body: LongText = ""
    review_id: ShopKey | None = Field(
        None, description="The platform's review id (generated when left out)"
    )
    language: Language | None = Field(None, description="Detected from the text when left out")
    created_at: Instant | None = Field(None, description="When it was written (now)")
    source: Source = "api"
    author_name: AuthorName = Field("", description="The reviewer's display name, e.g. 张**")


class ReplyIn(Input):
    body: ReplyText
    template_id: Annotated[int, Field(ge=1, le=MAX_ID)] | None = None


class StatusIn(Input):
    status: StatusName


class ReviewQuery(Schema):
    model_config = ConfigDict(use_enum_values=True, extra="forbid")

    rating: Annotated[int, Field(ge=1, le=5)] | None = None
    sentiment: Polarity | None = None
    aspect: Aspect | None = Field(None, description="Mentions this aspect")
    negative_aspect: Aspect | None = Field(None, description="Judges this aspect negatively")
    language: Language | None = None
    status: ReviewStatus | None = None
    has_reply: bool | None = None
    has_follow_up: bool | None = None
    created_from: Instant | None = None
    created_to: Instant | None = None
    category: Annotated[str, Field(max_length=128)] | None = None
    seller: ShopKey | None = None
    q: SearchText | None = Field(
        None, description="Title or text contains it; or an exact review, order or customer id"
    )
    limit: int = Field(50, ge=1, le=200)
    offset: int = Field(0, ge=0, le=1_000_000)


class AspectOut(Schema):
    aspect: str
    polarity: str
    score: float
    phrase: str


class AnalysisOut(Schema):
    language: str
    sentiment: str
    p_positive: float
    label: int | None
    model_version: str
    analysed_at: datetime
    aspects: list[AspectOut]


class FollowUpOut(Schema):
    case_id: int
    number: str
    status: str
    trigger: str
    opened_at: datetime


class ReviewOut(Schema):
    id: int
    review_id: str
    order_id: str
    rating: int
    title: str | None
    body: str | None
    language: str | None
    created_at: datetime
    answered_at: datetime | None
    source: str
    status: str
    author_name: str
    analysis: AnalysisOut | None
    has_follow_up: bool
    #: The follow-up case, when the caller may see it.
    follow_up: FollowUpOut | None


class ReviewListOut(Schema):
    items: list[ReviewOut]
    count: int
    limit: int
    offset: int
    next_offset: int | None


class ReplyOut(Schema):
    id: int
    review: int
    body: str
    author: str
    created_at: datetime


def _refuse(exc: ReviewError) -> ApiError:
    return ApiError(exc.http_status, str(exc.code), exc.message, fields=exc.fields)


def review_out(user: Any, review: Review) -> ReviewOut:
    analysis = getattr(review, "analysis", None)
    state = getattr(review, "inbox", None)
    link = getattr(review, "follow_up", None)
    case = selectors.visible_follow_up_case(user, review)
    return ReviewOut(
        id=review.pk,
        review_id=review.review_id,
        order_id=review.order_id,
        rating=review.rating,
        title=review.title,
        body=review.body,
        language=review.language,
        created_at=review.created_at,
        answered_at=review.answered_at,
        source=review.source,
        status=state.status if state else ReviewStatus.NEW,
        author_name=state.author_name if state else "",
        analysis=AnalysisOut(
            language=analysis.language,
            sentiment=analysis.sentiment,
            p_positive=analysis.p_positive,
            label=analysis.label,
            model_version=analysis.model_version,
            analysed_at=analysis.analysed_at,
            aspects=[
                AspectOut(aspect=a.aspect, polarity=a.polarity, score=a.score, phrase=a.phrase)
                for a in review.aspects.all()
            ],
        )
        if analysis is not None
        else None,
        has_follow_up=link is not None,
        follow_up=FollowUpOut(
            case_id=case.case_id,
            number=case.number,
            status=case.status,
            trigger=link.trigger,
            opened_at=link.opened_at,
        )
        if case is not None and link is not None
        else None,
    )


def _get(user: Any, review_pk: int) -> Review:
    try:
        return selectors.get_review(user, review_pk)
    except ReviewError as exc:
        raise _refuse(exc) from None


@router.post(
    "/reviews",
    auth=READ,
    response={201: ReviewOut, **ERRORS},
    summary="Post a review",
    openapi_extra={"responses": {201: {"description": "The review, analysed"}}},
)
def create_review(
    request: HttpRequest, payload: NewReviewIn, idempotency_key: IdempotencyKeyHeader = None
) -> HttpResponse:
    """Store a review, analyse it (sentiment, aspects, language) and apply the bad-review rule
    in one transaction. Send an ``Idempotency-Key`` so a retry after a timeout returns the
    first answer instead of a 409."""
    user = request.auth  # type: ignore[attr-defined]

    def create() -> tuple[int, ReviewOut]:
        try:
            review = services.submit_review(services.NewReview(**payload.model_dump()), user=user)
        except ReviewError as exc:
            raise _refuse(exc) from None
        return 201, review_out(user, selectors.get_review(user, review.pk))

    return respond_once(request, idempotency_key, create)


@router.get("/reviews", auth=READ, response={200: ReviewListOut, **ERRORS}, summary="List reviews")
def list_reviews(request: HttpRequest, filters: Query[ReviewQuery]) -> ReviewListOut:
    """Reviews matching the filters, newest first (a total order: paging neither repeats nor
    skips a review while the list does not change)."""
    user = request.auth  # type: ignore[attr-defined]
    reviews = selectors.list_reviews(
        user,
        ReviewFilters(
            rating=filters.rating,
            sentiment=filters.sentiment,
            aspect=filters.aspect,
            negative_aspect=filters.negative_aspect,
            language=filters.language,
            status=filters.status,
            has_reply=filters.has_reply,
            has_follow_up=filters.has_follow_up,
            created_from=filters.created_from,
            created_to=filters.created_to,
            category=filters.category,
            seller=filters.seller,
            search=filters.q,
        ),
    )
    page, paging = page_of(reviews, filters.offset, filters.limit)
    return ReviewListOut(items=[review_out(user, r) for r in page], **paging)


@router.get(
    "/reviews/{review_pk}", auth=READ, response={200: ReviewOut, **ERRORS}, summary="Get a review"
)
def get_review(request: HttpRequest, review_pk: ReviewPk) -> ReviewOut:
    user = request.auth  # type: ignore[attr-defined]
    return review_out(user, _get(user, review_pk))


@router.post(
    "/reviews/{review_pk}/replies",
    auth=READ,
    response={201: ReplyOut, **ERRORS},
    summary="Answer a review",
)
def reply(
    request: HttpRequest,
    review_pk: ReviewPk,
    payload: ReplyIn,
    idempotency_key: IdempotencyKeyHeader = None,
) -> HttpResponse:
    """Store a public answer (author and time); the first one sets the review's
    ``answered_at``. Send an ``Idempotency-Key`` so a retry does not answer twice."""
    user = request.auth  # type: ignore[attr-defined]

    def create() -> tuple[int, ReplyOut]:
        try:
            answer = services.reply_to_review(
                review_pk, payload.body, user=user, template_id=payload.template_id
            )
        except ReviewError as exc:
            raise _refuse(exc) from None
        return 201, ReplyOut(
            id=answer.pk,
            review=answer.review_id,
            body=answer.body,
            author=answer.author_name,
            created_at=answer.created_at,
        )

    return respond_once(request, idempotency_key, create)


@router.post(
    "/reviews/{review_pk}/status",
    auth=READ,
    response={200: ReviewOut, **ERRORS},
    summary="Set the inbox status",
)
def set_status(request: HttpRequest, review_pk: ReviewPk, payload: StatusIn) -> ReviewOut:
    user = request.auth  # type: ignore[attr-defined]
    try:
        services.set_review_status(review_pk, payload.status, user=user)
    except ReviewError as exc:
        raise _refuse(exc) from None
    return review_out(user, _get(user, review_pk))
