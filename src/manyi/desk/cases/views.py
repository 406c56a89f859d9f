"""The agent console: queues, bulk actions, taking a case, attachments, and the rules every
console view shares (the case page and its forms are in ``case_views.py``).

Each view parses the request, calls one service or selector, and renders. Every view needs a
login and the ``cases.view_case`` permission, every change also ``cases.change_case``; which
case a user may see is decided per object by ``selectors.get_case`` (another team's case is a
404, so its existence is not disclosed). Forms are plain HTML posts that work without
JavaScript; htmx only makes the queue and the macro preview update in place.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    QueryDict,
)
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.functional import Promise
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRedirect

from manyi.desk.cases import console_selectors as console
from manyi.desk.cases.errors import CaseError, CaseErrorCode
from manyi.desk.cases.events import Actor
from manyi.desk.cases.models import (
    Case,
    CaseChannel,
    CaseKind,
    CasePriority,
    CaseStatus,
)
from manyi.desk.cases.selectors import (
    QUEUES,
    CaseFilters,
    count_queues,
    get_case,
    list_cases,
)
from manyi.desk.cases.services import (
    BulkResult,
    assign_case,
    bulk_assign,
    bulk_transition,
)
from manyi.desk.cases.states import TRANSITIONS

PAGE_SIZE = 25
#: The most cases one bulk action touches (each is its own transaction).
BULK_LIMIT = 200

QUEUE_TABS: tuple[tuple[str, str | Promise], ...] = (
    ("mine", gettext_lazy("Mine")),
    ("team", gettext_lazy("My teams")),
    ("unassigned", gettext_lazy("Unassigned")),
    ("at_risk", gettext_lazy("At risk")),
    ("breached", gettext_lazy("Breached")),
    ("waiting", gettext_lazy("Waiting on customer")),
    ("open", gettext_lazy("All open")),
    ("all", gettext_lazy("All")),
)


def console_view(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """Login and the permission to read cases; the object check is ``get_case``'s."""
    return login_required(permission_required("cases.view_case", raise_exception=True)(view))


