"""Alert rules and their events and deliveries; promotion campaigns and their reviews.

Rules are stored as the monitor library's JSON (:func:`manyi.insight.monitor.rule_to_dict`),
so whatever the library can evaluate the desk can store; the form validates by building the
rule. An :class:`AlertEvent` is one fired evaluation of one rule for one period (unique), and
each of its e-mails and webhooks is an :class:`AlertDelivery` with its attempts.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]


class AlertRule(models.Model):
    """A rule on a metric, who hears about it, and what was last judged and sent."""

    name = models.CharField(_("name"), max_length=128)
    rule = models.JSONField(_("rule"), help_text=_("The monitor rule as JSON"))
    enabled = models.BooleanField(_("enabled"), default=True)
    emails = models.TextField(
        _("e-mail to"), blank=True, help_text=_("Addresses, one per line or comma-separated")
    )
    webhook_url = models.URLField(_("webhook URL"), max_length=500, blank=True)
    webhook_secret = models.CharField(_("webhook secret"), max_length=64, blank=True)
    language = models.CharField(
        _("language of the e-mail"), max_length=8, choices=LANGUAGES, default="zh-hans"
    )
    #: The library's AlertState of the last notification (cooldown).
    state = models.JSONField(_("last notification"), null=True, blank=True)
    last_period = models.CharField(_("last period judged"), max_length=20, blank=True)
    last_status = models.CharField(_("last result"), max_length=20, blank=True)
    last_message_en = models.TextField(blank=True)
    last_message_zh = models.TextField(blank=True)
    last_evaluated_at = models.DateTimeField(_("last evaluated"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created"))
    updated_at = models.DateTimeField(_("updated"))

    class Meta:
        db_table = "alert_rules"
        verbose_name = _("alert rule")
        verbose_name_plural = _("alert rules")
        ordering = ["name", "pk"]

    def __str__(self) -> str:
        return self.name

    @property
    def metric(self) -> str:
        return str(self.rule.get("metric", ""))

    @property
    def kind(self) -> str:
        return str(self.rule.get("type", ""))

    @property
    def freq(self) -> str:
        return str(self.rule.get("freq", "day"))

    def recipients(self) -> list[str]:
        parts = self.emails.replace(";", ",").replace("\n", ",").split(",")
        return [p.strip() for p in parts if p.strip()]

    def last_message(self, lang: str) -> str:
        return self.last_message_zh if lang.startswith("zh") else self.last_message_en


class AlertEvent(models.Model):
    """One period for which a rule fired, recorded once; acknowledged by a person."""

    rule = models.ForeignKey(
        AlertRule, on_delete=models.CASCADE, related_name="events", verbose_name=_("rule")
    )
    period = models.CharField(_("period"), max_length=20)
    fired_at = models.DateTimeField(_("fired"))
    rule_type = models.CharField(_("kind"), max_length=16)
    metric = models.CharField(_("metric"), max_length=32)
    value = models.FloatField(_("value"), null=True, blank=True)
    expected = models.FloatField(_("expected"), null=True, blank=True)
    p_value = models.FloatField(_("p-value"), null=True, blank=True)
    q_value = models.FloatField(_("q-value"), null=True, blank=True)
    score = models.FloatField(_("score"), null=True, blank=True)
    message_en = models.TextField(_("message (English)"))
    message_zh = models.TextField(_("message (Chinese)"))
    evidence = models.JSONField(_("evidence"), default=dict, blank=True)
    #: False when the library's cooldown kept it quiet (recorded, not sent).
    notified = models.BooleanField(_("notified"), default=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("acknowledged by"),
    )
    acknowledged_at = models.DateTimeField(_("acknowledged"), null=True, blank=True)
    note = models.TextField(_("note"), blank=True)

    class Meta:
        db_table = "alert_events"
        verbose_name = _("alert")
        verbose_name_plural = _("alerts")
        ordering = ["-fired_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["rule", "period"], name="alert_events_once"),
        ]
        indexes = [
            models.Index(fields=["fired_at"], name="alert_events_fired"),
            models.Index(fields=["acknowledged_at"], name="alert_events_acked"),
        ]

    def __str__(self) -> str:
        return f"{self.rule_id} {self.period}"

    def message(self, lang: str) -> str:
        return self.message_zh if lang.startswith("zh") else self.message_en


class DeliveryChannel(models.TextChoices):
    EMAIL = "email", _("E-mail")
    WEBHOOK = "webhook", _("Webhook")


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")


class AlertDelivery(models.Model):
    """One e-mail or webhook of an event, retried with backoff until sent or given up."""

    event = models.ForeignKey(
        AlertEvent, on_delete=models.CASCADE, related_name="deliveries", verbose_name=_("alert")
    )
    channel = models.CharField(_("channel"), max_length=8, choices=DeliveryChannel.choices)
    target = models.CharField(_("to"), max_length=500)
    status = models.CharField(
        _("status"), max_length=8, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    #: One entry per attempt: at, ok, status (HTTP), error.
    log = models.JSONField(_("attempts log"), default=list, blank=True)

    class Meta:
        db_table = "alert_deliveries"
        verbose_name = _("alert delivery")
        verbose_name_plural = _("alert deliveries")
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="alert_deliveries_due"),
        ]

    def __str__(self) -> str:
        return f"{self.channel} → {self.target}"


def default_baseline(start: date) -> tuple[date, date]:
    """The four weeks before ``start`` (the library's default baseline)."""
    return start - timedelta(days=28), start - timedelta(days=1)


class Campaign(models.Model):
    """A promotion (Double 11, 618, Black Friday): its shop-local days and its baseline."""

    name = models.CharField(_("name"), max_length=128)
    starts_on = models.DateField(_("first day"))
    ends_on = models.DateField(_("last day"))
    baseline_starts_on = models.DateField(_("baseline from"))
    baseline_ends_on = models.DateField(_("baseline to"))
    #: Open cases the team can hold (the live view projects when it is reached).
    capacity = models.PositiveIntegerField(_("queue capacity"), null=True, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created"))

    class Meta:
        db_table = "campaigns"
        verbose_name = _("campaign")
        verbose_name_plural = _("campaigns")
        ordering = ["-starts_on", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(starts_on__lte=models.F("ends_on")), name="campaigns_days"
            ),
            models.CheckConstraint(
                condition=models.Q(baseline_ends_on__lt=models.F("starts_on"))
                | models.Q(baseline_starts_on__gt=models.F("ends_on")),
                name="campaigns_baseline_apart",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def to_library(self) -> Any:
        """The campaign as :class:`manyi.insight.monitor.Campaign`."""
        from manyi.insight.monitor import Campaign as LibraryCampaign

        return LibraryCampaign(
            self.name,
            self.starts_on,
            self.ends_on,
            self.baseline_starts_on,
            self.baseline_ends_on,
        )


class ReviewStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


def review_path(instance: CampaignReview, filename: str) -> str:
    return f"campaign_reviews/{instance.campaign_id}/{instance.pk or 'new'}/{filename}"


class CampaignReview(models.Model):
    """A post-campaign review (复盘) produced by the library, kept as JSON and HTML files."""

    campaign = models.ForeignKey(
        Campaign, on_delete=models.CASCADE, related_name="reviews", verbose_name=_("campaign")
    )
    status = models.CharField(
        _("status"), max_length=8, choices=ReviewStatus.choices, default=ReviewStatus.QUEUED
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("requested by"),
    )
    requested_at = models.DateTimeField(_("requested"))
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    document = models.FileField(_("JSON"), upload_to=review_path, blank=True)
    page_zh = models.FileField(_("page (Chinese)"), upload_to=review_path, blank=True)
    page_en = models.FileField(_("page (English)"), upload_to=review_path, blank=True)
    #: Headline rows of the review (significant changes), for lists.
    summary = models.JSONField(_("summary"), default=dict, blank=True)
    error = models.TextField(_("error"), blank=True)

    class Meta:
        db_table = "campaign_reviews"
        verbose_name = _("campaign review")
        verbose_name_plural = _("campaign reviews")
        ordering = ["-requested_at", "-pk"]
        indexes = [models.Index(fields=["status", "requested_at"], name="campaign_reviews_queue")]

    def __str__(self) -> str:
        return f"{self.campaign} ({self.get_status_display()})"
