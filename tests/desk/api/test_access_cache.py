"""The per-process cache of permissions, roles and teams (manyi.desk.accounts.access).

A change made through Django (the admin, the services) takes effect on the next request; a
change that bypasses this process's signals (another worker process, a raw UPDATE) takes effect
when the entry expires.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext

from manyi.desk.accounts import access
from manyi.desk.accounts.models import Team
from manyi.desk.accounts.roles import Role


@pytest.mark.django_db
def test_a_cached_user_costs_one_query_per_request(api: Any, make_case: Any) -> None:
    case = make_case(team="returns")
    assert api.get(f"/api/cases/{case.case_id}", as_="ana").status_code == 200
    with CaptureQueriesContext(connection) as queries:
        assert api.get(f"/api/cases/{case.case_id}", as_="ana").status_code == 200
    tables = [q["sql"].split(" FROM ", 1)[1].split()[0] for q in queries.captured_queries]
    # the token (with its user) is read on every request; permissions, roles, teams are not
    assert tables[0] == '"api_tokens"'
    assert not {'"auth_permission"', '"auth_group"', '"teams"'} & set(tables)


@pytest.mark.django_db
def test_removing_a_role_here_takes_effect_on_the_next_request(
    api: Any, staff: Any, make_case: Any
) -> None:
    case = make_case(team="returns")
    assert api.get(f"/api/cases/{case.case_id}", as_="ana").status_code == 200
    staff["ana"].groups.remove(Group.objects.get(name=Role.AGENT))  # m2m_changed clears
    refused = api.get(f"/api/cases/{case.case_id}", as_="ana")
    assert refused.status_code == 403
    assert refused.json()["code"] == "forbidden"


@pytest.mark.django_db
def test_leaving_a_team_here_hides_its_cases_at_once(api: Any, staff: Any, make_case: Any) -> None:
    case = make_case(team="returns")
    assert api.get(f"/api/cases/{case.case_id}", as_="ana").status_code == 200
    Team.objects.get(code="returns").members.remove(staff["ana"])
    assert api.get(f"/api/cases/{case.case_id}", as_="ana").status_code == 404


@pytest.mark.django_db
def test_a_change_behind_the_caches_back_shows_after_the_ttl(
    api: Any, staff: Any, make_case: Any, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another process's change sends no signal here: the entry lives until it expires."""
    settings.MANYI_ACCESS_CACHE_SECONDS = 5
    clock = [1000.0]
    monkeypatch.setattr(access.time, "monotonic", lambda: clock[0])
    case = make_case(team="returns")
    assert api.get(f"/api/cases/{case.case_id}", as_="ana").status_code == 200
    team = Team.objects.get(code="returns")
    # as another process would: straight to the table, no signal in this process
    team.members.through.objects.filter(team=team, user=staff["ana"]).delete()
    clock[0] += 4.9
    assert api.get(f"/api/cases/{case.case_id}", as_="ana").status_code == 200
    clock[0] += 0.2
    assert api.get(f"/api/cases/{case.case_id}", as_="ana").status_code == 404


@pytest.mark.django_db
def test_ttl_zero_reads_every_request(api: Any, staff: Any, make_case: Any, settings: Any) -> None:
    settings.MANYI_ACCESS_CACHE_SECONDS = 0
    case = make_case(team="returns")
    assert api.get(f"/api/cases/{case.case_id}", as_="ana").status_code == 200
    team = Team.objects.get(code="returns")
    team.members.through.objects.filter(team=team, user=staff["ana"]).delete()
    assert api.get(f"/api/cases/{case.case_id}", as_="ana").status_code == 404


@pytest.mark.django_db
def test_a_deactivated_user_is_refused_at_once(api: Any, staff: Any, make_case: Any) -> None:
    case = make_case(team="returns")
    assert api.get(f"/api/cases/{case.case_id}", as_="ana").status_code == 200
    type(staff["ana"]).objects.filter(pk=staff["ana"].pk).update(is_active=False)  # no signal
    refused = api.get(f"/api/cases/{case.case_id}", as_="ana")
    assert refused.status_code == 401
