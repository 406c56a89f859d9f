"""Signed, expiring survey links: ``/s/<token>/`` opens one invitation without an account.

The token is ``django.core.signing`` over the invitation id with this module's salt, so it
cannot be forged, nor taken from a case link (another salt), and it stops working after the
desk's ``link_days`` (``SurveySettings``, 28 by default). The invitation's own ``expires_at``
closes it too; whichever comes first wins. Opt-out links have a salt of their own and no age
limit: a customer may still say "no more surveys" from a year-old e-mail.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.urls import reverse

SALT = "manyi.survey-link.v1"
OPT_OUT_SALT = "manyi.survey-opt-out.v1"


@dataclass(frozen=True)
class LinkCheck:
    invitation_id: int | None
    problem: str | None  # "expired" or "invalid"
    #: When the link was signed (seconds since the epoch), for a valid signature.
    signed_at: int | None = None


def make_survey_token(invitation_id: int) -> str:
    return signing.dumps({"i": invitation_id}, salt=SALT)


def make_opt_out_token(invitation_id: int) -> str:
    return signing.dumps({"i": invitation_id}, salt=OPT_OUT_SALT)


def _read(token: str, salt: str, max_age: int | None) -> LinkCheck:
    try:
        payload = signing.loads(token, salt=salt, max_age=max_age)
    except signing.SignatureExpired:
        return LinkCheck(None, "expired")
    except signing.BadSignature:
        return LinkCheck(None, "invalid")
    if not isinstance(payload, dict) or type(payload.get("i")) is not int:
        return LinkCheck(None, "invalid")
    # A valid token is "payload:timestamp:signature" (TimestampSigner), the time in base 62.
    return LinkCheck(payload["i"], None, signing.b62_decode(token.rsplit(":", 2)[1]))


def read_survey_token(token: str, *, link_days: int | None) -> LinkCheck:
    """The invitation a survey token opens, or why it does not (without naming invitations).

    ``link_days=None`` checks the signature only: the caller then checks the age with
    :func:`link_expired` once it knows the desk's link lifetime (a submission reads it with
    the invitation's lock, in the same query)."""
    return _read(token, SALT, None if link_days is None else link_days * 86400)


def link_expired(signed_at: int, link_days: int) -> bool:
    """Whether a link signed at ``signed_at`` is past the lifetime now (the rule and the clock
    of ``signing.loads(max_age=...)``, which :func:`read_survey_token` applies)."""
    return time.time() - signed_at > link_days * 86400


def read_opt_out_token(token: str) -> LinkCheck:
    return _read(token, OPT_OUT_SALT, None)


def _site() -> str:
    return str(getattr(settings, "MANYI_SITE_URL", "http://localhost:8000")).rstrip("/")


def survey_link(invitation_id: int) -> str:
    """The absolute URL of the survey page (``MANYI_SITE_URL`` + ``/s/<token>/``)."""
    return _site() + reverse("surveys:answer", args=[make_survey_token(invitation_id)])


def opt_out_link(invitation_id: int) -> str:
    return _site() + reverse("surveys:opt_out", args=[make_opt_out_token(invitation_id)])
