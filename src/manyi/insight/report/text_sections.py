"""Report section: what the review texts say (sentiment, aspects, complaint phrases).

The text work is capped (``options["text_max_reviews"]``, default 5,000 reviews with text, a
deterministic sample; the cap and the count analysed are in the JSON) and ``manyi.text`` is
only imported when the section runs (see :mod:`manyi.insight.review_text`).

Examples
--------
>>> from manyi.insight.report.text_sections import REVIEW_TEXT
>>> REVIEW_TEXT.key, REVIEW_TEXT.title["zh"]
('review_text', '评价文本：顾客在说什么')
"""

from __future__ import annotations

from typing import Any

from manyi.insight.report.charts import COLORS, layout
from manyi.insight.report.jsonable import plain, records
from manyi.insight.report.section import Block, JSONDict, NoData, ReportContext, Section
from manyi.insight.report.words import num, pct, pick, signed, stars
from manyi.insight.review_text import MAX_REVIEWS, review_text_findings

ASPECT_NAMES: dict[str, tuple[str, str]] = {
    "logistics": ("delivery", "物流"),
    "quality": ("quality", "质量"),
    "as_described": ("as described", "与描述相符"),
    "service": ("service", "服务"),
    "price": ("price", "价格"),
    "packaging": ("packaging", "包装"),
}
#: Aspects with fewer mentions are left out of the charts (still in the JSON).
MIN_MENTIONS = 10


def aspect_name(aspect: str, lang: str) -> str:
    """The aspect's name in ``lang``."""
    en, zh = ASPECT_NAMES.get(aspect, (aspect, aspect))
    return pick(lang, en, zh)


def compute_review_text(ctx: ReportContext) -> JSONDict | None:
    if not ctx.src.has("reviews"):
        raise NoData("The source has no reviews.", "数据源中没有评价。")
    cap = int(ctx.options.get("text_max_reviews", MAX_REVIEWS))
    found = review_text_findings(ctx.src, since=ctx.since, until=ctx.until, max_reviews=cap)
    if found is None:
        raise NoData(
            "No review in the period has a text to analyse.", "所选时间内没有带文字的评价。"
        )
    return {
        "reviews_with_text": found.reviews_with_text,
        "max_reviews": found.max_reviews,
        "analysed": found.analysed,
        "sampled": found.reviews_with_text > found.analysed,
        "rated": found.rated,
        "languages": found.languages,
        "sentiment": plain(found.sentiment),
        "aspects": records(found.aspects),
        "complaints": records(found.complaints),
    }


def _share_bars(rows: list[dict[str, Any]], lang: str) -> dict[str, Any]:
    shown = list(reversed(rows))
    return {
        "data": [
            {
                "type": "bar",
                "orientation": "h",
                "y": [
                    pick(
                        lang,
                        f"{aspect_name(r['aspect'], lang)} ({num(r['reviews'])})",
                        f"{aspect_name(r['aspect'], lang)}（{num(r['reviews'])} 次）",
                    )
                    for r in shown
                ],
                "x": [r["share_negative"] for r in shown],
                "error_x": {
                    "type": "data",
                    "symmetric": False,
                    "array": [r["share_negative_high"] - r["share_negative"] for r in shown],
                    "arrayminus": [r["share_negative"] - r["share_negative_low"] for r in shown],
                },
                "marker": {"color": COLORS["bad"]},
            }
        ],
        "layout": layout(
            pick(
                lang,
                "Share negative among reviews that mention each aspect (mentions)",
                "提及各方面的评价中负面的比例（提及次数）",
            ),
            xaxis={"tickformat": ".0%", "range": [0, 1]},
        ),
    }


def _effect_bars(rows: list[dict[str, Any]], lang: str) -> dict[str, Any]:
    names = [aspect_name(r["aspect"], lang) for r in rows]
    return {
        "data": [
            {
                "type": "bar",
                "name": pick(lang, "negative mention", "负面提及"),
                "x": names,
                "y": [r["effect_negative"] for r in rows],
                "marker": {"color": COLORS["bad"]},
            },
            {
                "type": "bar",
                "name": pick(lang, "positive mention", "正面提及"),
                "x": names,
                "y": [r["effect_positive"] for r in rows],
                "marker": {"color": COLORS["good"]},
            },
        ],
        "layout": layout(
            pick(
                lang,
                "Stars against not mentioning the aspect (joint fit)",
                "相对未提及该方面的评分差（联合回归）",
            ),
            barmode="group",
        ),
    }


