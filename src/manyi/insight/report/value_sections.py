"""Report section: what a point of satisfaction is worth (CLV by first-order rating tier).

See :mod:`manyi.insight.tier_value` for the models and ``docs/clv.md`` for the assumptions,
which the section also prints in plain language under its charts.

Examples
--------
>>> from manyi.insight.report.value_sections import SATISFACTION_VALUE
>>> SATISFACTION_VALUE.key, SATISFACTION_VALUE.title["en"]
('satisfaction_value', 'What a point of satisfaction is worth')
"""

from __future__ import annotations

from typing import Any

from manyi.insight.report.charts import COLORS, TIER_COLORS, layout
from manyi.insight.report.jsonable import plain, records
from manyi.insight.report.section import Block, JSONDict, NoData, ReportContext, Section
from manyi.insight.report.words import num, pct, pick, signed
from manyi.insight.tier_value import NotEnoughHistory, value_by_first_rating

#: Share of each lower tier moved up one tier in the scenario (``options["value_shift_share"]``).
SHIFT_SHARE = 0.10


def compute_value(ctx: ReportContext) -> JSONDict | None:
    if not ctx.src.has("reviews"):
        raise NoData(
            "The source has no reviews, so customers cannot be grouped by rating.",
            "数据源中没有评价，无法按评分分组顾客。",
        )
    share = float(ctx.options.get("value_shift_share", SHIFT_SHARE))
    try:
        v = value_by_first_rating(ctx.src, since=ctx.since, until=ctx.until, shift_share=share)
    except NotEnoughHistory as exc:
        raise NoData(
            f"Customer value cannot be modelled on these data: {exc}.",
            f"这些数据无法建立顾客价值模型：{exc}。",
        ) from None
    return {
        "model": v.model,
        "penalizer": v.penalizer,
        "params": plain(v.params),
        "loglik": v.loglik,
        "fit_customers": v.fit_customers,
        "spend_model": v.spend_model,
        "gamma_gamma": plain(v.gamma_gamma),
        "mean_spend": v.mean_spend,
        "time_unit": "W",
        "horizon_months": v.horizon_months,
        "monthly_discount": v.monthly_discount,
        "observation_end": v.observation_end.isoformat(),
        "customers": v.customers,
        "repeat_customers": v.repeat_customers,
        "tiers": records(v.tiers),
        "shift": plain(v.shift),
        "assumptions": v.assumptions,
    }


def _overlap(a: dict[str, Any], b: dict[str, Any]) -> bool:
    if None in (a["clv_low"], a["clv_high"], b["clv_low"], b["clv_high"]):
        return True
    return not (a["clv_high"] < b["clv_low"] or b["clv_high"] < a["clv_low"])


