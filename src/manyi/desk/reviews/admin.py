"""Configuration of the review inbox: the bad-review rule and reply templates. Analyses and
follow-up links are shown read-only (the analysis step and the rule write them)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from manyi.desk.reviews.models import FollowUpRule, ReplyTemplate, ReviewAnalysis, ReviewFollowUp


@admin.register(FollowUpRule)
class FollowUpRuleAdmin(admin.ModelAdmin[FollowUpRule]):
    list_display = ("__str__", "enabled", "negative_threshold", "max_age_days", "team", "priority")

    def has_add_permission(self, request: HttpRequest) -> bool:
        # One row: add it while there is none, then only change it.
        return super().has_add_permission(request) and not FollowUpRule.objects.exists()

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ReplyTemplate)
class ReplyTemplateAdmin(admin.ModelAdmin[ReplyTemplate]):
    list_display = ("name", "language", "active")
    list_filter = ("language", "active")
    search_fields = ("name", "body")


class ReadOnlyAdmin(admin.ModelAdmin[Any]):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ReviewAnalysis)
class ReviewAnalysisAdmin(ReadOnlyAdmin):
    list_display = ("review", "language", "sentiment", "p_positive", "model_version", "analysed_at")
    list_filter = ("sentiment", "language", "model_version")
    raw_id_fields = ("review",)


@admin.register(ReviewFollowUp)
class ReviewFollowUpAdmin(ReadOnlyAdmin):
    list_display = ("review", "case", "trigger", "opened_at", "opened_by")
    list_filter = ("trigger",)
    raw_id_fields = ("review", "case")
