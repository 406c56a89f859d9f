"""Idempotency keys: a retried create returns the first response and creates nothing, also
when the retries race each other."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from manyi.desk.api.idempotency import purge_expired_keys
from manyi.desk.api.models import IdempotencyKey
from manyi.desk.cases.models import Case, Message

NEW_CASE = {"kind": "question", "channel": "api", "subject": "Where is my parcel?"}
KEY = {"Idempotency-Key": "9b7c6f1e-0d5a-4c1e-8f7a-2a3b4c5d6e7f"}


@pytest.mark.django_db
def test_a_retry_gets_the_stored_response_and_creates_nothing(api: Any, state: Any) -> None:
    first = api.post("/api/cases", NEW_CASE, headers=KEY)
    assert first.status_code == 201
    assert "Idempotent-Replayed" not in first
    after_first = state()
    retry = api.post("/api/cases", NEW_CASE, headers=KEY)
    assert retry.status_code == 201
    assert retry["Idempotent-Replayed"] == "true"
    assert retry.content == first.content
    assert state() == after_first
    assert Case.objects.count() == 1
    stored = IdempotencyKey.objects.get()
    assert (stored.key, stored.status_code, stored.user.username) == (
        KEY["Idempotency-Key"],
        201,
        "mei",
    )


@pytest.mark.django_db
def test_the_same_key_with_another_body_is_refused(api: Any, state: Any) -> None:
    api.post("/api/cases", NEW_CASE, headers=KEY)
    before = state()
    other = api.post("/api/cases", {**NEW_CASE, "subject": "Something else"}, headers=KEY)
    assert other.status_code == 422
    body = other.json()
    assert body["code"] == "idempotency_key_reused"
    assert set(body["fields"]) == {"Idempotency-Key"}
    assert state() == before


@pytest.mark.django_db
def test_the_same_key_on_another_path_is_refused(api: Any, make_case: Any, state: Any) -> None:
    case = make_case()
    api.post(f"/api/cases/{case.case_id}/notes", {"body": "same"}, headers=KEY)
    before = state()
    reply = api.post(f"/api/cases/{case.case_id}/replies", {"body": "same"}, headers=KEY)
    assert reply.status_code == 422
    assert reply.json()["code"] == "idempotency_key_reused"
    assert state() == before


@pytest.mark.django_db
def test_a_refused_create_keeps_no_key_so_the_corrected_request_can_reuse_it(
    api: Any, state: Any
) -> None:
    before = state()
    bad = api.post("/api/cases", {**NEW_CASE, "team": "nobody"}, headers=KEY)
    assert bad.status_code == 422
    assert state() == before
    # Corrected body, same key: the first attempt left nothing behind, so this one creates.
    good = api.post("/api/cases", NEW_CASE, headers=KEY)
    assert good.status_code == 201
    assert Case.objects.count() == 1


@pytest.mark.django_db
def test_keys_belong_to_one_user(api: Any) -> None:
    mine = api.post("/api/cases", NEW_CASE, headers=KEY, as_="mei").json()
    theirs = api.post("/api/cases", NEW_CASE, headers=KEY, as_="ana").json()
    assert mine["id"] != theirs["id"]
    assert Case.objects.count() == 2


@pytest.mark.django_db
def test_replies_are_idempotent_too(api: Any, make_case: Any) -> None:
    case = make_case()
    path = f"/api/cases/{case.case_id}/replies"
    first = api.post(path, {"body": "We are on it."}, headers=KEY, as_="ana")
    again = api.post(path, {"body": "We are on it."}, headers=KEY, as_="ana")
    assert first.status_code == again.status_code == 201
    assert first.json()["id"] == again.json()["id"]
    assert Message.objects.filter(body="We are on it.").count() == 1
    case.refresh_from_db()
    assert case.version == 2


@pytest.mark.django_db
def test_expired_keys_are_purged_and_an_expired_key_is_new_again(api: Any) -> None:
    first = api.post("/api/cases", NEW_CASE, headers=KEY).json()
    IdempotencyKey.objects.update(created_at=timezone.now() - timedelta(hours=24, seconds=1))
    again = api.post("/api/cases", NEW_CASE, headers=KEY).json()
    assert again["id"] != first["id"]
    assert IdempotencyKey.objects.count() == 1
    IdempotencyKey.objects.update(created_at=timezone.now() - timedelta(hours=25))
    api.post("/api/cases", {**NEW_CASE, "subject": "fresh"}, headers={"Idempotency-Key": "k2"})
    assert purge_expired_keys() == 1
    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["k2"]


@pytest.mark.django_db(transaction=True)
def test_concurrent_retries_with_one_key_create_exactly_one_case(staff: Any) -> None:
    """Eight threads send the same create with the same key at once, each on its own database
    connection: one creates the case, the others wait on the key row and replay its response."""
    threads_n = 8
    barrier = threading.Barrier(threads_n)
    results: list[tuple[int, Any]] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def send() -> None:
        try:
            client = Client(HTTP_ACCEPT_LANGUAGE="en")
            barrier.wait(timeout=30)
            response = client.post(
                "/api/cases",
                NEW_CASE,
                content_type="application/json",
                headers={"Authorization": f"Bearer {staff.tokens['mei']}", **KEY},
            )
            with lock:
                results.append((response.status_code, response.json()))
        except BaseException as exc:  # pragma: no cover - reported below
            with lock:
                errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(threads_n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors
    assert len(results) == threads_n
    assert {status for status, _body in results} == {201}
    assert len({body["id"] for _status, body in results}) == 1
    assert Case.objects.count() == 1
    assert IdempotencyKey.objects.count() == 1
