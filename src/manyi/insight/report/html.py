"""Render the report's JSON document as one self-contained, offline HTML page.

plotly's bundled ``plotly.min.js`` is inlined once (no CDN, no network); each chart is a
``<div>`` with its figure as JSON. The text is Chinese or English (``lang``).

Examples
--------
>>> from manyi.insight.report.html import render_html
>>> page = render_html({"report_version": 1, "generated_at": "2026-01-01T00:00:00+00:00",
...     "source": "demo", "since": None, "until": None, "sections": {}}, lang="en",
...     include_plotlyjs=False)
>>> "<html" in page and "cdn" not in page.lower()
True
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping, Sequence

from manyi.insight.report.registry import SECTIONS
from manyi.insight.report.section import JSONDict, Section
from manyi.insight.report.words import LANGS, UI

_CSS = """
body{font-family:-apple-system,"Segoe UI","PingFang SC","Microsoft YaHei","Noto Sans CJK SC",
sans-serif;margin:0;background:#f5f6f8;color:#1f2933}
header{background:#1565c0;color:#fff;padding:20px 32px}header h1{margin:0 0 6px;font-size:24px}
header p{margin:2px 0;opacity:.9;font-size:14px}main{max-width:1040px;margin:0 auto;padding:16px}
section{background:#fff;border-radius:8px;padding:16px 24px;margin:16px 0;
box-shadow:0 1px 3px rgba(0,0,0,.08)}h2{font-size:19px;margin:4px 0 12px}
.finding{font-size:16px;line-height:1.5;border-left:4px solid #1565c0;padding:6px 12px;
margin:8px 0 20px;background:#f0f5fb}.nodata{color:#6b7280}nav a{margin-right:12px}
footer{color:#6b7280;font-size:12px;text-align:center;padding:16px}
"""


def _plotly_js() -> str:
    from plotly.offline import get_plotlyjs

    return str(get_plotlyjs())


def render_html(
    doc: JSONDict,
    *,
    lang: str = "zh",
    sections: Sequence[Section] = SECTIONS,
    include_plotlyjs: bool = True,
    page_title: Mapping[str, str] | None = None,
) -> str:
    """The report page for JSON document ``doc``.

    Parameters
    ----------
    doc
        The output of :func:`manyi.insight.report.build.build_report`.
    lang
        ``"zh"`` or ``"en"``.
    sections
        The sections that know how to render their keys (default: the registry).
    include_plotlyjs
        Inline plotly's JavaScript (turn off only for tests of the markup).
    page_title
        The page title by language (default: the report's).
    """
    if lang not in LANGS:
        raise ValueError(f"lang must be one of {', '.join(LANGS)}")
    esc = html.escape
    heading = (page_title or UI["title"])[lang]
    renderers = {s.key: s for s in sections}
    parts: list[str] = []
    nav: list[str] = []
    chart = 0
    for key, entry in doc["sections"].items():
        title = entry["title"].get(lang) or key
        nav.append(f'<a href="#{esc(key)}">{esc(title)}</a>')
        parts.append(f'<section id="{esc(key)}"><h2>{esc(title)}</h2>')
        section = renderers.get(key)
        if entry["status"] != "ok" or section is None:
            reason = (entry.get("reason") or {}).get(lang) or UI["no_data"][lang]
            parts.append(f'<p class="nodata">{esc(reason)}</p></section>')
            continue
        for block in section.render(entry["data"], lang):
            if block.figure is not None:
                chart += 1
                figure = json.dumps(block.figure, ensure_ascii=False).replace("</", "<\\/")
                parts.append(
                    f'<div id="chart{chart}" class="chart"></div><script>'
                    f'Plotly.newPlot("chart{chart}",{figure}.data,{figure}.layout,'
                    '{"displaylogo":false,"responsive":true});</script>'
                )
            parts.append(f'<p class="finding">{esc(block.finding)}</p>')
        parts.append("</section>")
    period = f"{doc.get('since') or '…'} – {doc.get('until') or '…'}"
    script = f"<script>{_plotly_js()}</script>" if include_plotlyjs else ""
    return (
        f'<!DOCTYPE html><html lang="{"zh-CN" if lang == "zh" else "en"}"><head>'
        f'<meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{esc(heading)}</title><style>{_CSS}</style>{script}</head><body>"
        f"<header><h1>{esc(heading)}</h1>"
        f"<p>{esc(UI['source'][lang])}: {esc(str(doc.get('source')))}</p>"
        f"<p>{esc(UI['period'][lang])}: {esc(period)} · {esc(UI['generated'][lang])}: "
        f"{esc(str(doc.get('generated_at')))}</p></header><main>"
        f"<nav><strong>{esc(UI['contents'][lang])}:</strong> {' '.join(nav)}</nav>"
        + "".join(parts)
        + f"</main><footer>{esc(UI['offline'][lang])}</footer></body></html>"
    )
