"""Sending the outbox (:class:`~manyi.desk.channels.models.OutgoingMail`): at once after the
commit, and again by the worker when the mail server was down.

* :func:`queue_mail` records a mail inside the caller's transaction and sends it once that
  transaction commits (a rolled-back reply sends nothing; a committed one is never lost).
* :func:`send_due` is the worker's job: every mail whose next attempt is due is claimed, sent
  and its outcome recorded.
* A temporary failure (connection refused or dropped, timeout, a 4xx reply, a failed login —
  our configuration, not the message) is tried again after 1, 2, 4, 8 … minutes, at most
  ``MANYI_MAIL_RETRY_CAP_MINUTES`` (60) apart, up to ``MANYI_MAIL_MAX_ATTEMPTS`` (10) attempts
  in all; then the mail is failed.
* A permanent refusal (a 5xx reply to the sender, the recipient or the message) fails the mail
  at once: sending it again would be refused again.
* A failed mail about a case adds a *delivery failed* entry with the reason to the case's
  timeline, and is listed in the admin (*Channels › Outgoing e-mail*), where it can be sent
  again.

Claiming is one short transaction per mail: the row is selected ``FOR UPDATE SKIP LOCKED`` on
PostgreSQL (a second worker takes the next mail instead of waiting), SQLite's ``BEGIN
IMMEDIATE`` serialises the claims; the claim marks the mail ``sending`` until
:data:`CLAIM` from now. The SMTP conversation happens with no transaction open, so a slow
mail server holds no database lock (SQLite has one writer). A sender that dies between the
claim and the outcome leaves the mail to be taken again when its claim runs out: mail is sent
at least once, and exactly once unless a worker dies in the middle of a send.
"""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parseaddr
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from manyi.desk.cases.events import Actor, record_event
from manyi.desk.cases.models import Case, CaseEventKind, Message
from manyi.desk.channels.models import MailStatus, OutgoingMail

log = logging.getLogger(__name__)

#: While a worker sends a mail, no other worker takes it for this long. It covers a send of
#: the largest attachments on a slow link (Django's SMTP timeout is per socket operation).
CLAIM = timedelta(minutes=10)
FIRST_RETRY = timedelta(minutes=1)


def max_attempts() -> int:
    return int(getattr(settings, "MANYI_MAIL_MAX_ATTEMPTS", 10))


def retry_cap() -> timedelta:
    return timedelta(minutes=int(getattr(settings, "MANYI_MAIL_RETRY_CAP_MINUTES", 60)))


def backoff(attempts: int) -> timedelta:
    """The wait after ``attempts`` failed attempts: 1, 2, 4, 8 … minutes, capped.

    >>> [int(backoff(n).total_seconds() // 60) for n in (1, 2, 3, 7, 8, 20)]
    [1, 2, 4, 60, 60, 60]
    """
    cap = retry_cap()
    if attempts > 20:  # 2**20 minutes is past any sensible cap; avoid huge numbers
        return cap
    wait: timedelta = FIRST_RETRY * (2 ** max(attempts - 1, 0))
    return min(wait, cap)


def queue_mail(
    *,
    purpose: str,
    to: Sequence[str],
    subject: str,
    body: str,
    message_id: str,
    headers: dict[str, str] | None = None,
    from_email: str | None = None,
    reply_to: Sequence[str] = (),
    case: Case | None = None,
    reply: Message | None = None,
    now: datetime | None = None,
) -> OutgoingMail:
    """Record a mail and send it after the current transaction commits.

    Call inside the transaction that produced the mail (the reply, the status change): the
    mail then exists exactly when that change does. ``message_id`` is sent as the
    ``Message-ID`` header on every attempt.
    """
    now = now or timezone.now()
    mail = OutgoingMail.objects.create(
        created_at=now,
        case=case,
        reply=reply,
        purpose=purpose,
        message_id=message_id,
        from_email=from_email or str(settings.DEFAULT_FROM_EMAIL),
        to=list(to),
        reply_to=list(reply_to),
        subject=subject[: OutgoingMail._meta.get_field("subject").max_length],
        body=body,
        headers={**(headers or {}), "Message-ID": message_id},
        status=MailStatus.PENDING,
        next_attempt_at=now,
    )
    pk = mail.pk
    transaction.on_commit(lambda: send_queued(pk))
    return mail


