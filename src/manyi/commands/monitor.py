"""``manyi review-campaign`` (the post-campaign review) and ``manyi alerts check`` (cron alerts)."""

from __future__ import annotations

import json
import os
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

if TYPE_CHECKING:
    from manyi.insight.monitor.campaign import CampaignReview
    from manyi.insight.monitor.evaluate import AlertResult
    from manyi.insight.sources import Source

console = Console()
err = Console(stderr=True)

DEFAULT_SOURCE = "sqlite:///var/manyi.sqlite3"
SOURCE_HELP = (
    "sqlite:///FILE, postgresql://..., parquet:DIR, csv:DIR or olist:DIR "
    "(default: $MANYI_DATABASE_URL, else sqlite:///var/manyi.sqlite3)."
)

alerts_app = typer.Typer(
    help=(
        "Alert rules on daily or hourly metrics: threshold, change against a baseline, "
        "anomaly.\n\n"
        "Example: manyi alerts check --source olist:data/olist/sample_15k --rules rules.yaml "
        "--as-of 2018-03-20"
    ),
    no_args_is_help=True,
)


def _date(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(
            f"{value!r} is not a date; write it as YYYY-MM-DD", param_hint=option
        ) from None


def _open(spec: str | None, engine: str, timezone: str | None) -> Source:
    from manyi.insight.sources import open_source

    if engine not in ("duckdb", "spark"):
        raise typer.BadParameter("use duckdb or spark", param_hint="--engine")
    return open_source(
        spec or os.environ.get("MANYI_DATABASE_URL") or DEFAULT_SOURCE,
        engine=engine,
        timezone=timezone,
    )


def _fail(exc: Exception) -> None:
    # soft_wrap keeps file paths whole; Text keeps [brackets] in the message literal.
    err.print(Text.assemble(("error: ", "red"), str(exc)), soft_wrap=True)
    raise typer.Exit(2)


# --- review-campaign -------------------------------------------------------------------------


def review_campaign(
    source: str | None = typer.Option(None, "--source", "-s", help=SOURCE_HELP),
    start: str = typer.Option(..., "--start", help="First day of the campaign (YYYY-MM-DD)."),
    end: str = typer.Option(..., "--end", help="Last day of the campaign (YYYY-MM-DD)."),
    baseline_start: str | None = typer.Option(
        None, "--baseline-start", help="First baseline day (default: 28 days before --start)."
    ),
    baseline_end: str | None = typer.Option(
        None, "--baseline-end", help="Last baseline day (default: the day before --start)."
    ),
    name: str = typer.Option("", "--name", help="The campaign's name for the page."),
    out: Path = typer.Option(Path("review.html"), "--out", "-o", help="HTML file to write."),
    json_out: Path | None = typer.Option(None, "--json", help="Also write every figure as JSON."),
    lang: str = typer.Option("zh", "--lang", help="zh (default) or en."),
    engine: str = typer.Option("duckdb", "--engine", help="duckdb (default) or spark."),
    timezone: str | None = typer.Option(
        None, "--timezone", help="The shop's zone (default: UTC; Olist: São Paulo)."
    ),
    fdr: float = typer.Option(0.05, "--fdr", help="Benjamini–Hochberg level across metrics."),
    max_reviews: int = typer.Option(
        2000, "--max-reviews", help="Most review texts analysed per window (deterministic sample)."
    ),
    horizon_days: int | None = typer.Option(
        None,
        "--horizon-days",
        help="Count only reviews written within this many days of the purchase.",
    ),
) -> None:
    """The post-campaign review (复盘): every metric against the baseline, what went wrong,
    and what to look at, as an offline HTML page (and JSON).

    Example: manyi review-campaign --source olist:data/olist/sample_15k --start 2017-11-24
    --end 2017-11-27 --name "Black Friday 2017" --out review.html --json review.json --lang en
    """
    from manyi.insight.errors import InsightError
    from manyi.insight.monitor.campaign import review_campaign as review

    if lang not in ("zh", "en"):
        raise typer.BadParameter("use zh or en", param_hint="--lang")
    first, last = _date(start, "--start"), _date(end, "--end")
    if first is None or last is None:  # pragma: no cover - typer requires both
        raise typer.BadParameter("give --start and --end")
    b_first, b_last = (
        _date(baseline_start, "--baseline-start"),
        _date(baseline_end, "--baseline-end"),
    )
    try:
        with console.status("Reviewing the campaign…"):
            src = _open(source, engine, timezone)
            try:
                result = review(
                    src,
                    first,
                    last,
                    b_first,
                    b_last,
                    name=name,
                    fdr=fdr,
                    max_reviews=max_reviews,
                    horizon_days=horizon_days,
                )
            finally:
                src.close()
        doc = result.to_dict()
        page = result.to_html(lang)
    except InsightError as exc:
        _fail(exc)
        return
    _print_review(result, lang)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(page, encoding="utf-8")
    console.print(f"Wrote {out} ({len(page) / 1e6:.1f} MB, opens offline)")
    if json_out is not None:
        json_out.parent.mkdir(parents=True, exist_ok=True)
        json_out.write_text(json.dumps(doc, ensure_ascii=False, indent=1), encoding="utf-8")
        console.print(f"Wrote {json_out}")


def _print_review(result: CampaignReview, lang: str) -> None:
    from manyi.insight.monitor.messages import p_number
    from manyi.insight.monitor.review_doc import value_of
    from manyi.insight.monitor.review_html import VERDICTS

    zh = lang == "zh"
    c = result.campaign
    first, last = c.baseline_window()
    table = Table(
        title=f"{c.name or ('活动' if zh else 'Campaign')} {c.start} – {c.end} vs {first} – {last}"
    )
    for column in (
        ("指标", "Metric"),
        ("基线期", "Baseline"),
        ("活动期", "Campaign"),
        ("q (BH)", "q (BH)"),
        ("结论", "Verdict"),
    ):
        table.add_column(column[0] if zh else column[1])
    styles = {"worse": "red", "better": "green"}
    for row in result.metrics:
        q = row["q_value"]
        table.add_row(
            row["title"][lang],
            value_of(row, "baseline", lang),
            value_of(row, "campaign", lang),
            p_number(q),
            Text(VERDICTS[row["verdict"]][1 if zh else 0], style=styles.get(row["verdict"], "")),
        )
    console.print(table)
    for sentence in result.to_dict()["sections"]["summary"]["data"][lang][1:]:
        console.print(Text(f"• {sentence}"), soft_wrap=True)


# --- alerts check ----------------------------------------------------------------------------


def _as_of(value: str | None, zone: str) -> date | datetime:
    if value is None:
        today = datetime.now(ZoneInfo(zone)).date()
        return today - timedelta(days=1)
    try:
        if len(value) <= 10:
            return date.fromisoformat(value)
        return datetime.fromisoformat(value).replace(tzinfo=None)
    except ValueError:
        raise typer.BadParameter(
            f"{value!r}: write YYYY-MM-DD (daily rules) or 'YYYY-MM-DD HH:MM' (hourly)",
            param_hint="--as-of",
        ) from None


@alerts_app.command("check")
def check(
    source: str | None = typer.Option(None, "--source", "-s", help=SOURCE_HELP),
    rules: Path = typer.Option(..., "--rules", help="YAML or JSON file with the rules."),
    as_of: str | None = typer.Option(
        None,
        "--as-of",
        help="Shop-local day (or 'YYYY-MM-DD HH:MM' hour) to judge; default: yesterday.",
    ),
    fdr: float | None = typer.Option(
        None, "--fdr", help="Benjamini–Hochberg level across the change rules (default: off)."
    ),
    lang: str = typer.Option("zh", "--lang", help="Language of the messages: zh or en."),
    json_out: Path | None = typer.Option(None, "--json", help="Write every result as JSON."),
    engine: str = typer.Option("duckdb", "--engine", help="duckdb (default) or spark."),
    timezone: str | None = typer.Option(
        None, "--timezone", help="The shop's zone (default: UTC; Olist: São Paulo)."
    ),
    show_all: bool = typer.Option(False, "--all", help="Also list the rules that did not fire."),
) -> None:
    """Evaluate the rules once and print the alerts that fired; exit 1 when any fired.

    Exit codes: 0 nothing fired, 1 an alert fired, 2 an error (bad rules file, source).
    Meant for cron: ``manyi alerts check --rules rules.yaml || notify-team``.

    Example: manyi alerts check --source olist:data/olist/sample_15k --rules rules.yaml
    --as-of 2017-12-18 --lang en
    """
    from manyi.insight.errors import InsightError
    from manyi.insight.monitor.evaluate import check_rules
    from manyi.insight.monitor.rules import load_rules

    if lang not in ("zh", "en"):
        raise typer.BadParameter("use zh or en", param_hint="--lang")
    try:
        loaded = load_rules(rules)
        src = _open(source, engine, timezone)
        try:
            when = _as_of(as_of, src.timezone)
            results = check_rules(src, loaded, when, fdr=fdr)
        finally:
            src.close()
    except InsightError as exc:
        _fail(exc)
        return
    fired = [r for r in results if r.fired]
    _print_alerts(results if show_all else fired, lang, len(results))
    if json_out is not None:
        payload: dict[str, Any] = {
            "as_of": str(when),
            "fdr": fdr,
            "results": [r.to_dict() for r in results],
        }
        json_out.write_text(json.dumps(payload, ensure_ascii=False, indent=1), encoding="utf-8")
    if fired:
        raise typer.Exit(1)


def _print_alerts(results: list[AlertResult], lang: str, total: int) -> None:
    zh = lang == "zh"
    fired = sum(r.fired for r in results)
    if not results:
        console.print(f"没有告警（共 {total} 条规则）。" if zh else f"No alert ({total} rules).")
        return
    table = Table(title=f"告警 {fired}/{total}" if zh else f"Alerts {fired}/{total}")
    for column in ("Rule", "Period", "Status", "p / score", "Message"):
        table.add_column(column, overflow="fold")
    styles = {"fired": "bold red", "quiet": "green"}
    for r in results:
        stat = r.q_value if r.q_value is not None else r.p_value
        number = (
            "–"
            if stat is None and r.score is None
            else (f"{stat:.2g}" if stat is not None else f"{r.score:.1f}")
        )
        table.add_row(
            r.rule_id,
            r.period,
            Text(r.status, style=styles.get(r.status, "yellow")),
            number,
            Text(r.message(lang)),
        )
    console.print(table)
