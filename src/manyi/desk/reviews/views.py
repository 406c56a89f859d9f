"""The review inbox: the list with its filters, the review page, replies, status, follow-ups.

Each view parses the request, calls one service or selector, and renders. Every page needs a
login and ``commerce.view_review`` (every staff role has it); every change also a role that
works on reviews (analysts read only: 403). Forms are plain HTML posts that work without
JavaScript; htmx only updates the list in place and fills the reply box from a template.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from datetime import datetime, time, timedelta
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from manyi.desk.commerce.models import Review
from manyi.desk.reviews import selectors
from manyi.desk.reviews.errors import ReviewError, ReviewErrorCode
from manyi.desk.reviews.follow_ups import open_follow_up_by_hand
from manyi.desk.reviews.highlight import Mark, segments
from manyi.desk.reviews.models import Aspect, Polarity, ReviewStatus
from manyi.desk.reviews.permissions import READ_PERMISSION, may_work_reviews
from manyi.desk.reviews.selectors import ReviewFilters
from manyi.desk.reviews.services import (
    TEMPLATE_VARIABLES,
    bulk_set_review_status,
    render_reply_template,
    reply_to_review,
    set_review_status,
)

PAGE_SIZE = 25
#: The most reviews one bulk change touches.
BULK_LIMIT = 500
LANGUAGES = (("zh", "中文"), ("en", "English"), ("pt", "Português"), ("unknown", "?"))
STATUS_TABS = (("", gettext_lazy("All")), *ReviewStatus.choices)


def inbox_view(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """Login (anonymous users go to the login page) and the permission to read reviews."""
    return login_required(permission_required(READ_PERMISSION, raise_exception=True)(view))


def inbox_action(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """A POST that changes reviews: also a role that works on them (analysts get 403)."""

    @functools.wraps(view)
    def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not may_work_reviews(request.user):
            raise PermissionDenied(_("Your role may not change reviews."))
        return view(request, *args, **kwargs)

    return inbox_view(require_POST(guarded))


def _refusal(exc: ReviewError) -> None:
    if exc.code == ReviewErrorCode.NOT_FOUND:
        raise Http404(exc.message)
    if exc.code == ReviewErrorCode.FORBIDDEN:
        raise PermissionDenied(exc.message)


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


def _choice(value: str | None, allowed: Any) -> str | None:
    return value if value and value in allowed else None


def _day(value: str | None, *, end: bool = False) -> datetime | None:
    """A date from the form as the start of that day (``end``: of the next day) here."""
    try:
        day = parse_date(value or "")
    except ValueError:
        return None
    if day is None:
        return None
    if end:
        day += timedelta(days=1)
    return timezone.make_aware(datetime.combine(day, time.min))


def parse_filters(params: Mapping[str, str]) -> ReviewFilters:
    """The filters of a query string; unknown or malformed values are ignored."""
    rating = _int(params.get("rating"))
    has_reply = {"yes": True, "no": False}.get(params.get("reply") or "")
    has_follow_up = {"yes": True, "no": False}.get(params.get("case") or "")
    return ReviewFilters(
        rating=rating if rating in {1, 2, 3, 4, 5} else None,
        sentiment=_choice(params.get("sentiment"), Polarity.values),
        aspect=_choice(params.get("aspect"), Aspect.values),
        negative_aspect=_choice(params.get("negative_aspect"), Aspect.values),
        language=_choice(params.get("language"), {code for code, _ in LANGUAGES}),
        status=_choice(params.get("status"), ReviewStatus.values),
        has_reply=has_reply,
        has_follow_up=has_follow_up,
        created_from=_day(params.get("from")),
        created_to=_day(params.get("to"), end=True),
        category=(params.get("category") or "").strip()[:128] or None,
        seller=(params.get("seller") or "").strip()[:64] or None,
        search=(params.get("q") or "").strip()[:100] or None,
    )


def _inbox_context(request: HttpRequest, params: QueryDict) -> dict[str, Any]:
    user = request.user
    filters = parse_filters(params)
    reviews = selectors.list_reviews(user, filters)
    page = Paginator(reviews, PAGE_SIZE).get_page(params.get("page"))
    query = params.copy()
    query.pop("page", None)
    counts = selectors.count_statuses(user, ReviewFilters(**{**vars(filters), "status": None}))
    rows = [(review, selectors.visible_follow_up_case(user, review)) for review in page]
    return {
        "filters": filters,
        "params": query,
        "query": query.urlencode(),
        "page": page,
        "rows": rows,
        "tabs": [(value, label, counts.get(value or "all", 0)) for value, label in STATUS_TABS],
        "statuses": ReviewStatus.choices,
        "sentiments": Polarity.choices,
        "aspects": Aspect.choices,
        "languages": LANGUAGES,
        "categories": selectors.list_categories(),
        "ratings": (5, 4, 3, 2, 1),
        "may_work": may_work_reviews(user),
        "from_value": params.get("from", ""),
        "to_value": params.get("to", ""),
    }


def _render_inbox(request: HttpRequest, params: QueryDict) -> HttpResponse:
    context = _inbox_context(request, params)
    partial = request.htmx and not request.htmx.history_restore_request  # type: ignore[attr-defined]
    template = "reviews/_inbox_results.html" if partial else "reviews/inbox.html"
    return render(request, template, context)


@inbox_view
@require_GET
def inbox(request: HttpRequest) -> HttpResponse:
    return _render_inbox(request, request.GET)


@inbox_action
def bulk(request: HttpRequest) -> HttpResponse:
    """Give the selected reviews one status (one transaction)."""
    ids = [i for i in map(_int, request.POST.getlist("review_ids")) if i][:BULK_LIMIT]
    status = request.POST.get("status", "")
    if not ids:
        messages.error(request, _("Select at least one review."))
    elif status not in ReviewStatus.values:
        messages.error(request, _("Choose a status for the selected reviews."))
    else:
        changed = bulk_set_review_status(ids, status, user=request.user)
        messages.success(
            request,
            _("%(changed)s of %(selected)s reviews are now “%(status)s”.")
            % {"changed": changed, "selected": len(ids), "status": ReviewStatus(status).label},
        )
    params = QueryDict(request.POST.get("query", ""), mutable=True)
    return _render_inbox(request, params)


def _marks(review: Review) -> list[Mark]:
    return [Mark(a.aspect, a.polarity, a.clause, a.phrase) for a in review.aspects.all()]


def _render_review(
    request: HttpRequest,
    review: Review,
    *,
    status: int = 200,
    reply_body: str | None = None,
    errors: Mapping[str, str] | None = None,
) -> HttpResponse:
    user = request.user
    templates = selectors.list_reply_templates()
    chosen = _int(request.GET.get("template"))
    template = selectors.get_reply_template(chosen) if chosen else None
    if reply_body is None:
        reply_body = render_reply_template(template, review, user) if template else ""
    marks = _marks(review)
    context = {
        "review": review,
        "analysis": getattr(review, "analysis", None),
        "state": getattr(review, "inbox", None),
        "title_segments": segments(review.title or "", marks),
        "body_segments": segments(review.body or "", marks),
        "aspects": list(review.aspects.all()),
        "order": review.order,
        "customer": review.order.customer,
        "lines": selectors.list_order_lines(review),
        "other_reviews": selectors.list_customer_reviews(review),
        "follow_up": getattr(review, "follow_up", None),
        "follow_up_case": selectors.visible_follow_up_case(user, review),
        "replies": selectors.list_replies(review),
        "events": selectors.list_events(review),
        "templates": templates,
        "template": template,
        "variables": TEMPLATE_VARIABLES,
        "reply_body": reply_body,
        "errors": errors or {},
        "statuses": ReviewStatus.choices,
        "may_work": may_work_reviews(user),
    }
    partial = request.htmx and request.GET.get("partial") == "reply"  # type: ignore[attr-defined]
    name = "reviews/_reply_box.html" if partial else "reviews/review.html"
    return render(request, name, context, status=status)


def _review_or_404(request: HttpRequest, review_pk: int) -> Review:
    try:
        return selectors.get_review(request.user, review_pk)
    except ReviewError as exc:
        raise Http404(exc.message) from exc


@inbox_view
@require_GET
def review_page(request: HttpRequest, review_pk: int) -> HttpResponse:
    return _render_review(request, _review_or_404(request, review_pk))


@inbox_action
def reply(request: HttpRequest, review_pk: int) -> HttpResponse:
    body = request.POST.get("body", "")
    try:
        reply_to_review(
            review_pk, body, user=request.user, template_id=_int(request.POST.get("template"))
        )
    except ReviewError as exc:
        _refusal(exc)
        review = _review_or_404(request, review_pk)
        messages.error(request, exc.message)
        return _render_review(request, review, status=422, reply_body=body, errors=exc.fields)
    messages.success(request, _("Your reply is stored."))
    return redirect(reverse("reviews:review", args=[review_pk]))


@inbox_action
def status(request: HttpRequest, review_pk: int) -> HttpResponse:
    try:
        set_review_status(review_pk, request.POST.get("status", ""), user=request.user)
    except ReviewError as exc:
        _refusal(exc)
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Status saved."))
    return redirect(reverse("reviews:review", args=[review_pk]))


@inbox_action
def follow_up(request: HttpRequest, review_pk: int) -> HttpResponse:
    """Open the review's follow-up case by hand (any age, any stars)."""
    try:
        case = open_follow_up_by_hand(review_pk, user=request.user)
    except ReviewError as exc:
        _refusal(exc)
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Follow-up case %(number)s is open.") % {"number": case.number})
    return redirect(reverse("reviews:review", args=[review_pk]))
