"""Why a review operation was refused: one code per reason, shared by pages and the API."""

from __future__ import annotations

import enum


class ReviewErrorCode(enum.StrEnum):
    NOT_FOUND = "not_found"
    FORBIDDEN = "forbidden"
    INVALID = "invalid"
    ALREADY_EXISTS = "review_exists"
    HAS_FOLLOW_UP = "has_follow_up"


#: The HTTP status the API answers with for each code.
HTTP_STATUS: dict[ReviewErrorCode, int] = {
    ReviewErrorCode.NOT_FOUND: 404,
    ReviewErrorCode.FORBIDDEN: 403,
    ReviewErrorCode.INVALID: 422,
    ReviewErrorCode.ALREADY_EXISTS: 409,
    ReviewErrorCode.HAS_FOLLOW_UP: 409,
}


class ReviewError(Exception):
    """A refused review operation; nothing was changed. ``fields`` maps input names to
    messages."""

    def __init__(
        self, code: ReviewErrorCode, message: str, *, fields: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.fields = fields or {}

    @property
    def http_status(self) -> int:
        return HTTP_STATUS[self.code]
