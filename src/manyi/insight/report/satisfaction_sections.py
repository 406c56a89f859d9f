"""Report sections about satisfaction: overview, ratings, delivery, shop ratings, surveys.

Examples
--------
>>> from manyi.insight.report.satisfaction_sections import RATINGS
>>> RATINGS.key
'ratings'
"""

from __future__ import annotations

from manyi.insight.csat import compute_ces, compute_csat
from manyi.insight.delivery import delivery_vs_rating, late_share_by
from manyi.insight.dsr import dsr_scores
from manyi.insight.nps import compute_nps
from manyi.insight.ratings import rating_summary, rating_summary_with_overall
from manyi.insight.report.charts import COLORS, error_bars, layout
from manyi.insight.report.jsonable import plain, records
from manyi.insight.report.section import Block, JSONDict, ReportContext, Section
from manyi.insight.report.survey_slices import (
    SLICES,
    compute_survey_slices,
    render_survey_slices,
)
from manyi.insight.report.words import num, pct, pick, stars
from manyi.insight.servqual import servqual_gaps
from manyi.insight.slicing import as_number, between
from manyi.insight.surveys import has_surveys

# --- overview -----------------------------------------------------------------------------


def compute_overview(ctx: ReportContext) -> JSONDict | None:
    src = ctx.src
    orders = src.table("orders")
    orders = orders.filter(between(src, orders.purchased_at, ctx.since, ctx.until))
    local = src.local_date(orders.purchased_at)
    row = src.execute(
        orders.aggregate(
            orders=orders.count(),
            customers=orders.customer_id.nunique(),
            revenue=(orders.item_total.fill_null(0) + orders.freight_total.fill_null(0)).sum(),
            first=local.min(),
            last=local.max(),
        )
    ).iloc[0]
    reviews = 0
    if src.has("reviews"):
        rv = src.table("reviews")
        reviews = int(
            src.execute(rv.filter(between(src, rv.created_at, ctx.since, ctx.until)).count())
        )
    return {
        "orders": int(as_number(row["orders"])),
        "customers": int(as_number(row["customers"])),
        "reviews": reviews,
        "revenue": round(as_number(row["revenue"]), 2),
        "first_purchase": plain(row["first"]),
        "last_purchase": plain(row["last"]),
    }


def render_overview(data: JSONDict, lang: str) -> list[Block]:
    finding = pick(
        lang,
        f"{num(data['orders'])} orders from {num(data['customers'])} customers and "
        f"{num(data['reviews'])} reviews, {data['first_purchase']} to {data['last_purchase']}; "
        f"revenue {num(data['revenue'], 2)}.",
        f"{data['first_purchase']} 至 {data['last_purchase']}：{num(data['orders'])} 笔订单，"
        f"{num(data['customers'])} 位顾客，{num(data['reviews'])} 条评价；销售额 "
        f"{num(data['revenue'], 2)}。",
    )
    return [Block(finding)]


OVERVIEW = Section("overview", {"en": "Overview", "zh": "概览"}, compute_overview, render_overview)

# --- ratings ------------------------------------------------------------------------------


def compute_ratings(ctx: ReportContext) -> JSONDict | None:
    if not ctx.src.has("reviews"):
        return None
    # the overall row is the sum of the months: one pass over the reviews for both
    overall, by_month = rating_summary_with_overall(
        ctx.src, by="month", since=ctx.since, until=ctx.until
    )
    if int(overall.iloc[0]["n"]) == 0:
        return None
    by_region = rating_summary(ctx.src, by="region", since=ctx.since, until=ctx.until)
    out: JSONDict = {
        "summary": records(overall)[0],
        "by_month": records(by_month),
        "by_region": records(by_region),
    }
    if ctx.src.has("products"):
        by_cat = rating_summary(ctx.src, by="category", since=ctx.since, until=ctx.until)
        out["by_category"] = records(by_cat)
    return out


