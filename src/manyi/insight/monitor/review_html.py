"""Render the campaign review's JSON document as one offline HTML page (zh or en).

The page is built by the report's renderer (:func:`manyi.insight.report.html.render_html`: the
same styling, plotly inlined once, no network) with the review's own sections; tables are plotly
``table`` figures. Everything shown is read from the JSON, so a saved review re-renders.

Examples
--------
>>> from manyi.insight.monitor.review_html import SECTIONS
>>> [s.key for s in SECTIONS][:3]
['summary', 'metrics', 'daily']
"""

from __future__ import annotations

from typing import Any

from manyi.insight.monitor.messages import change_text, p_number
from manyi.insight.monitor.review_doc import (
    ASPECT_NAMES,
    DRIVER_NAMES,
    PAGE_TITLE,
    STATUS_NAMES,
    TITLES,
    aspect_sentence,
    driver_sentence,
    mix_sentence,
    name_of,
    value_of,
)
from manyi.insight.report.charts import COLORS, layout
from manyi.insight.report.section import Block, JSONDict, ReportContext, Section

GREY = "#9ca3af"


def _pick(lang: str, en: str, zh: str) -> str:
    return zh if lang == "zh" else en


def _table(
    header: list[str],
    columns: list[list[Any]],
    title: str,
    *,
    widths: list[float] | None = None,
    row_height: int = 30,
) -> JSONDict:
    rows = len(columns[0]) if columns else 0
    trace: JSONDict = {
        "type": "table",
        "header": {"values": header, "fill": {"color": "#e8eef7"}, "align": "left"},
        "cells": {"values": columns, "align": "left", "height": 24},
    }
    if widths is not None:
        trace["columnwidth"] = widths
    # Wrapped cells grow; plotly scrolls a table taller than its figure, so leave room.
    return {
        "data": [trace],
        "layout": layout(title, height=min(1400, 120 + row_height * max(rows, 1))),
    }


def _render_summary(data: JSONDict, lang: str) -> list[Block]:
    return [Block(finding=text) for text in data[lang]]


#: How a metric's verdict is said.
VERDICTS = {
    "worse": ("worse", "变差"),
    "better": ("better", "改善"),
    "up": ("up", "上升"),
    "down": ("down", "下降"),
    "no_change": ("no significant change", "无显著变化"),
}


def _render_metrics(data: JSONDict, lang: str) -> list[Block]:
    rows = data["rows"]
    verdicts = VERDICTS

    def change(r: dict[str, Any]) -> str:
        unit = {"per_1000": "count", "days": "count"}.get(r["unit"], r["unit"])
        text = change_text(unit, r["effect"], lang)
        if r["effect_low"] is not None and r["effect_high"] is not None:
            low = change_text(unit, r["effect_low"], lang)
            high = change_text(unit, r["effect_high"], lang)
            text += f" [{low}, {high}]"
        if r["unit"] in ("count", "per_1000") and r.get("ratio"):
            text += f" ×{r['ratio']:.2f}"
        return text

    header = [
        _pick(lang, "Metric", "指标"),
        _pick(lang, "Baseline", "基线期"),
        _pick(lang, "Campaign", "活动期"),
        _pick(lang, "Change [95 % CI]", "变化 [95% 置信区间]"),
        _pick(lang, "Test", "检验"),
        "p",
        "q (BH)",
        _pick(lang, "Verdict", "结论"),
    ]
    columns = [
        [r["title"][lang] for r in rows],
        [f"{value_of(r, 'baseline', lang)} (n={r['baseline']['n']:,})" for r in rows],
        [f"{value_of(r, 'campaign', lang)} (n={r['campaign']['n']:,})" for r in rows],
        [change(r) for r in rows],
        [r["test"] for r in rows],
        [p_number(r["p_value"]) for r in rows],
        [p_number(r["q_value"]) for r in rows],
        [_pick(lang, *verdicts[r["verdict"]]) for r in rows],
    ]
    fdr = data.get("fdr") or 0.05
    worse = sum(r["verdict"] == "worse" for r in rows)
    better = sum(r["verdict"] == "better" for r in rows)
    finding = _pick(
        lang,
        f"{worse} metric(s) significantly worse and {better} better at a false-discovery rate of "
        f"{100 * fdr:.0f} % (Benjamini–Hochberg across the {len(rows)} metrics). n is orders for "
        "order figures, reviews for ratings, days for orders per day.",
        f"在 {100 * fdr:.0f}% 的错误发现率下（对 {len(rows)} 项指标做 Benjamini–Hochberg 校正），"
        f"{worse} 项显著变差，{better} 项显著改善。n 为订单数、评价数或（日均订单）天数。",
    )
    title = TITLES["metrics"][lang]
    widths = [2.2, 1.7, 1.7, 2.6, 1.4, 0.8, 0.8, 1.3]
    figure = _table(header, columns, title, widths=widths, row_height=56)
    return [Block(finding=finding, figure=figure)]


