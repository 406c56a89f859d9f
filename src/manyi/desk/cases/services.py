"""State changes of cases: every verb runs in one transaction, locks the case row, checks the
rules, writes its audit event, refreshes the SLA cache and puts its e-mail in the outbox (sent
after the commit, retried by the worker).

Callers pass ``expected_version`` (the ``Case.version`` they read) when a person acted on what
they saw; if the case changed in between, :class:`CaseConflict` is raised and nothing is written.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from manyi.desk import sqlrows
from manyi.desk.accounts.models import Team
from manyi.desk.accounts.roles import may_work_cases
from manyi.desk.cases import notifications, policies
from manyi.desk.cases.clocks import choose_policy, refresh_sla
from manyi.desk.cases.errors import CaseConflict, CaseError, CaseErrorCode
from manyi.desk.cases.events import Actor, record_event
from manyi.desk.cases.models import (
    Case,
    CaseChannel,
    CaseEvent,
    CaseEventKind,
    CaseItem,
    CaseKind,
    CasePriority,
    CaseReason,
    CaseStatus,
    Decision,
    Macro,
    Message,
    MessageDirection,
)
from manyi.desk.cases.selectors import can_view
from manyi.desk.cases.states import (
    DECIDED_KINDS,
    OPEN_STATUSES,
    TRANSITIONS,
    allowed_transitions,
    structurally_allowed,
)
from manyi.desk.commerce.models import Customer, Order, OrderItem

#: Fields a transition may set along the way (``transition_case(..., fields=...)``).
TRANSITION_FIELDS = frozenset(
    {
        "diagnosis",
        "reason",
        "refund_amount",
        "return_tracking",
        "replacement_tracking",
        "inspection_note",
        "decision_reason",
    }
)


@dataclass(frozen=True)
class NewCase:
    """What is known when a case is reported; only ``kind``, ``channel`` and ``subject`` are
    required."""

    kind: str
    channel: str
    subject: str
    description: str = ""
    reason: str | None = None
    priority: str = CasePriority.NORMAL
    customer_id: str | None = None
    order_id: str | None = None
    order_lines: Sequence[int] = ()
    contact_name: str = ""
    contact_email: str = ""
    contact_phone: str = ""
    team: str | None = None
    assignee_id: int | None = None
    refund_amount: Decimal | None = None
    currency: str | None = None
    language: str = "zh-hans"
    follow_up_of: int | None = None
    attachments: Sequence[notifications.IncomingFile] = field(default_factory=tuple)
    email_message_id: str | None = None


def _choice(value: str | None, choices: Any, name: str, errors: dict[str, str]) -> None:
    if value is not None and value not in choices.values:
        errors[name] = _("“%(value)s” is not one of: %(choices)s.") % {
            "value": value,
            "choices": ", ".join(choices.values),
        }


def _amount(value: Any, name: str, errors: dict[str, str]) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        errors[name] = _("Enter an amount such as 129.50.")
        return None
    if not amount.is_finite() or amount < 0 or amount.as_tuple().exponent < -2:  # type: ignore[operator]
        errors[name] = _("Enter a non-negative amount with at most two decimals.")
        return None
    return amount


def _max_length(field_name: str) -> int | None:
    return Case._meta.get_field(field_name).max_length  # type: ignore[union-attr]


def _too_long(field_name: str, value: str) -> bool:
    limit = _max_length(field_name)
    return limit is not None and len(value) > limit


@sqlrows.once
def _order_sql() -> str:
    order, customer = sqlrows.columns(Order, "o"), sqlrows.columns(Customer, "c")
    col, tab = sqlrows.column, sqlrows.table
    return (
        f"SELECT {order.sql}, {customer.sql} FROM {tab(Order, 'o')} "
        f"LEFT JOIN {tab(Customer, 'c')} "
        f"ON {col(Customer, 'c', 'customer_id')} = {col(Order, 'o', 'customer')} "
        f"WHERE {col(Order, 'o', 'order_id')} = %s"
    )


def _order_with_customer(order_id: str) -> Order | None:
    """The order and its customer (one hand-written query: most new cases name an order)."""
    rows = sqlrows.fetch(_order_sql(), [order_id])
    if not rows:
        return None
    order_cols, customer_cols = sqlrows.columns(Order, "o"), sqlrows.columns(Customer, "c")
    order = order_cols.build(rows[0])
    assert isinstance(order, Order)
    if not customer_cols.is_null(rows[0], order_cols.width):
        sqlrows.attach(order, "customer", customer_cols.build(rows[0], order_cols.width))
    return order


def _team(code: str) -> Team | None:
    found = sqlrows.rows_where(Team, "code", code)
    team = found[0] if found else None
    assert team is None or isinstance(team, Team)
    return team


@dataclass(frozen=True)
class OpenedCase:
    """A case just opened, with what its first read would fetch again: its order line
    numbers in order, and its clock log (``None`` when an auto-approval rule moved it on and
    the log is to be read)."""

    case: Case
    lines: list[int]
    log: list[CaseEvent] | None


def open_case(new: NewCase, *, actor: Actor, now: datetime | None = None) -> Case:
    """Open a case from a report on any channel; returns it after auto-approval rules ran
    (:func:`open_case_and_log` for what it wrote too)."""
    return open_case_and_log(new, actor=actor, now=now).case


def open_case_and_log(new: NewCase, *, actor: Actor, now: datetime | None = None) -> OpenedCase:
    """Open a case from a report on any channel; returns it after auto-approval rules ran.

    Raises :class:`CaseError` with field messages when the input is inconsistent (an order of
    another customer, a line not on the order, a refund above what was paid, a no-reason return
    outside its window); nothing is written then.
    """
    now = now or timezone.now()
    errors: dict[str, str] = {}
    _choice(new.kind, CaseKind, "kind", errors)
    _choice(new.channel, CaseChannel, "channel", errors)
    _choice(new.reason, CaseReason, "reason", errors)
    _choice(new.priority, CasePriority, "priority", errors)
    subject = (new.subject or "").strip()
    if not subject:
        errors["subject"] = _("Say in a few words what happened.")
    if len(subject) > 200:
        errors["subject"] = _("Keep the subject under 200 characters.")
    if new.contact_email:
        try:
            validate_email(new.contact_email)
        except ValidationError:
            errors["contact_email"] = _("Enter a valid e-mail address.")
    refund_amount = _amount(new.refund_amount, "refund_amount", errors)
    if errors:
        raise CaseError(CaseErrorCode.INVALID, _("The case has errors."), fields=errors)

    # Reads and checks first, outside the transaction: a refusal leaves a caller's own
    # transaction untouched. The writes join the caller's transaction when there is one
    # (an API create runs inside its idempotency key's): no savepoint, so two statements
    # fewer; an error while writing rolls the whole of it back.
    order = customer = None
    if new.order_id:
        order = _order_with_customer(new.order_id)
        if order is None:
            errors["order_id"] = _("No order %(id)s.") % {"id": new.order_id}
    if new.customer_id:
        customer = Customer.objects.filter(customer_id=new.customer_id).first()
        if customer is None:
            errors["customer_id"] = _("No customer %(id)s.") % {"id": new.customer_id}
    if order is not None:
        if customer is not None and order.customer_id != customer.customer_id:
            errors["order_id"] = _("Order %(id)s belongs to another customer.") % {
                "id": order.order_id
            }
        customer = customer or order.customer
    lines: list[OrderItem] = []
    if new.order_lines:
        if order is None:
            errors["order_lines"] = _("Order lines need an order.")
        else:
            by_line = {i.line_no: i for i in order.items.all()}
            missing = [n for n in new.order_lines if n not in by_line]
            if missing:
                errors["order_lines"] = _("Order %(id)s has no line %(lines)s.") % {
                    "id": order.order_id,
                    "lines": ", ".join(map(str, missing)),
                }
            lines = [by_line[n] for n in new.order_lines if n in by_line]
    if refund_amount is not None and order is not None:
        cap = policies.refund_cap(order)
        if cap is not None and refund_amount > cap:
            errors["refund_amount"] = _(
                "%(amount)s is more than the %(cap)s paid for the order."
            ) % {"amount": refund_amount, "cap": cap}
    team = None
    if new.team:
        team = _team(new.team)
        if team is None:
            errors["team"] = _("No team “%(team)s”.") % {"team": new.team}
    # Checked here rather than left to the foreign keys: a bad id must be a field error,
    # not an IntegrityError at commit.
    assignee = None
    if new.assignee_id is not None:
        assignee = _active_user(new.assignee_id)
        if assignee is None or not may_work_cases(assignee):
            errors["assignee_id"] = _("Unknown or inactive agent.")
        elif team is not None and not _in_team(assignee, team.code):
            errors["assignee_id"] = _("Not a member of the case's team.")
    if new.follow_up_of is not None:
        parent = Case.objects.filter(pk=new.follow_up_of).first()
        # Staff may only follow up what they may see; the existence of others' cases is
        # not disclosed.
        if parent is None or (actor.is_staff and not can_view(actor.user, parent)):
            errors["follow_up_of"] = _("No case #%(id)s.") % {"id": new.follow_up_of}
    if policies.is_changed_mind(new.reason) and new.kind in policies.RETURN_KINDS:
        window = policies.no_reason_allowed(order, now=now)
        if not window.within:
            raise CaseError(
                CaseErrorCode.OUTSIDE_RETURN_WINDOW,
                window.reason,
                fields={"reason": window.reason},
            )
    if errors:
        raise CaseError(CaseErrorCode.INVALID, _("The case has errors."), fields=errors)

    case = Case(
        kind=new.kind,
        reason=new.reason,
        channel=new.channel,
        priority=new.priority,
        status=CaseStatus.NEW,
        subject=subject,
        description=new.description,
        language=new.language,
        customer=customer,
        order=order,
        contact_name=new.contact_name,
        contact_email=new.contact_email,
        contact_phone=new.contact_phone,
        team=team,
        assignee=assignee,
        assignee_username=assignee.get_username() if assignee is not None else None,
        refund_amount=refund_amount,
        currency=new.currency or (order.currency if order else "CNY"),
        opened_at=now,
        updated_at=now,
        follow_up_of_id=new.follow_up_of,
    )
    case.sla_policy = choose_policy(case.kind, case.priority, case.channel)
    # The log of a new case is its opening alone: the clocks are known before the insert.
    refresh_sla(case, now, [CaseEvent(kind=CaseEventKind.OPENED, at=now, to_status="new")])
    with transaction.atomic(savepoint=False):
        sqlrows.save_new(case)  # case.save() without the query compiler (no signals here)
        if lines:
            CaseItem.objects.bulk_create([CaseItem(case=case, order_item=i) for i in lines])
        opened = record_event(
            case,
            CaseEventKind.OPENED,
            actor=actor,
            at=now,
            to_status=CaseStatus.NEW,
            channel=new.channel,
            data={"kind": new.kind, "reason": new.reason, "priority": new.priority},
            seq=1,
        )
        if new.description.strip():
            message = Message(
                case=case,
                direction=MessageDirection.INBOUND
                if not actor.is_staff
                else MessageDirection.INTERNAL,
                channel=new.channel,
                author_user=actor.user,
                author_name=new.contact_name or actor.label,
                subject=subject,
                body=new.description,
                created_at=now,
                email_message_id=new.email_message_id,
            )
            sqlrows.save_new(message)
            notifications.store_attachments(message, new.attachments)
        log: list[CaseEvent] | None = [opened]
        if _auto_approve(case, now=now):
            log = None
            changed = refresh_sla(case, now)
            case.save(
                update_fields=[
                    *changed,
                    "status",
                    "diagnosis",
                    "decision",
                    "decision_reason",
                    "decided_at",
                ]
            )
        notifications.queue_acknowledgement(case)
    return OpenedCase(case, sorted(i.line_no for i in lines), log)


def _active_user(user_id: int) -> Any:
    from django.contrib.auth import get_user_model

    return get_user_model().objects.filter(pk=user_id, is_active=True).first()


def _auto_approve(case: Case, *, now: datetime) -> bool:
    """Apply the first matching auto-approval rule to a new case (as the system); the caller
    saves the case when it returns ``True``."""
    if case.kind not in DECIDED_KINDS:
        return False
    decision = policies.find_auto_approval(case, now=now)
    if decision is None:
        return False
    system = Actor.system()
    case.diagnosis = case.diagnosis or decision.reason
    for target, kind in ((CaseStatus.TRIAGED, None), (CaseStatus.APPROVED, "approve")):
        record_event(
            case,
            CaseEventKind.TRANSITION,
            actor=system,
            at=now,
            from_status=case.status,
            to_status=target,
            note=decision.reason if kind else "",
            data={"transition": kind or "triage", "rule": decision.rule.name},
        )
        case.status = target
    case.decision = Decision.AUTO_APPROVED
    case.decision_reason = decision.reason
    case.decided_at = now
    record_event(
        case,
        CaseEventKind.DECISION,
        actor=system,
        at=now,
        note=decision.reason,
        data={"decision": Decision.AUTO_APPROVED, "rule": decision.rule.name},
    )
    return True


def _lock(case_id: int, actor: Actor, expected_version: int | None, *, work: bool = True) -> Case:
    """Lock and return the case, after the object-level rule and the version check."""
    case = (
        Case.objects.select_for_update(of=("self",))
        .select_related("sla_policy__calendar", "order")
        .filter(case_id=case_id)
        .first()
    )
    if case is None:
        raise CaseError(CaseErrorCode.NOT_FOUND, _("No case #%(id)s.") % {"id": case_id})
    if actor.is_staff and work:
        if not can_view(actor.user, case):
            # Another team's case is "not found": its existence is not disclosed.
            raise CaseError(CaseErrorCode.NOT_FOUND, _("No case #%(id)s.") % {"id": case_id})
        if not may_work_cases(actor.user):
            raise CaseError(CaseErrorCode.FORBIDDEN, _("Your role may not change cases."))
    if expected_version is not None and case.version != expected_version:
        last = case.events.order_by("-seq").values_list("actor", flat=True).first()
        raise CaseConflict(case.case_id, expected_version, case.version, last)
    return case


def _save(case: Case, now: datetime, fields: Iterable[str]) -> None:
    case.version += 1
    case.updated_at = now
    changed = set(fields) | set(refresh_sla(case, now)) | {"version", "updated_at"}
    case.save(update_fields=sorted(changed))


def transition_case(
    case_id: int,
    name: str,
    *,
    actor: Actor,
    expected_version: int | None = None,
    note: str = "",
    fields: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> Case:
    """Move a case along the workflow by the transition ``name`` (see ``states.TRANSITIONS``).

    ``fields`` may set the data the transition needs (``diagnosis`` for triage,
    ``inspection_note`` for receive, ``refund_amount`` for refund, ...). Raises
    :class:`CaseError` (not allowed, missing data, over the approval limit) or
    :class:`CaseConflict`; nothing is written then.
    """
    now = now or timezone.now()
    fields = dict(fields or {})
    unknown = sorted(set(fields) - TRANSITION_FIELDS)
    if unknown:
        raise CaseError(
            CaseErrorCode.INVALID,
            _("Unknown fields: %(names)s.") % {"names": ", ".join(unknown)},
            fields={n: _("Not a field a transition may set.") for n in unknown},
        )
    transition = TRANSITIONS.get(name)
    with transaction.atomic():
        case = _lock(case_id, actor, expected_version)
        if transition is None or not structurally_allowed(transition, case.kind, case.status):
            allowed = [t.name for t in allowed_transitions(case.kind, case.status)]
            raise CaseError(
                CaseErrorCode.TRANSITION_NOT_ALLOWED,
                _("A %(kind)s case in status “%(status)s” cannot “%(name)s”; allowed: %(allowed)s.")
                % {
                    "kind": CaseKind(case.kind).label,
                    "status": CaseStatus(case.status).label,
                    "name": transition.label if transition else name,
                    "allowed": ", ".join(str(TRANSITIONS[a].label) for a in allowed) or "—",
                },
                details={"allowed": allowed},
            )
        errors: dict[str, str] = {}
        changed: set[str] = set()
        for key, value in fields.items():
            if key == "refund_amount":
                value = _amount(value, key, errors)
                cap = policies.refund_cap(case.order)
                if value is not None and cap is not None and value > cap:
                    errors[key] = _("%(amount)s is more than the %(cap)s paid for the order.") % {
                        "amount": value,
                        "cap": cap,
                    }
            elif key == "reason":
                _choice(value, CaseReason, key, errors)
            elif not isinstance(value, str):
                errors[key] = _("Expected text.")
                continue
            elif _too_long(key, value):
                errors[key] = _("At most %(n)s characters.") % {"n": _max_length(key)}
                continue
            if getattr(case, key) != value:
                setattr(case, key, value)
                changed.add(key)
        for required in transition.requires:
            value = note if required == "note" else getattr(case, required)
            if value is None or (isinstance(value, str) and not value.strip()):
                errors.setdefault(
                    required, _("Required to %(action)s.") % {"action": transition.label}
                )
        if errors:
            raise CaseError(
                CaseErrorCode.MISSING_DATA, _("Some data is missing or wrong."), fields=errors
            )
        if transition.guard == "approval_limit":
            refusal = (
                policies.check_approval(actor.user, case.refund_amount) if actor.is_staff else None
            )
            if refusal:
                raise CaseError(CaseErrorCode.OVER_APPROVAL_LIMIT, refusal)
        target = transition.target
        if name == "resume":
            target = case.resume_status or CaseStatus.TRIAGED
        source = case.status
        if name == "wait_on_customer":
            case.resume_status = source
            changed.add("resume_status")
        elif name == "resume":
            case.resume_status = ""
            changed.add("resume_status")
        case.status = target
        changed.add("status")
        if name in {"approve", "reject"}:
            case.decision = Decision.APPROVED if name == "approve" else Decision.REJECTED
            case.decision_reason = fields.get("decision_reason") or note
            case.decided_by = actor.user
            case.decided_at = now
            changed |= {"decision", "decision_reason", "decided_by", "decided_at"}
        if target == CaseStatus.RESOLVED:
            case.resolved_at = now
            changed.add("resolved_at")
        elif target == CaseStatus.CLOSED:
            case.closed_at = now
            changed.add("closed_at")
        elif name == "reopen":
            case.resolved_at = None
            case.closed_at = None
            changed |= {"resolved_at", "closed_at"}
        record_event(
            case,
            CaseEventKind.TRANSITION,
            actor=actor,
            at=now,
            from_status=source,
            to_status=target,
            note=note,
            data={"transition": name, **{k: str(v) for k, v in fields.items()}},
        )
        if name in {"approve", "reject"}:
            record_event(
                case,
                CaseEventKind.DECISION,
                actor=actor,
                at=now,
                note=case.decision_reason,
                data={"decision": case.decision, "amount": str(case.refund_amount or "")},
            )
        _save(case, now, changed)
        notifications.queue_status_mail(case, name)
    return case


def assign_case(
    case_id: int,
    *,
    actor: Actor,
    assignee_id: int | None = None,
    team: str | None = None,
    expected_version: int | None = None,
    now: datetime | None = None,
) -> Case:
    """Give the case to a person and/or a team (``None`` leaves that part as it is)."""
    from django.contrib.auth import get_user_model

    now = now or timezone.now()
    with transaction.atomic():
        case = _lock(case_id, actor, expected_version)
        changed: set[str] = set()
        data: dict[str, Any] = {}
        if team is not None:
            team_obj = Team.objects.filter(code=team).first()
            if team_obj is None:
                raise CaseError(
                    CaseErrorCode.INVALID,
                    _("No team “%(team)s”.") % {"team": team},
                    fields={"team": _("Unknown team.")},
                )
            if case.team_id != team_obj.code:
                data["team"] = [case.team_id, team_obj.code]
                case.team = team_obj
                changed.add("team")
        if assignee_id is not None:
            user = get_user_model().objects.filter(pk=assignee_id, is_active=True).first()
            if user is None or not may_work_cases(user):
                raise CaseError(
                    CaseErrorCode.INVALID,
                    _("That person cannot work on cases."),
                    fields={"assignee_id": _("Unknown or inactive agent.")},
                )
            if case.team_id and not _in_team(user, case.team_id):
                raise CaseError(
                    CaseErrorCode.INVALID,
                    _("%(user)s is not in team %(team)s.")
                    % {"user": user.get_username(), "team": case.team_id},
                    fields={"assignee_id": _("Not a member of the case's team.")},
                )
            if case.assignee_id != user.pk:
                data["assignee"] = [case.assignee_id, user.get_username()]
                case.assignee = user
                # The canonical column: analysis and survey results know agents by username.
                case.assignee_username = user.get_username()
                changed |= {"assignee", "assignee_username"}
        if not changed:
            return case
        record_event(case, CaseEventKind.ASSIGNED, actor=actor, at=now, data=data)
        _save(case, now, changed)
    return case


def _in_team(user: Any, team: str) -> bool:
    """Whether ``user`` may hold a case of ``team``: a member, or someone who sees every team."""
    from manyi.desk.accounts.roles import sees_all_cases

    return bool(user.is_superuser or sees_all_cases(user) or user.teams.filter(code=team).exists())


def update_case(
    case_id: int,
    *,
    actor: Actor,
    expected_version: int | None = None,
    priority: str | None = None,
    reason: str | None = None,
    subject: str | None = None,
    now: datetime | None = None,
) -> Case:
    """Change the case's details; a priority change re-picks the SLA policy."""
    now = now or timezone.now()
    errors: dict[str, str] = {}
    _choice(priority, CasePriority, "priority", errors)
    _choice(reason, CaseReason, "reason", errors)
    if subject is not None and not subject.strip():
        errors["subject"] = _("The subject cannot be empty.")
    elif subject is not None and _too_long("subject", subject):
        errors["subject"] = _("At most %(n)s characters.") % {"n": _max_length("subject")}
    if errors:
        raise CaseError(CaseErrorCode.INVALID, _("The case has errors."), fields=errors)
    with transaction.atomic():
        case = _lock(case_id, actor, expected_version)
        data: dict[str, Any] = {}
        for name, value in (("priority", priority), ("reason", reason), ("subject", subject)):
            if value is not None and getattr(case, name) != value:
                data[name] = [getattr(case, name), value]
                setattr(case, name, value)
        if not data:
            return case
        changed = set(data)
        if "priority" in data:
            case.sla_policy = choose_policy(case.kind, case.priority, case.channel)
            changed.add("sla_policy")
        record_event(case, CaseEventKind.UPDATED, actor=actor, at=now, data=data)
        _save(case, now, changed)
    return case


