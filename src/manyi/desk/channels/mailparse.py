"""Read an e-mail the way the desk needs it: who wrote, about what, what they wrote above the
quoted history, every attached file, and whether a machine sent it. No database here.

Examples
--------
>>> raw = (b"From: =?UTF-8?B?5byg5LiJ?= <zhang@example.com>\\r\\n"
...        b"Subject: =?UTF-8?B?6YCA6LSn?=\\r\\nMessage-ID: <a1@example.com>\\r\\n\\r\\n"
...        b"Please help.\\r\\n\\r\\nOn Mon, 23 Nov 2026 at 10:00 Shop wrote:\\r\\n> Hello\\r\\n")
>>> mail = parse_message(raw)
>>> mail.sender, mail.sender_name, mail.subject, mail.body
('zhang@example.com', '张三', '退货', 'Please help.')
"""

from __future__ import annotations

import hashlib
import logging
import mimetypes
import re
from collections.abc import Sequence
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage, Message
from email.utils import parseaddr
from html.parser import HTMLParser

from manyi.desk.cases.notifications import IncomingFile

log = logging.getLogger(__name__)

#: The text kept of one message; longer bodies are cut (and the cut is logged).
MAX_BODY_CHARS = 100_000
#: Files kept of one message; the rest are dropped (and logged).
MAX_ATTACHMENTS = 30
#: Longest Message-ID we store as is (the column holds 255 characters).
MAX_ID_CHARS = 255

_ID = re.compile(r"<[^<>\s]+>")
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")
#: Charsets that mail clients declare too narrowly: GB2312 mail routinely holds GBK characters.
_CHARSET_ALIASES = {
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "cp936": "gb18030",
    "ks_c_5601-1987": "cp949",
    "unicode-1-1-utf-7": "utf-7",
}


@dataclass(frozen=True)
class ParsedMail:
    """One received e-mail. ``sender`` is the From address in lower case ("" if unusable)."""

    message_id: str
    sender: str
    sender_name: str
    subject: str
    #: What the sender wrote, without the quoted history below it.
    body: str
    #: ``In-Reply-To`` first, then ``References`` from the newest; all normalised ``<id>``.
    references: tuple[str, ...]
    attachments: tuple[IncomingFile, ...]
    #: Why this is a machine's message (auto-reply, bounce, list mail), or ``None``.
    auto_reason: str | None
    #: ``zh-hans`` or ``en``: the language to answer in.
    language: str


def normalize_message_id(value: str) -> str | None:
    """``<id@host>`` as stored in ``Message.email_message_id`` (over-long ids are hashed)."""
    value = value.strip()
    match = _ID.search(value)
    if match:
        ident = match.group(0)
    elif value and not any(ch.isspace() for ch in value):
        ident = f"<{value}>"
    else:
        return None
    if len(ident) > MAX_ID_CHARS:
        ident = f"<{hashlib.sha256(ident.encode()).hexdigest()[:40]}@long-id.manyi.invalid>"
    return ident


def _id_list(value: str) -> list[str]:
    return [i for i in (normalize_message_id(m) for m in _ID.findall(value)) if i]


def _header(msg: Message, name: str) -> str:
    """A header's decoded value, or its raw text when the parser cannot make sense of it."""
    try:
        value = msg[name]
    except Exception:  # a malformed header must not lose the mail
        value = None
        for key, raw in msg.raw_items():
            if key.lower() == name.lower():
                value = raw
                break
    return " ".join(str(value).split()) if value is not None else ""


def _sender(msg: Message) -> tuple[str, str]:
    try:
        header = msg["From"]
        addresses = getattr(header, "addresses", ())
        if addresses and addresses[0].addr_spec and "@" in addresses[0].addr_spec:
            return addresses[0].addr_spec.lower(), addresses[0].display_name
    except Exception:
        log.debug("unparseable From header", exc_info=True)
    name, address = parseaddr(_header(msg, "From"))
    return (address.lower() if "@" in address else ""), name


def decode_text(part: Message) -> str:
    """A text part's characters, tolerating the charsets mail clients get wrong."""
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return ""
    declared = (part.get_content_charset() or "utf-8").lower()
    charset = _CHARSET_ALIASES.get(declared, declared)
    for candidate in (charset, "utf-8", "gb18030"):
        try:
            return payload.decode(candidate)
        except (LookupError, UnicodeDecodeError):
            continue
    return payload.decode("utf-8", errors="replace")


