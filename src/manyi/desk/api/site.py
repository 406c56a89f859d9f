"""The API: one :class:`~ninja.NinjaAPI`, mounted at ``/api/`` by ``config/urls.py``.

OpenAPI document at ``/api/openapi.json``, interactive docs at ``/api/docs``. Every operation
needs a token or a logged-in session unless it says otherwise (the webhooks are signed).
"""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpRequest
from ninja import NinjaAPI
from ninja.parser import Parser
from ninja.renderers import JSONRenderer

from manyi.desk.api.auth import api_auth
from manyi.desk.api.errors import install_error_handlers
from manyi.desk.api.webhooks import router as webhooks_router
from manyi.desk.cases.api import router as cases_router
from manyi.desk.dashboards.api import router as report_router
from manyi.desk.reviews.api import router as reviews_router


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


class StrictJsonParser(Parser):
    """Python's ``json`` accepts ``NaN`` and ``Infinity``; JSON (and PostgreSQL) do not."""

    def parse_body(self, request: HttpRequest) -> Any:
        return json.loads(request.body, parse_constant=_refuse_constant)


class Utf8JsonRenderer(JSONRenderer):
    """JSON as UTF-8 text, so Chinese messages and names stay readable (not ``\\u8ba2``)."""

    json_dumps_params = {"ensure_ascii": False}  # noqa: RUF012 - ninja's class-level option


api = NinjaAPI(
    title="manyi desk API",
    version="1",
    description=(
        "After-sales cases of the manyi desk. Authenticate with `Authorization: Bearer <token>`"
        " (create one with `manyi token create`). Every refusal is JSON: "
        '`{"code", "message", "fields", "details"}`. See docs/api.md.'
    ),
    urls_namespace="api",
    docs_url="/docs",
    openapi_url="/openapi.json",
    auth=api_auth(),
    parser=StrictJsonParser(),
    renderer=Utf8JsonRenderer(),
)
install_error_handlers(api)
api.add_router("/", cases_router)
api.add_router("/", reviews_router)
api.add_router("/webhooks", webhooks_router)
api.add_router("/", report_router)
