"""A fixed-window rate limit in Django's cache, for the public help pages.

Counts are per process with the default local-memory cache; with several web workers,
configure a shared cache (Redis, Memcached or the database cache) so that they add up.
"""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str:
    """The client's address: ``REMOTE_ADDR``, or the header a trusted proxy sets
    (``MANYI_CLIENT_IP_HEADER``, for example ``HTTP_X_REAL_IP``). Headers are not read
    otherwise: anyone can send an ``X-Forwarded-For``."""
    header = str(getattr(settings, "MANYI_CLIENT_IP_HEADER", "") or "")
    forwarded = str(request.META.get(header, "")) if header else ""
    return forwarded.split(",")[0].strip() or str(request.META.get("REMOTE_ADDR", ""))


def rate(name: str, default: tuple[int, int]) -> tuple[int, int]:
    """``(attempts, seconds)`` from the setting ``name`` (a pair), else ``default``."""
    value = getattr(settings, name, None)
    if not value:
        return default
    attempts, seconds = value
    return int(attempts), int(seconds)


def allow(scope: str, key: str, *, limit: int, window: int) -> bool:
    """Count one attempt of ``key`` in ``scope``; ``False`` once more than ``limit`` were
    made in the current ``window`` seconds."""
    digest = hashlib.sha256(key.encode()).hexdigest()[:32]
    cache_key = f"manyi:rate:{scope}:{digest}"
    cache.add(cache_key, 0, timeout=window)
    try:
        count = cache.incr(cache_key)
    except ValueError:  # expired between add and incr
        cache.set(cache_key, 1, timeout=window)
        count = 1
    return count <= limit
