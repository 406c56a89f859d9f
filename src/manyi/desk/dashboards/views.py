"""The manager's dashboard (``/desk/dashboard/``): blocks, drill-down lists and exports.

Every view checks the role first (:mod:`manyi.desk.dashboards.permissions`); an agent's
requests are pinned to their own teams' service figures. Figures come from the cache
(:mod:`manyi.desk.dashboards.dashboard`); a block not computed yet is rendered as a placeholder
that htmx fills from :func:`block` (which computes it, or waits for another process computing
it).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import wraps
from importlib import util as importlib_util
from pathlib import Path
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from manyi.desk.accounts.models import Team
from manyi.desk.cases.models import CaseChannel
from manyi.desk.commerce.models import Product
from manyi.desk.dashboards import charts, drilldown, exports
from manyi.desk.dashboards.blocks import BLOCKS
from manyi.desk.dashboards.dashboard import cached_block, get_block
from manyi.desk.dashboards.filters import PRESETS, DashboardFilters, parse_filters
from manyi.desk.dashboards.labels import BLOCK_TITLES, TABLE_TITLES
from manyi.desk.dashboards.permissions import agent_teams, sees_dashboard, sees_full_dashboard
from manyi.desk.dashboards.versions import latest_data_day, read_data_version

#: Seconds a block request waits for another process computing the same block.
BLOCK_WAIT = 25.0
ROWS_PER_PAGE = 50


def dashboard_view(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """Login, and a role that sees the dashboard (403 otherwise)."""

    @wraps(view)
    def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not sees_dashboard(request.user):
            raise PermissionDenied(_("Your role does not see the dashboard."))
        return view(request, *args, **kwargs)

    return login_required(guarded)


def _filters(request: HttpRequest) -> DashboardFilters:
    """The request's filters; an agent is held to one of their teams."""
    teams = agent_teams(request.user)
    full = sees_full_dashboard(request.user)
    f = parse_filters(
        request.GET,
        anchor=latest_data_day(),
        channels=set(CaseChannel.values),
        teams=None if full else set(teams),
    )
    if not full:
        f = DashboardFilters(
            since=f.since, until=f.until, channel=f.channel, team=f.team or teams[0]
        )
    return f


def _blocks_for(user: Any) -> list[str]:
    if sees_full_dashboard(user):
        return list(BLOCKS)
    return [k for k, spec in BLOCKS.items() if spec.for_agents]


def _block_context(key: str, f: DashboardFilters, data: dict[str, Any] | None) -> dict[str, Any]:
    items = [
        {**item, "url": drilldown.drill_url(f, item.get("drill"))}
        for item in (data or {}).get("kpis", [])
    ]
    figures = charts.figures(key, data) if data else []
    query = f.query()
    tables = [
        {
            "name": name,
            "title": TABLE_TITLES.get(name, name),
            "csv": reverse("dashboards:export", args=[key, name, "csv"]) + "?" + query,
            "xlsx": reverse("dashboards:export", args=[key, name, "xlsx"]) + "?" + query,
        }
        for name in (data or {}).get("tables", {})
    ]
    return {
        "key": key,
        "title": BLOCK_TITLES[key],
        "data": data,
        "kpis": items,
        "figures": [
            {"name": name, "json": json.dumps(fig, ensure_ascii=False), "title": TABLE_TITLES[name]}
            for name, fig in figures
        ],
        "tables": tables,
        "url": reverse("dashboards:block", args=[key]) + "?" + f.query(),
        "filters": f,
    }


