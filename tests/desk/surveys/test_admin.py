"""Survey configuration in the admin: pages open, published versions are read-only, drafts are
started and published with the actions, link-only invitations show their link."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from manyi.desk.surveys.links import make_survey_token
from manyi.desk.surveys.models import Instrument, InstrumentVersion, VersionStatus

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "model",
    [
        "instrument",
        "instrumentversion",
        "surveyrule",
        "surveysettings",
        "invitation",
        "surveyresponse",
        "optout",
    ],
)
def test_every_survey_admin_page_opens(
    admin_client: Client, model: str, invite: Any, submit: Any
) -> None:
    submit(invite("case"), {"csat.csat": "5", "ces_effort_5.ces": "1"})

    page = admin_client.get(reverse(f"admin:surveys_{model}_changelist"))

    assert page.status_code == 200


def test_a_published_version_is_read_only_and_a_draft_is_published_by_action(
    admin_client: Client,
) -> None:
    published = InstrumentVersion.objects.get(instrument_id="nps", status=VersionStatus.PUBLISHED)
    page = admin_client.get(reverse("admin:surveys_instrumentversion_change", args=[published.pk]))
    assert page.status_code == 200
    assert 'name="questions-0-text_en"' not in page.content.decode()  # no editable questions

    admin_client.post(
        reverse("admin:surveys_instrument_changelist"),
        {"action": "make_draft", "_selected_action": ["nps"]},
    )
    draft = InstrumentVersion.objects.get(instrument_id="nps", status=VersionStatus.DRAFT)
    edit = admin_client.get(reverse("admin:surveys_instrumentversion_change", args=[draft.pk]))
    assert 'name="questions-0-text_en"' in edit.content.decode()

    admin_client.post(
        reverse("admin:surveys_instrumentversion_changelist"),
        {"action": "publish", "_selected_action": [str(draft.pk)]},
    )
    published.refresh_from_db()
    draft.refresh_from_db()
    assert (published.status, draft.status) == (VersionStatus.RETIRED, VersionStatus.PUBLISHED)
    assert Instrument.objects.get(code="nps").versions.count() == 2


def test_a_link_only_invitation_shows_its_link_to_staff(
    admin_client: Client, invite: Any, clock: Any, now: datetime
) -> None:
    invitation = invite("order")
    clock(now + timedelta(hours=1))

    page = admin_client.get(
        reverse("admin:surveys_invitation_changelist"), HTTP_ACCEPT_LANGUAGE="en"
    )

    html = page.content.decode()
    payload = make_survey_token(invitation.pk).split(":")[0]  # the signed part naming it
    assert f'href="http://localhost:8000/s/{payload}:' in html
    assert 'rel="noreferrer">survey link</a>' in html
