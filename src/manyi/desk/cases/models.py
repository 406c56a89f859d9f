"""After-sales cases, their timeline, and the configuration that governs them.

The ``cases`` and ``case_events`` tables carry the canonical columns that ``manyi.insight``
reads (``manyi.data.schema``); everything else here is the desk's own working state.

A case's status only changes through ``services.transition_case``, which checks the transition
table in ``states.py``, bumps ``version`` (optimistic locking) and writes a ``CaseEvent``. The
SLA columns (``*_due_at``, ``sla_state``) are a cache of ``sla.compute_clocks`` over the event
log, refreshed in the same transaction, kept only so queues can filter and sort in SQL.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from manyi.desk.accounts.models import Team
from manyi.desk.commerce.models import Customer, Order, OrderItem


class CaseKind(models.TextChoices):
    RETURN_REFUND = "return_refund", _("Return and refund")
    REFUND_ONLY = "refund_only", _("Refund only")
    EXCHANGE = "exchange", _("Exchange")
    REPAIR = "repair", _("Repair")
    COMPLAINT = "complaint", _("Complaint")
    QUESTION = "question", _("Question")


class CaseReason(models.TextChoices):
    DAMAGED = "damaged", _("Damaged in transit")
    NOT_AS_DESCRIBED = "not_as_described", _("Not as described")
    WRONG_ITEM = "wrong_item", _("Wrong item")
    QUALITY = "quality", _("Quality fault")
    LATE_DELIVERY = "late_delivery", _("Late delivery")
    CHANGED_MIND = "changed_mind", _("Changed mind (no-reason return)")
    OTHER = "other", _("Other")


class CaseChannel(models.TextChoices):
    WEB = "web", _("Web form")
    EMAIL = "email", _("E-mail")
    PHONE = "phone", _("Phone")
    CHAT = "chat", _("Chat")
    API = "api", _("API")
    REVIEW = "review", _("Review follow-up")
    SURVEY = "survey", _("Survey follow-up")


class CasePriority(models.TextChoices):
    LOW = "low", _("Low")
    NORMAL = "normal", _("Normal")
    HIGH = "high", _("High")
    URGENT = "urgent", _("Urgent")


class CaseStatus(models.TextChoices):
    NEW = "new", _("New")
    TRIAGED = "triaged", _("Triaged")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    AWAITING_RETURN = "awaiting_return", _("Awaiting return")
    REPAIR_DISPATCHED = "repair_dispatched", _("Repair dispatched")
    REPLACEMENT_SHIPPED = "replacement_shipped", _("Replacement shipped")
    RECEIVED = "received", _("Received and inspected")
    REFUNDED = "refunded", _("Refunded")
    REPLACED = "replaced", _("Replaced")
    REPAIRED = "repaired", _("Repaired")
    WAITING_ON_CUSTOMER = "waiting_on_customer", _("Waiting on customer")
    RESOLVED = "resolved", _("Resolved")
    CLOSED = "closed", _("Closed")


class SlaState(models.TextChoices):
    """The worst state of a case's clocks (``sla.ClockState``), cached for the queues."""

    NOT_APPLICABLE = "not_applicable", _("No SLA")
    RUNNING = "running", _("On track")
    PAUSED = "paused", _("Paused")
    AT_RISK = "at_risk", _("At risk")
    MET = "met", _("Met")
    BREACHED = "breached", _("Breached")


class Decision(models.TextChoices):
    APPROVED = "approved", _("Approved")
    AUTO_APPROVED = "auto_approved", _("Approved automatically")
    REJECTED = "rejected", _("Rejected")


class BusinessCalendar(models.Model):
    """Working hours, holidays and make-up working days (调休) in one time zone.

    ``config`` is what ``sla.BusinessCalendar.from_config`` reads, for example
    ``{"tz": "Asia/Shanghai", "weekly": {"mon": [["09:00", "12:00"], ["13:30", "18:00"]]},
    "holidays": ["2026-10-01"], "makeup_days": {"2026-09-27": [["09:00", "18:00"]]}}``.
    """

    name = models.CharField(_("name"), max_length=64, unique=True)
    config = models.JSONField(_("hours, holidays and make-up days"))

    class Meta:
        db_table = "business_calendars"
        verbose_name = _("business calendar")
        verbose_name_plural = _("business calendars")

    def __str__(self) -> str:
        return self.name


