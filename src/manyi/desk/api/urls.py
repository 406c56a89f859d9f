"""``/api/``: the operations of :data:`manyi.desk.api.site.api`, with JSON answers for an
unknown path (404) or method (405) too, so a client never has to parse an HTML error page."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import URLPattern, re_path
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from manyi.desk.api.errors import error_body
from manyi.desk.api.site import api

UTF8 = {"ensure_ascii": False}


def _json_405(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = view(request, *args, **kwargs)
        if response.status_code == 405 and response.get("Content-Type", "").startswith("text/html"):
            allowed = response.get("Allow", "")
            body = error_body(
                "method_not_allowed",
                _("Use %(methods)s on this path.") % {"methods": allowed},
                details={"allowed": [m.strip() for m in allowed.split(",") if m.strip()]},
            )
            json_response = JsonResponse(body, status=405, json_dumps_params=UTF8)
            json_response["Allow"] = allowed
            return json_response
        return response

    return wrapped


@csrf_exempt
def not_found(request: HttpRequest, path: str = "") -> JsonResponse:
    return JsonResponse(
        error_body("not_found", _("No API operation at %(path)s.") % {"path": request.path}),
        status=404,
        json_dumps_params=UTF8,
    )


def _patterns() -> list[Any]:
    patterns, _app_name, _namespace = api.urls
    for pattern in patterns:
        if isinstance(pattern, URLPattern):
            pattern.callback = _json_405(pattern.callback)
    return [*patterns, re_path(r"^(?P<path>.*)$", not_found)]


app_name = "api"
urlpatterns = _patterns()