def render_value(data: JSONDict, lang: str) -> list[Block]:
    tiers = data["tiers"]
    months = data["horizon_months"]
    fig = {
        "data": [
            {
                "type": "bar",
                "x": [f"{t['tier']}★" for t in tiers],
                "y": [t["clv_mean"] for t in tiers],
                "text": [num(t["clv_mean"], 2) for t in tiers],
                "error_y": {
                    "type": "data",
                    "symmetric": False,
                    "array": [
                        None if t["clv_high"] is None else t["clv_high"] - t["clv_mean"]
                        for t in tiers
                    ],
                    "arrayminus": [
                        None if t["clv_low"] is None else t["clv_mean"] - t["clv_low"]
                        for t in tiers
                    ],
                },
                "marker": {"color": [TIER_COLORS[t["tier"]] for t in tiers]},
            }
        ],
        "layout": layout(
            pick(
                lang,
                f"Expected revenue per customer in the next {months} months, by first-order rating",
                f"按首单评分的顾客未来 {months} 个月预期销售额",
            )
        ),
    }
    by = {t["tier"]: t for t in tiers}
    low, high = by.get("1-2"), by.get("4-5")
    if low and high:
        caveat = (
            pick(
                lang,
                " The intervals overlap: these data cannot tell the two tiers' value apart.",
                "两者置信区间重叠：这些数据无法区分两档顾客的价值。",
            )
            if _overlap(low, high)
            else ""
        )
        finding = pick(
            lang,
            f"A customer whose first order got 4–5★ is expected to bring "
            f"{num(high['clv_mean'], 2)} in the next {months} months "
            f"({num(high['expected_purchases'], 3)} purchases), against "
            f"{num(low['clv_mean'], 2)} after 1–2★. So far {pct(high['repeat_rate'], lang, 2)} "
            f"of 4–5★ first-time buyers bought again (1–2★: {pct(low['repeat_rate'], lang, 2)}; "
            f"{num(data['repeat_customers'])} repeat buyers of {num(data['customers'])})." + caveat,
            f"首单 4–5★ 的顾客预计在未来 {months} 个月带来 {num(high['clv_mean'], 2)} 的销售额"
            f"（{num(high['expected_purchases'], 3)} 次购买），首单 1–2★ 的为 "
            f"{num(low['clv_mean'], 2)}。迄今首单 4–5★ 的顾客中 "
            f"{pct(high['repeat_rate'], lang, 2)} 再次购买（1–2★："
            f"{pct(low['repeat_rate'], lang, 2)}；{num(data['customers'])} 位顾客中"
            f"有 {num(data['repeat_customers'])} 位复购）。" + caveat,
        )
    else:
        finding = pick(
            lang,
            "Too few rated first orders in both the 1–2★ and the 4–5★ tier to compare them.",
            "首单 1–2★ 或 4–5★ 的顾客太少，无法比较。",
        )
    blocks = [Block(finding, fig)]

    shift = data["shift"]
    steps = shift["steps"]
    change, c_low, c_high = (
        shift["expected_change"],
        shift["expected_change_low"],
        shift["expected_change_high"],
    )
    shift_fig = {
        "data": [
            {
                "type": "bar",
                "x": [f"{s['from_tier']}★ → {s['to_tier']}★" for s in steps]
                + [pick(lang, "total", "合计")],
                "y": [s["expected_change"] for s in steps] + [change],
                "text": [num(s["expected_change"], 2) for s in steps] + [num(change, 2)],
                "marker": {
                    "color": [COLORS["neutral"]] * len(steps)
                    + [COLORS["good"] if change >= 0 else COLORS["bad"]]
                },
            }
        ],
        "layout": layout(
            pick(
                lang,
                f"Revenue change if {pct(shift['share'], lang, 0)} of each tier moved up one tier",
                f"若每档 {pct(shift['share'], lang, 0)} 的顾客升一档，销售额的变化",
            )
        ),
    }
    unclear = c_low is not None and c_high is not None and c_low < 0 < c_high
    ci = (
        pick(
            lang,
            f" (95 % CI {signed(c_low)} to {signed(c_high)})",
            f"（95% 置信区间 {signed(c_low)} 至 {signed(c_high)}）",
        )
        if c_low is not None and c_high is not None
        else ""
    )
    blocks.append(
        Block(
            pick(
                lang,
                f"If {pct(shift['share'], lang, 0)} of the customers in each tier below the top "
                f"moved up one tier ({num(shift['moved_customers'])} customers), the expected "
                f"revenue of the next {months} months would change by {signed(change)}{ci}."
                + (
                    " The interval includes zero: no value of a better rating can be shown here."
                    if unclear
                    else ""
                ),
                f"若最高档以外每档各有 {pct(shift['share'], lang, 0)} 的顾客升一档"
                f"（{num(shift['moved_customers'])} 位），未来 {months} 个月的预期销售额将变化 "
                f"{signed(change)}{ci}。"
                + ("区间包含 0：此处无法证明评分提升带来价值。" if unclear else ""),
            ),
            shift_fig,
        )
    )
    label = pick(lang, "Assumptions: ", "假设：")
    sep = " " if lang == "en" else ""
    listed = sep.join(
        f"({i}) {a}" if lang == "en" else f"（{i}）{a}"
        for i, a in enumerate(data["assumptions"][lang], start=1)
    )
    blocks.append(Block(label + listed))
    return blocks


SATISFACTION_VALUE = Section(
    "satisfaction_value",
    {"en": "What a point of satisfaction is worth", "zh": "满意度提升一档值多少钱"},
    compute_value,
    render_value,
)
