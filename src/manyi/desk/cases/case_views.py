"""The case page of the agent console and the forms on it: transitions, replies, notes and
logged calls, priority and assignment, macros.

Every form posts the ``version`` the agent saw. When the service refuses (missing data, a rule,
or someone else changed the case meanwhile), the page is shown again with the fresh case, the
reason, and the agent's input still in the form that was sent (status from ``CaseError``: 409 for
a conflict, 422 for missing data).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from manyi.desk.cases import console_selectors as console
from manyi.desk.cases.errors import CaseConflict, CaseError
from manyi.desk.cases.events import Actor
from manyi.desk.cases.models import Case, CaseKind, CasePriority
from manyi.desk.cases.notifications import IncomingFile
from manyi.desk.cases.selectors import (
    can_work_on,
    get_timeline,
    list_allowed_transitions,
    list_customer_timeline,
)
from manyi.desk.cases.services import (
    add_note,
    apply_macro,
    assign_case,
    log_contact,
    render_macro,
    reply_to_case,
    transition_case,
    update_case,
)
from manyi.desk.cases.states import TRANSITIONS, Transition
from manyi.desk.cases.views import (
    case_or_404,
    console_action,
    console_view,
    int_or_none,
    posted_version,
    refuse_outright,
)

#: What each field a transition may ask for looks like in its form.
TRANSITION_INPUTS: dict[str, tuple[str | Promise, str]] = {
    "diagnosis": (gettext_lazy("Diagnosis"), "textarea"),
    "inspection_note": (gettext_lazy("Inspection note"), "textarea"),
    "refund_amount": (gettext_lazy("Refund amount"), "amount"),
    "return_tracking": (gettext_lazy("Return tracking number"), "text"),
    "replacement_tracking": (gettext_lazy("Replacement tracking number"), "text"),
    "note": (gettext_lazy("Note"), "textarea"),
}
#: Kinds where money goes back, so approving may set the amount approved.
MONEY_KINDS = frozenset({CaseKind.RETURN_REFUND, CaseKind.REFUND_ONLY, CaseKind.COMPLAINT})


@dataclass
class FormInput:
    name: str
    label: str | Promise
    widget: str
    value: Any
    required: bool
    error: str = ""


@dataclass
class TransitionForm:
    transition: Transition
    inputs: list[FormInput] = field(default_factory=list)
    open: bool = False


def transition_inputs(transition: Transition, case: Case) -> list[tuple[str, bool]]:
    """The fields a transition's form asks for, and whether each is required.

    Exactly the transition's ``requires``, plus an optional note (the reason for a decision),
    and the amount when approving money back (so the approval limit checks what is approved).
    """
    wanted = [(name, True) for name in transition.requires]
    if transition.name == "approve" and case.kind in MONEY_KINDS:
        wanted.append(("refund_amount", False))
    if "note" not in transition.requires:
        wanted.append(("note", False))
    return wanted


def _transition_forms(
    transitions: list[Transition],
    case: Case,
    *,
    open_form: str | None,
    typed: Mapping[str, str],
    errors: Mapping[str, str],
) -> list[TransitionForm]:
    forms = []
    for t in transitions:
        is_open = open_form == f"transition-{t.name}"
        inputs = []
        for name, required in transition_inputs(t, case):
            label, widget = TRANSITION_INPUTS[name]
            if name == "note" and t.name in {"approve", "reject"}:
                label = gettext_lazy("Reason for the decision")
            current = "" if name == "note" else getattr(case, name)
            value = typed.get(name, current) if is_open else current
            inputs.append(
                FormInput(
                    name,
                    label,
                    widget,
                    "" if value is None else value,
                    required,
                    errors.get(name, "") if is_open else "",
                )
            )
        forms.append(TransitionForm(t, inputs, is_open))
    return forms


def _render_case(
    request: HttpRequest,
    case: Case,
    *,
    status: int = 200,
    open_form: str | None = None,
    typed: Mapping[str, str] | None = None,
    errors: Mapping[str, str] | None = None,
    notice: str = "",
    conflict: bool = False,
) -> HttpResponse:
    """The case page; after a refused form, that form is open with the agent's input in it."""
    user = request.user
    typed = typed or {}
    errors = errors or {}
    now = timezone.now()
    transitions = list_allowed_transitions(user, case)
    macros = console.list_case_macros(case)
    preview = None
    reply_body = typed.get("body", "") if open_form == "reply" else ""
    macro_id = int_or_none(request.GET.get("macro"))
    if macro_id:
        try:
            macro = console.get_case_macro(case, macro_id)
        except CaseError:
            macro = None
        if macro is not None:
            preview = (macro, render_macro(macro, case, user))
            if request.GET.get("insert"):
                reply_body = preview[1]
    context = {
        "case": case,
        "now": now,
        "clocks": console.list_case_clocks(case, now),
        "due": console.next_due_at(case),
        "timeline": get_timeline(case),
        "may_work": can_work_on(user, case),
        "transition_forms": _transition_forms(
            transitions, case, open_form=open_form, typed=typed, errors=errors
        ),
        "order": console.get_case_order(case),
        "case_items": case.case_items.select_related("order_item__product"),
        "other_cases": console.list_other_cases(user, case),
        "customer_timeline": list_customer_timeline(user, case.customer_id)[:20]
        if case.customer_id
        else [],
        "macros": macros,
        "preview": preview,
        "agents": console.list_assignable_agents(case.team_id),
        "teams": console.list_teams(),
        "priorities": CasePriority.choices,
        "open_form": open_form or "",
        "typed": typed,
        "errors": errors,
        "notice": notice,
        "conflict": conflict,
        "reply_body": reply_body,
        "reply_mode": typed.get("mode", "reply") if open_form == "reply" else "reply",
    }
    return render(request, "cases/case.html", context, status=status)


