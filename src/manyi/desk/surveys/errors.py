"""Why a survey action was refused: one code enum, one exception."""

from __future__ import annotations

import enum


class SurveyErrorCode(enum.StrEnum):
    NOT_FOUND = "not_found"
    CLOSED = "closed"
    EXPIRED = "expired"  # the link, not the invitation: older than the desk's link lifetime
    INVALID = "invalid"
    NOT_DRAFT = "not_draft"
    INCOMPLETE_INSTRUMENT = "incomplete_instrument"
    NO_RULE = "no_rule"


class SurveyError(Exception):
    """A refused survey action; ``fields`` maps form field names to messages."""

    def __init__(
        self, code: SurveyErrorCode, message: str, *, fields: dict[str, str] | None = None
    ):
        super().__init__(message)
        self.code = code
        self.message = message
        self.fields = dict(fields or {})
