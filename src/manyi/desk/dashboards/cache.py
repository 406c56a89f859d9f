"""Results of analysis, cached under what they depend on.

The cache is Django's cache alias ``dashboards`` (``config/settings.py``: a file-based cache in
``MANYI_HOME/cache/dashboards``, shared by every web and worker process on the machine, kept
across restarts, no server to run). Keys hold the desk database's identity, the block, the
filters' digest and the data version of the groups the block reads, so stale entries are never
read: they simply age out (``TIMEOUT``).

One computation per key at a time: the first caller takes a short lock (``cache.add``) and
computes; others wait for its result up to ``wait`` seconds and otherwise get ``None`` (the page
then shows "computing…" and asks again). Ten managers opening the same new view cost one
computation.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

from django.conf import settings
from django.core.cache import BaseCache, caches

from manyi.desk.dashboards.source import database_identity

ALIAS = "dashboards"
#: How long a result stays (its key changes with the data anyway).
TIMEOUT = 7 * 24 * 3600
#: How long a computation may hold its lock before another caller may take over.
LOCK_SECONDS = 600

T = TypeVar("T")
_MISSING = object()


def dashboard_cache() -> BaseCache:
    """The ``dashboards`` cache, or the default one when the settings have no such alias."""
    return caches[ALIAS if ALIAS in settings.CACHES else "default"]


def cache_key(*parts: str) -> str:
    return "manyi:dash:" + ":".join((database_identity(), *parts))


def peek(key: str) -> Any:
    """The cached value or ``None``."""
    return dashboard_cache().get(key)


def get_or_compute(
    key: str,
    compute: Callable[[], T],
    *,
    timeout: int = TIMEOUT,
    wait: float = 0.0,
    poll: float = 0.1,
) -> tuple[T | None, bool]:
    """``(value, computed_here)``: the cached value, or one computed now under a lock.

    When another process holds the lock, wait up to ``wait`` seconds for its result; ``(None,
    False)`` if it is still not there.
    """
    cache = dashboard_cache()
    value = cache.get(key, _MISSING)
    if value is not _MISSING:
        return value, False
    lock = key + ":lock"
    deadline = time.monotonic() + wait
    while not cache.add(lock, 1, timeout=LOCK_SECONDS):
        if time.monotonic() >= deadline:
            return None, False
        time.sleep(poll)
        value = cache.get(key, _MISSING)
        if value is not _MISSING:
            return value, False
    try:
        value = cache.get(key, _MISSING)  # finished while we took the lock
        if value is not _MISSING:
            return value, False
        result = compute()
        cache.set(key, result, timeout=timeout)
        return result, True
    finally:
        cache.delete(lock)


def clear() -> None:
    """Empty the dashboards cache (tests; after restoring a backup)."""
    dashboard_cache().clear()
