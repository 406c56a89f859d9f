"""Dashboards, alerts and campaigns, mounted under ``/desk/`` (before the console's routes)."""

from __future__ import annotations

from django.urls import path

from manyi.desk.dashboards import alert_views, campaign_views, views

app_name = "dashboards"

urlpatterns = [
    path("dashboard/", views.dashboard, name="dashboard"),
    path("dashboard/block/<slug:key>/", views.block, name="block"),
    path("dashboard/rows/<slug:kind>/", views.rows, name="rows"),
    path("dashboard/export/<slug:key>/<slug:name>.<str:fmt>", views.export, name="export"),
    path("dashboard/plotly.min.js", views.plotly_js, name="plotly"),
    path("alerts/", alert_views.alert_list, name="alerts"),
    path("alerts/new/", alert_views.rule_edit, name="alert_new"),
    path("alerts/history/", alert_views.history, name="alert_history"),
    path("alerts/<int:rule_pk>/", alert_views.rule_page, name="alert_rule"),
    path("alerts/<int:rule_pk>/edit/", alert_views.rule_edit, name="alert_edit"),
    path("alerts/events/<int:event_pk>/", alert_views.event_page, name="alert_event"),
    path("alerts/events/<int:event_pk>/ack/", alert_views.acknowledge, name="alert_ack"),
    path("campaigns/", campaign_views.campaign_list, name="campaigns"),
    path("campaigns/new/", campaign_views.campaign_edit, name="campaign_new"),
    path("campaigns/<int:campaign_pk>/", campaign_views.campaign_page, name="campaign"),
    path("campaigns/<int:campaign_pk>/edit/", campaign_views.campaign_edit, name="campaign_edit"),
    path("campaigns/<int:campaign_pk>/live/", campaign_views.live, name="campaign_live"),
    path(
        "campaigns/<int:campaign_pk>/review/",
        campaign_views.review_request,
        name="campaign_review_request",
    ),
    path("campaigns/reviews/<int:review_pk>/", campaign_views.review_page, name="campaign_review"),
    path(
        "campaigns/reviews/<int:review_pk>/<slug:kind>/",
        campaign_views.review_file,
        name="campaign_review_file",
    ),
]
