"""``manyi worker``: the background jobs of the desk, in one process.

Jobs are listed here explicitly (no discovery): each runs every ``interval`` seconds and
reports what it did. Several workers may run at once on PostgreSQL (rows are claimed with
``SKIP LOCKED``); on SQLite run one.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime

import typer
from rich.console import Console

from manyi.commands.django_setup import setup_django

console = Console()


def _jobs() -> list[tuple[str, Callable[[datetime], str]]]:
    from manyi.desk.cases.sla_checks import check_sla

    def sla(now: datetime) -> str:
        r = check_sla(now)
        return f"{r.checked} checked, {len(r.warned)} warned, {len(r.breached)} breached"

    from manyi.desk.reviews.analysis import analyse_reviews

    def reviews(now: datetime) -> str:
        r = analyse_reviews(now=now)
        return f"{r.analysed} analysed, {r.follow_ups} follow-up cases opened"

    from manyi.desk.surveys.jobs import run_survey_jobs

    def surveys(now: datetime) -> str:
        return run_survey_jobs(now).summary()

    from manyi.desk.api.idempotency import purge_expired_keys

    def idempotency(now: datetime) -> str:
        return f"{purge_expired_keys(now=now)} expired idempotency keys removed"

    from manyi.desk.channels.outbox import send_due

    def mail(now: datetime) -> str:
        return send_due(now).summary()

    from manyi.desk.dashboards.jobs import dashboard_jobs

    return [
        ("Outgoing mail", mail),  # first: what the other jobs queue goes out next round
        ("SLA check", sla),
        ("Review analysis", reviews),
        ("Surveys", surveys),
        ("API keys", idempotency),
        *dashboard_jobs(),  # alerts, dashboard precompute, campaign reviews
    ]


def worker(
    once: bool = typer.Option(False, "--once", help="Run every job once and stop."),
    interval: float = typer.Option(30.0, "--interval", help="Seconds between rounds."),
) -> None:
    """Run the background jobs: outgoing mail the server refused before (retried with
    back-off), SLA warnings and breaches, review analysis, surveys, alerts.

    Example: manyi worker --interval 30
    """
    setup_django()
    from django.utils import timezone

    jobs = _jobs()
    while True:
        for name, job in jobs:
            started = time.perf_counter()
            summary = job(timezone.now())
            console.log(f"{name}: {summary} ({time.perf_counter() - started:.2f} s)")
        if once:
            return
        time.sleep(interval)
