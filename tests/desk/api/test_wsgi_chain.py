"""The WSGI application's short middleware chains (``manyi.desk.config.wsgi``): a REST API
call with a bearer token and a public survey page skip the session's middleware; other pages
take the full chain (a customer answering through the public chain:
``tests/desk/surveys/test_public_chain.py``).

These tests call the WSGI application itself, as gunicorn does (Django's test client builds
its own handler with the full chain)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.conf import settings
from django.test import Client

from manyi.desk.config import wsgi

pytestmark = pytest.mark.desk_db


SECURITY, LOCALE, COMMON, XFRAME = (
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
)
SESSION, CSRF, AUTH, MESSAGES = (
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
)


@pytest.mark.parametrize(
    ("chain_of", "skips_setting", "kept", "skipped"),
    [
        (
            wsgi.token_api_middleware,
            "TOKEN_API_SKIPS_MIDDLEWARE",
            [SECURITY, LOCALE, COMMON, XFRAME],
            [SESSION, CSRF, AUTH, MESSAGES],
        ),
        (  # the public survey pages: their form keeps CSRF
            wsgi.public_pages_middleware,
            "PUBLIC_PAGES_SKIP_MIDDLEWARE",
            [SECURITY, LOCALE, COMMON, CSRF, XFRAME],
            [SESSION, AUTH, MESSAGES],
        ),
    ],
)
def test_a_short_chain_is_the_full_chain_without_the_session_parts(
    chain_of: Any, skips_setting: str, kept: list[str], skipped: list[str]
) -> None:
    chain = chain_of()
    skips = getattr(settings, skips_setting)
    assert set(skips) <= set(settings.MIDDLEWARE), "a skipped middleware is not in MIDDLEWARE"
    assert chain == [m for m in settings.MIDDLEWARE if m not in skips]
    assert set(kept) <= set(chain)
    assert not set(skipped) & set(chain)
    # Building the short chain left the setting as it was.
    assert SESSION in settings.MIDDLEWARE


@pytest.mark.parametrize(
    ("path", "authorization", "expected"),
    [
        ("/api/cases/7", "Bearer mny_abc", True),
        ("/api/cases", "bearer mny_abc", True),
        ("/api/cases/7", "", False),
        ("/api/cases/7", "Basic YTpi", False),
        ("/desk/cases/7/", "Bearer mny_abc", False),
        ("/apix/cases", "Bearer mny_abc", False),
    ],
)
def test_which_requests_take_the_token_chain(path: str, authorization: str, expected: bool) -> None:
    environ = {"PATH_INFO": path}
    if authorization:
        environ["HTTP_AUTHORIZATION"] = authorization
    assert wsgi.is_token_api_call(environ) is expected


def test_a_bearer_call_answers_as_through_the_full_chain(
    desk_app: wsgi.DeskApplication,
    call_wsgi: Any,
    api: Any,
    make_case: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    case = make_case()
    used: list[str] = []
    token_api, pages = desk_app.token_api, desk_app.pages
    monkeypatch.setattr(desk_app, "token_api", lambda e, s: used.append("token") or token_api(e, s))
    monkeypatch.setattr(desk_app, "pages", lambda e, s: used.append("pages") or pages(e, s))
    headers = {"Authorization": f"Bearer {api.staff.tokens['ana']}", "Accept-Language": "en"}

    status, sent, content = call_wsgi(desk_app, "GET", f"/api/cases/{case.case_id}", headers)

    assert used == ["token"]
    assert status == 200
    through_client = api.get(f"/api/cases/{case.case_id}", as_="ana").json()
    shown = json.loads(content)
    for moving in ("sla",):  # clocks count from "now"
        shown.pop(moving), through_client.pop(moving)
    assert shown == through_client
    # What the kept middleware adds is there; the session's is not.
    assert sent["x-content-type-options"] == "nosniff"
    assert sent["x-frame-options"] == "DENY"
    assert sent["content-language"] == "en"
    assert "set-cookie" not in sent


def test_a_refused_token_is_answered_in_the_callers_language(
    desk_app: wsgi.DeskApplication, call_wsgi: Any, db: None
) -> None:
    headers = {"Authorization": "Bearer mny_not-a-token", "Accept-Language": "zh-hans"}
    status, sent, content = call_wsgi(desk_app, "GET", "/api/cases/1", headers)
    assert status == 401
    assert sent["www-authenticate"].startswith("Bearer")
    body = json.loads(content)
    assert body["code"] == "token_unknown"
    assert body["message"] != "Unknown API token."  # translated
    assert sent["content-language"] == "zh-hans"


def test_the_consoles_session_still_reaches_the_api(
    desk_app: wsgi.DeskApplication, call_wsgi: Any, staff: Any, make_case: Any
) -> None:
    case = make_case()
    browser = Client()
    assert browser.login(username="ana", password="a-long-password-1")
    cookie = f"{settings.SESSION_COOKIE_NAME}={browser.cookies[settings.SESSION_COOKIE_NAME].value}"
    path = f"/api/cases/{case.case_id}"

    status, _sent, content = call_wsgi(desk_app, "GET", path, {"Cookie": cookie})
    assert status == 200
    assert json.loads(content)["id"] == case.case_id
    # The session needs the full chain: the token chain has no session to read.
    status, _sent, _content = call_wsgi(desk_app.token_api, "GET", path, {"Cookie": cookie})
    assert status == 401
