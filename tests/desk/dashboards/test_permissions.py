"""Who sees and changes what: every page, export and the API, per role.

Admins, managers and analysts see the whole dashboard, alerts and campaigns; only admins and
managers change rules, acknowledge and edit campaigns; analysts may run a review. Agents see
their own teams' service block and nothing else; an agent without a team sees no dashboard.
"""

from __future__ import annotations

from typing import Any

import pytest

from manyi.desk.dashboards.models import AlertEvent, AlertRule, Campaign
from manyi.desk.dashboards.source import desk_source

pytestmark = pytest.mark.django_db

PAGES = [
    "/desk/dashboard/",
    "/desk/alerts/",
    "/desk/alerts/history/",
    "/desk/campaigns/",
]


@pytest.mark.parametrize("path", [*PAGES, "/desk/alerts/new/", "/desk/campaigns/new/"])
def test_anonymous_visitors_are_sent_to_the_login(client: Any, path: str) -> None:
    response = client.get(path)

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("name", ["root", "mei", "li"])
@pytest.mark.parametrize("path", PAGES)
def test_admins_managers_and_analysts_see_every_page(login: Any, name: str, path: str) -> None:
    assert login(name).get(path).status_code == 200


@pytest.mark.parametrize("path", ["/desk/alerts/", "/desk/campaigns/", "/desk/alerts/history/"])
def test_agents_see_no_alerts_or_campaigns(login: Any, path: str) -> None:
    assert login("ana").get(path).status_code == 403


def test_an_agent_without_a_team_sees_no_dashboard(login: Any) -> None:
    assert login("bo").get("/desk/dashboard/").status_code == 403


def test_an_agent_sees_only_the_service_block_of_her_team(login: Any) -> None:
    response = login("ana").get("/desk/dashboard/?team=vip&seller=s1")

    assert response.status_code == 200
    blocks = [b["key"] for b in response.context["blocks"]]
    assert blocks == ["service"]
    assert response.context["filters"].team == "returns"  # another team's code is ignored
    assert response.context["filters"].seller is None


def test_agents_may_not_read_other_blocks_rows_or_exports(login: Any) -> None:
    client = login("ana")

    assert client.get("/desk/dashboard/block/satisfaction/").status_code == 404
    assert client.get("/desk/dashboard/export/voice/aspects.csv").status_code == 404
    assert client.get("/desk/dashboard/rows/reviews/").status_code == 403
    assert client.get("/desk/dashboard/rows/responses/").status_code == 403


def test_the_navigation_shows_each_role_its_links(login: Any) -> None:
    manager = login("mei").get("/desk/").content.decode()
    assert "/desk/dashboard/" in manager
    assert "/desk/alerts/" in manager
    assert "/desk/campaigns/" in manager

    agent = login("ana").get("/desk/").content.decode()
    assert "/desk/dashboard/" in agent
    assert "/desk/alerts/" not in agent
    assert "/desk/campaigns/" not in agent


RULE = {
    "name": "Late deliveries",
    "type": "threshold",
    "metric": "late_share",
    "freq": "day",
    "op": ">",
    "value": "0.15",
    "window": "1",
    "min_n": "0",
    "cooldown": "0",
    "language": "zh-hans",
    "enabled": "on",
}


def test_analysts_may_not_create_rules_and_nothing_is_written(login: Any) -> None:
    client = login("li")

    assert client.get("/desk/alerts/new/").status_code == 403
    assert client.post("/desk/alerts/new/", RULE).status_code == 403
    assert AlertRule.objects.count() == 0


def test_analysts_may_not_acknowledge(login: Any, staff: Any) -> None:
    from django.utils import timezone

    rule = AlertRule.objects.create(
        name="r", rule={"type": "change", "metric": "orders"}, created_at=timezone.now(),
        updated_at=timezone.now(),
    )  # fmt: skip
    event = AlertEvent.objects.create(
        rule=rule, period="2018-03-01", fired_at=timezone.now(), rule_type="change",
        metric="orders", message_en="m", message_zh="m",
    )  # fmt: skip

    response = login("li").post(f"/desk/alerts/events/{event.pk}/ack/")

    assert response.status_code == 403
    event.refresh_from_db()
    assert event.acknowledged_at is None


def test_analysts_may_not_create_campaigns_but_may_ask_for_a_review(login: Any) -> None:
    client = login("li")
    data = {"name": "双 11", "starts_on": "2026-11-11", "ends_on": "2026-11-11"}
    assert client.post("/desk/campaigns/new/", data).status_code == 403
    assert Campaign.objects.count() == 0

    campaign = login("mei").post("/desk/campaigns/new/", data)
    assert campaign.status_code == 302
    created = Campaign.objects.get()
    response = login("li").post(f"/desk/campaigns/{created.pk}/review/")
    assert response.status_code == 302
    assert created.reviews.count() == 1


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("name", "status"), [("li", 200), ("mei", 200), ("ana", 403)])
def test_the_report_api_is_for_the_roles_that_see_the_dashboard(
    client: Any, token: Any, name: str, status: int
) -> None:
    response = client.get(
        "/api/report?since=2026-01-01&until=2026-01-31",
        HTTP_AUTHORIZATION=f"Bearer {token(name)}",
    )

    assert response.status_code == status


def test_the_report_api_needs_a_token_or_a_session(client: Any) -> None:
    response = client.get("/api/report")

    assert response.status_code == 401
    assert response.json()["code"] == "unauthorized"


def test_sources_are_opened_on_the_test_database(db: None) -> None:
    from django.db import connection

    with desk_source() as src:
        assert str(connection.settings_dict["NAME"]) in src.spec
