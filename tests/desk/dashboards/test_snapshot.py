"""Snapshots of a SQLite database: consistent, retaken only after a commit, cleaned up.

Plain SQLite files written through Python's ``sqlite3`` (the library Django uses); no desk
database is needed.
"""

from __future__ import annotations

import os
import socket
import sqlite3
import threading
from pathlib import Path

from manyi.desk.dashboards.snapshot import SnapshotStore, process_directory


def _live(path: Path) -> sqlite3.Connection:
    con = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("CREATE TABLE IF NOT EXISTS cases (case_id INTEGER PRIMARY KEY, kind TEXT)")
    con.execute("CREATE TABLE IF NOT EXISTS events (case_id INTEGER, kind TEXT)")
    return con


def _counts(path: Path) -> tuple[int, int]:
    con = sqlite3.connect(path)
    try:
        cases = con.execute("SELECT count(*) FROM cases").fetchone()[0]
        events = con.execute("SELECT count(*) FROM events").fetchone()[0]
    finally:
        con.close()
    return int(cases), int(events)


def test_a_snapshot_is_reused_until_a_commit_and_then_retaken(tmp_path: Path) -> None:
    # Given a WAL database with one case and a store over it
    live = _live(tmp_path / "desk.sqlite3")
    live.execute("INSERT INTO cases (kind) VALUES ('complaint')")
    store = SnapshotStore(tmp_path / "desk.sqlite3", tmp_path / "snapshots")

    # When two analyses run with no commit between them
    first = store.acquire()
    store.release(first)
    second = store.acquire()
    store.release(second)

    # Then they read the same copy, a rollback-journal file with the committed case
    assert second is first
    assert _counts(first.path) == (1, 0)
    copy = sqlite3.connect(first.path)
    assert copy.execute("PRAGMA journal_mode").fetchone() == ("delete",)
    copy.close()

    # When a case is committed and the next analysis runs
    live.execute("INSERT INTO cases (kind) VALUES ('question')")
    third = store.acquire()

    # Then it reads a new copy with both cases, and the unused old copy is gone
    assert third.path != first.path
    assert _counts(third.path) == (2, 0)
    assert not first.path.exists()
    assert sorted(p.name for p in (tmp_path / "snapshots").iterdir()) == [third.path.name]
    store.release(third)
    store.close()
    live.close()
    assert not (tmp_path / "snapshots").exists()


def test_a_superseded_snapshot_in_use_is_kept_until_released(tmp_path: Path) -> None:
    # Given an analysis reading a snapshot
    live = _live(tmp_path / "desk.sqlite3")
    store = SnapshotStore(tmp_path / "desk.sqlite3", tmp_path / "snapshots")
    reading = store.acquire()

    # When a commit makes another analysis take a newer one
    live.execute("INSERT INTO cases (kind) VALUES ('complaint')")
    newer = store.acquire()

    # Then the first one's copy stays (unchanged) until it is given back
    assert newer.path != reading.path
    assert _counts(reading.path) == (0, 0)
    store.release(reading)
    assert not reading.path.exists()
    assert _counts(newer.path) == (1, 0)
    store.release(newer)
    store.close()
    live.close()


def test_snapshots_are_consistent_while_another_thread_writes(tmp_path: Path) -> None:
    # Given a writer committing a case and its event in one transaction, 300 times, each time
    # on a new connection (as the server's request threads do)
    path = tmp_path / "desk.sqlite3"
    _live(path).close()
    store = SnapshotStore(path, tmp_path / "snapshots")
    done = threading.Event()
    failures: list[BaseException] = []

    def write() -> None:
        try:
            for _ in range(300):
                con = sqlite3.connect(path, isolation_level=None, timeout=20)
                con.execute("BEGIN IMMEDIATE")
                cur = con.execute("INSERT INTO cases (kind) VALUES ('complaint')")
                con.execute("INSERT INTO events VALUES (?, 'opened')", (cur.lastrowid,))
                con.execute("COMMIT")
                con.close()
        except BaseException as exc:  # reported below
            failures.append(exc)
        finally:
            done.set()

    # When snapshots are taken and read meanwhile
    writer = threading.Thread(target=write)
    writer.start()
    seen: list[tuple[int, int]] = []
    while not done.is_set():
        snapshot = store.acquire()
        seen.append(_counts(snapshot.path))
        store.release(snapshot)
    writer.join()
    last = store.acquire()

    # Then every copy holds whole transactions (each case with its event), counts never go
    # back, and the copy after the last commit holds all 300
    assert failures == []
    assert seen
    assert all(cases == events for cases, events in seen)
    assert [cases for cases, _ in seen] == sorted(cases for cases, _ in seen)
    assert _counts(last.path) == (300, 300)
    store.release(last)
    store.close()


def test_a_replaced_database_file_is_snapshotted_afresh(tmp_path: Path) -> None:
    # Given a store that has copied a database
    path = tmp_path / "desk.sqlite3"
    live = _live(path)
    live.execute("INSERT INTO cases (kind) VALUES ('complaint')")
    live.close()
    store = SnapshotStore(path, tmp_path / "snapshots")
    store.release(store.acquire())

    # When the file is replaced by another database (a restored backup)
    for name in ("desk.sqlite3", "desk.sqlite3-wal", "desk.sqlite3-shm"):
        (tmp_path / name).unlink(missing_ok=True)
    _live(path).close()

    # Then the next snapshot is of the new file
    snapshot = store.acquire()
    assert _counts(snapshot.path) == (0, 0)
    store.release(snapshot)
    store.close()


def test_folders_of_dead_processes_are_swept(tmp_path: Path) -> None:
    # Given a folder of a process of this host that no longer runs, and one of another host
    host = socket.gethostname()
    dead = tmp_path / f"{host}-{2**22 + 12345}"  # above Linux's pid_max default
    dead.mkdir()
    other = tmp_path / "another-host-1"
    other.mkdir()

    # When this process asks for its folder
    mine = process_directory(tmp_path)

    # Then the dead process's folder is gone, the other host's is left alone
    assert mine == tmp_path / f"{host}-{os.getpid()}"
    assert not dead.exists()
    assert other.exists()
