"""What a customer may see of their case: plain values, never staff objects.

The case page renders only these dataclasses, so no template can reach an internal note, an
agent's username, an event's internal note or the audit data by accident.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from manyi.desk.cases.models import (
    Attachment,
    Case,
    CaseChannel,
    CaseEventKind,
    MessageDirection,
)
from manyi.desk.channels.progress import customer_label

#: Directions of the messages a customer sees (not internal notes).
PUBLIC_DIRECTIONS = (MessageDirection.INBOUND, MessageDirection.OUTBOUND)


@dataclass(frozen=True)
class PublicFile:
    id: int
    filename: str
    size: int


@dataclass(frozen=True)
class PublicEntry:
    at: datetime
    kind: str  # "in" (the customer), "out" (the shop) or "status"
    author: str | Promise
    body: str
    channel: str | Promise
    files: tuple[PublicFile, ...] = ()


def get_public_timeline(case: Case) -> list[PublicEntry]:
    """The customer's view of the case: messages both ways and status changes, oldest first.

    Agents appear by first name only (or as "Customer service"); internal notes, assignments,
    SLA events and the notes on transitions are left out. Two queries plus one for files.
    """
    entries: list[PublicEntry] = []
    messages = (
        case.messages.filter(direction__in=PUBLIC_DIRECTIONS)
        .select_related("author_user")
        .prefetch_related("attachments")
        .order_by("created_at", "id")
    )
    for m in messages:
        if m.direction == MessageDirection.INBOUND:
            author: str | Promise = _("You")
        else:
            first_name = m.author_user.first_name if m.author_user is not None else ""
            author = first_name or _("Customer service")
        files = tuple(PublicFile(a.pk, a.filename, a.size) for a in m.attachments.all())
        channel = CaseChannel(m.channel).label if m.channel in CaseChannel.values else ""
        entries.append(PublicEntry(m.created_at, m.direction, author, m.body, channel, files))
    for event in case.events.filter(kind=CaseEventKind.TRANSITION).order_by("at", "seq"):
        if event.to_status:
            label = customer_label(event.to_status)
            entries.append(PublicEntry(event.at, "status", "", str(label), ""))
    entries.sort(key=lambda e: (e.at, e.kind == "status"))  # what was said, then its effect
    return entries


def get_public_attachment(case: Case, attachment_id: int) -> Attachment | None:
    """A file of a public message of ``case`` (never one of an internal note)."""
    return (
        Attachment.objects.filter(
            pk=attachment_id, message__case=case, message__direction__in=PUBLIC_DIRECTIONS
        )
        .select_related("message")
        .first()
    )
