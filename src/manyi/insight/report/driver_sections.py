"""Report section: which factors move the rating (and, with a churn file, churn).

The review rating is decomposed three ways on the same rows (see ``docs/drivers.md``): the
exact Shapley/LMG shares of R² with bootstrap intervals, Johnson's relative weights as a
check, and the Shapley shares of an ordered logit's McFadden pseudo-R², which respects that
stars are ordered but not evenly spaced. With the e-commerce churn file, churn is decomposed
with the logistic variant. Everything is an association within the data, not a proven cause.

Examples
--------
>>> from manyi.insight.report.driver_sections import DRIVERS
>>> DRIVERS.key, DRIVERS.title["zh"]
('drivers', '关键驱动因素')
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from manyi.insight.churn import read_ecommerce_churn
from manyi.insight.drivers import KeyDriverAnalysis, build_design
from manyi.insight.rating_drivers import RATING_DRIVERS, rating_driver_rows
from manyi.insight.report.charts import COLORS, layout
from manyi.insight.report.section import Block, JSONDict, NoData, ReportContext, Section
from manyi.insight.report.words import num, pct, pick, signed

#: Default cap on the orders read for the rating drivers (``options["drivers_max_orders"]``).
MAX_ORDERS = 10_000
#: Bootstrap resamples of the LMG shares (``options["drivers_bootstrap"]``).
BOOTSTRAP = 100
#: Fewest review rows worth a decomposition.
MIN_ROWS = 100
#: Churn-file columns used as drivers when present, satisfaction and complaints first.
CHURN_DRIVERS = ("SatisfactionScore", "Complain", "Tenure", "DaySinceLastOrder")
CHURN_BOOTSTRAP = 50

#: How each rating driver's effect is expressed: (scale of the coefficient, unit key).
EFFECT_UNITS: dict[str, tuple[float, str]] = {
    "delivery_days": (1.0, "per_day"),
    "late": (1.0, "late_vs_on_time"),
    "freight_share": (0.1, "per_10_points"),
    "price": (1.0, "per_doubling"),
    "items": (1.0, "per_item"),
}

NAMES: dict[str, tuple[str, str]] = {
    "delivery_days": ("delivery days", "配送天数"),
    "late": ("late delivery", "延迟送达"),
    "freight_share": ("freight share of the bill", "运费占比"),
    "price": ("price", "价格"),
    "items": ("items in the order", "订单件数"),
    "category": ("product category", "商品品类"),
    "SatisfactionScore": ("satisfaction score", "满意度评分"),
    "Complain": ("complaint", "投诉"),
    "Tenure": ("tenure", "客户时长"),
    "DaySinceLastOrder": ("days since last order", "距上次下单天数"),
}

#: How an effect is said: "{v}" is the signed number of stars.
EFFECT_WORDS: dict[str, tuple[str, str]] = {
    "late_vs_on_time": ("a late delivery {v}★ against an on-time one", "延迟送达比准时送达 {v}★"),
    "per_day": ("each extra day of delivery {v}★", "配送每多 1 天 {v}★"),
    "per_10_points": ("10 points more freight share {v}★", "运费占比每高 10 个百分点 {v}★"),
    "per_doubling": ("each doubling of the price {v}★", "价格每翻一倍 {v}★"),
    "per_item": ("each extra item {v}★", "每多 1 件商品 {v}★"),
}


def name(driver: str, lang: str) -> str:
    """The driver's name in ``lang``."""
    en, zh = NAMES.get(driver, (driver, driver))
    return pick(lang, en, zh)


# --- compute ----------------------------------------------------------------------------------


def _usable(frame: pd.DataFrame, column: str) -> bool:
    values = frame[column].dropna()
    return len(values) >= 0.9 * len(frame) and values.astype(str).nunique() > 1


