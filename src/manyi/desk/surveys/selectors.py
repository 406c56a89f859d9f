"""Reads of the surveys app: the survey page, the settings, link-only invitations, exports."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet

from manyi.desk.surveys.models import (
    InstrumentVersion,
    Invitation,
    InvitationChannel,
    InvitationStatus,
    OptOut,
    Question,
    SurveyAnswer,
    SurveyResponse,
    SurveySettings,
    SurveyTextAnswer,
)


def get_settings() -> SurveySettings:
    """The desk's survey settings (created with the defaults if the row is missing)."""
    found, _created = SurveySettings.objects.get_or_create(pk=1)
    return found


def is_open(invitation: Invitation, now: datetime) -> bool:
    """Whether the customer may still answer (or change their answers)."""
    return (
        invitation.status == InvitationStatus.ISSUED
        and invitation.closed_at is None
        and invitation.expires_at is not None
        and now < invitation.expires_at
    )


def list_pinned_versions(invitation_id: int) -> list[InstrumentVersion]:
    """The versions an issued invitation asks, in page order, with instrument and questions."""
    return list(
        InstrumentVersion.objects.filter(invitation_links__invitation_id=invitation_id)
        .select_related("instrument")
        .prefetch_related(Prefetch("questions", queryset=Question.objects.order_by("position")))
        .order_by("invitation_links__position")
    )


@dataclass
class SurveyPage:
    invitation: Invitation
    versions: list[InstrumentVersion]
    #: The current answers as form values (``<instrument>.<item>`` -> text).
    values: dict[str, str] = field(default_factory=dict)

    @property
    def answered(self) -> bool:
        return self.invitation.answered_at is not None


def get_survey_page(invitation_id: int, *, with_answers: bool = True) -> SurveyPage | None:
    """An issued invitation with its questions and the answers given so far (5 queries; 3
    without the answers, which a submitted form replaces anyway)."""
    invitation = (
        Invitation.objects.select_related("rule")
        .filter(pk=invitation_id, status=InvitationStatus.ISSUED)
        .first()
    )
    if invitation is None:
        return None
    versions = list_pinned_versions(invitation_id)
    values: dict[str, str] = {}
    if not with_answers:
        return SurveyPage(invitation, versions, values)
    for code, item, value in SurveyAnswer.objects.filter(
        response__invitation_id=invitation_id
    ).values_list("response__instrument_id", "item", "value"):
        values[f"{code}.{item}"] = f"{value:g}"
    for code, item, text in SurveyTextAnswer.objects.filter(
        response__invitation_id=invitation_id
    ).values_list("response__instrument_id", "item", "text"):
        values[f"{code}.{item}"] = text
    return SurveyPage(invitation, versions, values)


def person_filter(email: str, customer_id: str | None) -> Q:
    """Invitations of the same person: the same customer, or the same address."""
    q = Q(pk__in=[])
    if customer_id:
        q |= Q(customer_id=customer_id)
    if email:
        q |= Q(email=email.lower())
    return q


def is_opted_out(email: str, customer_id: str | None) -> bool:
    q = Q(pk__in=[])
    if email:
        q |= Q(email=email.lower())
    if customer_id:
        q |= Q(customer_id=customer_id)
    return OptOut.objects.filter(q).exists()


def opted_out_subquery() -> Exists:
    """``Exists`` over opt-outs matching an invitation row's address or customer."""
    return Exists(
        OptOut.objects.filter(Q(email=OuterRef("email")) | Q(customer_id=OuterRef("customer_id")))
    )


def list_link_only(now: datetime, *, rule: str | None = None) -> QuerySet[Invitation]:
    """Open invitations without an address: their links are for staff to show or export."""
    query = Invitation.objects.filter(
        status=InvitationStatus.ISSUED,
        channel=InvitationChannel.LINK,
        closed_at=None,
        answered_at=None,
        expires_at__gt=now,
    ).order_by("issued_at", "id")
    if rule:
        query = query.filter(rule_id=rule)
    return query


EXPORT_COLUMNS = [
    "response_id",
    "instrument",
    "version",
    "customer_id",
    "order_id",
    "case_id",
    "agent_id",
    "team_id",
    "channel",
    "language",
    "answered_at",
    "updated_at",
    "item",
    "value",
    "text",
]


def iter_export_rows(
    *, instrument: str | None = None, since: date | None = None, until: date | None = None
) -> Iterator[dict[str, Any]]:
    """One row per answer (numbers and texts), response columns repeated, oldest first."""
    responses = SurveyResponse.objects.select_related("version").order_by(
        "answered_at", "response_id"
    )
    if instrument:
        responses = responses.filter(instrument_id=instrument)
    if since:
        responses = responses.filter(answered_at__date__gte=since)
    if until:
        responses = responses.filter(answered_at__date__lte=until)
    responses = responses.prefetch_related(
        Prefetch("answers", queryset=SurveyAnswer.objects.order_by("item")),
        Prefetch("text_answers", queryset=SurveyTextAnswer.objects.order_by("item")),
    )
    for r in responses.iterator(chunk_size=500):
        base = {
            "response_id": r.response_id,
            "instrument": r.instrument_id,
            "version": r.version.number,
            "customer_id": r.customer_id or "",
            "order_id": r.order_id or "",
            "case_id": r.case_id or "",
            "agent_id": r.agent_id or "",
            "team_id": r.team_id or "",
            "channel": r.channel,
            "language": r.language,
            "answered_at": r.answered_at.isoformat(),
            "updated_at": r.updated_at.isoformat(),
        }
        for a in r.answers.all():
            yield {**base, "item": a.item, "value": f"{a.value:g}", "text": ""}
        for t in r.text_answers.all():
            yield {**base, "item": t.item, "value": "", "text": t.text}
