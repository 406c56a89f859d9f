"""Survey instruments as versioned data, the rules that invite customers, and their answers.

* An :class:`Instrument` (``csat``, ``nps``, ``ces_effort_5``, ``ces_agree_7``, ``dsr``,
  ``servqual`` or a shop's own code) has numbered :class:`InstrumentVersion` rows holding its
  :class:`Question` rows in Chinese and English. A version is edited while it is a draft; once
  published it never changes again (``services.publish_version`` retires the one it replaces),
  and every response points at the version that was answered.
* A :class:`SurveyRule` says when to invite (a case resolved, an order delivered), after what
  delay and with which instruments on one page. Each trigger gives at most one
  :class:`Invitation` per rule: ``(rule, trigger_key)`` is unique.
* ``survey_responses`` and ``survey_answers`` are the canonical tables ``manyi.insight`` reads
  (``manyi.insight.survey_tables``): one response per invitation and instrument, one numeric
  answer per item. Answers that are not numbers (a reason picked from a list, a comment) live in
  ``survey_text_answers``.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from manyi.desk.cases.models import Case
from manyi.desk.commerce.models import Customer, Order, OrderItem

LANGUAGE_CHOICES = [("zh-hans", "简体中文"), ("en", "English")]


class InstrumentKind(models.TextChoices):
    CSAT = "csat", _("CSAT (1–5)")
    NPS = "nps", _("NPS (0–10)")
    CES = "ces", _("Customer effort (CES)")
    DSR = "dsr", _("Shop rating (DSR)")
    SERVQUAL = "servqual", _("SERVQUAL")
    CUSTOM = "custom", _("Custom questions")


class Instrument(models.Model):
    """What is asked; ``code`` is the canonical ``survey_responses.instrument``."""

    code = models.SlugField(_("code"), max_length=32, primary_key=True)
    kind = models.CharField(_("kind"), max_length=16, choices=InstrumentKind.choices)
    name_zh = models.CharField(_("name (Chinese)"), max_length=128)
    name_en = models.CharField(_("name (English)"), max_length=128)

    class Meta:
        db_table = "survey_instruments"
        verbose_name = _("survey instrument")
        verbose_name_plural = _("survey instruments")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.code


class VersionStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("Published")
    RETIRED = "retired", _("Retired")


class ImmutableVersionError(ValidationError):
    """A published or retired version (or one of its questions) was about to change."""


class InstrumentVersion(models.Model):
    """One numbered wording of an instrument; only a draft may change.

    ``sections`` names the groups questions are shown in, for example
    ``{"perceptions": {"zh": "本店的实际表现", "en": "What this shop does"}}``, and ``intro``
    the text above the questions (``{"zh": ..., "en": ...}``).
    """

    instrument = models.ForeignKey(
        Instrument, on_delete=models.PROTECT, related_name="versions", verbose_name=_("instrument")
    )
    number = models.PositiveIntegerField(_("version"))
    status = models.CharField(
        _("status"), max_length=16, choices=VersionStatus.choices, default=VersionStatus.DRAFT
    )
    intro = models.JSONField(_("introduction"), default=dict, blank=True)
    sections = models.JSONField(_("sections"), default=dict, blank=True)
    note = models.TextField(_("what changed"), blank=True)
    created_at = models.DateTimeField(_("created"))
    published_at = models.DateTimeField(_("published"), null=True, blank=True)

    class Meta:
        db_table = "survey_instrument_versions"
        verbose_name = _("instrument version")
        verbose_name_plural = _("instrument versions")
        ordering = ["instrument", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["instrument", "number"], name="survey_versions_key"),
            models.UniqueConstraint(
                fields=["instrument"],
                condition=models.Q(status="published"),
                name="survey_versions_one_current",
            ),
            models.UniqueConstraint(
                fields=["instrument"],
                condition=models.Q(status="draft"),
                name="survey_versions_one_draft",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.instrument_id} v{self.number}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        # A published version is what its responses answered: the one change it may still see
        # is being retired by publish_version (``save(update_fields=["status"])``).
        if self.pk is not None:
            stored = (
                InstrumentVersion.objects.filter(pk=self.pk)
                .values_list("status", flat=True)
                .first()
            )
            if stored is not None and stored != VersionStatus.DRAFT:
                fields = kwargs.get("update_fields")
                retiring = (
                    fields is not None
                    and set(fields) <= {"status"}
                    and self.status == VersionStatus.RETIRED
                )
                if not retiring:
                    raise ImmutableVersionError(
                        _("%(version)s is published: make a new version to change it.")
                        % {"version": self}
                    )
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        if self.status != VersionStatus.DRAFT:
            raise ImmutableVersionError(_("Only a draft version may be deleted."))
        return super().delete(*args, **kwargs)


class QuestionKind(models.TextChoices):
    SCALE = "scale", _("Scale (one of the points from lowest to highest)")
    CHOICE = "choice", _("One of a list")
    TEXT = "text", _("Free text")
    POINTS = "points", _("Points out of 100 (shared within the section)")


#: Kinds whose answers are numbers (``survey_answers``); the others are text.
NUMERIC_KINDS = frozenset({QuestionKind.SCALE, QuestionKind.POINTS})


class Question(models.Model):
    """One question of a version; ``item`` is the canonical ``survey_answers.item``.

    ``choices`` (for a choice question) is ``[{"code": "speed", "zh": "处理速度", "en": "Speed"}]``.
    """

    version = models.ForeignKey(
        InstrumentVersion, on_delete=models.CASCADE, related_name="questions"
    )
    position = models.PositiveSmallIntegerField(_("position"))
    item = models.CharField(_("item"), max_length=32)
    kind = models.CharField(_("kind"), max_length=8, choices=QuestionKind.choices)
    section = models.CharField(_("section"), max_length=32, blank=True)
    required = models.BooleanField(_("required"), default=True)
    text_zh = models.TextField(_("question (Chinese)"))
    text_en = models.TextField(_("question (English)"))
    help_zh = models.CharField(_("hint (Chinese)"), max_length=255, blank=True)
    help_en = models.CharField(_("hint (English)"), max_length=255, blank=True)
    scale_min = models.SmallIntegerField(_("lowest point"), null=True, blank=True)
    scale_max = models.SmallIntegerField(_("highest point"), null=True, blank=True)
    low_label_zh = models.CharField(_("lowest point means (Chinese)"), max_length=64, blank=True)
    low_label_en = models.CharField(_("lowest point means (English)"), max_length=64, blank=True)
    high_label_zh = models.CharField(_("highest point means (Chinese)"), max_length=64, blank=True)
    high_label_en = models.CharField(_("highest point means (English)"), max_length=64, blank=True)
    choices = models.JSONField(_("choices"), default=list, blank=True)

    class Meta:
        db_table = "survey_questions"
        verbose_name = _("question")
        verbose_name_plural = _("questions")
        ordering = ["version", "position"]
        constraints = [
            models.UniqueConstraint(fields=["version", "item"], name="survey_questions_item"),
            models.UniqueConstraint(
                fields=["version", "position"], name="survey_questions_position"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.version} {self.item}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        self._check_draft()
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        self._check_draft()
        return super().delete(*args, **kwargs)

    def _check_draft(self) -> None:
        status = InstrumentVersion.objects.filter(pk=self.version_id).values_list(
            "status", flat=True
        )
        if status.first() not in (None, VersionStatus.DRAFT):
            raise ImmutableVersionError(
                _("%(version)s is published: make a new version to change it.")
                % {"version": self.version}
            )


class Trigger(models.TextChoices):
    CASE_RESOLVED = "case_resolved", _("A case is resolved")
    ORDER_DELIVERED = "order_delivered", _("An order is delivered")


class SurveyRule(models.Model):
    """When to invite whom to which instruments (shown together on one page)."""

    code = models.SlugField(_("code"), max_length=32, primary_key=True)
    name = models.CharField(_("name"), max_length=128)
    trigger = models.CharField(_("trigger"), max_length=16, choices=Trigger.choices)
    instruments = models.ManyToManyField(
        Instrument, through="RuleInstrument", related_name="rules", verbose_name=_("instruments")
    )
    delay_hours = models.PositiveIntegerField(
        _("delay (hours)"), default=24, help_text=_("Time between the event and the invitation")
    )
    grace_days = models.PositiveSmallIntegerField(
        _("late events (days)"),
        default=7,
        help_text=_(
            "Events recorded up to this many days after they happened (an import of yesterday's "
            "deliveries) are still picked up"
        ),
    )
    checkpoint_at = models.DateTimeField(
        _("scanned up to"),
        help_text=_("Events after this instant are looked at; move it back to invite for older"),
    )
    default_language = models.CharField(
        _("default language"),
        max_length=8,
        choices=LANGUAGE_CHOICES,
        default="zh-hans",
        help_text=_("For customers whose language is not known"),
    )
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        db_table = "survey_rules"
        verbose_name = _("survey rule")
        verbose_name_plural = _("survey rules")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class RuleInstrument(models.Model):
    rule = models.ForeignKey(SurveyRule, on_delete=models.CASCADE, related_name="rule_instruments")
    instrument = models.ForeignKey(Instrument, on_delete=models.PROTECT, related_name="+")
    position = models.PositiveSmallIntegerField(_("position"), default=1)

    class Meta:
        db_table = "survey_rule_instruments"
        verbose_name = _("instrument of a rule")
        verbose_name_plural = _("instruments of the rule")
        ordering = ["rule", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["rule", "instrument"], name="survey_rule_instruments_key"
            )
        ]

    def __str__(self) -> str:
        return f"{self.rule_id}: {self.instrument_id}"


class SurveySettings(models.Model):
    """The desk-wide survey settings: one row (``pk=1``), edited in the admin."""

    fatigue_days = models.PositiveSmallIntegerField(
        _("at most one survey per customer every (days)"), default=30
    )
    link_days = models.PositiveSmallIntegerField(_("links stay open (days)"), default=28)
    reminder_after_days = models.PositiveSmallIntegerField(
        _("remind once after (days)"),
        null=True,
        blank=True,
        default=3,
        help_text=_("Empty: no reminders"),
    )

    class Meta:
        db_table = "survey_settings"
        verbose_name = _("survey settings")
        verbose_name_plural = _("survey settings")
        constraints = [models.CheckConstraint(condition=models.Q(pk=1), name="survey_settings_one")]

    def __str__(self) -> str:
        return str(_("Survey settings"))


class InvitationStatus(models.TextChoices):
    SCHEDULED = "scheduled", _("Scheduled")
    ISSUED = "issued", _("Sent or shown")
    SUPPRESSED = "suppressed", _("Not sent")
    CANCELLED = "cancelled", _("Cancelled")


class SuppressionReason(models.TextChoices):
    FATIGUE = "fatigue", _("Surveyed recently")
    OPTED_OUT = "opted_out", _("Opted out")
    CASE_REOPENED = "case_reopened", _("Case reopened")


class InvitationChannel(models.TextChoices):
    EMAIL = "email", _("E-mail")
    LINK = "link", _("Link only")


class Invitation(models.Model):
    """One invitation to answer a rule's instruments about one case or order.

    Created ``scheduled`` by the trigger scan; at ``send_at`` it is either issued (e-mailed, or
    "link only" when there is no address: staff show or export the link) with the instrument
    versions it asks pinned, or suppressed (fatigue, opt-out) or cancelled (case reopened).
    """

    rule = models.ForeignKey(
        SurveyRule, on_delete=models.PROTECT, related_name="invitations", verbose_name=_("rule")
    )
    trigger_key = models.CharField(_("trigger"), max_length=80)
    customer = models.ForeignKey(
        Customer,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="survey_invitations",
        verbose_name=_("customer"),
    )
    order = models.ForeignKey(
        Order,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="survey_invitations",
        verbose_name=_("order"),
    )
    case = models.ForeignKey(
        Case,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="survey_invitations",
        verbose_name=_("case"),
    )
    #: Lower-cased; empty means "link only".
    email = models.EmailField(_("e-mail"), blank=True)
    language = models.CharField(_("language"), max_length=8, choices=LANGUAGE_CHOICES)
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=InvitationStatus.choices,
        default=InvitationStatus.SCHEDULED,
    )
    reason = models.CharField(
        _("why not sent"), max_length=16, choices=SuppressionReason.choices, blank=True
    )
    channel = models.CharField(
        _("channel"), max_length=8, choices=InvitationChannel.choices, blank=True
    )
    event_at = models.DateTimeField(_("event"))
    created_at = models.DateTimeField(_("created"))
    send_at = models.DateTimeField(_("send at"))
    issued_at = models.DateTimeField(_("sent"), null=True, blank=True)
    expires_at = models.DateTimeField(_("closes"), null=True, blank=True)
    reminded_at = models.DateTimeField(_("reminded"), null=True, blank=True)
    answered_at = models.DateTimeField(_("answered"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed early"), null=True, blank=True)
    email_error = models.TextField(_("e-mail error"), blank=True)
    versions = models.ManyToManyField(
        InstrumentVersion,
        through="InvitationVersion",
        related_name="invitations",
        verbose_name=_("instrument versions"),
    )

    class Meta:
        db_table = "survey_invitations"
        verbose_name = _("survey invitation")
        verbose_name_plural = _("survey invitations")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["rule", "trigger_key"], name="survey_invitations_once"),
        ]
        indexes = [
            models.Index(fields=["status", "send_at"], name="survey_inv_due"),
            models.Index(fields=["customer", "issued_at"], name="survey_inv_customer"),
            models.Index(fields=["email", "issued_at"], name="survey_inv_email"),
            models.Index(fields=["rule", "order"], name="survey_inv_rule_order"),
            models.Index(fields=["rule", "case"], name="survey_inv_rule_case"),
        ]

    def __str__(self) -> str:
        return f"{self.rule_id} {self.trigger_key}"


class InvitationVersion(models.Model):
    """The instrument versions an issued invitation asks, in page order."""

    invitation = models.ForeignKey(
        Invitation, on_delete=models.CASCADE, related_name="invitation_versions"
    )
    version = models.ForeignKey(
        InstrumentVersion, on_delete=models.PROTECT, related_name="invitation_links"
    )
    position = models.PositiveSmallIntegerField(_("position"))

    class Meta:
        db_table = "survey_invitation_versions"
        ordering = ["invitation", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["invitation", "version"], name="survey_invitation_versions_key"
            )
        ]

    def __str__(self) -> str:
        return f"{self.invitation_id}: {self.version}"


def new_response_id() -> str:
    return uuid.uuid4().hex


class SurveyResponse(models.Model):
    """One answered instrument of an invitation (canonical ``survey_responses``).

    ``agent_id`` (the username) and ``team_id`` (the team code) are who handled the case when
    the customer answered, copied then: a later reassignment does not move the answer.
    ``answered_at`` is the first submission, ``updated_at`` the last edit.
    """

    response_id = models.CharField(
        _("response"), max_length=32, primary_key=True, default=new_response_id
    )
    invitation = models.ForeignKey(
        Invitation, on_delete=models.PROTECT, related_name="responses", verbose_name=_("invitation")
    )
    version = models.ForeignKey(
        InstrumentVersion,
        on_delete=models.PROTECT,
        related_name="responses",
        verbose_name=_("version"),
    )
    instrument = models.ForeignKey(
        Instrument,
        on_delete=models.PROTECT,
        db_column="instrument",
        related_name="responses",
        verbose_name=_("instrument"),
    )
    customer = models.ForeignKey(
        Customer,
        on_delete=models.SET_NULL,
        db_column="customer_id",
        null=True,
        blank=True,
        related_name="survey_responses",
        verbose_name=_("customer"),
    )
    order = models.ForeignKey(
        Order,
        on_delete=models.SET_NULL,
        db_column="order_id",
        null=True,
        blank=True,
        related_name="survey_responses",
        verbose_name=_("order"),
    )
    case = models.ForeignKey(
        Case,
        on_delete=models.SET_NULL,
        db_column="case_id",
        null=True,
        blank=True,
        related_name="survey_responses",
        verbose_name=_("case"),
    )
    agent_id = models.CharField(_("agent"), max_length=150, null=True, blank=True)
    team_id = models.CharField(_("team"), max_length=32, null=True, blank=True)
    answered_at = models.DateTimeField(_("answered"))
    updated_at = models.DateTimeField(_("last changed"))
    channel = models.CharField(_("channel"), max_length=8, choices=InvitationChannel.choices)
    language = models.CharField(_("language"), max_length=8, choices=LANGUAGE_CHOICES)
    items = models.ManyToManyField(
        OrderItem,
        through="ResponseItem",
        related_name="survey_responses",
        verbose_name=_("items"),
    )

    class Meta:
        db_table = "survey_responses"
        verbose_name = _("survey response")
        verbose_name_plural = _("survey responses")
        ordering = ["-answered_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["invitation", "instrument"], name="survey_responses_once"
            ),
        ]
        indexes = [
            models.Index(fields=["instrument", "answered_at"], name="survey_resp_instrument"),
            models.Index(fields=["answered_at"], name="survey_resp_answered"),
            models.Index(fields=["agent_id", "answered_at"], name="survey_resp_agent"),
        ]

    def __str__(self) -> str:
        return f"{self.instrument_id} {self.response_id[:8]}"


class SurveyAnswer(models.Model):
    """One numeric answer (canonical ``survey_answers``)."""

    response = models.ForeignKey(
        SurveyResponse,
        on_delete=models.CASCADE,
        db_column="response_id",
        db_index=False,  # survey_answers_key covers it
        related_name="answers",
    )
    item = models.CharField(_("item"), max_length=32)
    value = models.FloatField(_("value"))

    class Meta:
        db_table = "survey_answers"
        verbose_name = _("answer")
        verbose_name_plural = _("answers")
        constraints = [
            models.UniqueConstraint(fields=["response", "item"], name="survey_answers_key")
        ]

    def __str__(self) -> str:
        return f"{self.item}={self.value:g}"


class SurveyTextAnswer(models.Model):
    """An answer that is not a number: a comment, or the code of the choice picked."""

    response = models.ForeignKey(
        SurveyResponse,
        on_delete=models.CASCADE,
        db_column="response_id",
        db_index=False,  # survey_text_answers_key covers it
        related_name="text_answers",
    )
    item = models.CharField(_("item"), max_length=32)
    text = models.TextField(_("text"))

    class Meta:
        db_table = "survey_text_answers"
        verbose_name = _("text answer")
        verbose_name_plural = _("text answers")
        constraints = [
            models.UniqueConstraint(fields=["response", "item"], name="survey_text_answers_key")
        ]

    def __str__(self) -> str:
        return f"{self.item}: {self.text[:40]}"


class ResponseItem(models.Model):
    """The order lines a response is about (the case's items, or the whole order)."""

    response = models.ForeignKey(
        SurveyResponse, on_delete=models.CASCADE, related_name="response_items"
    )
    order_item = models.ForeignKey(OrderItem, on_delete=models.CASCADE, related_name="+")

    class Meta:
        db_table = "survey_response_items"
        constraints = [
            models.UniqueConstraint(
                fields=["response", "order_item"], name="survey_response_items_key"
            )
        ]

    def __str__(self) -> str:
        return f"{self.response_id}: {self.order_item}"


class OptOut(models.Model):
    """A customer or an address that gets no more surveys."""

    email = models.EmailField(_("e-mail"), null=True, blank=True, unique=True)
    customer = models.OneToOneField(
        Customer,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="survey_opt_out",
        verbose_name=_("customer"),
    )
    created_at = models.DateTimeField(_("since"))
    source = models.CharField(_("how"), max_length=16, default="link")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("recorded by"),
    )

    class Meta:
        db_table = "survey_opt_outs"
        verbose_name = _("survey opt-out")
        verbose_name_plural = _("survey opt-outs")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(email__isnull=False) | models.Q(customer__isnull=False),
                name="survey_opt_outs_someone",
            )
        ]

    def __str__(self) -> str:
        return self.email or str(self.customer_id)