def _rating_part(ctx: ReportContext) -> JSONDict:
    cap = int(ctx.options.get("drivers_max_orders", MAX_ORDERS))
    rows = rating_driver_rows(ctx.src, since=ctx.since, until=ctx.until, max_orders=cap)
    frame = rows.frame.copy()
    # Prices are skewed: the log makes the relation closer to linear, and log2 makes the
    # coefficient "per doubling".
    frame["price"] = np.log2(1.0 + frame["price"].clip(lower=0))
    drivers = [d for d in RATING_DRIVERS if _usable(frame, d)]
    frame = frame.dropna(subset=["rating", *drivers])
    if len(frame) < MIN_ROWS or not drivers or frame["rating"].nunique() < 2:
        raise NoData(
            f"Too few rated, delivered orders to weigh drivers ({len(frame)} reviews; at least "
            f"{MIN_ROWS} are needed).",
            f"有评分且已送达的订单太少，无法分析驱动因素（{len(frame)} 条评价，至少需要 "
            f"{MIN_ROWS} 条）。",
        )
    boot = int(ctx.options.get("drivers_bootstrap", BOOTSTRAP))
    lmg = KeyDriverAnalysis("shapley", n_bootstrap=boot, random_state=0).fit(
        frame, "rating", drivers
    )
    weights = KeyDriverAnalysis("relative_weights").fit(frame, "rating", drivers)
    ordinal = KeyDriverAnalysis("ordinal").fit(frame, "rating", drivers)
    design = build_design(frame, "rating", drivers)
    ones = np.ones((len(design.y), 1))
    coef = np.linalg.lstsq(np.hstack([ones, design.X]), design.y, rcond=None)[0][1:]
    table: list[dict[str, Any]] = []
    for j, driver in enumerate(lmg.drivers_):
        cols = design.groups[j]
        single = len(cols) == 1
        scale, unit = EFFECT_UNITS.get(driver, (1.0, None)) if single else (1.0, None)
        table.append(
            {
                "driver": driver,
                "lmg": float(lmg.importance_[j]),
                "lmg_share": float(lmg.share_[j]),
                "lmg_low": None if lmg.ci_low_ is None else float(lmg.ci_low_[j]),
                "lmg_high": None if lmg.ci_high_ is None else float(lmg.ci_high_[j]),
                "relative_weight": float(weights.importance_[j]),
                "ordinal": float(ordinal.importance_[j]),
                "ordinal_share": float(ordinal.share_[j]),
                "correlation": (
                    float(np.corrcoef(design.X[:, cols[0]], design.y)[0, 1]) if single else None
                ),
                "effect": float(coef[cols[0]] * scale) if single and unit else None,
                "effect_unit": unit,
            }
        )
    table.sort(key=lambda r: -r["lmg"])
    by_category = (
        frame.groupby("category")["rating"].agg(["size", "mean"]).reset_index()
        if "category" in drivers
        else pd.DataFrame(columns=["category", "size", "mean"])
    )
    return {
        "orders": rows.orders,
        "rated_orders": rows.rated_orders,
        "max_orders": rows.max_orders,
        "sampled": rows.orders > rows.max_orders,
        "reviews": len(frame),
        "r2": float(lmg.r2_),
        "pseudo_r2": float(ordinal.r2_),
        "bootstrap": boot,
        "drivers": table,
        "categories": [
            {"category": str(r["category"]), "n": int(r["size"]), "mean": float(r["mean"])}
            for _, r in by_category.sort_values("mean").iterrows()
        ],
    }


def _churn_part(ctx: ReportContext) -> JSONDict:
    if ctx.churn_path is None:
        raise NoData(
            "No churn file given (--churn-file): churn drivers not computed.",
            "未提供流失数据文件（--churn-file），未计算流失驱动因素。",
        )
    frame = read_ecommerce_churn(ctx.churn_path)
    drivers = [d for d in CHURN_DRIVERS if d in frame.columns and _usable(frame, d)]
    kda = KeyDriverAnalysis("logistic", n_bootstrap=CHURN_BOOTSTRAP, random_state=0).fit(
        frame, "Churn", drivers
    )
    design = build_design(frame, "Churn", drivers)
    return {
        "file": ctx.churn_path.name,
        "customers": len(frame),
        "rows": kda.n_samples_,
        "pseudo_r2": float(kda.r2_),
        "bootstrap": CHURN_BOOTSTRAP,
        "drivers": [
            {
                "driver": d,
                "importance": float(kda.importance_[j]),
                "share": float(kda.share_[j]),
                "low": None if kda.ci_low_ is None else float(kda.ci_low_[j]),
                "high": None if kda.ci_high_ is None else float(kda.ci_high_[j]),
                "correlation": float(np.corrcoef(design.X[:, design.groups[j][0]], design.y)[0, 1]),
            }
            for j, d in sorted(enumerate(kda.drivers_), key=lambda item: -kda.importance_[item[0]])
        ],
    }