def reply_to_case(
    case_id: int,
    body: str,
    *,
    actor: Actor,
    channel: str = CaseChannel.EMAIL,
    expected_version: int | None = None,
    attachments: Sequence[notifications.IncomingFile] = (),
    now: datetime | None = None,
) -> Message:
    """A public answer to the customer: stops the first/next-response clocks and is e-mailed
    to the case's contact on commit (when it has an address)."""
    now = now or timezone.now()
    if not body.strip():
        raise CaseError(CaseErrorCode.INVALID, _("Write a reply."), fields={"body": _("Required.")})
    with transaction.atomic():
        case = _lock(case_id, actor, expected_version)
        event = record_event(case, CaseEventKind.REPLY, actor=actor, at=now, channel=channel)
        message = Message.objects.create(
            case=case,
            event=event,
            direction=MessageDirection.OUTBOUND,
            channel=channel,
            author_user=actor.user,
            author_name=actor.label,
            subject=f"[{case.number}] {case.subject}",
            body=body,
            created_at=now,
        )
        notifications.store_attachments(message, attachments)
        changed: set[str] = set()
        if case.first_response_at is None:
            case.first_response_at = now
            changed.add("first_response_at")
        _save(case, now, changed)
        if channel == CaseChannel.EMAIL:
            notifications.queue_reply(message)
    return message


