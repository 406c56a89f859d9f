"""Report section on after-sales service: response and resolution times, SLA attainment,
backlog, reopen rate and the return/refund rate.

A source without a ``cases`` table (an Olist file set, a shop import without the desk) or
without cases in the window gets ``no_data`` with a polite reason, never an error. The times are
calendar hours; the business-hours clocks live in the desk (``manyi.desk.cases.sla``).

Examples
--------
>>> from manyi.insight.report.service_sections import SERVICE
>>> SERVICE.key, SERVICE.title["zh"]
('service', '售后服务')
"""

from __future__ import annotations

from typing import Any

from manyi.insight.report.charts import COLORS, error_bars, layout
from manyi.insight.report.jsonable import plain, records
from manyi.insight.report.section import Block, JSONDict, NoData, ReportContext, Section
from manyi.insight.report.words import num, pct, pick
from manyi.insight.service import (
    backlog,
    data_as_of,
    reopen_rate,
    response_times,
    return_rate,
    sla_attainment,
)

#: Slices with fewer cases are left out of the charts (their intervals would fill the page).
MIN_CASES = 5

REASONS = {
    "damaged": ("damaged in transit", "运输损坏"),
    "not_as_described": ("not as described", "与描述不符"),
    "wrong_item": ("wrong item", "发错货"),
    "quality": ("quality fault", "质量问题"),
    "late_delivery": ("late delivery", "物流延迟"),
    "changed_mind": ("changed mind (no-reason return)", "七天无理由"),
    "other": ("other", "其他"),
}


def compute_service(ctx: ReportContext) -> JSONDict | None:
    src, since, until = ctx.src, ctx.since, ctx.until
    if not src.has("cases"):
        raise NoData(
            "No after-sales cases yet: this source has no case records. Cases handled in the "
            "desk (returns, refunds, complaints, questions) will appear here.",
            "暂无售后工单：该数据源没有工单记录。在客服台处理的退货、退款、投诉和咨询工单会显示在这里。",
        )
    overall = records(response_times(src, since=since, until=until))[0]
    if overall["cases"] == 0:
        window = since is not None or until is not None
        raise NoData(
            "No after-sales cases in this period yet." if window else "No after-sales cases yet.",
            "该时间段内暂无售后工单。" if window else "暂无售后工单。",
        )
    as_of = data_as_of(src)
    data: JSONDict = {
        "cases": overall["cases"],
        "as_of": plain(as_of),
        "times": overall,
        "sla": records(sla_attainment(src, since=since, until=until, as_of=as_of))[0],
        "backlog_by_week": records(backlog(src, freq="week", since=since, until=until)),
    }
    for by in ("month", "channel", "kind", "team"):
        data[f"times_by_{by}"] = records(response_times(src, by=by, since=since, until=until))
    for by in ("month", "team"):
        data[f"sla_by_{by}"] = records(
            sla_attainment(src, by=by, since=since, until=until, as_of=as_of)
        )
    if src.has("case_events"):
        data["reopen"] = records(reopen_rate(src, since=since, until=until))[0]
        data["reopen_by_kind"] = records(reopen_rate(src, by="kind", since=since, until=until))
    if src.has("orders"):
        returns = records(return_rate(src, since=since, until=until))[0]
        if returns["orders"] > 0:
            data["returns"] = returns
            data["returns_by_reason"] = records(
                return_rate(src, by="reason", since=since, until=until)
            )
            if src.has("order_items") and src.has("products"):
                data["returns_by_category"] = records(
                    return_rate(src, by="category", since=since, until=until)
                )
    return data


def _hours(value: float | None, lang: str) -> str:
    return "–" if value is None else f"{num(value, 1)}{pick(lang, ' h', ' 小时')}"


def _reason(code: str | None, lang: str) -> str:
    if code is None:
        return pick(lang, "no reason given", "未填写原因")
    en, zh = REASONS.get(code, (code, code))
    return pick(lang, en, zh)


def render_service(data: JSONDict, lang: str) -> list[Block]:
    return [
        _times_block(data, lang),
        _sla_block(data, lang),
        _backlog_block(data, lang),
        *_returns_blocks(data, lang),
    ]