def compute_drivers(ctx: ReportContext) -> JSONDict | None:
    out: JSONDict = {"rating": None, "rating_reason": None, "churn": None, "churn_reason": None}
    if ctx.src.has("reviews"):
        try:
            out["rating"] = _rating_part(ctx)
        except NoData as why:
            out["rating_reason"] = why.reason
    else:
        out["rating_reason"] = {"en": "The source has no reviews.", "zh": "数据源中没有评价。"}
    try:
        out["churn"] = _churn_part(ctx)
    except NoData as why:
        out["churn_reason"] = why.reason
    if out["rating"] is None and out["churn"] is None:
        reason = out["rating_reason"]
        raise NoData(reason["en"], reason["zh"])
    return out


# --- render -----------------------------------------------------------------------------------


def _effect_text(row: dict[str, Any], lang: str) -> str:
    en, zh = EFFECT_WORDS[row["effect_unit"]]
    value = row["effect"]
    return pick(lang, en, zh).format(v=signed(value, 3 if abs(value) < 0.1 else 2))


def _render_rating(data: JSONDict, lang: str) -> list[Block]:
    rows = data["drivers"]
    shown = list(reversed(rows))  # largest on top of a horizontal bar chart
    fig = {
        "data": [
            {
                "type": "bar",
                "orientation": "h",
                "name": pick(lang, "linear (LMG), 95 % CI", "线性（LMG），95% 置信区间"),
                "y": [name(r["driver"], lang) for r in shown],
                "x": [r["lmg_share"] for r in shown],
                "error_x": {
                    "type": "data",
                    "symmetric": False,
                    "array": [
                        None if r["lmg_high"] is None else (r["lmg_high"] - r["lmg"]) / data["r2"]
                        for r in shown
                    ],
                    "arrayminus": [
                        None if r["lmg_low"] is None else (r["lmg"] - r["lmg_low"]) / data["r2"]
                        for r in shown
                    ],
                },
                "marker": {"color": COLORS["main"]},
            },
            {
                "type": "bar",
                "orientation": "h",
                "name": pick(lang, "ordinal (ordered logit)", "有序 logit"),
                "y": [name(r["driver"], lang) for r in shown],
                "x": [r["ordinal_share"] for r in shown],
                "marker": {"color": COLORS["neutral"]},
            },
        ],
        "layout": layout(
            pick(
                lang,
                "Share of the explained rating variation, by driver",
                "各因素在评分可解释差异中的占比",
            ),
            barmode="group",
            xaxis={"tickformat": ".0%"},
            height=400,
        ),
    }
    top = rows[0]
    second = rows[1] if len(rows) > 1 else None
    ordinal_top = max(rows, key=lambda r: r["ordinal"])
    effects = [r for r in rows if r["effect"] is not None][:3]
    sample = (
        pick(
            lang,
            f" (a fixed sample of {num(data['max_orders'])} of {num(data['orders'])} orders)",
            f"（从 {num(data['orders'])} 笔订单中固定抽取 {num(data['max_orders'])} 笔）",
        )
        if data["sampled"]
        else ""
    )
    ci = (
        pick(
            lang,
            f" (95 % CI {pct(top['lmg_low'] / data['r2'], lang, 0)}–"
            f"{pct(top['lmg_high'] / data['r2'], lang, 0)})",
            f"（95% 置信区间 {pct(top['lmg_low'] / data['r2'], lang, 0)}–"
            f"{pct(top['lmg_high'] / data['r2'], lang, 0)}）",
        )
        if top["lmg_low"] is not None
        else ""
    )
    then = (
        pick(
            lang,
            f", then {name(second['driver'], lang)} ({pct(second['lmg_share'], lang, 0)})",
            f"，其次是{name(second['driver'], lang)}（{pct(second['lmg_share'], lang, 0)}）",
        )
        if second
        else ""
    )
    same = ordinal_top["driver"] == top["driver"]
    finding = pick(
        lang,
        f"Together these {len(rows)} factors explain {pct(data['r2'], lang, 0)} of the variation "
        f"in {num(data['reviews'])} ratings{sample}. {name(top['driver'], lang).capitalize()} "
        f"carries {pct(top['lmg_share'], lang, 0)} of that{ci}{then}. "
        + (
            "The ordinal model, which treats stars as ordered steps, ranks the same factor first."
            if same
            else f"The ordinal model puts {name(ordinal_top['driver'], lang)} first."
        )
        + (
            " Holding the others fixed: " + "; ".join(_effect_text(r, lang) for r in effects) + "."
            if effects
            else ""
        )
        + " These are associations in past orders, not proven causes.",
        f"这 {len(rows)} 个因素合计解释了 {num(data['reviews'])} 条评分差异的 "
        f"{pct(data['r2'], lang, 0)}{sample}。其中{name(top['driver'], lang)}占 "
        f"{pct(top['lmg_share'], lang, 0)}{ci}{then}。"
        + (
            "把星级视为有序等级的有序 logit 模型也把它排在第一。"
            if same
            else f"有序 logit 模型则把{name(ordinal_top['driver'], lang)}排在第一。"
        )
        + (
            "在其他因素不变时：" + "；".join(_effect_text(r, lang) for r in effects) + "。"
            if effects
            else ""
        )
        + "以上是历史订单中的相关关系，并非已证实的因果。",
    )
    return [Block(finding, fig)]


