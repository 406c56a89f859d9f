"""The public survey page ``/s/<token>/`` through Django's test client: tokens, languages,
validation per field, editing until the survey closes, CSRF, and what a bad link shows."""

from __future__ import annotations

import re
import time
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.core import signing
from django.test import Client
from django.urls import reverse

from manyi.desk.channels.links import make_case_token
from manyi.desk.surveys.links import SALT, make_survey_token
from manyi.desk.surveys.models import (
    Invitation,
    RuleInstrument,
    SurveyAnswer,
    SurveyResponse,
    SurveyRule,
    SurveySettings,
    SurveyTextAnswer,
)
from manyi.desk.surveys.triggers import scan_triggers

pytestmark = pytest.mark.django_db

CSAT_AND_CES = {"csat.csat": "4", "csat.reason": "speed", "ces_effort_5.ces": "2"}


@pytest.fixture(autouse=True)
def frozen(clock: Any, now: datetime) -> None:
    clock(now + timedelta(hours=1))


@pytest.fixture(params=["with the page's language", "without a language"])
def send(request: pytest.FixtureRequest, client: Client) -> Any:
    """``send(invitation, answers)``: POST the form as the page sends it (with its hidden
    ``lang``) or without ``lang`` (the view then reads the page first: another path)."""

    def post(invitation: Invitation, data: dict[str, str]) -> Any:
        form = dict(data)
        if request.param == "with the page's language":
            form["lang"] = invitation.language
        return client.post(url(invitation), form)

    return post


def url(invitation: Invitation, **params: str) -> str:
    query = "&".join(f"{k}={v}" for k, v in params.items())
    path = reverse("surveys:answer", args=[make_survey_token(invitation.pk)])
    return f"{path}?{query}" if query else path


def stored(invitation: Invitation) -> tuple[object, ...]:
    """Everything the page may write for an invitation: equal tuples mean nothing changed."""
    invitation.refresh_from_db()
    return (
        invitation.answered_at,
        sorted(
            SurveyResponse.objects.filter(invitation=invitation).values_list(
                "instrument_id", "answered_at", "updated_at"
            )
        ),
        sorted(
            SurveyAnswer.objects.filter(response__invitation=invitation).values_list(
                "item", "value"
            )
        ),
        sorted(
            SurveyTextAnswer.objects.filter(response__invitation=invitation).values_list(
                "item", "text"
            )
        ),
    )


def test_the_page_asks_in_the_invitations_language_with_real_radio_buttons(
    invite: Any, client: Client, django_assert_max_num_queries: Any
) -> None:
    invitation = invite("case", language="zh-hans")

    with django_assert_max_num_queries(7):
        page = client.get(url(invitation))

    html = page.content.decode()
    assert page.status_code == 200
    assert '<html lang="zh-Hans">' in html
    assert "总体来说，您对我们这次处理您的问题的服务满意吗？" in html
    assert "为了处理这个问题，您个人花了多少力气？" in html
    # one fieldset and legend per question, a real radio per point, labels tied to inputs
    assert html.count("<fieldset") == 3  # csat, reason, ces
    assert "<legend>" in html
    for n in range(1, 6):
        assert f'<input type="radio" id="q-csat-csat-{n}" name="csat.csat" value="{n}"' in html
        assert f'<label class="option" for="q-csat-csat-{n}">' in html
    assert 'aria-describedby="q-csat-csat-help"' in html
    assert 'id="q-csat-csat-help"' in html
    assert "<textarea" in html
    assert 'for="q-csat-comment"' in html
    assert 'name="csrfmiddlewaretoken"' in html
    assert "<script" not in html  # no script needed
    assert page["Referrer-Policy"] == "same-origin"
    assert "no-store" in page["Cache-Control"]


def test_the_language_can_be_switched(invite: Any, client: Client) -> None:
    invitation = invite("case", language="zh-hans")

    page = client.get(url(invitation, lang="en"))

    html = page.content.decode()
    assert '<html lang="en">' in html
    assert "Overall, how satisfied are you with how we handled your request?" in html
    assert "1 = Very dissatisfied" in html
    assert 'name="lang" value="en"' in html
    assert page["Content-Language"] == "en"


