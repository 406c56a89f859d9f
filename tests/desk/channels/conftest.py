"""Mail settings, message builders, staff and customer cases, and a real SMTP server on
loopback for the channel tests.

Cases are opened through the real services; e-mail goes to Django's locmem outbox unless a
test points the SMTP backend at a local server (``sink``, ``smtp_server``).
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from django.contrib.auth.models import User
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from manyi.desk.accounts.roles import Role
from manyi.desk.accounts.services import create_staff_user
from manyi.desk.cases.events import Actor
from manyi.desk.cases.models import Case
from manyi.desk.cases.services import NewCase, open_case

MESSAGES = Path(__file__).parent / "messages"
SUPPORT = "service@shop.example"
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=timezone.get_fixed_timezone(480))


@pytest.fixture(autouse=True)
def mail_settings(settings: Any) -> Iterator[None]:
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.DEFAULT_FROM_EMAIL = f"Manyi Shop Service <{SUPPORT}>"
    settings.MANYI_MAIL_DOMAIN = "shop.example"
    settings.MANYI_INBOUND_ADDRESSES = [SUPPORT]
    settings.MANYI_SITE_URL = "https://help.shop.example"
    settings.MANYI_CASE_LINK_DAYS = 30
    cache.clear()  # the web form's rate limit counts per client address
    yield
    cache.clear()


@pytest.fixture
def eml() -> Callable[[str], bytes]:
    """``eml("gmail_reply_en.eml")``: the bytes of a saved message in ``messages/``."""
    return lambda name: (MESSAGES / name).read_bytes()


def build_mail(
    *,
    sender: str = "Li Lei <li.lei@example.com>",
    subject: str = "Question",
    body: str = "Hello",
    html: str | None = None,
    message_id: str | None = None,
    in_reply_to: str | None = None,
    references: Sequence[str] = (),
    to: str = SUPPORT,
    headers: dict[str, str] | None = None,
    attachments: Sequence[tuple[str, str, bytes]] = (),
) -> bytes:
    """A message as a mail client would send it (``attachments``: name, type, content)."""
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = format_datetime(NOW)
    msg["Message-ID"] = message_id or make_msgid(domain="mail.example.com")
    if in_reply_to:
        msg["In-Reply-To"] = in_reply_to
    if references:
        msg["References"] = " ".join(references)
    for name, value in (headers or {}).items():
        msg[name] = value
    msg.set_content(body)
    if html is not None:
        msg.add_alternative(html, subtype="html")
    for filename, content_type, content in attachments:
        maintype, subtype = content_type.split("/", 1)
        msg.add_attachment(content, maintype=maintype, subtype=subtype, filename=filename)
    return msg.as_bytes()


@pytest.fixture
def mail() -> Callable[..., bytes]:
    """``mail(sender=..., subject=..., body=..., in_reply_to=..., attachments=[...])``."""
    return build_mail


@pytest.fixture
def agent(db: None) -> User:
    """An agent of the returns team whose username customers must never see."""
    create_staff_user("ana.wang", "a-long-password-1", role=Role.AGENT, teams=("returns",))
    user = User.objects.get(username="ana.wang")
    user.first_name = "Anna"
    user.save(update_fields=["first_name"])
    return user


def _open(
    *,
    kind: str = "question",
    subject: str = "收到的杯子碎了",
    description: str = "杯子在运输途中碎了。",
    contact_email: str = "li.lei@example.com",
    contact_name: str = "李雷",
    channel: str = "web",
    language: str = "zh-hans",
    now: datetime | None = None,
) -> Case:
    return open_case(
        NewCase(
            kind=kind,
            channel=channel,
            subject=subject,
            description=description,
            contact_email=contact_email,
            contact_name=contact_name,
            language=language,
        ),
        actor=Actor.customer(),
        now=now,
    )


@pytest.fixture
def open_customer_case(db: None) -> Callable[..., Case]:
    """``open_customer_case(kind=..., contact_email=..., language=...)`` via ``open_case``."""
    return _open


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def port() -> Callable[[], int]:
    """``port()``: a free TCP port on 127.0.0.1."""
    return free_port


@pytest.fixture
def en_client(client: Client, settings: Any) -> Client:
    """The test client with the pages in English (the default language is Chinese)."""
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


class Sink:
    """The customer's mail provider: keeps every message it accepts.

    ``rcpt_reply`` / ``data_reply`` make it refuse instead (``"550 5.1.1 No such user"``,
    ``"451 4.3.0 Try again later"``); ``delay`` seconds are waited before answering DATA.
    """

    def __init__(self) -> None:
        self.received: list[Envelope] = []
        self.rcpt_reply: str | None = None
        self.data_reply = "250 OK"
        self.delay = 0.0

    async def handle_RCPT(  # noqa: N802
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if self.rcpt_reply:
            return self.rcpt_reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.data_reply.startswith("250"):
            self.received.append(envelope)
        return self.data_reply

    def messages(self) -> list[EmailMessage]:
        parsed = []
        for envelope in self.received:
            msg = message_from_bytes(envelope.original_content or b"", policy=policy.default)
            assert isinstance(msg, EmailMessage)
            parsed.append(msg)
        return parsed

    def message_ids(self) -> list[str]:
        return [str(m["Message-ID"]) for m in self.messages()]


class SmtpServer:
    """An aiosmtpd server on a fixed loopback port that a test can stop and start again
    (the mail server going away and coming back); ``handler`` is its :class:`Sink`."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.handler = Sink()
        self._controller: Controller | None = None

    def start(self) -> Sink:
        if self._controller is None:
            self._controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)
            self._controller.start()
        return self.handler

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None


@pytest.fixture
def smtp_server(settings: Any, port: Callable[[], int]) -> Iterator[SmtpServer]:
    """A (not yet started) SMTP server on a free port, with Django's SMTP backend pointed at
    it: until ``smtp_server.start()`` the connection is refused, as with a server that is down."""
    server = SmtpServer(port())
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", server.port, 10
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    yield server
    server.stop()


@pytest.fixture
def sink(smtp_server: SmtpServer) -> Sink:
    """A running SMTP server with Django's SMTP backend pointed at it; what it received."""
    return smtp_server.start()