# --- HTML to text -------------------------------------------------------------------------

_BLOCKS = frozenset(
    {
        *("address", "article", "aside", "blockquote", "dd", "div", "dl", "dt", "figure"),
        *("footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "li", "main"),
        *("nav", "ol", "p", "pre", "section", "table", "tbody", "td", "tfoot", "th", "thead"),
        *("tr", "ul"),
    }
)
_INVISIBLE = frozenset({"head", "script", "style", "title", "template"})
_VOID = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}
)


class _HtmlText(HTMLParser):
    """Text of an HTML mail: blocks become lines, links keep their address, and the quoted
    history that mail clients mark (Gmail's ``gmail_quote``, Apple's and Thunderbird's
    ``blockquote type=cite``) is left out."""

    def __init__(self, *, drop_quotes: bool) -> None:
        super().__init__(convert_charrefs=True)
        self.drop_quotes = drop_quotes
        self.out: list[str] = []
        self.skip_tag: str | None = None
        self.skip_depth = 0
        self.pre = 0
        self.links: list[str | None] = []

    def _skips(self, tag: str, attrs: dict[str, str | None]) -> bool:
        if tag in _INVISIBLE:
            return True
        if not self.drop_quotes:
            return False
        classes = (attrs.get("class") or "").split()
        return (
            (tag == "blockquote" and (attrs.get("type") or "").lower() == "cite")
            or "gmail_quote" in classes
            or "yahoo_quoted" in classes
            or attrs.get("id") in {"divRplyFwdMsg", "appendonsend"}
        )

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.skip_tag is not None:
            if tag == self.skip_tag and tag not in _VOID:
                self.skip_depth += 1
            return
        attributes = dict(attrs)
        if self._skips(tag, attributes):
            if tag not in _VOID:
                self.skip_tag, self.skip_depth = tag, 1
            return
        if tag == "br":
            self.out.append("\n")
        elif tag == "li":
            self.out.append("\n- ")
        elif tag in _BLOCKS:
            self.out.append("\n")
        if tag == "pre":
            self.pre += 1
        if tag == "a":
            self.links.append(attributes.get("href"))

    def handle_endtag(self, tag: str) -> None:
        if self.skip_tag is not None:
            if tag == self.skip_tag:
                self.skip_depth -= 1
                if self.skip_depth == 0:
                    self.skip_tag = None
            return
        if tag == "pre":
            self.pre = max(0, self.pre - 1)
        if tag == "a" and self.links:
            href = self.links.pop()
            if href and href.startswith(("http://", "https://")) and href not in self.out[-1:]:
                self.out.append(f" ({href})")
        if tag in _BLOCKS and tag != "li":  # the next item starts its own line
            self.out.append("\n")

    def handle_data(self, data: str) -> None:
        if self.skip_tag is not None:
            return
        self.out.append(data if self.pre else re.sub(r"\s+", " ", data))

    def text(self) -> str:
        lines = [line.strip() for line in "".join(self.out).replace("\xa0", " ").split("\n")]
        return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def html_to_text(html: str) -> str:
    """Readable text of an HTML mail, without the history the client marked as quoted.

    >>> html_to_text('<p>Hi,<br>the <a href="https://x.example/1">parcel</a> is late.</p>'
    ...              '<div class="gmail_quote">On Mon ... wrote:<blockquote>old</blockquote></div>')
    'Hi,\\nthe parcel (https://x.example/1) is late.'
    """
    for drop_quotes in (True, False):  # a reply written inside the quote is still a reply
        parser = _HtmlText(drop_quotes=drop_quotes)
        parser.feed(html)
        parser.close()
        text = parser.text()
        if text:
            return text
    return ""


# --- Quoted history -----------------------------------------------------------------------

