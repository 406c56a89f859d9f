"""The campaign review as one JSON document, and its plain-language findings in zh and en.

The document has the report's shape (``sections.<key>`` with ``status``, ``title``, ``data``,
``reason``), so :func:`manyi.insight.report.html.render_html` renders it; the keys are listed in
``docs/monitor.md``.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import pandas as pd

from manyi.insight.monitor.messages import change_text, p_text, value_text
from manyi.insight.report.jsonable import plain

if TYPE_CHECKING:
    from manyi.insight.monitor.campaign import CampaignReview

TITLES: dict[str, dict[str, str]] = {
    "summary": {"en": "Summary", "zh": "结论"},
    "metrics": {
        "en": "Every metric: campaign against baseline",
        "zh": "各项指标：活动期 vs 基线期",
    },
    "daily": {"en": "Day by day", "zh": "逐日走势"},
    "delivery_mix": {"en": "Late deliveries and 1–2★ ratings", "zh": "延迟送达与差评"},
    "drivers": {"en": "What goes with a 1–2★ rating", "zh": "差评的关键驱动因素"},
    "aspects": {"en": "What the reviews complain about", "zh": "评价在抱怨什么"},
    "look_at": {"en": "Reviews, orders and cases to look at", "zh": "需要查看的评价、订单和工单"},
}
PAGE_TITLE = {"en": "Campaign review", "zh": "活动复盘"}
ASPECT_NAMES: dict[str, tuple[str, str]] = {
    "logistics": ("logistics", "物流"),
    "quality": ("quality", "质量"),
    "as_described": ("as described", "描述相符"),
    "service": ("service", "服务"),
    "price": ("price", "价格"),
    "packaging": ("packaging", "包装"),
}
DRIVER_NAMES: dict[str, tuple[str, str]] = {
    "delivery_days": ("delivery days", "配送天数"),
    "late": ("late delivery", "延迟送达"),
    "freight_share": ("freight share of the bill", "运费占比"),
    "price": ("price", "价格"),
    "items": ("items in the order", "订单件数"),
    "category": ("product category", "商品品类"),
}
STATUS_NAMES = {
    "on_time": ("on time", "准时"),
    "late": ("late", "延迟"),
    "undelivered": ("not delivered", "未送达"),
}


def name_of(table: dict[str, tuple[str, str]], key: str, lang: str) -> str:
    """A name from one of the tables above in ``lang``."""
    en, zh = table.get(key, (key, key))
    return zh if lang == "zh" else en


def _ci(row: dict[str, Any], lang: str) -> str:
    low, high = row.get("effect_low"), row.get("effect_high")
    if low is None or high is None:
        return ""
    unit = _unit(row)
    a, b = change_text(unit, low, lang), change_text(unit, high, lang)
    return f"95 % CI {a} to {b}" if lang == "en" else f"95% 置信区间 {a} 至 {b}"


def _unit(row: dict[str, Any]) -> str:
    unit = str(row["unit"])
    return {"per_1000": "count", "days": "count"}.get(unit, unit)


def value_of(row: dict[str, Any], side: str, lang: str) -> str:
    """The campaign's or baseline's value of a metric row, in its unit."""
    value = row[side]["value"]
    unit = row["unit"]
    if unit == "days":
        return "–" if value is None else (f"{value:.1f} d" if lang == "en" else f"{value:.1f} 天")
    if unit == "per_1000":
        return "–" if value is None else f"{value:.1f}"
    if unit == "count":
        return "–" if value is None else f"{value:,.1f}"
    return value_text(unit, value, lang)


def _metric_sentence(row: dict[str, Any], lang: str) -> str:
    name = row["title"][lang]
    before, after = value_of(row, "baseline", lang), value_of(row, "campaign", lang)
    q = row.get("q_value")
    q_txt = p_text(q).replace("p", "q", 1)
    ci = _ci(row, lang)
    size = change_text(_unit(row), row["effect"], lang)
    if row["unit"] == "count" and row.get("ratio"):
        size = f"×{row['ratio']:.1f}"
    rose = (row["effect"] or 0) > 0
    if lang == "en":
        verb = "rose" if rose else "fell"
        return f"{name} {verb} from {before} to {after} ({size}; {ci}; {q_txt})."
    change = "升至" if rose else "降至"
    return f"{name}从 {before} {change} {after}（{size}；{ci}；{q_txt}）。"


def summary_sentences(review: CampaignReview, lang: str) -> list[str]:
    """The page's conclusions, most important first."""
    out: list[str] = []
    c = review.campaign
    first, last = c.baseline_window()
    label = c.name or ("the campaign" if lang == "en" else "活动")
    if lang == "en":
        out.append(
            f"{label}: orders placed {c.start} – {c.end} ({c.days} days) against {first} – {last} "
            f"({(last - first).days + 1} days); every figure follows those orders to the data's "
            f"end ({(review.as_of or '–')[:10]})."
        )
    else:
        out.append(
            f"{label}：{c.start} 至 {c.end}（{c.days} 天）下单的订单，对比 {first} 至 {last}"
            f"（{(last - first).days + 1} 天）；各项数字跟踪这些订单直到数据截止"
            f"（{(review.as_of or '–')[:10]}）。"
        )
    rows = review.metrics
    orders = next((r for r in rows if r["metric"] == "orders_per_day"), None)
    if orders is not None:
        out.append(_metric_sentence(orders, lang))
    worse = [r for r in rows if r["verdict"] == "worse"]
    better = [r for r in rows if r["verdict"] == "better"]
    out += [_metric_sentence(r, lang) for r in worse + better]
    same = [r["title"][lang] for r in rows if r["verdict"] == "no_change"]
    if same:
        joined = ", ".join(same) if lang == "en" else "、".join(same)
        fdr = review.options.get("fdr", 0.05)
        out.append(
            f"No significant change (BH, FDR {100 * fdr:.0f} %): {joined}."
            if lang == "en"
            else f"无显著变化（BH 校正，FDR {100 * fdr:.0f}%）：{joined}。"
        )
    mix = review.findings.get("delivery_mix", {})
    if mix.get("status") == "ok":
        out.append(mix_sentence(mix, lang))
    drivers = review.findings.get("drivers", {})
    if drivers.get("status") == "ok" and drivers["drivers"]:
        out.append(driver_sentence(drivers, lang))
    aspects = review.findings.get("aspects", {})
    if aspects.get("status") == "ok":
        sentence = aspect_sentence(aspects, lang)
        if sentence:
            out.append(sentence)
    return out


