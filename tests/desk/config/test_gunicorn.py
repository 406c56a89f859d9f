"""The gunicorn settings module: each worker freezes its start-up objects once it has loaded."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _env(tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "MANYI_HOME": str(tmp_path / "home"),
        "MANYI_DATABASE_URL": f"sqlite:///{tmp_path / 'desk.sqlite3'}",
        "MANYI_SECRET_KEY": "test-only-" + "k" * 50,
        "MANYI_EMAIL_URL": "locmem://",
        "DJANGO_SETTINGS_MODULE": "manyi.desk.config.settings",
    }


def test_the_hook_imports_the_views_and_freezes_what_start_up_made(tmp_path: Path) -> None:
    # given a fresh interpreter that loaded the WSGI application, as a worker does
    code = (
        "import gc, sys\n"
        "import manyi.desk.config.wsgi\n"
        "before = len(gc.get_objects())\n"
        "from manyi.desk.config.gunicorn import freeze_startup_objects\n"
        "frozen = freeze_startup_objects()\n"
        "print(before, frozen, gc.get_freeze_count(), len(gc.get_objects()),\n"
        "      'manyi.desk.surveys.views' in sys.modules, 'manyi.desk.api.site' in sys.modules)\n"
    )
    # when the hook's work runs
    out = subprocess.run(
        [sys.executable, "-c", code], env=_env(tmp_path), capture_output=True, text=True, check=True
    ).stdout.split()
    before, frozen, count, tracked = (int(v) for v in out[:4])
    # then the views were imported, and every object then alive is frozen: the collector
    # tracks none of them any more
    assert out[4:] == ["True", "True"]
    assert frozen == count >= before > 10_000
    assert tracked < 1_000


def test_a_gunicorn_worker_with_the_settings_module_freezes_and_serves(tmp_path: Path) -> None:
    env = _env(tmp_path)
    subprocess.run(
        [str(Path(sys.executable).with_name("manyi")), "manage", "migrate", "--verbosity", "0"],
        env=env,
        check=True,
    )
    port = _free_port()
    gunicorn = Path(sys.executable).with_name("gunicorn")
    log = tmp_path / "gunicorn.log"
    # given gunicorn started as the README says, with the settings module
    with log.open("w") as sink:
        server = subprocess.Popen(
            [
                str(gunicorn),
                "manyi.desk.config.wsgi:application",
                "--config",
                "python:manyi.desk.config.gunicorn",
                "--workers",
                "1",
                "--bind",
                f"127.0.0.1:{port}",
                "--log-level",
                "info",
            ],
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    try:
        # when its worker is up
        deadline = time.monotonic() + 60
        while "start-up objects frozen" not in log.read_text() and time.monotonic() < deadline:
            assert server.poll() is None, log.read_text()
            time.sleep(0.2)
        # then it says how many objects it froze, and it answers requests
        line = next(x for x in log.read_text().splitlines() if "start-up objects frozen" in x)
        assert int(line.split(": ")[-1].split()[0]) > 10_000
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/s/not-a-survey/", timeout=10)
            status = 200
        except urllib.error.HTTPError as error:
            status = error.code
        assert status == 404  # the friendly page for a bad survey link, served by the worker
    finally:
        server.terminate()
        server.wait(timeout=30)
