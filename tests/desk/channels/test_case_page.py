"""The customer's case page behind the signed link: what it shows, what it hides, who gets in,
and what the customer can post."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core import signing
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from manyi.desk.cases.events import Actor
from manyi.desk.cases.models import Attachment, Case, CaseEvent, Message
from manyi.desk.cases.notifications import IncomingFile
from manyi.desk.cases.services import add_note, reply_to_case, transition_case
from manyi.desk.channels.links import SALT, make_case_token

pytestmark = pytest.mark.django_db

OpenCase = Callable[..., Case]
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF" + b"\x00" * 16


def _url(case: Case, email: str | None = None) -> str:
    return f"/help/case/{make_case_token(case.case_id, email or case.contact_email)}/"


def _counts() -> tuple[int, int, int]:
    return Message.objects.count(), CaseEvent.objects.count(), Attachment.objects.count()


def _awaiting_return(open_customer_case: OpenCase, agent: User) -> Case:
    case = open_customer_case(kind="return_refund")
    staff = Actor.staff(agent)
    transition_case(case.case_id, "triage", actor=staff, fields={"diagnosis": "cracked"})
    transition_case(case.case_id, "approve", actor=staff)
    transition_case(case.case_id, "request_return", actor=staff)
    return Case.objects.get(pk=case.pk)


def test_the_page_shows_status_progress_and_the_public_timeline_only(
    en_client: Client, open_customer_case: OpenCase, agent: User
) -> None:
    case = open_customer_case(kind="refund_only")
    staff = Actor.staff(agent)
    transition_case(case.case_id, "triage", actor=staff, fields={"diagnosis": "broken glass"})
    add_note(case.case_id, "VIP customer, check order history first", actor=staff)
    reply_to_case(case.case_id, "We are sorry! A refund is on its way.", actor=staff)

    response = en_client.get(_url(case))

    html = response.content.decode()
    assert response.status_code == 200
    assert '<strong data-testid="case-status">We are looking into it</strong>' in html
    steps = re.findall(r'<li class="(done|current|todo)"', html)
    assert steps == ["done", "current", "todo", "todo", "todo"]
    assert 'aria-current="step"' in html
    assert "杯子在运输途中碎了。" in html  # the customer's own report
    assert "We are sorry! A refund is on its way." in html
    assert "<strong>Anna</strong>" in html  # the agent by first name only
    assert "ana.wang" not in html
    assert "VIP customer" not in html  # internal note
    assert "broken glass" not in html  # the diagnosis is the desk's
    assert '<meta name="robots" content="noindex, nofollow">' in html
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Robots-Tag"] == "noindex, nofollow"
    assert response["Cache-Control"] == "private, no-store"


def test_an_agent_without_a_first_name_is_customer_service(
    en_client: Client, open_customer_case: OpenCase, agent: User
) -> None:
    agent.first_name = ""
    agent.save(update_fields=["first_name"])
    case = open_customer_case()
    reply_to_case(case.case_id, "Hello", actor=Actor.staff(agent))

    html = en_client.get(_url(case)).content.decode()

    assert "<strong>Customer service</strong>" in html
    assert "ana.wang" not in html


def test_an_expired_link_gets_410_and_reveals_nothing(
    en_client: Client, open_customer_case: OpenCase, monkeypatch: pytest.MonkeyPatch
) -> None:
    case = open_customer_case()
    real_time = time.time
    monkeypatch.setattr(signing.time, "time", lambda: real_time() - 31 * 86400)
    old_token = make_case_token(case.case_id, case.contact_email)
    monkeypatch.setattr(signing.time, "time", real_time)

    response = en_client.get(f"/help/case/{old_token}/")

    html = response.content.decode()
    assert response.status_code == 410
    assert "This link has expired" in html
    assert case.subject not in html
    assert response["Referrer-Policy"] == "same-origin"


@pytest.mark.parametrize(
    "forge",
    [
        lambda token, case: token[:-2] + ("AA" if not token.endswith("AA") else "BB"),
        lambda token, case: "not-a-token",
        lambda token, case: signing.dumps({"c": case.case_id, "e": "x"}, salt="other-salt"),
        lambda token, case: signing.dumps({"c": case.case_id + 1000, "e": "x"}, salt=SALT),
        lambda token, case: signing.dumps(["c", case.case_id], salt=SALT),
    ],
    ids=["tampered", "garbage", "other-salt", "no-such-case", "wrong-shape"],
)
def test_forged_or_mangled_links_get_the_same_404(
    en_client: Client, open_customer_case: OpenCase, forge: Callable[[str, Case], str]
) -> None:
    case = open_customer_case()
    token = make_case_token(case.case_id, case.contact_email)

    response = en_client.get(f"/help/case/{forge(token, case)}/")

    assert response.status_code == 404
    assert "This link does not work" in response.content.decode()
    assert case.subject not in response.content.decode()


def test_a_link_stops_working_when_the_contact_address_changes(
    client: Client, open_customer_case: OpenCase
) -> None:
    case = open_customer_case(contact_email="old@example.com")
    old_link = _url(case)
    # No service changes the contact yet; the admin does it on the row.
    Case.objects.filter(pk=case.pk).update(contact_email="new@example.com")

    assert client.get(old_link).status_code == 404
    assert client.get(_url(case, "new@example.com")).status_code == 200


def test_a_link_of_another_case_does_not_open_this_one(
    client: Client, open_customer_case: OpenCase
) -> None:
    mine = open_customer_case(contact_email="me@example.com")
    other = open_customer_case(contact_email="other@example.com", subject="其他人的问题")

    # A token for the other case made out to my address (as if I had guessed its number).
    crossed = f"/help/case/{make_case_token(other.case_id, 'me@example.com')}/"

    assert "其他人的问题" not in client.get(_url(mine)).content.decode()
    assert client.get(crossed).status_code == 404


def test_the_customer_replies_with_a_file(
    en_client: Client, open_customer_case: OpenCase, agent: User
) -> None:
    case = open_customer_case()
    url = _url(case)

    response = en_client.post(
        url,
        {
            "action": "reply",
            "body": "包装的照片也发给您。",
            "attachments": SimpleUploadedFile("box.jpg", JPEG),
        },
    )

    assert (response.status_code, response["Location"]) == (302, url)
    message = case.messages.order_by("-id").first()
    assert message is not None
    assert (message.direction, message.channel, message.body) == (
        "in",
        "web",
        "包装的照片也发给您。",
    )
    assert [(a.filename, a.content_type) for a in message.attachments.all()] == [
        ("box.jpg", "image/jpeg")
    ]
    assert message.event is not None
    assert message.event.kind == "customer_message"
    page = en_client.get(url).content.decode()
    assert "Thank you, your message has been sent." in page
    assert "box.jpg" in page


def test_posting_needs_the_csrf_token_of_the_page(open_customer_case: OpenCase) -> None:
    case = open_customer_case()
    client = Client(enforce_csrf_checks=True)

    refused = client.post(_url(case), {"action": "reply", "body": "Hi"})
    page = client.get(_url(case))
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode())
    assert token is not None
    accepted = client.post(
        _url(case), {"action": "reply", "body": "Hi", "csrfmiddlewaretoken": token.group(1)}
    )

    assert refused.status_code == 403
    assert accepted.status_code == 302
    assert page["Referrer-Policy"] == "same-origin"
    assert case.messages.filter(body="Hi").count() == 1


def test_an_empty_reply_is_marked_and_nothing_is_written(
    en_client: Client, open_customer_case: OpenCase
) -> None:
    case = open_customer_case()
    before = _counts()

    response = en_client.post(_url(case), {"action": "reply", "body": "   "})

    html = response.content.decode()
    assert response.status_code == 200
    assert re.search(r'<textarea[^>]*name="body"[^>]*aria-invalid="true"', html)
    assert re.search(r"<textarea[^>]*autofocus", html)
    assert _counts() == before


def test_a_reply_on_a_closed_case_opens_a_follow_up_and_says_so(
    en_client: Client, open_customer_case: OpenCase, agent: User
) -> None:
    case = open_customer_case()
    staff = Actor.staff(agent)
    transition_case(case.case_id, "triage", actor=staff, fields={"diagnosis": "question"})
    transition_case(case.case_id, "resolve", actor=staff)
    transition_case(case.case_id, "close", actor=staff)

    response = en_client.post(
        _url(case), {"action": "reply", "body": "Another question"}, follow=True
    )

    follow_up = Case.objects.get(follow_up_of=case)
    assert f"we opened a new case #{follow_up.case_id} for your message" in (
        response.content.decode()
    )
    assert Case.objects.get(pk=case.pk).status == "closed"


def test_the_return_tracking_number_is_given_as_a_message(
    en_client: Client, open_customer_case: OpenCase, agent: User
) -> None:
    case = _awaiting_return(open_customer_case, agent)
    url = _url(case)
    assert "Send the tracking number" in en_client.get(url).content.decode()

    response = en_client.post(
        url, {"action": "tracking", "carrier": "SF Express", "tracking_number": "sf 1234 5678 90"}
    )

    assert response.status_code == 302
    message = case.messages.order_by("-id").first()
    assert message is not None
    assert message.body == "Return tracking number: SF1234567890 (SF Express)"
    assert message.channel == "web"
    after = Case.objects.get(pk=case.pk)
    assert (after.status, after.return_tracking) == ("awaiting_return", "")  # agents set fields


def test_a_bad_tracking_number_is_refused(
    en_client: Client, open_customer_case: OpenCase, agent: User
) -> None:
    case = _awaiting_return(open_customer_case, agent)
    before = _counts()

    response = en_client.post(_url(case), {"action": "tracking", "tracking_number": "!!"})

    assert "Enter the number as printed" in response.content.decode()
    assert _counts() == before


def test_no_tracking_number_outside_awaiting_return(
    en_client: Client, open_customer_case: OpenCase
) -> None:
    case = open_customer_case(kind="return_refund")
    before = _counts()

    page = en_client.get(_url(case)).content.decode()
    response = en_client.post(_url(case), {"action": "tracking", "tracking_number": "SF123456"})

    assert "Send the tracking number" not in page
    assert response.status_code == 302
    assert _counts() == before


def test_files_download_only_from_public_messages_of_the_case(
    client: Client, open_customer_case: OpenCase, agent: User
) -> None:
    case = open_customer_case()
    other = open_customer_case(contact_email="other@example.com")
    staff = Actor.staff(agent)
    public = reply_to_case(
        case.case_id, "Label attached", actor=staff,
        attachments=[IncomingFile("label.pdf", "application/pdf", b"%PDF-1.4 label")],
    )  # fmt: skip
    note = add_note(case.case_id, "internal", actor=staff)
    Attachment.objects.create(
        message=note, file=public.attachments.get().file.name, filename="secret.pdf",
        content_type="application/pdf", size=1, sha256="0" * 64,
    )  # fmt: skip
    theirs = reply_to_case(
        other.case_id, "x", actor=staff,
        attachments=[IncomingFile("theirs.pdf", "application/pdf", b"%PDF-1.4 theirs")],
    )  # fmt: skip
    base = _url(case)

    ok = client.get(f"{base}files/{public.attachments.get().pk}/")

    assert ok.status_code == 200
    assert b"".join(ok.streaming_content) == b"%PDF-1.4 label"  # type: ignore[attr-defined]
    assert ok["Content-Disposition"].startswith("attachment;")
    assert ok["Referrer-Policy"] == "same-origin"
    assert client.get(f"{base}files/{note.attachments.get().pk}/").status_code == 404
    assert client.get(f"{base}files/{theirs.attachments.get().pk}/").status_code == 404


def test_language_links_switch_the_page_and_are_remembered(
    client: Client, open_customer_case: OpenCase
) -> None:
    case = open_customer_case()

    english = client.get(_url(case) + "?lang=en")
    again = client.get(_url(case))

    assert "Write to us" in english.content.decode()
    assert english.cookies["django_language"].value == "en"
    assert '<html lang="en">' in again.content.decode()


def test_replies_are_rate_limited_per_case(
    en_client: Client, open_customer_case: OpenCase, settings: Any
) -> None:
    settings.MANYI_HELP_REPLY_RATE = (1, 3600)
    case = open_customer_case()
    en_client.post(_url(case), {"action": "reply", "body": "first"})

    response = en_client.post(_url(case), {"action": "reply", "body": "second"}, follow=True)

    assert "Too many messages in a short time" in response.content.decode()
    assert list(case.messages.filter(direction="in").values_list("body", flat=True)) == [
        "杯子在运输途中碎了。",
        "first",
    ]