def test_an_answer_is_saved_and_thanked(
    invite: Any, client: Client, send: Any, now: datetime
) -> None:
    invitation = invite("case", language="en")

    sent = send(invitation, {**CSAT_AND_CES, "csat.comment": "  Quick, thanks  "})

    assert sent.status_code == 302
    thanks = client.get(sent["Location"])
    assert thanks.status_code == 200
    assert "Thank you!" in thanks.content.decode()
    answers = dict(
        SurveyAnswer.objects.filter(response__invitation=invitation).values_list("item", "value")
    )
    texts = dict(
        SurveyTextAnswer.objects.filter(response__invitation=invitation).values_list("item", "text")
    )
    assert answers == {"csat": 4.0, "ces": 2.0}
    assert texts == {"reason": "speed", "comment": "Quick, thanks"}
    csat = SurveyResponse.objects.get(invitation=invitation, instrument_id="csat")
    assert (csat.agent_id, csat.team_id, csat.case_id, csat.channel, csat.language) == (
        "ana",
        "returns",
        invitation.case_id,
        "email",
        "en",
    )
    assert csat.answered_at == now + timedelta(hours=1)
    invitation.refresh_from_db()
    assert invitation.answered_at == csat.answered_at


def test_errors_are_shown_per_field_and_nothing_is_half_written(
    invite: Any, client: Client, send: Any
) -> None:
    invitation = invite("case", language="en")
    before = stored(invitation)

    # CSAT answered, CES out of its scale, a reason that is not on the list
    page = send(invitation, {"csat.csat": "5", "csat.reason": "price", "ces_effort_5.ces": "9"})

    html = page.content.decode()
    assert page.status_code == 400
    assert stored(invitation) == before
    assert 'class="error-summary"' in html
    assert "autofocus" in html
    assert 'href="#q-ces_effort_5-ces-1"' in html  # the summary links to the first radio
    assert 'id="q-ces_effort_5-ces-error"' in html
    assert re.search(
        r'id="q-ces_effort_5-ces" aria-describedby="[^"]*q-ces_effort_5-ces-error"', html
    )
    assert "Choose one of the points from 1 to 5." in html
    assert 'id="q-csat-reason-error"' in html
    # what was given is kept: the CSAT answer stays checked
    assert 'value="5" checked' in html


def test_a_missing_required_answer_is_reported_in_chinese(
    invite: Any, client: Client, send: Any
) -> None:
    invitation = invite("case", language="zh-hans")
    before = stored(invitation)

    page = send(invitation, {"ces_effort_5.ces": "3"})

    assert page.status_code == 400
    assert "请选择一个分数。" in page.content.decode()
    assert stored(invitation) == before


def test_submitting_again_edits_the_answer_until_the_survey_closes(
    invite: Any, client: Client, send: Any, clock: Any, now: datetime
) -> None:
    invitation = invite("case", language="en")
    send(invitation, CSAT_AND_CES)
    first = SurveyResponse.objects.get(invitation=invitation, instrument_id="csat")

    # the page shows the answers given, and a second submission replaces them
    clock(now + timedelta(days=2))
    page = client.get(url(invitation))
    assert 'data-testid="already-answered"' in page.content.decode()
    assert 'id="q-csat-csat-4" name="csat.csat" value="4" checked' in page.content.decode()
    send(invitation, {"csat.csat": "2", "ces_effort_5.ces": "4"})

    assert SurveyResponse.objects.filter(invitation=invitation).count() == 2  # one per instrument
    edited = SurveyResponse.objects.get(invitation=invitation, instrument_id="csat")
    assert (edited.response_id, edited.answered_at) == (first.response_id, first.answered_at)
    assert edited.updated_at == now + timedelta(days=2)
    assert dict(edited.answers.values_list("item", "value")) == {"csat": 2.0}
    assert not edited.text_answers.exists()  # the reason was taken back

    # when the link has closed, the page says so and a submission changes nothing
    clock(invitation.expires_at + timedelta(seconds=1))
    before = stored(invitation)
    closed = client.get(url(invitation))
    refused = send(invitation, {"csat.csat": "5", "ces_effort_5.ces": "1"})
    assert (closed.status_code, refused.status_code) == (410, 410)
    assert "Thank you: your answers were received" in refused.content.decode()
    assert stored(invitation) == before


