"""The public "report a problem" form: a case with its files, field errors, spam and floods."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core import mail as outbox
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from manyi.desk.cases.models import Attachment, Case, CaseEvent, Message

pytestmark = pytest.mark.django_db

URL = "/help/new/"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 32


def _counts() -> tuple[int, int, int, int]:
    return (
        Case.objects.count(),
        Message.objects.count(),
        CaseEvent.objects.count(),
        Attachment.objects.count(),
    )


def _form(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "kind": "return_refund",
        "reason": "damaged",
        "order_number": "",
        "name": "李雷",
        "email": "li.lei@example.com",
        "phone": "138 0013 8000",
        "subject": "收到的杯子碎了",
        "description": "打开包装时杯子已经碎了，附上照片。",
        "website": "",
    }
    data.update(overrides)
    return data


def test_the_form_is_labelled_and_protected(client: Client) -> None:
    response = client.get(URL)

    html = response.content.decode()
    assert response.status_code == 200
    assert 'name="csrfmiddlewaretoken"' in html
    assert '<label for="id_email">' in html
    assert 'type="email"' in html
    assert 'multiple accept=".gif,.heic,.jpeg,.jpg,.mov,.mp4,.pdf,.png,.txt,.webp"' in html
    assert '<meta name="viewport"' in html


def test_a_valid_report_opens_a_web_case_with_files_and_mails_the_link(
    client: Client, django_capture_on_commit_callbacks: Any
) -> None:
    photos = [
        SimpleUploadedFile("破损1.jpg", JPEG, content_type="image/jpeg"),
        SimpleUploadedFile("破损2.jpg", JPEG, content_type="image/jpeg"),
    ]

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(URL, {**_form(), "attachments": photos}, follow=True)

    case = Case.objects.get()
    assert (case.kind, case.reason, case.channel, case.status) == (
        "return_refund",
        "damaged",
        "web",
        "new",
    )
    assert (case.contact_name, case.contact_email, case.contact_phone) == (
        "李雷",
        "li.lei@example.com",
        "138 0013 8000",
    )
    assert case.language == "zh-hans"  # the page's language
    message = case.messages.get()
    assert message.body == "打开包装时杯子已经碎了，附上照片。"
    assert [(a.filename, a.content_type, a.size) for a in message.attachments.all()] == [
        ("破损1.jpg", "image/jpeg", len(JPEG)),
        ("破损2.jpg", "image/jpeg", len(JPEG)),
    ]
    # The page shows the number; the link goes by e-mail only.
    html = response.content.decode()
    assert response.redirect_chain == [("/help/new/sent/", 302)]
    assert f'<strong data-testid="case-number">#{case.case_id}</strong>' in html
    assert "/help/case/" not in html
    (ack,) = outbox.outbox
    assert ack.to == ["李雷 <li.lei@example.com>"]
    assert re.search(r"https://help\.shop\.example/help/case/[^/\s]+/", ack.body)


def test_the_case_language_follows_the_page(client: Client) -> None:
    client.get(URL + "?lang=en")

    client.post(URL, _form())

    assert Case.objects.get().language == "en"


def test_invalid_fields_are_marked_and_nothing_is_written(en_client: Client) -> None:
    response = en_client.post(
        URL,
        _form(
            email="not-an-address",
            subject="",
            phone="call me",
            attachments=SimpleUploadedFile("setup.exe", b"MZ\x90\x00", content_type="image/jpeg"),
        ),
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert _counts() == (0, 0, 0, 0)
    assert outbox.outbox == []
    assert set(response.context["form"].errors) == {"email", "subject", "phone", "attachments"}
    # Each field in error: aria-invalid, described by its error, and the first one focused.
    assert re.search(r'<input[^>]*name="subject"[^>]*aria-invalid="true"', html)
    assert re.search(r'aria-describedby="id_email_helptext id_email_error"', html)
    assert '<ul class="errorlist" id="id_email_error">' in html
    assert re.search(r'<input[^>]*name="subject"[^>]*autofocus', html)
    assert not re.search(r'<input[^>]*name="email"[^>]*autofocus', html)
    assert "“setup.exe” is not a photo, video, PDF or text file." in html
    assert 'role="alert"' in html
    # What was typed stays.
    assert 'value="李雷"' in html


def test_a_file_whose_content_is_not_its_kind_is_refused(en_client: Client) -> None:
    fake = SimpleUploadedFile("photo.jpg", b"MZ\x90\x00 not a jpeg", content_type="image/jpeg")

    response = en_client.post(URL, {**_form(), "attachments": fake})

    assert "“photo.jpg” does not look like a JPG file." in response.content.decode()
    assert _counts() == (0, 0, 0, 0)


def test_too_many_or_too_large_files_are_refused(en_client: Client, settings: Any) -> None:
    settings.MANYI_HELP_MAX_FILES = 1
    settings.MANYI_HELP_MAX_FILE_BYTES = 20

    two = [SimpleUploadedFile(f"{n}.jpg", JPEG[:10]) for n in range(2)]
    big = SimpleUploadedFile("big.jpg", JPEG)

    assert (
        "Attach at most 1 file."
        in en_client.post(URL, {**_form(), "attachments": two}).content.decode()
    )
    assert (
        "“big.jpg” is larger than 20"
        in en_client.post(URL, {**_form(), "attachments": big}).content.decode()
    )
    assert _counts() == (0, 0, 0, 0)  # fmt: skip


def test_service_refusals_appear_next_to_their_field(en_client: Client) -> None:
    response = en_client.post(URL, _form(order_number="no-such-order"))

    html = response.content.decode()
    assert response.context["form"].errors == {"order_number": ["No order no-such-order."]}
    assert re.search(r'<input[^>]*name="order_number"[^>]*aria-invalid="true"', html)
    assert _counts() == (0, 0, 0, 0)


def test_the_honeypot_swallows_bots_without_telling_them(en_client: Client) -> None:
    response = en_client.post(URL, _form(website="http://spam.example"), follow=True)

    assert response.status_code == 200
    assert "We will get back to you by e-mail." in response.content.decode()
    assert _counts() == (0, 0, 0, 0)
    assert outbox.outbox == []


def test_too_many_posts_from_one_address_are_refused_with_429(
    en_client: Client, settings: Any
) -> None:
    settings.MANYI_HELP_FORM_RATE = (2, 3600)
    for n in range(2):
        assert en_client.post(URL, _form(subject=f"report {n}")).status_code == 302

    response = en_client.post(URL, _form(subject="one too many"))
    other = Client(REMOTE_ADDR="203.0.113.9").post(URL, _form(subject="elsewhere"))

    assert response.status_code == 429
    assert 'value="one too many"' in response.content.decode()  # nothing typed is lost
    assert set(Case.objects.values_list("subject", flat=True)) == {
        "report 0",
        "report 1",
        "elsewhere",
    }
    assert other.status_code == 302


def test_a_trusted_proxy_header_names_the_client(client: Client, settings: Any) -> None:
    settings.MANYI_HELP_FORM_RATE = (1, 3600)
    settings.MANYI_CLIENT_IP_HEADER = "HTTP_X_REAL_IP"

    first = client.post(URL, _form(), HTTP_X_REAL_IP="198.51.100.1")
    second = client.post(URL, _form(), HTTP_X_REAL_IP="198.51.100.2")
    third = client.post(URL, _form(), HTTP_X_REAL_IP="198.51.100.1")

    assert (first.status_code, second.status_code, third.status_code) == (302, 302, 429)


def test_the_post_needs_the_csrf_token() -> None:
    client = Client(enforce_csrf_checks=True)

    response = client.post(URL, _form())

    assert response.status_code == 403
    assert _counts() == (0, 0, 0, 0)


def test_the_pages_are_in_chinese_by_default(client: Client) -> None:
    html = client.get(URL).content.decode()

    assert '<html lang="zh-hans">' in html
    assert "提交售后申请" in html
    assert "您的电子邮箱" in html


def test_every_string_of_the_channels_catalogue_is_translated() -> None:
    from pathlib import Path

    import manyi.desk.channels

    po = Path(manyi.desk.channels.__file__).parent / "locale/zh_Hans/LC_MESSAGES/django.po"
    entries = po.read_text(encoding="utf-8").split("\n\n")[1:]  # after the header

    # An empty translation is an entry whose last line is an empty msgstr.
    untranslated = [
        e for e in entries if e.strip().splitlines()[-1] in {'msgstr ""', 'msgstr[0] ""'}
    ]

    assert len(entries) > 80
    assert untranslated == []
    assert "#, fuzzy" not in po.read_text(encoding="utf-8")
