"""Customer-facing pages (no account: signed links) and inbound hooks."""

from __future__ import annotations

from django.urls import path

from manyi.desk.channels import views

app_name = "channels"

urlpatterns = [
    path("help/new/", views.customer_new_case, name="customer_new_case"),
    path("help/new/sent/", views.customer_case_sent, name="customer_case_sent"),
    path("help/case/<str:token>/", views.customer_case, name="customer_case"),
    path(
        "help/case/<str:token>/files/<int:attachment_id>/",
        views.customer_case_file,
        name="customer_case_file",
    ),
]
