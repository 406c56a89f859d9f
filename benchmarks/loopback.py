"""What the load benchmarks share: a free loopback port, the desk's environment, and gunicorn
serving the desk on PostgreSQL (``desk_load.py``, ``survey_load.py``)."""

from __future__ import annotations

import argparse
import collections
import contextlib
import os
import re
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def django_env(database_url: str, home: str) -> dict[str, str]:
    """The environment of the desk's processes (server, preparation, counting)."""
    return {
        **os.environ,
        "MANYI_DATABASE_URL": database_url,
        "MANYI_HOME": home,
        "MANYI_SECRET_KEY": "benchmark-only-" + "k" * 50,
        "MANYI_EMAIL_URL": "locmem://",
        "DJANGO_SETTINGS_MODULE": "manyi.desk.config.settings",
    }


def add_server_arguments(parser: argparse.ArgumentParser) -> None:
    """The gunicorn options both load benchmarks take: four single-threaded ``gthread``
    workers holding at most nine keep-alive connections each, unless told otherwise."""
    parser.add_argument("--workers", type=int, default=4, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=1, help="threads per gunicorn worker")
    parser.add_argument(
        "--worker-connections",
        type=int,
        default=9,
        help="most keep-alive connections one gthread worker holds (gunicorn's default: 1000)",
    )