_SEPARATOR = re.compile(
    r"^\s*[-_]{2,}\s*(original message|original|原始邮件|原始郵件|原邮件)\s*[-_]{2,}\s*$", re.I
)
_EN_WROTE = re.compile(r"^\s*On\s.{4,300}\swrote:\s*$", re.I | re.S)
_ZH_WROTE = re.compile(r"^\s*(在|于)?.{0,300}写道\s*[:：]\s*$", re.S)
_FROM_LINE = re.compile(r"^\s*\*?\s*(from|发件人|寄件者)\s*\*?\s*[:：]", re.I)
_SENT_LINE = re.compile(r"^\s*\*?\s*(sent|date|发送时间|日期|寄件日期|时间)\s*\*?\s*[:：]", re.I)
#: A forwarded mail is content the sender means to show us: nothing below it is cut.
_FORWARD = re.compile(
    r"^\s*(-{2,}\s*(forwarded message|转发的邮件|转发邮件)\s*-{2,}|begin forwarded message:)\s*$",
    re.I,
)


def _is_attribution(text: str) -> bool:
    if _EN_WROTE.match(text):
        return True
    # "在 2026年11月20日 10:00，张三 <z@qq.com> 写道：", "张三 <z@x.com> 于2026年11月20日周五写道："
    return bool(_ZH_WROTE.match(text)) and ("@" in text or text.lstrip().startswith(("在", "于")))


def _quote_start(lines: list[str]) -> int | None:
    for i, line in enumerate(lines):
        if _FORWARD.match(line):
            return None
        if _SEPARATOR.match(line):
            return i
        # Gmail and Apple Mail wrap a long attribution line: try it joined with the next one.
        following = lines[i + 1] if i + 1 < len(lines) else ""
        if _is_attribution(line) or (following and _is_attribution(f"{line} {following}")):
            return i
        # Outlook: a header block "From: … / Sent: …" ("发件人: … / 发送时间: …").
        if _FROM_LINE.match(line) and any(_SENT_LINE.match(x) for x in lines[i + 1 : i + 5]):
            return i
    return None


def strip_quoted(text: str) -> str:
    """What the sender wrote, without the history below the usual reply markers (zh and en).

    Inline answers between quoted lines are kept; only the history after a reply marker and
    a trailing run of ``>`` lines are removed. When nothing would be left, the whole text is.

    >>> strip_quoted("好的，谢谢\\n\\n-------- 原始邮件 --------\\n发件人: 客服")
    '好的，谢谢'
    """
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    start = _quote_start(lines)
    kept = lines[:start] if start is not None else lines
    while kept and (not kept[-1].strip() or kept[-1].lstrip().startswith(">")):
        kept.pop()
    result = "\n".join(kept).strip()
    return result or text.strip()


# --- Attachments --------------------------------------------------------------------------


def _safe_filename(name: str | None, content_type: str, n: int) -> str:
    name = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch.isprintable()).strip().strip(".")
    if not name:
        guessed = mimetypes.guess_extension(content_type) or ".bin"
        name = f"attachment-{n}{guessed}"
    if len(name) > 150:
        stem, dot, ext = name.rpartition(".")
        name = f"{stem[: 140 - len(ext)]}.{ext}" if dot and len(ext) < 10 else name[:150]
    return name


def _attachments(msg: EmailMessage, body_parts: Sequence[Message]) -> list[IncomingFile]:
    files: list[IncomingFile] = []

    def visit(part: Message) -> None:
        if part.get_content_maintype() == "multipart":
            for sub in part.get_payload():
                if isinstance(sub, Message):
                    visit(sub)
            return
        if any(part is body for body in body_parts):
            return
        content_type = part.get_content_type()
        filename = part.get_filename()
        disposition = part.get_content_disposition()
        # Alternatives of the body (the HTML twin of a plain-text body) are not files.
        if (
            content_type in {"text/plain", "text/html"}
            and not filename
            and disposition != "attachment"
        ):
            return
        if content_type == "message/rfc822":  # a forwarded mail: keep it whole, as .eml
            inner = part.get_payload(0) if part.is_multipart() else None
            content = inner.as_bytes() if isinstance(inner, Message) else b""
            if not filename and isinstance(inner, Message):
                filename = f"{_header(inner, 'Subject') or 'message'}.eml"
        else:
            payload = part.get_payload(decode=True)
            # message/delivery-status and friends have no decodable payload: keep them whole.
            content = payload if isinstance(payload, bytes) else part.as_bytes()
        if content_type == "application/octet-stream" and filename:
            # Many clients (QQ Mail among them) send every file as octet-stream.
            content_type = mimetypes.guess_type(filename)[0] or content_type
        files.append(
            IncomingFile(
                filename=_safe_filename(filename, content_type, len(files) + 1),
                content_type=content_type,
                content=content,
            )
        )

    visit(msg)
    if len(files) > MAX_ATTACHMENTS:
        log.warning(
            "mail %s: kept the first %d of %d attachments",
            _header(msg, "Message-ID"),
            MAX_ATTACHMENTS,
            len(files),
        )
        files = files[:MAX_ATTACHMENTS]
    return files


