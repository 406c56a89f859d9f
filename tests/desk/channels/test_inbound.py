"""E-mail in: threading by header, by our signed ids and by subject number (only for the
contact), new cases, machines, duplicates and size limits."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import pytest
from django.core import mail as outbox
from django.utils import timezone

from manyi.desk.cases.events import Actor
from manyi.desk.cases.models import Attachment, Case, CaseEvent, Message
from manyi.desk.cases.services import reply_to_case, transition_case
from manyi.desk.channels.inbound import Outcome, receive_message

pytestmark = pytest.mark.django_db

MailFactory = Callable[..., bytes]


def _counts() -> tuple[int, int, int, int]:
    return (
        Case.objects.count(),
        Message.objects.count(),
        CaseEvent.objects.count(),
        Attachment.objects.count(),
    )


def test_new_mail_opens_a_question_case_with_the_sender_as_contact(
    mail: MailFactory, django_capture_on_commit_callbacks: Any
) -> None:
    raw = mail(
        sender="Emma Clarke <Emma.Clarke@example.com>",
        subject="Fwd: Lamp arrived broken",
        body="The lamp does not switch on.",
        message_id="<first@example.com>",
        attachments=[("receipt.pdf", "application/pdf", b"%PDF-1.4 r")],
    )

    with django_capture_on_commit_callbacks(execute=True):
        result = receive_message(raw)

    assert result.outcome == Outcome.OPENED
    case = Case.objects.get(pk=result.case_id)
    assert (case.kind, case.channel, case.status) == ("question", "email", "new")
    assert (case.subject, case.language) == ("Lamp arrived broken", "en")
    assert (case.contact_name, case.contact_email) == ("Emma Clarke", "emma.clarke@example.com")
    message = case.messages.get()
    assert (message.direction, message.body) == ("in", "The lamp does not switch on.")
    assert message.email_message_id == "<first@example.com>"
    assert [(a.filename, a.content_type, a.size) for a in message.attachments.all()] == [
        ("receipt.pdf", "application/pdf", 10)
    ]
    assert list(case.events.values_list("kind", "channel")) == [("opened", "email")]
    # The acknowledgement answers the customer's mail, in the same thread, as an auto-reply.
    (ack,) = outbox.outbox
    assert ack.to == ["Emma Clarke <emma.clarke@example.com>"]
    assert ack.subject == f"[#{case.case_id}] Lamp arrived broken"
    assert ack.extra_headers["In-Reply-To"] == "<first@example.com>"
    assert ack.extra_headers["Auto-Submitted"] == "auto-replied"
    assert "https://help.shop.example/help/case/" in ack.body


def test_reply_threads_by_in_reply_to_of_the_agents_mail(
    mail: MailFactory,
    agent: Any,
    open_customer_case: Callable[..., Case],
    django_capture_on_commit_callbacks: Any,
) -> None:
    case = open_customer_case()
    with django_capture_on_commit_callbacks(execute=True):
        reply = reply_to_case(case.case_id, "请提供照片。", actor=Actor.staff(agent))
    reply.refresh_from_db()
    assert reply.email_message_id is not None

    result = receive_message(
        mail(
            sender="李雷 <li.lei@example.com>",
            subject="Re: something else entirely",
            body="照片见附件。",
            in_reply_to=reply.email_message_id,
            attachments=[("破损.jpg", "image/jpeg", b"\xff\xd8\xff\xe0 jpeg")],
        )
    )

    assert (result.outcome, result.case_id, result.detail) == ("recorded", case.case_id, "header")
    message = Message.objects.get(pk=result.message_id)
    assert (message.direction, message.channel, message.body) == ("in", "email", "照片见附件。")
    assert [a.filename for a in message.attachments.all()] == ["破损.jpg"]
    assert message.event is not None
    assert message.event.kind == "customer_message"


def test_reply_threads_by_references_to_the_customers_own_earlier_mail(
    mail: MailFactory,
) -> None:
    first = receive_message(mail(subject="Where is my parcel?", message_id="<m1@example.com>"))

    second = receive_message(
        mail(subject="again", body="Any news?", references=["<m1@example.com>"])
    )

    assert second.outcome == Outcome.RECORDED
    assert second.case_id == first.case_id
    assert Case.objects.count() == 1


def test_reply_to_the_acknowledgement_threads_by_our_signed_message_id(
    mail: MailFactory,
    open_customer_case: Callable[..., Case],
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        case = open_customer_case()
    (ack,) = outbox.outbox

    result = receive_message(
        mail(body="补充：是蓝色的杯子。", in_reply_to=ack.extra_headers["Message-ID"])
    )

    assert (result.outcome, result.case_id, result.detail) == ("recorded", case.case_id, "our-id")


def test_a_forged_id_in_our_format_does_not_thread(
    mail: MailFactory, open_customer_case: Callable[..., Case]
) -> None:
    case = open_customer_case()
    forged = f"<0123456789abcdef.c{case.case_id}.0123456789abcdef@shop.example>"

    result = receive_message(mail(sender="mallory@example.net", in_reply_to=forged))

    assert result.outcome == Outcome.OPENED
    assert result.case_id != case.case_id
    assert case.messages.count() == 1


def test_subject_number_threads_when_the_sender_is_the_contact(
    mail: MailFactory, open_customer_case: Callable[..., Case]
) -> None:
    case = open_customer_case()

    result = receive_message(
        mail(sender="LI.LEI@EXAMPLE.COM", subject=f"回复：[#{case.case_id}] 收到的杯子碎了")
    )

    assert (result.outcome, result.case_id, result.detail) == ("recorded", case.case_id, "subject")
    assert case.messages.count() == 2


def test_subject_number_from_another_sender_opens_a_new_case(
    mail: MailFactory, open_customer_case: Callable[..., Case], caplog: pytest.LogCaptureFixture
) -> None:
    case = open_customer_case()
    version = Case.objects.get(pk=case.pk).version

    with caplog.at_level(logging.WARNING, logger="manyi.desk.channels.inbound"):
        result = receive_message(
            mail(
                sender="Mallory <mallory@example.net>",
                subject=f"Re: [#{case.case_id}] 收到的杯子碎了",
                body="Please refund to my account instead.",
            )
        )

    assert result.outcome == Outcome.OPENED
    assert result.case_id != case.case_id
    new = Case.objects.get(pk=result.case_id)
    assert (new.contact_email, new.subject) == ("mallory@example.net", "收到的杯子碎了")
    unchanged = Case.objects.get(pk=case.pk)
    assert unchanged.version == version
    assert unchanged.messages.count() == 1
    assert f"names case #{case.case_id}, whose contact is someone else" in caplog.text


def test_a_colleague_threaded_by_header_is_named_in_the_message(
    mail: MailFactory,
) -> None:
    first = receive_message(mail(message_id="<m2@example.com>"))

    result = receive_message(
        mail(
            sender="Han Meimei <han@example.com>",
            body="I am Li Lei's wife; he is travelling.",
            in_reply_to="<m2@example.com>",
        )
    )

    assert result.case_id == first.case_id
    body = Message.objects.get(pk=result.message_id).body
    assert body == "[Han Meimei <han@example.com>]\n\nI am Li Lei's wife; he is travelling."


@pytest.mark.parametrize(
    ("name", "mail_from"),
    [("autoreply_163_zh.eml", None), ("bounce_postfix.eml", "")],
)
def test_auto_replies_and_bounces_are_logged_not_recorded(
    eml: Callable[[str], bytes],
    open_customer_case: Callable[..., Case],
    caplog: pytest.LogCaptureFixture,
    name: str,
    mail_from: str | None,
) -> None:
    open_customer_case()
    before = _counts()

    with caplog.at_level(logging.INFO, logger="manyi.desk.channels.inbound"):
        result = receive_message(eml(name), mail_from=mail_from)

    assert result.outcome == Outcome.IGNORED
    assert _counts() == before
    assert "ignored: Auto-Submitted: auto-replied" in caplog.text


def test_null_envelope_sender_is_a_bounce(mail: MailFactory) -> None:
    result = receive_message(mail(), mail_from="")

    assert (result.outcome, result.detail) == ("ignored", "null envelope sender (a bounce)")
    assert _counts() == (0, 0, 0, 0)


def test_mail_from_our_own_address_is_ignored(mail: MailFactory) -> None:
    result = receive_message(mail(sender="Shop <service@shop.example>"))

    assert result.outcome == Outcome.IGNORED
    assert _counts() == (0, 0, 0, 0)


def test_duplicate_delivery_is_recorded_once(
    mail: MailFactory, open_customer_case: Callable[..., Case]
) -> None:
    case = open_customer_case()
    raw = mail(subject=f"Re: [#{case.case_id}] x", message_id="<dup@example.com>")
    first = receive_message(raw)
    after_first = _counts()

    again = receive_message(raw)

    assert first.outcome == Outcome.RECORDED
    assert (again.outcome, again.case_id, again.message_id) == (
        "duplicate",
        case.case_id,
        first.message_id,
    )
    assert _counts() == after_first


def test_duplicate_of_a_mail_that_opened_a_case_opens_nothing(mail: MailFactory) -> None:
    raw = b"From: a@example.com\r\nSubject: no id\r\n\r\nhello\r\n"  # no Message-ID at all
    first = receive_message(raw)

    again = receive_message(raw)

    assert (first.outcome, again.outcome) == ("opened", "duplicate")
    assert _counts() == (1, 1, 1, 0)


def test_oversize_mail_is_refused_with_a_log_line(
    mail: MailFactory, settings: Any, caplog: pytest.LogCaptureFixture
) -> None:
    settings.MANYI_INBOUND_MAX_BYTES = 2000
    raw = mail(body="x" * 3000)

    with caplog.at_level(logging.WARNING, logger="manyi.desk.channels.inbound"):
        result = receive_message(raw)

    assert result.outcome == Outcome.REJECTED
    assert _counts() == (0, 0, 0, 0)
    assert f"{len(raw)} bytes is more than the 2000-byte limit" in caplog.text


def test_mail_without_a_usable_sender_is_refused(mail: MailFactory) -> None:
    result = receive_message(mail(sender="undisclosed-recipients:;"))

    assert (result.outcome, result.detail) == ("rejected", "no usable From address")
    assert _counts() == (0, 0, 0, 0)


def test_attachments_without_text_are_kept(mail: MailFactory) -> None:
    result = receive_message(
        mail(body="", attachments=[("IMG_0001.jpg", "image/jpeg", b"\xff\xd8\xff\xe0")])
    )

    message = Message.objects.get(pk=result.message_id)
    assert message.body == "[IMG_0001.jpg]"
    assert message.attachments.count() == 1


def test_reply_to_a_closed_case_opens_a_linked_follow_up(
    mail: MailFactory, agent: Any, open_customer_case: Callable[..., Case]
) -> None:
    case = open_customer_case()
    staff = Actor.staff(agent)
    transition_case(case.case_id, "triage", actor=staff, fields={"diagnosis": "broken in transit"})
    transition_case(case.case_id, "resolve", actor=staff)
    transition_case(case.case_id, "close", actor=staff)

    result = receive_message(
        mail(subject=f"Re: [#{case.case_id}] 收到的杯子碎了", body="第二个杯子也碎了")
    )

    assert result.outcome == Outcome.RECORDED
    follow_up = Case.objects.get(pk=result.case_id)
    assert follow_up.follow_up_of_id == case.case_id
    assert follow_up.channel == "email"
    assert Case.objects.get(pk=case.pk).status == "closed"


def test_reply_to_a_resolved_case_reopens_it(
    mail: MailFactory, agent: Any, open_customer_case: Callable[..., Case]
) -> None:
    case = open_customer_case()
    staff = Actor.staff(agent)
    transition_case(case.case_id, "triage", actor=staff, fields={"diagnosis": "question"})
    transition_case(case.case_id, "resolve", actor=staff)

    result = receive_message(mail(subject=f"Re: [#{case.case_id}] 收到的杯子碎了"))

    assert result.case_id == case.case_id
    assert Case.objects.get(pk=case.pk).status == "triaged"


def test_receive_time_is_when_it_arrived_not_the_date_header(mail: MailFactory) -> None:
    before = timezone.now()

    result = receive_message(mail())  # Date: 2026-11-23 10:00 +08:00 in the message

    assert Case.objects.get(pk=result.case_id).opened_at >= before
