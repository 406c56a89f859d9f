"""URL routes: each app brings its own ``urls.py``; the language switch is Django's."""

from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

# The busiest paths first: Django tries the patterns in order, and the API and the survey pages
# take most requests (their prefixes, api/ and s/, are used by nothing else).
urlpatterns = [
    path("api/", include("manyi.desk.api.urls")),
    path("", include("manyi.desk.surveys.urls")),
    path("", include("manyi.desk.commerce.urls")),
    path("accounts/", include("manyi.desk.accounts.urls")),
    path("desk/reviews/", include("manyi.desk.reviews.urls")),
    path("desk/", include("manyi.desk.dashboards.urls")),
    path("desk/", include("manyi.desk.cases.urls")),
    path("", include("manyi.desk.channels.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
]