def _render_daily(data: JSONDict, lang: str) -> list[Block]:
    days = data["days"]
    x = [d["day"] for d in days]
    colors = [COLORS["main"] if d["phase"] == "campaign" else GREY for d in days]
    figure = {
        "data": [
            {
                "type": "bar",
                "x": x,
                "y": [d["orders"] for d in days],
                "name": _pick(lang, "orders", "订单数"),
                "marker": {"color": colors},
            },
            {
                "type": "scatter",
                "mode": "lines+markers",
                "x": x,
                "y": [d["late_share"] for d in days],
                "name": _pick(lang, "late share", "延迟占比"),
                "yaxis": "y2",
                "line": {"color": COLORS["neutral"]},
            },
            {
                "type": "scatter",
                "mode": "lines+markers",
                "x": x,
                "y": [d["bad_share"] for d in days],
                "name": _pick(lang, "1–2★ share", "差评占比"),
                "yaxis": "y2",
                "line": {"color": COLORS["bad"]},
            },
        ],
        "layout": layout(
            _pick(
                lang, "Orders by purchase day (campaign in blue)", "按下单日的订单（蓝色为活动期）"
            ),
            yaxis={"title": {"text": _pick(lang, "orders", "订单数")}},
            yaxis2={"overlaying": "y", "side": "right", "tickformat": ".0%", "rangemode": "tozero"},
            legend={"orientation": "h"},
        ),
    }
    finding = _pick(
        lang,
        "Orders per purchase day; the lines are the late share and the 1–2★ share of those "
        "orders' deliveries and reviews.",
        "按下单日统计的订单数；折线为这些订单的延迟送达占比和差评占比。",
    )
    return [Block(finding=finding, figure=figure)]


def _render_mix(data: JSONDict, lang: str) -> list[Block]:
    statuses = data["statuses"]
    names = [name_of(STATUS_NAMES, s["status"], lang) for s in statuses]
    figure = {
        "data": [
            {
                "type": "bar",
                "x": names,
                "y": [s[f"{side}_bad_share"] for s in statuses],
                "name": _pick(lang, label_en, label_zh),
                "marker": {"color": color},
                "text": [f"n={s[f'{side}_reviews']}" for s in statuses],
            }
            for side, label_en, label_zh, color in (
                ("baseline", "baseline", "基线期", GREY),
                ("campaign", "campaign", "活动期", COLORS["main"]),
            )
        ],
        "layout": layout(
            _pick(lang, "1–2★ share by delivery outcome", "按送达结果的差评占比"),
            yaxis={"tickformat": ".0%"},
            barmode="group",
        ),
    }
    return [Block(finding=mix_sentence(data, lang), figure=figure)]


