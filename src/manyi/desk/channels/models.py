"""The outbox: every e-mail the desk sends, recorded before it is sent.

A mail is written in the same transaction as the reply or status change that produced it, so
it exists exactly when that change exists; it is sent after the commit and, when the mail
server is down or answers a temporary error, again by the worker later
(:mod:`manyi.desk.channels.outbox`). What is stored is what goes out on every attempt — the
headers (above all ``Message-ID``, which keeps the customer's thread) do not change between
attempts.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class MailStatus(models.TextChoices):
    PENDING = "pending", _("Waiting to be sent")
    SENDING = "sending", _("Being sent")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Delivery failed")


class MailPurpose(models.TextChoices):
    ACKNOWLEDGEMENT = "opened", _("Acknowledgement of a new case")
    STATUS = "status", _("Status update")
    REPLY = "reply", _("Agent's reply")
    SLA = "sla", _("SLA warning to staff")


class OutgoingMail(models.Model):
    """One e-mail to send, with its attempts.

    ``next_attempt_at`` is when a pending mail is due; while a worker sends it (``sending``) it
    is the end of that worker's claim, after which another worker may take it (a crashed
    sender's mail is not lost, though it may then be sent twice).
    """

    created_at = models.DateTimeField(_("queued"))
    case = models.ForeignKey(
        "cases.Case",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="outgoing_mail",
        verbose_name=_("case"),
    )
    #: The agent's reply this mail carries: its files are attached when sending, and its
    #: ``email_message_id`` is set once the mail went out.
    reply = models.ForeignKey(
        "cases.Message",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="outgoing_mail",
        verbose_name=_("reply"),
    )
    purpose = models.CharField(_("purpose"), max_length=8, choices=MailPurpose.choices)
    message_id = models.CharField(_("Message-ID"), max_length=255, unique=True)
    from_email = models.CharField(_("from"), max_length=255)
    to = models.JSONField(_("to"), default=list)
    reply_to = models.JSONField(_("reply to"), default=list, blank=True)
    subject = models.CharField(_("subject"), max_length=300)
    body = models.TextField(_("text"))
    #: Extra headers, ``Message-ID`` among them, exactly as sent on every attempt.
    headers = models.JSONField(_("headers"), default=dict, blank=True)

    status = models.CharField(
        _("status"), max_length=8, choices=MailStatus.choices, default=MailStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    last_attempt_at = models.DateTimeField(_("last attempt"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    #: One entry per attempt: ``at``, ``ok``, ``code`` (the SMTP reply code, if any), ``error``.
    log = models.JSONField(_("attempts log"), default=list, blank=True)

    class Meta:
        db_table = "outgoing_mail"
        verbose_name = _("outgoing e-mail")
        verbose_name_plural = _("outgoing e-mail")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="outgoing_mail_due"),
            models.Index(fields=["case", "created_at"], name="outgoing_mail_case"),
        ]

    def __str__(self) -> str:
        return f"{self.subject} → {', '.join(self.to)}"
