"""Browser fixtures for desk tests: Debian's Chromium, headless, driven by Playwright's sync API.

Use them with pytest-django's ``live_server``::

    @pytest.mark.browser
    @pytest.mark.django_db(transaction=True)
    def test_the_queue(live_server, page, screenshot):
        page.goto(live_server.url + "/desk/")
        screenshot("queue")

``page`` is a fresh browser context (no cookies, its own storage) with a desktop viewport;
override the ``browser_viewport`` fixture (or parametrize it) for another size, or call
``new_page(viewport=(390, 844), locale="en-GB", java_script_enabled=False)`` for more pages.
``screenshot(name)`` writes ``<name>.png`` into ``tests/artifacts/`` (git-ignored, created by
the run) or into the directory named by ``MANYI_TEST_ARTIFACTS``.
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = os.environ.get("MANYI_CHROMIUM", "/usr/bin/chromium")
#: Quiet, deterministic and container-friendly: no sandbox (runs as root in CI), no GPU, and
#: none of the background traffic a fresh profile would start.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """One headless Chromium per test session (per xdist worker)."""
    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"Chromium is missing at {CHROMIUM}: `apt-get install chromium` (make test does it)"
            " or point MANYI_CHROMIUM at a Chromium binary"
        )
    from playwright.sync_api import expect, sync_playwright

    # Assertions wait for the page up to 20 s (Playwright's default is 5 s): on a 2-core CI
    # machine running two test workers, a POST, its redirect and the next render can take
    # longer than that without anything being wrong.
    expect.set_options(timeout=20_000)

    # Playwright's sync API keeps an event loop on the test thread, which makes Django refuse
    # ORM calls there ("async unsafe"); the calls are in fact synchronous, so allow them.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            yield chromium
            chromium.close()
            # While Playwright's event loop runs on the test thread, asgiref keeps Django's
            # connections in a context variable instead of the thread's storage, so the tests
            # after the first browser test use connections of their own: close them here,
            # where they are visible. Left open, one keeps a session on the test database and
            # pytest-django's DROP DATABASE at the end fails on PostgreSQL ("is being accessed
            # by other users").
            from django.db import connections

            connections.close_all()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def browser_viewport() -> tuple[int, int]:
    """Width and height of ``page``; override or parametrize for another size."""
    return (1366, 900)


@pytest.fixture
def new_page(browser: Any, browser_viewport: tuple[int, int]) -> Iterator[Callable[..., Any]]:
    """``new_page(viewport=(w, h), locale="zh-CN", **context_options)``: a page in a fresh
    context; every context is closed after the test."""
    contexts: list[Any] = []

    def make(
        *, viewport: tuple[int, int] | None = None, locale: str = "zh-CN", **options: Any
    ) -> Any:
        width, height = viewport or browser_viewport
        context = browser.new_context(
            viewport={"width": width, "height": height}, locale=locale, **options
        )
        context.set_default_timeout(30_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_page: Callable[..., Any]) -> Any:
    return new_page()


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    path = Path(os.environ.get("MANYI_TEST_ARTIFACTS") or ARTIFACTS)
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture
def screenshot(request: pytest.FixtureRequest, artifacts_dir: Path) -> Callable[..., Path]:
    """``screenshot(name, target_page=None, full_page=True)`` -> the PNG's path."""

    def take(name: str, target: Any = None, *, full_page: bool = True) -> Path:
        path = artifacts_dir / f"{name}.png"
        (target or request.getfixturevalue("page")).screenshot(path=str(path), full_page=full_page)
        return path

    return take


# --- the WSGI application, called as gunicorn calls it ---------------------------------------


@pytest.fixture
def desk_app() -> Iterator[Any]:
    """``manyi.desk.config.wsgi.application`` (Django's test client builds its own handler with
    the full middleware chain; this is the one gunicorn serves, with its three chains)."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    from manyi.desk.config import wsgi

    # As Django's test client does: a request must not close the test's connection (it
    # holds the test's transaction).
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield wsgi.application
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def _call_wsgi(
    app: Any,
    method: str,
    path: str,
    headers: dict[str, str],
    body: bytes = b"",
    content_type: str = "application/json",
) -> tuple[int, dict[str, str], bytes]:
    from wsgiref.util import setup_testing_defaults

    environ: dict[str, Any] = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "wsgi.input": io.BytesIO(body),
        "CONTENT_LENGTH": str(len(body)),
        "CONTENT_TYPE": content_type,
        "HTTP_HOST": "testserver",
    }
    environ.update({"HTTP_" + k.upper().replace("-", "_"): v for k, v in headers.items()})
    setup_testing_defaults(environ)
    answer: dict[str, Any] = {}

    def start_response(status: str, response_headers: list[tuple[str, str]], *exc: Any) -> None:
        answer["status"] = int(status.split()[0])
        answer["headers"] = {name.lower(): value for name, value in response_headers}
        answer["cookies"] = [v for name, v in response_headers if name.lower() == "set-cookie"]

    content = b"".join(app(environ, start_response))
    headers_out = dict(answer["headers"])
    headers_out["set-cookie"] = "\n".join(answer["cookies"])
    if not answer["cookies"]:
        del headers_out["set-cookie"]
    return answer["status"], headers_out, content


@pytest.fixture
def call_wsgi() -> Callable[..., tuple[int, dict[str, str], bytes]]:
    """``call_wsgi(app, method, path, headers, body=b"", content_type=...)``: one request
    through a WSGI callable; returns the status, the headers (lower-case names; every
    ``Set-Cookie`` joined by newlines) and the body."""
    return _call_wsgi
