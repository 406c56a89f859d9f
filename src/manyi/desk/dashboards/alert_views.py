"""Alert pages (``/desk/alerts/``): rules, their history, acknowledging an alert.

Admins, managers and analysts see them; admins and managers change rules and acknowledge
(analysts get 403 on every change).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from manyi.desk.dashboards import alerts
from manyi.desk.dashboards.forms import AlertRuleForm
from manyi.desk.dashboards.models import AlertEvent, AlertRule
from manyi.desk.dashboards.permissions import may_change_alerts, sees_alerts
from manyi.insight.monitor import METRICS

EVENTS_PER_PAGE = 30


def alerts_view(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    @wraps(view)
    def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not sees_alerts(request.user):
            raise PermissionDenied(_("Your role does not see alerts."))
        return view(request, *args, **kwargs)

    return login_required(guarded)


def _may_change(request: HttpRequest) -> None:
    if not may_change_alerts(request.user):
        raise PermissionDenied(_("Only managers and admins change alerts."))


def _metric_title(name: str, lang: str) -> str:
    spec = METRICS.get(name)
    if spec is None:
        return name
    return spec.title["zh"] if lang.startswith("zh") else spec.title["en"]


@alerts_view
@require_GET
def alert_list(request: HttpRequest) -> HttpResponse:
    lang = request.LANGUAGE_CODE
    rules = list(AlertRule.objects.all())
    for rule in rules:
        rule.metric_title = _metric_title(rule.metric, lang)  # type: ignore[attr-defined]
        rule.message = rule.last_message(lang)  # type: ignore[attr-defined]
    events = AlertEvent.objects.select_related("rule", "acknowledged_by")
    unacked = events.filter(acknowledged_at__isnull=True)[:20]
    return render(
        request,
        "dashboards/alerts.html",
        {"rules": rules, "unacked": unacked, "may_change": may_change_alerts(request.user)},
    )


@alerts_view
@require_http_methods(["GET", "POST"])
def rule_edit(request: HttpRequest, rule_pk: int | None = None) -> HttpResponse:
    _may_change(request)
    rule = get_object_or_404(AlertRule, pk=rule_pk) if rule_pk else None
    if request.method == "POST":
        form = AlertRuleForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                saved = alerts.save_rule(
                    data["rule"],
                    name=data["name"],
                    emails=data["emails"],
                    webhook_url=data["webhook_url"],
                    language=data["language"],
                    enabled=data["enabled"],
                    actor=request.user,
                    rule=rule,
                )
            except alerts.AlertError as exc:
                form.add_error(None, exc.message)
            else:
                return redirect("dashboards:alert_rule", rule_pk=saved.pk)
    else:
        initial = AlertRuleForm.initial_from(rule) if rule else {"language": "zh-hans"}
        form = AlertRuleForm(initial=initial)
    return render(request, "dashboards/rule_edit.html", {"form": form, "rule": rule})


@alerts_view
@require_GET
def rule_page(request: HttpRequest, rule_pk: int) -> HttpResponse:
    rule = get_object_or_404(AlertRule, pk=rule_pk)
    lang = request.LANGUAGE_CODE
    events = rule.events.select_related("acknowledged_by").prefetch_related("deliveries")
    page = Paginator(events, EVENTS_PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "dashboards/rule.html",
        {
            "rule": rule,
            "metric_title": _metric_title(rule.metric, lang),
            "message": rule.last_message(lang),
            "page": page,
            "may_change": may_change_alerts(request.user),
        },
    )


@alerts_view
@require_GET
def history(request: HttpRequest) -> HttpResponse:
    events = AlertEvent.objects.select_related("rule", "acknowledged_by").prefetch_related(
        "deliveries"
    )
    state = request.GET.get("state")
    if state == "open":
        events = events.filter(acknowledged_at__isnull=True)
    elif state == "acknowledged":
        events = events.filter(acknowledged_at__isnull=False)
    page = Paginator(events, EVENTS_PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "dashboards/history.html",
        {"page": page, "state": state, "may_change": may_change_alerts(request.user)},
    )


@alerts_view
@require_GET
def event_page(request: HttpRequest, event_pk: int) -> HttpResponse:
    event = get_object_or_404(
        AlertEvent.objects.select_related("rule", "acknowledged_by"), pk=event_pk
    )
    return render(
        request,
        "dashboards/event.html",
        {
            "event": event,
            "deliveries": event.deliveries.order_by("pk"),
            "may_change": may_change_alerts(request.user),
        },
    )


@alerts_view
@require_POST
def acknowledge(request: HttpRequest, event_pk: int) -> HttpResponse:
    """Acknowledge (htmx: the row comes back acknowledged; without JS: back to the list)."""
    _may_change(request)
    get_object_or_404(AlertEvent, pk=event_pk)
    event = alerts.acknowledge(event_pk, actor=request.user, note=request.POST.get("note", ""))
    if request.htmx:  # type: ignore[attr-defined]
        return render(request, "dashboards/_ack.html", {"event": event, "may_change": True})
    target = request.POST.get("next") or ""
    if not url_has_allowed_host_and_scheme(target, {request.get_host()}, require_https=False):
        target = reverse("dashboards:alert_history")
    return redirect(target)
