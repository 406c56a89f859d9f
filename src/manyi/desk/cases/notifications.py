"""E-mail to customers about their case: put in the outbox in the transaction of the change it
is about, sent after the commit and retried by the worker (:mod:`manyi.desk.channels.outbox`).

Every outgoing message gets its own ``Message-ID`` (signed, naming the case; an agent's reply also
remembers it on its ``Message`` row), ``In-Reply-To``/``References`` that keep the case in one
thread, and a subject that carries the case number (``[#123] ...``): the inbound receiver
(``manyi.desk.channels.inbound``) threads a reply back onto its case by those headers first and
by the number second. The text is rendered in the case's language (``Case.language``).
"""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from email.errors import HeaderParseError
from email.headerregistry import Address

from django.conf import settings
from django.core.files.base import ContentFile
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.crypto import constant_time_compare, salted_hmac

from manyi.desk.cases.models import Attachment, Case, Message, MessageDirection
from manyi.desk.channels.models import MailPurpose, OutgoingMail
from manyi.desk.channels.outbox import queue_mail

log = logging.getLogger(__name__)

#: Statuses whose transitions are worth an e-mail to the customer.
NOTIFY_TRANSITIONS = frozenset(
    {
        "approve",
        "reject",
        "request_return",
        "dispatch_repair",
        "refund",
        "ship_replacement",
        "repaired",
        "resolve",
        "wait_on_customer",
    }
)
MAX_ATTACHMENT_BYTES = 20 * 1024 * 1024


@dataclass(frozen=True)
class IncomingFile:
    filename: str
    content_type: str
    content: bytes


def store_attachments(message: Message, files: Sequence[IncomingFile]) -> list[Attachment]:
    """Keep the files of a message (from e-mail or the web form) with their SHA-256."""
    stored = []
    for f in files:
        if len(f.content) > MAX_ATTACHMENT_BYTES:
            log.warning(
                "attachment %s of message %s skipped: %d bytes",
                f.filename,
                message.pk,
                len(f.content),
            )
            continue
        attachment = Attachment(
            message=message,
            filename=f.filename[:255] or "attachment",
            content_type=f.content_type[:128] or "application/octet-stream",
            size=len(f.content),
            sha256=hashlib.sha256(f.content).hexdigest(),
        )
        attachment.file.save(attachment.filename, ContentFile(f.content), save=False)
        attachment.save()
        stored.append(attachment)
    return stored


def mail_domain() -> str:
    return str(getattr(settings, "MANYI_MAIL_DOMAIN", "manyi.localhost"))


def support_address() -> str:
    return str(settings.DEFAULT_FROM_EMAIL)


_ID_SALT = "manyi.message-id.v1"
_OUR_ID = re.compile(r"<([0-9a-f]{16})\.c(\d+)\.([0-9a-f]{16})@[^<>\s]+>")


def _id_signature(nonce: str, case_id: int) -> str:
    return salted_hmac(_ID_SALT, f"{nonce}.{case_id}").hexdigest()[:16]


def make_message_id(case_id: int) -> str:
    """A Message-ID for a mail about ``case_id`` that names the case and is signed.

    Acknowledgements and status mails are not stored as messages, yet customers answer them:
    the inbound receiver reads the case back from the id of the mail being answered
    (:func:`case_id_from_message_id`), and nobody outside can mint an id for another case.
    """
    nonce = secrets.token_hex(8)
    return f"<{nonce}.c{case_id}.{_id_signature(nonce, case_id)}@{mail_domain()}>"


def case_id_from_message_id(message_id: str) -> int | None:
    """The case named by one of our own signed Message-IDs, else ``None``.

    >>> case_id_from_message_id(make_message_id(42))
    42
    >>> case_id_from_message_id("<0123456789abcdef.c42.0123456789abcdef@x>") is None
    True
    """
    match = _OUR_ID.fullmatch(message_id.strip())
    if match is None:
        return None
    nonce, case_id, signature = match.group(1), int(match.group(2)), match.group(3)
    return case_id if constant_time_compare(signature, _id_signature(nonce, case_id)) else None


def _one_line(text: str) -> str:
    """Header text without line breaks (a subject typed into a form may hold some)."""
    return " ".join(text.split())


