"""Who is calling: a personal token (``Authorization: Bearer mny_...``) or the console's own
session (logged-in staff, with Django's CSRF token on writes).

Each operation names the model permission it needs (``cases.view_case`` to read,
``cases.change_case`` to change, ...): a caller without it is refused with 403 before the body
is read. Which *cases* the caller may see or change is decided per object by the cases
selectors and services, exactly as for the pages.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja.security import APIKeyCookie, HttpBearer
from ninja.utils import check_csrf

from manyi.desk.accounts.access import prime
from manyi.desk.accounts.tokens import TokenError, authenticate_token
from manyi.desk.api.errors import ApiError


def _require(user: Any, permission: str | None) -> Any:
    if permission and not user.has_perm(permission):
        raise ApiError(403, "forbidden", _("Your role may not do this."))
    return user


class BearerToken(HttpBearer):
    """``Authorization: Bearer <token>``; a token that is sent but cannot be used is refused
    at once (401) instead of falling back to the session."""

    def __init__(self, permission: str | None = None) -> None:
        super().__init__()
        self.permission = permission

    def __call__(self, request: HttpRequest) -> Any:
        header = request.headers.get("Authorization")
        if header is None:
            return None
        scheme, _sep, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise ApiError(
                401,
                "unauthorized",
                _("Use Authorization: Bearer <token>."),
                headers={"WWW-Authenticate": 'Bearer realm="manyi"'},
            )
        return self.authenticate(request, token.strip())

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        try:
            check = authenticate_token(token)
        except TokenError as exc:
            raise ApiError(
                401,
                f"token_{exc.code}",
                exc.message,
                headers={"WWW-Authenticate": 'Bearer realm="manyi", error="invalid_token"'},
            ) from None
        return _require(prime(check.user), self.permission)


class StaffSession(APIKeyCookie):
    """The session of a logged-in user; unsafe methods need the CSRF token
    (``X-CSRFToken`` header), as for any form of the console."""

    param_name = settings.SESSION_COOKIE_NAME

    def __init__(self, permission: str | None = None) -> None:
        super().__init__(csrf=True)
        self.permission = permission

    def _get_key(self, request: HttpRequest) -> str | None:
        return request.COOKIES.get(self.param_name)

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or not user.is_active:
            return None
        # Checked only for a logged-in user: a caller without a session gets "401, send a
        # token", not a puzzling CSRF refusal.
        if check_csrf(request) is not None:
            raise ApiError(403, "csrf_failed", _("Send the CSRF token (X-CSRFToken header)."))
        return _require(prime(user), self.permission)


def api_auth(permission: str | None = None) -> list[Any]:
    """Token or session, each requiring ``permission`` (``app_label.codename``) when given."""
    return [BearerToken(permission), StaffSession(permission)]