def _times_block(data: JSONDict, lang: str) -> Block:
    t = data["times"]
    months = [m for m in data["times_by_month"] if m["cases"] > 0]
    traces = [
        {
            "type": "scatter",
            "mode": "lines+markers",
            "name": pick(lang, name_en, name_zh),
            "x": [m["period"] for m in months],
            "y": [m[column] for m in months],
            "line": {"color": color},
        }
        for column, name_en, name_zh, color in (
            ("first_response_median_h", "first response, median", "首次响应中位数", COLORS["main"]),
            ("resolution_median_h", "resolution, median", "解决时长中位数", COLORS["neutral"]),
        )
    ]
    fig = {
        "data": traces,
        "layout": layout(
            pick(
                lang, "Response and resolution time by month (hours)", "每月响应与解决时长（小时）"
            ),
            yaxis={"title": {"text": pick(lang, "calendar hours", "自然小时")}},
        ),
    }
    unanswered = t["cases"] - t["first_response_n"]
    finding = pick(
        lang,
        f"{num(t['cases'])} cases: first response in {_hours(t['first_response_median_h'], lang)} "
        f"(median; 90 % within {_hours(t['first_response_p90_h'], lang)}), resolution in "
        f"{_hours(t['resolution_median_h'], lang)} (90 % within "
        f"{_hours(t['resolution_p90_h'], lang)}); {num(unanswered)} not answered yet. "
        "Calendar hours; the desk's SLA clocks count business hours.",
        f"{num(t['cases'])} 个工单：首次响应中位数 {_hours(t['first_response_median_h'], lang)}"
        f"（90% 在 {_hours(t['first_response_p90_h'], lang)} 内），解决时长中位数 "
        f"{_hours(t['resolution_median_h'], lang)}（90% 在 "
        f"{_hours(t['resolution_p90_h'], lang)} 内）；{num(unanswered)} 个尚未回复。"
        "按自然小时计；客服台的 SLA 计时按工作时间计算。",
    )
    return Block(finding, fig)


def _sla_block(data: JSONDict, lang: str) -> Block:
    s = data["sla"]
    if s["first_response_due"] == 0 and s["resolution_due"] == 0:
        return Block(
            pick(
                lang,
                "No case has an SLA due time yet (no SLA policy applied), so attainment cannot "
                "be measured.",
                "尚无工单设有 SLA 截止时间（未应用 SLA 策略），无法计算达标率。",
            )
        )
    months = [m for m in data["sla_by_month"] if m["first_response_due"] >= MIN_CASES]
    traces: list[dict[str, Any]] = []
    for measure, name_en, name_zh, color in (
        ("first_response", "first response on time", "首次响应达标", COLORS["main"]),
        ("resolution", "resolved on time", "按时解决", COLORS["good"]),
    ):
        rows = [
            {"rate": m[f"{measure}_rate"], "rate_low": m[f"{measure}_rate_low"],
             "rate_high": m[f"{measure}_rate_high"]}
            for m in months
        ]  # fmt: skip
        traces.append(
            {
                "type": "scatter",
                "mode": "lines+markers",
                "name": pick(lang, name_en, name_zh),
                "x": [m["period"] for m in months],
                "y": [r["rate"] for r in rows],
                "error_y": error_bars(rows, "rate"),
                "line": {"color": color},
            }
        )
    fig = (
        {
            "data": traces,
            "layout": layout(
                pick(lang, "SLA attainment by month", "每月 SLA 达标率"),
                yaxis={"tickformat": ".0%", "range": [0, 1.05]},
            ),
        }
        if months
        else None
    )

    def part(measure: str, en: str, zh: str) -> str:
        due, met, rate = s[f"{measure}_due"], s[f"{measure}_met"], s[f"{measure}_rate"]
        if due == 0:
            return pick(lang, f"{en}: no due times", f"{zh}：无截止时间")
        interval = pick(
            lang,
            f" (95 % CI {pct(s[f'{measure}_rate_low'], lang)}–"
            f"{pct(s[f'{measure}_rate_high'], lang)})",
            f"（95% 置信区间 {pct(s[f'{measure}_rate_low'], lang)}–"
            f"{pct(s[f'{measure}_rate_high'], lang)}）",
        )
        return pick(
            lang,
            f"{en} {pct(rate, lang)} on time, {num(met)} of {num(due)}{interval}",
            f"{zh}按时 {pct(rate, lang)}，{num(due)} 个中 {num(met)} 个{interval}",
        )

    pending = s["first_response_pending"] + s["resolution_pending"]
    finding = pick(
        lang,
        f"{part('first_response', 'First responses', '首次响应')}; "
        f"{part('resolution', 'resolutions', '解决')}. "
        f"{num(pending)} clock(s) still running within their time are not counted.",
        f"{part('first_response', 'First responses', '首次响应')}；"
        f"{part('resolution', 'resolutions', '解决')}。"
        f"另有 {num(pending)} 个仍在时限内的计时未计入。",
    )
    return Block(finding, fig)


