"""State changes of reviews: posting one, replying, and the inbox status.

Each verb runs in one transaction, checks the role (analysts only read), writes its audit event
(``review_events``) and saves with ``update_fields``. The canonical ``reviews`` row is only
written where the canonical columns say so: a new review posted through the API, and
``answered_at`` when the desk answers a review for the first time.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from manyi.desk.cases.events import Actor
from manyi.desk.commerce.models import Order, Review
from manyi.desk.reviews.analysis import MODEL_LANGUAGES, analyse_one
from manyi.desk.reviews.errors import ReviewError, ReviewErrorCode
from manyi.desk.reviews.models import (
    ReplyTemplate,
    ReviewEventKind,
    ReviewFollowUp,
    ReviewReply,
    ReviewState,
    ReviewStatus,
)
from manyi.desk.reviews.permissions import may_work_reviews
from manyi.desk.reviews.records import record_review_event

MAX_REPLY_LENGTH = 5_000
#: How far in the future a posted review's ``created_at`` may lie (clock skew).
CLOCK_SKEW = timedelta(minutes=5)
#: The variables a reply template may use.
TEMPLATE_VARIABLES = (
    "customer_name",
    "order_id",
    "review_id",
    "rating",
    "agent_name",
    "case_number",
)
_VARIABLE = re.compile(r"\{([a-z_]+)\}")


def _require_worker(user: Any) -> None:
    if not may_work_reviews(user):
        raise ReviewError(ReviewErrorCode.FORBIDDEN, _("Your role may not change reviews."))


@dataclass(frozen=True)
class NewReview:
    """A review from a shop platform; ``review_id`` is generated when the source has none."""

    order_id: str
    rating: int
    body: str = ""
    title: str | None = None
    review_id: str | None = None
    language: str | None = None
    created_at: datetime | None = None
    source: str = "api"
    author_name: str = ""


def submit_review(new: NewReview, *, user: Any, now: datetime | None = None) -> Review:
    """Store a posted review, analyse it and apply the bad-review rule, all or nothing.

    Raises ``ReviewError``: ``invalid`` with field messages (rating outside 1-5, unknown
    order, a date in the future), ``review_exists`` for a (review id, order) already stored,
    ``forbidden`` for a role that may not change reviews.
    """
    now = now or timezone.now()
    _require_worker(user)
    errors: dict[str, str] = {}
    if isinstance(new.rating, bool) or not isinstance(new.rating, int) or not 1 <= new.rating <= 5:
        errors["rating"] = _("A rating is 1 to 5 stars.")
    if new.created_at is not None and new.created_at > now + CLOCK_SKEW:
        errors["created_at"] = _("The review cannot be written in the future.")
    if errors:
        raise ReviewError(ReviewErrorCode.INVALID, _("The review has errors."), fields=errors)
    review_id = new.review_id or uuid.uuid4().hex
    with transaction.atomic():
        if not Order.objects.filter(order_id=new.order_id).exists():
            raise ReviewError(
                ReviewErrorCode.INVALID,
                _("The review has errors."),
                fields={"order_id": _("No order %(id)s.") % {"id": new.order_id}},
            )
        exists = ReviewError(
            ReviewErrorCode.ALREADY_EXISTS,
            _("Review %(review)s of order %(order)s is already stored.")
            % {"review": review_id, "order": new.order_id},
            fields={"review_id": _("Already stored for this order.")},
        )
        if Review.objects.filter(review_id=review_id, order_id=new.order_id).exists():
            raise exists
        try:
            with transaction.atomic():
                review = Review.objects.create(
                    review_id=review_id,
                    order_id=new.order_id,
                    rating=new.rating,
                    title=new.title or None,
                    body=new.body or None,
                    language=new.language,
                    created_at=new.created_at or now,
                    source=new.source,
                )
        except IntegrityError:
            raise exists from None
        if new.author_name:
            ReviewState.objects.create(review=review, author_name=new.author_name, updated_at=now)
        analyse_one(review, now=now)
        detected = review.analysis.language
        if not review.language and detected in MODEL_LANGUAGES:
            # The canonical column says which language the review is in; the source did not.
            review.language = detected
            review.save(update_fields=["language"])
    return review


def _lock_state(review_pk: int, now: datetime) -> tuple[Review, ReviewState]:
    """Lock the review row (the inbox's unit of change) and return it with its state."""
    review = Review.objects.select_for_update(no_key=True).filter(pk=review_pk).first()
    if review is None:
        raise ReviewError(ReviewErrorCode.NOT_FOUND, _("No such review."))
    state = ReviewState.objects.filter(review_id=review_pk).first()
    if state is None:
        state = ReviewState(review=review, status=ReviewStatus.NEW, updated_at=now)
    return review, state


def _set_status(
    review: Review, state: ReviewState, status: str, *, actor: Actor, now: datetime
) -> bool:
    before = state.status
    if before == status:
        return False
    state.status = status
    state.updated_at = now
    state.updated_by = actor.user
    state.save()
    record_review_event(
        review.pk,
        ReviewEventKind.STATUS,
        actor=actor,
        at=now,
        from_status=before,
        to_status=status,
    )
    return True


def set_review_status(
    review_pk: int, status: str, *, user: Any, now: datetime | None = None
) -> ReviewState:
    """Set the inbox status (new, replied, no reply needed, escalated)."""
    now = now or timezone.now()
    _require_worker(user)
    if status not in ReviewStatus.values:
        raise ReviewError(
            ReviewErrorCode.INVALID,
            _("Unknown status."),
            fields={"status": _("Use one of: %(values)s.") % {"values": ", ".join(ReviewStatus)}},
        )
    with transaction.atomic():
        review, state = _lock_state(review_pk, now)
        _set_status(review, state, status, actor=Actor.staff(user), now=now)
    return state


def bulk_set_review_status(
    review_pks: Sequence[int], status: str, *, user: Any, now: datetime | None = None
) -> int:
    """Set one status on many reviews in one transaction; returns how many changed."""
    now = now or timezone.now()
    _require_worker(user)
    if status not in ReviewStatus.values:
        raise ReviewError(ReviewErrorCode.INVALID, _("Unknown status."))
    changed = 0
    actor = Actor.staff(user)
    with transaction.atomic():
        for pk in sorted(set(review_pks)):  # one lock order for every caller
            try:
                review, state = _lock_state(pk, now)
            except ReviewError:
                continue
            changed += _set_status(review, state, status, actor=actor, now=now)
    return changed


def render_reply_template(
    template: ReplyTemplate | str, review: Review, agent: Any, *, language: str | None = None
) -> str:
    """Fill a template's variables ({customer_name}, {order_id}, {review_id}, {rating},
    {agent_name}, {case_number}); unknown ones stay as written. Words the desk supplies (the
    greeting "customer" when the reviewer's name is unknown) are in the template's language.

    Substitution is by name only (no ``str.format``, whose ``{x.attr}`` would reach into
    objects), so a template cannot read anything but these values.
    """
    if isinstance(template, ReplyTemplate):
        body, language = template.body, language or template.language
    else:
        body = template
    state = ReviewState.objects.filter(review_id=review.pk).first()
    link = ReviewFollowUp.objects.select_related("case").filter(review_id=review.pk).first()
    name = (state.author_name if state else "") or (link.case.contact_name if link else "")
    with translation.override(language or translation.get_language()):
        fallback = _("customer")
    values = {
        "customer_name": name or fallback,
        "order_id": str(review.order_id),
        "review_id": str(review.review_id),
        "rating": str(review.rating),
        "agent_name": (agent.get_full_name() or agent.get_username()) if agent else "",
        "case_number": link.case.number if link else "",
    }
    return _VARIABLE.sub(lambda m: values.get(m.group(1), m.group(0)), body)


def reply_to_review(
    review_pk: int,
    body: str,
    *,
    user: Any,
    template_id: int | None = None,
    now: datetime | None = None,
) -> ReviewReply:
    """Store a public answer with its author and time; the first answer sets the review's
    canonical ``answered_at``. The status becomes *replied*, except that an escalated review
    stays escalated (its case is still being worked)."""
    now = now or timezone.now()
    _require_worker(user)
    body = (body or "").strip()
    if not body:
        raise ReviewError(
            ReviewErrorCode.INVALID, _("Write a reply."), fields={"body": _("Required.")}
        )
    if len(body) > MAX_REPLY_LENGTH:
        raise ReviewError(
            ReviewErrorCode.INVALID,
            _("The reply is too long."),
            fields={"body": _("At most %(n)s characters.") % {"n": MAX_REPLY_LENGTH}},
        )
    template = None
    if template_id is not None:
        template = ReplyTemplate.objects.filter(pk=template_id, active=True).first()
        if template is None:
            raise ReviewError(
                ReviewErrorCode.INVALID,
                _("No such reply template."),
                fields={"template": _("Unknown or inactive template.")},
            )
    actor = Actor.staff(user)
    with transaction.atomic():
        review, state = _lock_state(review_pk, now)
        reply = ReviewReply.objects.create(
            review=review,
            # Variables typed by hand are filled too, not only those of a chosen template.
            body=render_reply_template(
                body, review, user, language=template.language if template else None
            ),
            author=user,
            author_name=user.get_username(),
            template=template,
            created_at=now,
        )
        if review.answered_at is None:
            review.answered_at = now
            review.save(update_fields=["answered_at"])
        record_review_event(
            review.pk,
            ReviewEventKind.REPLY,
            actor=actor,
            at=now,
            data={"reply_id": reply.pk, "template": template.name if template else ""},
        )
        if state.status != ReviewStatus.ESCALATED:
            _set_status(review, state, ReviewStatus.REPLIED, actor=actor, now=now)
    return reply
