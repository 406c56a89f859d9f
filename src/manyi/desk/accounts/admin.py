"""Teams and API tokens in the admin (tokens are created with ``manyi token create``:
the admin never sees a token, only its prefix)."""

from __future__ import annotations

from django.contrib import admin

from manyi.desk.accounts.models import ApiToken, Team


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin[Team]):
    list_display = ("code", "name")
    search_fields = ("code", "name")
    filter_horizontal = ("members",)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin[ApiToken]):
    list_display = (
        "name",
        "user",
        "prefix",
        "created_at",
        "expires_at",
        "last_used_at",
        "revoked_at",
    )
    readonly_fields = ("prefix", "digest", "created_at", "last_used_at")
    list_filter = ("revoked_at",)

    def has_add_permission(self, request: object) -> bool:
        return False
