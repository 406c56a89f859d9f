from __future__ import annotations

from django.urls import path

from manyi.desk.commerce import views

app_name = "commerce"

urlpatterns = [path("", views.overview, name="overview")]