def _backlog_block(data: JSONDict, lang: str) -> Block:
    weeks = data["backlog_by_week"]
    if not weeks:
        return Block(pick(lang, "No backlog to show.", "无积压数据。"))
    fig = {
        "data": [
            {
                "type": "scatter",
                "mode": "lines+markers",
                "name": pick(lang, "open at the end of the week", "周末未结工单"),
                "x": [w["period"] for w in weeks],
                "y": [w["open"] for w in weeks],
                "line": {"color": COLORS["bad"]},
            },
            {
                "type": "bar",
                "name": pick(lang, "opened", "新建"),
                "x": [w["period"] for w in weeks],
                "y": [w["opened"] for w in weeks],
                "marker": {"color": COLORS["main"]},
                "opacity": 0.4,
            },
        ],
        "layout": layout(pick(lang, "Backlog by week", "每周积压工单")),
    }
    last = weeks[-1]
    peak = max(weeks, key=lambda w: w["open"])
    reopen = data.get("reopen")
    reopen_text = ""
    if reopen is not None and reopen["resolved"] > 0:
        reopen_text = pick(
            lang,
            f" {pct(reopen['reopen_rate'], lang)} of resolved cases were reopened "
            f"({num(reopen['reopened'])} of {num(reopen['resolved'])}).",
            f"已解决的工单中 {pct(reopen['reopen_rate'], lang)} 被重新打开"
            f"（{num(reopen['resolved'])} 个中 {num(reopen['reopened'])} 个）。",
        )
    were = "case was" if last["open"] == 1 else "cases were"
    peak_text = (
        pick(
            lang,
            f"; the peak was {num(peak['open'])} in the week of {peak['period']}",
            f"；峰值为 {peak['period']} 这一周的 {num(peak['open'])} 个",
        )
        if peak["open"] > last["open"]
        else ""
    )
    finding = pick(
        lang,
        f"{num(last['open'])} {were} open at the end of the week of {last['period']}"
        f"{peak_text}.{reopen_text}",
        f"{last['period']} 这一周结束时有 {num(last['open'])} 个未结工单{peak_text}。{reopen_text}",
    )
    return Block(finding, fig)


def _returns_blocks(data: JSONDict, lang: str) -> list[Block]:
    returns = data.get("returns")
    if returns is None:
        return []
    reasons = sorted(data.get("returns_by_reason", []), key=lambda r: -r["returned"])
    fig = None
    if reasons:
        fig = {
            "data": [
                {
                    "type": "bar",
                    "x": [_reason(r["reason"], lang) for r in reasons],
                    "y": [r["return_rate"] for r in reasons],
                    "error_y": error_bars(reasons, "return_rate"),
                    "text": [pct(r["return_rate"], lang, 2) for r in reasons],
                    "marker": {"color": COLORS["bad"]},
                }
            ],
            "layout": layout(
                pick(
                    lang,
                    "Return and refund rate by reason (share of delivered orders)",
                    "按原因的退货退款率（占已送达订单）",
                ),
                yaxis={"tickformat": ".1%"},
            ),
        }
    top = reasons[0] if reasons else None
    top_text = (
        pick(
            lang,
            f" Most common reason: {_reason(top['reason'], lang)} "
            f"({pct(top['return_rate'], lang, 2)} of orders).",
            f"最常见原因：{_reason(top['reason'], lang)}"
            f"（占订单 {pct(top['return_rate'], lang, 2)}）。",
        )
        if top is not None
        else ""
    )
    cats = [
        c
        for c in data.get("returns_by_category", [])
        if c["orders"] >= MIN_CASES and c["category"] is not None
    ]
    cat_text = ""
    if cats:
        worst = max(cats, key=lambda c: c["return_rate"])
        cat_text = pick(
            lang,
            f" Highest by category (first item, ≥ {MIN_CASES} orders): {worst['category']} "
            f"{pct(worst['return_rate'], lang, 2)} of {num(worst['orders'])} orders.",
            f"按品类（首件商品，≥{MIN_CASES} 单）最高：{worst['category']}，"
            f"{num(worst['orders'])} 单中 {pct(worst['return_rate'], lang, 2)}。",
        )
    finding = pick(
        lang,
        f"{pct(returns['return_rate'], lang, 2)} of delivered orders had a return or refund case "
        f"({num(returns['returned'])} of {num(returns['orders'])}; 95 % CI "
        f"{pct(returns['return_rate_low'], lang, 2)}–{pct(returns['return_rate_high'], lang, 2)})."
        f"{top_text}{cat_text}",
        f"已送达订单中 {pct(returns['return_rate'], lang, 2)} 发生了退货或退款"
        f"（{num(returns['orders'])} 单中 {num(returns['returned'])} 单；95% 置信区间 "
        f"{pct(returns['return_rate_low'], lang, 2)}–"
        f"{pct(returns['return_rate_high'], lang, 2)}）。{top_text}{cat_text}",
    )
    return [Block(finding, fig)]


SERVICE = Section(
    "service",
    {"en": "After-sales service", "zh": "售后服务"},
    compute_service,
    render_service,
)