def render_ratings(data: JSONDict, lang: str) -> list[Block]:
    s = data["summary"]
    dist = {
        "data": [
            {
                "type": "bar",
                "x": [f"{k}★" for k in range(1, 6)],
                "y": [s[f"share_{k}"] for k in range(1, 6)],
                "text": [pct(s[f"share_{k}"], lang) for k in range(1, 6)],
                "marker": {
                    "color": [COLORS["bad"]] * 2 + [COLORS["neutral"]] + [COLORS["good"]] * 2
                },
            }
        ],
        "layout": layout(
            pick(lang, "Rating distribution", "评分分布"), yaxis={"tickformat": ".0%"}
        ),
    }
    blocks = [
        Block(
            pick(
                lang,
                f"{num(s['n'])} reviews average {stars(s['mean'])} "
                f"(95 % CI {s['mean_low']:.2f}–{s['mean_high']:.2f}); good-review rate "
                f"{pct(s['good_rate'], lang)}, bad (1–2★) {pct(s['bad_rate'], lang)}.",
                f"{num(s['n'])} 条评价平均 {stars(s['mean'])}（95% 置信区间 "
                f"{s['mean_low']:.2f}–{s['mean_high']:.2f}）；好评率 {pct(s['good_rate'], lang)}，"
                f"差评（1–2★）{pct(s['bad_rate'], lang)}。",
            )
            if s["mean_low"] is not None
            else pick(lang, f"{num(s['n'])} review(s).", f"{num(s['n'])} 条评价。"),
            dist,
        )
    ]
    months = [m for m in data["by_month"] if m["n"] >= 30]
    if months:
        worst = min(months, key=lambda m: m["good_rate"])
        trend = {
            "data": [
                {
                    "type": "scatter",
                    "mode": "lines+markers",
                    "name": pick(lang, "good-review rate", "好评率"),
                    "x": [m["period"] for m in months],
                    "y": [m["good_rate"] for m in months],
                    "line": {"color": COLORS["good"]},
                },
                {
                    "type": "scatter",
                    "mode": "lines",
                    "name": pick(lang, "bad-review rate", "差评率"),
                    "x": [m["period"] for m in months],
                    "y": [m["bad_rate"] for m in months],
                    "line": {"color": COLORS["bad"]},
                },
            ],
            "layout": layout(
                pick(lang, "Good and bad reviews by month", "每月好评率与差评率"),
                yaxis={"tickformat": ".0%"},
            ),
        }
        blocks.append(
            Block(
                pick(
                    lang,
                    f"The weakest month was {str(worst['period'])[:7]}: good-review rate "
                    f"{pct(worst['good_rate'], lang)} on {num(worst['n'])} reviews "
                    "(months with at least 30 reviews).",
                    f"表现最差的月份是 {str(worst['period'])[:7]}：好评率 "
                    f"{pct(worst['good_rate'], lang)}（{num(worst['n'])} 条评价；"
                    "仅含评价数不少于 30 的月份）。",
                ),
                trend,
            )
        )
    cats = sorted(
        (c for c in data.get("by_category", []) if c["n"] >= 50 and c["category"] is not None),
        key=lambda c: c["mean"],
    )[:10]
    if cats:
        bar = {
            "data": [
                {
                    "type": "bar",
                    "orientation": "h",
                    "y": [c["category"] for c in cats],
                    "x": [c["mean"] for c in cats],
                    "error_x": error_bars(cats, "mean"),
                    "marker": {"color": COLORS["main"]},
                }
            ],
            "layout": layout(
                pick(
                    lang, "Lowest-rated categories (≥ 50 reviews)", "评分最低的品类（≥50 条评价）"
                ),
                xaxis={"range": [1, 5]},
                height=420,
            ),
        }
        low = cats[0]
        blocks.append(
            Block(
                pick(
                    lang,
                    f"Lowest-rated category: {low['category']} at {stars(low['mean'])} "
                    f"({num(low['n'])} reviews).",
                    f"评分最低的品类：{low['category']}，{stars(low['mean'])}"
                    f"（{num(low['n'])} 条评价）。",
                ),
                bar,
            )
        )
    return blocks


