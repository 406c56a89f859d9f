"""E-mail in: one received message becomes a customer message on its case, or a new case.

Every way mail arrives ends here: the SMTP receiver (``smtp_receiver``), IMAP polling
(``imap_poll``) and ``manyi mail import``. The rules, in order:

1. Too large (``MANYI_INBOUND_MAX_BYTES``, default 25 MiB): refused and logged.
2. Written by a machine (``Auto-Submitted``, ``X-Autoreply``, ``Precedence: bulk``, a bounce
   from mailer-daemon or with an empty envelope sender, our own address): logged, not kept.
3. Already recorded (same ``Message-ID``): recorded once; the repeat changes nothing.
4. Threading: a message id in ``In-Reply-To``/``References`` that we stored (ours or the
   customer's) or that we signed (``notifications.make_message_id``) names the case; else a
   ``[#123]`` in the subject, but only when the sender is that case's contact (anyone can type
   a case number); else a new case (a question, by e-mail) with the sender as contact.

Examples
--------
>>> from pathlib import Path
>>> result = receive_message(Path("reply.eml").read_bytes())  # doctest: +SKIP
>>> result.outcome, result.case_id  # doctest: +SKIP
('recorded', 42)
"""

from __future__ import annotations

import enum
import logging
import os
import re
from dataclasses import dataclass
from datetime import datetime
from email.utils import parseaddr

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from manyi.desk.cases.errors import CaseError
from manyi.desk.cases.events import Actor
from manyi.desk.cases.models import Case, CaseChannel, CaseKind, Message
from manyi.desk.cases.notifications import case_id_from_message_id
from manyi.desk.cases.services import NewCase, open_case, record_customer_message
from manyi.desk.channels.mailparse import ParsedMail, parse_message

log = logging.getLogger(__name__)

DEFAULT_MAX_BYTES = 25 * 1024 * 1024
_CASE_NUMBER = re.compile(r"\[#(\d{1,18})\]")
_REPLY_PREFIX = re.compile(r"^\s*((re|fw|fwd|aw|wg|回复|答复|回覆|转发|轉寄)\s*[:：]\s*)+", re.I)


class Outcome(enum.StrEnum):
    RECORDED = "recorded"  # added to an existing case (or to the follow-up of a closed one)
    OPENED = "opened"  # a new case
    DUPLICATE = "duplicate"  # this Message-ID was recorded before
    IGNORED = "ignored"  # auto-reply, bounce, list mail, our own mail
    REJECTED = "rejected"  # too large, or no usable sender


@dataclass(frozen=True)
class InboundResult:
    outcome: Outcome
    case_id: int | None = None
    message_id: int | None = None
    #: How it was threaded (``header``, ``our-id``, ``subject``, ``new``) or why it was refused.
    detail: str = ""


def max_message_bytes() -> int:
    return int(getattr(settings, "MANYI_INBOUND_MAX_BYTES", 0) or DEFAULT_MAX_BYTES)


def inbound_addresses() -> frozenset[str]:
    """The support addresses mail is accepted for (lower case): ``MANYI_INBOUND_ADDRESSES``
    (a setting or the environment, comma-separated), by default ``DEFAULT_FROM_EMAIL``."""
    configured = getattr(settings, "MANYI_INBOUND_ADDRESSES", None)
    if configured is None:
        configured = os.environ.get("MANYI_INBOUND_ADDRESSES", "")
    if isinstance(configured, str):
        configured = configured.split(",")
    addresses = {parseaddr(a)[1].strip().lower() for a in configured if a.strip()}
    return frozenset(addresses - {""}) or frozenset(
        {parseaddr(str(settings.DEFAULT_FROM_EMAIL))[1].lower()}
    )


def clean_subject(subject: str) -> str:
    """The subject without reply prefixes and case numbers, for a new case.

    >>> clean_subject("回复：Re: [#12] 快递破损")
    '快递破损'
    """
    return " ".join(_CASE_NUMBER.sub(" ", _REPLY_PREFIX.sub("", subject)).split())


def find_case(mail: ParsedMail) -> tuple[Case | None, str]:
    """The case ``mail`` answers, and how it was found (see the module's rules)."""
    if mail.references:
        known = dict(
            Message.objects.filter(email_message_id__in=mail.references).values_list(
                "email_message_id", "case_id"
            )
        )
        for ident in mail.references:  # the mail being answered first
            if ident in known:
                return Case.objects.get(pk=known[ident]), "header"
            signed = case_id_from_message_id(ident)
            if signed is not None:
                case = Case.objects.filter(pk=signed).first()
                if case is not None:
                    return case, "our-id"
    for number in _CASE_NUMBER.findall(mail.subject):
        case = Case.objects.filter(pk=int(number)).first()
        if case is None:
            continue
        if case.contact_email.strip().lower() == mail.sender:
            return case, "subject"
        log.warning(
            "mail %s from %s names case #%s, whose contact is someone else: a new case instead",
            mail.message_id,
            mail.sender,
            number,
        )
    return None, "new"