@console_view
@require_GET
def case_page(request: HttpRequest, case_id: int) -> HttpResponse:
    return _render_case(request, case_or_404(request, case_id))


def _after_refusal(
    request: HttpRequest, case_id: int, exc: CaseError, open_form: str
) -> HttpResponse:
    """The page again after a refused change: fresh case, message, the agent's input kept."""
    refuse_outright(exc)
    fresh = case_or_404(request, case_id)
    return _render_case(
        request,
        fresh,
        status=exc.http_status,
        open_form=open_form,
        typed=request.POST.dict(),
        errors=exc.fields,
        notice=exc.message,
        conflict=isinstance(exc, CaseConflict),
    )


def _done(request: HttpRequest, case: Case, message: str) -> HttpResponse:
    messages.success(request, message)
    return redirect("cases:case", case.case_id)


@console_action
def transition(request: HttpRequest, case_id: int, name: str) -> HttpResponse:
    case = case_or_404(request, case_id)
    move = TRANSITIONS.get(name)
    if move is None:
        raise Http404(name)
    fields: dict[str, str] = {}
    for input_name, _required in transition_inputs(move, case):
        value = request.POST.get(input_name, "").strip()
        # An empty box keeps what the case already has; the service says if that is missing.
        if input_name != "note" and value:
            fields[input_name] = value
    try:
        transition_case(
            case.case_id,
            name,
            actor=Actor.staff(request.user),
            expected_version=posted_version(request),
            note=request.POST.get("note", "").strip(),
            fields=fields,
        )
    except CaseError as exc:
        return _after_refusal(request, case.case_id, exc, f"transition-{name}")
    return _done(
        request, case, _("%(number)s: %(action)s.") % {"number": case.number, "action": move.label}
    )


