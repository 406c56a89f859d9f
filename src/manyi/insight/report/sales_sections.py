"""Report sections linking satisfaction to sales: repeat purchase, retention, revenue at risk,
churn.

Examples
--------
>>> from manyi.insight.report.sales_sections import REPEAT
>>> REPEAT.title["zh"]
'首单评分与复购'
"""

from __future__ import annotations

from manyi.insight.churn import churn_by, churn_model, read_ecommerce_churn
from manyi.insight.cohorts import retention_by_first_rating
from manyi.insight.repeat import repeat_by_first_rating
from manyi.insight.report.charts import COLORS, TIER_COLORS, error_bars, layout
from manyi.insight.report.jsonable import plain, records
from manyi.insight.report.section import Block, JSONDict, NoData, ReportContext, Section
from manyi.insight.report.words import num, pct, pick
from manyi.insight.revenue_risk import revenue_at_risk

# --- repeat purchase ----------------------------------------------------------------------


def compute_repeat(ctx: ReportContext) -> JSONDict | None:
    if not ctx.src.has("reviews"):
        return None
    tiers = repeat_by_first_rating(ctx.src, since=ctx.since, until=ctx.until)
    if int(tiers["customers"].sum()) == 0:
        return None
    return {"tiers": records(tiers)}


def render_repeat(data: JSONDict, lang: str) -> list[Block]:
    rows = [t for t in data["tiers"] if t["tier"] != "unrated" and t["customers"] > 0]
    if not rows:
        return []
    fig = {
        "data": [
            {
                "type": "bar",
                "x": [f"{t['tier']}★" for t in rows],
                "y": [t["repeat_rate"] for t in rows],
                "error_y": error_bars(rows, "repeat_rate"),
                "text": [pct(t["repeat_rate"], lang) for t in rows],
                "marker": {"color": [TIER_COLORS[t["tier"]] for t in rows]},
            }
        ],
        "layout": layout(
            pick(lang, "Repeat-purchase rate by first-order rating", "按首单评分的复购率"),
            yaxis={"tickformat": ".1%"},
        ),
    }
    by = {t["tier"]: t for t in rows}
    low, high = by.get("1-2"), by.get("4-5")
    if low and high:
        overlap = not (
            (low["repeat_rate_high"] or 0) < (high["repeat_rate_low"] or 0)
            or (high["repeat_rate_high"] or 0) < (low["repeat_rate_low"] or 0)
        )
        caveat = pick(
            lang,
            " The intervals overlap: the data cannot tell these rates apart." if overlap else "",
            "两者置信区间重叠：数据无法区分这两个复购率。" if overlap else "",
        )
        finding = pick(
            lang,
            f"Customers whose first order got 4–5★ came back {pct(high['repeat_rate'], lang, 2)} "
            f"of the time (n = {num(high['customers'])}), against "
            f"{pct(low['repeat_rate'], lang, 2)} after 1–2★ (n = {num(low['customers'])}); "
            f"revenue per customer {num(high['revenue_per_customer'], 2)} vs "
            f"{num(low['revenue_per_customer'], 2)}.{caveat}",
            f"首单 4–5★ 的顾客复购率 {pct(high['repeat_rate'], lang, 2)}（n = "
            f"{num(high['customers'])}），首单 1–2★ 的为 {pct(low['repeat_rate'], lang, 2)}（n = "
            f"{num(low['customers'])}）；人均销售额 {num(high['revenue_per_customer'], 2)} 对 "
            f"{num(low['revenue_per_customer'], 2)}。{caveat}",
        )
    else:
        finding = pick(
            lang, "Too few rated first orders to compare tiers.", "有评分的首单太少，无法比较。"
        )
    return [Block(finding, fig)]


REPEAT = Section(
    "repeat",
    {"en": "First-order rating and repeat purchase", "zh": "首单评分与复购"},
    compute_repeat,
    render_repeat,
)

# --- retention ----------------------------------------------------------------------------


def compute_retention(ctx: ReportContext) -> JSONDict | None:
    if not ctx.src.has("reviews"):
        return None
    curves = retention_by_first_rating(ctx.src, since=ctx.since, until=ctx.until)
    if int(curves["eligible"].sum()) == 0:
        return None
    return {"month_days": 30, "curves": records(curves)}


def render_retention(data: JSONDict, lang: str) -> list[Block]:
    traces = []
    at6 = {}
    for tier, color in TIER_COLORS.items():
        pts = [c for c in data["curves"] if c["tier"] == tier and c["rate"] is not None]
        at6.update(dict.fromkeys([tier], *[c for c in pts if c["month"] == 6][:1]))
        traces.append(
            {
                "type": "scatter",
                "mode": "lines+markers",
                "name": f"{tier}★",
                "x": [c["month"] for c in pts],
                "y": [c["rate"] for c in pts],
                "line": {"color": color},
            }
        )
    fig = {
        "data": traces,
        "layout": layout(
            pick(
                lang,
                "Ordered again within k months, by first-order rating",
                "k 个月内再次下单的比例（按首单评分）",
            ),
            yaxis={"tickformat": ".1%"},
            xaxis={"title": {"text": pick(lang, "months after first order", "首单后月数")}},
        ),
    }
    parts = [f"{t}★ {pct(c['rate'], lang, 2)}" for t, c in at6.items()]
    finding = (
        pick(
            lang,
            "Within 6 months of the first order: " + ", ".join(parts) + ".",
            "首单后 6 个月内再次下单：" + "，".join(parts) + "。",
        )
        if parts
        else pick(
            lang, "The data span is too short for a 6-month curve.", "数据时间跨度不足 6 个月。"
        )
    )
    return [Block(finding, fig)]