def _recipient(case: Case) -> str:
    """``Name <address>``, quoted where needed; Django encodes non-ASCII names on sending."""
    try:
        return str(Address(display_name=_one_line(case.contact_name), addr_spec=case.contact_email))
    except (ValueError, IndexError, HeaderParseError):
        return case.contact_email


def _thread_headers(case: Case, exclude: int | None) -> dict[str, str]:
    """``In-Reply-To`` and ``References`` that keep the case in one thread in mail clients.

    In-Reply-To names the customer's latest mail (what is being answered), else our latest;
    References keeps the first id and the nine newest (RFC 5322 3.6.4: the root matters most).
    """
    messages = case.messages.exclude(email_message_id=None)
    if exclude is not None:
        messages = messages.exclude(pk=exclude)
    rows = list(messages.order_by("created_at", "id").values_list("email_message_id", "direction"))
    if not rows:
        return {}
    chain = [str(ident) for ident, _direction in rows]
    theirs = [str(ident) for ident, direction in rows if direction == MessageDirection.INBOUND]
    references = chain if len(chain) <= 10 else [chain[0], *chain[-9:]]
    return {"In-Reply-To": (theirs or chain)[-1], "References": " ".join(references)}


def _queue(
    case: Case,
    template: str,
    context: dict[str, object],
    *,
    purpose: str,
    record: Message | None = None,
    auto: str | None = None,
) -> OutgoingMail:
    """Render ``template`` in the case's language and put the mail to the contact in the outbox.

    Call inside the transaction of the change the mail is about: it is recorded with it and
    sent after the commit (and retried by the worker if the mail server is away).

    ``auto`` is the RFC 3834 ``Auto-Submitted`` value for mails no person wrote, so that the
    customer's own auto-responder does not answer them (and start a mail loop).
    """
    from manyi.desk.channels.links import case_link
    from manyi.desk.channels.progress import customer_label

    message_id = make_message_id(case.case_id)
    with translation.override(case.language or settings.LANGUAGE_CODE):
        body = render_to_string(
            template,
            {
                "case": case,
                "status_label": customer_label(case.status),
                "link": case_link(case.case_id, case.contact_email),
                "link_days": int(getattr(settings, "MANYI_CASE_LINK_DAYS", 30)),
                **context,
            },
        )
    headers = {
        "X-Manyi-Case": str(case.case_id),
        # Exchange and Outlook: no out-of-office answers to these.
        "X-Auto-Response-Suppress": "All",
        **_thread_headers(case, record.pk if record is not None else None),
    }
    if auto:
        headers["Auto-Submitted"] = auto
    return queue_mail(
        purpose=purpose,
        to=[_recipient(case)],
        subject=_one_line(f"[{case.number}] {case.subject}"),
        body=body,
        message_id=message_id,
        headers=headers,
        from_email=support_address(),
        reply_to=[support_address()],
        case=case,
        reply=record,
    )


def queue_acknowledgement(case: Case) -> OutgoingMail | None:
    """Acknowledge a new case to its contact, with the link to follow it (in the transaction
    that opens it)."""
    if not case.contact_email:
        return None
    return _queue(
        case, "cases/email/opened.txt", {}, purpose=MailPurpose.ACKNOWLEDGEMENT, auto="auto-replied"
    )


def queue_status_mail(case: Case, transition: str) -> OutgoingMail | None:
    """Tell the contact where the case now stands, for the transitions worth a mail (in the
    transaction of the transition, after the case was saved: the mail names the status it
    entered and the amounts it set)."""
    if transition not in NOTIFY_TRANSITIONS or not case.contact_email:
        return None
    context: dict[str, object] = {"transition": transition}
    return _queue(
        case, "cases/email/status.txt", context, purpose=MailPurpose.STATUS, auto="auto-generated"
    )


def queue_reply(message: Message) -> OutgoingMail | None:
    """E-mail an agent's reply with its files (in the transaction that records it); the
    reply's ``email_message_id`` is set once the mail went out."""
    if not message.case.contact_email:
        return None
    return _queue(
        message.case,
        "cases/email/reply.txt",
        {"message": message},
        purpose=MailPurpose.REPLY,
        record=message,
    )
