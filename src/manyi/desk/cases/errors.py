"""Why a case operation was refused: one code per reason, shared by pages and the API."""

from __future__ import annotations

import enum
from typing import Any

from django.utils.translation import gettext as _


class CaseErrorCode(enum.StrEnum):
    NOT_FOUND = "not_found"
    FORBIDDEN = "forbidden"
    CONFLICT = "conflict"
    TRANSITION_NOT_ALLOWED = "transition_not_allowed"
    MISSING_DATA = "missing_data"
    INVALID = "invalid"
    OVER_APPROVAL_LIMIT = "over_approval_limit"
    OUTSIDE_RETURN_WINDOW = "outside_return_window"


#: The HTTP status the API answers with for each code.
HTTP_STATUS: dict[CaseErrorCode, int] = {
    CaseErrorCode.NOT_FOUND: 404,
    CaseErrorCode.FORBIDDEN: 403,
    CaseErrorCode.CONFLICT: 409,
    CaseErrorCode.TRANSITION_NOT_ALLOWED: 409,
    CaseErrorCode.MISSING_DATA: 422,
    CaseErrorCode.INVALID: 422,
    CaseErrorCode.OVER_APPROVAL_LIMIT: 403,
    CaseErrorCode.OUTSIDE_RETURN_WINDOW: 422,
}


class CaseError(Exception):
    """A refused case operation; nothing was changed.

    ``fields`` maps a field name to its message, for forms and the API's field-level errors.
    """

    def __init__(
        self,
        code: CaseErrorCode,
        message: str,
        *,
        fields: dict[str, str] | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.fields = fields or {}
        self.details = details or {}

    @property
    def http_status(self) -> int:
        return HTTP_STATUS[self.code]


class CaseConflict(CaseError):  # noqa: N818 - a kind of CaseError, named for the situation
    """Someone else changed the case since it was read (optimistic locking)."""

    def __init__(self, case_id: int, expected: int, current: int, changed_by: str | None) -> None:
        message = _(
            "Case #%(case)s was changed by %(who)s since you opened it (your version %(expected)s,"
            " now %(current)s); reload it and try again."
        ) % {
            "case": case_id,
            "who": changed_by or _("someone"),
            "expected": expected,
            "current": current,
        }
        super().__init__(
            CaseErrorCode.CONFLICT,
            message,
            details={"expected_version": expected, "current_version": current},
        )
