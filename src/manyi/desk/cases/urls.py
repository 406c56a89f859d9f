"""The agent console, mounted at ``/desk/``."""

from __future__ import annotations

from django.urls import path

from manyi.desk.cases import case_views, views

app_name = "cases"

urlpatterns = [
    path("", views.queue, name="queue"),
    path("bulk/", views.bulk, name="bulk"),
    path("cases/<int:case_id>/", case_views.case_page, name="case"),
    path("cases/<int:case_id>/take/", views.take, name="take"),
    path("cases/<int:case_id>/reply/", case_views.reply, name="reply"),
    path("cases/<int:case_id>/update/", case_views.update, name="update"),
    path("cases/<int:case_id>/assign/", case_views.assign, name="assign"),
    path("cases/<int:case_id>/transition/<slug:name>/", case_views.transition, name="transition"),
    path(
        "cases/<int:case_id>/macros/<int:macro_id>/", case_views.macro_preview, name="macro_preview"
    ),
    path(
        "cases/<int:case_id>/macros/<int:macro_id>/insert/",
        case_views.macro_insert,
        name="macro_insert",
    ),
    path(
        "cases/<int:case_id>/macros/<int:macro_id>/apply/",
        case_views.macro_apply,
        name="macro_apply",
    ),
    path("attachments/<int:attachment_id>/", views.attachment, name="attachment"),
]