class SlaPolicy(models.Model):
    """Targets for the cases it matches; blank kind/priority/channel match any.

    The most specific active policy wins (more fields set), then the lowest ``rank``.
    Targets are minutes of working time on ``calendar``.
    """

    name = models.CharField(_("name"), max_length=64, unique=True)
    kind = models.CharField(_("kind"), max_length=16, choices=CaseKind.choices, blank=True)
    priority = models.CharField(
        _("priority"), max_length=8, choices=CasePriority.choices, blank=True
    )
    channel = models.CharField(_("channel"), max_length=8, choices=CaseChannel.choices, blank=True)
    calendar = models.ForeignKey(
        BusinessCalendar, on_delete=models.PROTECT, verbose_name=_("business calendar")
    )
    first_response_minutes = models.PositiveIntegerField(
        _("first response (minutes)"), null=True, blank=True
    )
    next_response_minutes = models.PositiveIntegerField(
        _("next response (minutes)"), null=True, blank=True
    )
    resolution_minutes = models.PositiveIntegerField(
        _("resolution (minutes)"), null=True, blank=True
    )
    at_risk_ratio = models.FloatField(
        _("at risk from"),
        default=0.8,
        help_text=_("Share of the target elapsed from which a running clock is at risk"),
    )
    rank = models.PositiveSmallIntegerField(_("rank"), default=100)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        db_table = "sla_policies"
        verbose_name = _("SLA policy")
        verbose_name_plural = _("SLA policies")
        ordering = ["rank", "name"]

    def __str__(self) -> str:
        return self.name


class ReturnPolicy(models.Model):
    """The return window (7 days, no reason needed, counted from delivery by default)."""

    class WindowStart(models.TextChoices):
        DELIVERY = "delivery", _("Delivery")
        PURCHASE = "purchase", _("Purchase")

    name = models.CharField(_("name"), max_length=64, unique=True)
    window_days = models.PositiveSmallIntegerField(_("window (days)"), default=7)
    window_start = models.CharField(
        _("counted from"), max_length=8, choices=WindowStart.choices, default=WindowStart.DELIVERY
    )
    no_reason = models.BooleanField(
        _("no reason needed"), default=True, help_text=_("Changed mind is accepted in the window")
    )
    excluded_categories = models.JSONField(
        _("excluded categories"),
        default=list,
        blank=True,
        help_text=_("Product categories without no-reason returns (for example fresh food)"),
    )
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        db_table = "return_policies"
        verbose_name = _("return policy")
        verbose_name_plural = _("return policies")

    def __str__(self) -> str:
        return self.name


class ApprovalLimit(models.Model):
    """The largest refund a role may approve; no row for a role means it may not approve."""

    role = models.CharField(_("role"), max_length=16, unique=True)
    max_amount = models.DecimalField(
        _("largest amount"),
        max_digits=14,
        decimal_places=2,
        null=True,
        blank=True,
        help_text=_("Empty means no limit"),
    )

    class Meta:
        db_table = "approval_limits"
        verbose_name = _("approval limit")
        verbose_name_plural = _("approval limits")

    def __str__(self) -> str:
        return f"{self.role} ≤ {self.max_amount if self.max_amount is not None else '∞'}"