@dataclass
class OutboxResult:
    sent: int = 0
    retrying: int = 0
    failed: int = 0

    def summary(self) -> str:
        return f"{self.sent} sent, {self.retrying} to retry, {self.failed} failed"

    def add(self, status: str) -> None:
        if status == MailStatus.SENT:
            self.sent += 1
        elif status == MailStatus.FAILED:
            self.failed += 1
        else:
            self.retrying += 1


def send_queued(pk: int) -> str | None:
    """Try one mail now, if it is still waiting (the on-commit send); returns its new status,
    or ``None`` when another sender has it or it was sent already. Never raises a mail error:
    the reply is saved, and a mail server's trouble must not turn the request into a 500."""
    return _attempt(timezone.now(), pk=pk)


def send_due(now: datetime | None = None, *, limit: int = 200) -> OutboxResult:
    """Send every mail whose next attempt is due at ``now`` (the worker's job), one by one.

    Safe to run in several workers at once: each mail is claimed by one of them.
    """
    now = now or timezone.now()
    result = OutboxResult()
    for _n in range(limit):
        status = _attempt(now)
        if status is None:
            break
        result.add(status)
    return result


def _claim(now: datetime, pk: int | None) -> OutgoingMail | None:
    """Mark the next due mail (or mail ``pk`` if due) ``sending`` and count the attempt."""
    with transaction.atomic():
        due = OutgoingMail.objects.filter(
            status__in=(MailStatus.PENDING, MailStatus.SENDING), next_attempt_at__lte=now
        )
        if pk is not None:
            due = due.filter(pk=pk)
        if connection.features.has_select_for_update_skip_locked:
            due = due.select_for_update(skip_locked=True)
        found = due.order_by("next_attempt_at", "pk").values_list("pk", flat=True).first()
        if found is None:
            return None
        OutgoingMail.objects.filter(pk=found).update(
            status=MailStatus.SENDING,
            attempts=F("attempts") + 1,
            last_attempt_at=now,
            next_attempt_at=now + CLAIM,
        )
    return OutgoingMail.objects.get(pk=found)


@dataclass(frozen=True)
class SendError:
    permanent: bool
    code: int | None
    reason: str


def classify(exc: BaseException) -> SendError:
    """Whether a failed send may succeed later, the SMTP reply code and a readable reason.

    >>> classify(smtplib.SMTPDataError(550, b"5.7.1 rejected as spam")).permanent
    True
    >>> classify(smtplib.SMTPDataError(451, b"4.3.0 try again later")).permanent
    False
    >>> classify(ConnectionRefusedError(111, "Connection refused")).reason
    'ConnectionRefusedError: [Errno 111] Connection refused'
    """
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        replies = list(exc.recipients.items())
        codes = [int(code) for _address, (code, _text) in replies]
        # Django hands smtplib "=?utf-8?b?...?= <address>": name the address alone.
        reason = "; ".join(
            f"{parseaddr(to)[1] or to}: {code} {_text_of(text)}" for to, (code, text) in replies
        )
        return SendError(bool(codes) and min(codes) >= 500, max(codes, default=None), reason)
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        # The server refused our login: a configuration error, which staff fix; the message
        # itself is fine and goes out once they have.
        code = int(exc.smtp_code)
        return SendError(False, code, f"login refused: {code} {_text_of(exc.smtp_error)}")
    if isinstance(exc, smtplib.SMTPResponseException):
        code = int(exc.smtp_code)
        return SendError(500 <= code < 600, code, f"{code} {_text_of(exc.smtp_error)}")
    return SendError(False, None, f"{type(exc).__name__}: {exc}")


