"""``Idempotency-Key`` on creates: a retried request gets the first response, and nothing is
created twice.

The client picks a unique key per logical request (a UUID) and sends the same key with every
retry of it. The first request inserts the key row *before* doing the work, in the same
transaction, and stores the response in it before committing. The unique constraint on
``(user, key)`` is the lock:

- a retry after the first committed finds the row and gets the stored status and body;
- a concurrent retry blocks on the unique index (PostgreSQL) or on the write lock (SQLite,
  ``BEGIN IMMEDIATE``) until the first commits, then finds the row the same way; if the first
  failed and rolled back, the row is gone and the retry does the work itself;
- a refused request (4xx) rolls the row back with everything else, so fixing the input and
  retrying with the same key works.

The same key with a different request (method, path or body) is refused with 422. Keys are
kept for :data:`KEY_TTL`; :func:`purge_expired_keys` deletes older ones, and an expired key is
treated as new.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja.responses import NinjaJSONEncoder
from pydantic import BaseModel

from manyi.desk import sqlrows
from manyi.desk.api.errors import ApiError
from manyi.desk.api.models import IdempotencyKey

HEADER = "Idempotency-Key"
KEY_TTL = timedelta(hours=24)
MAX_KEY_LENGTH = 255
#: Set on a response that was stored by an earlier request with the same key.
REPLAYED_HEADER = "Idempotent-Replayed"
JSON_CONTENT_TYPE = "application/json; charset=utf-8"


def fingerprint(request: HttpRequest) -> str:
    """SHA-256 of method, path and raw body: what "the same request" means for a key."""
    digest = hashlib.sha256()
    for part in (request.method or "", request.path):
        digest.update(part.encode("utf-8"))
        digest.update(b"\n")
    digest.update(request.body)
    return digest.hexdigest()


def check_key(key: str) -> str:
    if not 1 <= len(key) <= MAX_KEY_LENGTH or not key.isascii() or not key.isprintable():
        raise ApiError(
            422,
            "invalid",
            _("The request has errors."),
            fields={HEADER: _("1 to 255 printable ASCII characters, such as a UUID.")},
        )
    return key


def render(status: int, body: BaseModel) -> HttpResponse:
    """The JSON response for ``body``, encoded as the API encodes every response."""
    content = json.dumps(body.model_dump(), cls=NinjaJSONEncoder, ensure_ascii=False)
    return HttpResponse(content, status=status, content_type=JSON_CONTENT_TYPE)


def respond_once(
    request: HttpRequest,
    key: str | None,
    create: Callable[[], tuple[int, BaseModel]],
    *,
    now: datetime | None = None,
) -> HttpResponse:
    """Run ``create`` (which returns the status and the body) at most once per ``key``.

    Without a key it just runs. ``create`` calls the service, which raises ``CaseError`` to
    refuse; the refusal propagates and the key is not kept.
    """
    if key is None:
        with transaction.atomic():
            status, body = create()
            return render(status, body)
    key = check_key(key)
    user = request.auth  # type: ignore[attr-defined]
    request_print = fingerprint(request)
    now = now or timezone.now()
    with transaction.atomic():
        claimed = _claim(user, key, request_print, now)
        if claimed is not None:
            return claimed
        status, body = create()
        response = render(status, body)
        sqlrows.execute(_store_sql(), [status, response.content.decode("utf-8"), user.pk, key])
    return response


@sqlrows.once
def _store_sql() -> str:
    """Keep the response on the key row (status, body; by user and key)."""
    model, bare = IdempotencyKey, sqlrows.bare
    return (
        f"UPDATE {sqlrows.quote(model._meta.db_table)} "
        f"SET {bare(model, 'status_code')} = %s, {bare(model, 'response_body')} = %s "
        f"WHERE {bare(model, 'user')} = %s AND {bare(model, 'key')} = %s"
    )


def _claim(user: Any, key: str, request_print: str, now: datetime) -> HttpResponse | None:
    """Insert the key row (``None``: go ahead), or answer from the row an earlier request
    left. The insert skips a taken key (``ON CONFLICT DO NOTHING``, no savepoint needed); on
    PostgreSQL it first waits for a transaction that is inserting the same key."""
    for _attempt in range(2):
        if sqlrows.insert(
            IdempotencyKey,
            ("user", "key", "fingerprint", "created_at"),
            [(user.pk, key, request_print, now)],
            ignore_conflicts=True,
        ):
            return None
        earlier = IdempotencyKey.objects.filter(user=user, key=key).first()
        if earlier is None:
            continue  # the other request rolled back between our insert and our read
        if earlier.created_at <= now - KEY_TTL:
            earlier.delete()
            continue
        if earlier.fingerprint != request_print:
            raise ApiError(
                422,
                "idempotency_key_reused",
                _(
                    "This Idempotency-Key was used for a different request; use a new key for"
                    " a new request."
                ),
                fields={HEADER: _("Already used with another body or path.")},
            )
        if earlier.status_code is None:  # pragma: no cover - only visible under READ UNCOMMITTED
            break
        response = HttpResponse(
            earlier.response_body, status=earlier.status_code, content_type=JSON_CONTENT_TYPE
        )
        response[REPLAYED_HEADER] = "true"
        return response
    raise ApiError(
        409,
        "idempotency_key_in_use",
        _("A request with this Idempotency-Key is still running; retry in a moment."),
        headers={"Retry-After": "1"},
    )


def purge_expired_keys(*, now: datetime | None = None) -> int:
    """Delete the keys older than :data:`KEY_TTL`; returns how many. Run it daily
    (``manyi manage purge_idempotency_keys``)."""
    now = now or timezone.now()
    deleted, _by_model = IdempotencyKey.objects.filter(created_at__lte=now - KEY_TTL).delete()
    return deleted
