"""The dashboard's blocks, each computed with ``manyi.insight`` on the (sliced) desk source.

A block returns a JSON-ready dict: ``kpis`` (see :mod:`manyi.desk.dashboards.kpis`), ``tables``
(``{name: {"columns": [...], "rows": [[...], ...]}}``, the data behind each chart, exported as
CSV/Excel exactly as drawn) and ``notes`` (codes the page explains). Figures compare the
period with the equal period before it, with the library's tests.

=============  =====================================================  ========================
block          figures                                                reads (data version)
=============  =====================================================  ========================
satisfaction   good-review rate, mean rating, 1–2★ share, CSAT, NPS    shop, surveys (cases
               ± margin, DSR per dimension; daily ratings             when sliced by channel
                                                                      or team)
service        cases opened, backlog, first response and resolution   cases (shop when sliced
               (mean, median, p90), SLA attainment; daily backlog,    by seller or category)
               SLA by team
voice          share of analysed reviews complaining about each       shop, analysis
               aspect, top complaint phrases with examples (the
               desk's stored analyses, the same the review inbox
               filters on)
sales          late deliveries and their effect on ratings; repeat    shop
               purchase and revenue by first-order rating tier
value          CLV by first-order rating tier (BG/NBD + Gamma-Gamma)  shop
drivers        key drivers of the rating (LMG with bootstrap)         shop
=============  =====================================================  ========================

Sales, value and drivers need volume: repeat purchase, CLV and drivers use every order up to
the period's end (``until``); drivers at least its last 90 days.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import ibis
import ibis.expr.datatypes as dt
import pandas as pd

from manyi.desk.dashboards import kpis
from manyi.desk.dashboards.filters import DashboardFilters
from manyi.desk.dashboards.source import desk_table
from manyi.insight.csat import compute_csat
from manyi.insight.delivery import delivery_vs_rating
from manyi.insight.dsr import DSRPolicy, dsr_rows
from manyi.insight.errors import InsightError
from manyi.insight.intervals import sample_sd
from manyi.insight.nps import compute_nps
from manyi.insight.ratings import rating_summary
from manyi.insight.report.driver_sections import compute_drivers
from manyi.insight.report.jsonable import plain
from manyi.insight.report.sales_sections import compute_repeat
from manyi.insight.report.section import NoData, ReportContext
from manyi.insight.report.value_sections import compute_value
from manyi.insight.service import backlog, data_as_of, response_times, sla_attainment
from manyi.insight.slicing import between
from manyi.insight.sources import Source
from manyi.insight.surveys import has_surveys

JSON = dict[str, Any]
ASPECTS = ("logistics", "quality", "as_described", "service", "price", "packaging")
DSR_DIMENSIONS = ("as_described", "service", "logistics", "overall")
#: Complaint phrases listed, and example reviews per phrase.
TOP_PHRASES = 10
EXAMPLES = 2
DRIVER_MIN_DAYS = 90
UTC = dt.Timestamp(timezone="UTC")
#: DSR days are counted from here (manyi.insight.dsr).
EPOCH = date(1970, 1, 1)


@dataclass(frozen=True)
class BlockSpec:
    key: str
    groups: tuple[str, ...]
    compute: Callable[[Source, DashboardFilters], JSON]
    #: Shown to agents too (their teams' service view).
    for_agents: bool = False
    #: The filters the block really depends on (see :func:`scope`).
    scope: Callable[[DashboardFilters], DashboardFilters] = lambda f: f

    def version_groups(self, f: DashboardFilters) -> tuple[str, ...]:
        extra: tuple[str, ...] = ()
        if f.cases_sliced and "cases" not in self.groups and self.key == "satisfaction":
            extra = ("cases",)
        if f.orders_sliced and "shop" not in self.groups:
            extra = (*extra, "shop")
        return (*self.groups, *extra)


def _table(frame: pd.DataFrame | Sequence[dict[str, Any]], columns: Sequence[str]) -> JSON:
    records = frame.to_dict("records") if isinstance(frame, pd.DataFrame) else list(frame)
    rows = [[_plain(r.get(c)) for c in columns] for r in records]
    return {"columns": list(columns), "rows": rows}


def _plain(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat() if value == value.normalize() else value.isoformat()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, bool | str):
        return value
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return value


def _first(frame: pd.DataFrame) -> dict[str, Any]:
    return {str(k): v for k, v in frame.iloc[0].to_dict().items()} if len(frame) else {}


def _period(f: DashboardFilters) -> JSON:
    p = f.previous()
    return {
        "since": f.since.isoformat(),
        "until": f.until.isoformat(),
        "prev_since": p.since.isoformat(),
        "prev_until": p.until.isoformat(),
    }


# --- satisfaction -----------------------------------------------------------------------------


def _rating_sd(row: dict[str, Any]) -> float | None:
    n = kpis.number(row.get("n")) or 0
    if n < 2:
        return None
    counts = {s: kpis.number(row.get(f"n_{s}")) or 0.0 for s in range(1, 6)}
    total = sum(s * c for s, c in counts.items())
    total_sq = sum(s * s * c for s, c in counts.items())
    return sample_sd(total, total_sq, n)


def _pooled_dsr(src: Source, f: DashboardFilters, source: str) -> dict[str, JSON]:
    """The DSR of the whole (sliced) shop per dimension: the rolling-window ratings of
    :func:`manyi.insight.dsr.dsr_scores` pooled over sellers (each seller's ratings, as there),
    with the sums the Welch test needs. The per-seller industry comparison is left out: it costs
    a join over every order line and the dashboard does not show it."""
    policy = DSRPolicy()
    end = (f.until - EPOCH).days
    rows = dsr_rows(src, source)
    rows = rows.filter(
        rows.completed_day.notnull()
        & (rows.rated_day >= rows.completed_day)
        & (rows.rated_day <= rows.completed_day + policy.accept_days)
        & (rows.rated_day > end - policy.window_days)
        & (rows.rated_day <= end)
    )
    v = rows.value
    frame = src.execute(
        rows.group_by("dimension").aggregate(
            n=rows.count(), total=v.sum(), total_sq=(v * v).sum(), sellers=rows.seller_id.nunique()
        )
    )
    out: dict[str, JSON] = {}
    for row in frame.to_dict("records"):
        n = float(row["n"])
        if n <= 0:
            continue
        out[str(row["dimension"])] = {
            "value": float(row["total"]) / n,
            "n": int(n),
            "sd": sample_sd(float(row["total"]), float(row["total_sq"]), n) if n > 1 else None,
            "sellers": int(row["sellers"]),
        }
    return out


def compute_satisfaction(src: Source, f: DashboardFilters) -> JSON:
    p = f.previous()
    out: JSON = {**_period(f), "kpis": [], "tables": {}, "notes": []}
    cur = _first(rating_summary(src, since=f.since, until=f.until))
    prev = _first(rating_summary(src, since=p.since, until=p.until))

    def rating_kpis(row: dict[str, Any]) -> list[kpis.KPI]:
        return [
            kpis.kpi(
                "good_review_rate",
                row.get("good_rate"),
                unit="share",
                n=row.get("n"),
                low=row.get("good_rate_low"),
                high=row.get("good_rate_high"),
                drill={"rows": "reviews", "band": "good"},
            ),
            kpis.kpi(
                "mean_rating",
                row.get("mean"),
                unit="stars",
                n=row.get("n"),
                low=row.get("mean_low"),
                high=row.get("mean_high"),
                drill={"rows": "reviews"},
            ),
            kpis.kpi(
                "bad_review_rate",
                row.get("bad_rate"),
                unit="share",
                n=row.get("n"),
                low=row.get("bad_rate_low"),
                high=row.get("bad_rate_high"),
                better="down",
                drill={"rows": "reviews", "band": "bad"},
            ),
        ]

    good, mean, bad = rating_kpis(cur)
    pgood, pmean, pbad = rating_kpis(prev)
    good["count"] = int(kpis.number(cur.get("good")) or 0)
    bad["count"] = int(kpis.number(cur.get("bad")) or 0)
    kpis.compare_shares(good, pgood, cur.get("good"), cur.get("n"), prev.get("good"), prev.get("n"))
    kpis.compare_means(mean, pmean, _rating_sd(cur), _rating_sd(prev))
    kpis.compare_shares(bad, pbad, cur.get("bad"), cur.get("n"), prev.get("bad"), prev.get("n"))
    out["kpis"] += [good, mean, bad]

    if has_surveys(src, "csat"):
        c = _first(compute_csat(src, since=f.since, until=f.until))
        pc = _first(compute_csat(src, since=p.since, until=p.until))

        def csat_kpi(row: dict[str, Any]) -> kpis.KPI:
            return kpis.kpi(
                "csat",
                row.get("csat"),
                unit="share",
                n=row.get("n"),
                low=row.get("csat_low"),
                high=row.get("csat_high"),
                drill={"rows": "responses", "instrument": "csat"},
            )

        item = csat_kpi(c)
        kpis.compare_shares(
            item, csat_kpi(pc), c.get("satisfied"), c.get("n"), pc.get("satisfied"), pc.get("n")
        )
        out["kpis"].append(item)
    else:
        out["notes"].append("no_csat")
    if has_surveys(src, "nps"):
        c = _first(compute_nps(src, since=f.since, until=f.until))
        pc = _first(compute_nps(src, since=p.since, until=p.until))

        def nps_kpi(row: dict[str, Any]) -> kpis.KPI:
            item = kpis.kpi(
                "nps",
                row.get("nps"),
                unit="points",
                n=row.get("n"),
                low=row.get("low"),
                high=row.get("high"),
                drill={"rows": "responses", "instrument": "nps"},
            )
            item["margin"] = kpis.number(row.get("margin"))
            return item

        item = nps_kpi(c)
        kpis.compare_nps(
            item,
            nps_kpi(pc),
            c.get("promoters"),
            c.get("detractors"),
            c.get("n"),
            pc.get("promoters"),
            pc.get("detractors"),
            pc.get("n"),
        )
        out["kpis"].append(item)
    else:
        out["notes"].append("no_nps")

    dsr_source = "surveys" if has_surveys(src, "dsr") else "reviews"
    dsr = _pooled_dsr(src, f, dsr_source)
    dsr_prev = _pooled_dsr(src, p, dsr_source)
    out["dsr_source"] = dsr_source
    dsr_rows = []
    for dimension in DSR_DIMENSIONS:
        if dimension not in dsr:
            continue
        now, before = dsr[dimension], dsr_prev.get(dimension, {})
        item = kpis.kpi(
            f"dsr_{dimension}",
            now["value"],
            unit="score",
            n=now["n"],
            drill={"rows": "responses", "instrument": "dsr"}
            if dsr_source == "surveys"
            else {"rows": "reviews"},
        )
        kpis.compare_means(
            item,
            kpis.kpi("", before.get("value"), unit="score", n=before.get("n")),
            now.get("sd"),
            before.get("sd"),
        )
        out["kpis"].append(item)
        dsr_rows.append(
            {
                "dimension": dimension,
                "score": now["value"],
                "ratings": now["n"],
                "sellers": now["sellers"],
                "previous": before.get("value"),
            }
        )
    out["tables"]["dsr"] = _table(
        dsr_rows, ["dimension", "score", "ratings", "sellers", "previous"]
    )

    daily = rating_summary(src, by="day", since=f.since, until=f.until)
    out["tables"]["daily"] = _table(
        daily, ["period", "n", "mean", "good_rate", "good_rate_low", "good_rate_high", "bad_rate"]
    )
    out["tables"]["distribution"] = _table(
        [
            {"stars": s, "reviews": cur.get(f"n_{s}"), "share": cur.get(f"share_{s}")}
            for s in range(1, 6)
        ],
        ["stars", "reviews", "share"],
    )
    out["tables"]["kpis"] = kpi_table(out["kpis"])
    if f.cases_sliced:
        out["notes"].append("ratings_not_sliced_by_case")
    return out


def kpi_table(items: Sequence[kpis.KPI]) -> JSON:
    """The KPIs as one exportable table."""
    columns = [
        "key",
        "value",
        "n",
        "low",
        "high",
        "prev",
        "prev_n",
        "delta",
        "delta_low",
        "delta_high",
        "p_value",
        "test",
    ]
    return _table(items, columns)


# --- service ----------------------------------------------------------------------------------


def compute_service(src: Source, f: DashboardFilters) -> JSON:
    p = f.previous()
    out: JSON = {**_period(f), "kpis": [], "tables": {}, "notes": []}
    if not src.has("cases"):
        out["notes"].append("no_cases")
        return out
    times = _first(response_times(src, since=f.since, until=f.until))
    ptimes = _first(response_times(src, since=p.since, until=p.until))
    opened = kpis.kpi("cases_opened", times.get("cases", 0), unit="count", drill={"rows": "cases"})
    kpis.compare_counts(opened, kpis.kpi("", ptimes.get("cases", 0), unit="count"))
    out["kpis"].append(opened)

    days = _days(backlog(src, freq="day", since=f.since, until=f.until), f)
    before = _days(backlog(src, freq="day", since=p.since, until=p.until), p)
    end_open = int(days["open"].iloc[-1]) if len(days) else None
    prev_open = int(before["open"].iloc[-1]) if len(before) else None
    item = kpis.kpi(
        "backlog", end_open, unit="count", better="down", drill={"rows": "cases", "set": "open"}
    )
    kpis.no_test(item, kpis.kpi("", prev_open, unit="count"))
    out["kpis"].append(item)

    for name, rows_set in (("first_response", "answered"), ("resolution", "done")):
        mean = kpis.kpi(
            f"{name}_mean_h",
            times.get(f"{name}_mean_h"),
            unit="hours",
            n=times.get(f"{name}_n"),
            low=times.get(f"{name}_mean_low"),
            high=times.get(f"{name}_mean_high"),
            better="down",
            drill={"rows": "cases", "set": rows_set},
        )
        pmean = kpis.kpi(
            "",
            ptimes.get(f"{name}_mean_h"),
            unit="hours",
            n=ptimes.get(f"{name}_n"),
        )
        kpis.compare_means(
            mean,
            pmean,
            kpis.sd_from_interval(mean["value"], mean["high"], mean["n"]),
            kpis.sd_from_interval(
                ptimes.get(f"{name}_mean_h"), ptimes.get(f"{name}_mean_high"), pmean["n"]
            ),
        )
        out["kpis"].append(mean)
        median = kpis.kpi(
            f"{name}_median_h",
            times.get(f"{name}_median_h"),
            unit="hours",
            n=times.get(f"{name}_n"),
            better="down",
            drill={"rows": "cases", "set": rows_set},
        )
        kpis.no_test(median, kpis.kpi("", ptimes.get(f"{name}_median_h"), unit="hours"))
        median["p90"] = kpis.number(times.get(f"{name}_p90_h"))
        out["kpis"].append(median)

    # SLA attainment judges waiting cases at the latest instant in the (sliced) data; the
    # drill-down lists the misses at the same instant.
    as_of = data_as_of(src)
    out["as_of"] = as_of.isoformat() if as_of is not None else None
    sla = _first(sla_attainment(src, since=f.since, until=f.until, as_of=as_of))
    psla = _first(sla_attainment(src, since=p.since, until=p.until, as_of=as_of))
    for name in ("first_response", "resolution"):

        def sla_kpi(row: dict[str, Any], name: str = name) -> kpis.KPI:
            return kpis.kpi(
                f"sla_{name}",
                row.get(f"{name}_rate"),
                unit="share",
                n=row.get(f"{name}_due"),
                low=row.get(f"{name}_rate_low"),
                high=row.get(f"{name}_rate_high"),
                drill={"rows": "cases", "set": f"sla_{name}_missed", "as_of": out["as_of"]},
            )

        item = sla_kpi(sla)
        kpis.compare_shares(
            item,
            sla_kpi(psla),
            sla.get(f"{name}_met"),
            sla.get(f"{name}_due"),
            psla.get(f"{name}_met"),
            psla.get(f"{name}_due"),
        )
        item["missed"] = _missed(sla, name)
        out["kpis"].append(item)

    out["tables"]["daily"] = _table(days, ["period", "opened", "done", "reopened", "open"])
    by_team = sla_attainment(src, by="team", since=f.since, until=f.until, as_of=as_of)
    team_times = response_times(src, by="team", since=f.since, until=f.until)
    merged = by_team.merge(
        team_times[["team", "cases", "first_response_median_h", "resolution_median_h"]],
        on="team",
        how="outer",
        suffixes=("", "_t"),
    )
    out["tables"]["teams"] = _table(
        merged,
        [
            "team",
            "cases",
            "first_response_rate",
            "first_response_due",
            "resolution_rate",
            "resolution_due",
            "first_response_median_h",
            "resolution_median_h",
        ],
    )
    out["tables"]["kpis"] = kpi_table(out["kpis"])
    if f.orders_sliced:
        out["notes"].append("cases_of_sliced_orders")
    return out


def _days(frame: pd.DataFrame, f: DashboardFilters) -> pd.DataFrame:
    """The rows of days ``f.since``..``f.until`` (periods as dates)."""
    if frame.empty:
        return frame
    frame = frame.copy()
    frame["period"] = pd.to_datetime(frame["period"]).dt.date
    return frame[(frame["period"] >= f.since) & (frame["period"] <= f.until)]


def _missed(row: dict[str, Any], name: str) -> int | None:
    due, met = kpis.number(row.get(f"{name}_due")), kpis.number(row.get(f"{name}_met"))
    if due is None or met is None:
        return None
    return int(due - met)


# --- voice of the customer ---------------------------------------------------------------------


def _period_reviews(src: Source, since: Any, until: Any) -> Any:
    """Reviews dated in the period, with the desk's key ``pk`` (to meet the stored analyses)."""
    raw = src.raw["reviews"]
    rows = raw.select(
        pk=raw.id,
        created_at=raw.created_at.cast(UTC),
        rating=raw.rating,
        title=raw.title,
        body=raw.body,
    )
    return rows.filter(between(src, rows.created_at, since, until))


@dataclass(frozen=True)
class _Voice:
    analysed: int
    negative: int
    reviews: int
    aspects: dict[str, dict[str, Any]]


def _aspect_counts(src: Source, f: DashboardFilters) -> dict[str, _Voice]:
    """Reviews, analysed reviews, negative ones and reviews per aspect of this period
    (``cur``) and the previous one (``prev``), in one pass over each table."""
    p = f.previous()
    reviews = _period_reviews(src, p.since, f.until)
    part = ibis.ifelse(src.local_date(reviews.created_at) >= f.since, "cur", "prev")
    reviews = reviews.mutate(part=part)
    analyses = desk_table(src, "review_analyses")
    analysed = reviews.join(
        analyses.select(pk=analyses.review_pk, sentiment=analyses.sentiment), "pk", how="left"
    )
    done = analysed.sentiment.notnull()
    totals = src.execute(
        analysed.group_by("part").aggregate(
            reviews=analysed.count(),
            analysed=ibis.cases((done, 1), else_=0).sum(),
            negative=ibis.cases((analysed.sentiment == "negative", 1), else_=0).sum(),
        )
    )
    aspects = desk_table(src, "review_aspects")
    mentions = aspects.select(
        pk=aspects.review_pk, aspect=aspects.aspect, polarity=aspects.polarity
    )
    mentions = mentions.join(analysed.filter(done).select("pk", "part"), "pk")
    negative_pk = ibis.cases((mentions.polarity == "negative", mentions.pk), else_=None)
    per_aspect = src.execute(
        mentions.group_by(["part", "aspect"]).aggregate(
            reviews=mentions.pk.nunique(), negative=negative_pk.nunique()
        )
    )
    out: dict[str, _Voice] = {}
    for name in ("cur", "prev"):
        row: dict[Any, Any] = next((r for r in totals.to_dict("records") if r["part"] == name), {})
        out[name] = _Voice(
            analysed=int(kpis.number(row.get("analysed")) or 0),
            negative=int(kpis.number(row.get("negative")) or 0),
            reviews=int(kpis.number(row.get("reviews")) or 0),
            aspects={
                str(r["aspect"]): r for r in per_aspect.to_dict("records") if r["part"] == name
            },
        )
    return out


def compute_voice(src: Source, f: DashboardFilters) -> JSON:
    out: JSON = {**_period(f), "kpis": [], "tables": {}, "notes": []}
    voice = _aspect_counts(src, f)
    cur, before_voice = voice["cur"], voice["prev"]
    analysed, negative, total = cur.analysed, cur.negative, cur.reviews
    p_analysed, p_negative = before_voice.analysed, before_voice.negative
    out["reviews"] = total
    out["analysed"] = analysed
    if total > analysed:
        out["notes"].append("not_all_analysed")
    share = kpis.kpi(
        "negative_reviews",
        negative / analysed if analysed else None,
        unit="share",
        n=analysed,
        better="down",
        drill={"rows": "reviews", "sentiment": "negative"},
    )
    kpis.compare_shares(
        share,
        kpis.kpi("", p_negative / p_analysed if p_analysed else None, unit="share", n=p_analysed),
        negative,
        analysed,
        p_negative,
        p_analysed,
    )
    out["kpis"].append(share)
    by_aspect, before = cur.aspects, before_voice.aspects
    rows = []
    for aspect in ASPECTS:
        now, then = by_aspect.get(aspect, {}), before.get(aspect, {})
        k1, k0 = int(now.get("negative") or 0), int(then.get("negative") or 0)
        item = kpis.kpi(
            f"complaints_{aspect}",
            k1 / analysed if analysed else None,
            unit="share",
            n=analysed,
            better="down",
            drill={"rows": "reviews", "negative_aspect": aspect},
        )
        item["count"] = k1
        kpis.compare_shares(
            item,
            kpis.kpi("", k0 / p_analysed if p_analysed else None, unit="share", n=p_analysed),
            k1,
            analysed,
            k0,
            p_analysed,
        )
        out["kpis"].append(item)
        rows.append(
            {
                "aspect": aspect,
                "complaining_reviews": k1,
                "mentioning_reviews": int(now.get("reviews") or 0),
                "share_of_analysed": item["value"],
                "previous_share": item["prev"],
                "p_value": item["p_value"],
            }
        )
    rows.sort(key=lambda r: -(r["complaining_reviews"] or 0))
    out["tables"]["aspects"] = _table(
        rows,
        [
            "aspect",
            "complaining_reviews",
            "mentioning_reviews",
            "share_of_analysed",
            "previous_share",
            "p_value",
        ],
    )
    out["tables"]["phrases"] = _table(
        _top_phrases(src, f), ["aspect", "phrase", "reviews", "examples"]
    )
    return out


def _top_phrases(src: Source, f: DashboardFilters) -> list[dict[str, Any]]:
    reviews = _period_reviews(src, f.since, f.until)
    aspects = desk_table(src, "review_aspects")
    negative = aspects.filter(aspects.polarity == "negative").select(
        pk=aspects.review_pk, aspect=aspects.aspect, phrase=aspects.phrase
    )
    negative = negative.join(reviews.select("pk", "title", "body"), "pk")
    top = src.execute(
        negative.group_by(["aspect", "phrase"])
        .aggregate(reviews=negative.pk.nunique())
        .order_by([ibis.desc("reviews"), "aspect", "phrase"])
        .limit(TOP_PHRASES)
    )
    if top.empty:
        return []
    wanted = ibis.literal(False)
    for row in top.itertuples():
        wanted = wanted | ((negative.aspect == row.aspect) & (negative.phrase == row.phrase))
    picked = negative.filter(wanted)
    rank = ibis.row_number().over(
        group_by=[picked.aspect, picked.phrase], order_by=ibis.desc(picked.pk)
    )
    examples = src.execute(
        picked.mutate(rank=rank).filter(lambda t: t.rank < EXAMPLES).order_by("pk")
    )
    out = []
    for row in top.itertuples():
        mine = examples[(examples["aspect"] == row.aspect) & (examples["phrase"] == row.phrase)]
        out.append(
            {
                "aspect": row.aspect,
                "phrase": row.phrase,
                "reviews": int(row.reviews),
                "examples": [
                    {"pk": int(e.pk), "text": _excerpt(e.title, e.body)} for e in mine.itertuples()
                ],
            }
        )
    return out


def _excerpt(title: Any, body: Any, limit: int = 200) -> str:
    parts = [str(x).strip() for x in (title, body) if isinstance(x, str) and x.strip()]
    text = " · ".join(parts)
    return text if len(text) <= limit else text[: limit - 1] + "…"


# --- sales, value, drivers --------------------------------------------------------------------


def _section(compute: Callable[[ReportContext], JSON | None], ctx: ReportContext) -> JSON:
    try:
        data = compute(ctx)
    except NoData as why:
        return {"status": "no_data", "reason": why.reason}
    if data is None:
        return {"status": "no_data", "reason": None}
    return {"status": "ok", "data": data}


def compute_sales(src: Source, f: DashboardFilters) -> JSON:
    p = f.previous()
    out: JSON = {**_period(f), "kpis": [], "tables": {}, "notes": []}
    # The report section's figures without its monthly late shares (not shown here).
    d = plain(delivery_vs_rating(src, since=f.since, until=f.until))
    b = plain(delivery_vs_rating(src, since=p.since, until=p.until))
    if (d.get("late_share") or {}).get("n"):

        def late(data: JSON) -> kpis.KPI:
            est = data.get("late_share") or {}
            return kpis.kpi(
                "late_share",
                est.get("value"),
                unit="share",
                n=est.get("n"),
                low=est.get("low"),
                high=est.get("high"),
                better="down",
                drill={"rows": "orders", "set": "late"},
            )

        item, prev = late(d), late(b)

        def late_count(x: kpis.KPI) -> float | None:
            return round(x["value"] * x["n"]) if x["value"] is not None and x["n"] else None

        kpis.compare_shares(item, prev, late_count(item), item["n"], late_count(prev), prev["n"])
        out["kpis"].append(item)
        gap = d.get("mean_gap") or {}
        gap_kpi = kpis.kpi(
            "late_rating_gap",
            gap.get("value"),
            unit="stars",
            n=gap.get("n"),
            low=gap.get("low"),
            high=gap.get("high"),
            drill={"rows": "orders", "set": "late"},
        )
        kpis.no_test(gap_kpi, kpis.kpi("", (b.get("mean_gap") or {}).get("value"), unit="stars"))
        out["kpis"].append(gap_kpi)
        for name in ("on_time_mean", "late_mean"):
            est = d.get(name) or {}
            out["kpis"].append(
                kpis.kpi(
                    name,
                    est.get("value"),
                    unit="stars",
                    n=est.get("n"),
                    low=est.get("low"),
                    high=est.get("high"),
                    drill={"rows": "orders", "set": "late" if name == "late_mean" else "on_time"},
                )
            )
        out["tables"]["delivery"] = _table(
            d.get("buckets") or [],
            ["bucket", "orders", "n", "mean", "mean_low", "mean_high", "bad_share"],
        )
    else:
        out["notes"].append("no_delivery")
    history = ReportContext(src, since=None, until=f.until)
    repeat = _section(compute_repeat, history)
    if repeat["status"] == "ok":
        out["tables"]["tiers"] = _table(
            repeat["data"]["tiers"],
            [
                "tier",
                "customers",
                "repeaters",
                "repeat_rate",
                "repeat_rate_low",
                "repeat_rate_high",
                "revenue_per_customer",
                "revenue_per_customer_low",
                "revenue_per_customer_high",
            ],
        )
    else:
        out["notes"].append("no_repeat")
    out["tables"]["kpis"] = kpi_table(out["kpis"])
    return out


def compute_value_block(src: Source, f: DashboardFilters) -> JSON:
    out: JSON = {**_period(f), "kpis": [], "tables": {}, "notes": []}
    value = _section(compute_value, ReportContext(src, since=None, until=f.until))
    out["status"] = value["status"]
    if value["status"] != "ok":
        out["reason"] = value.get("reason")
        return out
    data = value["data"]
    out["model"] = data.get("model")
    out["horizon_months"] = data.get("horizon_months")
    out["shift"] = {
        k: data.get("shift", {}).get(k)
        for k in (
            "share",
            "moved_customers",
            "expected_change",
            "expected_change_low",
            "expected_change_high",
        )
    }
    out["assumptions"] = data.get("assumptions")
    out["tables"]["clv"] = _table(
        data.get("tiers") or [],
        [
            "tier",
            "customers",
            "share",
            "repeat_rate",
            "expected_purchases",
            "clv_mean",
            "clv_low",
            "clv_high",
            "clv_total",
        ],
    )
    return out


def compute_drivers_block(src: Source, f: DashboardFilters) -> JSON:
    out: JSON = {**_period(f), "kpis": [], "tables": {}, "notes": []}
    since = drivers_scope(f).since
    out["drivers_since"] = since.isoformat()
    ctx = ReportContext(src, since=since, until=f.until, options={"drivers_max_orders": 10_000})
    section = _section(compute_drivers, ctx)
    out["status"] = section["status"]
    if section["status"] != "ok":
        out["reason"] = section.get("reason")
        return out
    rating = section["data"].get("rating")
    if not rating:
        out["status"] = "no_data"
        out["reason"] = section["data"].get("rating_reason")
        return out
    out["r2"] = rating.get("r2")
    out["orders"] = rating.get("orders")
    out["reviews"] = rating.get("reviews")
    out["sampled"] = rating.get("sampled")
    out["tables"]["drivers"] = _table(
        rating.get("drivers") or [],
        [
            "driver",
            "lmg",
            "lmg_share",
            "lmg_low",
            "lmg_high",
            "correlation",
            "effect",
            "effect_unit",
        ],
    )
    out["tables"]["categories"] = _table(rating.get("categories") or [], ["category", "n", "mean"])
    return out


def without_case_slices(f: DashboardFilters) -> DashboardFilters:
    """Reviews, orders and sales have no channel or team: those filters do not change them."""
    return dataclasses.replace(f, channel=None, team=None)


def value_scope(f: DashboardFilters) -> DashboardFilters:
    """CLV reads every order up to ``until``: views ending on the same day share it."""
    return dataclasses.replace(without_case_slices(f), since=f.until)


def drivers_scope(f: DashboardFilters) -> DashboardFilters:
    """Drivers read at least the 90 days ending on ``until``."""
    since = min(f.since, f.until - timedelta(days=DRIVER_MIN_DAYS - 1))
    return dataclasses.replace(without_case_slices(f), since=since)


BLOCKS: dict[str, BlockSpec] = {
    spec.key: spec
    for spec in (
        BlockSpec("satisfaction", ("shop", "surveys"), compute_satisfaction),
        BlockSpec("service", ("cases",), compute_service, for_agents=True),
        BlockSpec("voice", ("shop", "analysis"), compute_voice, scope=without_case_slices),
        BlockSpec("sales", ("shop",), compute_sales, scope=without_case_slices),
        BlockSpec("value", ("shop",), compute_value_block, scope=value_scope),
        BlockSpec("drivers", ("shop",), compute_drivers_block, scope=drivers_scope),
    )
}


def compute_block(key: str, src: Source, f: DashboardFilters) -> JSON:
    """Compute block ``key``; a library refusal (bad data on scale) becomes ``error``."""
    spec = BLOCKS[key]
    try:
        return spec.compute(src, f)
    except InsightError as exc:
        return {**_period(f), "kpis": [], "tables": {}, "notes": [], "error": str(exc)}
