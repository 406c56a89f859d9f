"""Dashboard data: cached block results, and the worker job that precomputes default views.

A block's result is cached under ``(block, filters, data version of what it reads)``. Pages
show what is cached at once and fetch the rest block by block (htmx), so a first visit of a new
filter never waits for every block at once; the worker keeps the default views (the last 7, 30
and 90 days of the whole shop, and each team's service view) warm, so managers opening the
dashboard after a change find it computed.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from manyi.desk.accounts.models import Team
from manyi.desk.dashboards import cache
from manyi.desk.dashboards.blocks import BLOCKS, JSON, compute_block
from manyi.desk.dashboards.filters import DashboardFilters
from manyi.desk.dashboards.source import desk_source
from manyi.desk.dashboards.versions import DataVersion, latest_data_day, read_data_version

#: The periods (days) the worker keeps warm.
DEFAULT_PERIODS = (30, 7, 90)


def block_key(key: str, f: DashboardFilters, version: DataVersion) -> str:
    """The key of block ``key`` for ``f``: the filters the block depends on (two views that
    differ only in a team share their CLV) and the version of the data it reads."""
    spec = BLOCKS[key]
    scoped = spec.scope(f)
    return cache.cache_key("block", key, scoped.key(), version.of(*spec.version_groups(scoped)))


def cached_block(key: str, f: DashboardFilters, version: DataVersion) -> JSON | None:
    """The cached result, or ``None`` (nothing computed)."""
    value = cache.peek(block_key(key, f, version))
    return value if isinstance(value, dict) else None


def get_block(
    key: str, f: DashboardFilters, version: DataVersion, *, wait: float = 0.0
) -> tuple[JSON | None, bool]:
    """``(result, computed_here)``; ``(None, False)`` while another process computes it for
    longer than ``wait`` seconds."""

    scoped = BLOCKS[key].scope(f)

    def compute() -> JSON:
        started = time.perf_counter()
        with desk_source(scoped) as src:
            data = compute_block(key, src, scoped)
        data["computed_in"] = round(time.perf_counter() - started, 3)
        return data

    return cache.get_or_compute(block_key(key, f, version), compute, wait=wait)


def default_views(
    anchor: Any, teams: Iterable[str] = ()
) -> list[tuple[DashboardFilters, tuple[str, ...]]]:
    """``(filters, blocks)`` the worker keeps warm: the shop for each default period, and each
    team's service view for the default period."""
    views = [
        (DashboardFilters(since=anchor - timedelta(days=days - 1), until=anchor), tuple(BLOCKS))
        for days in DEFAULT_PERIODS
    ]
    since = anchor - timedelta(days=DEFAULT_PERIODS[0] - 1)
    views += [
        (DashboardFilters(since=since, until=anchor, team=team), ("service",)) for team in teams
    ]
    return views


@dataclass(frozen=True)
class PrecomputeSummary:
    computed: int
    fresh: int
    seconds: float

    def __str__(self) -> str:
        return f"{self.computed} blocks computed, {self.fresh} already fresh"


def precompute_default_views(now: datetime | None = None) -> PrecomputeSummary:
    """Compute every block of the default views whose data changed (worker job)."""
    started = time.perf_counter()
    version = read_data_version()
    anchor = latest_data_day(now)
    teams = list(Team.objects.values_list("code", flat=True))
    computed = fresh = 0
    for f, keys in default_views(anchor, teams):
        for key in keys:
            if cached_block(key, f, version) is not None:
                fresh += 1
                continue
            _value, here = get_block(key, f, version)
            computed += int(here)
    return PrecomputeSummary(computed, fresh, time.perf_counter() - started)
