"""The invitation and reminder e-mails, in the invitation's language, sent after the commit.

Every mail carries the opt-out link in its text and in ``List-Unsubscribe`` (RFC 2369), and is
marked ``Auto-Submitted`` so that the customer's auto-responder does not answer it. A refused
mail is logged and noted on the invitation (``email_error``): the invitation stays issued, and
its link still works if staff pass it on.
"""

from __future__ import annotations

import logging
import smtplib

from django.conf import settings
from django.core.mail import EmailMessage
from django.template.loader import render_to_string
from django.utils import timezone, translation

from manyi.desk.surveys.links import opt_out_link, survey_link
from manyi.desk.surveys.models import Invitation, Trigger

log = logging.getLogger(__name__)


def render_invitation_email(invitation: Invitation, *, reminder: bool = False) -> EmailMessage:
    """The mail for ``invitation`` (not sent)."""
    assert invitation.expires_at is not None, "only an issued invitation is mailed"
    link = survey_link(invitation.pk)
    unsubscribe = opt_out_link(invitation.pk)
    context = {
        "invitation": invitation,
        "about_case": invitation.rule.trigger == Trigger.CASE_RESOLVED,
        "case_number": f"#{invitation.case_id}" if invitation.case_id else "",
        "order_id": invitation.order_id or "",
        "link": link,
        "opt_out_link": unsubscribe,
        "closes": timezone.localtime(invitation.expires_at),
        "reminder": reminder,
    }
    with translation.override(invitation.language):
        subject = " ".join(render_to_string("surveys/email/subject.txt", context).split())
        body = render_to_string("surveys/email/invitation.txt", context)
    return EmailMessage(
        subject=subject,
        body=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[invitation.email],
        headers={
            "List-Unsubscribe": f"<{unsubscribe}>",
            "Auto-Submitted": "auto-generated",
            "X-Auto-Response-Suppress": "All",
            "X-Manyi-Survey": str(invitation.pk),
        },
    )


def send_invitation_email(invitation_id: int, *, reminder: bool = False) -> bool:
    """Mail the invitation (or its reminder); ``False`` when there was nothing to send or the
    mail server refused it."""
    invitation = Invitation.objects.select_related("rule").filter(pk=invitation_id).first()
    if invitation is None or not invitation.email or invitation.expires_at is None:
        return False
    message = render_invitation_email(invitation, reminder=reminder)
    try:
        message.send()
    except (smtplib.SMTPException, OSError) as exc:
        log.exception("survey e-mail for invitation %s failed", invitation_id)
        Invitation.objects.filter(pk=invitation_id).update(email_error=str(exc)[:2000])
        return False
    return True