RATINGS = Section(
    "ratings",
    {"en": "Ratings and good-review rate", "zh": "评分与好评率"},
    compute_ratings,
    render_ratings,
)

# --- delivery -----------------------------------------------------------------------------


def compute_delivery(ctx: ReportContext) -> JSONDict | None:
    if not ctx.src.has("reviews"):
        return None
    result = delivery_vs_rating(ctx.src, since=ctx.since, until=ctx.until)
    if result.late_share.n == 0:
        return None
    monthly = late_share_by(ctx.src, "month", since=ctx.since, until=ctx.until)
    out: JSONDict = plain(result)
    out["late_share_by_month"] = records(monthly)
    return out


def render_delivery(data: JSONDict, lang: str) -> list[Block]:
    on, late, share = data["on_time_mean"], data["late_mean"], data["late_share"]
    buckets = data["buckets"]
    labels = {
        "on_time": pick(lang, "on time", "准时"),
        "1-3": pick(lang, "1–3 days late", "晚 1–3 天"),
        "4-7": pick(lang, "4–7 days late", "晚 4–7 天"),
        "8-14": pick(lang, "8–14 days late", "晚 8–14 天"),
        "15+": pick(lang, "15+ days late", "晚 15 天以上"),
    }
    fig = {
        "data": [
            {
                "type": "bar",
                "x": [labels[b["bucket"]] for b in buckets],
                "y": [b["mean"] for b in buckets],
                "text": [stars(b["mean"]) for b in buckets],
                "error_y": error_bars(buckets, "mean"),
                "marker": {"color": [COLORS["good"]] + [COLORS["bad"]] * (len(buckets) - 1)},
            }
        ],
        "layout": layout(
            pick(lang, "Mean rating by days late", "按延迟天数的平均评分"), yaxis={"range": [0, 5]}
        ),
    }
    finding = pick(
        lang,
        f"Late orders average {stars(late['value'])} against {stars(on['value'])} on time; "
        f"{pct(share['value'], lang)} of orders were late. "
        f"{pct(data['late_bad_share']['value'], lang)} of late orders got 1–2★ "
        f"(on time: {pct(data['on_time_bad_share']['value'], lang)}).",
        f"延迟订单平均 {stars(late['value'])}，准时订单 {stars(on['value'])}；"
        f"{pct(share['value'], lang)} 的订单延迟送达。延迟订单中 "
        f"{pct(data['late_bad_share']['value'], lang)} 给了 1–2★（准时订单："
        f"{pct(data['on_time_bad_share']['value'], lang)}）。",
    )
    blocks = [Block(finding, fig)]
    months = [m for m in data["late_share_by_month"] if m["orders"] >= 30]
    if months:
        worst = max(months, key=lambda m: m["late_share"])
        blocks.append(
            Block(
                pick(
                    lang,
                    f"The month with the most late orders was {str(worst['period'])[:7]}: "
                    f"{pct(worst['late_share'], lang)} of {num(worst['orders'])} orders late.",
                    f"延迟最严重的月份是 {str(worst['period'])[:7]}："
                    f"{num(worst['orders'])} 笔订单中 "
                    f"{pct(worst['late_share'], lang)} 延迟。",
                ),
                {
                    "data": [
                        {
                            "type": "scatter",
                            "mode": "lines+markers",
                            "x": [m["period"] for m in months],
                            "y": [m["late_share"] for m in months],
                            "line": {"color": COLORS["bad"]},
                        }
                    ],
                    "layout": layout(
                        pick(
                            lang,
                            "Share of late orders by month of purchase",
                            "按下单月份的延迟订单比例",
                        ),
                        yaxis={"tickformat": ".0%"},
                    ),
                },
            )
        )
    return blocks


DELIVERY = Section(
    "delivery",
    {"en": "Delivery and satisfaction", "zh": "物流时效与满意度"},
    compute_delivery,
    render_delivery,
)

# --- shop ratings (DSR) -------------------------------------------------------------------