# --- Machines -----------------------------------------------------------------------------

_AUTO_HEADERS = ("X-Autoreply", "X-Autorespond", "X-Autogenerated", "X-Auto-Reply", "X-AutoReply")
_AUTO_SENDERS = frozenset({"mailer-daemon", "postmaster"})
_AUTO_SUBJECTS = (
    "auto:",
    "automatic reply",
    "autoreply",
    "auto reply",
    "auto-reply",
    "out of office",
    "undeliverable",
    "undelivered mail",
    "delivery status notification",
    "mail delivery failed",
    "自动回复",
    "自动答复",
    "系统退信",
    "退信",
)


def auto_reason(msg: Message, sender: str, subject: str) -> str | None:
    """Why ``msg`` was written by a machine (RFC 3834 and the headers vendors use instead)."""
    auto = _header(msg, "Auto-Submitted").lower()
    if auto and auto != "no":
        return f"Auto-Submitted: {auto}"
    for name in _AUTO_HEADERS:
        if _header(msg, name):
            return f"{name} header"
    precedence = _header(msg, "Precedence").lower()
    if precedence in {"bulk", "junk", "list", "auto_reply"}:
        return f"Precedence: {precedence}"
    if _header(msg, "List-Id"):
        return "mailing list (List-Id)"
    if sender.split("@", 1)[0] in _AUTO_SENDERS:
        return f"sent by {sender}"
    if msg.get_content_type() == "multipart/report" or _header(msg, "X-Failed-Recipients"):
        return "delivery report"
    if subject.lower().startswith(_AUTO_SUBJECTS):
        return f"subject {subject[:60]!r}"
    return None


def _language(msg: Message, subject: str, body: str) -> str:
    declared = _header(msg, "Content-Language").lower()
    if declared.startswith("zh"):
        return "zh-hans"
    if declared.startswith("en"):
        return "en"
    return "zh-hans" if _CJK.search(subject) or _CJK.search(body[:2000]) else "en"


# --- The message --------------------------------------------------------------------------


def parse_message(raw: bytes) -> ParsedMail:
    """Parse one RFC 5322 message (bytes as received). Never raises on malformed mail:
    what cannot be read is left empty. A message without a ``Message-ID`` gets one derived
    from its bytes, so that delivering the same bytes twice is still recognised."""
    msg = message_from_bytes(raw, policy=policy.default)
    assert isinstance(msg, EmailMessage)  # policy.default builds EmailMessage
    sender, sender_name = _sender(msg)
    subject = _header(msg, "Subject")

    plain = msg.get_body(preferencelist=("plain",))
    html = msg.get_body(preferencelist=("html",))
    text = decode_text(plain) if plain is not None else ""
    body_parts = [p for p in (plain, html) if p is not None]
    if not text.strip() and html is not None:
        text = html_to_text(decode_text(html))
    body = strip_quoted(text) if text.strip() else ""
    if len(body) > MAX_BODY_CHARS:
        log.warning(
            "mail from %s: text cut from %d to %d characters", sender, len(body), MAX_BODY_CHARS
        )
        body = body[:MAX_BODY_CHARS]

    message_id = normalize_message_id(_header(msg, "Message-ID")) or (
        f"<{hashlib.sha256(raw).hexdigest()[:40]}@no-message-id.manyi.invalid>"
    )
    references = _id_list(_header(msg, "In-Reply-To"))
    references += [i for i in reversed(_id_list(_header(msg, "References"))) if i not in references]
    return ParsedMail(
        message_id=message_id,
        sender=sender,
        sender_name=sender_name,
        subject=subject,
        body=body,
        references=tuple(references),
        attachments=tuple(_attachments(msg, body_parts)),
        auto_reason=auto_reason(msg, sender, subject),
        language=_language(msg, subject, body),
    )
