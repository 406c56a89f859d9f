"""What a user may do, read once every few seconds instead of on every request.

Every API call and console page asks three things about its user: the model permissions
(Django reads them with two queries), the roles (one query) and the teams (one query). They
change rarely (a manager edits a role), so each process keeps them per user for
``MANYI_ACCESS_CACHE_SECONDS`` (5 s by default; 0 turns the cache off):

- a change made in this process (groups, permissions, teams, the user row) empties the cache
  at once, through Django's signals;
- a change made in another process (another gunicorn worker, ``manage.py``, the admin on
  another server) is seen within the TTL at the latest.

So removing someone's role takes effect within five seconds everywhere. A deactivated user or
a revoked token is refused at once: the token check reads the token and its user on every
request, outside this cache.

:func:`prime` puts the cached answers on the user object under the attribute names that
Django's ``ModelBackend`` (``_perm_cache``) and ``manyi.desk.accounts.roles`` /
``manyi.desk.cases.selectors`` (``_manyi_roles``, ``_manyi_teams``) already look for, so no
caller changes.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group
from django.db.models.signals import m2m_changed, post_delete, post_save

from manyi.desk.accounts.models import Team


@dataclass(frozen=True)
class _Access:
    expires: float
    generation: int
    permissions: frozenset[str]
    roles: frozenset[str]
    teams: tuple[str, ...]


_lock = threading.Lock()
_cache: dict[int, _Access] = {}
_generation = 0


def ttl_seconds() -> float:
    return float(getattr(settings, "MANYI_ACCESS_CACHE_SECONDS", 5.0))


def _read(user: Any) -> tuple[frozenset[str], frozenset[str], tuple[str, ...]]:
    permissions = frozenset(ModelBackend().get_all_permissions(user))
    roles = set(user.groups.values_list("name", flat=True))
    if user.is_superuser:
        roles.add("admin")
    teams = tuple(user.teams.values_list("code", flat=True))
    return permissions, frozenset(roles), teams


def prime(user: Any) -> Any:
    """Attach ``user``'s permissions, roles and teams (cached) and return ``user``."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return user
    ttl = ttl_seconds()
    now = time.monotonic()
    entry = _cache.get(user.pk) if ttl > 0 else None
    if entry is None or entry.expires <= now or entry.generation != _generation:
        generation = _generation
        permissions, roles, teams = _read(user)
        entry = _Access(now + ttl, generation, permissions, roles, teams)
        if ttl > 0:
            with _lock:
                _cache[user.pk] = entry
    user._perm_cache = set(entry.permissions)
    user._manyi_roles = set(entry.roles)
    user._manyi_teams = list(entry.teams)
    return user


def clear() -> None:
    """Forget every cached answer in this process (signals call it on any change)."""
    global _generation
    with _lock:
        _generation += 1
        _cache.clear()


def _changed(**_kwargs: Any) -> None:
    clear()


def connect_signals() -> None:
    user_model = get_user_model()
    for through in (
        user_model.groups.through,
        user_model.user_permissions.through,
        Group.permissions.through,
        Team.members.through,
    ):
        m2m_changed.connect(_changed, sender=through, dispatch_uid=f"manyi-access-{through}")
    for model in (user_model, Group, Team):
        post_save.connect(_changed, sender=model, dispatch_uid=f"manyi-access-save-{model}")
        post_delete.connect(_changed, sender=model, dispatch_uid=f"manyi-access-del-{model}")
