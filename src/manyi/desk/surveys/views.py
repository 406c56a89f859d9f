"""The public survey pages: ``/s/<token>/`` (answer), its thank-you page, and opt-out.

No account is needed: the signed token is the key. Pages are plain HTML forms (no script), in
the invitation's language unless ``?lang=`` switches it. A bad link gets a 404 and an expired or
closed one a 410, both with a short friendly page that names no case, order or customer.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone, translation
from django.views.decorators.http import require_http_methods

from manyi.desk.surveys.errors import SurveyError, SurveyErrorCode
from manyi.desk.surveys.forms import ErrorLink, layout_page
from manyi.desk.surveys.links import (
    link_expired,
    make_opt_out_token,
    read_opt_out_token,
    read_survey_token,
)
from manyi.desk.surveys.models import Invitation, Trigger
from manyi.desk.surveys.selectors import SurveyPage, get_settings, get_survey_page, is_open
from manyi.desk.surveys.services import opt_out, submit_response

LANGUAGES = ("zh-hans", "en")


def _asked_language(request: HttpRequest) -> str | None:
    """The language the request asks for (``?lang=`` or the form's ``lang``), if one we have."""
    asked = request.GET.get("lang") or request.POST.get("lang") or ""
    return asked if asked in LANGUAGES else None


def _language(request: HttpRequest, default: str) -> str:
    asked = _asked_language(request)
    if asked:
        return asked
    return default if default in LANGUAGES else LANGUAGES[0]


def _render(
    request: HttpRequest, template: str, context: dict[str, object], lang: str, status: int = 200
) -> HttpResponse:
    with translation.override(lang):
        response = render(request, template, {**context, "lang": lang}, status=status)
    response["Content-Language"] = lang
    # The token is in the URL: keep it out of other sites' Referer headers, caches and search
    # engines. Not "no-referrer": the browser would then post the form with "Origin: null",
    # which CSRF protection rightly refuses.
    response["Referrer-Policy"] = "same-origin"
    response["Cache-Control"] = "private, no-store"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _problem(request: HttpRequest, problem: str, lang: str | None = None) -> HttpResponse:
    lang = _language(request, lang or translation.get_language() or LANGUAGES[0])
    return _render(
        request,
        "surveys/link_problem.html",
        {"problem": problem, "switch": True},
        lang,
        status=410 if problem == "expired" else 404,
    )


def _closed(request: HttpRequest, invitation: Invitation, lang: str) -> HttpResponse:
    return _render(
        request,
        "surveys/closed.html",
        {"answered": invitation.answered_at is not None, "switch": True},
        lang,
        status=410,
    )


@require_http_methods(["GET", "HEAD", "POST"])
def answer(request: HttpRequest, token: str) -> HttpResponse:
    now = timezone.now()
    if request.method == "POST":
        # The signature now, the link's age with the invitation's lock (one query fewer).
        signed = read_survey_token(token, link_days=None)
        if signed.invitation_id is None or signed.signed_at is None:
            return _problem(request, signed.problem or "invalid")
        lang = _asked_language(request)
        if lang is None:  # a form without its language gets the invitation's
            found = get_survey_page(signed.invitation_id, with_answers=False)
            if found is None:  # the age first, as for any link
                too_old = link_expired(signed.signed_at, get_settings().link_days)
                return _problem(request, "expired" if too_old else "invalid")
            lang = _language(request, found.invitation.language)
        return _submit(request, token, signed.invitation_id, signed.signed_at, now, lang)
    check = read_survey_token(token, link_days=get_settings().link_days)
    if check.invitation_id is None:
        return _problem(request, check.problem or "invalid")
    page = get_survey_page(check.invitation_id)
    if page is None:
        return _problem(request, "invalid")
    invitation = page.invitation
    lang = _language(request, invitation.language)
    if not is_open(invitation, now):
        return _closed(request, invitation, lang)
    return _form(request, page, lang, page.values, {}, [])


def _submit(
    request: HttpRequest,
    token: str,
    invitation_id: int,
    signed_at: int,
    now: datetime,
    lang: str,
) -> HttpResponse:
    """The answers go straight to :func:`submit_response`, which locks the invitation and
    checks the link's age and that the invitation is open; the page is read only when the
    form has to be shown again (or the survey turns out closed). The page's form sends its
    language, so a customer's submission reads no page at all."""
    try:
        with translation.override(lang):  # the messages are in the page's language
            submit_response(
                invitation_id, request.POST, language=lang, now=now, link_signed_at=signed_at
            )
    except SurveyError as exc:
        if exc.code == SurveyErrorCode.EXPIRED:
            return _problem(request, "expired", lang)
        page = get_survey_page(invitation_id, with_answers=False)
        if exc.code == SurveyErrorCode.NOT_FOUND or page is None:
            return _problem(request, "invalid", lang)
        if exc.code == SurveyErrorCode.CLOSED:
            return _closed(request, page.invitation, lang)
        general = [] if exc.fields else [ErrorLink("", "", exc.message)]
        return _form(request, page, lang, request.POST, exc.fields, general)
    return HttpResponseRedirect(reverse("surveys:thanks", args=[token]) + f"?lang={lang}")


def _form(
    request: HttpRequest,
    page: SurveyPage,
    lang: str,
    values: Mapping[str, Any],
    errors: dict[str, str],
    general: list[ErrorLink],
) -> HttpResponse:
    """The survey form, with the answers in ``values`` and what is wrong with them."""
    invitation = page.invitation
    with translation.override(lang):
        blocks, summary = layout_page(page.versions, lang, values, errors)
    return _render(
        request,
        "surveys/survey.html",
        {
            "blocks": blocks,
            "summary": general + summary,
            "answered": page.answered,
            "closes": timezone.localtime(invitation.expires_at),
            "about_case": invitation.rule.trigger == Trigger.CASE_RESOLVED,
            "opt_out_url": reverse("surveys:opt_out", args=[make_opt_out_token(invitation.pk)])
            + f"?lang={lang}",
            "switch": True,
        },
        lang,
        status=400 if errors or general else 200,
    )


@require_http_methods(["GET", "HEAD"])
def thanks(request: HttpRequest, token: str) -> HttpResponse:
    check = read_survey_token(token, link_days=get_settings().link_days)
    if check.invitation_id is None:
        return _problem(request, check.problem or "invalid")
    invitation = Invitation.objects.filter(pk=check.invitation_id).first()
    if invitation is None or invitation.expires_at is None:
        return _problem(request, "invalid")
    lang = _language(request, invitation.language)
    if invitation.answered_at is None:
        return HttpResponseRedirect(reverse("surveys:answer", args=[token]) + f"?lang={lang}")
    return _render(
        request,
        "surveys/thanks.html",
        {
            "open": is_open(invitation, timezone.now()),
            "closes": timezone.localtime(invitation.expires_at),
            "edit_url": reverse("surveys:answer", args=[token]) + f"?lang={lang}",
            "switch": True,
        },
        lang,
    )


@require_http_methods(["GET", "HEAD", "POST"])
def opt_out_page(request: HttpRequest, token: str) -> HttpResponse:
    """GET asks, POST opts out: link scanners in mail systems open links but do not post."""
    check = read_opt_out_token(token)
    invitation = (
        Invitation.objects.filter(pk=check.invitation_id).first()
        if check.invitation_id is not None
        else None
    )
    if invitation is None:
        return _problem(request, "invalid")
    lang = _language(request, invitation.language)
    if request.method == "POST":
        opt_out(invitation.pk)
        return _render(request, "surveys/opted_out.html", {"done": True, "switch": True}, lang)
    return _render(request, "surveys/opted_out.html", {"done": False, "switch": True}, lang)