def log_contact(
    case_id: int,
    body: str,
    *,
    actor: Actor,
    channel: str,
    direction: str,
    expected_version: int | None = None,
    at: datetime | None = None,
    now: datetime | None = None,
) -> Message:
    """An agent's note of a phone call or chat: what the customer said (``in``) counts as a
    customer message, what the agent told them (``out``) as a response. ``at`` may be in the
    past (a call logged afterwards); the clocks are recomputed from the log either way."""
    now = now or timezone.now()
    at = at or now
    if channel not in {CaseChannel.PHONE, CaseChannel.CHAT}:
        raise CaseError(
            CaseErrorCode.INVALID,
            _("Log phone calls or chats only."),
            fields={"channel": _("phone or chat")},
        )
    if direction not in {MessageDirection.INBOUND, MessageDirection.OUTBOUND}:
        raise CaseError(
            CaseErrorCode.INVALID,
            _("Direction is in or out."),
            fields={"direction": _("in or out")},
        )
    if not body.strip():
        raise CaseError(
            CaseErrorCode.INVALID, _("Write what was said."), fields={"body": _("Required.")}
        )
    if at > now:
        raise CaseError(
            CaseErrorCode.INVALID,
            _("A contact cannot be in the future."),
            fields={"at": _("In the future.")},
        )
    with transaction.atomic():
        case = _lock(case_id, actor, expected_version)
        if at < case.opened_at:
            raise CaseError(
                CaseErrorCode.INVALID,
                _("A contact cannot be before the case was opened."),
                fields={"at": _("Before the case was opened.")},
            )
        kind = (
            CaseEventKind.CUSTOMER_MESSAGE
            if direction == MessageDirection.INBOUND
            else CaseEventKind.REPLY
        )
        event = record_event(
            case, kind, actor=actor, at=at, channel=channel, data={"logged_by": actor.label}
        )
        message = Message.objects.create(
            case=case,
            event=event,
            direction=direction,
            channel=channel,
            author_user=actor.user,
            author_name=actor.label
            if direction == MessageDirection.OUTBOUND
            else (case.contact_name or _("Customer")),
            body=body,
            created_at=at,
        )
        changed: set[str] = set()
        if kind == CaseEventKind.REPLY and (
            case.first_response_at is None or at < case.first_response_at
        ):
            case.first_response_at = at
            changed.add("first_response_at")
        _save(case, now, changed)
    return message


