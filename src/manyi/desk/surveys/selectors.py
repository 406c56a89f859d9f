"""Reads of the surveys app: the survey page, the settings, link-only invitations, exports."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet

from manyi.desk import sqlrows
from manyi.desk.surveys.models import (
    InstrumentVersion,
    Invitation,
    InvitationChannel,
    InvitationStatus,
    InvitationVersion,
    OptOut,
    Question,
    SurveyAnswer,
    SurveyResponse,
    SurveyRule,
    SurveySettings,
    SurveyTextAnswer,
    VersionStatus,
)


def get_settings() -> SurveySettings:
    """The desk's survey settings (created with the defaults if the row is missing).

    Read with a hand-written query (``manyi.desk.sqlrows``): every survey page asks for the
    link lifetime."""
    rows = sqlrows.rows_where(SurveySettings, "id", 1)
    if rows:
        assert isinstance(rows[0], SurveySettings)
        return rows[0]
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


#: Published (and retired) instrument versions with their instrument and questions, by id.
#: A version that is no longer a draft never changes (``InstrumentVersion.save`` refuses), so
#: what was read once is good for the life of the process; drafts are never kept.
_VERSIONS: dict[tuple[int, str, Any], InstrumentVersion] = {}
_VERSIONS_LIMIT = 512
_versions_lock = threading.Lock()


def forget_versions() -> None:
    """Empty the per-process cache of versions (tests whose database reuses ids)."""
    with _versions_lock:
        _VERSIONS.clear()


@sqlrows.once
def _links_sql() -> str:
    col = sqlrows.column
    return (
        f"SELECT {col(InstrumentVersion, 'v', 'id')}, {col(InstrumentVersion, 'v', 'instrument')}, "
        f"{col(InstrumentVersion, 'v', 'published_at')}, {col(InstrumentVersion, 'v', 'status')} "
        f"FROM {sqlrows.table(InvitationVersion, 'l')} "
        f"JOIN {sqlrows.table(InstrumentVersion, 'v')} "
        f"ON {col(InstrumentVersion, 'v', 'id')} = {col(InvitationVersion, 'l', 'version')} "
        f"WHERE {col(InvitationVersion, 'l', 'invitation')} = %s "
        f"ORDER BY {col(InvitationVersion, 'l', 'position')}"
    )


#: The columns of a link row, in :func:`_links_sql`'s order.
LINK_COLUMNS = ("id", "instrument", "published_at", "status")


def links_subqueries(invitation: str) -> list[str]:
    """On PostgreSQL, one ``ARRAY(...)`` per column of :data:`LINK_COLUMNS` of the version
    links of the invitation whose id is the SQL expression ``invitation``: for a query that
    reads them with the invitation (:func:`list_pinned_versions` takes the columns)."""
    col = sqlrows.column
    return [
        f"ARRAY(SELECT {col(InstrumentVersion, 'v', name)} "
        f"FROM {sqlrows.table(InvitationVersion, 'l')} "
        f"JOIN {sqlrows.table(InstrumentVersion, 'v')} "
        f"ON {col(InstrumentVersion, 'v', 'id')} = {col(InvitationVersion, 'l', 'version')} "
        f"WHERE {col(InvitationVersion, 'l', 'invitation')} = {invitation} "
        f"ORDER BY {col(InvitationVersion, 'l', 'position')})"
        for name in LINK_COLUMNS
    ]


def list_pinned_versions(
    invitation_id: int, *, links: Sequence[Sequence[Any]] | None = None
) -> list[InstrumentVersion]:
    """The versions an issued invitation asks, in page order, with instrument and questions.

    One query for the links, unless they were read already (``links``: the columns of
    :data:`LINK_COLUMNS`, each a list, as :func:`links_subqueries` gives them); the versions
    themselves come from a per-process cache (a published version is immutable), read with
    their questions on a miss."""
    rows = (
        sqlrows.fetch(_links_sql(), [invitation_id])
        if links is None
        else list(zip(*links, strict=True))
    )
    pinned = [
        ((int(version_id), str(instrument_id), published), status)
        for version_id, instrument_id, published, status in rows
    ]
    missing = [key[0] for key, status in pinned if key not in _VERSIONS]
    fresh: dict[int, InstrumentVersion] = {}
    if missing:
        fresh = {
            v.pk: v
            for v in InstrumentVersion.objects.filter(pk__in=missing)
            .select_related("instrument")
            .prefetch_related(Prefetch("questions", queryset=Question.objects.order_by("position")))
        }
        with _versions_lock:
            if len(_VERSIONS) > _VERSIONS_LIMIT:
                _VERSIONS.clear()
            for key, status in pinned:
                if key[0] in fresh and status != VersionStatus.DRAFT:
                    _VERSIONS[key] = fresh[key[0]]
    return [_VERSIONS.get(key) or fresh[key[0]] for key, _status in pinned]


@dataclass
class SurveyPage:
    invitation: Invitation
    versions: list[InstrumentVersion]
    #: The current answers as form values (``<instrument>.<item>`` -> text).
    values: dict[str, str] = field(default_factory=dict)

    @property
    def answered(self) -> bool:
        return self.invitation.answered_at is not None


def _page_columns() -> tuple[sqlrows.Columns, sqlrows.Columns]:
    return sqlrows.columns(Invitation, "i"), sqlrows.columns(SurveyRule, "r")


@sqlrows.once
def _page_sql() -> str:
    invitation_cols, rule_cols = _page_columns()
    col, tab = sqlrows.column, sqlrows.table
    return (
        f"SELECT {invitation_cols.sql}, {rule_cols.sql} FROM {tab(Invitation, 'i')} "
        f"JOIN {tab(SurveyRule, 'r')} ON {col(SurveyRule, 'r', 'code')} = "
        f"{col(Invitation, 'i', 'rule')} "
        f"WHERE {col(Invitation, 'i', 'id')} = %s AND {col(Invitation, 'i', 'status')} = %s"
    )


@sqlrows.once
def _answers_sql() -> str:
    """Numbers and texts given so far, as (instrument, item, number, text)."""
    col, tab = sqlrows.column, sqlrows.table
    response = f"{col(SurveyResponse, 'r', 'response_id')}"
    return (
        f"SELECT {col(SurveyResponse, 'r', 'instrument')}, {col(SurveyAnswer, 'a', 'item')}, "
        f"{col(SurveyAnswer, 'a', 'value')}, NULL FROM {tab(SurveyAnswer, 'a')} "
        f"JOIN {tab(SurveyResponse, 'r')} ON {response} = {col(SurveyAnswer, 'a', 'response')} "
        f"WHERE {col(SurveyResponse, 'r', 'invitation')} = %s "
        f"UNION ALL "
        f"SELECT {col(SurveyResponse, 'r', 'instrument')}, {col(SurveyTextAnswer, 't', 'item')}, "
        f"NULL, {col(SurveyTextAnswer, 't', 'text')} FROM {tab(SurveyTextAnswer, 't')} "
        f"JOIN {tab(SurveyResponse, 'r')} ON {response} = {col(SurveyTextAnswer, 't', 'response')} "
        f"WHERE {col(SurveyResponse, 'r', 'invitation')} = %s"
    )


def get_survey_page(invitation_id: int, *, with_answers: bool = True) -> SurveyPage | None:
    """An issued invitation with its questions and the answers given so far: three
    hand-written queries (two without the answers, which a submitted form replaces anyway),
    the versions coming from :func:`list_pinned_versions`'s cache."""
    rows = sqlrows.fetch(_page_sql(), [invitation_id, InvitationStatus.ISSUED])
    if not rows:
        return None
    invitation_cols, rule_cols = _page_columns()
    invitation = invitation_cols.build(rows[0])
    assert isinstance(invitation, Invitation)
    invitation.rule = rule_cols.build(rows[0], invitation_cols.width)  # type: ignore[assignment]
    versions = list_pinned_versions(invitation_id)
    values: dict[str, str] = {}
    if not with_answers:
        return SurveyPage(invitation, versions, values)
    for code, item, value, text in sqlrows.fetch(_answers_sql(), [invitation_id] * 2):
        values[f"{code}.{item}"] = text if value is None else f"{float(value):g}"
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
