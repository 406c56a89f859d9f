"""The cases REST API: ``/api/cases`` and the verbs on one case.

Each operation parses its input, calls one selector or service, and renders the result; the
object-level rules are the pages' own (``selectors.visible_cases``, ``services._lock``): an
agent works on their teams' cases and gets 404 for any other, an analyst reads everything and
may change nothing (403, from the ``cases.change_case`` permission).

Writes that act on what the caller saw (transitions, edits) take ``expected_version``, the
``version`` of the case as read; if someone changed the case since, the answer is 409 with the
current version and nothing is written.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from ninja import Header, Query, Router, Schema
from pydantic import AfterValidator, ConfigDict, Field, model_validator

from manyi.desk.api.auth import api_auth
from manyi.desk.api.errors import ErrorOut
from manyi.desk.api.fields import (
    MAX_ID,
    Amount,
    Id,
    Input,
    Instant,
    LongText,
    MessageText,
    Output,
    ShopKey,
    TeamCode,
    Version,
    check_text,
    enum,
    one_of,
)
from manyi.desk.api.idempotency import respond_once
from manyi.desk.api.paging import page_of
from manyi.desk.cases import selectors, services
from manyi.desk.cases.clocks import compute_case_clocks
from manyi.desk.cases.events import Actor
from manyi.desk.cases.models import (
    Case,
    CaseChannel,
    CaseEvent,
    CaseKind,
    CasePriority,
    CaseReason,
    CaseStatus,
    Message,
)
from manyi.desk.cases.selectors import QUEUES, CaseFilters
from manyi.desk.cases.states import TRANSITIONS

router = Router(tags=["cases"])

READ = api_auth("cases.view_case")
ADD = api_auth("cases.add_case")
CHANGE = api_auth("cases.change_case")

#: Every refusal an operation may answer with (documented in the OpenAPI document).
ERRORS: dict[int, Any] = {
    400: ErrorOut,
    401: ErrorOut,
    403: ErrorOut,
    404: ErrorOut,
    409: ErrorOut,
    422: ErrorOut,
}

CaseId = Annotated[int, Field(ge=1, le=MAX_ID, description="The case's id (its number)")]
Subject = Annotated[str, Field(min_length=1, max_length=200), AfterValidator(check_text)]
Note = Annotated[str, Field(max_length=5_000), AfterValidator(check_text)]
Tracking = Annotated[str, Field(max_length=64), AfterValidator(check_text)]
ContactName = Annotated[str, Field(max_length=128), AfterValidator(check_text)]
ContactEmail = Annotated[str, Field(max_length=254), AfterValidator(check_text)]
ContactPhone = Annotated[str, Field(max_length=32), AfterValidator(check_text)]
Currency = Annotated[str, Field(pattern=r"^[A-Z]{3}$", description="ISO 4217, such as CNY")]
Language = Annotated[str, Field(pattern=r"^[a-z]{2,3}(-[a-z]{2,4})?$", max_length=8)]
LineNo = Annotated[int, Field(ge=1, le=2**31 - 1)]
SearchText = Annotated[str, Field(max_length=200), AfterValidator(check_text)]
TransitionName = Annotated[
    str, Field(json_schema_extra=enum(tuple(TRANSITIONS))), one_of(tuple(TRANSITIONS))
]
QueueName = Annotated[str, Field(json_schema_extra=enum(QUEUES)), one_of(QUEUES)]
IdempotencyKeyHeader = Annotated[
    str | None,
    Header(
        None,
        alias="Idempotency-Key",
        description="A unique key per logical request (a UUID); retries send the same key.",
    ),
]


# --- input ---------------------------------------------------------------------------------


class NewCaseIn(Input):
    """A new case, as ``services.NewCase``: only ``kind``, ``channel`` and ``subject`` are
    required."""

    kind: CaseKind
    channel: CaseChannel
    subject: Subject
    description: LongText = ""
    reason: CaseReason | None = None
    priority: CasePriority = CasePriority.NORMAL
    customer_id: ShopKey | None = None
    order_id: ShopKey | None = None
    order_lines: list[LineNo] = Field(default_factory=list, max_length=500)
    contact_name: ContactName = ""
    contact_email: ContactEmail = ""
    contact_phone: ContactPhone = ""
    team: TeamCode | None = None
    assignee_id: Id | None = None
    refund_amount: Amount | None = None
    currency: Currency | None = None
    language: Language = "zh-hans"
    follow_up_of: Id | None = None


class TransitionFieldsIn(Input):
    """Case fields a transition may set along the way (send only those you mean to set)."""

    diagnosis: LongText = ""
    reason: CaseReason | None = None
    refund_amount: Amount | None = None
    return_tracking: Tracking = ""
    replacement_tracking: Tracking = ""
    inspection_note: LongText = ""
    decision_reason: LongText = ""


class TransitionIn(Input):
    name: TransitionName
    expected_version: Version
    note: Note = ""
    fields: TransitionFieldsIn | None = None


class UpdateIn(Input):
    """New details; a field left out or ``null`` stays as it is."""

    expected_version: Version
    priority: CasePriority | None = None
    reason: CaseReason | None = None
    subject: Subject | None = None


class AssignIn(Input):
    """Give the case to a person, a team, or both; a part left out stays as it is."""

    assignee_id: Id | None = None
    team: TeamCode | None = None
    expected_version: Version | None = None

    @model_validator(mode="after")
    def _something(self) -> AssignIn:
        if self.assignee_id is None and self.team is None:
            raise ValueError("Name an assignee_id, a team, or both.")
        return self


class ReplyIn(Input):
    body: MessageText
    channel: CaseChannel = CaseChannel.EMAIL
    expected_version: Version | None = None


class NoteIn(Input):
    body: MessageText
    expected_version: Version | None = None


class ContactIn(Input):
    """A phone call or chat, logged by the agent: ``in`` is what the customer said (a customer
    message), ``out`` what the agent told them (a response)."""

    channel: Literal["phone", "chat"]
    direction: Literal["in", "out"]
    body: MessageText
    at: Instant | None = Field(None, description="When it happened (default: now)")
    expected_version: Version | None = None


class CaseQuery(Schema):
    model_config = ConfigDict(use_enum_values=True)

    queue: QueueName = "open"
    status: CaseStatus | None = None
    kind: CaseKind | None = None
    priority: CasePriority | None = None
    channel: CaseChannel | None = None
    team: TeamCode | None = None
    q: SearchText | None = Field(
        None,
        description="Subject or contact name contains it; or an exact e-mail, order, "
        "customer or case number",
    )
    opened_from: Instant | None = None
    opened_to: Instant | None = None
    limit: int = Field(50, ge=1, le=200)
    offset: int = Field(0, ge=0, le=1_000_000)


# --- output --------------------------------------------------------------------------------


class CaseSummaryOut(Output):
    id: int
    number: str
    version: int
    kind: str
    reason: str | None
    channel: str
    priority: str
    status: str
    subject: str
    customer_id: str | None
    order_id: str | None
    team: str | None
    assignee_id: int | None
    assignee: str | None
    sla_state: str
    first_response_due_at: datetime | None
    next_response_due_at: datetime | None
    resolution_due_at: datetime | None
    opened_at: datetime
    updated_at: datetime


class TransitionOut(Output):
    name: str
    label: str
    #: The status it leads to (``resume``: the status the case was in before waiting).
    target: str
    #: What must be known first: case fields, or ``note`` for a written reason.
    requires: list[str]
    primary: bool


class ClockOut(Output):
    state: str
    target_seconds: float | None
    elapsed_seconds: float
    remaining_seconds: float | None
    due_at: datetime | None
    breached_at: datetime | None
    stopped_at: datetime | None


class SlaOut(Output):
    policy: str | None
    #: The worst state of the clocks, computed now.
    state: str
    first_response: ClockOut | None
    next_response: ClockOut | None
    resolution: ClockOut | None


class CaseOut(CaseSummaryOut):
    description: str
    language: str
    order_lines: list[int]
    contact_name: str
    contact_email: str
    contact_phone: str
    refund_amount: Decimal | None
    currency: str
    decision: str
    decision_reason: str
    decided_by: str | None
    decided_at: datetime | None
    diagnosis: str
    return_tracking: str
    replacement_tracking: str
    inspection_note: str
    first_response_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    follow_up_of: int | None
    sla: SlaOut
    #: The moves the caller may make now (empty for a role that may not change cases).
    allowed_transitions: list[TransitionOut]


class CaseListOut(Output):
    items: list[CaseSummaryOut]
    count: int
    limit: int
    offset: int
    next_offset: int | None


class AttachmentOut(Output):
    filename: str
    content_type: str
    size: int
    sha256: str


class MessageOut(Output):
    id: int
    case_id: int
    direction: str
    channel: str
    author: str
    subject: str
    body: str
    created_at: datetime
    attachments: list[AttachmentOut]


class MessageCreatedOut(MessageOut):
    #: The case's version after this message (send it as ``expected_version`` next).
    case_version: int


class EventOut(Output):
    #: The event's number in the case's log; ``null`` for a message logged without an event.
    seq: int | None
    at: datetime
    kind: str
    from_status: str | None
    to_status: str | None
    actor: str
    channel: str
    note: str
    data: dict[str, Any]
    message: MessageOut | None


# --- rendering -----------------------------------------------------------------------------


def _summary(case: Case) -> dict[str, Any]:
    return {
        "id": case.case_id,
        "number": case.number,
        "version": case.version,
        "kind": case.kind,
        "reason": case.reason,
        "channel": case.channel,
        "priority": case.priority,
        "status": case.status,
        "subject": case.subject,
        "customer_id": case.customer_id,
        "order_id": case.order_id,
        "team": case.team_id,
        "assignee_id": case.assignee_id,
        "assignee": case.assignee_username,
        "sla_state": case.sla_state,
        "first_response_due_at": _utc(case.first_response_due_at),
        "next_response_due_at": _utc(case.next_response_due_at),
        "resolution_due_at": _utc(case.resolution_due_at),
        "opened_at": _utc(case.opened_at),
        "updated_at": _utc(case.updated_at),
    }


def _utc(at: datetime | None) -> datetime | None:
    """Every instant the API shows is in UTC (the clocks compute in the calendar's zone)."""
    return at.astimezone(UTC) if at is not None else None


def _clock(clock: Any) -> dict[str, Any]:
    return {
        "state": str(clock.state),
        "target_seconds": clock.target_seconds,
        "elapsed_seconds": clock.elapsed_seconds,
        "remaining_seconds": clock.remaining_seconds,
        "due_at": _utc(clock.due_at),
        "breached_at": _utc(clock.breached_at),
        "stopped_at": _utc(clock.stopped_at),
    }


def _sla(case: Case, now: datetime, log: list[CaseEvent] | None = None) -> dict[str, Any]:
    computed = compute_case_clocks(case, now, log)
    if computed is None:
        return {
            "policy": None,
            "state": "not_applicable",
            "first_response": None,
            "next_response": None,
            "resolution": None,
        }
    clocks = computed[0]
    return {
        "policy": case.sla_policy.name if case.sla_policy is not None else None,
        "state": str(clocks.worst_state()),
        "first_response": _clock(clocks.first_response),
        "next_response": _clock(clocks.next_response),
        "resolution": _clock(clocks.resolution),
    }


def _transitions(user: Any, case: Case) -> list[dict[str, Any]]:
    return [
        {
            "name": t.name,
            "label": str(t.label),
            "target": t.target or case.resume_status or CaseStatus.TRIAGED,
            "requires": list(t.requires),
            "primary": t.primary,
        }
        for t in selectors.list_allowed_transitions(user, case)
    ]


def case_out(
    user: Any,
    case: Case,
    *,
    now: datetime | None = None,
    lines: list[int] | None = None,
    log: list[CaseEvent] | None = None,
) -> CaseOut:
    """The case as the API shows one case: details, SLA clocks now, the caller's moves.

    ``lines`` and ``log`` are its order line numbers and clock log when already read
    (``selectors.read_case_for_api``); otherwise they are read here."""
    now = now or timezone.now()
    if lines is None:
        lines = selectors.case_line_numbers(case.case_id)
    return CaseOut(
        **_summary(case),
        description=case.description,
        language=case.language,
        order_lines=list(lines),
        contact_name=case.contact_name,
        contact_email=case.contact_email,
        contact_phone=case.contact_phone,
        refund_amount=case.refund_amount,
        currency=case.currency,
        decision=case.decision,
        decision_reason=case.decision_reason,
        decided_by=case.decided_by.get_username() if case.decided_by is not None else None,
        decided_at=_utc(case.decided_at),
        diagnosis=case.diagnosis,
        return_tracking=case.return_tracking,
        replacement_tracking=case.replacement_tracking,
        inspection_note=case.inspection_note,
        first_response_at=_utc(case.first_response_at),
        resolved_at=_utc(case.resolved_at),
        closed_at=_utc(case.closed_at),
        follow_up_of=case.follow_up_of_id,
        sla=SlaOut(**_sla(case, now, log)),
        allowed_transitions=[TransitionOut(**t) for t in _transitions(user, case)],
    )


def _message(message: Message) -> dict[str, Any]:
    return {
        "id": message.pk,
        "case_id": message.case_id,
        "direction": message.direction,
        "channel": message.channel,
        "author": message.author_name,
        "subject": message.subject,
        "body": message.body,
        "created_at": _utc(message.created_at),
        "attachments": [
            {
                "filename": a.filename,
                "content_type": a.content_type,
                "size": a.size,
                "sha256": a.sha256,
            }
            for a in message.attachments.all()
        ],
    }


def _created(message: Message) -> tuple[int, MessageCreatedOut]:
    return 201, MessageCreatedOut(**_message(message), case_version=message.case.version)


# --- operations ----------------------------------------------------------------------------


@router.post(
    "/cases",
    auth=ADD,
    response={201: CaseOut, **ERRORS},
    summary="Open a case",
    openapi_extra={"responses": {201: {"description": "The case, with its version"}}},
)
def create_case(
    request: HttpRequest, payload: NewCaseIn, idempotency_key: IdempotencyKeyHeader = None
) -> HttpResponse:
    """Open a case as the calling user. Send an ``Idempotency-Key`` so a retry after a timeout
    returns the case the first attempt opened instead of opening another."""
    user = request.auth  # type: ignore[attr-defined]

    def create() -> tuple[int, CaseOut]:
        values = payload.model_dump()
        values["order_lines"] = tuple(values["order_lines"])
        opened = services.open_case_and_log(services.NewCase(**values), actor=Actor.staff(user))
        return 201, case_out(user, opened.case, lines=opened.lines, log=opened.log)

    return respond_once(request, idempotency_key, create)


@router.get("/cases", auth=READ, response={200: CaseListOut, **ERRORS}, summary="List cases")
def list_cases(request: HttpRequest, filters: Query[CaseQuery]) -> CaseListOut:
    """The cases of a queue the caller may see, filtered, most urgent first.

    The order is the queue's (nearest SLA instant, priority, age) and total (ties are broken by
    id), so ``offset`` paging neither repeats nor skips a case while the list does not change.
    """
    user = request.auth  # type: ignore[attr-defined]
    cases = selectors.list_cases(
        user,
        CaseFilters(
            queue=filters.queue,
            status=filters.status,
            kind=filters.kind,
            priority=filters.priority,
            channel=filters.channel,
            team=filters.team,
            search=filters.q,
            opened_from=filters.opened_from,
            opened_to=filters.opened_to,
        ),
    )
    page, paging = page_of(cases, filters.offset, filters.limit)
    return CaseListOut(items=[CaseSummaryOut(**_summary(c)) for c in page], **paging)


@router.get(
    "/cases/{case_id}", auth=READ, response={200: CaseOut, **ERRORS}, summary="Get one case"
)
def get_case(request: HttpRequest, case_id: CaseId) -> CaseOut:
    """The case with its SLA clocks and the transitions the caller may make now."""
    user = request.auth  # type: ignore[attr-defined]
    read = selectors.read_case_for_api(user, case_id)
    return case_out(user, read.case, lines=read.lines, log=read.log)


@router.get(
    "/cases/{case_id}/events",
    auth=READ,
    response={200: list[EventOut], **ERRORS},
    summary="The case's timeline",
)
def list_events(request: HttpRequest, case_id: CaseId) -> list[EventOut]:
    """Every event and message of the case in time order, internal notes included."""
    user = request.auth  # type: ignore[attr-defined]
    case = selectors.get_case(user, case_id)
    out = []
    for entry in selectors.get_timeline(case, include_internal=True):
        event, message = entry.event, entry.message
        out.append(
            EventOut(
                seq=event.seq if event else None,
                at=entry.at.astimezone(UTC),
                kind=event.kind if event else "message",
                from_status=event.from_status if event else None,
                to_status=event.to_status if event else None,
                actor=event.actor if event else (message.author_name if message else ""),
                channel=event.channel if event else (message.channel if message else ""),
                note=event.note if event else "",
                data=event.data if event else {},
                message=MessageOut(**_message(message)) if message else None,
            )
        )
    return out


@router.post(
    "/cases/{case_id}/transitions",
    auth=CHANGE,
    response={200: CaseOut, **ERRORS},
    summary="Move the case along the workflow",
)
def transition(request: HttpRequest, case_id: CaseId, payload: TransitionIn) -> CaseOut:
    """Apply the transition ``name`` (see ``allowed_transitions`` of the case). A move the
    workflow does not allow now is 409 with ``details.allowed``; a stale ``expected_version``
    is 409 with ``details.current_version``."""
    user = request.auth  # type: ignore[attr-defined]
    fields = payload.fields.model_dump(exclude_unset=True) if payload.fields else None
    case = services.transition_case(
        case_id,
        payload.name,
        actor=Actor.staff(user),
        expected_version=payload.expected_version,
        note=payload.note,
        fields=fields,
    )
    return case_out(user, case)


@router.patch(
    "/cases/{case_id}",
    auth=CHANGE,
    response={200: CaseOut, **ERRORS},
    summary="Change priority, reason or subject",
)
def update(request: HttpRequest, case_id: CaseId, payload: UpdateIn) -> CaseOut:
    """A new priority re-picks the SLA policy."""
    user = request.auth  # type: ignore[attr-defined]
    case = services.update_case(
        case_id,
        actor=Actor.staff(user),
        expected_version=payload.expected_version,
        priority=payload.priority,
        reason=payload.reason,
        subject=payload.subject,
    )
    return case_out(user, case)


@router.post(
    "/cases/{case_id}/assign",
    auth=CHANGE,
    response={200: CaseOut, **ERRORS},
    summary="Give the case to a person and/or a team",
)
def assign(request: HttpRequest, case_id: CaseId, payload: AssignIn) -> CaseOut:
    user = request.auth  # type: ignore[attr-defined]
    case = services.assign_case(
        case_id,
        actor=Actor.staff(user),
        assignee_id=payload.assignee_id,
        team=payload.team,
        expected_version=payload.expected_version,
    )
    return case_out(user, case)


@router.post(
    "/cases/{case_id}/replies",
    auth=CHANGE,
    response={201: MessageCreatedOut, **ERRORS},
    summary="Reply to the customer",
)
def reply(
    request: HttpRequest,
    case_id: CaseId,
    payload: ReplyIn,
    idempotency_key: IdempotencyKeyHeader = None,
) -> HttpResponse:
    """A public answer: stops the first/next-response clocks; e-mailed to the contact (on the
    e-mail channel) once committed. Send an ``Idempotency-Key`` so a retry does not answer
    twice."""
    user = request.auth  # type: ignore[attr-defined]

    def create() -> tuple[int, MessageCreatedOut]:
        message = services.reply_to_case(
            case_id,
            payload.body,
            actor=Actor.staff(user),
            channel=payload.channel,
            expected_version=payload.expected_version,
        )
        return _created(message)

    return respond_once(request, idempotency_key, create)


@router.post(
    "/cases/{case_id}/notes",
    auth=CHANGE,
    response={201: MessageCreatedOut, **ERRORS},
    summary="Add an internal note",
)
def note(
    request: HttpRequest,
    case_id: CaseId,
    payload: NoteIn,
    idempotency_key: IdempotencyKeyHeader = None,
) -> HttpResponse:
    """Visible to staff only; does not count as a response."""
    user = request.auth  # type: ignore[attr-defined]

    def create() -> tuple[int, MessageCreatedOut]:
        message = services.add_note(
            case_id,
            payload.body,
            actor=Actor.staff(user),
            expected_version=payload.expected_version,
        )
        return _created(message)

    return respond_once(request, idempotency_key, create)


@router.post(
    "/cases/{case_id}/contacts",
    auth=CHANGE,
    response={201: MessageCreatedOut, **ERRORS},
    summary="Log a phone call or chat",
)
def contact(
    request: HttpRequest,
    case_id: CaseId,
    payload: ContactIn,
    idempotency_key: IdempotencyKeyHeader = None,
) -> HttpResponse:
    """``at`` may be in the past (a call logged afterwards); the SLA clocks are recomputed."""
    user = request.auth  # type: ignore[attr-defined]

    def create() -> tuple[int, MessageCreatedOut]:
        message = services.log_contact(
            case_id,
            payload.body,
            actor=Actor.staff(user),
            channel=payload.channel,
            direction=payload.direction,
            expected_version=payload.expected_version,
            at=payload.at,
        )
        return _created(message)

    return respond_once(request, idempotency_key, create)
