"""State changes of surveys: versions of instruments, answers, opt-outs.

Invitations are made by ``triggers.py`` (scans for resolved cases and delivered orders) and sent
by ``sending.py``; both run in the worker. Every verb here runs in one transaction and writes
all or nothing.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connections, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from manyi.desk import sqlrows
from manyi.desk.cases.models import Case, CaseItem
from manyi.desk.commerce.models import OrderItem
from manyi.desk.surveys.errors import SurveyError, SurveyErrorCode
from manyi.desk.surveys.forms import parse_submission
from manyi.desk.surveys.links import link_expired
from manyi.desk.surveys.models import (
    Instrument,
    InstrumentKind,
    InstrumentVersion,
    Invitation,
    InvitationStatus,
    OptOut,
    Question,
    QuestionKind,
    ResponseItem,
    SuppressionReason,
    SurveyAnswer,
    SurveyResponse,
    SurveySettings,
    SurveyTextAnswer,
    VersionStatus,
)
from manyi.desk.surveys.selectors import (
    get_settings,
    is_open,
    links_subqueries,
    list_pinned_versions,
    person_filter,
)

# --- instruments and their versions ---------------------------------------------------------

#: The items ``manyi.insight`` reads from each canonical instrument, with their scale.
CANONICAL_ITEMS: dict[str, dict[str, tuple[int, int]]] = {
    "csat": {"csat": (1, 5)},
    "nps": {"nps": (0, 10)},
    "ces_effort_5": {"ces": (1, 5)},
    "ces_agree_7": {"ces": (1, 7)},
    "dsr": {"as_described": (1, 5), "service": (1, 5), "logistics": (1, 5)},
    "servqual": {f"{k}{n}": (1, 7) for k in "EP" for n in range(1, 23)},
}
_KIND_OF_CODE = {
    "csat": InstrumentKind.CSAT,
    "nps": InstrumentKind.NPS,
    "ces_effort_5": InstrumentKind.CES,
    "ces_agree_7": InstrumentKind.CES,
    "dsr": InstrumentKind.DSR,
    "servqual": InstrumentKind.SERVQUAL,
}
_ITEM = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,31}")


def check_version(version: InstrumentVersion) -> dict[str, str]:
    """What keeps a version from being published, by question item (empty: it may be).

    A canonical instrument (``csat``, ``nps``, ``ces_effort_5``, ``ces_agree_7``, ``dsr``,
    ``servqual``) must ask every item ``manyi.insight`` reads, as a required scale with exactly
    its points; a shop's own instrument has kind ``custom`` and a code of its own.
    """
    problems: dict[str, str] = {}
    code = version.instrument_id
    kind = version.instrument.kind
    questions = list(version.questions.order_by("position"))
    if not questions:
        problems["__all__"] = _("A version needs at least one question.")
    expected_kind = _KIND_OF_CODE.get(code)
    if expected_kind is not None and kind != expected_kind:
        problems["__all__"] = _("The instrument %(code)s must be of kind %(kind)s.") % {
            "code": code,
            "kind": expected_kind,
        }
    if expected_kind is None and kind != InstrumentKind.CUSTOM:
        problems["__all__"] = _(
            "Only the standard codes (csat, nps, ces_effort_5, ces_agree_7, dsr, servqual) "
            "may have kind %(kind)s; a shop's own questions are kind custom."
        ) % {"kind": kind}
    for question in questions:
        problem = _check_question(question)
        if problem:
            problems[question.item] = problem
    by_item = {q.item: q for q in questions}
    for item, (low, high) in CANONICAL_ITEMS.get(code, {}).items():
        q = by_item.get(item)
        if q is None:
            problems[item] = _("%(code)s must ask the item %(item)s.") % {
                "code": code,
                "item": item,
            }
        elif (q.kind, q.scale_min, q.scale_max, q.required) != (
            QuestionKind.SCALE,
            low,
            high,
            True,
        ):
            problems[item] = _("%(item)s must be a required scale from %(low)d to %(high)d.") % {
                "item": item,
                "low": low,
                "high": high,
            }
    return problems


def _check_question(q: Question) -> str:
    if not _ITEM.fullmatch(q.item):
        return _("An item is a letter followed by letters, digits or _ (at most 32).")
    if not q.text_zh.strip() or not q.text_en.strip():
        return _("Write the question in Chinese and in English.")
    if q.kind == QuestionKind.SCALE:
        if q.scale_min is None or q.scale_max is None or q.scale_max - q.scale_min < 1:
            return _("A scale needs a lowest and a higher highest point.")
        if q.scale_max - q.scale_min > 10:
            return _("A scale has at most 11 points.")
    if q.kind == QuestionKind.POINTS and not q.section:
        return _("Points questions share 100 points within their section: name the section.")
    if q.kind == QuestionKind.CHOICE:
        codes = [c.get("code") for c in q.choices or [] if isinstance(c, dict)]
        if len(codes) < 2 or len(set(codes)) != len(codes) or len(codes) != len(q.choices):
            return _("A choice question needs at least two options with distinct codes.")
        if any(not (c.get("zh") and c.get("en")) for c in q.choices):
            return _("Label every option in Chinese and in English.")
    return ""


def new_draft(instrument_code: str, *, now: datetime | None = None) -> InstrumentVersion:
    """The instrument's draft version, made as a copy of its latest version if there is none.

    Editing a published instrument starts here: change the draft, then publish it.
    """
    now = now or timezone.now()
    with transaction.atomic():
        instrument = Instrument.objects.select_for_update().filter(code=instrument_code).first()
        if instrument is None:
            raise SurveyError(
                SurveyErrorCode.NOT_FOUND,
                _("No instrument %(code)s.") % {"code": instrument_code},
            )
        draft = instrument.versions.filter(status=VersionStatus.DRAFT).first()
        if draft is not None:
            return draft
        latest = instrument.versions.order_by("-number").first()
        number = (instrument.versions.aggregate(m=Max("number"))["m"] or 0) + 1
        draft = InstrumentVersion.objects.create(
            instrument=instrument,
            number=number,
            status=VersionStatus.DRAFT,
            intro=latest.intro if latest else {},
            sections=latest.sections if latest else {},
            created_at=now,
        )
        if latest is not None:
            Question.objects.bulk_create(
                Question(
                    version=draft,
                    **{
                        f.name: getattr(q, f.name)
                        for f in Question._meta.concrete_fields
                        if f.name not in ("id", "version")
                    },
                )
                for q in latest.questions.all()
            )
        return draft


def publish_version(version_id: int, *, now: datetime | None = None) -> InstrumentVersion:
    """Publish a draft: it becomes the instrument's current version and the one it replaces is
    retired. Both stay as they are for ever; invitations issued from now on ask the new one.

    Raises :class:`SurveyError` (``NOT_DRAFT``, ``INCOMPLETE_INSTRUMENT`` with the problems by
    item) and writes nothing then.
    """
    now = now or timezone.now()
    with transaction.atomic():
        version = (
            InstrumentVersion.objects.select_for_update()
            .select_related("instrument")
            .filter(pk=version_id)
            .first()
        )
        if version is None:
            raise SurveyError(SurveyErrorCode.NOT_FOUND, _("No such version."))
        if version.status != VersionStatus.DRAFT:
            raise SurveyError(SurveyErrorCode.NOT_DRAFT, _("Only a draft can be published."))
        problems = check_version(version)
        if problems:
            raise SurveyError(
                SurveyErrorCode.INCOMPLETE_INSTRUMENT,
                _("%(version)s cannot be published yet.") % {"version": version},
                fields=problems,
            )
        current = (
            InstrumentVersion.objects.select_for_update()
            .filter(instrument_id=version.instrument_id, status=VersionStatus.PUBLISHED)
            .first()
        )
        if current is not None:
            current.status = VersionStatus.RETIRED
            current.save(update_fields=["status"])
        version.status = VersionStatus.PUBLISHED
        version.published_at = now
        version.save(update_fields=["status", "published_at"])
        return version


# --- answers --------------------------------------------------------------------------------


def submit_response(
    invitation_id: int,
    data: Mapping[str, str],
    *,
    language: str | None = None,
    now: datetime | None = None,
    link_signed_at: int | None = None,
) -> list[SurveyResponse]:
    """Record the customer's answers to an open invitation, or replace the ones they gave.

    One response per instrument of the invitation; the agent and team of the case are copied
    on the first answer. ``language`` is the one the page was answered in (default: the
    invitation's). ``link_signed_at`` is when the customer's link was signed (its signature
    already checked, :func:`~manyi.desk.surveys.links.read_survey_token` with no lifetime):
    the desk's link lifetime comes with the lock's query and an older link is refused. The
    invitation's pinned versions come with the lock's query on PostgreSQL
    (:func:`~manyi.desk.surveys.selectors.list_pinned_versions`). Raises
    :class:`SurveyError`: ``EXPIRED`` (the link), ``NOT_FOUND``, ``CLOSED`` (the invitation
    expired or was closed early: nothing changes any more), ``INVALID`` with messages per
    field. Nothing is written unless every answer is valid.

    The writes are batched (one statement per table, whatever the number of instruments): the
    public page is the desk's busiest writer.
    """
    now = now or timezone.now()
    with transaction.atomic():
        locked = _lock_invitation(invitation_id)
        if link_signed_at is not None:
            link_days = locked.link_days
            if link_days is None:  # no invitation row: the lifetime alone
                link_days = get_settings().link_days
            if link_expired(link_signed_at, link_days):
                raise SurveyError(SurveyErrorCode.EXPIRED, _("This link has expired."))
        invitation = locked.invitation
        if invitation is None or invitation.status != InvitationStatus.ISSUED:
            raise SurveyError(SurveyErrorCode.NOT_FOUND, _("No such survey."))
        if not is_open(invitation, now):
            raise SurveyError(SurveyErrorCode.CLOSED, _("This survey is closed."))
        agent_id, team_id = locked.agent_id, locked.team_id
        versions = list_pinned_versions(invitation.pk, links=locked.links)
        submission = parse_submission(versions, data)
        if submission.errors:
            raise SurveyError(
                SurveyErrorCode.INVALID,
                _("Some answers need another look."),
                fields=submission.errors,
            )
        if not any(submission.answered(v.instrument_id) for v in versions):
            raise SurveyError(SurveyErrorCode.INVALID, _("Answer at least one question."))
        # Responses are written in the transaction that sets ``answered_at``: none before it.
        existing = (
            {r.instrument_id: r for r in _responses_of(invitation.pk)}
            if invitation.answered_at is not None
            else {}
        )
        written: list[SurveyResponse] = []
        created: list[SurveyResponse] = []
        for version in versions:
            code = version.instrument_id
            if not submission.answered(code):
                continue
            response = existing.get(code)
            if response is None:
                response = SurveyResponse(
                    invitation=invitation,
                    version=version,
                    instrument_id=code,
                    customer_id=invitation.customer_id,
                    order_id=invitation.order_id,
                    case_id=invitation.case_id,
                    agent_id=agent_id,
                    team_id=team_id,
                    answered_at=now,
                    updated_at=now,
                    channel=invitation.channel,
                    language=language or invitation.language,
                )
                created.append(response)
            else:
                response.updated_at = now
                response.language = language or response.language
            written.append(response)
        replaced = [r for r in written if r.instrument_id in existing]
        if replaced:
            SurveyResponse.objects.bulk_update(replaced, ["updated_at", "language"])
            SurveyAnswer.objects.filter(response__in=replaced).delete()
            SurveyTextAnswer.objects.filter(response__in=replaced).delete()
        items = _order_items(invitation, locked) if created else []
        # The writes below need no answer back: sent together, one round trip on PostgreSQL.
        with sqlrows.pipeline():
            if created:
                # The key is made here (uuid), so the insert needs no RETURNING on any database.
                sqlrows.insert_objects(created)
                sqlrows.insert(
                    ResponseItem,
                    ("response", "order_item"),
                    ((response.pk, i) for response in created for i in items),
                )
            for model, column, given in (
                (SurveyAnswer, "value", submission.numbers),
                (SurveyTextAnswer, "text", submission.texts),
            ):
                sqlrows.insert(
                    model,
                    ("response", "item", column),
                    (
                        (response.pk, item, answer)
                        for response in written
                        for item, answer in given.get(response.instrument_id, {}).items()
                    ),
                )
            if invitation.answered_at is None:
                invitation.answered_at = now
                answered = sqlrows.prep(Invitation, "answered_at", now)
                sqlrows.execute(_answered_sql(), [answered, invitation.pk])
        return written


def _with_arrays() -> bool:
    """PostgreSQL reads the invitation's version links and order lines in the lock's own
    query, as arrays; the other databases (SQLite, in the same process: no round trip to
    save) read them apart."""
    return connections["default"].vendor == "postgresql"


@sqlrows.once
def _lock_sql() -> str:
    """The invitation (locked on databases that lock rows) with its case's agent and team
    and the desk's link lifetime; on PostgreSQL also its version links, its case's order
    lines and its order's lines."""
    invitation = sqlrows.columns(Invitation, "i")
    col, tab = sqlrows.column, sqlrows.table
    arrays = ""
    if _with_arrays():
        case_items = (
            f"ARRAY(SELECT {col(CaseItem, 'ci', 'order_item')} FROM {tab(CaseItem, 'ci')} "
            f"WHERE {col(CaseItem, 'ci', 'case')} = {col(Invitation, 'i', 'case')} "
            f"ORDER BY {col(CaseItem, 'ci', 'id')})"
        )
        order_items = (
            f"ARRAY(SELECT {col(OrderItem, 'oi', 'id')} FROM {tab(OrderItem, 'oi')} "
            f"WHERE {col(OrderItem, 'oi', 'order')} = {col(Invitation, 'i', 'order')} "
            f"ORDER BY {col(OrderItem, 'oi', 'id')})"
        )
        links = links_subqueries(col(Invitation, "i", "id"))
        arrays = ", " + ", ".join([case_items, order_items, *links])
    link_days = (
        f"(SELECT {col(SurveySettings, 's', 'link_days')} FROM {tab(SurveySettings, 's')} "
        f"WHERE {col(SurveySettings, 's', 'id')} = 1)"
    )
    sql = (
        f"SELECT {invitation.sql}, {col(Case, 'c', 'assignee_username')}, "
        f"{col(Case, 'c', 'team')}, {link_days}{arrays} "
        f"FROM {tab(Invitation, 'i')} LEFT JOIN {tab(Case, 'c')} "
        f"ON {col(Case, 'c', 'case_id')} = {col(Invitation, 'i', 'case')} "
        f"WHERE {col(Invitation, 'i', 'id')} = %s"
    )
    connection = connections["default"]
    if connection.features.has_select_for_update_of:
        sql += " " + connection.ops.for_update_sql(of=(connection.ops.quote_name("i"),))
    elif connection.features.has_select_for_update:
        sql += " " + connection.ops.for_update_sql()
    return sql


@sqlrows.once
def _answered_sql() -> str:
    bare = sqlrows.bare
    return (
        f"UPDATE {sqlrows.quote(Invitation._meta.db_table)} "
        f"SET {bare(Invitation, 'answered_at')} = %s WHERE {bare(Invitation, 'id')} = %s"
    )


@dataclass(frozen=True)
class _Locked:
    """An invitation locked for the transaction and what the lock's query read with it."""

    invitation: Invitation | None
    #: The username and team of its case's agent now (``None`` without a case).
    agent_id: str | None = None
    team_id: str | None = None
    #: The desk's link lifetime (``SurveySettings.link_days``; ``None`` without an invitation).
    link_days: int | None = None
    #: Read in the same query where it could be (PostgreSQL), else ``None``: the order item
    #: ids of its case's lines and of its order's lines, and its version links (the columns
    #: of ``selectors.LINK_COLUMNS``).
    case_items: list[int] | None = None
    order_items: list[int] | None = None
    links: list[list[Any]] | None = None


def _lock_invitation(invitation_id: int) -> _Locked:
    """The invitation locked for this transaction, with its case's agent and team; one
    hand-written query (``manyi.desk.sqlrows``)."""
    rows = sqlrows.fetch(_lock_sql(), [invitation_id])
    if not rows:
        return _Locked(None)
    cols = sqlrows.columns(Invitation, "i")
    row = rows[0]
    invitation = cols.build(row)
    assert isinstance(invitation, Invitation)
    agent_id, team_id, link_days = row[cols.width : cols.width + 3]
    if link_days is None:  # no settings row yet: the default
        link_days = SurveySettings._meta.get_field("link_days").get_default()
    rest = row[cols.width + 3 :]
    if not rest:
        return _Locked(invitation, agent_id, team_id, link_days)
    case_items, order_items, *links = rest
    return _Locked(
        invitation,
        agent_id,
        team_id,
        link_days,
        [int(i) for i in case_items],
        [int(i) for i in order_items],
        [list(column) for column in links],
    )


def _responses_of(invitation_id: int) -> list[SurveyResponse]:
    return sqlrows.rows_where(SurveyResponse, "invitation", invitation_id)  # type: ignore[return-value]


@sqlrows.once
def _case_items_sql() -> str:
    return (
        f"SELECT {sqlrows.column(CaseItem, 'ci', 'order_item')} "
        f"FROM {sqlrows.table(CaseItem, 'ci')} "
        f"WHERE {sqlrows.column(CaseItem, 'ci', 'case')} = %s "
        f"ORDER BY {sqlrows.column(CaseItem, 'ci', 'id')}"
    )


@sqlrows.once
def _order_items_sql() -> str:
    return (
        f"SELECT {sqlrows.column(OrderItem, 'oi', 'id')} "
        f"FROM {sqlrows.table(OrderItem, 'oi')} "
        f"WHERE {sqlrows.column(OrderItem, 'oi', 'order')} = %s "
        f"ORDER BY {sqlrows.column(OrderItem, 'oi', 'id')}"
    )


def _order_items(invitation: Invitation, locked: _Locked) -> list[int]:
    """The lines the survey is about: the case's items, else every line of the order (as
    the lock's query read them, or read now)."""
    if invitation.case_id is not None:
        lines = locked.case_items
        if lines is None:
            lines = [int(r[0]) for r in sqlrows.fetch(_case_items_sql(), [invitation.case_id])]
        if lines:
            return lines
    if invitation.order_id is not None:
        if locked.order_items is not None:
            return locked.order_items
        return [int(r[0]) for r in sqlrows.fetch(_order_items_sql(), [invitation.order_id])]
    return []


def close_invitation(invitation_id: int, *, now: datetime | None = None) -> Invitation:
    """Stop an invitation early: its link then shows "closed" and answers stay as they are."""
    now = now or timezone.now()
    with transaction.atomic():
        invitation = Invitation.objects.select_for_update().filter(pk=invitation_id).first()
        if invitation is None:
            raise SurveyError(SurveyErrorCode.NOT_FOUND, _("No such survey."))
        if invitation.status == InvitationStatus.SCHEDULED:
            invitation.status = InvitationStatus.CANCELLED
            invitation.save(update_fields=["status"])
        elif invitation.closed_at is None:
            invitation.closed_at = now
            invitation.save(update_fields=["closed_at"])
        return invitation


# --- opt-out --------------------------------------------------------------------------------


def opt_out(invitation_id: int, *, now: datetime | None = None) -> None:
    """The customer of an invitation wants no more surveys: their address and their customer
    record are both opted out, and invitations not yet sent to them are suppressed."""
    invitation = Invitation.objects.filter(pk=invitation_id).first()
    if invitation is None:
        raise SurveyError(SurveyErrorCode.NOT_FOUND, _("No such survey."))
    record_opt_out(
        email=invitation.email, customer_id=invitation.customer_id, source="link", now=now
    )


def record_opt_out(
    *,
    email: str = "",
    customer_id: str | None = None,
    source: str = "staff",
    by: Any = None,
    now: datetime | None = None,
) -> int:
    """Opt an address and/or a customer out; returns how many scheduled invitations were
    suppressed. Idempotent."""
    now = now or timezone.now()
    email = email.strip().lower()
    if not email and not customer_id:
        raise SurveyError(SurveyErrorCode.INVALID, _("Give an address or a customer."))
    with transaction.atomic():
        if email:
            OptOut.objects.get_or_create(
                email=email, defaults={"created_at": now, "source": source, "created_by": by}
            )
        if customer_id:
            OptOut.objects.get_or_create(
                customer_id=customer_id,
                defaults={"created_at": now, "source": source, "created_by": by},
            )
        return Invitation.objects.filter(
            person_filter(email, customer_id), status=InvitationStatus.SCHEDULED
        ).update(status=InvitationStatus.SUPPRESSED, reason=SuppressionReason.OPTED_OUT)