def add_note(
    case_id: int,
    body: str,
    *,
    actor: Actor,
    expected_version: int | None = None,
    now: datetime | None = None,
) -> Message:
    """An internal note: visible to staff only, does not count as a response."""
    now = now or timezone.now()
    if not body.strip():
        raise CaseError(CaseErrorCode.INVALID, _("Write a note."), fields={"body": _("Required.")})
    with transaction.atomic():
        case = _lock(case_id, actor, expected_version)
        event = record_event(case, CaseEventKind.NOTE, actor=actor, at=now)
        message = Message.objects.create(
            case=case,
            event=event,
            direction=MessageDirection.INTERNAL,
            channel=case.channel,
            author_user=actor.user,
            author_name=actor.label,
            body=body,
            created_at=now,
        )
        _save(case, now, ())
    return message


def record_customer_message(
    case_id: int,
    body: str,
    *,
    channel: str,
    subject: str = "",
    email_message_id: str | None = None,
    attachments: Sequence[notifications.IncomingFile] = (),
    now: datetime | None = None,
) -> Message:
    """A message from the customer (web page, e-mail reply, API) on their case.

    It starts the next-response clock; a case waiting on the customer resumes, and a resolved
    case reopens. A closed case is not reopened: a follow-up case is opened and linked.
    An e-mail already recorded (same Message-ID) is not recorded twice.
    """
    now = now or timezone.now()
    if email_message_id:
        existing = Message.objects.filter(email_message_id=email_message_id).first()
        if existing is not None:
            return existing
    customer = Actor.customer()
    with transaction.atomic():
        case = _lock(case_id, customer, None)
        if case.status == CaseStatus.CLOSED:
            follow_up = open_case(
                NewCase(
                    kind=case.kind
                    if case.kind in {CaseKind.COMPLAINT, CaseKind.QUESTION}
                    else CaseKind.QUESTION,
                    channel=channel,
                    subject=subject or case.subject,
                    description=body,
                    customer_id=case.customer_id,
                    order_id=case.order_id,
                    contact_name=case.contact_name,
                    contact_email=case.contact_email,
                    team=case.team_id,
                    language=case.language,
                    follow_up_of=case.case_id,
                    attachments=attachments,
                    email_message_id=email_message_id,
                ),
                actor=customer,
                now=now,
            )
            return follow_up.messages.order_by("-id").first() or Message(case=follow_up, body=body)
        event = record_event(
            case, CaseEventKind.CUSTOMER_MESSAGE, actor=customer, at=now, channel=channel
        )
        message = Message.objects.create(
            case=case,
            event=event,
            direction=MessageDirection.INBOUND,
            channel=channel,
            author_name=case.contact_name or _("Customer"),
            subject=subject,
            body=body,
            created_at=now,
            email_message_id=email_message_id,
        )
        notifications.store_attachments(message, attachments)
        changed: set[str] = set()
        automatic = None
        if case.status == CaseStatus.WAITING_ON_CUSTOMER:
            automatic = ("resume", case.resume_status or CaseStatus.TRIAGED)
            case.resume_status = ""
            changed.add("resume_status")
        elif case.status == CaseStatus.RESOLVED:
            automatic = ("reopen", CaseStatus.TRIAGED)
            case.resolved_at = None
            changed.add("resolved_at")
        if automatic is not None:
            name, target = automatic
            record_event(
                case,
                CaseEventKind.TRANSITION,
                actor=Actor.system(),
                at=now,
                from_status=case.status,
                to_status=target,
                note=_("The customer wrote."),
                data={"transition": name},
            )
            case.status = target
            changed.add("status")
        _save(case, now, changed)
    return message