@dashboard_view
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    f = _filters(request)
    version = read_data_version()
    full = sees_full_dashboard(request.user)
    blocks = [_block_context(k, f, cached_block(k, f, version)) for k in _blocks_for(request.user)]
    categories = (
        Product.objects.exclude(category__isnull=True)
        .exclude(category="")
        .values_list("category", flat=True)
        .distinct()
        .order_by("category")[:300]
        if full
        else []
    )
    teams = Team.objects.all() if full else Team.objects.filter(code__in=agent_teams(request.user))
    return render(
        request,
        "dashboards/dashboard.html",
        {
            "filters": f,
            "previous": f.previous(),
            "blocks": blocks,
            "full": full,
            "presets": PRESETS,
            "channels": CaseChannel.choices,
            "teams": teams,
            "categories": categories,
            "console_url": drilldown.console_url(f),
        },
    )


@dashboard_view
@require_GET
def block(request: HttpRequest, key: str) -> HttpResponse:
    """One block, computed now if nobody has (htmx fills the placeholder with it)."""
    if key not in _blocks_for(request.user):
        raise Http404(_("No such block."))
    f = _filters(request)
    data, _here = get_block(key, f, read_data_version(), wait=BLOCK_WAIT)
    response = render(request, "dashboards/_block.html", {"b": _block_context(key, f, data)})
    patch_vary_headers(response, ("HX-Request",))
    return response


def _table_or_404(
    request: HttpRequest, key: str, name: str
) -> tuple[DashboardFilters, dict[str, Any]]:
    if key not in _blocks_for(request.user):
        raise Http404(_("No such block."))
    f = _filters(request)
    data, _here = get_block(key, f, read_data_version(), wait=BLOCK_WAIT)
    if data is None:
        raise Http404(_("The figures are still being computed; try again in a moment."))
    table = data.get("tables", {}).get(name)
    if table is None:
        raise Http404(_("No such table."))
    return f, table


@dashboard_view
@require_GET
def export(request: HttpRequest, key: str, name: str, fmt: str) -> HttpResponse:
    """The table behind a chart as CSV or Excel (the same rows the chart draws)."""
    f, table = _table_or_404(request, key, name)
    filename = f"manyi-{key}-{name}-{f.since}-{f.until}"
    if fmt == "csv":
        response = HttpResponse(exports.to_csv(table), content_type=exports.CSV_TYPE)
        response["Content-Disposition"] = f'attachment; filename="{filename}.csv"'
        return response
    if fmt == "xlsx":
        title = f"{BLOCK_TITLES[key]} · {TABLE_TITLES.get(name, name)}"
        body = exports.to_xlsx(table, title=title, note=f.query())
        response = HttpResponse(body, content_type=exports.XLSX_TYPE)
        response["Content-Disposition"] = f'attachment; filename="{filename}.xlsx"'
        return response
    raise Http404(_("Unknown format."))


@dashboard_view
@require_GET
def rows(request: HttpRequest, kind: str) -> HttpResponse:
    """The rows behind a number, read-only, each linking to its case or review."""
    drill = drilldown.parse_drill(kind, request.GET)
    if drill is None:
        raise Http404(_("Unknown rows."))
    if not sees_full_dashboard(request.user) and drill.rows != "cases":
        raise PermissionDenied(_("Your role sees the cases of your teams only."))
    f = _filters(request)
    listed = drilldown.rows_for(request.user, f, drill)
    page = Paginator(listed, ROWS_PER_PAGE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "dashboards/rows.html",
        {
            "filters": f,
            "drill": drill,
            "page": page,
            "query": query.urlencode(),
            "inbox_url": drilldown.inbox_url(f, drill),
            "back": reverse("dashboards:dashboard") + "?" + f.query(),
        },
    )


def _plotly_path() -> Path:
    spec = importlib_util.find_spec("plotly")
    if spec is None or not spec.submodule_search_locations:
        raise Http404("plotly is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "package_data" / "plotly.min.js"


@login_required
@require_GET
def plotly_js(request: HttpRequest) -> FileResponse:
    """``plotly.min.js`` from the installed plotly package (never a CDN). The address carries
    the plotly version, so browsers may keep it for a year."""
    response = FileResponse(_plotly_path().open("rb"), content_type="text/javascript")
    response["Cache-Control"] = "private, max-age=31536000, immutable"
    return response