def compute_shop_ratings(ctx: ReportContext) -> JSONDict | None:
    src = ctx.src
    if not (src.has("order_items") and src.has("products")):
        return None
    source = "surveys" if has_surveys(src, "dsr") else "reviews"
    if source == "reviews" and not src.has("reviews"):
        return None
    scores = dsr_scores(src, source=source)
    if scores.empty:
        return None
    return {"source": source, "window_days": 180, "accept_days": 15, "scores": records(scores)}


def render_shop_ratings(data: JSONDict, lang: str) -> list[Block]:
    rows = [r for r in data["scores"] if r["n"] >= 10]
    rows.sort(key=lambda r: r["vs_industry"])
    worst = rows[:10]
    below = sum(
        1 for r in rows if r["score_high"] is not None and r["score_high"] < r["industry_score"]
    )
    basis = pick(
        lang,
        "review ratings (no DSR survey yet)" if data["source"] == "reviews" else "DSR surveys",
        "商品评价评分（尚无店铺评分问卷）" if data["source"] == "reviews" else "店铺评分问卷",
    )
    if not worst:
        return [
            Block(
                pick(
                    lang,
                    "No seller has 10 counted ratings in the window.",
                    "窗口期内没有卖家获得 10 条以上有效评分。",
                )
            )
        ]
    fig = {
        "data": [
            {
                "type": "bar",
                "orientation": "h",
                "y": [f"{r['seller_id'][:8]} · {r['dimension']}" for r in worst],
                "x": [r["vs_industry"] for r in worst],
                "marker": {"color": COLORS["bad"]},
            }
        ],
        "layout": layout(
            pick(
                lang,
                "Sellers furthest below their industry (≥ 10 ratings)",
                "低于行业均值最多的卖家（≥10 条评分）",
            ),
            xaxis={"tickformat": ".0%"},
            height=420,
        ),
    }
    return [
        Block(
            pick(
                lang,
                f"Based on {basis}, {data['window_days']}-day window: {below} of {len(rows)} "
                f"sellers with ≥ 10 ratings score clearly below their industry (95 % interval "
                f"entirely below). Worst: {worst[0]['seller_id'][:8]} at "
                f"{stars(worst[0]['score'])} vs {stars(worst[0]['industry_score'])} "
                f"({pct(worst[0]['vs_industry'], lang)}).",
                f"基于{basis}，{data['window_days']} 天窗口：{len(rows)} 个评分数 ≥10 的卖家中有 "
                f"{below} 个明显低于行业均值（95% 区间整体低于行业）。最低："
                f"{worst[0]['seller_id'][:8]}，{stars(worst[0]['score'])}，行业 "
                f"{stars(worst[0]['industry_score'])}（{pct(worst[0]['vs_industry'], lang)}）。",
            ),
            fig,
        )
    ]


SHOP_RATINGS = Section(
    "shop_ratings",
    {"en": "Shop ratings (DSR)", "zh": "店铺动态评分（DSR）"},
    compute_shop_ratings,
    render_shop_ratings,
)

# --- surveys ------------------------------------------------------------------------------


def compute_surveys(ctx: ReportContext) -> JSONDict | None:
    src = ctx.src
    if not has_surveys(src):
        return None
    out: JSONDict = {}
    nps = compute_nps(src, since=ctx.since, until=ctx.until)
    if not nps.empty and int(nps.iloc[0]["n"]) > 0:
        out["nps"] = records(nps)[0]
        out["nps_by_month"] = records(
            compute_nps(src, by="month", since=ctx.since, until=ctx.until)
        )
    csat = compute_csat(src, since=ctx.since, until=ctx.until)
    if not csat.empty and int(csat.iloc[0]["n"]) > 0:
        out["csat"] = records(csat)[0]
    ces = compute_ces(src, since=ctx.since, until=ctx.until)
    if not ces.empty:
        out["ces"] = records(ces)
    gaps = servqual_gaps(src, since=ctx.since, until=ctx.until)
    if gaps.respondents:
        out["servqual"] = plain(gaps)
    if out:
        for by in SLICES:
            rows = compute_survey_slices(src, by, since=ctx.since, until=ctx.until)
            if rows:
                out[f"by_{by}"] = rows
    return out or None