RETENTION = Section(
    "retention",
    {"en": "Retention by first-order rating", "zh": "按首单评分的留存曲线"},
    compute_retention,
    render_retention,
)

# --- revenue at risk ----------------------------------------------------------------------


def compute_revenue_risk(ctx: ReportContext) -> JSONDict | None:
    if not ctx.src.has("reviews"):
        return None
    result: JSONDict = plain(revenue_at_risk(ctx.src, since=ctx.since, until=ctx.until))
    return result


def render_revenue_risk(data: JSONDict, lang: str) -> list[Block]:
    gap = data["gap_per_customer"]
    gap_text = (
        pick(
            lang,
            f" A 4–5★ first-time buyer spent {num(abs(gap['value']), 2)} "
            f"{'more' if gap['value'] >= 0 else 'less'} than a 1–2★ one "
            f"(95 % CI {num(gap['low'], 2)} to {num(gap['high'], 2)}); across "
            f"{num(data['low_tier_customers'])} unhappy first-time buyers that is "
            f"{num(data['expected_gap_total'], 2)} (an association, not a proven effect).",
            f"首单 4–5★ 的顾客比 1–2★ 的顾客人均{'多' if gap['value'] >= 0 else '少'}消费 "
            f"{num(abs(gap['value']), 2)}（95% 置信区间 "
            f"{num(gap['low'], 2)} 至 {num(gap['high'], 2)}）；按 "
            f"{num(data['low_tier_customers'])} 位首单不满意的顾客计，合计 "
            f"{num(data['expected_gap_total'], 2)}（相关关系，并非已证实的因果效应）。",
        )
        if gap["value"] is not None and gap["low"] is not None
        else ""
    )
    finding = pick(
        lang,
        f"{num(data['at_risk_customers'])} customers' last rated order got 1–2★; they spent "
        f"{num(data['revenue_at_risk'], 2)} in the last {data['trailing_days']} days.{gap_text}",
        f"{num(data['at_risk_customers'])} 位顾客最近一次评价为 1–2★，他们在最近 "
        f"{data['trailing_days']} 天消费了 {num(data['revenue_at_risk'], 2)}。{gap_text}",
    )
    return [Block(finding)]


REVENUE_RISK = Section(
    "revenue_risk",
    {"en": "Revenue at risk", "zh": "风险销售额"},
    compute_revenue_risk,
    render_revenue_risk,
)

# --- churn (e-commerce churn file) --------------------------------------------------------


def compute_churn(ctx: ReportContext) -> JSONDict | None:
    if ctx.churn_path is None:
        raise NoData(
            "No churn file given: pass --churn-file (one row per customer with Churn, "
            "SatisfactionScore, Complain, OrderCount).",
            "未提供流失数据文件：请用 --churn-file 指定（每位顾客一行，含 Churn、"
            "SatisfactionScore、Complain、OrderCount）。",
        )
    frame = read_ecommerce_churn(ctx.churn_path)
    _, odds = churn_model(frame)
    return {
        "file": ctx.churn_path.name,
        "customers": len(frame),
        "by_satisfaction": records(churn_by(frame, "SatisfactionScore")),
        "by_complaint": records(churn_by(frame, "Complain")),
        "odds_ratios": records(odds),
    }


def render_churn(data: JSONDict, lang: str) -> list[Block]:
    rows = data["by_satisfaction"]
    fig = {
        "data": [
            {
                "type": "bar",
                "x": [str(r["level"]) for r in rows],
                "y": [r["churn_rate"] for r in rows],
                "error_y": error_bars(rows, "churn_rate"),
                "marker": {"color": COLORS["main"]},
            }
        ],
        "layout": layout(
            pick(lang, "Churn rate by satisfaction score", "按满意度评分的流失率"),
            yaxis={"tickformat": ".0%"},
        ),
    }
    odds = {o["term"]: o for o in data["odds_ratios"]}
    comp = {r["level"]: r for r in data["by_complaint"]}
    s, c = odds["SatisfactionScore"], odds["Complain"]
    reverse = s["low"] > 1
    finding = pick(
        lang,
        f"Customers who complained churned {pct(comp[1]['churn_rate'], lang)} vs "
        f"{pct(comp[0]['churn_rate'], lang)}; odds ratio {c['odds_ratio']:.2f} "
        f"(95 % CI {c['low']:.2f}–{c['high']:.2f}). Each satisfaction point multiplies the odds "
        f"of churn by {s['odds_ratio']:.2f} ({s['low']:.2f}–{s['high']:.2f})."
        + (
            " Here higher scores go with more churn: the score is not a loyalty signal in this "
            "data set."
            if reverse
            else ""
        ),
        f"投诉过的顾客流失率 {pct(comp[1]['churn_rate'], lang)}，未投诉的 "
        f"{pct(comp[0]['churn_rate'], lang)}；优势比 {c['odds_ratio']:.2f}（95% 置信区间 "
        f"{c['low']:.2f}–{c['high']:.2f}）。满意度每高 1 分，流失优势乘以 "
        f"{s['odds_ratio']:.2f}（{s['low']:.2f}–{s['high']:.2f}）。"
        + ("该数据中评分越高流失反而越多：此评分不能当作忠诚度信号。" if reverse else ""),
    )
    return [Block(finding, fig)]


CHURN = Section(
    "churn",
    {"en": "Satisfaction, complaints and churn", "zh": "满意度、投诉与流失"},
    compute_churn,
    render_churn,
)
