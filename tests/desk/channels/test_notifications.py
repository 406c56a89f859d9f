"""E-mail out: headers that keep a case in one thread, the language, the link, attachments."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.core import mail as outbox

from manyi.desk.cases.events import Actor
from manyi.desk.cases.models import Case
from manyi.desk.cases.notifications import (
    IncomingFile,
    case_id_from_message_id,
    make_message_id,
)
from manyi.desk.cases.services import reply_to_case, transition_case
from manyi.desk.channels.inbound import receive_message
from manyi.desk.channels.links import read_case_token

pytestmark = pytest.mark.django_db


def test_signed_message_ids_name_their_case_and_resist_tampering() -> None:
    ident = make_message_id(1234)

    assert ident.endswith("@shop.example>")
    assert case_id_from_message_id(ident) == 1234
    assert case_id_from_message_id(ident.replace(".c1234.", ".c1235.")) is None
    assert case_id_from_message_id("<CAHk2Yb5@mail.gmail.com>") is None


def test_agent_reply_is_threaded_addressed_and_signed_by_first_name_only(
    mail: Callable[..., bytes], agent: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        opened = receive_message(
            mail(
                sender="Emma Clarke <emma@example.com>",
                subject="Lamp arrived broken",
                message_id="<root@example.com>",
            )
        )
    receive_message(mail(sender="emma@example.com", in_reply_to="<root@example.com>",
                         message_id="<second@example.com>"))  # fmt: skip
    outbox.outbox.clear()
    case_id = opened.case_id
    assert case_id is not None

    with django_capture_on_commit_callbacks(execute=True):
        reply = reply_to_case(
            case_id,
            "We are sending a new lamp today.",
            actor=Actor.staff(agent),
            attachments=[IncomingFile("label.pdf", "application/pdf", b"%PDF-1.4 label")],
        )

    (sent,) = outbox.outbox
    headers = sent.extra_headers
    assert sent.subject == f"[#{case_id}] Lamp arrived broken"
    assert sent.from_email == "Manyi Shop Service <service@shop.example>"
    assert sent.to == ["Emma Clarke <emma@example.com>"]
    assert sent.reply_to == ["Manyi Shop Service <service@shop.example>"]
    assert case_id_from_message_id(headers["Message-ID"]) == case_id
    assert headers["In-Reply-To"] == "<second@example.com>"
    assert headers["References"] == "<root@example.com> <second@example.com>"
    assert "Auto-Submitted" not in headers  # a person wrote this one
    assert sent.body.startswith("We are sending a new lamp today.\n")
    assert "Anna · Your customer service team" in sent.body
    assert "ana.wang" not in sent.body
    assert sent.attachments == [("label.pdf", b"%PDF-1.4 label", "application/pdf")]
    link = next(line for line in sent.body.splitlines() if "/help/case/" in line)
    token = link.rsplit("/help/case/", 1)[1].strip("/")
    assert read_case_token(token).case_id == case_id
    reply.refresh_from_db()
    assert reply.email_message_id == headers["Message-ID"]


def test_references_keep_the_first_id_and_the_nine_newest(
    mail: Callable[..., bytes], agent: Any, django_capture_on_commit_callbacks: Any
) -> None:
    ids = [f"<m{n:02d}@example.com>" for n in range(12)]
    case_id = receive_message(mail(message_id=ids[0])).case_id
    assert case_id is not None
    for n in range(1, 12):
        receive_message(mail(message_id=ids[n], in_reply_to=ids[n - 1]))

    with django_capture_on_commit_callbacks(execute=True):
        reply_to_case(case_id, "Thanks for your patience.", actor=Actor.staff(agent))

    references = outbox.outbox[-1].extra_headers["References"].split()
    assert references == [ids[0], *ids[3:]]


def test_status_mail_is_in_the_customers_language(
    agent: Any,
    open_customer_case: Callable[..., Case],
    django_capture_on_commit_callbacks: Any,
) -> None:
    zh = open_customer_case(language="zh-hans", contact_email="li.lei@example.com")
    en = open_customer_case(language="en", contact_email="emma@example.com", contact_name="Emma")
    outbox.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        for case in (zh, en):
            transition_case(case.case_id, "triage", actor=Actor.staff(agent),
                            fields={"diagnosis": "a question"})  # fmt: skip
            transition_case(case.case_id, "resolve", actor=Actor.staff(agent))

    by_case = {m.extra_headers["X-Manyi-Case"]: m for m in outbox.outbox}
    # The template's sentence (cases catalogue) with the customer-facing status (channels').
    assert f"您的工单 #{zh.case_id} 有新进展：已解决。" in by_case[str(zh.case_id)].body
    assert "Hello Emma," in by_case[str(en.case_id)].body
    assert "there is news on your case" in by_case[str(en.case_id)].body
    assert by_case[str(en.case_id)].extra_headers["Auto-Submitted"] == "auto-generated"


def test_each_status_mail_names_the_status_its_transition_entered(
    agent: Any, open_customer_case: Callable[..., Case], django_capture_on_commit_callbacks: Any
) -> None:
    case = open_customer_case(kind="refund_only", language="en", contact_name="Emma")
    staff = Actor.staff(agent)
    outbox.outbox.clear()

    # Both mails are sent after the later transition committed.
    with django_capture_on_commit_callbacks(execute=True):
        transition_case(case.case_id, "triage", actor=staff, fields={"diagnosis": "cracked"})
        transition_case(case.case_id, "approve", actor=staff)
        transition_case(case.case_id, "refund", actor=staff, fields={"refund_amount": "12.50"})

    approved, refunded = (m.body for m in outbox.outbox)
    assert f"there is news on your case #{case.case_id}: Approved." in approved
    assert "Good news: we have accepted your request." in approved
    assert f"there is news on your case #{case.case_id}: Refunded." in refunded
    assert "We have refunded 12.50 CNY." in refunded
