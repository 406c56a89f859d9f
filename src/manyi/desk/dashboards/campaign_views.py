"""Promotion mode (``/desk/campaigns/``): campaigns, the live view, post-campaign reviews.

Admins, managers and analysts see campaigns and their reviews and may ask for a review (it only
reads data); admins and managers create and edit campaigns.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from manyi.desk.dashboards import campaigns
from manyi.desk.dashboards.forms import CampaignForm
from manyi.desk.dashboards.live_charts import live_figures
from manyi.desk.dashboards.models import Campaign, CampaignReview, ReviewStatus
from manyi.desk.dashboards.permissions import (
    may_change_campaigns,
    may_run_reviews,
    sees_campaigns,
)

REFRESH_SECONDS = 5


def campaigns_view(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    @wraps(view)
    def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not sees_campaigns(request.user):
            raise PermissionDenied(_("Your role does not see campaigns."))
        return view(request, *args, **kwargs)

    return login_required(guarded)


@campaigns_view
@require_GET
def campaign_list(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "dashboards/campaigns.html",
        {
            "campaigns": Campaign.objects.prefetch_related("reviews"),
            "may_change": may_change_campaigns(request.user),
            "today": timezone.localdate(),
        },
    )


@campaigns_view
@require_http_methods(["GET", "POST"])
def campaign_edit(request: HttpRequest, campaign_pk: int | None = None) -> HttpResponse:
    if not may_change_campaigns(request.user):
        raise PermissionDenied(_("Only managers and admins create campaigns."))
    campaign = get_object_or_404(Campaign, pk=campaign_pk) if campaign_pk else None
    if request.method == "POST":
        form = CampaignForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                saved = campaigns.save_campaign(
                    name=data["name"],
                    starts_on=data["starts_on"],
                    ends_on=data["ends_on"],
                    baseline_starts_on=data["baseline_starts_on"],
                    baseline_ends_on=data["baseline_ends_on"],
                    capacity=data["capacity"],
                    notes=data["notes"],
                    actor=request.user,
                    campaign=campaign,
                )
            except campaigns.CampaignError as exc:
                form.add_error(None, exc.message)
            else:
                return redirect("dashboards:campaign", campaign_pk=saved.pk)
    else:
        initial = {}
        if campaign is not None:
            initial = {
                f: getattr(campaign, f)
                for f in (
                    "name",
                    "starts_on",
                    "ends_on",
                    "baseline_starts_on",
                    "baseline_ends_on",
                    "capacity",
                    "notes",
                )
            }
        form = CampaignForm(initial=initial)
    return render(request, "dashboards/campaign_edit.html", {"form": form, "campaign": campaign})


def _live_context(request: HttpRequest, campaign: Campaign) -> dict[str, Any]:
    at = request.GET.get("at")
    now, replay = campaigns.local_now(at)
    snap = campaigns.live_view(campaign, now, replay=replay)
    return {
        "campaign": campaign,
        "snap": snap,
        "figures": [
            {"name": name, "json": json.dumps(fig, ensure_ascii=False)}
            for name, fig in (live_figures(snap) if snap else [])
        ],
        "at": at if replay else "",
        "refresh": REFRESH_SECONDS,
        "served_at": timezone.localtime().strftime("%H:%M:%S"),
    }


@campaigns_view
@require_GET
def campaign_page(request: HttpRequest, campaign_pk: int) -> HttpResponse:
    """The campaign with its live view (refreshed every 5 s) and its reviews."""
    campaign = get_object_or_404(Campaign, pk=campaign_pk)
    context = _live_context(request, campaign)
    context.update(
        {
            "reviews": campaign.reviews.order_by("-requested_at")[:10],
            "may_change": may_change_campaigns(request.user),
            "may_review": may_run_reviews(request.user),
        }
    )
    return render(request, "dashboards/campaign.html", context)


@campaigns_view
@require_GET
def live(request: HttpRequest, campaign_pk: int) -> HttpResponse:
    """The live part alone, polled by htmx every few seconds."""
    campaign = get_object_or_404(Campaign, pk=campaign_pk)
    return render(request, "dashboards/_live.html", _live_context(request, campaign))


@campaigns_view
@require_POST
def review_request(request: HttpRequest, campaign_pk: int) -> HttpResponse:
    if not may_run_reviews(request.user):
        raise PermissionDenied(_("Your role may not run reviews."))
    campaign = get_object_or_404(Campaign, pk=campaign_pk)
    review = campaigns.request_review(campaign, actor=request.user)
    return redirect("dashboards:campaign_review", review_pk=review.pk)


@campaigns_view
@require_GET
def review_page(request: HttpRequest, review_pk: int) -> HttpResponse:
    review = get_object_or_404(CampaignReview.objects.select_related("campaign"), pk=review_pk)
    lang = "zh" if request.LANGUAGE_CODE.startswith("zh") else "en"
    return render(
        request,
        "dashboards/review.html",
        {
            "review": review,
            "campaign": review.campaign,
            "lang": lang,
            "waiting": review.status in (ReviewStatus.QUEUED, ReviewStatus.RUNNING),
        },
    )


@campaigns_view
@require_GET
@xframe_options_sameorigin
def review_file(request: HttpRequest, review_pk: int, kind: str) -> FileResponse:
    """The stored review: ``zh`` / ``en`` page (shown in the desk, or downloaded with
    ``?download=1``) or ``json``."""
    review = get_object_or_404(CampaignReview, pk=review_pk, status=ReviewStatus.DONE)
    files = {"zh": review.page_zh, "en": review.page_en, "json": review.document}
    stored = files.get(kind)
    if stored is None or not stored:
        raise Http404(_("No such file."))
    download = kind == "json" or request.GET.get("download") == "1"
    name = f"review-{review.campaign_id}-{review.pk}-{kind}.{'json' if kind == 'json' else 'html'}"
    response = FileResponse(
        stored.open("rb"),
        as_attachment=download,
        filename=name,
        content_type="application/json" if kind == "json" else "text/html; charset=utf-8",
    )
    if kind != "json":
        # The page quotes customers' review texts: it runs its charts' scripts in a sandbox of
        # its own origin, never with the desk's cookies or pages, even when opened directly.
        response["Content-Security-Policy"] = "sandbox allow-scripts"
    return response