def render_macro(macro: Macro, case: Case, agent: Any) -> str:
    """Fill a macro's variables: {customer_name}, {case_number}, {order_id}, {refund_amount},
    {currency}, {agent_name}, {status}. Unknown variables stay as written."""

    class _Keep(dict[str, str]):
        def __missing__(self, key: str) -> str:
            return "{" + key + "}"

    values = _Keep(
        customer_name=case.contact_name or _("customer"),
        case_number=case.number,
        order_id=case.order_id or "",
        refund_amount=str(case.refund_amount or ""),
        currency=case.currency,
        agent_name=(agent.get_full_name() or agent.get_username()) if agent else "",
        status=str(CaseStatus(case.status).label),
        subject=case.subject,
    )
    return macro.body.format_map(values)


def apply_macro(
    case_id: int,
    macro_id: int,
    *,
    actor: Actor,
    expected_version: int | None = None,
    now: datetime | None = None,
) -> Case:
    """Send the macro's reply, then run its transition if it has one (both or neither)."""
    now = now or timezone.now()
    with transaction.atomic():
        macro = Macro.objects.filter(pk=macro_id, active=True).first()
        if macro is None:
            raise CaseError(CaseErrorCode.NOT_FOUND, _("No such macro."))
        case = _lock(case_id, actor, expected_version)
        if macro.team_id and macro.team_id != case.team_id:
            raise CaseError(CaseErrorCode.INVALID, _("This macro belongs to another team."))
        message = reply_to_case(
            case_id, render_macro(macro, case, actor.user), actor=actor, now=now
        )
        if macro.transition:
            transition_case(case_id, macro.transition, actor=actor, note=macro.name, now=now)
        return Case.objects.get(pk=message.case_id)