def _text_of(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


def _email(mail: OutgoingMail) -> EmailMessage:
    email = EmailMessage(
        subject=mail.subject,
        body=mail.body,
        from_email=mail.from_email,
        to=list(mail.to),
        reply_to=list(mail.reply_to) or None,
        headers=dict(mail.headers),
    )
    reply = mail.reply
    if reply is not None:
        for a in reply.attachments.all():
            with a.file.open("rb") as fh:
                email.attach(a.filename, fh.read(), a.content_type)
    return email


def _attempt(now: datetime, pk: int | None = None) -> str | None:
    mail = _claim(now, pk)
    if mail is None:
        return None
    try:
        _email(mail).send(fail_silently=False)
    except (smtplib.SMTPException, OSError) as exc:
        error = classify(exc)
        log.warning(
            "e-mail %s (%s, case %s) attempt %d failed: %s",
            mail.pk,
            mail.purpose,
            mail.case_id,
            mail.attempts,
            error.reason,
        )
        return _record_failure(mail, now, error)
    return _record_sent(mail, now)


def _entry(now: datetime, *, ok: bool, code: int | None = None, error: str = "") -> dict[str, Any]:
    return {"at": now.isoformat(), "ok": ok, "code": code, "error": error[:1000]}


def _record_sent(mail: OutgoingMail, now: datetime) -> str:
    with transaction.atomic():
        updated = OutgoingMail.objects.filter(
            pk=mail.pk, status=MailStatus.SENDING, attempts=mail.attempts
        ).update(
            status=MailStatus.SENT,
            sent_at=now,
            next_attempt_at=None,
            last_error="",
            log=[*mail.log, _entry(now, ok=True)],
        )
        if not updated:  # our claim ran out and another worker took the mail meanwhile
            log.warning("e-mail %s was sent, but another worker had taken it over", mail.pk)
        if mail.reply_id is not None:
            # The reply's id is what the customer's answer will name in In-Reply-To.
            Message.objects.filter(pk=mail.reply_id).update(email_message_id=mail.message_id)
    return MailStatus.SENT


def _record_failure(mail: OutgoingMail, now: datetime, error: SendError) -> str:
    give_up = error.permanent or mail.attempts >= max_attempts()
    status = MailStatus.FAILED if give_up else MailStatus.PENDING
    with transaction.atomic():
        updated = OutgoingMail.objects.filter(
            pk=mail.pk, status=MailStatus.SENDING, attempts=mail.attempts
        ).update(
            status=status,
            next_attempt_at=None if give_up else now + backoff(mail.attempts),
            last_error=error.reason[:2000],
            log=[*mail.log, _entry(now, ok=False, code=error.code, error=error.reason)],
        )
        if updated and give_up and mail.case_id is not None:
            _note_on_case(mail, now, error)
    return status


def _note_on_case(mail: OutgoingMail, now: datetime, error: SendError) -> None:
    """The *delivery failed* entry on the case's timeline, for the agent to see and act on.

    The note is the mail server's answer as it came (not translated); the timeline adds the
    recipient and what the mail was from ``data``.
    """
    if mail.case_id is None:
        return
    case = Case.objects.select_for_update().filter(pk=mail.case_id).first()
    if case is None:
        return
    record_event(
        case,
        CaseEventKind.DELIVERY_FAILED,
        actor=Actor.system(),
        at=now,
        channel="email",
        note=error.reason[:2000],
        data={
            "mail": mail.pk,
            "purpose": mail.purpose,
            "to": list(mail.to),
            "message_id": mail.message_id,
            "reply": mail.reply_id,
            "attempts": mail.attempts,
            "code": error.code,
            "permanent": error.permanent,
        },
    )


def send_again(pks: Sequence[int], *, now: datetime | None = None) -> int:
    """Put failed mails back in the queue with a fresh count of attempts (the admin's
    *send again*, after the address or the mail settings were fixed); returns how many."""
    now = now or timezone.now()
    return OutgoingMail.objects.filter(pk__in=pks, status=MailStatus.FAILED).update(
        status=MailStatus.PENDING, attempts=0, next_attempt_at=now, last_error=""
    )