def _render_drivers(data: JSONDict, lang: str) -> list[Block]:
    rows = data["drivers"]
    names = [name_of(DRIVER_NAMES, r["driver"], lang) for r in rows]
    figure = {
        "data": [
            {
                "type": "bar",
                "y": names,
                "x": [r[f"{side}_share"] for r in rows],
                "orientation": "h",
                "name": _pick(lang, label_en, label_zh),
                "marker": {"color": color},
            }
            for side, label_en, label_zh, color in (
                ("baseline", "baseline", "基线期", GREY),
                ("campaign", "campaign", "活动期", COLORS["main"]),
            )
        ],
        "layout": layout(
            _pick(lang, "Share of the explained 1–2★ risk", "差评风险解释份额"),
            xaxis={"tickformat": ".0%"},
            yaxis={"autorange": "reversed"},
            barmode="group",
        ),
    }
    means = "; ".join(
        f"{name_of(DRIVER_NAMES, r['driver'], lang)} "
        f"{r['baseline_mean']:.2f} → {r['campaign_mean']:.2f}"
        for r in rows
        if r.get("campaign_mean") is not None and r.get("baseline_mean") is not None
    )
    extra = _pick(
        lang,
        f"Means, baseline → campaign: {means} (price as log2). Logistic model of a 1–2★ rating "
        f"on {data['campaign']['rows']} and {data['baseline']['rows']} reviews; McFadden R² "
        f"{data['campaign']['r2']:.3f} and {data['baseline']['r2']:.3f}.",
        f"均值（基线期 → 活动期）：{means}（价格取 log2）。差评的 logistic 模型，"
        f"分别基于 {data['campaign']['rows']} 和 {data['baseline']['rows']} 条评价；"
        f"McFadden R² 为 {data['campaign']['r2']:.3f} 和 {data['baseline']['r2']:.3f}。",
    )
    return [Block(finding=driver_sentence(data, lang), figure=figure), Block(finding=extra)]


def _render_aspects(data: JSONDict, lang: str) -> list[Block]:
    rows = data["aspects"]
    names = [name_of(ASPECT_NAMES, r["aspect"], lang) for r in rows]
    figure = {
        "data": [
            {
                "type": "bar",
                "x": names,
                "y": [r[f"{side}_per_100"] for r in rows],
                "name": _pick(lang, label_en, label_zh),
                "marker": {"color": color},
            }
            for side, label_en, label_zh, color in (
                ("baseline", "baseline", "基线期", GREY),
                ("campaign", "campaign", "活动期", COLORS["main"]),
            )
        ],
        "layout": layout(
            _pick(lang, "Complaints per 100 reviews with a text", "每 100 条文字评价中的抱怨"),
            barmode="group",
        ),
    }
    blocks = [
        Block(
            finding=aspect_sentence(data, lang)
            or _pick(
                lang,
                "No aspect drew more complaints than in the baseline.",
                "没有哪个方面的抱怨比基线期多。",
            ),
            figure=figure,
        )
    ]
    rising = data["rising_phrases"]
    camp, base, cap = data["campaign"], data["baseline"], data["max_reviews"]
    if rising:
        header = [
            _pick(lang, "Aspect", "方面"),
            _pick(lang, "Phrase", "短语"),
            _pick(lang, "Campaign (per 100)", "活动期（每百条）"),
            _pick(lang, "Baseline (per 100)", "基线期（每百条）"),
        ]
        columns = [
            [name_of(ASPECT_NAMES, r["aspect"], lang) for r in rising],
            [r["phrase"] + (" *" if r["new"] else "") for r in rising],
            [f"{r['campaign_count']} ({r['campaign_per_100']:.1f})" for r in rising],
            [f"{r['baseline_count']} ({r['baseline_per_100']:.1f})" for r in rising],
        ]
        title = _pick(
            lang, "Complaint phrases more frequent than in the baseline", "比基线期更常见的抱怨短语"
        )
        blocks.append(
            Block(
                finding=_pick(
                    lang,
                    f"* = not seen in the baseline. Texts analysed: {camp['analysed']} of "
                    f"{camp['with_text']} (campaign), {base['analysed']} of "
                    f"{base['with_text']} (baseline); at most {cap} per window, a deterministic "
                    "sample.",
                    f"* = 基线期未出现。分析的文字评价：活动期 {camp['with_text']} 条中的 "
                    f"{camp['analysed']} 条，基线期 {base['with_text']} 条中的 "
                    f"{base['analysed']} 条；每个时间窗最多 {cap} 条（确定性抽样）。",
                ),
                figure=_table(header, columns, title),
            )
        )
    return blocks