def mix_sentence(mix: dict[str, Any], lang: str) -> str:
    """The Kitagawa split in words."""
    total = change_text("share", mix["change"], lang)
    part_mix = change_text("share", mix["mix_effect"], lang)
    part_rate = change_text("share", mix["rate_effect"], lang)
    if lang == "en":
        return (
            f"Of the {total} change in the 1–2★ share, {part_mix} comes from a different mix of "
            f"delivery outcomes (more or fewer late and undelivered orders) and {part_rate} from "
            f"ratings at the same delivery outcome."
        )
    return (
        f"差评占比变化 {total}，其中 {part_mix} 来自送达结果构成的变化（延迟、未送达订单的多少），"
        f"{part_rate} 来自相同送达结果下评分的变化。"
    )


def driver_sentence(drivers: dict[str, Any], lang: str) -> str:
    """The strongest driver in the campaign, with its baseline share."""
    top = drivers["drivers"][0]
    name = name_of(DRIVER_NAMES, top["driver"], lang)
    share_c = top.get("campaign_share")
    share_b = top.get("baseline_share")
    c_txt = value_text("share", share_c, lang)
    b_txt = value_text("share", share_b, lang)
    if lang == "en":
        return (
            f"The factor most associated with a 1–2★ rating during the campaign is {name} "
            f"({c_txt} of what the model explains; {b_txt} in the baseline). An association, "
            f"not a proven cause."
        )
    return (
        f"活动期与差评关联最强的因素是{name}（占模型解释部分的 {c_txt}；基线期 {b_txt}）。"
        "这是关联，不是已证实的因果。"
    )


