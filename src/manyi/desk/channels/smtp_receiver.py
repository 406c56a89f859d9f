"""An SMTP server (aiosmtpd) that takes the shop's support mail and hands it to ``inbound``.

It accepts mail only for the support addresses (``MANYI_INBOUND_ADDRESSES``, by default
``DEFAULT_FROM_EMAIL``): any other recipient gets ``550``, so it is never an open relay. A message
over ``MANYI_INBOUND_MAX_BYTES`` gets ``552`` (announced in EHLO as ``SIZE``). A database error
answers ``451``, and the sending server tries again later; nothing is lost.

aiosmtpd runs an asyncio loop in its own thread, and Django's ORM may not be called from a
coroutine. Each message is therefore processed with ``sync_to_async(thread_sensitive=True)``:
all of them in one worker thread, one after the other, with that thread's own database
connection (checked and closed like a request's, so a restarted database is survived). One
at a time also keeps SQLite's single writer happy.

Examples
--------
>>> controller = start_receiver("127.0.0.1", 2525)  # doctest: +SKIP
>>> controller.stop()  # doctest: +SKIP
"""

from __future__ import annotations

import asyncio
import logging
import signal
import threading
from collections.abc import Callable, Iterable
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from asgiref.sync import sync_to_async
from django.db import close_old_connections, connections

from manyi.desk.channels.inbound import (
    InboundResult,
    Outcome,
    inbound_addresses,
    max_message_bytes,
    receive_message,
)

log = logging.getLogger(__name__)

Process = Callable[..., InboundResult]


def _deliver(process: Process, raw: bytes, mail_from: str | None) -> InboundResult:
    """Runs in the worker thread: a fresh-enough connection, one transaction per message."""
    close_old_connections()
    try:
        return process(raw, mail_from=mail_from)
    finally:
        close_old_connections()


class InboundHandler:
    """aiosmtpd handler: RCPT checks the address, DATA records the message."""

    def __init__(
        self, addresses: Iterable[str] | None = None, *, process: Process = receive_message
    ) -> None:
        self.addresses = frozenset(a.lower() for a in (addresses or inbound_addresses()))
        self.process = process

    async def handle_RCPT(  # noqa: N802 - aiosmtpd's hook name
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        if address.strip().lower() not in self.addresses:
            log.info("refused mail for %s from %s: not a support address", address, session.peer)
            return "550 5.1.1 No such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(  # noqa: N802 - aiosmtpd's hook name
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        raw = envelope.original_content or b""
        deliver = sync_to_async(_deliver, thread_sensitive=True)
        try:
            result = await deliver(self.process, raw, envelope.mail_from)
        except Exception:
            log.exception("inbound mail from %s could not be stored", envelope.mail_from)
            return "451 4.3.0 Temporary failure, please try again later"
        if result.outcome == Outcome.REJECTED:
            # The reason is in our log (it may be translated text: SMTP replies are ASCII).
            return "550 5.7.1 Message not accepted"
        return "250 2.0.0 Message accepted"


class _LoggingSMTP(SMTP):
    """aiosmtpd refuses an over-size message itself; this says so in our log."""

    async def push(self, status: Any) -> None:
        if str(status).startswith("552"):
            log.warning(
                "inbound mail from %s refused by size: more than %s bytes "
                "(MANYI_INBOUND_MAX_BYTES)",
                getattr(self.envelope, "mail_from", None),
                self.data_size_limit,
            )
        await super().push(status)


class ReceiverController(Controller):
    def factory(self) -> SMTP:
        return _LoggingSMTP(self.handler, **self.SMTP_kwargs)

    def stop(self, no_assert: bool = False) -> None:
        """Stop serving, after closing the worker thread's database connection (PostgreSQL
        keeps it for ``CONN_MAX_AGE`` otherwise, and a test database could not be dropped)."""
        if self.loop.is_running():
            close = sync_to_async(connections.close_all, thread_sensitive=True)
            asyncio.run_coroutine_threadsafe(close(), self.loop).result(timeout=30)
        super().stop(no_assert)


def start_receiver(
    host: str,
    port: int,
    *,
    addresses: Iterable[str] | None = None,
    max_bytes: int | None = None,
    process: Process = receive_message,
) -> ReceiverController:
    """Start the receiver in a background thread; ``controller.stop()`` ends it."""
    controller = ReceiverController(
        InboundHandler(addresses, process=process),
        hostname=host,
        port=port,
        data_size_limit=max_bytes or max_message_bytes(),
        ident="manyi inbound",
    )
    controller.start()
    return controller


def run_receiver(host: str, port: int, *, stop: threading.Event | None = None) -> None:
    """Serve until Ctrl-C, SIGTERM (a service manager stopping it) or until ``stop`` is set;
    a message being stored is finished first."""
    stop = stop or threading.Event()
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, lambda signum, frame: stop.set())
    controller = start_receiver(host, port)
    log.warning(
        "receiving mail for %s on %s:%s", ", ".join(sorted(inbound_addresses())), host, port
    )
    try:
        while not stop.wait(1.0):  # wake up now and then: signals are handled between waits
            pass
    except KeyboardInterrupt:
        pass
    finally:
        controller.stop()
        log.warning("stopped receiving mail on %s:%s", host, port)
