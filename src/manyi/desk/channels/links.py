"""Signed, expiring links that let a customer open their own case without an account.

The token is ``django.core.signing`` over the case id and the contact address (salted per
purpose), so it cannot be forged or moved to another case, and it expires: a link older than
``MANYI_CASE_LINK_DAYS`` (default 30) days is refused with a friendly page that reveals nothing.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.urls import reverse

SALT = "manyi.case-link.v1"


def _max_age() -> int:
    return int(getattr(settings, "MANYI_CASE_LINK_DAYS", 30)) * 86400


def _contact_digest(email: str) -> str:
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()[:16]


def make_case_token(case_id: int, contact_email: str) -> str:
    return signing.dumps(
        {"c": case_id, "e": _contact_digest(contact_email)}, salt=SALT, compress=True
    )


@dataclass(frozen=True)
class LinkCheck:
    case_id: int | None
    problem: str | None  # "expired" or "invalid"


def read_case_token(token: str) -> LinkCheck:
    """The case a token opens, or why it does not (without telling which cases exist)."""
    try:
        payload = signing.loads(token, salt=SALT, max_age=_max_age())
    except signing.SignatureExpired:
        return LinkCheck(None, "expired")
    except signing.BadSignature:
        return LinkCheck(None, "invalid")
    if not isinstance(payload, dict) or not isinstance(payload.get("c"), int):
        return LinkCheck(None, "invalid")
    return LinkCheck(payload["c"], None)


def token_matches_contact(token: str, contact_email: str) -> bool:
    """A case's link stops working when its contact address is changed."""
    try:
        payload = signing.loads(token, salt=SALT, max_age=_max_age())
    except signing.BadSignature:
        return False
    return bool(payload.get("e") == _contact_digest(contact_email))


def case_link(case_id: int, contact_email: str) -> str:
    """The absolute URL of the customer's case page (``MANYI_SITE_URL`` + path)."""
    path = reverse("channels:customer_case", args=[make_case_token(case_id, contact_email)])
    return getattr(settings, "MANYI_SITE_URL", "http://localhost:8000").rstrip("/") + path