@dataclass(frozen=True)
class BulkResult:
    case_id: int
    ok: bool
    message: str = ""


def bulk_transition(
    case_ids: Sequence[int], name: str, *, actor: Actor, note: str = ""
) -> list[BulkResult]:
    """Apply one transition to many cases; each case succeeds or fails on its own."""
    results = []
    for case_id in case_ids:
        try:
            transition_case(case_id, name, actor=actor, note=note)
            results.append(BulkResult(case_id, True))
        except CaseError as exc:
            results.append(BulkResult(case_id, False, exc.message))
    return results


def bulk_assign(
    case_ids: Sequence[int],
    *,
    actor: Actor,
    assignee_id: int | None = None,
    team: str | None = None,
) -> list[BulkResult]:
    results = []
    for case_id in case_ids:
        try:
            assign_case(case_id, actor=actor, assignee_id=assignee_id, team=team)
            results.append(BulkResult(case_id, True))
        except CaseError as exc:
            results.append(BulkResult(case_id, False, exc.message))
    return results


def record_order_event(
    order_id: str, event: str, *, at: datetime, data: dict[str, Any] | None = None
) -> list[int]:
    """An order event from the shop (``delivered`` or ``refunded``): updates the order and notes
    it on every open case of the order. Returns the ids of those cases. Idempotent: a repeat of
    the same event at the same instant changes nothing."""
    if event not in {"delivered", "refunded"}:
        raise CaseError(
            CaseErrorCode.INVALID,
            _("Unknown order event."),
            fields={"event": _("delivered or refunded")},
        )
    system = Actor.system()
    touched: list[int] = []
    with transaction.atomic():
        order = Order.objects.select_for_update().filter(order_id=order_id).first()
        if order is None:
            raise CaseError(CaseErrorCode.NOT_FOUND, _("No order %(id)s.") % {"id": order_id})
        if event == "delivered" and order.delivered_at != at:
            order.delivered_at = at
            order.status = "delivered"
            order.save(update_fields=["delivered_at", "status"])
        open_cases = (
            Case.objects.select_for_update()
            .filter(order=order, status__in=OPEN_STATUSES)
            .order_by("case_id")
        )
        for case in open_cases:
            key = f"{event}@{at.astimezone(UTC).isoformat()}"
            if case.events.filter(kind=CaseEventKind.ORDER_EVENT, data__key=key).exists():
                continue
            record_event(
                case,
                CaseEventKind.ORDER_EVENT,
                actor=system,
                at=at,
                note=event,
                data={"key": key, "event": event, "payload": data or {}},
            )
            _save(case, timezone.now(), ())
            touched.append(case.case_id)
    return touched