def _complaint_table(complaints: list[dict[str, Any]], lang: str) -> dict[str, Any]:
    return {
        "data": [
            {
                "type": "table",
                "columnwidth": [1, 1.3, 0.6, 4],
                "header": {
                    "values": [
                        pick(lang, "aspect", "方面"),
                        pick(lang, "complaint phrase", "抱怨短语"),
                        pick(lang, "reviews", "评价数"),
                        pick(lang, "example review", "评价示例"),
                    ],
                    "align": "left",
                },
                "cells": {
                    "values": [
                        [aspect_name(c["aspect"], lang) for c in complaints],
                        [c["phrase"] for c in complaints],
                        [c["count"] for c in complaints],
                        [(c["examples"] or [""])[0] for c in complaints],
                    ],
                    "align": "left",
                },
            }
        ],
        "layout": layout(
            pick(lang, "Most frequent complaints per aspect", "各方面最常见的抱怨"),
            height=120 + 40 * len(complaints),
        ),
    }


def render_review_text(data: JSONDict, lang: str) -> list[Block]:
    sent = data["sentiment"]
    rows = [
        r
        for r in data["aspects"]
        if r["reviews"] >= MIN_MENTIONS and r["share_negative"] is not None
    ]
    basis = (
        pick(
            lang,
            f"a fixed sample of {num(data['analysed'])} of {num(data['reviews_with_text'])} "
            "reviews with text",
            f"{num(data['reviews_with_text'])} 条带文字评价中固定抽取的 {num(data['analysed'])} 条",
        )
        if data["sampled"]
        else pick(
            lang,
            f"all {num(data['analysed'])} reviews with text",
            f"全部 {num(data['analysed'])} 条带文字评价",
        )
    )
    share = pct(sent["negative_share"], lang)
    low, high = pct(sent["negative_share_low"], lang), pct(sent["negative_share_high"], lang)
    head = pick(
        lang,
        f"In {basis}, {share} read negative (95 % CI {low}–{high}).",
        f"在{basis}中，{share} 为负面（95% 置信区间 {low}–{high}）。",
    )
    if not rows:
        return [
            Block(
                head
                + pick(
                    lang,
                    f" No aspect is mentioned in {MIN_MENTIONS} reviews or more.",
                    f"没有哪个方面被提及 {MIN_MENTIONS} 次以上。",
                )
            )
        ]
    most = max(rows, key=lambda r: r["reviews"])
    worst = max(rows, key=lambda r: r["share_negative"])
    most_name, worst_name = aspect_name(most["aspect"], lang), aspect_name(worst["aspect"], lang)
    mentions = int(worst["reviews"])
    blocks = [
        Block(
            head
            + pick(
                lang,
                f" {most_name.capitalize()} comes up most "
                f"({pct(most['share_of_reviews'], lang, 0)} of reviews, "
                f"{pct(most['share_negative'], lang, 0)} of those negative); {worst_name} draws "
                f"the largest negative share ({pct(worst['share_negative'], lang, 0)} of "
                f"{mentions} mentions).",
                f"被提及最多的是{most_name}（{pct(most['share_of_reviews'], lang, 0)} 的评价，其中 "
                f"{pct(most['share_negative'], lang, 0)} 为负面）；负面比例最高的是{worst_name}"
                f"（{mentions} 次提及中 {pct(worst['share_negative'], lang, 0)}）。",
            ),
            _share_bars(rows, lang),
        )
    ]
    fitted = [r for r in rows if r["effect_negative"] is not None]
    if fitted:
        hit = min(fitted, key=lambda r: r["effect_negative"])
        hit_name, effect = aspect_name(hit["aspect"], lang), signed(hit["effect_negative"])
        criticised = stars(hit["mean_rating_negative"])
        praised = stars(hit["mean_rating_positive"])
        blocks.append(
            Block(
                pick(
                    lang,
                    f"A negative word about {hit_name} goes with {effect}★ against not "
                    f"mentioning it, other aspects held fixed (mean rating {criticised} when "
                    f"criticised, {praised} when praised; {num(data['rated'])} rated reviews). "
                    "An association, not a proven cause.",
                    f"对{hit_name}的负面评价与评分 {effect}★ 相关（相对未提及，其他方面不变；"
                    f"被批评时平均 {criticised}，被称赞时 {praised}；基于 {num(data['rated'])} "
                    "条有评分的评价）。这是相关关系，并非已证实的因果。",
                ),
                _effect_bars(fitted, lang),
            )
        )
    complaints = data["complaints"]
    if complaints:
        top = sorted(complaints, key=lambda c: -c["count"])[:3]
        listed = "; ".join(
            f"{aspect_name(c['aspect'], lang)} “{c['phrase']}” ({c['count']})" for c in top
        )
        blocks.append(
            Block(
                pick(
                    lang,
                    f"Most frequent complaints: {listed}. The table shows one example review each "
                    "(the JSON has more).",
                    f"最常见的抱怨：{listed}。表中每条给出一个评价示例（JSON 中有更多）。",
                ),
                _complaint_table(complaints, lang),
            )
        )
    return blocks


REVIEW_TEXT = Section(
    "review_text",
    {"en": "Review texts: what customers say", "zh": "评价文本：顾客在说什么"},
    compute_review_text,
    render_review_text,
)
