"""Public survey pages (no account: signed links)."""

from __future__ import annotations

from django.urls import path

from manyi.desk.surveys import views

app_name = "surveys"

urlpatterns = [
    path("s/opt-out/<str:token>/", views.opt_out_page, name="opt_out"),
    path("s/<str:token>/", views.answer, name="answer"),
    path("s/<str:token>/thanks/", views.thanks, name="thanks"),
]
