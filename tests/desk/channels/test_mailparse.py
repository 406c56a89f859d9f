"""Reading received mail: senders, RFC 2047 subjects and names, bodies, quoted history, files."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from manyi.desk.channels.mailparse import (
    html_to_text,
    normalize_message_id,
    parse_message,
    strip_quoted,
)


def test_qq_mail_reply_in_gb18030_with_an_attachment(eml: Callable[[str], bytes]) -> None:
    mail = parse_message(eml("qq_reply_zh.eml"))

    assert mail.sender == "2839471@qq.com"
    assert mail.sender_name == "李雷"
    assert mail.subject == "回复：[#17] 收到的杯子碎了"
    assert mail.message_id == "<tencent_6B1D0E8F2A6C4E0B9D3F@qq.com>"
    assert mail.references == ("<3a1f9c2be4d07a66.c17.5d2e0c41a9b3f718@shop.example>",)
    # The "------------------ 原始邮件 ------------------" block and what follows are gone.
    assert mail.body == "您好，杯子的照片在附件里，麻烦尽快处理，谢谢！"
    assert [(a.filename, a.content_type) for a in mail.attachments] == [
        ("杯子破损.jpg", "image/jpeg")  # QQ says octet-stream; the name says JPEG
    ]
    assert mail.attachments[0].content.startswith(b"\xff\xd8\xff")
    assert mail.auto_reason is None
    assert mail.language == "zh-hans"


def test_gmail_reply_with_wrapped_attribution_and_rfc2231_file_name(
    eml: Callable[[str], bytes],
) -> None:
    mail = parse_message(eml("gmail_reply_en.eml"))

    assert mail.sender == "emma.clarke@gmail.com"
    assert mail.sender_name == "Emma Clarke"
    assert mail.body == (
        "Hi,\n\nthe box arrived crushed and the lamp does not switch on. I attach the\n"
        "delivery receipt.\n\nThanks,\nEmma"
    )
    # In-Reply-To first, then References from the newest.
    assert mail.references == (
        "<8c0e5d7b1a2f3e4d.c23.0a1b2c3d4e5f6789@shop.example>",
        "<CAHk2Yb5xQk1=first@mail.gmail.com>",
    )
    assert [(a.filename, a.content_type) for a in mail.attachments] == [
        ("快递签收单.pdf", "application/pdf")
    ]
    assert mail.attachments[0].content.startswith(b"%PDF-1.4")
    assert mail.language == "en"


def test_outlook_html_only_mail_is_turned_into_text_without_the_quoted_header_block(
    eml: Callable[[str], bytes],
) -> None:
    mail = parse_message(eml("outlook_html_only_zh.eml"))

    assert mail.sender == "wangfang@corp.example.cn"
    assert mail.sender_name == "王芳"
    assert mail.subject == "答复: [#31] 吹风机"
    assert mail.body == (
        "你好：\n\n订单号 e481f51cbdc54678b7cc49136f2d6af7 的吹风机用了三天就坏了，想申请维修。"
        "\n\n王芳\n电话：138 0013 8000"
    )
    assert mail.attachments == ()
    assert mail.language == "zh-hans"


def test_apple_mail_keeps_the_inline_image_and_drops_the_zh_attribution(
    eml: Callable[[str], bytes],
) -> None:
    mail = parse_message(eml("apple_inline_image_zh.eml"))

    assert mail.sender_name == "韩梅"
    assert mail.subject == "Re: [#42] 抱枕"
    assert mail.body == "好的，新的照片见下图。\n\n[image: IMG_0423.png]"
    assert [(a.filename, a.content_type) for a in mail.attachments] == [
        ("attachment-1.png", "image/png")
    ]
    assert mail.attachments[0].content.startswith(b"\x89PNG")


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("autoreply_163_zh.eml", "Auto-Submitted: auto-replied"),
        ("bounce_postfix.eml", "Auto-Submitted: auto-replied"),
    ],
)
def test_machine_mail_is_recognised(eml: Callable[[str], bytes], name: str, reason: str) -> None:
    assert parse_message(eml(name)).auto_reason == reason


@pytest.mark.parametrize(
    ("headers", "sender", "subject", "reason"),
    [
        ({"X-Autoreply": "yes"}, "a@example.com", "Hi", "X-Autoreply header"),
        ({"Precedence": "bulk"}, "a@example.com", "Hi", "Precedence: bulk"),
        ({"Precedence": "auto_reply"}, "a@example.com", "Hi", "Precedence: auto_reply"),
        ({}, "MAILER-DAEMON@mx.example.com", "Hi", "sent by mailer-daemon@mx.example.com"),
        ({}, "a@example.com", "自动回复：我在休假", "subject '自动回复：我在休假'"),
        ({}, "a@example.com", "Automatic reply: Out of office", "subject 'Automatic reply: Out "
         "of office'"),
        ({"Auto-Submitted": "no"}, "a@example.com", "Hi", None),
        ({}, "a@example.com", "Re: [#3] parcel", None),
    ],
)  # fmt: skip
def test_auto_reply_headers_senders_and_subjects(
    mail: Callable[..., bytes],
    headers: dict[str, str],
    sender: str,
    subject: str,
    reason: str | None,
) -> None:
    raw = mail(sender=sender, subject=subject, headers=headers)
    assert parse_message(raw).auto_reason == reason


def test_rfc2047_subject_and_names_in_gb2312_and_utf8(mail: Callable[..., bytes]) -> None:
    raw = (
        b"From: =?GB2312?B?wO7A1w==?= <li.lei@example.com>\r\n"
        b"To: service@shop.example\r\n"
        b"Subject: =?UTF-8?B?6YCA6LSn55Sz6K+3?= =?UTF-8?Q?_=E8=AE=A2=E5=8D=95?=\r\n"
        b"Message-ID: <x1@example.com>\r\n"
        b"Content-Type: text/plain; charset=gb2312\r\n\r\n" + "请退款".encode("gb2312") + b"\r\n"
    )

    parsed = parse_message(raw)

    assert parsed.sender_name == "李雷"
    assert parsed.subject == "退货申请 订单"
    assert parsed.body == "请退款"


def test_gb2312_declared_body_with_gbk_only_characters_is_decoded() -> None:
    # "镕" is in GBK but not in GB2312: clients still label such mail GB2312.
    raw = (
        b"From: a@example.com\r\nSubject: x\r\nMessage-ID: <x2@example.com>\r\n"
        b"Content-Type: text/plain; charset=gb2312\r\n\r\n" + "朱镕基".encode("gbk")
    )
    assert parse_message(raw).body == "朱镕基"


def test_attachments_of_every_kind_are_kept_with_their_names(mail: Callable[..., bytes]) -> None:
    raw = mail(
        body="见附件",
        html="<p>见附件</p>",
        attachments=[
            ("发票.pdf", "application/pdf", b"%PDF-1.7 x"),
            ("notes.txt", "text/plain", b"serial 123"),
            ("../../etc/passwd", "application/octet-stream", b"x"),
        ],
    )

    parsed = parse_message(raw)

    assert parsed.body == "见附件"
    assert [(a.filename, a.content_type, a.content) for a in parsed.attachments] == [
        ("发票.pdf", "application/pdf", b"%PDF-1.7 x"),
        ("notes.txt", "text/plain", b"serial 123"),
        ("passwd", "application/octet-stream", b"x"),  # no path survives
    ]


def test_forwarded_mail_attachment_is_kept_whole(mail: Callable[..., bytes]) -> None:
    inner = mail(subject="订单确认", body="您的订单已发货")
    outer = mail(subject="Fwd", body="see attached", attachments=[])
    # Attach the inner message as message/rfc822, as mail clients do when forwarding.
    from email import message_from_bytes, policy

    msg = message_from_bytes(outer, policy=policy.default)
    msg.add_attachment(message_from_bytes(inner, policy=policy.default))  # type: ignore[union-attr]

    parsed = parse_message(msg.as_bytes())

    assert [(a.filename, a.content_type) for a in parsed.attachments] == [
        ("订单确认.eml", "message/rfc822")
    ]
    assert b"Subject:" in parsed.attachments[0].content


def test_message_without_message_id_gets_one_from_its_bytes() -> None:
    raw = b"From: a@example.com\r\nSubject: x\r\n\r\nhello\r\n"

    first, second = parse_message(raw), parse_message(raw)

    assert first.message_id == second.message_id
    assert first.message_id.endswith("@no-message-id.manyi.invalid>")
    assert parse_message(raw + b"!").message_id != first.message_id


def test_message_ids_are_normalised_and_overlong_ones_hashed() -> None:
    assert normalize_message_id("  <abc@x>  ") == "<abc@x>"
    assert normalize_message_id("abc@x") == "<abc@x>"
    assert normalize_message_id("") is None
    long_id = normalize_message_id("<" + "a" * 300 + "@x>")
    assert long_id is not None
    assert len(long_id) < 100
    assert long_id.endswith("@long-id.manyi.invalid>")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Yes, that works.\n\nOn Mon, Nov 23, 2026 at 10:02 AM Shop <s@shop.example> wrote:\n"
            "> old text",
            "Yes, that works.",
        ),
        ("Fine\n\n-----Original Message-----\nFrom: Shop\nSent: Monday\n\nold", "Fine"),
        ("好的\n\n-----原始邮件-----\n发件人: 客服\n发送时间: 2026年11月23日\n\n旧", "好的"),
        ("收到\n\n在 2026-11-23 10:00:00，\"客服\" <s@shop.example> 写道：\n> 旧", "收到"),
        ("收到\n\n客服 <s@shop.example> 于2026年11月23日周一 10:00写道：\n> 旧", "收到"),
        ("OK\n\nFrom: Shop <s@shop.example>\nSent: Monday, 23 November 2026\nTo: me\n\nold",
         "OK"),
        ("ok\n\n发件人: 客服 <s@shop.example>\n发送时间: 2026年11月23日 10:02\n收件人: 我\n\n旧",
         "ok"),
        # Inline answers between quoted lines stay; only the trailing quote goes.
        ("> Which colour?\nBlue.\n> Size?\nM.\n> thanks", "> Which colour?\nBlue.\n> Size?\nM."),
        # A forwarded mail is content, not history.
        ("See below.\n\n---------- Forwarded message ---------\nFrom: Courier\nDate: Mon\n\nLost",
         "See below.\n\n---------- Forwarded message ---------\nFrom: Courier\nDate: Mon\n\nLost"),
        # Nothing above the marker: keep everything rather than nothing.
        ("On Mon, Nov 23, 2026 Shop <s@shop.example> wrote:\n> only quote",
         "On Mon, Nov 23, 2026 Shop <s@shop.example> wrote:\n> only quote"),
        ("他在信里写道：很好。\n谢谢", "他在信里写道：很好。\n谢谢"),
    ],
)  # fmt: skip
def test_quoted_history_is_stripped_in_zh_and_en(text: str, expected: str) -> None:
    assert strip_quoted(text) == expected


def test_html_to_text_keeps_structure_links_and_drops_scripts_and_quotes() -> None:
    html = (
        "<html><head><style>p{color:red}</style><title>t</title></head><body>"
        "<p>Order&nbsp;<b>123</b> is late.</p><ul><li>one</li><li>two</li></ul>"
        "<script>alert(1)</script><p>Track: <a href='https://t.example/9'>here</a></p>"
        "<blockquote type='cite'>old message</blockquote></body></html>"
    )
    assert html_to_text(html) == (
        "Order 123 is late.\n\n- one\n- two\n\nTrack: here (https://t.example/9)"
    )


def test_html_reply_written_inside_the_quote_is_kept() -> None:
    assert html_to_text('<div class="gmail_quote">my answer</div>') == "my answer"
