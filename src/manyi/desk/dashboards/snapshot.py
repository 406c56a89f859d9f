"""Consistent private copies of a SQLite desk database, for DuckDB to read.

Why analysis never opens the live SQLite file in a desk process
---------------------------------------------------------------
DuckDB's sqlite scanner carries its own copy of SQLite, compiled into the extension; Django
uses Python's ``sqlite3`` (the system library). Two SQLite libraries in one process cannot
coordinate on one WAL database (https://sqlite.org/howtocorrupt.html, §2.2): WAL locks are POSIX
``fcntl`` locks, and those belong to the *process*, so neither library sees the other's. When
DuckDB's SQLite opens the file it asks whether anyone holds the ``-shm`` file's "dead man
switch" byte, is told no (the holder is its own process), concludes it is the only user,
truncates the ``-shm`` and rebuilds the WAL index. Django's SQLite has that file mmapped: its
next access past the new end of file is a bus error (SIGBUS, the crash of issue 7), and a
rebuilt index can hide committed rows from it (a reproduction lost a committed ``CREATE TABLE``).
The same happens the other way round when Django opens a connection while DuckDB's has the
file mapped. Serialising analyses (the former per-process lock) only kept DuckDB away from
DuckDB, not from Django, so the crash stayed, rarer and timing-dependent.

So the desk hands DuckDB a copy: :meth:`SnapshotStore.acquire` copies the database with SQLite's
online backup API through Python's ``sqlite3`` — the same library as Django's, so its locks are
seen — which copies every page inside one read transaction: a consistent state even while the
server writes. The copy is switched to the rollback journal (no ``-wal``/``-shm``), is read by
DuckDB only, and is never written.

Freshness: a snapshot is reused while the database is unchanged (``PRAGMA data_version`` of the
store's own connection, which moves with every commit of any other connection or process) and
retaken by the first analysis after a commit. Dashboard results are cached under the data
version read *before* they are computed, so a snapshot is never older than the key it is stored
under; a time-based reuse of an older copy would file stale figures under the new version for
as long as the data then stay unchanged.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import sqlite3
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Snapshot:
    """One copy of the database: read it, then give it back with :meth:`SnapshotStore.release`."""

    path: Path
    #: ``PRAGMA data_version`` of the store's connection just before the copy was taken.
    data_version: int
    #: Analyses reading it now; a superseded snapshot is deleted when this falls to 0.
    users: int = 0


def copy_database(source: sqlite3.Connection, target: Path) -> None:
    """Write a consistent copy of ``source``'s main database to the new file ``target``.

    The backup copies every page in one step, i.e. inside one read transaction of ``source``
    (a WAL reader: writers are not blocked). The copy uses the rollback journal, so reading it
    creates no ``-wal``/``-shm`` files.

    >>> import sqlite3, tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> live = sqlite3.connect(folder / "desk.sqlite3")
    >>> _ = live.execute("PRAGMA journal_mode=WAL")
    >>> with live:
    ...     _ = live.execute("CREATE TABLE t (x)")
    >>> copy_database(live, folder / "copy.sqlite3")
    >>> sqlite3.connect(folder / "copy.sqlite3").execute("PRAGMA journal_mode").fetchone()
    ('delete',)
    """
    copy = sqlite3.connect(target, isolation_level=None)
    try:
        # A disposable copy, renamed into place only when complete: no fsync, journal in memory.
        copy.execute("PRAGMA synchronous=OFF")
        copy.execute("PRAGMA journal_mode=MEMORY")
        source.backup(copy)
        copy.execute("PRAGMA journal_mode=DELETE")
    finally:
        copy.close()


class SnapshotStore:
    """The current snapshot of one SQLite database, shared by every thread of a process.

    Parameters
    ----------
    database
        The live SQLite file (any journal mode).
    directory
        Where this process keeps its copies; created, and removed by :meth:`close`. Give each
        process its own (see :func:`process_directory`).

    Thread-safe. One copy is taken at a time; a thread that needs a newer copy while another
    thread takes one waits for it and then shares it.
    """

    def __init__(self, database: Path, directory: Path) -> None:
        self.database = Path(database)
        self.directory = Path(directory)
        self._lock = threading.Lock()
        self._con: sqlite3.Connection | None = None
        self._inode: tuple[int, int] | None = None
        self._current: Snapshot | None = None
        self._retired: list[Snapshot] = []
        self._counter = 0

    def acquire(self) -> Snapshot:
        """A snapshot no older than the last commit before this call; release it after use."""
        with self._lock:
            version = self._data_version()
            current = self._current
            if current is None or current.data_version != version:
                current = self._take(version)
            current.users += 1
            return current

    def release(self, snapshot: Snapshot) -> None:
        """Give back a snapshot from :meth:`acquire`; superseded, unused copies are deleted."""
        with self._lock:
            snapshot.users -= 1
            self._purge()

    def close(self) -> None:
        """Close the connection and delete every copy (also the ones still in use)."""
        with self._lock:
            if self._con is not None:
                self._con.close()
            self._con = None
            self._inode = None
            self._current = None
            self._retired.clear()
            shutil.rmtree(self.directory, ignore_errors=True)
            with contextlib.suppress(OSError):  # the process's folder, once its last store closes
                self.directory.parent.rmdir()

    def _data_version(self) -> int:
        # A replaced file (a test database recreated, a backup restored) is another database:
        # the old connection would go on reading the old inode.
        stat = self.database.stat()
        inode = (stat.st_dev, stat.st_ino)
        if self._con is None or self._inode != inode:
            if self._con is not None:
                self._con.close()
            self._con = _reader(self.database)
            self._inode = inode
            self._retire()
        return int(self._con.execute("PRAGMA data_version").fetchone()[0])

    def _take(self, version: int) -> Snapshot:
        assert self._con is not None
        self.directory.mkdir(parents=True, exist_ok=True)
        self._counter += 1
        final = self.directory / f"desk-{self._counter}.sqlite3"
        partial = final.with_suffix(".partial")
        try:
            copy_database(self._con, partial)
            partial.replace(final)  # DuckDB never sees a half-written copy
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        self._retire()
        # The version was read before the copy: a commit in between makes the copy newer than
        # its version says, and the next acquire copies once more (never the reverse).
        self._current = Snapshot(final, version)
        return self._current

    def _retire(self) -> None:
        if self._current is not None:
            self._retired.append(self._current)
            self._current = None
        self._purge()

    def _purge(self) -> None:
        keep = []
        for snapshot in self._retired:
            if snapshot.users > 0:
                keep.append(snapshot)
            else:
                snapshot.path.unlink(missing_ok=True)
        self._retired = keep


def process_directory(parent: Path) -> Path:
    """``parent/<host>-<pid>``, this process's own folder of snapshots.

    Folders left under ``parent`` by processes of this host that no longer run (a crash, a
    kill) are removed on the way.
    """
    host = socket.gethostname()
    parent.mkdir(parents=True, exist_ok=True)
    for entry in parent.iterdir():
        owner, _, pid = entry.name.rpartition("-")
        if owner != host or not pid.isdigit() or int(pid) == os.getpid():
            continue
        if not _running(int(pid)):
            shutil.rmtree(entry, ignore_errors=True)
    return parent / f"{host}-{os.getpid()}"


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    return True


def take_private_copy(database: Path) -> Path:
    """A one-off consistent copy of ``database`` in a new temporary folder (the caller deletes
    the folder, ``path.parent``)."""
    folder = Path(tempfile.mkdtemp(prefix="manyi-desk-copy-"))
    source = _reader(Path(database))
    try:
        copy_database(source, folder / "desk.sqlite3")
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    finally:
        source.close()
    return folder / "desk.sqlite3"


def _reader(database: Path) -> sqlite3.Connection:
    # Python's sqlite3 is the library Django uses, so this connection and Django's see each
    # other's locks. Autocommit: it holds no transaction between copies (blocks no checkpoint);
    # query_only: it never writes. Not thread-bound: the store uses it under its lock.
    con = sqlite3.connect(database, isolation_level=None, check_same_thread=False, timeout=20)
    con.execute("PRAGMA query_only=ON")
    return con
