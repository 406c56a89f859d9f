"""``manyi surveys``: invite, export answers and links, for shops that run no worker."""

from __future__ import annotations

import csv
from datetime import date, datetime
from pathlib import Path

import typer
from rich.console import Console
from rich.text import Text

from manyi.commands.django_setup import setup_django

app = typer.Typer(
    help=(
        "Survey invitations and answers, without the worker: invite after delivery, export "
        "the answers and the links of invitations that have no e-mail address.\n\n"
        "Example: manyi surveys invite --instrument dsr --delivered-since 2026-11-01 --dry-run"
    ),
    no_args_is_help=True,
)
console = Console()
err = Console(stderr=True)


def _parse_date(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%d").date()  # noqa: DTZ007 - a calendar date
    except ValueError:
        raise typer.BadParameter(
            f"{value!r} is not a date; write it as YYYY-MM-DD", param_hint=option
        ) from None


def _fail(message: str) -> typer.Exit:
    err.print(Text.assemble(("error: ", "red"), message), soft_wrap=True)
    return typer.Exit(2)


@app.command()
def invite(
    instrument: str = typer.Option(
        ..., "--instrument", help="An instrument the delivery survey asks: dsr, nps, ..."
    ),
    delivered_since: str = typer.Option(
        ..., "--delivered-since", help="First delivery day to invite for (YYYY-MM-DD, shop time)."
    ),
    rule: str | None = typer.Option(
        None, "--rule", help="The survey rule to use, when several ask the instrument."
    ),
    dry_run: bool = typer.Option(False, "--dry-run", help="Say what would happen; write nothing."),
) -> None:
    """Invite the customers of orders delivered since a day, and send what is due now.

    Invitations are keyed like the worker's: running this twice, or alongside the worker,
    never invites anyone twice. Fatigue and opt-out rules apply when each one is sent.

    Example: manyi surveys invite --instrument dsr --delivered-since 2026-11-01
    """
    first = _parse_date(delivered_since, "--delivered-since")
    assert first is not None
    setup_django()
    from django.utils import timezone, translation

    from manyi.desk.surveys.errors import SurveyError
    from manyi.desk.surveys.sending import SendResult, issue_due_invitations
    from manyi.desk.surveys.triggers import invite_deliveries

    now = timezone.now()
    since = timezone.make_aware(datetime.combine(first, datetime.min.time()))
    try:
        with translation.override("en"):  # the command speaks English, like the others
            plan = invite_deliveries(instrument, since, rule_code=rule, now=now, dry_run=dry_run)
    except SurveyError as exc:
        raise _fail(exc.message) from None
    with_address = sum(1 for i in plan.planned if i.email)
    due = sum(1 for i in plan.planned if i.send_at <= now)
    asks = ", ".join(
        plan.rule.rule_instruments.order_by("position").values_list("instrument_id", flat=True)
    )
    if dry_run:
        console.print(
            f"Would invite {len(plan.planned)} orders delivered since {first} to "
            f"{plan.rule.code} ({asks}): {with_address} by e-mail, "
            f"{len(plan.planned) - with_address} link only; {due} due now. "
            "Fatigue and opt-out rules are applied when each is sent. Nothing was written.",
            soft_wrap=True,
        )
        return
    total = SendResult()
    while True:
        sent = issue_due_invitations(now)
        for name in vars(total):
            setattr(total, name, getattr(total, name) + getattr(sent, name))
        if not any(vars(sent).values()):
            break
    console.print(
        f"{plan.created} invitations scheduled for {plan.rule.code} ({asks}); {total.summary()}."
    )
    if total.link_only:
        console.print(
            "Links of invitations without an address: manyi surveys links --out FILE",
            soft_wrap=True,
        )


@app.command()
def export(
    out: Path = typer.Option(Path("responses.csv"), "--out", "-o", help="CSV file to write."),
    instrument: str | None = typer.Option(None, "--instrument", help="Only this instrument."),
    since: str | None = typer.Option(None, "--since", help="First answer day (YYYY-MM-DD)."),
    until: str | None = typer.Option(None, "--until", help="Last answer day (YYYY-MM-DD)."),
) -> None:
    """Write every answer as one CSV row: numbers in the value column, comments in text.

    Example: manyi surveys export --out responses.csv --instrument csat
    """
    first, last = _parse_date(since, "--since"), _parse_date(until, "--until")
    setup_django()
    from manyi.desk.surveys.selectors import EXPORT_COLUMNS, iter_export_rows

    out.parent.mkdir(parents=True, exist_ok=True)
    rows = 0
    with out.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=EXPORT_COLUMNS)
        writer.writeheader()
        for row in iter_export_rows(instrument=instrument, since=first, until=last):
            writer.writerow(row)
            rows += 1
    console.print(f"{rows} answers written to {out}", soft_wrap=True)


@app.command()
def links(
    out: Path | None = typer.Option(
        None, "--out", "-o", help="CSV file to write (default: print them)."
    ),
    rule: str | None = typer.Option(None, "--rule", help="Only this survey rule."),
) -> None:
    """The links of open invitations that have no e-mail address, to pass on another way.

    Example: manyi surveys links --out links.csv
    """
    setup_django()
    from django.utils import timezone

    from manyi.desk.surveys.links import survey_link
    from manyi.desk.surveys.selectors import list_link_only

    now = timezone.now()
    columns = ["invitation", "rule", "order_id", "case_id", "customer_id", "language", "closes"]
    rows = [
        {
            "invitation": i.pk,
            "rule": i.rule_id,
            "order_id": i.order_id or "",
            "case_id": i.case_id or "",
            "customer_id": i.customer_id or "",
            "language": i.language,
            "closes": timezone.localtime(i.expires_at).isoformat() if i.expires_at else "",
            "link": survey_link(i.pk),
        }
        for i in list_link_only(now, rule=rule)
    ]
    if out is None:
        for row in rows:
            console.print(f"{row['order_id'] or row['case_id']}\t{row['link']}", soft_wrap=True)
        console.print(f"{len(rows)} open link-only invitations")
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=[*columns, "link"])
        writer.writeheader()
        writer.writerows(rows)
    console.print(f"{len(rows)} links written to {out}", soft_wrap=True)
