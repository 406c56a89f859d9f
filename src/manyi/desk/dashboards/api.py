"""``GET /api/report``: the satisfaction and sales report's JSON over the desk database.

The same document as ``manyi report --json`` (``docs/report.md``, ``report_version`` 1), built
by :func:`manyi.insight.report.build.build_report` on DuckDB reading the desk database and cached
under (period, data version) like the dashboard: a repeat call returns the stored document.
``lang`` (``zh`` or ``en``) adds ``title_text`` and ``reason_text`` in that language to every
section (the bilingual ``title`` and ``reason`` stay). Admins, managers and analysts only.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema
from pydantic import Field

from manyi.desk.api.auth import api_auth
from manyi.desk.api.errors import ApiError, ErrorOut
from manyi.desk.dashboards import cache
from manyi.desk.dashboards.permissions import sees_full_dashboard
from manyi.desk.dashboards.source import desk_source
from manyi.desk.dashboards.versions import read_data_version

router = Router(tags=["report"])

#: Caps of the sections that pull rows into Python, as the CLI's defaults.
OPTIONS = {"text_max_reviews": 5_000, "drivers_max_orders": 10_000}


class ReportQuery(Schema):
    since: date | None = Field(None, description="First shop-local day (YYYY-MM-DD), inclusive")
    until: date | None = Field(None, description="Last shop-local day (YYYY-MM-DD), inclusive")
    lang: Literal["zh", "en"] | None = Field(
        None, description="Add title_text and reason_text in this language"
    )


def report_document(since: date | None, until: date | None) -> dict[str, Any]:
    """The report JSON of the desk database for the period, from the cache when fresh."""
    from manyi.insight.report.build import build_report

    version = read_data_version()
    key = cache.cache_key(
        "report",
        since.isoformat() if since else "-",
        until.isoformat() if until else "-",
        version.all,
    )

    def build() -> dict[str, Any]:
        with desk_source() as src:
            return build_report(src, since=since, until=until, options=OPTIONS)

    doc, _here = cache.get_or_compute(key, build, wait=600)
    if doc is None:
        raise ApiError(503, "busy", _("The report is being built; try again in a minute."))
    return doc


def _localised(doc: dict[str, Any], lang: str) -> dict[str, Any]:
    sections = {}
    for key, section in doc.get("sections", {}).items():
        reason = section.get("reason") or {}
        sections[key] = {
            **section,
            "title_text": (section.get("title") or {}).get(lang),
            "reason_text": reason.get(lang) if reason else None,
        }
    return {**doc, "sections": sections, "lang": lang}


@router.get(
    "/report",
    auth=api_auth(),
    response={200: dict[str, Any], 401: ErrorOut, 403: ErrorOut, 422: ErrorOut, 503: ErrorOut},
    summary="The satisfaction and sales report (JSON)",
)
def get_report(request: HttpRequest, params: Query[ReportQuery]) -> dict[str, Any]:
    """Every figure of the report for the period (docs/report.md); ``since``/``until`` are
    shop-local days, both inclusive, either may be left open."""
    if not sees_full_dashboard(request.auth):  # type: ignore[attr-defined]
        raise ApiError(403, "forbidden", _("Your role does not see the report."))
    if params.since and params.until and params.since > params.until:
        raise ApiError(
            422, "invalid", _("since is after until."), fields={"since": _("after until")}
        )
    doc = report_document(params.since, params.until)
    return _localised(doc, params.lang) if params.lang else doc
