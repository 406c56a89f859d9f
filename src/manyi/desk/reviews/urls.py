"""The review inbox, mounted at ``/desk/reviews/``."""

from __future__ import annotations

from django.urls import path

from manyi.desk.reviews import views

app_name = "reviews"

urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("bulk/", views.bulk, name="bulk"),
    path("<int:review_pk>/", views.review_page, name="review"),
    path("<int:review_pk>/reply/", views.reply, name="reply"),
    path("<int:review_pk>/status/", views.status, name="status"),
    path("<int:review_pk>/follow-up/", views.follow_up, name="follow_up"),
]
