"""Puts the logged-in user's cached permissions, roles and teams on ``request.user``."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from manyi.desk.accounts.access import prime


class AccessMiddleware:
    """After ``AuthenticationMiddleware``: one cache look-up instead of four queries for a
    staff page (see :mod:`manyi.desk.accounts.access`). Requests without a session cookie are
    not touched, so public pages stay query-free."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        from django.conf import settings

        if settings.SESSION_COOKIE_NAME in request.COOKIES:
            prime(request.user)
        return self.get_response(request)
