"""The outbox in the admin: what was sent, what waits for a retry, what failed and why."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from manyi.desk.channels.models import MailStatus, OutgoingMail
from manyi.desk.channels.outbox import send_again


@admin.register(OutgoingMail)
class OutgoingMailAdmin(admin.ModelAdmin[OutgoingMail]):
    """Read-only: a mail is what the desk recorded; the only change is *send again*."""

    list_display = (
        "created_at",
        "case",
        "purpose",
        "recipients",
        "subject",
        "status",
        "attempts",
        "next_attempt_at",
        "last_error",
    )
    list_filter = ("status", "purpose")
    search_fields = ("message_id", "subject", "to", "case__case_id")
    date_hierarchy = "created_at"
    list_select_related = ("case",)
    actions = ("send_again_action",)
    readonly_fields = (
        "created_at",
        "case",
        "reply",
        "purpose",
        "status",
        "attempts",
        "next_attempt_at",
        "last_attempt_at",
        "sent_at",
        "last_error",
        "log",
        "message_id",
        "from_email",
        "to",
        "reply_to",
        "subject",
        "headers",
        "body",
    )

    @admin.display(description=_("to"))
    def recipients(self, mail: OutgoingMail) -> str:
        return ", ".join(mail.to)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description=_("Send the failed e-mail again"), permissions=["change"])
    def send_again_action(self, request: HttpRequest, queryset: QuerySet[OutgoingMail]) -> None:
        requeued = send_again(
            list(queryset.filter(status=MailStatus.FAILED).values_list("pk", flat=True))
        )
        self.message_user(
            request,
            ngettext(
                "%(n)d e-mail queued again; the worker sends it on its next round.",
                "%(n)d e-mails queued again; the worker sends them on its next round.",
                requeued,
            )
            % {"n": requeued},
            messages.SUCCESS,
        )