def _body(mail: ParsedMail, case: Case | None) -> str:
    body = mail.body
    if not body.strip() and mail.attachments:
        body = "[" + ", ".join(f.filename for f in mail.attachments) + "]"
    if case is not None and mail.sender != case.contact_email.strip().lower():
        # Threaded by header from another address (a colleague in copy, a new address of the
        # customer): the message is kept, and the agent sees who actually wrote it.
        who = f"{mail.sender_name} <{mail.sender}>" if mail.sender_name else mail.sender
        body = f"[{who}]\n\n{body}"
    return body


def _record(mail: ParsedMail, now: datetime) -> InboundResult:
    case, how = find_case(mail)
    if case is not None:
        message = record_customer_message(
            case.case_id,
            _body(mail, case),
            channel=CaseChannel.EMAIL,
            subject=mail.subject[:255],
            email_message_id=mail.message_id,
            attachments=mail.attachments,
            now=now,
        )
        log.info(
            "mail %s from %s recorded on case #%s (%s)",
            mail.message_id,
            mail.sender,
            message.case_id,
            how,
        )
        return InboundResult(Outcome.RECORDED, message.case_id, message.pk, how)
    with translation.override(mail.language):
        subject = clean_subject(mail.subject) or _("E-mail without a subject")
    opened = open_case(
        NewCase(
            kind=CaseKind.QUESTION,
            channel=CaseChannel.EMAIL,
            subject=subject[:200],
            # Never empty: the first message carries the Message-ID (duplicates) and the files.
            description=_body(mail, None) or subject,
            contact_name=mail.sender_name[:128],
            contact_email=mail.sender,
            language=mail.language,
            attachments=mail.attachments,
            email_message_id=mail.message_id,
        ),
        actor=Actor.customer(),
        now=now,
    )
    first = opened.messages.order_by("id").first()
    log.info("mail %s from %s opened case #%s", mail.message_id, mail.sender, opened.case_id)
    return InboundResult(Outcome.OPENED, opened.case_id, first.pk if first else None, how)


def receive_message(
    raw: bytes, *, mail_from: str | None = None, now: datetime | None = None
) -> InboundResult:
    """Turn one received e-mail into a customer message or a new case (the module's rules).

    ``raw`` is the message as received; ``mail_from`` the SMTP envelope sender when known
    (``""`` is the null sender of bounces). Runs in one transaction; the acknowledgement of a
    new case is e-mailed after it commits. Raises only on database errors, so that a receiver
    can answer "try again later".
    """
    now = now or timezone.now()
    limit = max_message_bytes()
    if len(raw) > limit:
        log.warning(
            "inbound mail refused: %d bytes is more than the %d-byte limit "
            "(MANYI_INBOUND_MAX_BYTES)",
            len(raw),
            limit,
        )
        return InboundResult(Outcome.REJECTED, detail=f"larger than {limit} bytes")
    mail = parse_message(raw)
    reason = mail.auto_reason
    if reason is None and mail_from == "":
        reason = "null envelope sender (a bounce)"
    if reason is None and mail.sender in inbound_addresses():
        reason = "sent from our own support address (mail loop)"
    if reason is not None:
        log.info("inbound mail %s from %s ignored: %s", mail.message_id, mail.sender, reason)
        return InboundResult(Outcome.IGNORED, detail=reason)
    try:
        validate_email(mail.sender)
    except ValidationError:
        log.warning("inbound mail %s refused: no usable From address", mail.message_id)
        return InboundResult(Outcome.REJECTED, detail="no usable From address")

    with transaction.atomic():
        existing = Message.objects.filter(email_message_id=mail.message_id).first()
        if existing is not None:
            log.info("inbound mail %s was recorded before: skipped", mail.message_id)
            return InboundResult(Outcome.DUPLICATE, existing.case_id, existing.pk, "duplicate")
        try:
            # A savepoint: when the same mail arrives twice at once, the second insert hits the
            # unique Message-ID and only this part rolls back.
            with transaction.atomic():
                return _record(mail, now)
        except IntegrityError:
            existing = Message.objects.filter(email_message_id=mail.message_id).first()
            if existing is None:
                raise
            log.info("inbound mail %s was recorded concurrently: skipped", mail.message_id)
            return InboundResult(Outcome.DUPLICATE, existing.case_id, existing.pk, "duplicate")
        except CaseError as exc:
            log.warning("inbound mail %s refused: %s %s", mail.message_id, exc.message, exc.fields)
            return InboundResult(Outcome.REJECTED, detail=exc.message)
