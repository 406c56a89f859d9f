"""API tokens: issued once and stored as a digest, refused when missing, unknown, expired or
revoked, their use recorded at most once a minute; and the ``manyi token`` commands."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from typer.testing import CliRunner

from manyi.cli import app
from manyi.desk.accounts.models import ApiToken
from manyi.desk.accounts.tokens import (
    TokenError,
    authenticate_token,
    create_api_token,
    revoke_api_token,
)

pytestmark = pytest.mark.django_db


def refused(response: Any, code: str) -> None:
    assert response.status_code == 401, response.content
    assert response.json()["code"] == code
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_a_token_is_random_prefixed_and_only_its_digest_is_stored(staff: Any) -> None:
    token, row = create_api_token(staff["ana"], "shop sync", expires_in_days=30)
    other, _row = create_api_token(staff["ana"], "shop sync")
    assert token.startswith("mny_")
    assert len(token) == 4 + 43
    assert token != other
    assert row.prefix == token[:12]
    assert row.digest == hashlib.sha256(token.encode()).hexdigest()
    assert not ApiToken.objects.filter(digest=token).exists()
    assert all(token not in str(v) for v in ApiToken.objects.values_list(flat=False))
    assert row.expires_at is not None
    assert timedelta(days=29) < row.expires_at - timezone.now() <= timedelta(days=30)


def test_calls_without_a_usable_token_are_401_and_change_nothing(
    api: Any, staff: Any, make_case: Any, state: Any
) -> None:
    case = make_case()
    expired, expired_row = create_api_token(staff["ana"], "old", expires_in_days=1)
    ApiToken.objects.filter(pk=expired_row.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    revoked, revoked_row = create_api_token(staff["ana"], "leaked")
    revoke_api_token(revoked_row.prefix)
    note = f"/api/cases/{case.case_id}/notes"
    before = state()
    refused(api.post(note, {"body": "x"}, as_=None), "unauthorized")
    refused(api.post(note, {"body": "x"}, token="mny_" + "A" * 43), "token_unknown")
    refused(api.post(note, {"body": "x"}, token="not-even-ours"), "token_unknown")
    refused(api.post(note, {"body": "x"}, token=expired), "token_expired")
    refused(api.post(note, {"body": "x"}, token=revoked), "token_revoked")
    basic = api.post(note, {"body": "x"}, as_=None, headers={"Authorization": "Basic YTpi"})
    refused(basic, "unauthorized")
    refused(api.get("/api/cases", token=expired), "token_expired")
    assert state() == before


def test_a_token_of_an_inactive_user_is_refused(api: Any, staff: Any) -> None:
    staff["ana"].is_active = False
    staff["ana"].save(update_fields=["is_active"])
    refused(api.get("/api/cases", as_="ana"), "token_inactive_user")


def test_last_used_is_written_at_most_once_a_minute(staff: Any) -> None:
    token, row = create_api_token(staff["mei"], "dashboard")
    start = timezone.now()
    authenticate_token(token, now=start)
    row.refresh_from_db()
    assert row.last_used_at == start
    authenticate_token(token, now=start + timedelta(seconds=59))
    row.refresh_from_db()
    assert row.last_used_at == start
    authenticate_token(token, now=start + timedelta(seconds=60))
    row.refresh_from_db()
    assert row.last_used_at == start + timedelta(seconds=60)


def test_revoking_needs_a_unique_live_prefix(staff: Any, state: Any) -> None:
    _token, row = create_api_token(staff["mei"], "one")
    ApiToken.objects.create(user=staff["mei"], name="twin", prefix=row.prefix, digest="0" * 64)
    before = state()
    with pytest.raises(TokenError) as ambiguous:
        revoke_api_token(row.prefix)
    assert ambiguous.value.code == "ambiguous"
    with pytest.raises(TokenError) as unknown:
        revoke_api_token("mny_nothing")
    assert unknown.value.code == "unknown"
    assert state() == before


def test_token_names_and_lifetimes_are_checked(staff: Any, state: Any) -> None:
    before = state()
    for name, days in (("", None), ("x" * 65, None), ("ok", 0)):
        with pytest.raises(TokenError):
            create_api_token(staff["mei"], name, expires_in_days=days)
    assert state() == before


def test_the_token_commands_create_list_and_revoke(api: Any, staff: Any) -> None:
    runner = CliRunner()
    created = runner.invoke(app, ["token", "create", "--user", "ana", "--name", "erp", "-d", "7"])
    assert created.exit_code == 0, created.output
    token = created.stdout.strip().splitlines()[-1]
    assert token.startswith("mny_")
    assert api.get("/api/cases", token=token).status_code == 200

    listed = runner.invoke(app, ["token", "list", "--user", "ana"])
    assert listed.exit_code == 0, listed.output
    assert token[:12] in listed.stdout
    assert token not in listed.stdout
    assert "erp" in listed.stdout

    revoked = runner.invoke(app, ["token", "revoke", "--prefix", token[:12]])
    assert revoked.exit_code == 0, revoked.output
    refused(api.get("/api/cases", token=token), "token_revoked")
    assert "revoked" in runner.invoke(app, ["token", "list"]).stdout

    nobody = runner.invoke(app, ["token", "create", "--user", "nobody", "--name", "x"])
    assert nobody.exit_code == 1
    assert "No user" in nobody.output
