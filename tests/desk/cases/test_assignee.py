"""The canonical ``cases.assignee`` is the agent's username, the identifier survey responses
carry in ``agent_id``; the desk keeps its foreign key to the user in ``assignee_user_id``."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from django.apps import apps as django_apps
from django.db import connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.db.utils import IntegrityError
from django.utils import timezone

from manyi.desk.cases.events import Actor
from manyi.desk.cases.models import Case
from manyi.desk.cases.services import NewCase, assign_case, open_case, transition_case
from manyi.desk.dashboards.source import open_desk_source
from manyi.desk.surveys.jobs import run_survey_jobs
from manyi.desk.surveys.models import Invitation, SurveyRule, SurveySettings
from manyi.desk.surveys.services import submit_response
from manyi.desk.surveys.standard import install_standard
from manyi.insight.service import response_times

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=timezone.get_fixed_timezone(480))


def _columns(case_id: int) -> tuple[Any, Any]:
    """``(assignee, assignee_user_id)`` as stored: what other readers of the table see."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT assignee, assignee_user_id FROM cases WHERE case_id = %s", [case_id])
        row = cursor.fetchone()
    return row[0], row[1]


def _question(staff: Any, **options: Any) -> Case:
    return open_case(
        NewCase(kind="question", channel="email", subject="发票什么时候开？", **options),
        actor=staff.actor("manager"),
        now=NOW - timedelta(days=2),
    )


@pytest.mark.django_db
def test_the_canonical_column_holds_the_username_and_follows_every_assignment(staff: Any) -> None:
    case = _question(staff, team="returns", assignee_id=staff.agent.pk)
    assert _columns(case.case_id) == ("ana", staff.agent.pk)
    assert (case.assignee, case.assignee_username) == (staff.agent, "ana")

    assign_case(
        case.case_id, actor=staff.actor("manager"), team="vip", assignee_id=staff.other_agent.pk
    )

    assert _columns(case.case_id) == ("bo", staff.other_agent.pk)
    unassigned = _question(staff)
    assert _columns(unassigned.case_id) == (None, None)


@pytest.mark.django_db
def test_a_username_without_its_user_is_refused_by_the_database(staff: Any) -> None:
    case = _question(staff)

    with pytest.raises(IntegrityError), transaction.atomic():
        Case.objects.filter(pk=case.pk).update(assignee_username="ana")

    assert _columns(case.case_id) == (None, None)


@pytest.mark.django_db(transaction=True)
def test_the_migration_gives_existing_cases_their_assignees_username(staff: Any) -> None:
    # Given a case assigned before the change, when cases.assignee held the user's id
    executor = MigrationExecutor(connection)
    executor.migrate([("cases", "0002_defaults")])
    old = executor.loader.project_state([("cases", "0002_defaults")]).apps
    OldCase = old.get_model("cases", "Case")  # noqa: N806
    now = NOW - timedelta(days=1)
    common = {"kind": "question", "channel": "web", "opened_at": now, "updated_at": now}
    assigned = OldCase.objects.create(subject="assigned", assignee_id=staff.agent.pk, **common)
    unassigned = OldCase.objects.create(subject="unassigned", **common)

    # When the migrations run
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())

    # Then the column holds the username and the link moved to assignee_user_id
    assert _columns(assigned.pk) == ("ana", staff.agent.pk)
    assert _columns(unassigned.pk) == (None, None)


@pytest.mark.django_db(transaction=True)
def test_service_kpis_and_survey_answers_by_agent_meet_on_the_username(staff: Any) -> None:
    # Given a case of ana's, resolved, and the customer's CSAT answer to it
    install_standard(django_apps, NOW - timedelta(days=1))
    SurveyRule.objects.update(checkpoint_at=NOW - timedelta(days=1), grace_days=7, active=True)
    SurveySettings.objects.filter(pk=1).update(fatigue_days=30, link_days=28)
    case = _question(
        staff, team="returns", assignee_id=staff.agent.pk, contact_email="wang@example.com"
    )
    ana = Actor.staff(staff.agent)
    transition_case(case.case_id, "triage", actor=ana, fields={"diagnosis": "发票"},
                    now=NOW - timedelta(days=2) + timedelta(hours=1))  # fmt: skip
    transition_case(case.case_id, "resolve", actor=ana, now=NOW - timedelta(days=1, hours=2))
    run_survey_jobs(NOW)
    invitation = Invitation.objects.get(case_id=case.case_id)
    submit_response(invitation.pk, {"csat.csat": "5", "ces_effort_5.ces": "2"}, now=NOW)

    # When the analysis reads the desk database
    with open_desk_source() as src:
        by_agent = response_times(src, by="assignee")
        cases, responses = src.table("cases"), src.table("survey_responses")
        joined = src.execute(
            cases.join(responses, cases.assignee == responses.agent_id)
            .select(cases.case_id, responses.agent_id)
            .distinct()
        )

    # Then both name the agent "ana", and they join on it
    assert list(by_agent["assignee"]) == ["ana"]
    assert int(by_agent["cases"].iloc[0]) == 1
    assert joined.to_dict("records") == [{"case_id": case.case_id, "agent_id": "ana"}]
