"""Configuration of the after-sales desk: SLA policies and calendars, return policy, approval
limits, auto-approval rules and macros. Cases themselves are worked in the console."""

from __future__ import annotations

from typing import Any

from django.contrib import admin

from manyi.desk.cases.models import (
    ApprovalLimit,
    AutoApprovalRule,
    BusinessCalendar,
    Case,
    CaseEvent,
    Macro,
    ReturnPolicy,
    SlaPolicy,
)


@admin.register(BusinessCalendar)
class BusinessCalendarAdmin(admin.ModelAdmin[BusinessCalendar]):
    list_display = ("name",)


@admin.register(SlaPolicy)
class SlaPolicyAdmin(admin.ModelAdmin[SlaPolicy]):
    list_display = (
        "name",
        "kind",
        "priority",
        "channel",
        "first_response_minutes",
        "next_response_minutes",
        "resolution_minutes",
        "calendar",
        "rank",
        "active",
    )
    list_filter = ("active", "kind", "priority", "channel")


@admin.register(ReturnPolicy)
class ReturnPolicyAdmin(admin.ModelAdmin[ReturnPolicy]):
    list_display = ("name", "window_days", "window_start", "no_reason", "active")


@admin.register(ApprovalLimit)
class ApprovalLimitAdmin(admin.ModelAdmin[ApprovalLimit]):
    list_display = ("role", "max_amount")


@admin.register(AutoApprovalRule)
class AutoApprovalRuleAdmin(admin.ModelAdmin[AutoApprovalRule]):
    list_display = (
        "name",
        "kinds",
        "reasons",
        "max_amount",
        "within_return_window",
        "rank",
        "active",
    )
    list_filter = ("active",)


@admin.register(Macro)
class MacroAdmin(admin.ModelAdmin[Macro]):
    list_display = ("name", "language", "transition", "team", "active")
    list_filter = ("language", "active", "team")
    search_fields = ("name", "body")


class CaseEventInline(admin.TabularInline[CaseEvent, Case]):
    model = CaseEvent
    extra = 0
    can_delete = False
    fields = ("seq", "at", "kind", "from_status", "to_status", "actor", "note")
    readonly_fields = ("seq", "kind", "from_status", "to_status", "actor", "note")


@admin.register(Case)
class CaseAdmin(admin.ModelAdmin[Case]):
    """Read-only apart from correcting an event's time (clocks recompute on the next change)."""

    list_display = (
        "case_id",
        "subject",
        "kind",
        "status",
        "priority",
        "team",
        "assignee",
        "opened_at",
        "sla_state",
    )
    list_filter = ("status", "kind", "priority", "channel", "sla_state", "team")
    search_fields = ("case_id", "subject", "contact_email", "order__order_id")
    raw_id_fields = ("customer", "order", "assignee", "decided_by", "follow_up_of")
    inlines = (CaseEventInline,)
    readonly_fields = (
        "status",
        "version",
        "first_response_due_at",
        "next_response_due_at",
        "resolution_due_at",
        "sla_state",
        "sla_check_at",
    )

    def save_model(self, request: Any, obj: Case, form: Any, change: bool) -> None:
        # The canonical username column follows the link, as in ``services.assign_case``.
        obj.assignee_username = obj.assignee.get_username() if obj.assignee is not None else None
        super().save_model(request, obj, form, change)
