"""Run the report's sections on a source and collect every figure into one JSON document.

Examples
--------
>>> from manyi.data.samples import sample_path
>>> from manyi.insight.sources import open_source
>>> src = open_source(f"olist:{sample_path('olist')}")   # the bundled 3,000-order sample
>>> from manyi.insight.report.build import build_report
>>> doc = build_report(src)
>>> round(doc["sections"]["delivery"]["data"]["late_share"]["value"], 3)
0.076
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from manyi.insight.errors import SourceError
from manyi.insight.report.registry import SECTIONS
from manyi.insight.report.section import JSONDict, NoData, ReportContext, Section

if TYPE_CHECKING:
    from manyi.insight.sources import Source

#: Bumped only when a documented key changes meaning or disappears (docs/report.md).
REPORT_VERSION = 1


def build_report(
    src: Source,
    *,
    since: date | None = None,
    until: date | None = None,
    churn_path: Path | None = None,
    options: Mapping[str, Any] | None = None,
    sections: Sequence[Section] = SECTIONS,
    on_section: Callable[[Section], None] | None = None,
) -> JSONDict:
    """Compute every section and return the report's JSON document.

    Parameters
    ----------
    src
        The source (see :func:`manyi.insight.sources.open_source`).
    since, until
        Shop-local dates to keep (inclusive).
    churn_path
        Optional e-commerce churn file for the churn section.
    options
        Section options (:attr:`ReportContext.options`), e.g. ``{"text_max_reviews": 5000}``.
    sections
        The sections to run (default: all of :data:`~manyi.insight.report.registry.SECTIONS`).
    on_section
        Called after each section (progress bars).

    Returns
    -------
    dict
        ``{"report_version", "generated_at", "source", "engine", "timezone", "since",
        "until", "sections": {key: {"status", "title", "data", "reason"}}}``; ``status`` is
        ``"ok"`` or ``"no_data"`` (``data`` is then ``null`` and ``reason`` may say why in
        ``{"en", "zh"}``; ``reason`` is ``null`` otherwise).
    """
    ctx = ReportContext(
        src=src, since=since, until=until, churn_path=churn_path, options=dict(options or {})
    )
    out: dict[str, Any] = {}
    for section in sections:
        reason: dict[str, str] | None = None
        try:
            data = section.compute(ctx)
        except NoData as why:
            data, reason = None, why.reason
        except SourceError as exc:
            # A table the section needs is missing from this source: nothing to show.
            data = None
            reason = {"en": f"{exc}.", "zh": f"数据源缺少本部分所需的数据（{exc}）。"}
        out[section.key] = {
            "status": "ok" if data is not None else "no_data",
            "title": dict(section.title),
            "data": data,
            "reason": reason,
        }
        if on_section is not None:
            on_section(section)
    return {
        "report_version": REPORT_VERSION,
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "source": src.spec,
        "engine": src.engine,
        "timezone": src.timezone,
        "since": since.isoformat() if since else None,
        "until": until.isoformat() if until else None,
        "sections": out,
    }
