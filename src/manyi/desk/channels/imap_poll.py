"""IMAP polling, for shops whose support mailbox is hosted elsewhere (企业邮箱, Gmail, 365).

Each round takes the UNSEEN messages of one folder, reads them without marking them
(``BODY.PEEK[]``), hands each to ``inbound.receive_message`` and only then sets ``\\Seen``.
A message that fails (the database is down) stays unseen and is tried again next round; one
that is too large is logged, marked seen and left in the mailbox.

Examples
--------
>>> url = parse_imap_url("imaps://service%40shop.example:secret@imap.example.com/INBOX")
>>> url.host, url.port, url.user, url.mailbox
('imap.example.com', 993, 'service@shop.example', 'INBOX')
"""

from __future__ import annotations

import imaplib
import logging
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import unquote, urlsplit

from django.db import close_old_connections

from manyi.desk.channels.inbound import InboundResult, max_message_bytes, receive_message

log = logging.getLogger(__name__)

_SIZE = re.compile(rb"RFC822\.SIZE (\d+)")


class ImapClient(Protocol):
    """The part of ``imaplib.IMAP4`` that polling uses (tests pass a fake)."""

    def select(self, mailbox: str = ..., readonly: bool = ...) -> tuple[str, list[Any]]: ...

    def uid(self, command: str, *args: str) -> tuple[str, list[Any]]: ...


@dataclass(frozen=True)
class ImapUrl:
    host: str
    port: int
    user: str
    password: str = field(repr=False)
    mailbox: str
    tls: str  # "ssl" (imaps://), "starttls" (imap+starttls://) or "none" (imap://)


def parse_imap_url(url: str) -> ImapUrl:
    """``imaps://user:password@host[:port]/MAILBOX`` (also ``imap+starttls://``, ``imap://``);
    user and password are percent-encoded (``@`` is ``%40``), the mailbox defaults to INBOX."""
    parts = urlsplit(url)
    tls = {"imaps": "ssl", "imap+starttls": "starttls", "imap": "none"}.get(parts.scheme.lower())
    if tls is None or not parts.hostname:
        raise ValueError(f"not an IMAP URL: use imaps://user:password@host/INBOX (got {url!r})")
    return ImapUrl(
        host=parts.hostname,
        port=parts.port or (993 if tls == "ssl" else 143),
        user=unquote(parts.username or ""),
        password=unquote(parts.password or ""),
        mailbox=unquote(parts.path.lstrip("/")) or "INBOX",
        tls=tls,
    )


def connect(url: ImapUrl, *, timeout: float = 60) -> imaplib.IMAP4:
    """Log in and select the mailbox."""
    client: imaplib.IMAP4
    if url.tls == "ssl":
        client = imaplib.IMAP4_SSL(url.host, url.port, timeout=timeout)
    else:
        client = imaplib.IMAP4(url.host, url.port, timeout=timeout)
        if url.tls == "starttls":
            client.starttls()
    client.login(url.user, url.password)
    mailbox = f'"{url.mailbox}"' if " " in url.mailbox else url.mailbox
    typ, data = client.select(mailbox)
    if typ != "OK":
        raise RuntimeError(f"IMAP: cannot open {url.mailbox!r}: {data!r}")
    return client


@dataclass
class PollReport:
    seen: int = 0
    results: list[InboundResult] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)  # UIDs left unseen for the next round
    too_large: list[str] = field(default_factory=list)


def _ok(answer: tuple[str, list[Any]], what: str) -> list[Any]:
    typ, data = answer
    if typ != "OK":
        raise RuntimeError(f"IMAP {what} failed: {data!r}")
    return data


def poll_once(
    client: ImapClient, *, process: Callable[[bytes], InboundResult] = receive_message
) -> PollReport:
    """Process every UNSEEN message of the selected mailbox once (see the module)."""
    report = PollReport()
    data = _ok(client.uid("SEARCH", "UNSEEN"), "SEARCH")
    uids = [u.decode() for u in (data[0] or b"").split()]
    limit = max_message_bytes()
    for uid in uids:
        sizes = _ok(client.uid("FETCH", uid, "(RFC822.SIZE)"), "FETCH SIZE")
        match = next((_SIZE.search(s) for s in sizes if isinstance(s, bytes)), None)
        if match is not None and int(match.group(1)) > limit:
            log.warning(
                "IMAP message %s refused: %s bytes is more than the %d-byte limit "
                "(MANYI_INBOUND_MAX_BYTES); marked seen, left in the mailbox",
                uid,
                match.group(1).decode(),
                limit,
            )
            report.too_large.append(uid)
            _ok(client.uid("STORE", uid, "+FLAGS", "(\\Seen)"), "STORE")
            continue
        fetched = _ok(client.uid("FETCH", uid, "(BODY.PEEK[])"), "FETCH")
        raw = next((item[1] for item in fetched if isinstance(item, tuple)), None)
        if raw is None:
            log.warning("IMAP message %s has no body (deleted meanwhile?)", uid)
            continue
        try:
            result = process(raw)
        except Exception:
            log.exception("IMAP message %s could not be stored; it stays unseen", uid)
            report.failed.append(uid)
            continue
        _ok(client.uid("STORE", uid, "+FLAGS", "(\\Seen)"), "STORE")
        report.seen += 1
        report.results.append(result)
    return report


def poll_forever(
    url: ImapUrl,
    *,
    interval: float = 60,
    once: bool = False,
    stop: threading.Event | None = None,
    on_round: Callable[[PollReport], None] | None = None,
) -> None:
    """Connect, poll, log out, wait ``interval`` seconds, again (a lost connection is logged
    and retried next round)."""
    stop = stop or threading.Event()
    while not stop.is_set():
        try:
            client = connect(url)
            try:
                close_old_connections()
                report = poll_once(client)
            finally:
                close_old_connections()
                client.logout()
            if on_round is not None:
                on_round(report)
        except (OSError, imaplib.IMAP4.error, RuntimeError):
            log.exception("IMAP polling of %s@%s failed this round", url.user, url.host)
            if once:
                raise
        if once:
            return
        stop.wait(interval)


def outcome_counts(report: PollReport) -> dict[str, int]:
    counts: dict[str, int] = {}
    for r in report.results:
        counts[r.outcome] = counts.get(r.outcome, 0) + 1
    for name, uids in (("failed", report.failed), ("too large", report.too_large)):
        if uids:
            counts[name] = len(uids)
    return counts
