"""The public survey pages' middleware chain (``manyi.desk.config.wsgi``): ``/s/...`` skips
the staff session's middleware and keeps CSRF (the chain itself:
``tests/desk/api/test_wsgi_chain.py``). Called as gunicorn calls the application."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode

import pytest
from django.conf import settings

from manyi.desk.config import wsgi
from manyi.desk.surveys.links import make_survey_token
from manyi.desk.surveys.models import Invitation

pytestmark = pytest.mark.django_db

ANSWERS = {"csat.csat": "5", "ces_effort_5.ces": "2", "lang": "en"}


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/s/abc/", True),
        ("/s/abc/thanks/", True),
        ("/s/opt-out/abc/", True),
        ("/desk/s/abc/", False),
        ("/static/surveys/survey.css", False),
        ("/sx/abc/", False),
    ],
)
def test_which_requests_take_the_public_chain(path: str, expected: bool) -> None:
    assert wsgi.is_public_page({"PATH_INFO": path}) is expected


def test_a_customer_answers_through_the_public_chain(
    desk_app: wsgi.DeskApplication,
    call_wsgi: Any,
    invite: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    invitation = invite("case")
    path = f"/s/{make_survey_token(invitation.pk)}/"
    used: list[str] = []
    public, pages = desk_app.public, desk_app.pages
    monkeypatch.setattr(desk_app, "public", lambda e, s: used.append("public") or public(e, s))
    monkeypatch.setattr(desk_app, "pages", lambda e, s: used.append("pages") or pages(e, s))
    # A staff member's session cookie in the same browser changes nothing on a survey page.
    session_cookie = f"{settings.SESSION_COOKIE_NAME}=not-read-here"

    status, sent, page = call_wsgi(
        desk_app, "GET", path, {"Accept-Language": "en", "Cookie": session_cookie}
    )

    assert status == 200
    assert sent["x-frame-options"] == "DENY"
    assert sent["content-language"] == invitation.language  # the page's, not the header's
    cookies = sent["set-cookie"]
    assert settings.CSRF_COOKIE_NAME in cookies
    assert settings.SESSION_COOKIE_NAME not in cookies  # no session read, none written
    csrf_cookie = re.search(rf"{settings.CSRF_COOKIE_NAME}=([^;]+)", cookies)
    form_token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert csrf_cookie
    assert form_token
    cookie = f"{settings.CSRF_COOKIE_NAME}={csrf_cookie.group(1)}"
    origin = {"Origin": "http://testserver", "Referer": f"http://testserver{path}"}
    form = "application/x-www-form-urlencoded"

    # CSRF still guards the form: without the form's token the answers are refused.
    status, _sent, _body = call_wsgi(
        desk_app, "POST", path, {"Cookie": cookie, **origin}, urlencode(ANSWERS).encode(), form
    )
    assert status == 403
    assert Invitation.objects.get(pk=invitation.pk).answered_at is None

    body = urlencode({"csrfmiddlewaretoken": form_token.group(1).decode(), **ANSWERS}).encode()
    status, sent, _body = call_wsgi(
        desk_app, "POST", path, {"Cookie": cookie, **origin}, body, form
    )
    assert status == 302
    assert sent["location"].startswith(f"{path}thanks/")
    assert Invitation.objects.get(pk=invitation.pk).answered_at is not None
    status, _sent, thanks = call_wsgi(desk_app, "GET", sent["location"].split("?")[0], {})
    assert status == 200
    assert b'data-testid="thanks"' in thanks
    assert used == ["public"] * 4
