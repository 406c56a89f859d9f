"""Personal API tokens: issue, check, revoke.

A token is ``mny_`` followed by 43 random URL-safe characters (``secrets.token_urlsafe(32)``,
256 bits). Only its SHA-256 digest is stored, so a database leak does not leak usable tokens;
the token itself is shown once, when it is created. The first twelve characters (``mny_`` and
eight random ones) are kept as ``prefix`` so people can tell their tokens apart and revoke one.

A plain SHA-256 (no salt, no slow hash) is enough here: the input is 256 random bits, not a
password a person chose, so there is nothing to guess, and it keeps the lookup by digest an
indexed equality.

Examples
--------
>>> token, row = create_api_token(user, "shop sync", expires_in_days=90)  # doctest: +SKIP
>>> authenticate_token(token).user == user  # doctest: +SKIP
True
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from manyi.desk import sqlrows
from manyi.desk.accounts.models import ApiToken

TOKEN_PREFIX = "mny_"
#: ``mny_`` and eight random characters: shown in lists, used to revoke.
PREFIX_LENGTH = 12
#: ``last_used_at`` is written at most this often per token, so a busy client does not turn
#: every read into a write.
LAST_USED_RESOLUTION = timedelta(minutes=1)


class TokenError(Exception):
    """A token that cannot be used (unknown, expired, revoked, or its user is inactive), or a
    token operation that was refused; ``code`` says which."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def digest_of(token: str) -> str:
    """The SHA-256 hex digest stored for ``token``."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_api_token(
    user: Any,
    name: str,
    expires_in_days: int | None = None,
    *,
    now: datetime | None = None,
) -> tuple[str, ApiToken]:
    """Issue a token for ``user``; returns the token (show it once, it is not kept) and its row.

    ``expires_in_days=None`` makes a token that lasts until it is revoked.
    """
    name = name.strip()
    if not name:
        raise TokenError("invalid", _("Give the token a name, such as the system that uses it."))
    if len(name) > 64:
        raise TokenError("invalid", _("Keep the token's name under 64 characters."))
    if expires_in_days is not None and expires_in_days < 1:
        raise TokenError("invalid", _("A token lasts at least one day."))
    if not user.is_active:
        raise TokenError("invalid", _("%(user)s is inactive.") % {"user": user.get_username()})
    now = now or timezone.now()
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken.objects.create(
        user=user,
        name=name,
        prefix=token[:PREFIX_LENGTH],
        digest=digest_of(token),
        expires_at=now + timedelta(days=expires_in_days) if expires_in_days else None,
    )
    return token, row


@dataclass(frozen=True)
class TokenCheck:
    token: ApiToken
    user: Any


@sqlrows.once
def _token_sql() -> str:
    user_model = get_user_model()
    col = sqlrows.column
    return (
        f"SELECT {sqlrows.columns(ApiToken, 't').sql}, {sqlrows.columns(user_model, 'u').sql} "
        f"FROM {sqlrows.table(ApiToken, 't')} JOIN {sqlrows.table(user_model, 'u')} "
        f"ON {col(user_model, 'u', 'id')} = {col(ApiToken, 't', 'user')} "
        f"WHERE {col(ApiToken, 't', 'digest')} = %s"
    )


def _token_with_user(digest: str) -> ApiToken | None:
    """The token row whose digest is ``digest``, its user joined (``sqlrows``: every API call
    makes this read, and the ORM's query compilation would cost more than the query)."""
    rows = sqlrows.fetch(_token_sql(), [digest])
    if not rows:
        return None
    token_cols = sqlrows.columns(ApiToken, "t")
    row = token_cols.build(rows[0])
    sqlrows.attach(
        row, "user", sqlrows.columns(get_user_model(), "u").build(rows[0], token_cols.width)
    )
    assert isinstance(row, ApiToken)
    return row


def authenticate_token(token: str, *, now: datetime | None = None) -> TokenCheck:
    """The token's row and user, or :class:`TokenError` (``unknown``, ``expired``, ``revoked``,
    ``inactive_user``). Records the use in ``last_used_at`` at most once a minute."""
    now = now or timezone.now()
    if not token.startswith(TOKEN_PREFIX) or len(token) > 128:
        raise TokenError("unknown", _("Unknown API token."))
    row = _token_with_user(digest_of(token))
    if row is None:
        raise TokenError("unknown", _("Unknown API token."))
    if row.revoked_at is not None:
        raise TokenError("revoked", _("This API token was revoked."))
    if row.expires_at is not None and row.expires_at <= now:
        raise TokenError("expired", _("This API token has expired."))
    if not row.user.is_active:
        raise TokenError("inactive_user", _("The token's user is inactive."))
    if row.last_used_at is None or now - row.last_used_at >= LAST_USED_RESOLUTION:
        # A conditional UPDATE: concurrent requests write at most once per minute, without a lock.
        ApiToken.objects.filter(
            Q(last_used_at__isnull=True) | Q(last_used_at__lte=now - LAST_USED_RESOLUTION),
            pk=row.pk,
        ).update(last_used_at=now)
        row.last_used_at = now
    return TokenCheck(row, row.user)


def revoke_api_token(prefix: str, *, now: datetime | None = None) -> ApiToken:
    """Revoke the one live token whose prefix is ``prefix`` (as ``manyi token list`` shows it).

    Raises :class:`TokenError` when no live token or more than one has that prefix.
    """
    now = now or timezone.now()
    with transaction.atomic():
        rows = list(
            ApiToken.objects.select_for_update()
            .select_related("user")
            .filter(prefix=prefix, revoked_at__isnull=True)[:2]
        )
        if not rows:
            raise TokenError("unknown", _("No live token has the prefix %(p)s.") % {"p": prefix})
        if len(rows) > 1:
            raise TokenError(
                "ambiguous", _("More than one token has the prefix %(p)s.") % {"p": prefix}
            )
        row = rows[0]
        row.revoked_at = now
        row.save(update_fields=["revoked_at"])
    return row


def list_api_tokens(user: Any | None = None) -> QuerySet[ApiToken]:
    """Every token (or ``user``'s), newest first, with its user."""
    tokens = ApiToken.objects.select_related("user").order_by("-created_at", "-pk")
    if user is not None:
        tokens = tokens.filter(user=user)
    return tokens


def token_state(row: ApiToken, *, now: datetime | None = None) -> str:
    """``live``, ``expired`` or ``revoked``."""
    now = now or timezone.now()
    if row.revoked_at is not None:
        return "revoked"
    if row.expires_at is not None and row.expires_at <= now:
        return "expired"
    return "live"
