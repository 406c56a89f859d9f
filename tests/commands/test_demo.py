"""`manyi demo` on a fresh home prepares everything, and the served desk answers a real login."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from http.cookiejar import CookieJar
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_demo_prepares_and_serves_a_page_a_user_can_log_into(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "MANYI_HOME": str(tmp_path),
        "MANYI_DATABASE_URL": f"sqlite:///{tmp_path / 'demo.sqlite3'}",
        "COLUMNS": "200",
    }
    env.pop("MANYI_SECRET_KEY", None)
    prepared = subprocess.run(
        [sys.executable, "-m", "manyi.cli", "demo", "--no-serve"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert prepared.returncode == 0, prepared.stderr
    password = re.search(r"agent\s*│\s*agent\s*│\s*(\S+)", prepared.stdout)
    assert password is not None, prepared.stdout
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600

    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "manyi.cli", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        jar = CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        login_page = wait_for(opener, f"{base}/accounts/login/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', login_page)
        assert token is not None
        form = urllib.parse.urlencode(
            {
                "username": "agent",
                "password": password.group(1),
                "csrfmiddlewaretoken": token.group(1),
                "next": "/",
            }
        ).encode()
        request = urllib.request.Request(
            f"{base}/accounts/login/",
            data=form,
            headers={"Referer": f"{base}/accounts/login/", "Accept-Language": "en"},
        )
        page = opener.open(request, timeout=10).read().decode()
        assert "Shop overview" in page
        assert "3,000" in page
        css = opener.open(f"{base}/static/manyi/desk.css", timeout=10)
        assert css.status == 200
    finally:
        server.terminate()
        server.wait(10)


def wait_for(opener: urllib.request.OpenerDirector, url: str) -> str:
    deadline = time.monotonic() + 60
    while True:
        try:
            return opener.open(url, timeout=5).read().decode()
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)
