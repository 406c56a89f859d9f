"""The bad-review rule: a bad review opens a follow-up complaint case, at most once.

A review is *bad* when it has 1-2 stars, or when its text is negative with a probability of at
least the configured threshold whatever its stars ("arrived broken" with 4★). The analysis step
calls :func:`apply_follow_up_rule` explicitly for the reviews it has just analysed (there are no
signals). Reviews older than the configured age never open a case automatically: importing a
shop's history must not flood the desk with cases about last year. The inbox can still open one
by hand (:func:`open_follow_up_by_hand`).

"At most once per review" is the unique constraint on ``review_follow_ups.review_pk``: the case
and the link are written in one savepoint, so when two runs race on PostgreSQL, the second one
waits on the unique index until the first commits, fails, and rolls its own case back. On SQLite
the transactions are serialised (``BEGIN IMMEDIATE``), and the second run sees the link first.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from manyi.desk.cases.events import Actor
from manyi.desk.cases.models import CaseKind, CasePriority, CaseReason
from manyi.desk.cases.services import NewCase, open_case
from manyi.desk.commerce.models import Review
from manyi.desk.reviews.errors import ReviewError, ReviewErrorCode
from manyi.desk.reviews.models import (
    FollowUpRule,
    FollowUpTrigger,
    ReviewEventKind,
    ReviewFollowUp,
    ReviewState,
    ReviewStatus,
)
from manyi.desk.reviews.permissions import may_work_reviews
from manyi.desk.reviews.records import record_review_event

#: The case reason for each negative aspect; other aspects (service, price) give "other".
REASON_BY_ASPECT: dict[str, str] = {
    "logistics": CaseReason.LATE_DELIVERY,
    "quality": CaseReason.QUALITY,
    "as_described": CaseReason.NOT_AS_DESCRIBED,
    "packaging": CaseReason.DAMAGED,
}
#: Case languages the desk speaks, by review language (others get the desk's default).
CASE_LANGUAGE = {"zh": "zh-hans", "en": "en"}
SUBJECT_EXCERPT = 60


@dataclass(frozen=True)
class RuleConfig:
    """The rule's settings as plain values (``FollowUpRule`` is where they are edited)."""

    enabled: bool = True
    negative_threshold: float = 0.9
    max_age: timedelta = timedelta(days=30)
    team: str | None = None
    priority: str = CasePriority.HIGH

    @classmethod
    def load(cls) -> RuleConfig:
        rule = FollowUpRule.load()
        return cls(
            enabled=rule.enabled,
            negative_threshold=rule.negative_threshold,
            max_age=timedelta(days=rule.max_age_days),
            team=rule.team_id,
            priority=rule.priority,
        )


@dataclass(frozen=True)
class AspectPolarity:
    aspect: str
    polarity: str
    score: float


def follow_up_trigger(
    *,
    rating: int,
    sentiment: str | None,
    p_positive: float | None,
    created_at: datetime,
    config: RuleConfig,
    now: datetime,
) -> str | None:
    """Why the rule opens a case for this review (``"rating"`` or ``"text"``), or ``None``.

    >>> from datetime import UTC
    >>> now = datetime(2026, 6, 18, tzinfo=UTC)
    >>> follow_up_trigger(rating=2, sentiment="positive", p_positive=0.9, created_at=now,
    ...                   config=RuleConfig(), now=now)
    'rating'
    >>> follow_up_trigger(rating=4, sentiment="negative", p_positive=0.05, created_at=now,
    ...                   config=RuleConfig(negative_threshold=0.9), now=now)
    'text'
    >>> follow_up_trigger(rating=1, sentiment=None, p_positive=None,
    ...                   created_at=now - timedelta(days=31), config=RuleConfig(), now=now)
    """
    if not config.enabled or created_at < now - config.max_age:
        return None
    if rating <= 2:
        return FollowUpTrigger.RATING
    if (
        sentiment == "negative"
        and p_positive is not None
        and 1.0 - p_positive >= config.negative_threshold
    ):
        return FollowUpTrigger.TEXT
    return None


def guess_reason(aspects: Iterable[AspectPolarity]) -> str:
    """The case reason from the most negative aspect (ties: report order of the aspects).

    >>> guess_reason([AspectPolarity("quality", "negative", -1.0),
    ...               AspectPolarity("logistics", "negative", -1.5)])
    'late_delivery'
    >>> guess_reason([AspectPolarity("price", "negative", -2.0)])
    'other'
    """
    negative = [a for a in aspects if a.polarity == "negative"]
    if not negative:
        return CaseReason.OTHER
    order = list(REASON_BY_ASPECT)
    worst = min(
        negative,
        key=lambda a: (a.score, order.index(a.aspect) if a.aspect in order else len(order)),
    )
    return REASON_BY_ASPECT.get(worst.aspect, CaseReason.OTHER)


def _review_text(review: Review) -> str:
    return "\n\n".join(
        part.strip() for part in (review.title, review.body) if part and part.strip()
    )


