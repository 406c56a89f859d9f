"""Survey configuration in the admin: instruments and their versions, rules, settings,
opt-outs; invitations and responses to look at (they change only through the services)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from manyi.desk.surveys.errors import SurveyError
from manyi.desk.surveys.links import survey_link
from manyi.desk.surveys.models import (
    Instrument,
    InstrumentVersion,
    Invitation,
    InvitationChannel,
    OptOut,
    Question,
    RuleInstrument,
    SurveyAnswer,
    SurveyResponse,
    SurveyRule,
    SurveySettings,
    SurveyTextAnswer,
    VersionStatus,
)
from manyi.desk.surveys.selectors import is_open
from manyi.desk.surveys.services import close_invitation, new_draft, publish_version


class VersionInline(admin.TabularInline[InstrumentVersion, Instrument]):
    model = InstrumentVersion
    fields = ("number", "status", "published_at", "note")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Instrument)
class InstrumentAdmin(admin.ModelAdmin[Instrument]):
    list_display = ("code", "kind", "name_zh", "name_en")
    inlines = (VersionInline,)
    actions = ("make_draft",)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        return ("code", "kind") if obj is not None else ()

    @admin.action(description=_("Start a new draft version"))
    def make_draft(self, request: HttpRequest, queryset: QuerySet[Instrument]) -> None:
        for instrument in queryset:
            draft = new_draft(instrument.code)
            self.message_user(request, _("Draft: %(v)s") % {"v": draft})


class QuestionInline(admin.StackedInline[Question, InstrumentVersion]):
    model = Question
    extra = 0
    fields = (
        ("position", "item", "kind", "section", "required"),
        ("text_zh", "text_en"),
        ("help_zh", "help_en"),
        ("scale_min", "scale_max"),
        ("low_label_zh", "low_label_en", "high_label_zh", "high_label_en"),
        "choices",
    )

    def _draft(self, obj: Any) -> bool:
        return obj is None or obj.status == VersionStatus.DRAFT

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._draft(obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._draft(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._draft(obj) and super().has_delete_permission(request, obj)


@admin.register(InstrumentVersion)
class InstrumentVersionAdmin(admin.ModelAdmin[InstrumentVersion]):
    """Drafts are edited here; published versions are shown read-only."""

    list_display = ("__str__", "status", "published_at", "note")
    list_filter = ("status", "instrument")
    inlines = (QuestionInline,)
    actions = ("publish",)
    fields = ("instrument", "number", "status", "published_at", "intro", "sections", "note")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        if obj is not None and obj.status != VersionStatus.DRAFT:
            return self.fields
        return ("instrument", "number", "status", "published_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # drafts start from "Start a new draft version" on the instrument

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return (obj is None or obj.status == VersionStatus.DRAFT) and super().has_delete_permission(
            request, obj
        )

    @admin.action(description=_("Publish the selected drafts"))
    def publish(self, request: HttpRequest, queryset: QuerySet[InstrumentVersion]) -> None:
        for version in queryset:
            try:
                publish_version(version.pk)
            except SurveyError as exc:
                details = "; ".join(f"{k}: {v}" for k, v in exc.fields.items())
                self.message_user(request, f"{exc.message} {details}", messages.ERROR)
            else:
                self.message_user(request, _("Published %(v)s") % {"v": version})


class RuleInstrumentInline(admin.TabularInline[RuleInstrument, SurveyRule]):
    model = RuleInstrument
    extra = 0


@admin.register(SurveyRule)
class SurveyRuleAdmin(admin.ModelAdmin[SurveyRule]):
    list_display = ("code", "name", "trigger", "delay_hours", "checkpoint_at", "active")
    list_filter = ("active", "trigger")
    inlines = (RuleInstrumentInline,)


@admin.register(SurveySettings)
class SurveySettingsAdmin(admin.ModelAdmin[SurveySettings]):
    list_display = ("__str__", "fatigue_days", "link_days", "reminder_after_days")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return not SurveySettings.objects.exists()

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin[Invitation]):
    list_display = (
        "id",
        "rule",
        "trigger_key",
        "status",
        "reason",
        "channel",
        "send_at",
        "issued_at",
        "answered_at",
        "link",
    )
    list_filter = ("status", "channel", "rule", "reason")
    search_fields = ("trigger_key", "email", "customer__customer_id", "order__order_id")
    date_hierarchy = "send_at"
    actions = ("close",)
    list_select_related = ("rule",)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [f.name for f in Invitation._meta.concrete_fields] + ["link"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description=_("link"))
    def link(self, obj: Invitation) -> str:
        """The survey link of an open link-only invitation, for staff to pass on."""
        if obj.channel != InvitationChannel.LINK or not is_open(obj, timezone.now()):
            return "—"
        url = survey_link(obj.pk)
        return format_html('<a href="{}" rel="noreferrer">{}</a>', url, _("survey link"))

    @admin.action(description=_("Close the selected invitations"))
    def close(self, request: HttpRequest, queryset: QuerySet[Invitation]) -> None:
        for invitation in queryset:
            close_invitation(invitation.pk)
        self.message_user(request, _("Closed."))


class AnswerInline(admin.TabularInline[SurveyAnswer, SurveyResponse]):
    model = SurveyAnswer
    fields = ("item", "value")
    readonly_fields = fields
    extra = 0
    can_delete = False


class TextAnswerInline(admin.TabularInline[SurveyTextAnswer, SurveyResponse]):
    model = SurveyTextAnswer
    fields = ("item", "text")
    readonly_fields = fields
    extra = 0
    can_delete = False


@admin.register(SurveyResponse)
class SurveyResponseAdmin(admin.ModelAdmin[SurveyResponse]):
    list_display = (
        "response_id",
        "instrument",
        "version",
        "customer",
        "order",
        "case",
        "agent_id",
        "team_id",
        "answered_at",
    )
    list_filter = ("instrument", "channel", "language")
    search_fields = ("response_id", "customer__customer_id", "order__order_id", "agent_id")
    date_hierarchy = "answered_at"
    inlines = (AnswerInline, TextAnswerInline)
    list_select_related = ("version",)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [f.name for f in SurveyResponse._meta.concrete_fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(OptOut)
class OptOutAdmin(admin.ModelAdmin[OptOut]):
    list_display = ("__str__", "email", "customer", "created_at", "source")
    search_fields = ("email", "customer__customer_id")
    readonly_fields = ("created_at", "source", "created_by")
    raw_id_fields = ("customer",)

    def save_model(self, request: HttpRequest, obj: OptOut, form: Any, change: bool) -> None:
        if not change:
            obj.created_at = timezone.now()
            obj.source = "staff"
            obj.created_by = request.user  # type: ignore[assignment]
            if obj.email:
                obj.email = obj.email.strip().lower()
        super().save_model(request, obj, form, change)
