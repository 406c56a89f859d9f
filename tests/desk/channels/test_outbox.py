"""The outbox against a real SMTP server on loopback: a mail is recorded with the change that
produced it, kept while the server is down, retried with back-off, sent once, and failed (on the
case's timeline and in the admin) when the server refuses it for good."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.core import mail as locmem
from django.db import connections, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from manyi.desk.cases.events import Actor
from manyi.desk.cases.models import Case, CaseEvent, Message
from manyi.desk.cases.services import reply_to_case
from manyi.desk.channels.inbound import receive_message
from manyi.desk.channels.models import MailPurpose, MailStatus, OutgoingMail
from manyi.desk.channels.outbox import OutboxResult, send_again, send_due


def _reply_mail(reply: Message) -> OutgoingMail:
    return OutgoingMail.objects.get(reply=reply)


@pytest.mark.django_db
def test_the_mail_is_recorded_with_the_reply_and_sent_only_after_the_commit(
    agent: Any,
    open_customer_case: Callable[..., Case],
    django_capture_on_commit_callbacks: Any,
) -> None:
    case = open_customer_case(contact_email="li.lei@example.com")
    locmem.outbox.clear()

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        reply = reply_to_case(case.case_id, "请把照片发给我们。", actor=Actor.staff(agent))
    mail = _reply_mail(reply)

    assert (mail.status, mail.attempts, mail.purpose) == ("pending", 0, MailPurpose.REPLY)
    assert mail.headers["Message-ID"] == mail.message_id
    assert locmem.outbox == []
    for callback in callbacks:
        callback()
    mail.refresh_from_db()
    (sent,) = locmem.outbox
    assert sent.extra_headers["Message-ID"] == mail.message_id
    assert (mail.status, mail.attempts, mail.next_attempt_at) == ("sent", 1, None)
    assert Message.objects.get(pk=reply.pk).email_message_id == mail.message_id


@pytest.mark.django_db
def test_a_rolled_back_reply_leaves_no_mail(
    agent: Any, open_customer_case: Callable[..., Case], django_capture_on_commit_callbacks: Any
) -> None:
    case = open_customer_case()
    before = list(OutgoingMail.objects.values_list("pk", flat=True))

    def reply_then_fail() -> None:
        with transaction.atomic():
            reply_to_case(case.case_id, "Hello", actor=Actor.staff(agent))
            raise RuntimeError("the request failed after the reply")

    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
    ):
        reply_then_fail()

    assert callbacks == []
    assert list(OutgoingMail.objects.values_list("pk", flat=True)) == before
    assert not Message.objects.filter(case=case, direction="out").exists()


@pytest.mark.django_db
def test_server_down_keeps_the_mail_and_the_worker_delivers_it_once_when_it_is_back(
    smtp_server: Any,
    agent: Any,
    mail: Callable[..., bytes],
    django_capture_on_commit_callbacks: Any,
) -> None:
    # Given the mail server is down when a customer's mail opens a case and the agent replies
    with django_capture_on_commit_callbacks(execute=True):
        opened = receive_message(
            mail(sender="李雷 <li.lei@example.com>", subject="收到的杯子碎了",
                 message_id="<root@mail.example.com>")
        )  # fmt: skip
    case = Case.objects.get(pk=opened.case_id)
    with django_capture_on_commit_callbacks(execute=True):
        reply = reply_to_case(case.case_id, "请把照片发给我们。", actor=Actor.staff(agent))

    # Then the reply is kept and its mail waits, with the attempt counted
    queued = _reply_mail(reply)
    assert (queued.status, queued.attempts) == ("pending", 1)
    assert queued.last_attempt_at is not None
    assert queued.next_attempt_at == queued.last_attempt_at + timedelta(minutes=1)
    assert queued.last_error.startswith("ConnectionRefusedError")
    assert Message.objects.get(pk=reply.pk).email_message_id is None
    first_try = queued.last_attempt_at

    # When the worker runs before the retry is due, nothing is tried
    assert send_due(first_try + timedelta(seconds=30)) == OutboxResult()
    assert OutgoingMail.objects.get(pk=queued.pk).attempts == 1

    # When the server is back and the retry is due, the worker sends both mails of the case
    sink = smtp_server.start()
    assert send_due(first_try + timedelta(minutes=1, seconds=1)) == OutboxResult(sent=2)

    ack, sent = sink.messages()
    assert ack["Auto-Submitted"] == "auto-replied"
    # ... with the Message-ID and threading headers recorded before the first attempt
    assert sent["Message-ID"] == queued.message_id
    assert sent["In-Reply-To"] == queued.headers["In-Reply-To"] == "<root@mail.example.com>"
    assert sent["Subject"] == f"[#{case.case_id}] 收到的杯子碎了"
    queued.refresh_from_db()
    assert (queued.status, queued.attempts, queued.next_attempt_at) == ("sent", 2, None)
    assert [entry["ok"] for entry in queued.log] == [False, True]
    assert Message.objects.get(pk=reply.pk).email_message_id == queued.message_id

    # And later rounds send nothing again
    assert send_due(first_try + timedelta(days=1)) == OutboxResult()
    assert len(sink.received) == 2


@pytest.mark.django_db
def test_a_permanent_refusal_fails_at_once_and_shows_on_the_timeline_and_in_the_admin(
    smtp_server: Any,
    agent: Any,
    open_customer_case: Callable[..., Case],
    django_capture_on_commit_callbacks: Any,
    client: Client,
    admin_client: Client,
) -> None:
    sink = smtp_server.start()
    sink.rcpt_reply = "550 5.1.1 <li.lei@example.com>: Recipient address rejected"
    with django_capture_on_commit_callbacks(execute=True):
        case = open_customer_case(contact_email="li.lei@example.com", language="en")
        reply = reply_to_case(case.case_id, "Please send a photo.", actor=Actor.staff(agent))

    mail = _reply_mail(reply)
    assert (mail.status, mail.attempts, mail.next_attempt_at) == ("failed", 1, None)
    assert mail.last_error == (
        "li.lei@example.com: 550 5.1.1 <li.lei@example.com>: Recipient address rejected"
    )
    event = CaseEvent.objects.get(case=case, kind="delivery_failed", data__mail=mail.pk)
    assert (event.actor, event.note) == ("system", mail.last_error)
    assert event.data["to"] == mail.to
    assert (event.data["reply"], event.data["code"], event.data["permanent"]) == (
        reply.pk,
        550,
        True,
    )

    # The worker does not try it again
    assert send_due(timezone.now() + timedelta(days=1)) == OutboxResult()
    assert OutgoingMail.objects.get(pk=mail.pk).attempts == 1
    assert sink.received == []

    # The agent sees it on the case page, staff in the admin's list of failed mail
    client.force_login(agent)
    page = client.get(reverse("cases:case", args=[case.case_id])).content.decode()
    assert page.count("event-delivery_failed") == 2  # the acknowledgement and the reply
    assert "Recipient address rejected" in page
    listing = admin_client.get("/admin/channels/outgoingmail/?status=failed").content.decode()
    assert f"[#{case.case_id}]" in listing
    assert "Recipient address rejected" in listing

    # Sending it again (after the address was fixed) queues it with a fresh count
    assert send_again([mail.pk]) == 1
    assert OutgoingMail.objects.filter(pk=mail.pk, status="pending", attempts=0).exists()


@pytest.mark.django_db
def test_a_temporary_refusal_is_retried_with_back_off_up_to_the_limit(
    smtp_server: Any,
    settings: Any,
    agent: Any,
    open_customer_case: Callable[..., Case],
    django_capture_on_commit_callbacks: Any,
) -> None:
    settings.MANYI_MAIL_MAX_ATTEMPTS = 3
    case = open_customer_case(contact_email="")  # no acknowledgement: one mail only
    Case.objects.filter(pk=case.pk).update(contact_email="li.lei@example.com")
    sink = smtp_server.start()
    sink.data_reply = "451 4.3.0 Mailbox busy, try again later"
    with django_capture_on_commit_callbacks(execute=True):
        reply = reply_to_case(case.case_id, "Hello", actor=Actor.staff(agent))
    mail = _reply_mail(reply)
    t1 = mail.last_attempt_at
    assert t1 is not None
    assert (mail.status, mail.next_attempt_at) == ("pending", t1 + timedelta(minutes=1))
    assert mail.last_error == "451 4.3.0 Mailbox busy, try again later"

    assert send_due(t1 + timedelta(minutes=1)) == OutboxResult(retrying=1)
    mail.refresh_from_db()
    assert (mail.attempts, mail.next_attempt_at) == (2, t1 + timedelta(minutes=3))
    assert send_due(t1 + timedelta(minutes=3)) == OutboxResult(failed=1)

    mail.refresh_from_db()
    assert (mail.status, mail.attempts, mail.next_attempt_at) == ("failed", 3, None)
    assert [entry["code"] for entry in mail.log] == [451, 451, 451]
    event = CaseEvent.objects.get(case=case, kind="delivery_failed")
    assert (event.data["attempts"], event.data["permanent"]) == (3, False)
    assert sink.received == []


@pytest.mark.django_db(transaction=True)
def test_two_workers_at_once_send_every_mail_exactly_once(
    smtp_server: Any, agent: Any, open_customer_case: Callable[..., Case]
) -> None:
    # Given five mails waiting while the server was down (an acknowledgement and four replies)
    case = open_customer_case(contact_email="li.lei@example.com")
    for n in range(4):
        reply_to_case(case.case_id, f"Reply {n}", actor=Actor.staff(agent))
    waiting = set(OutgoingMail.objects.values_list("message_id", flat=True))
    assert len(waiting) == 5
    assert set(OutgoingMail.objects.values_list("status", flat=True)) == {"pending"}

    # When the server is back, answering slowly, and two workers run at the same moment
    sink = smtp_server.start()
    sink.delay = 0.2
    due = timezone.now() + timedelta(minutes=5)
    results: list[OutboxResult] = []
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def worker() -> None:
        try:
            start.wait()
            results.append(send_due(due))
        except BaseException as exc:  # surfaced below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)

    # Then each mail went out once
    assert errors == []
    assert sorted(sink.message_ids()) == sorted(waiting)
    assert sum(r.sent for r in results) == 5
    assert all(r.retrying == r.failed == 0 for r in results)
    assert set(OutgoingMail.objects.values_list("status", "attempts")) == {(MailStatus.SENT, 2)}
