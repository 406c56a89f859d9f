"""Writer of the review audit log (``review_events``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from manyi.desk.cases.events import Actor
from manyi.desk.reviews.models import ReviewEvent


def record_review_event(
    review_pk: int,
    kind: str,
    *,
    actor: Actor,
    at: datetime,
    from_status: str = "",
    to_status: str = "",
    data: dict[str, Any] | None = None,
) -> ReviewEvent:
    """Append one event to the review's log (call inside the transaction of the change)."""
    return ReviewEvent.objects.create(
        review_id=review_pk,
        at=at,
        kind=kind,
        actor=actor.label,
        actor_user=actor.user,
        from_status=from_status,
        to_status=to_status,
        data=data or {},
    )