def _subject(review: Review) -> str:
    # The case shows its order; the subject says what the customer said, at a glance.
    text = " ".join(_review_text(review).split())
    excerpt = text if len(text) <= SUBJECT_EXCERPT else text[: SUBJECT_EXCERPT - 1] + "…"
    if excerpt:
        return _("%(stars)s★ review: %(excerpt)s") % {"stars": review.rating, "excerpt": excerpt}
    return _("%(stars)s★ review without text") % {"stars": review.rating}


def _aspects_of(review: Review) -> list[AspectPolarity]:
    return [AspectPolarity(a.aspect, a.polarity, a.score) for a in review.aspects.all()]


def _open(
    review: Review,
    *,
    trigger: str,
    actor: Actor,
    config: RuleConfig,
    now: datetime,
) -> ReviewFollowUp | None:
    """Open the case and link it, or return ``None`` when the review already has one."""
    with transaction.atomic():
        # Only saves the work of opening a case that would be rolled back: the unique
        # constraint below is what guarantees one case per review.
        if ReviewFollowUp.objects.filter(review_id=review.pk).exists():
            return None
        analysis = getattr(review, "analysis", None)
        language = (analysis.language if analysis else None) or review.language or ""
        state = ReviewState.objects.filter(review_id=review.pk).first()
        try:
            with transaction.atomic():
                case = open_case(
                    NewCase(
                        kind=CaseKind.COMPLAINT,
                        channel="review",
                        subject=_subject(review),
                        description=_review_text(review),
                        reason=guess_reason(_aspects_of(review)),
                        priority=config.priority,
                        order_id=review.order_id,
                        contact_name=state.author_name if state else "",
                        team=config.team,
                        language=CASE_LANGUAGE.get(language, settings.LANGUAGE_CODE),
                    ),
                    actor=actor,
                    now=now,
                )
                link = ReviewFollowUp.objects.create(
                    review=review,
                    case=case,
                    trigger=trigger,
                    opened_at=now,
                    opened_by=actor.user,
                )
        except IntegrityError:
            if not ReviewFollowUp.objects.filter(review_id=review.pk).exists():
                raise
            return None  # a concurrent run linked this review first; our case was rolled back
        _mark_escalated(review, state, actor=actor, case_id=case.case_id, trigger=trigger, now=now)
    return link


def _mark_escalated(
    review: Review,
    state: ReviewState | None,
    *,
    actor: Actor,
    case_id: int,
    trigger: str,
    now: datetime,
) -> None:
    before = state.status if state else ReviewStatus.NEW
    if state is None:
        state = ReviewState(review=review)
    state.status = ReviewStatus.ESCALATED
    state.updated_at = now
    state.updated_by = actor.user
    state.save()
    record_review_event(
        review.pk,
        ReviewEventKind.FOLLOW_UP,
        actor=actor,
        at=now,
        from_status=before,
        to_status=ReviewStatus.ESCALATED,
        data={"case_id": case_id, "trigger": trigger},
    )


def apply_follow_up_rule(
    review_pks: Sequence[int], *, now: datetime | None = None, config: RuleConfig | None = None
) -> list[int]:
    """Open a follow-up case for each bad, recent review among ``review_pks`` that has none.

    Call after the reviews were analysed (the text part of the rule reads the stored analysis;
    a review without one is judged by its stars alone). Safe to call again and concurrently:
    returns the ids of the cases *this* call opened.
    """
    now = now or timezone.now()
    config = config or RuleConfig.load()
    if not config.enabled or not review_pks:
        return []
    opened: list[int] = []
    candidates = (
        Review.objects.filter(
            pk__in=review_pks, created_at__gte=now - config.max_age, follow_up__isnull=True
        )
        .select_related("analysis")
        .prefetch_related("aspects")
        .order_by("pk")  # one order for every run, so racing runs cannot deadlock
    )
    for review in candidates:
        analysis = getattr(review, "analysis", None)
        trigger = follow_up_trigger(
            rating=review.rating,
            sentiment=analysis.sentiment if analysis else None,
            p_positive=analysis.p_positive if analysis else None,
            created_at=review.created_at,
            config=config,
            now=now,
        )
        if trigger is None:
            continue
        link = _open(review, trigger=trigger, actor=Actor.system(), config=config, now=now)
        if link is not None:
            opened.append(link.case_id)
    return opened


def open_follow_up_by_hand(review_pk: int, *, user: Any, now: datetime | None = None) -> Any:
    """Open the follow-up case of one review from the inbox, whatever its age and stars.

    Raises ``ReviewError`` when the user may not, the review does not exist, or it already
    has a follow-up case. Returns the case.
    """
    now = now or timezone.now()
    if not may_work_reviews(user):
        raise ReviewError(ReviewErrorCode.FORBIDDEN, _("Your role may not change reviews."))
    review = (
        Review.objects.select_related("analysis").prefetch_related("aspects").filter(pk=review_pk)
    ).first()
    if review is None:
        raise ReviewError(ReviewErrorCode.NOT_FOUND, _("No such review."))
    link = _open(
        review,
        trigger=FollowUpTrigger.MANUAL,
        actor=Actor.staff(user),
        config=RuleConfig.load(),
        now=now,
    )
    if link is None:
        raise ReviewError(
            ReviewErrorCode.HAS_FOLLOW_UP, _("This review already has a follow-up case.")
        )
    return link.case