def aspect_sentence(aspects: dict[str, Any], lang: str) -> str | None:
    """The aspect whose complaints rose most (if any rose)."""
    rows = sorted(aspects["aspects"], key=lambda r: -r["change_per_100"])
    if not rows or rows[0]["change_per_100"] <= 0:
        return None
    top = rows[0]
    name = name_of(ASPECT_NAMES, top["aspect"], lang)
    q = p_text(top.get("q_value")).replace("p", "q", 1)
    n_c, n_b = aspects["campaign"]["analysed"], aspects["baseline"]["analysed"]
    if lang == "en":
        return (
            f"Complaints about {name} rose most: {top['campaign_per_100']:.1f} per 100 reviews "
            f"against {top['baseline_per_100']:.1f} ({q}; {n_c} and {n_b} texts analysed)."
        )
    return (
        f"关于{name}的抱怨增加最多：每 100 条评价 {top['campaign_per_100']:.1f} 条，基线期 "
        f"{top['baseline_per_100']:.1f} 条（{q}；分析了 {n_c} 条和 {n_b} 条文字评价）。"
    )


def _daily(review: CampaignReview) -> list[dict[str, Any]]:
    c = review.campaign
    first, last = c.baseline_window()
    out = []
    for row in review.daily.to_dict("records"):
        day = pd.Timestamp(row["day"]).date()
        phase = (
            "campaign"
            if c.start <= day <= c.end
            else "baseline"
            if first <= day <= last
            else "between"
        )
        delivered, reviews = row["delivered"], row["reviews"]
        out.append(
            {
                "day": day.isoformat(),
                "phase": phase,
                "orders": int(row["orders"]),
                "delivered": int(delivered),
                "late": int(row["late"]),
                "late_share": row["late"] / delivered if delivered else None,
                "reviews": int(reviews),
                "bad": int(row["bad"]),
                "bad_share": row["bad"] / reviews if reviews else None,
                "mean_rating": row["rating_sum"] / reviews if reviews else None,
            }
        )
    return out


def _section(
    key: str, data: dict[str, Any] | None, reason: dict[str, str] | None = None
) -> dict[str, Any]:
    ok = data is not None and data.get("status", "ok") == "ok"
    if data is not None and not ok:
        reason = data.get("reason")
    return {
        "status": "ok" if ok else "no_data",
        "title": TITLES[key],
        "data": data if ok else None,
        "reason": reason,
    }


def review_document(review: CampaignReview) -> dict[str, Any]:
    """The review's JSON document."""
    c = review.campaign
    first, last = c.baseline_window()
    findings = review.findings
    doc = {
        "review_version": 1,
        "kind": "campaign_review",
        "generated_at": review.generated_at,
        "source": review.source,
        "engine": review.engine,
        "timezone": review.timezone,
        "as_of": review.as_of,
        "since": c.start.isoformat(),
        "until": c.end.isoformat(),
        "campaign": {**c.to_dict(), "days": c.days, "baseline_days": (last - first).days + 1},
        "options": review.options,
        "sections": {
            "summary": _section(
                "summary",
                {"en": summary_sentences(review, "en"), "zh": summary_sentences(review, "zh")},
            ),
            "metrics": _section(
                "metrics", {"fdr": review.options.get("fdr"), "rows": review.metrics}
            ),
            "daily": _section("daily", {"days": _daily(review)}),
            "delivery_mix": _section("delivery_mix", findings.get("delivery_mix")),
            "drivers": _section("drivers", findings.get("drivers")),
            "aspects": _section("aspects", findings.get("aspects")),
            "look_at": _section("look_at", findings.get("look_at")),
        },
    }
    result: dict[str, Any] = _finite(plain(doc))
    return result


def _finite(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