def console_action(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """A POST that changes cases: also the permission to change them (analysts get 403)."""
    guarded = permission_required("cases.change_case", raise_exception=True)(require_POST(view))
    return console_view(guarded)


def case_or_404(request: HttpRequest, case_id: int) -> Case:
    try:
        return get_case(request.user, case_id)
    except CaseError as exc:
        raise Http404(exc.message) from exc


def refuse_outright(exc: CaseError) -> None:
    """Turn "not found" and "forbidden" into the HTTP answers; other errors go to the form."""
    if exc.code == CaseErrorCode.NOT_FOUND:
        raise Http404(exc.message)
    if exc.code == CaseErrorCode.FORBIDDEN:
        raise PermissionDenied(exc.message)


def int_or_none(value: str | None) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


def posted_version(request: HttpRequest) -> int | None:
    return int_or_none(request.POST.get("version"))


# Queues ------------------------------------------------------------------------------------


def _choice(value: str | None, allowed: Any) -> str | None:
    return value if value and value in allowed else None


def _parse_filters(params: Mapping[str, str], counts: Mapping[str, int]) -> CaseFilters:
    """The queue and filters of a query string; unknown values are ignored.

    Without a queue, agents land on their own cases, else their teams', else all open ones.
    """
    queue = params.get("queue") or ""
    if queue not in QUEUES:
        queue = "mine" if counts.get("mine") else "team" if counts.get("team") else "open"
    search = (params.get("q") or "").strip()[:100]
    return CaseFilters(
        queue=queue,
        status=_choice(params.get("status"), CaseStatus.values),
        kind=_choice(params.get("kind"), CaseKind.values),
        priority=_choice(params.get("priority"), CasePriority.values),
        channel=_choice(params.get("channel"), CaseChannel.values),
        team=(params.get("team") or "").strip() or None,
        search=search or None,
    )


@dataclass
class QueueRow:
    case: Case
    due: Any


def _queue_context(
    request: HttpRequest, params: QueryDict, results: list[BulkResult] | None = None
) -> dict[str, Any]:
    counts = count_queues(request.user)
    filters = _parse_filters(params, counts)
    page = Paginator(list_cases(request.user, filters), PAGE_SIZE).get_page(params.get("page"))
    query = params.copy()
    query.pop("page", None)
    query["queue"] = filters.queue
    may_work = request.user.has_perm("cases.change_case")
    return {
        "filters": filters,
        "counts": counts,
        "tabs": [(name, label, counts.get(name)) for name, label in QUEUE_TABS],
        "page": page,
        "rows": [QueueRow(case, console.next_due_at(case)) for case in page.object_list],
        "params": query,
        "query": query.urlencode(),
        "statuses": CaseStatus.choices,
        "kinds": CaseKind.choices,
        "priorities": CasePriority.choices,
        "channels": CaseChannel.choices,
        "teams": console.list_teams(),
        "agents": console.list_assignable_agents() if may_work else [],
        "bulk_transitions": [t for t in TRANSITIONS.values() if set(t.requires) <= {"note"}]
        if may_work
        else [],
        "may_work": may_work,
        "results": results,
        "result_cases": console.get_cases_by_id(request.user, [r.case_id for r in results or ()]),
    }


def _render_queue(
    request: HttpRequest, params: QueryDict, results: list[BulkResult] | None = None
) -> HttpResponse:
    context = _queue_context(request, params, results)
    partial = request.htmx and not request.htmx.history_restore_request  # type: ignore[attr-defined]
    template = "cases/_queue_results.html" if partial else "cases/queue.html"
    response = render(request, template, context)
    # The same address answers with the table alone to htmx: caches must keep both apart.
    patch_vary_headers(response, ("HX-Request",))
    return response


@console_view
@require_GET
def queue(request: HttpRequest) -> HttpResponse:
    return _render_queue(request, request.GET)


@console_action
def bulk(request: HttpRequest) -> HttpResponse:
    """Assign or move many cases; each succeeds or fails on its own and is reported."""
    ids = list(dict.fromkeys(i for i in map(int_or_none, request.POST.getlist("case_ids")) if i))
    ids = ids[:BULK_LIMIT]
    action = request.POST.get("action", "")
    actor = Actor.staff(request.user)
    results: list[BulkResult] | None = None
    if not ids:
        messages.error(request, _("Select at least one case."))
    elif action == "assign_me":
        results = bulk_assign(ids, actor=actor, assignee_id=request.user.pk)
    elif action == "assign" and int_or_none(request.POST.get("assignee")):
        assignee = int_or_none(request.POST.get("assignee"))
        results = bulk_assign(ids, actor=actor, assignee_id=assignee)
    elif action == "team" and request.POST.get("team"):
        results = bulk_assign(ids, actor=actor, team=request.POST["team"])
    elif action == "transition" and request.POST.get("transition") in TRANSITIONS:
        note = request.POST.get("note", "").strip()
        results = bulk_transition(ids, request.POST["transition"], actor=actor, note=note)
    else:
        messages.error(request, _("Choose what to do with the selected cases."))
    params = QueryDict(request.POST.get("query", ""), mutable=True)
    return _render_queue(request, params, results)


@console_action
def take(request: HttpRequest, case_id: int) -> HttpResponse:
    """Assign the case to the requesting agent, then go to ``next`` or the case page."""
    case = case_or_404(request, case_id)
    try:
        assign_case(
            case.case_id,
            actor=Actor.staff(request.user),
            assignee_id=request.user.pk,
            expected_version=posted_version(request),
        )
    except CaseError as exc:
        refuse_outright(exc)
        messages.error(request, exc.message)
    else:
        messages.success(request, _("You took case %(number)s.") % {"number": case.number})
    target = request.POST.get("next") or ""
    if not url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        target = reverse("cases:case", args=[case.case_id])
    if request.htmx:  # type: ignore[attr-defined]
        return HttpResponseClientRedirect(target)
    return redirect(target)


# Attachments -----------------------------------------------------------------------------------


@console_view
@require_GET
def attachment(request: HttpRequest, attachment_id: int) -> FileResponse:
    """Download a file of a case the user may see; always as a download, never inline."""
    try:
        found = console.get_attachment(request.user, attachment_id)
    except CaseError as exc:
        raise Http404(exc.message) from exc
    return FileResponse(
        found.file.open("rb"),
        as_attachment=True,
        filename=found.filename,
        content_type=found.content_type or "application/octet-stream",
    )