def _render_churn(data: JSONDict, lang: str) -> list[Block]:
    rows = data["drivers"]
    shown = list(reversed(rows))
    r2 = data["pseudo_r2"]
    fig = {
        "data": [
            {
                "type": "bar",
                "orientation": "h",
                "y": [name(r["driver"], lang) for r in shown],
                "x": [r["share"] for r in shown],
                "error_x": {
                    "type": "data",
                    "symmetric": False,
                    "array": [
                        None if r["high"] is None else (r["high"] - r["importance"]) / r2
                        for r in shown
                    ],
                    "arrayminus": [
                        None if r["low"] is None else (r["importance"] - r["low"]) / r2
                        for r in shown
                    ],
                },
                "marker": {"color": COLORS["bad"]},
            }
        ],
        "layout": layout(
            pick(lang, "What goes with churn: share of the explained part", "流失的驱动因素占比"),
            xaxis={"tickformat": ".0%"},
        ),
    }
    by = {r["driver"]: r for r in rows}
    top = rows[0]
    listed = [name(r["driver"], lang) for r in rows]
    details_en, details_zh = [], []
    if "Complain" in by:
        c = by["Complain"]
        more = c["correlation"] > 0
        details_en.append(
            f"complaints carry {pct(c['share'], lang, 0)} and go with "
            f"{'more' if more else 'less'} churn"
        )
        details_zh.append(
            f"投诉占 {pct(c['share'], lang, 0)}，有投诉的顾客流失{'更多' if more else '更少'}"
        )
    if "SatisfactionScore" in by:
        s = by["SatisfactionScore"]
        more = s["correlation"] > 0
        details_en.append(
            f"the satisfaction score carries {pct(s['share'], lang, 0)}"
            + (
                ", and here a higher score goes with more churn: in this data set the score "
                "is not a loyalty signal"
                if more
                else ", a higher score going with less churn"
            )
        )
        details_zh.append(
            f"满意度评分占 {pct(s['share'], lang, 0)}"
            + (
                "，且此数据中评分越高流失越多：该评分不能当作忠诚度信号"
                if more
                else "，评分越高流失越少"
            )
        )
    finding = pick(
        lang,
        f"In {data['file']} ({num(data['rows'])} customers with every field), "
        f"{', '.join(listed[:-1])} and {listed[-1]} together reach a pseudo-R² of {r2:.2f} for "
        f"churn (logistic model). {name(top['driver'], lang).capitalize()} carries the largest "
        f"share ({pct(top['share'], lang, 0)}); " + "; ".join(details_en) + ".",
        f"在 {data['file']}（{num(data['rows'])} 位字段完整的顾客）中，{'、'.join(listed)}"
        f"对流失的伪 R² 合计为 {r2:.2f}（逻辑回归）。占比最大的是{name(top['driver'], lang)}"
        f"（{pct(top['share'], lang, 0)}）；" + "；".join(details_zh) + "。",
    )
    return [Block(finding, fig)]


def render_drivers(data: JSONDict, lang: str) -> list[Block]:
    blocks: list[Block] = []
    for part, render in (("rating", _render_rating), ("churn", _render_churn)):
        if data[part] is not None:
            blocks.extend(render(data[part], lang))
        elif part == "rating" and data["rating_reason"]:
            blocks.append(Block(data["rating_reason"][lang]))
    return blocks


DRIVERS = Section(
    "drivers",
    {"en": "Key drivers of the rating and of churn", "zh": "关键驱动因素"},
    compute_drivers,
    render_drivers,
)