def test_a_post_without_the_csrf_token_is_refused(invite: Any) -> None:
    invitation = invite("case")
    before = stored(invitation)

    page = Client(enforce_csrf_checks=True).post(url(invitation), CSAT_AND_CES)

    assert page.status_code == 403
    assert stored(invitation) == before


def test_forged_foreign_and_unknown_tokens_get_the_same_friendly_404(
    invite: Any, client: Client
) -> None:
    invitation = invite("case")
    good = make_survey_token(invitation.pk)
    forged = good[:-2] + ("AA" if not good.endswith("AA") else "BB")
    other_salt = make_case_token(invitation.case_id, "wang@example.com")
    unknown = make_survey_token(invitation.pk + 1000)
    changed_id = signing.dumps({"i": invitation.pk + 1}, salt="not-the-survey-salt")

    pages = [
        client.get(reverse("surveys:answer", args=[t]))
        for t in (forged, other_salt, unknown, changed_id, "nonsense")
    ]

    assert {p.status_code for p in pages} == {404}
    bodies = {p.content.decode() for p in pages}
    assert len(bodies) == 1  # nothing tells a forged link from one of a missing invitation
    body = bodies.pop()
    assert "This survey link does not work" in body or "这个问卷链接无法打开" in body
    assert f"#{invitation.case_id}" not in body
    assert "wang" not in body


def test_an_old_link_is_expired(invite: Any, client: Client, monkeypatch: Any) -> None:
    invitation = invite("case")
    minted_at = time.time() - 29 * 86400  # the link lives 28 days
    with monkeypatch.context() as m:
        m.setattr(time, "time", lambda: minted_at)
        old = signing.dumps({"i": invitation.pk}, salt=SALT)

    page = client.get(reverse("surveys:answer", args=[old]) + "?lang=en")

    assert page.status_code == 410
    assert "This survey link has expired" in page.content.decode()


def _minted(invitation_id: int, days_ago: float, monkeypatch: Any) -> str:
    minted_at = time.time() - days_ago * 86400
    with monkeypatch.context() as m:
        m.setattr(time, "time", lambda: minted_at)
        return signing.dumps({"i": invitation_id}, salt=SALT)


@pytest.mark.parametrize("lang", ["en", None])
def test_answers_to_an_old_link_are_refused_as_expired(
    invite: Any, client: Client, monkeypatch: Any, lang: str | None
) -> None:
    """A submission checks the link's age against the lifetime that the invitation's lock
    reads (not a separate settings read): nothing is written, the page says "expired"."""
    invitation = invite("case")
    before = stored(invitation)
    form = dict(CSAT_AND_CES, **({"lang": lang} if lang else {}))

    old = _minted(invitation.pk, 29, monkeypatch)  # the link lives 28 days
    page = client.post(reverse("surveys:answer", args=[old]), form)

    assert page.status_code == 410
    expired = "This survey link has expired" if lang == "en" else "这个问卷链接已过期"
    assert expired in page.content.decode()  # without ``lang``: the invitation's, Chinese
    assert stored(invitation) == before
    # A day younger than the lifetime, the same answers are taken.
    young = _minted(invitation.pk, 27, monkeypatch)
    assert client.post(reverse("surveys:answer", args=[young]), form).status_code == 302
    assert stored(invitation) != before