@console_action
def reply(request: HttpRequest, case_id: int) -> HttpResponse:
    """A public reply, an internal note, or a logged phone call / chat."""
    case = case_or_404(request, case_id)
    mode = request.POST.get("mode", "reply")
    body = request.POST.get("body", "")
    actor = Actor.staff(request.user)
    version = posted_version(request)
    try:
        if mode == "note":
            add_note(case.case_id, body, actor=actor, expected_version=version)
            done = _("Note added.")
        elif mode == "contact":
            log_contact(
                case.case_id,
                body,
                actor=actor,
                channel=request.POST.get("channel", ""),
                direction=request.POST.get("direction", ""),
                expected_version=version,
            )
            done = _("Contact logged.")
        else:
            files = [
                IncomingFile(f.name or "attachment", f.content_type or "", f.read())
                for f in request.FILES.getlist("files")
            ]
            reply_to_case(
                case.case_id, body, actor=actor, expected_version=version, attachments=files
            )
            done = _("Reply sent.")
    except CaseError as exc:
        return _after_refusal(request, case.case_id, exc, "reply")
    return _done(request, case, done)


@console_action
def update(request: HttpRequest, case_id: int) -> HttpResponse:
    case = case_or_404(request, case_id)
    try:
        update_case(
            case.case_id,
            actor=Actor.staff(request.user),
            expected_version=posted_version(request),
            priority=request.POST.get("priority") or None,
        )
    except CaseError as exc:
        return _after_refusal(request, case.case_id, exc, "update")
    return _done(request, case, _("Case updated."))


@console_action
def assign(request: HttpRequest, case_id: int) -> HttpResponse:
    case = case_or_404(request, case_id)
    try:
        assign_case(
            case.case_id,
            actor=Actor.staff(request.user),
            expected_version=posted_version(request),
            assignee_id=int_or_none(request.POST.get("assignee")),
            team=request.POST.get("team") or None,
        )
    except CaseError as exc:
        return _after_refusal(request, case.case_id, exc, "assign")
    return _done(request, case, _("Assignment saved."))


# Macros ----------------------------------------------------------------------------------------


@console_view
@require_GET
def macro_preview(request: HttpRequest, case_id: int, macro_id: int) -> HttpResponse:
    """The macro filled in for this case (an htmx fragment; the page itself without htmx)."""
    case = case_or_404(request, case_id)
    if not request.htmx:  # type: ignore[attr-defined]
        return redirect(f"{reverse('cases:case', args=[case.case_id])}?macro={macro_id}#macros")
    try:
        macro = console.get_case_macro(case, macro_id)
    except CaseError as exc:
        raise Http404(exc.message) from exc
    context = {
        "case": case,
        "preview": (macro, render_macro(macro, case, request.user)),
        "may_work": can_work_on(request.user, case),
    }
    return render(request, "cases/_macro_preview.html", context)


@console_view
@require_GET
def macro_insert(request: HttpRequest, case_id: int, macro_id: int) -> HttpResponse:
    """The reply box with the filled-in macro in it, for the agent to edit and send."""
    case = case_or_404(request, case_id)
    if not request.htmx:  # type: ignore[attr-defined]
        url = reverse("cases:case", args=[case.case_id])
        return redirect(f"{url}?macro={macro_id}&insert=1#reply")
    try:
        macro = console.get_case_macro(case, macro_id)
    except CaseError as exc:
        raise Http404(exc.message) from exc
    context = {
        "case": case,
        "reply_body": render_macro(macro, case, request.user),
        "reply_mode": "reply",
        "errors": {},
        "open_form": "",
    }
    return render(request, "cases/_reply_box.html", context)


@console_action
def macro_apply(request: HttpRequest, case_id: int, macro_id: int) -> HttpResponse:
    """Send the macro as a reply and run its transition, if any (both or neither)."""
    case = case_or_404(request, case_id)
    try:
        macro = console.get_case_macro(case, macro_id)
        apply_macro(
            case.case_id,
            macro.pk,
            actor=Actor.staff(request.user),
            expected_version=posted_version(request),
        )
    except CaseError as exc:
        return _after_refusal(request, case.case_id, exc, "macros")
    return _done(request, case, _("Macro “%(name)s” applied.") % {"name": macro.name})
