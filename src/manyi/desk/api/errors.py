"""One shape for every refusal: ``{"code", "message", "fields": {field: message}, "details"}``.

``code`` is stable and meant for programs (the :class:`~manyi.desk.cases.errors.CaseErrorCode`
values, plus the API's own below); ``message`` is for people, in the request's language;
``fields`` names the input that was wrong; ``details`` carries what a client needs to recover
(the allowed transitions, the current version).
"""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError, ValidationError
from pydantic import Field

from manyi.desk.cases.errors import CaseError

#: Codes for statuses that have no more specific one.
STATUS_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    422: "invalid",
    429: "throttled",
}

#: A field name for errors about the request as a whole (no body, a body that is not an object).
REQUEST = "request"


class ErrorOut(Schema):
    code: str
    message: str
    fields: dict[str, str] = Field(default_factory=dict)
    details: dict[str, Any] = Field(default_factory=dict)


class ApiError(Exception):
    """A refusal raised by the API layer itself (authentication, idempotency, webhooks)."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        fields: dict[str, str] | None = None,
        details: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.fields = fields or {}
        self.details = details or {}
        self.headers = headers or {}


def error_body(
    code: str,
    message: str,
    fields: dict[str, str] | None = None,
    details: dict[str, Any] | None = None,
) -> dict[str, Any]:
    return {"code": code, "message": message, "fields": fields or {}, "details": details or {}}


def field_name(loc: tuple[Any, ...] | list[Any]) -> str:
    """``("body", "payload", "fields", "refund_amount")`` → ``"fields.refund_amount"``.

    The first part is where the value came from (body, query, path, header); a body is always
    the one parameter named ``payload``, which is no name the client sent.
    """
    parts = list(loc[1:])
    if loc and loc[0] == "body" and parts and parts[0] == "payload":
        parts = parts[1:]
    return ".".join(str(p) for p in parts) or REQUEST


def _message(error: dict[str, Any]) -> str:
    kind = error.get("type", "")
    if kind == "extra_forbidden":
        return _("Unknown field.")
    if kind == "missing" and field_name(error.get("loc", ())) == REQUEST:
        return _("Send a JSON object.")
    message = str(error.get("msg", ""))
    # Pydantic prefixes messages of custom validators with "Value error, ".
    return message.removeprefix("Value error, ")


def validation_fields(errors: list[dict[str, Any]]) -> dict[str, str]:
    fields: dict[str, str] = {}
    for error in errors:
        fields.setdefault(field_name(error.get("loc", ())), _message(error))
    return fields


def install_error_handlers(api: NinjaAPI) -> None:
    """Answer every refusal of ``api`` with the JSON error shape (unexpected errors stay 500s).

    Each handler gets only exceptions of the class it is registered for (``exc: Any`` because
    ninja types the argument as "the exception or its class").
    """

    def respond(request: HttpRequest, status: int, body: dict[str, Any]) -> HttpResponse:
        return api.create_response(request, body, status=status)

    def on_validation(request: HttpRequest, exc: Any) -> HttpResponse:
        fields = validation_fields(exc.errors)
        return respond(request, 422, error_body("invalid", _("The request has errors."), fields))

    def on_case_error(request: HttpRequest, exc: Any) -> HttpResponse:
        body = error_body(str(exc.code), exc.message, exc.fields, exc.details)
        return respond(request, exc.http_status, body)

    def on_api_error(request: HttpRequest, exc: Any) -> HttpResponse:
        body = error_body(exc.code, exc.message, exc.fields, exc.details)
        response = respond(request, exc.status, body)
        for name, value in exc.headers.items():
            response[name] = value
        return response

    def on_authentication(request: HttpRequest, exc: Any) -> HttpResponse:
        message = _("Send a token (Authorization: Bearer <token>) or log in.")
        response = respond(request, 401, error_body("unauthorized", message))
        response["WWW-Authenticate"] = 'Bearer realm="manyi"'
        return response

    def on_http_error(request: HttpRequest, exc: Any) -> HttpResponse:
        code = STATUS_CODES.get(exc.status_code, "error")
        message = str(exc)
        if exc.status_code == 400 and message.startswith("Cannot parse request body"):
            message = _("The body is not valid JSON.")
            return respond(request, 400, error_body(code, message, {REQUEST: message}))
        return respond(request, exc.status_code, error_body(code, message))

    def on_not_found(request: HttpRequest, exc: Any) -> HttpResponse:
        return respond(request, 404, error_body("not_found", _("Not found.")))

    api.add_exception_handler(ValidationError, on_validation)
    api.add_exception_handler(CaseError, on_case_error)
    api.add_exception_handler(ApiError, on_api_error)
    api.add_exception_handler(AuthenticationError, on_authentication)
    api.add_exception_handler(HttpError, on_http_error)
    api.add_exception_handler(Http404, on_not_found)