def test_a_submission_follows_the_desks_link_lifetime(
    invite: Any, client: Client, monkeypatch: Any
) -> None:
    invitation = invite("case")
    token = _minted(invitation.pk, 3, monkeypatch)
    form = dict(CSAT_AND_CES, lang="en")
    SurveySettings.objects.filter(pk=1).update(link_days=2)

    refused = client.post(reverse("surveys:answer", args=[token]), form)

    assert refused.status_code == 410
    assert Invitation.objects.get(pk=invitation.pk).answered_at is None
    SurveySettings.objects.filter(pk=1).update(link_days=4)
    assert client.post(reverse("surveys:answer", args=[token]), form).status_code == 302
    assert Invitation.objects.get(pk=invitation.pk).answered_at is not None


def test_an_old_link_to_no_invitation_is_expired_not_unknown(
    client: Client, monkeypatch: Any
) -> None:
    """As before the age moved into the lock's query: the age is judged first."""
    old = _minted(987_654, 29, monkeypatch)
    page = client.post(reverse("surveys:answer", args=[old]), dict(CSAT_AND_CES, lang="en"))
    assert page.status_code == 410
    # The same without the form's language (the view reads the page first: another path).
    assert client.post(reverse("surveys:answer", args=[old]), CSAT_AND_CES).status_code == 410
    unknown = _minted(987_654, 1, monkeypatch)
    page = client.post(reverse("surveys:answer", args=[unknown]), dict(CSAT_AND_CES, lang="en"))
    assert page.status_code == 404


def test_a_scheduled_invitation_has_no_page_yet(
    resolved_case: Any, client: Client, now: datetime
) -> None:
    case = resolved_case(at=now)
    scan_triggers(now)  # scheduled for tomorrow
    invitation = Invitation.objects.get(case=case)

    assert client.get(url(invitation)).status_code == 404
    before = stored(invitation)
    for form in (CSAT_AND_CES, {**CSAT_AND_CES, "lang": "en"}):
        refused = client.post(url(invitation), form)
        assert refused.status_code == 404
    assert stored(invitation) == before


def test_an_empty_form_is_sent_back_with_its_errors(invite: Any, send: Any) -> None:
    invitation = invite("case", language="en")
    before = stored(invitation)

    page = send(invitation, {})

    assert page.status_code == 400
    assert 'class="error-summary"' in page.content.decode()
    assert stored(invitation) == before


@pytest.fixture
def servqual_invitation(invite: Any) -> Invitation:
    rule = SurveyRule.objects.get(code="after_case")
    RuleInstrument.objects.filter(rule=rule).delete()
    RuleInstrument.objects.create(rule=rule, instrument_id="servqual", position=1)
    return invite("case", language="en")


def servqual_answers(**extra: str) -> dict[str, str]:
    data = {f"servqual.E{n}": "6" for n in range(1, 23)}
    data.update({f"servqual.P{n}": "5" for n in range(1, 23)})
    data.update(extra)
    return data


def test_servqual_weights_are_optional_but_must_add_up_to_100(
    servqual_invitation: Invitation, client: Client
) -> None:
    invitation = servqual_invitation
    before = stored(invitation)
    page = client.get(url(invitation))
    html = page.content.decode()
    assert html.count('type="radio"') == 44 * 7
    assert "What you expect of an excellent shop" in html
    assert html.count('type="number"') == 5

    weights = {
        "servqual.W_tangibles": "10",
        "servqual.W_reliability": "30",
        "servqual.W_responsiveness": "20",
        "servqual.W_assurance": "20",
        "servqual.W_empathy": "10",
    }
    wrong = client.post(url(invitation), servqual_answers(**weights))
    assert wrong.status_code == 400
    assert "The points add up to 90; they should add up to 100." in wrong.content.decode()
    assert stored(invitation) == before

    skipped = client.post(url(invitation), servqual_answers())
    assert skipped.status_code == 302
    response = SurveyResponse.objects.get(invitation=invitation)
    assert response.answers.count() == 44

    weights["servqual.W_empathy"] = "20"
    client.post(url(invitation), servqual_answers(**weights))
    assert response.answers.count() == 49
    assert response.answers.get(item="W_reliability").value == 30.0


def test_the_opt_out_link_of_a_forged_token_is_a_404(client: Client) -> None:
    page = client.get(reverse("surveys:opt_out", args=["forged:token"]))
    assert page.status_code == 404