def _render_look_at(data: JSONDict, lang: str) -> list[Block]:
    blocks = []
    reviews = data["bad_reviews"]
    if reviews:
        header = [
            _pick(lang, "Review", "评价"),
            _pick(lang, "Order", "订单"),
            "★",
            _pick(lang, "Delivery", "送达"),
            _pick(lang, "Text", "内容"),
        ]
        columns = [
            [r["review_id"] for r in reviews],
            [r["order_id"] for r in reviews],
            [r["rating"] for r in reviews],
            [
                name_of(STATUS_NAMES, r["status"], lang)
                + (f" +{r['days_late']}d" if r["status"] == "late" and r["days_late"] else "")
                for r in reviews
            ],
            [r["text"] for r in reviews],
        ]
        title = _pick(lang, "1–2★ reviews with a text", "带文字的差评")
        table = _table(header, columns, title, widths=[1.6, 1.6, 0.4, 1, 4], row_height=80)
        blocks.append(
            Block(
                finding=_pick(
                    lang,
                    f"The {len(reviews)} worst reviews with a text of the campaign's orders "
                    "(lowest rating first, then the latest deliveries).",
                    f"活动期订单中最差的 {len(reviews)} 条文字评价"
                    "（评分最低的在前，其次是延迟最久的）。",
                ),
                figure=table,
            )
        )
    late = data["late_bad_orders"]
    if late:
        header = [
            _pick(lang, "Order", "订单"),
            _pick(lang, "Days late", "延迟天数"),
            "★",
            _pick(lang, "Review", "评价"),
            _pick(lang, "Promised", "承诺送达"),
            _pick(lang, "Delivered", "实际送达"),
        ]
        columns = [
            [r["order_id"] for r in late],
            [r["days_late"] for r in late],
            [r["rating"] for r in late],
            [r["review_id"] for r in late],
            [(r["estimated_delivery_at"] or "")[:10] for r in late],
            [(r["delivered_at"] or "")[:10] for r in late],
        ]
        title = _pick(lang, "Late orders with a 1–2★ review", "延迟且差评的订单")
        table = _table(header, columns, title, widths=[2.4, 0.8, 0.4, 2.4, 1, 1], row_height=44)
        blocks.append(
            Block(
                finding=_pick(
                    lang,
                    f"{len(late)} late orders with a 1–2★ review, latest first: candidates for an "
                    "apology or compensation.",
                    f"{len(late)} 个延迟送达且差评的订单（延迟最久的在前）：可考虑致歉或补偿。",
                ),
                figure=table,
            )
        )
    cases = data.get("breached_cases")
    if cases:
        header = [
            _pick(lang, "Case", "工单"),
            _pick(lang, "Order", "订单"),
            _pick(lang, "Kind", "类型"),
            _pick(lang, "Status", "状态"),
            _pick(lang, "Hours over SLA", "超出 SLA 小时数"),
        ]
        columns = [
            [r["case_id"] for r in cases],
            [r["order_id"] or "" for r in cases],
            [r["kind"] for r in cases],
            [r["status"] for r in cases],
            [f"{r['hours_over']:.1f}" for r in cases],
        ]
        title = _pick(lang, "Cases that missed an SLA deadline", "SLA 超时的工单")
        blocks.append(
            Block(
                finding=_pick(
                    lang,
                    f"{len(cases)} cases opened during the campaign missed an SLA deadline "
                    "(largest overrun first).",
                    f"活动期新建的工单中有 {len(cases)} 个 SLA 超时（超时最多的在前）。",
                ),
                figure=_table(header, columns, title),
            )
        )
    if not blocks:
        blocks.append(
            Block(
                finding=_pick(
                    lang,
                    "Nothing to look at: no 1–2★ review and no breached case.",
                    "没有需要查看的差评或超时工单。",
                )
            )
        )
    return blocks


def _unused(ctx: ReportContext) -> JSONDict | None:  # pragma: no cover - render only
    return None


SECTIONS: tuple[Section, ...] = tuple(
    Section(key, TITLES[key], _unused, render)
    for key, render in (
        ("summary", _render_summary),
        ("metrics", _render_metrics),
        ("daily", _render_daily),
        ("delivery_mix", _render_mix),
        ("drivers", _render_drivers),
        ("aspects", _render_aspects),
        ("look_at", _render_look_at),
    )
)


def render_review(doc: JSONDict, *, lang: str = "zh", include_plotlyjs: bool = True) -> str:
    """The review page for the JSON document ``doc`` (:meth:`CampaignReview.to_dict`)."""
    from manyi.insight.report.html import render_html

    name = doc.get("campaign", {}).get("name")
    title = {k: f"{v} · {name}" if name else v for k, v in PAGE_TITLE.items()}
    return render_html(
        doc, lang=lang, sections=SECTIONS, include_plotlyjs=include_plotlyjs, page_title=title
    )
