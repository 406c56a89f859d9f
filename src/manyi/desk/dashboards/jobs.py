"""The dashboards' worker jobs (listed in ``manyi.commands.worker._jobs``).

* **Alerts** — judge the due rules once per period, record and send what fired, retry failed
  deliveries (:mod:`~manyi.desk.dashboards.alerts`, :mod:`~manyi.desk.dashboards.delivery`);
* **Dashboards** — precompute the default views whose data changed
  (:func:`~manyi.desk.dashboards.dashboard.precompute_default_views`);
* **Campaign reviews** — build the reviews asked for with the button
  (:func:`~manyi.desk.dashboards.campaigns.run_queued_reviews`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime


def run_alerts(now: datetime) -> str:
    from manyi.desk.dashboards.alerts import evaluate_due_rules
    from manyi.desk.dashboards.delivery import deliver_due

    summary = evaluate_due_rules(now)
    retried = deliver_due(now)
    return f"{summary}; {retried} deliveries tried"


def run_precompute(now: datetime) -> str:
    from manyi.desk.dashboards.dashboard import precompute_default_views

    return str(precompute_default_views(now))


def run_reviews(now: datetime) -> str:
    from manyi.desk.dashboards.campaigns import run_queued_reviews

    return f"{run_queued_reviews()} reviews built"


def dashboard_jobs() -> list[tuple[str, Callable[[datetime], str]]]:
    return [
        ("Alerts", run_alerts),
        ("Dashboards", run_precompute),
        ("Campaign reviews", run_reviews),
    ]