def render_surveys(data: JSONDict, lang: str) -> list[Block]:
    blocks = []
    if "nps" in data:
        n = data["nps"]
        months = [m for m in data.get("nps_by_month", []) if m["n"] > 0]
        fig = {
            "data": [
                {
                    "type": "scatter",
                    "mode": "lines+markers",
                    "x": [m["period"] for m in months],
                    "y": [m["nps"] for m in months],
                    "error_y": {"type": "data", "array": [m["margin"] for m in months]},
                }
            ],
            "layout": layout("NPS", yaxis={"range": [-100, 100]}),
        }
        blocks.append(
            Block(
                pick(
                    lang,
                    f"NPS {n['nps']:.1f} ± {n['margin']:.1f} (n = {num(n['n'])}).",
                    f"净推荐值 NPS {n['nps']:.1f} ± {n['margin']:.1f}（n = {num(n['n'])}）。",
                ),
                fig,
            )
        )
    if "csat" in data:
        c = data["csat"]
        blocks.append(
            Block(
                pick(
                    lang,
                    f"CSAT (4–5 of 5) {pct(c['csat'], lang)} (95 % CI {pct(c['csat_low'], lang)}–"
                    f"{pct(c['csat_high'], lang)}, n = {num(c['n'])}).",
                    f"CSAT（5 分制中 4–5 分）{pct(c['csat'], lang)}（95% 置信区间 "
                    f"{pct(c['csat_low'], lang)}–{pct(c['csat_high'], lang)}，"
                    f"n = {num(c['n'])}）。",
                )
            )
        )
    blocks.extend(
        Block(
            pick(
                lang,
                f"CES ({ces['scale']}): mean {ces['mean']:.2f}, easy "
                f"{pct(ces['easy_share'], lang)} (n = {num(ces['n'])}).",
                f"客户费力度 CES（{ces['scale']}）：平均 {ces['mean']:.2f}，认为容易的比例 "
                f"{pct(ces['easy_share'], lang)}（n = {num(ces['n'])}）。",
            )
        )
        for ces in data.get("ces", [])
    )
    if "servqual" in data:
        sq = data["servqual"]
        dims = sq["dimensions"]
        fig = {
            "data": [
                {
                    "type": "bar",
                    "x": [d["dimension"] for d in dims],
                    "y": [d["gap"] for d in dims],
                    "marker": {"color": COLORS["main"]},
                }
            ],
            "layout": layout(
                pick(
                    lang, "SERVQUAL gap (perception − expectation)", "SERVQUAL 差距（感知 − 期望）"
                )
            ),
        }
        known = [d for d in dims if d["gap"] is not None]
        worst = min(known, key=lambda d: d["gap"]) if known else None
        text = (
            pick(
                lang,
                f"SERVQUAL: unweighted gap {sq['unweighted']:.2f}"
                + (f", weighted {sq['weighted']:.2f}" if sq["weighted"] is not None else "")
                + (f"; widest gap in {worst['dimension']} ({worst['gap']:.2f})." if worst else "."),
                f"SERVQUAL：未加权差距 {sq['unweighted']:.2f}"
                + (f"，加权 {sq['weighted']:.2f}" if sq["weighted"] is not None else "")
                + (
                    f"；差距最大的维度是 {worst['dimension']}（{worst['gap']:.2f}）。"
                    if worst
                    else "。"
                ),
            )
            if sq["unweighted"] is not None
            else pick(lang, "SERVQUAL: no paired answers.", "SERVQUAL：无成对回答。")
        )
        blocks.append(Block(text, fig))
    blocks.extend(
        render_survey_slices(data[f"by_{by}"], by, lang) for by in SLICES if f"by_{by}" in data
    )
    return blocks


SURVEYS = Section(
    "surveys",
    {"en": "Surveys: NPS, CSAT, CES, SERVQUAL", "zh": "问卷：NPS、CSAT、CES、SERVQUAL"},
    compute_surveys,
    render_surveys,
)
