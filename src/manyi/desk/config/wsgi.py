"""WSGI entry point: ``gunicorn manyi.desk.config.wsgi``.

Two kinds of request go through a shorter middleware chain than the staff pages: calls to the
REST API that bring a bearer token, and the public survey pages (``/s/...``). Both skip the
middleware that only serves a staff member's browser session: static files, the session and
the user it names, the access cache, messages and htmx (``settings.TOKEN_API_SKIPS_MIDDLEWARE``
and ``settings.PUBLIC_PAGES_SKIP_MIDDLEWARE``); an API call with a token also skips CSRF.

- An API call never reads a session: the token alone says who calls (a token that cannot be
  used is refused, it never falls back to the session, :mod:`manyi.desk.api.auth`), and a
  browser does not send an ``Authorization`` header on its own, so there is no cross-site
  request to forge.
- A survey page belongs to whoever holds its signed link, not to an account: it reads no
  session, no user and no messages (``surveys/public_base.html`` shows none). Its form keeps
  Django's CSRF protection, which works from its own cookie.

What stays (security headers and the HTTPS redirect, the caller's language, the common
checks, ``X-Frame-Options``) runs as on every page. The skipped middleware cost about an
eighth of an API read's CPU (``docs/benchmarks.md``, the desk under load).

Every other request, an API call with the console's session cookie included, takes the full
chain.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from typing import Any

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "manyi.desk.config.settings")

import django
from django.conf import settings
from django.core.handlers.wsgi import WSGIHandler

API_PREFIX = "/api/"
PUBLIC_PREFIX = "/s/"


def token_api_middleware() -> list[str]:
    """The middleware of a bearer-token API call: ``MIDDLEWARE`` without the skipped ones
    (in the same order; middleware added to ``MIDDLEWARE`` later runs here too unless it is
    added to the skips)."""
    return _without(settings.TOKEN_API_SKIPS_MIDDLEWARE)


def public_pages_middleware() -> list[str]:
    """The middleware of a public survey page: ``MIDDLEWARE`` without the skipped ones."""
    return _without(settings.PUBLIC_PAGES_SKIP_MIDDLEWARE)


def _without(skipped: list[str]) -> list[str]:
    skips = set(skipped)
    return [path for path in settings.MIDDLEWARE if path not in skips]


class _ShortChainHandler(WSGIHandler):
    """Django's WSGI handler with the chain ``middleware()`` names."""

    def __init__(self, middleware: Callable[[], list[str]]) -> None:
        self._middleware = middleware
        super().__init__()

    def load_middleware(self, is_async: bool = False) -> None:
        # Django builds the chain from settings.MIDDLEWARE; it is read here once, at start-up,
        # before any request is served.
        full = settings.MIDDLEWARE
        settings.MIDDLEWARE = self._middleware()
        try:
            super().load_middleware(is_async)
        finally:
            settings.MIDDLEWARE = full


def is_token_api_call(environ: dict[str, Any]) -> bool:
    """Whether the request is for the REST API and names a bearer token."""
    # PATH_INFO is the path below the application's mount point (SCRIPT_NAME).
    if not str(environ.get("PATH_INFO", "")).startswith(API_PREFIX):
        return False
    return str(environ.get("HTTP_AUTHORIZATION", ""))[:7].lower() == "bearer "


def is_public_page(environ: dict[str, Any]) -> bool:
    """Whether the request is for a public survey page (``/s/<token>/``, its thank-you and
    opt-out pages)."""
    return str(environ.get("PATH_INFO", "")).startswith(PUBLIC_PREFIX)


class DeskApplication:
    """The desk's WSGI application: three Django handlers, one per middleware chain."""

    def __init__(self) -> None:
        django.setup(set_prefix=False)
        self.pages = WSGIHandler()
        self.token_api = _ShortChainHandler(token_api_middleware)
        self.public = _ShortChainHandler(public_pages_middleware)

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        handler: WSGIHandler
        if is_token_api_call(environ):
            handler = self.token_api
        elif is_public_page(environ):
            handler = self.public
        else:
            handler = self.pages
        return handler(environ, start_response)


application = DeskApplication()
