"""URL routes: each app brings its own ``urls.py``; the language switch is Django's."""

from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("", include("manyi.desk.commerce.urls")),
    path("accounts/", include("manyi.desk.accounts.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
]
