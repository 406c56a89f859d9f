"""HMAC-SHA256 signatures of webhook bodies (the scheme Stripe made familiar).

The sender puts ``X-Manyi-Signature: t=<unix seconds>,v1=<hex>`` on the request, where the hex
is ``HMAC-SHA256(secret, "<t>.<raw body>")``. Signing the timestamp with the body lets the
receiver refuse a captured request replayed later (outside :data:`TOLERANCE_SECONDS`) without
remembering every request it saw; several ``v1=`` entries may be sent while a secret is rotated.

Examples
--------
>>> header = sign(b'{"event": "delivered"}', "s3cret", timestamp=1_700_000_000)
>>> header
't=1700000000,v1=3270b3f7c09206fad0761f08f2b4ceea13542dda1d986b3f10f48c800d8f4235'
>>> verify(header, b'{"event": "delivered"}', "s3cret", now=1_700_000_060)
"""

from __future__ import annotations

import hashlib
import hmac

from django.utils.translation import gettext as _

#: How far the signed timestamp may lie from the receiver's clock, either way.
TOLERANCE_SECONDS = 300
HEADER = "X-Manyi-Signature"


class SignatureError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def compute(body: bytes, secret: str, timestamp: int) -> str:
    """The hex HMAC-SHA256 of ``"<timestamp>.<body>"`` under ``secret``."""
    signed = str(timestamp).encode("ascii") + b"." + body
    return hmac.new(secret.encode("utf-8"), signed, hashlib.sha256).hexdigest()


def sign(body: bytes, secret: str, *, timestamp: int) -> str:
    """The ``X-Manyi-Signature`` header value for ``body`` sent at ``timestamp``."""
    return f"t={timestamp},v1={compute(body, secret, timestamp)}"


def verify(
    header: str | None,
    body: bytes,
    secret: str,
    *,
    now: float,
    tolerance: int = TOLERANCE_SECONDS,
) -> None:
    """Return if ``header`` signs ``body`` with ``secret`` within ``tolerance`` seconds of
    ``now``; otherwise raise :class:`SignatureError` (``missing_signature``,
    ``bad_signature`` or ``stale_signature``)."""
    if not header:
        raise SignatureError(
            "missing_signature", _("Send the %(header)s header.") % {"header": HEADER}
        )
    timestamp: int | None = None
    candidates: list[str] = []
    for part in header.split(","):
        name, _sep, value = part.strip().partition("=")
        if name == "t" and value.isascii() and value.isdigit() and len(value) <= 12:
            timestamp = int(value)
        elif name == "v1" and value:
            candidates.append(value)
    if timestamp is None or not candidates:
        raise SignatureError(
            "bad_signature",
            _("%(header)s must look like t=<unix seconds>,v1=<hex HMAC-SHA256>.")
            % {"header": HEADER},
        )
    expected = compute(body, secret, timestamp)
    # compare_digest on bytes: constant time whatever the candidate holds (ASCII or not).
    if not any(
        hmac.compare_digest(expected.encode("ascii"), c.encode("utf-8", "replace"))
        for c in candidates
    ):
        raise SignatureError("bad_signature", _("The signature does not match the body."))
    # Checked after the signature, so only a holder of the secret learns about the clock.
    if abs(now - timestamp) > tolerance:
        raise SignatureError(
            "stale_signature",
            _(
                "The signed timestamp is more than %(seconds)s seconds from the receiver's"
                " clock; a replayed or delayed request is refused."
            )
            % {"seconds": tolerance},
        )
