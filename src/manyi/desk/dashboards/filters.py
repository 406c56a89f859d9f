"""The dashboard's filters: a period of shop-local days, and seller, category, channel, team.

Filters travel in the query string (``?since=2018-07-01&until=2018-07-31&seller=...``), so a
filtered dashboard, a drill-down and an export can be bookmarked or sent to a colleague. Unknown
or malformed values are ignored, never an error page.

``seller`` and ``category`` narrow everything that belongs to orders: ratings, delivery, sales,
survey answers about those orders and the cases opened about them. ``channel`` (the case's
contact channel) and ``team`` are properties of after-sales cases: they narrow the service
figures, CSAT of the surveys sent after those cases and the survey answers a team collected;
ratings, delivery and sales have no channel or team and stay whole (the page says so).

Examples
--------
>>> from datetime import date
>>> f = DashboardFilters(since=date(2018, 7, 1), until=date(2018, 7, 31))
>>> f.days, f.previous().since, f.previous().until
(31, datetime.date(2018, 5, 31), datetime.date(2018, 6, 30))
>>> f.query()
'since=2018-07-01&until=2018-07-31'
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from urllib.parse import urlencode

from django.utils.dateparse import parse_date

#: The periods offered as one click (days, ending on the anchor day).
PRESETS = (7, 30, 90, 365)
DEFAULT_DAYS = 30
#: A longer window is refused (the dashboard is not an all-history report).
MAX_DAYS = 3 * 366
SLICES = ("seller", "category", "channel", "team")


@dataclass(frozen=True)
class DashboardFilters:
    """One dashboard view: shop-local days ``since``..``until`` (inclusive) and the slices."""

    since: date
    until: date
    seller: str | None = None
    category: str | None = None
    channel: str | None = None
    team: str | None = None

    @property
    def days(self) -> int:
        return (self.until - self.since).days + 1

    def previous(self) -> DashboardFilters:
        """The equal period just before this one, same slices (the comparison)."""
        return dataclasses.replace(
            self, since=self.since - timedelta(days=self.days), until=self.since - timedelta(days=1)
        )

    def params(self) -> dict[str, str]:
        out = {"since": self.since.isoformat(), "until": self.until.isoformat()}
        for name in SLICES:
            value = getattr(self, name)
            if value:
                out[name] = value
        return out

    def query(self, **extra: str | int | None) -> str:
        """The query string of these filters plus ``extra`` (``None`` values left out)."""
        params: dict[str, str | int] = dict(self.params())
        params.update({k: v for k, v in extra.items() if v is not None})
        return urlencode(params)

    @property
    def orders_sliced(self) -> bool:
        return bool(self.seller or self.category)

    @property
    def cases_sliced(self) -> bool:
        return bool(self.channel or self.team)

    def key(self) -> str:
        """A short stable digest, for cache keys."""
        return hashlib.sha256(self.query().encode()).hexdigest()[:20]


def _text(value: str | None, limit: int) -> str | None:
    value = (value or "").strip()[:limit]
    return value or None


def parse_filters(
    params: Mapping[str, str],
    *,
    anchor: date,
    channels: set[str] | None = None,
    teams: set[str] | None = None,
) -> DashboardFilters:
    """The filters of a query string.

    ``anchor`` is the last day a default period ends on (the latest day with data, so a shop
    whose data ends in the past still opens on a full period). ``days=N`` picks the N days
    ending on ``until`` (or the anchor); explicit ``since``/``until`` win over it. A channel or
    team not in ``channels``/``teams`` (when given) is dropped.
    """

    def day(name: str) -> date | None:
        try:
            return parse_date(params.get(name) or "")
        except ValueError:
            return None

    until = day("until") or anchor
    since = day("since")
    if since is None:
        try:
            days = int(params.get("days") or DEFAULT_DAYS)
        except ValueError:
            days = DEFAULT_DAYS
        days = min(max(days, 1), MAX_DAYS)
        since = until - timedelta(days=days - 1)
    if since > until:
        since, until = until, since
    if (until - since).days >= MAX_DAYS:
        since = until - timedelta(days=MAX_DAYS - 1)
    channel = _text(params.get("channel"), 16)
    team = _text(params.get("team"), 32)
    return DashboardFilters(
        since=since,
        until=until,
        seller=_text(params.get("seller"), 64),
        category=_text(params.get("category"), 128),
        channel=channel if channel and (channels is None or channel in channels) else None,
        team=team if team and (teams is None or team in teams) else None,
    )
