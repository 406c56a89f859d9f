from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from manyi.data import open_reader
from manyi.data.samples import sample_path
from manyi.desk.accounts.roles import Role
from manyi.desk.accounts.services import create_staff_user
from manyi.desk.commerce.services import import_source

pytestmark = pytest.mark.django_db


def test_the_overview_needs_a_login(client: Client) -> None:
    response = client.get(reverse("commerce:overview"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_a_user_without_the_role_is_refused(client: Client) -> None:
    User.objects.create_user("visitor", password="a-long-password-1")
    client.login(username="visitor", password="a-long-password-1")
    assert client.get(reverse("commerce:overview")).status_code == 403


def test_an_agent_sees_the_shop_in_chinese_and_english(client: Client) -> None:
    import_source(open_reader("olist", sample_path("olist")), kind="olist", source="sample")
    create_staff_user("agent", "a-long-password-1", role=Role.AGENT)
    client.login(username="agent", password="a-long-password-1")
    zh = client.get(reverse("commerce:overview"), HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert zh.status_code == 200
    assert "3000" in zh.content.decode()  # Chinese formatting has no thousands comma
    assert "店铺概览" in zh.content.decode()
    en = client.get(reverse("commerce:overview"), HTTP_ACCEPT_LANGUAGE="en")
    assert "Shop overview" in en.content.decode()
    assert "3,000" in en.content.decode()
    # Agents do not see the import log; managers do.
    assert "olist" not in en.content.decode().split("Ratings", 1)[1]


def test_roles_are_idempotent_and_exact() -> None:
    create_staff_user("m", "a-long-password-1", role=Role.MANAGER)
    create_staff_user("m", "another-password-2", role=Role.AGENT)
    user = User.objects.get(username="m")
    assert [g.name for g in user.groups.all()] == ["agent"]
    assert user.check_password("another-password-2")
    assert user.has_perm("commerce.view_order")
    assert not user.has_perm("commerce.view_importrun")