def start_server(
    database_url: str,
    home: str,
    port: int,
    workers: int,
    threads: int,
    worker_class: str = "gthread",
    worker_connections: int = 1000,
) -> subprocess.Popen[bytes]:
    """gunicorn on ``127.0.0.1:port``, once it accepts: ``gthread`` workers (keep-alive
    connections, each served by the worker that accepted it) or ``sync`` ones (one request per
    connection: every request goes to whichever worker is free, like one shared queue)."""
    gunicorn = Path(sys.executable).with_name("gunicorn")
    server = subprocess.Popen(
        [
            str(gunicorn),
            "manyi.desk.config.wsgi:application",
            "--config",
            "python:manyi.desk.config.gunicorn",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--worker-class",
            worker_class,
            "--threads",
            str(threads),
            "--keep-alive",
            "30",
            # gthread: a worker with this many connections stops accepting more, so the
            # others take the rest (gunicorn's default is 1000).
            "--worker-connections",
            str(worker_connections),
            "--log-level",
            "warning",
        ],
        env=django_env(database_url, home),
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return server
        except OSError:
            time.sleep(0.2)
    server.kill()
    raise SystemExit("gunicorn did not start")


def analyze(database_url: str) -> None:
    """``ANALYZE`` the database, as autovacuum does within a minute or so of a table's growth.

    The benchmarks start from empty case and response tables. psycopg prepares a statement on
    its fifth run on a connection, and PostgreSQL may keep a generic plan made while the table
    was a page or two (a sequential scan) until the next ``ANALYZE``; within a 20-second phase
    that scan grows with every row written. Run after the warm-up, like a database in use."""
    import psycopg

    with psycopg.connect(database_url, autocommit=True) as connection:
        connection.execute("ANALYZE")


def host_speed() -> float:
    """Seconds a fixed pure-Python loop (3 million multiply-adds) takes on this machine now,
    the best of three: this virtual machine's speed varies by up to 2x from minute to minute
    (neighbours on the host), so the load benchmarks print it beside their figures."""
    best = float("inf")
    for _ in range(3):
        started, total = time.perf_counter(), 0
        for i in range(3_000_000):
            total += i * i
        best = min(best, time.perf_counter() - started)
    return best


#: How long client processes are given to start (spawn, imports) before a phase begins.
START_DELAY = 2.0


def starting_time() -> float:
    """When a phase's client processes should all begin (wall clock, shared by processes)."""
    return time.time() + START_DELAY


def wait_for_start(start_at: float, seconds: float) -> float:
    """Sleep until ``start_at``; returns the phase's deadline on ``time.perf_counter``'s
    scale. Every client process of a phase starts at the same moment and stops at the same
    deadline, so a paced phase offers exactly its rate over ``seconds`` (a process that
    started late would otherwise stretch the span and understate the rate)."""
    delay = start_at - time.time()
    if delay > 0:
        time.sleep(delay)
    return time.perf_counter() + max(0.0, start_at + seconds - time.time())


def connections_per_process(port: int) -> list[int]:
    """How many established connections to ``port`` each server process holds, most first
    (``ss``: gunicorn's workers keep a keep-alive connection where it was accepted)."""
    out = subprocess.run(
        ["ss", "-Htnp", "state", "established", f"( sport = :{port} )"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    return sorted(collections.Counter(re.findall(r"pid=(\d+)", out)).values(), reverse=True)


def watch_connections(port: int, start_at: float, seconds: float) -> list[list[int]]:
    """Counts :func:`connections_per_process` halfway through a phase, in the background; the
    returned list holds the one sample once the phase is over."""
    sample: list[list[int]] = []

    def take() -> None:
        time.sleep(max(0.0, start_at - time.time()) + seconds / 2)
        sample.append(connections_per_process(port))

    threading.Thread(target=take, daemon=True).start()
    return sample


class KeepAliveClient:
    """A lean HTTP/1.1 client on one keep-alive loopback connection, for load generators that
    share the cores with the server they measure: a request is one ``sendall`` of prepared
    bytes and as many ``recv`` calls as the answer needs (``http.client`` spent several times
    the CPU on its objects and header parsing). Understands ``Content-Length`` and chunked
    answers, and reconnects after ``Connection: close``."""

    def __init__(self, port: int, timeout: float = 30.0) -> None:
        self.port, self.timeout = port, timeout
        self.sock: socket.socket | None = None
        self.buffer = b""
        #: The header lines of the last answer (``Name: value``, as sent).
        self.head: list[bytes] = []

    def _connect(self) -> socket.socket:
        sock = socket.create_connection(("127.0.0.1", self.port), timeout=self.timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock, self.buffer = sock, b""
        return sock

    def header(self, name: str) -> list[str]:
        """The values of the last answer's header ``name`` (any case), in order."""
        wanted = name.lower().encode()
        out = []
        for line in self.head:
            key, _, value = line.partition(b":")
            if key.strip().lower() == wanted:
                out.append(value.strip().decode("latin-1"))
        return out

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
            self.sock = None

    def _fill(self, sock: socket.socket) -> None:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("the server closed the connection")
        self.buffer += chunk

    def _take(self, sock: socket.socket, n: int) -> bytes:
        while len(self.buffer) < n:
            self._fill(sock)
        out, self.buffer = self.buffer[:n], self.buffer[n:]
        return out

    def _line(self, sock: socket.socket) -> bytes:
        while (end := self.buffer.find(b"\r\n")) < 0:
            self._fill(sock)
        out, self.buffer = self.buffer[:end], self.buffer[end + 2 :]
        return out

    def request(
        self, method: str, path: str, headers: bytes = b"", body: bytes | None = None
    ) -> tuple[int, bytes]:
        """Send one request (``headers``: ready ``Name: value\\r\\n`` lines); returns the
        status and the body."""
        sock = self.sock or self._connect()
        length = b"" if body is None else b"Content-Length: %d\r\n" % len(body)
        sock.sendall(
            b"%s %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n%s%s\r\n%s"
            % (method.encode(), path.encode(), self.port, headers, length, body or b"")
        )
        while (end := self.buffer.find(b"\r\n\r\n")) < 0:
            self._fill(sock)
        head, self.buffer = self.buffer[:end].split(b"\r\n"), self.buffer[end + 4 :]
        status = int(head[0].split(b" ", 2)[1])
        self.head = head[1:]
        fields = {}
        for line in self.head:
            name, _, value = line.partition(b":")
            fields[name.strip().lower()] = value.strip().lower()
        if b"content-length" in fields:
            content = self._take(sock, int(fields[b"content-length"]))
        elif fields.get(b"transfer-encoding") == b"chunked":
            parts = []
            while size := int(self._line(sock).split(b";")[0], 16):
                parts.append(self._take(sock, size))
                self._take(sock, 2)
            while self._line(sock):  # trailers, then the blank line
                pass
            content = b"".join(parts)
        else:
            raise ConnectionError(f"no length on the answer to {method} {path}")
        if fields.get(b"connection") == b"close":
            self.close()
        return status, content


class CpuLimit:
    """Hold this process (and the children it starts from now on) and a PostgreSQL server to
    ``cpus`` cores in all, with a CPU quota of the kernel's control groups: a repeatable
    stand-in for a slower machine (this virtual machine's own speed changes by up to 2× from
    one minute to the next). Needs root and the ``cpu`` controller (cgroup v1 at
    ``/sys/fs/cgroup/cpu`` or v2 at ``/sys/fs/cgroup``); the quota is given per 10 ms, so a
    process that used it up waits at most a few milliseconds. ``release()`` puts everything
    back in the root group (a PostgreSQL server that outlives the run is not left limited)."""

    PERIOD_US = 10_000

    def __init__(self, cpus: float, database_url: str) -> None:
        v1, v2 = Path("/sys/fs/cgroup/cpu"), Path("/sys/fs/cgroup")
        name = f"manyi-bench-{os.getpid()}"
        if (v1 / "cpu.cfs_quota_us").exists():
            self.root, self.group = v1, v1 / name
            self.group.mkdir()
            (self.group / "cpu.cfs_period_us").write_text(str(self.PERIOD_US))
            (self.group / "cpu.cfs_quota_us").write_text(str(round(cpus * self.PERIOD_US)))
        elif "cpu" in (v2 / "cgroup.controllers").read_text().split():
            self.root, self.group = v2, v2 / name
            (v2 / "cgroup.subtree_control").write_text("+cpu")
            self.group.mkdir()
            (self.group / "cpu.max").write_text(f"{round(cpus * self.PERIOD_US)} {self.PERIOD_US}")
        else:
            raise SystemExit("--cpus needs the cgroup cpu controller (and root)")
        self.pids = [os.getpid(), *_postgres_pids(database_url)]
        for pid in self.pids:
            self._move(self.group, pid)

    def _move(self, group: Path, pid: int) -> None:
        with contextlib.suppress(ProcessLookupError):  # ended meanwhile
            (group / "cgroup.procs").write_text(str(pid))

    def release(self) -> None:
        for pid in [int(p) for p in (self.group / "cgroup.procs").read_text().split()]:
            self._move(self.root, pid)
        self.group.rmdir()


def _postgres_pids(database_url: str) -> list[int]:
    """The server's postmaster and its processes now (new backends are forked by the
    postmaster and start in its group)."""
    import psycopg

    with psycopg.connect(database_url, autocommit=True) as connection:
        row = connection.execute("SHOW data_directory").fetchone()
    assert row is not None
    postmaster = int((Path(row[0]) / "postmaster.pid").read_text().split()[0])
    children = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == postmaster:
                children.append(int(entry.name))
    return [postmaster, *children]
