"""Run a command with ``MANYI_TEST_DATABASE_URL`` pointing at a throwaway PostgreSQL cluster.

    python scripts/with_postgres.py -- pytest tests/

When ``MANYI_TEST_DATABASE_URL`` is already set, the command simply runs against it. Otherwise
a cluster is created in a temporary folder with ``initdb``, started with ``pg_ctl`` on a free
loopback port (both as the ``postgres`` user when running as root: ``initdb`` refuses root), used
by the command, then stopped and removed, whatever the command's outcome.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path


def find_bin(name: str) -> str:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)
    if not candidates:
        sys.exit(
            f"with_postgres: {name} not found; install PostgreSQL (apt-get install postgresql)"
        )
    return candidates[0]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def as_postgres(cmd: list[str]) -> list[str]:
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *cmd]
    return cmd


def main(argv: list[str]) -> int:
    if "--" in argv:
        argv = argv[argv.index("--") + 1 :]
    if not argv:
        sys.exit("usage: with_postgres.py -- COMMAND [ARGS...]")
    if os.environ.get("MANYI_TEST_DATABASE_URL"):
        return subprocess.call(argv)
    root = Path(tempfile.mkdtemp(prefix="manyi-pg-"))
    data, sockets = root / "data", root / "run"
    sockets.mkdir()
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
        shutil.chown(sockets, "postgres")
    port = free_port()
    log = root / "server.log"
    try:
        subprocess.run(
            as_postgres(
                [
                    find_bin("initdb"),
                    "-D",
                    str(data),
                    "-U",
                    "postgres",
                    "-A",
                    "trust",
                    "-E",
                    "UTF8",
                    "--locale=C.UTF-8",
                    "--no-sync",
                ]
            ),
            check=True,
            stdout=subprocess.DEVNULL,
        )
        options = (
            f"-h 127.0.0.1 -p {port} -k {sockets} -c fsync=off -c synchronous_commit=off "
            "-c full_page_writes=off -c max_connections=200 -c shared_buffers=256MB"
        )
        subprocess.run(
            as_postgres(
                [find_bin("pg_ctl"), "-D", str(data), "-l", str(log), "-o", options, "-w", "start"]
            ),
            check=True,
            stdout=subprocess.DEVNULL,
        )
        url = f"postgresql://postgres@127.0.0.1:{port}/postgres"
        env = {**os.environ, "MANYI_TEST_DATABASE_URL": url}
        print(f"with_postgres: throwaway cluster on 127.0.0.1:{port}", flush=True)
        return subprocess.call(argv, env=env)
    finally:
        if (data / "postmaster.pid").exists():
            subprocess.run(
                as_postgres([find_bin("pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]),
                check=False,
                stdout=subprocess.DEVNULL,
            )
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