class AutoApprovalRule(models.Model):
    """Approve a new case without an agent when it matches (lowest rank first)."""

    name = models.CharField(_("name"), max_length=64, unique=True)
    kinds = models.JSONField(_("kinds"), default=list, help_text=_("Empty matches any kind"))
    reasons = models.JSONField(_("reasons"), default=list, help_text=_("Empty matches any reason"))
    max_amount = models.DecimalField(
        _("largest amount"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    within_return_window = models.BooleanField(_("only within the return window"), default=True)
    rank = models.PositiveSmallIntegerField(_("rank"), default=100)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        db_table = "auto_approval_rules"
        verbose_name = _("auto-approval rule")
        verbose_name_plural = _("auto-approval rules")
        ordering = ["rank", "name"]

    def __str__(self) -> str:
        return self.name


class Case(models.Model):
    case_id = models.BigAutoField(_("case"), primary_key=True)
    kind = models.CharField(_("kind"), max_length=16, choices=CaseKind.choices)
    reason = models.CharField(
        _("reason"), max_length=20, choices=CaseReason.choices, null=True, blank=True
    )
    channel = models.CharField(_("channel"), max_length=8, choices=CaseChannel.choices)
    priority = models.CharField(
        _("priority"), max_length=8, choices=CasePriority.choices, default=CasePriority.NORMAL
    )
    status = models.CharField(
        _("status"), max_length=20, choices=CaseStatus.choices, default=CaseStatus.NEW
    )
    #: The status to go back to when the customer answers (set while waiting on the customer).
    resume_status = models.CharField(
        _("resume to"), max_length=20, choices=CaseStatus.choices, blank=True
    )
    subject = models.CharField(_("subject"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    language = models.CharField(_("language"), max_length=8, default="zh-hans")

    customer = models.ForeignKey(
        Customer,
        on_delete=models.PROTECT,
        db_column="customer_id",
        null=True,
        blank=True,
        related_name="cases",
        verbose_name=_("customer"),
    )
    order = models.ForeignKey(
        Order,
        on_delete=models.PROTECT,
        db_column="order_id",
        null=True,
        blank=True,
        related_name="cases",
        verbose_name=_("order"),
    )
    items = models.ManyToManyField(
        OrderItem, through="CaseItem", blank=True, related_name="cases", verbose_name=_("items")
    )
    contact_name = models.CharField(_("contact name"), max_length=128, blank=True)
    contact_email = models.EmailField(_("contact e-mail"), blank=True)
    contact_phone = models.CharField(_("contact phone"), max_length=32, blank=True)

    team = models.ForeignKey(
        Team,
        on_delete=models.PROTECT,
        db_column="team",
        null=True,
        blank=True,
        related_name="cases",
        verbose_name=_("team"),
    )
    #: The desk's link to the agent (``assignee_user_id``); change it only through
    #: ``services.open_case`` / ``assign_case``, which keep ``assignee_username`` in step.
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        db_column="assignee_user_id",
        null=True,
        blank=True,
        related_name="assigned_cases",
        verbose_name=_("assignee"),
    )
    #: The canonical ``cases.assignee``: the agent's username, the identifier that
    #: ``survey_responses.agent_id`` and ``case_events.actor`` carry, so that service KPIs and
    #: survey results by agent join (``manyi.insight`` reads this column, not the id).
    assignee_username = models.CharField(
        _("assignee (username)"),
        max_length=150,
        db_column="assignee",
        null=True,
        blank=True,
        editable=False,
    )

    refund_amount = models.DecimalField(
        _("refund amount"),
        max_digits=14,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0"))],
    )
    currency = models.CharField(_("currency"), max_length=3, default="CNY")
    decision = models.CharField(_("decision"), max_length=16, choices=Decision.choices, blank=True)
    decision_reason = models.TextField(_("reason for the decision"), blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    diagnosis = models.TextField(_("diagnosis"), blank=True)
    return_tracking = models.CharField(_("return tracking number"), max_length=64, blank=True)
    replacement_tracking = models.CharField(
        _("replacement tracking number"), max_length=64, blank=True
    )
    inspection_note = models.TextField(_("inspection"), blank=True)

    opened_at = models.DateTimeField(_("opened"))
    first_response_at = models.DateTimeField(_("first response"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated"))

    sla_policy = models.ForeignKey(
        SlaPolicy,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("SLA policy"),
    )
    first_response_due_at = models.DateTimeField(_("first response due"), null=True, blank=True)
    next_response_due_at = models.DateTimeField(_("next response due"), null=True, blank=True)
    resolution_due_at = models.DateTimeField(_("resolution due"), null=True, blank=True)
    sla_state = models.CharField(
        _("SLA"), max_length=16, choices=SlaState.choices, default=SlaState.NOT_APPLICABLE
    )
    #: The earliest instant at which a running clock breaches (or turns at risk): the SLA
    #: worker only looks at cases whose ``sla_check_at`` has passed.
    sla_check_at = models.DateTimeField(_("next SLA check"), null=True, blank=True)

    follow_up_of = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="follow_ups",
        verbose_name=_("follow-up of"),
    )

    #: Optimistic lock: every change bumps it; a write that read an older version loses.
    version = models.PositiveIntegerField(_("version"), default=1)

    class Meta:
        db_table = "cases"
        verbose_name = _("case")
        verbose_name_plural = _("cases")
        indexes = [
            models.Index(fields=["status", "opened_at"], name="cases_status_opened"),
            models.Index(fields=["team", "status"], name="cases_team_status"),
            models.Index(fields=["assignee", "status"], name="cases_assignee_status"),
            models.Index(fields=["sla_state", "sla_check_at"], name="cases_sla"),
            models.Index(fields=["opened_at"], name="cases_opened_at"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(refund_amount__isnull=True) | models.Q(refund_amount__gte=0),
                name="cases_refund_not_negative",
            ),
            # The username goes with the link: both set or both empty.
            models.CheckConstraint(
                condition=models.Q(assignee__isnull=True, assignee_username__isnull=True)
                | models.Q(assignee__isnull=False, assignee_username__isnull=False),
                name="cases_assignee_username_with_user",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.case_id} {self.subject}"

    @property
    def number(self) -> str:
        """The case number customers see and quote in e-mail subjects."""
        return f"#{self.case_id}"


class CaseItem(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="case_items")
    order_item = models.ForeignKey(OrderItem, on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveSmallIntegerField(_("quantity"), default=1)

    class Meta:
        db_table = "case_items"
        constraints = [
            models.UniqueConstraint(fields=["case", "order_item"], name="case_items_key"),
        ]

    def __str__(self) -> str:
        return f"#{self.case_id}: {self.order_item} × {self.quantity}"


class CaseEventKind(models.TextChoices):
    OPENED = "opened", _("Opened")
    TRANSITION = "transition", _("Status changed")
    ASSIGNED = "assigned", _("Assigned")
    UPDATED = "updated", _("Details changed")
    REPLY = "reply", _("Reply to the customer")
    NOTE = "note", _("Internal note")
    CUSTOMER_MESSAGE = "customer_message", _("Message from the customer")
    DECISION = "decision", _("Decision")
    SLA_WARNING = "sla_warning", _("SLA warning")
    SLA_BREACH = "sla_breach", _("SLA breached")
    ORDER_EVENT = "order_event", _("Order event")
    DELIVERY_FAILED = "delivery_failed", _("E-mail delivery failed")


class CaseEvent(models.Model):
    """One entry of a case's audit log and timeline; ``seq`` counts from 1 per case.

    Never updated: a correction is a new event, except that an administrator may fix a wrong
    ``at`` (a back-dated phone call), after which the SLA clocks are recomputed from the log.
    """

    case = models.ForeignKey(
        Case, on_delete=models.CASCADE, db_column="case_id", related_name="events", db_index=False
    )
    seq = models.PositiveIntegerField(_("sequence"))
    at = models.DateTimeField(_("at"))
    kind = models.CharField(_("kind"), max_length=20, choices=CaseEventKind.choices)
    from_status = models.CharField(_("from"), max_length=20, blank=True, null=True)
    to_status = models.CharField(_("to"), max_length=20, blank=True, null=True)
    #: A username, ``customer`` or ``system``: the canonical, analysable actor.
    actor = models.CharField(_("actor"), max_length=150)
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("user"),
    )
    channel = models.CharField(_("channel"), max_length=8, blank=True)
    note = models.TextField(_("note"), blank=True)
    data = models.JSONField(_("details"), default=dict, blank=True)

    class Meta:
        db_table = "case_events"
        verbose_name = _("case event")
        verbose_name_plural = _("case events")
        ordering = ["case", "seq"]
        constraints = [models.UniqueConstraint(fields=["case", "seq"], name="case_events_key")]
        indexes = [models.Index(fields=["at"], name="case_events_at")]

    def __str__(self) -> str:
        return f"#{self.case_id}/{self.seq} {self.kind}"


class MessageDirection(models.TextChoices):
    INBOUND = "in", _("From the customer")
    OUTBOUND = "out", _("To the customer")
    INTERNAL = "internal", _("Internal note")


class Message(models.Model):
    """What was said on a case, on any channel; one timeline per customer across channels."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="messages")
    event = models.OneToOneField(
        CaseEvent, on_delete=models.CASCADE, related_name="message", null=True, blank=True
    )
    direction = models.CharField(_("direction"), max_length=8, choices=MessageDirection.choices)
    channel = models.CharField(_("channel"), max_length=8, choices=CaseChannel.choices)
    author_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("author"),
    )
    author_name = models.CharField(_("author"), max_length=128, blank=True)
    subject = models.CharField(_("subject"), max_length=255, blank=True)
    body = models.TextField(_("text"))
    created_at = models.DateTimeField(_("at"))
    #: The e-mail Message-ID of this message (ours when sent, theirs when received), so that
    #: replies can be threaded by ``In-Reply-To`` / ``References``.
    email_message_id = models.CharField(
        _("e-mail message id"), max_length=255, null=True, blank=True, unique=True
    )

    class Meta:
        db_table = "case_messages"
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["case", "created_at"], name="case_messages_case")]

    def __str__(self) -> str:
        return f"#{self.case_id} {self.direction} {self.created_at:%Y-%m-%d %H:%M}"


class Attachment(models.Model):
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(_("file"), upload_to="attachments/%Y/%m/")
    filename = models.CharField(_("file name"), max_length=255)
    content_type = models.CharField(_("type"), max_length=128)
    size = models.PositiveIntegerField(_("size"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)

    class Meta:
        db_table = "case_attachments"
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")

    def __str__(self) -> str:
        return self.filename


class Macro(models.Model):
    """A canned reply with variables (``{customer_name}``, ``{case_number}``, ...) and an
    optional transition to apply with it."""

    name = models.CharField(_("name"), max_length=64)
    language = models.CharField(_("language"), max_length=8, default="zh-hans")
    body = models.TextField(_("text"))
    transition = models.CharField(_("then"), max_length=32, blank=True)
    team = models.ForeignKey(
        Team,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="macros",
        verbose_name=_("team"),
        help_text=_("Empty: every team may use it"),
    )
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        db_table = "macros"
        verbose_name = _("macro")
        verbose_name_plural = _("macros")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["name", "language"], name="macros_name_language")
        ]

    def __str__(self) -> str:
        return self.name
