"""Real SMTP on loopback: our mail out to an "outside world" server, the customer's answer in
through the manyi receiver, onto the case."""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Callable, Iterator
from email.message import EmailMessage
from typing import Any

import pytest

from manyi.desk.cases.events import Actor
from manyi.desk.cases.models import Case, CaseEvent, Message
from manyi.desk.cases.notifications import IncomingFile, case_id_from_message_id
from manyi.desk.cases.services import reply_to_case
from manyi.desk.channels.inbound import InboundResult, Outcome
from manyi.desk.channels.smtp_receiver import ReceiverController, start_receiver

SUPPORT = "service@shop.example"


@pytest.fixture
def receiver(port: Callable[[], int]) -> Iterator[ReceiverController]:
    controller = start_receiver("127.0.0.1", port(), addresses=[SUPPORT])
    yield controller
    controller.stop()


@pytest.mark.django_db(transaction=True)
def test_agent_reply_goes_out_and_the_customers_answer_comes_back_onto_the_case(
    sink: Any,
    receiver: ReceiverController,
    agent: Any,
    open_customer_case: Callable[..., Case],
) -> None:
    # Given a case opened on the web form (its acknowledgement goes out on commit)
    case = open_customer_case(contact_email="li.lei@example.com", contact_name="李雷")
    # When an agent replies with a file
    reply = reply_to_case(
        case.case_id,
        "请把破损的照片发给我们。",
        actor=Actor.staff(agent),
        attachments=[IncomingFile("退货地址.pdf", "application/pdf", b"%PDF-1.4 address")],
    )

    # Then the outside world received the acknowledgement and the reply, threaded
    ack, sent = sink.messages()
    reply.refresh_from_db()
    assert [e.rcpt_tos for e in sink.received] == [["li.lei@example.com"]] * 2
    assert sent["Message-ID"] == reply.email_message_id
    assert case_id_from_message_id(sent["Message-ID"]) == case.case_id
    assert sent["Subject"] == f"[#{case.case_id}] 收到的杯子碎了"
    assert sent["From"].addresses[0].addr_spec == "service@shop.example"
    assert sent["Reply-To"].addresses[0].addr_spec == "service@shop.example"
    assert sent["To"].addresses[0].display_name == "李雷"
    assert ack["Auto-Submitted"] == "auto-replied"
    assert sent["Auto-Submitted"] is None
    body = sent.get_body(preferencelist=("plain",))
    assert body is not None
    assert "请把破损的照片发给我们。" in body.get_content()
    assert [(a.get_filename(), a.get_content()) for a in sent.iter_attachments()] == [
        ("退货地址.pdf", b"%PDF-1.4 address")
    ]

    # When the customer answers it through the manyi receiver, with a photo
    answer = EmailMessage()
    answer["From"] = "李雷 <li.lei@example.com>"
    answer["To"] = "service@shop.example"
    answer["Subject"] = f"回复：{sent['Subject']}"
    answer["Message-ID"] = "<answer-1@mail.example.com>"
    answer["In-Reply-To"] = sent["Message-ID"]
    answer["References"] = sent["Message-ID"]
    answer.set_content(f"照片在附件里。\n\n在 2026年11月23日 10:02，客服 <{SUPPORT}> 写道：\n> 旧")
    answer.add_attachment(b"\xff\xd8\xff\xe0 jpeg", maintype="image", subtype="jpeg",
                          filename="破损.jpg")  # fmt: skip
    with smtplib.SMTP("127.0.0.1", receiver.port, timeout=30) as client:
        refused = client.send_message(answer)

    # Then it is on the case: the message, its file and a customer_message event
    assert refused == {}
    message = Message.objects.get(email_message_id="<answer-1@mail.example.com>")
    assert (message.case_id, message.direction, message.channel) == (case.case_id, "in", "email")
    assert message.body == "照片在附件里。"
    assert [(a.filename, a.content_type, a.size) for a in message.attachments.all()] == [
        ("破损.jpg", "image/jpeg", len(b"\xff\xd8\xff\xe0 jpeg"))
    ]
    assert message.event is not None
    assert message.event.kind == "customer_message"
    assert CaseEvent.objects.filter(case=case, kind="customer_message").count() == 1


def test_mail_for_other_addresses_is_refused_with_550(receiver: ReceiverController) -> None:
    with (
        smtplib.SMTP("127.0.0.1", receiver.port, timeout=30) as client,
        pytest.raises(smtplib.SMTPRecipientsRefused) as refused,
    ):
        client.sendmail("a@example.com", ["someone@elsewhere.example"], b"Subject: x\r\n\r\nx")

    code, _text = refused.value.recipients["someone@elsewhere.example"]
    assert code == 550


def test_over_size_mail_is_refused_with_552_and_logged(
    port: Callable[[], int], caplog: pytest.LogCaptureFixture
) -> None:
    calls: list[bytes] = []
    controller = start_receiver(
        "127.0.0.1",
        port(),
        addresses=[SUPPORT],
        max_bytes=2000,
        process=lambda raw, **kw: calls.append(raw) or InboundResult(Outcome.OPENED),
    )
    try:
        with (
            caplog.at_level(logging.WARNING, logger="manyi.desk.channels.smtp_receiver"),
            smtplib.SMTP("127.0.0.1", controller.port, timeout=30) as client,
            pytest.raises(smtplib.SMTPSenderRefused) as refused,
        ):
            client.sendmail("a@example.com", [SUPPORT], b"Subject: x\r\n\r\n" + b"x" * 5000)
    finally:
        controller.stop()

    assert refused.value.smtp_code == 552
    assert calls == []
    assert "refused by size: more than 2000 bytes" in caplog.text


def test_a_storage_failure_answers_451_so_the_sender_retries(port: Callable[[], int]) -> None:
    def broken(raw: bytes, **kw: Any) -> InboundResult:
        raise RuntimeError("database is down")

    controller = start_receiver("127.0.0.1", port(), addresses=[SUPPORT], process=broken)
    try:
        with (
            smtplib.SMTP("127.0.0.1", controller.port, timeout=30) as client,
            pytest.raises(smtplib.SMTPDataError) as error,
        ):
            client.sendmail("a@example.com", [SUPPORT], b"Subject: x\r\n\r\nhello")
    finally:
        controller.stop()

    assert error.value.smtp_code == 451


def test_a_refused_message_gets_550(port: Callable[[], int]) -> None:
    controller = start_receiver(
        "127.0.0.1",
        port(),
        addresses=[SUPPORT],
        process=lambda raw, **kw: InboundResult(Outcome.REJECTED, detail="没有可用的发件人"),
    )
    try:
        with (
            smtplib.SMTP("127.0.0.1", controller.port, timeout=30) as client,
            pytest.raises(smtplib.SMTPDataError) as error,
        ):
            client.sendmail("a@example.com", [SUPPORT], b"Subject: x\r\n\r\nhello")
    finally:
        controller.stop()

    assert (error.value.smtp_code, error.value.smtp_error) == (550, b"5.7.1 Message not accepted")
