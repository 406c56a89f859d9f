"""Customer pages, no account needed: report a problem, and follow one's case through the
signed link we e-mail (``links.py``).

The case pages carry a capability in their URL. So they are never indexed (``noindex``), never
cached by proxies, and send a ``Referer`` only to this site (``Referrer-Policy: same-origin``),
so the token cannot leak to a site the page links to. Their forms keep Django's CSRF check
(``no-referrer`` would make browsers send ``Origin: null`` on the page's own posts, which the
check refuses, so ``same-origin`` is the strictest policy that keeps it).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from manyi.desk.cases.errors import CaseError
from manyi.desk.cases.events import Actor
from manyi.desk.cases.models import Case, CaseChannel, CaseStatus
from manyi.desk.cases.services import open_case, record_customer_message
from manyi.desk.channels.forms import NewCaseForm, ReplyForm, TrackingForm
from manyi.desk.channels.links import read_case_token, token_matches_contact
from manyi.desk.channels.progress import customer_label, progress_steps
from manyi.desk.channels.selectors import get_public_attachment, get_public_timeline
from manyi.desk.channels.throttle import allow, client_ip, rate

log = logging.getLogger(__name__)

View = Callable[..., HttpResponseBase]
SENT_KEY = "manyi_help_sent"


def customer_page(*, private: bool) -> Callable[[View], View]:
    """``?lang=en`` switches the language (a plain link: works without JavaScript and without
    a POST to ``set_language``, which these pages could not make, see the module); ``private``
    pages (a token in the URL) are not indexed, cached or referred."""

    def decorate(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            chosen = request.GET.get("lang")
            if chosen not in dict(settings.LANGUAGES):
                chosen = None
            if chosen:
                translation.activate(chosen)
                request.LANGUAGE_CODE = chosen
            response = view(request, *args, **kwargs)
            if chosen:
                response.set_cookie(
                    settings.LANGUAGE_COOKIE_NAME, chosen, max_age=365 * 86400, samesite="Lax"
                )
            if private:
                response["Referrer-Policy"] = "same-origin"
                response["X-Robots-Tag"] = "noindex, nofollow"
                response["Cache-Control"] = "private, no-store"
            return response

        return wrapper

    return decorate


def _language() -> str:
    current = translation.get_language() or settings.LANGUAGE_CODE
    return current if current in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE


@require_http_methods(["GET", "POST"])
@customer_page(private=False)
def customer_new_case(request: HttpRequest) -> HttpResponse:
    """The public "report a problem" form; on success, a page with the case number (the link
    to follow the case is e-mailed, which proves the address belongs to the reporter)."""
    if request.method != "POST":
        kind = request.GET.get("kind")
        form = NewCaseForm(initial={"kind": kind} if kind else None)
        return render(request, "channels/new_case.html", {"form": form})
    limit, window = rate("MANYI_HELP_FORM_RATE", (20, 3600))
    if not allow("help-new", client_ip(request), limit=limit, window=window):
        log.warning("help form: rate limit reached for %s", client_ip(request))
        form = NewCaseForm(initial=request.POST.dict())  # keeps what was typed, checks nothing
        return render(
            request, "channels/new_case.html", {"form": form, "rate_limited": True}, status=429
        )
    form = NewCaseForm(request.POST, request.FILES)
    if form.is_spam():
        log.info("help form: honeypot filled from %s; nothing recorded", client_ip(request))
        return redirect("channels:customer_case_sent")
    if form.is_valid():
        try:
            case = open_case(form.new_case(language=_language()), actor=Actor.customer())
        except CaseError as exc:
            form.add_case_error(exc)
        else:
            request.session[SENT_KEY] = {"number": case.number, "email": case.contact_email}
            return redirect("channels:customer_case_sent")
    form.focus_first_error()
    return render(request, "channels/new_case.html", {"form": form})


@customer_page(private=False)
def customer_case_sent(request: HttpRequest) -> HttpResponse:
    sent = request.session.pop(SENT_KEY, None)
    return render(request, "channels/new_case_sent.html", {"sent": sent})


def _case_or_problem(request: HttpRequest, token: str) -> Case | HttpResponse:
    """The case the token opens, or the friendly page: 410 when the link expired, 404 for
    anything else (forged, mangled, another contact, a deleted case), saying nothing more."""
    check = read_case_token(token)
    case = (
        Case.objects.select_related("order").filter(case_id=check.case_id).first()
        if check.case_id
        else None
    )
    if case is None or not token_matches_contact(token, case.contact_email):
        problem = check.problem or "invalid"
        return render(
            request,
            "channels/link_problem.html",
            {"problem": problem},
            status=410 if problem == "expired" else 404,
        )
    return case


@require_http_methods(["GET", "POST"])
@customer_page(private=True)
def customer_case(request: HttpRequest, token: str) -> HttpResponse:
    """The customer's case: where it stands, what was said, a reply form, and the return
    tracking number while the goods are expected back."""
    found = _case_or_problem(request, token)
    if not isinstance(found, Case):
        return found
    case = found
    awaiting_return = case.status == CaseStatus.AWAITING_RETURN
    reply_form, tracking_form = ReplyForm(), TrackingForm() if awaiting_return else None
    if request.method == "POST":
        limit, window = rate("MANYI_HELP_REPLY_RATE", (30, 3600))
        if not allow("help-reply", str(case.case_id), limit=limit, window=window):
            log.warning("case page: rate limit reached on case #%s", case.case_id)
            messages.error(request, _("Too many messages in a short time; please wait a while."))
            return redirect(request.path)
        if request.POST.get("action") == "tracking":
            tracking_form = TrackingForm(request.POST)
            if not awaiting_return:
                # The page was stale: the parcel is no longer expected. Nothing is recorded.
                messages.info(request, _("We are no longer waiting for a return parcel."))
                return redirect(request.path)
            if tracking_form.is_valid():
                _record(request, case, _tracking_message(tracking_form), ())
                messages.success(request, _("Thank you, we will follow your parcel."))
                return redirect(request.path)
            tracking_form.focus_first_error()
        else:
            reply_form = ReplyForm(request.POST, request.FILES)
            if reply_form.is_valid():
                data = reply_form.cleaned_data
                if _record(request, case, data["body"], data["attachments"]):
                    messages.success(request, _("Thank you, your message has been sent."))
                return redirect(request.path)
            reply_form.focus_first_error()
    return render(
        request,
        "channels/customer_case.html",
        {
            "case": case,
            "token": token,
            "status_label": customer_label(case.status),
            "steps": progress_steps(case.kind, case.status, case.resume_status),
            "timeline": get_public_timeline(case),
            "reply_form": reply_form,
            "tracking_form": tracking_form,
        },
    )


def _tracking_message(form: TrackingForm) -> str:
    carrier = form.cleaned_data["carrier"].strip()
    number = form.cleaned_data["tracking_number"]
    # Said as a message (the agent records it on the case when the parcel is checked in).
    return _("Return tracking number: %(number)s") % {"number": number} + (
        f" ({carrier})" if carrier else ""
    )


def _record(request: HttpRequest, case: Case, body: str, files: Any) -> bool:
    message = record_customer_message(
        case.case_id, body, channel=CaseChannel.WEB, subject=case.subject, attachments=files
    )
    if message.case_id != case.case_id:
        messages.info(
            request,
            _(
                "This case was closed, so we opened a new case %(number)s for your message; "
                "we have e-mailed you its link."
            )
            % {"number": f"#{message.case_id}"},
        )
        return False
    return True


@require_http_methods(["GET"])
@customer_page(private=True)
def customer_case_file(request: HttpRequest, token: str, attachment_id: int) -> HttpResponseBase:
    """Download a file of the case's public messages (always as a download, never rendered)."""
    found = _case_or_problem(request, token)
    if not isinstance(found, Case):
        return found
    attachment = get_public_attachment(found, attachment_id)
    if attachment is None:
        return render(request, "channels/link_problem.html", {"problem": "invalid"}, status=404)
    response = FileResponse(
        attachment.file.open("rb"),
        as_attachment=True,
        filename=attachment.filename,
        content_type=attachment.content_type,
    )
    response["Content-Security-Policy"] = "sandbox"
    return response
