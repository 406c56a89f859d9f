"""Refusals: each bad request gets the right 4xx, a JSON body with field-level messages, and
changes nothing."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.django_db

NEW_CASE = {"kind": "question", "channel": "api", "subject": "Where is my parcel?"}


def assert_error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body: dict[str, Any] = response.json()
    assert set(body) == {"code", "message", "fields", "details"}
    assert body["code"] == code
    assert body["message"]
    return body


def test_unknown_fields_are_refused_by_name(api: Any, state: Any) -> None:
    before = state()
    body = assert_error(
        api.post("/api/cases", {**NEW_CASE, "priorty": "high", "secret": 1}), 422, "invalid"
    )
    assert body["fields"] == {"priorty": "Unknown field.", "secret": "Unknown field."}
    assert state() == before


def test_wrong_types_get_one_message_per_field(api: Any, state: Any) -> None:
    before = state()
    body = assert_error(
        api.post(
            "/api/cases",
            {
                "kind": "lost_parcel",
                "channel": "api",
                "subject": "",
                "order_lines": ["first"],
                "refund_amount": "12.345",
                "assignee_id": "me",
                "currency": "yuan",
            },
        ),
        422,
        "invalid",
    )
    assert set(body["fields"]) == {
        "kind",
        "subject",
        "order_lines.0",
        "refund_amount",
        "assignee_id",
        "currency",
    }
    assert "return_refund" in body["fields"]["kind"]
    assert "integer" in body["fields"]["order_lines.0"]
    assert "decimal places" in body["fields"]["refund_amount"]
    assert state() == before


def test_text_the_database_cannot_store_is_a_field_error(api: Any, state: Any) -> None:
    before = state()
    body = assert_error(
        api.post("/api/cases", {**NEW_CASE, "subject": "a\u0000b", "contact_name": "x" * 129}),
        422,
        "invalid",
    )
    assert body["fields"]["subject"] == "Text cannot contain NUL characters."
    assert "128" in body["fields"]["contact_name"]
    assert state() == before


def test_a_body_that_is_not_json_or_not_an_object(api: Any, state: Any) -> None:
    before = state()
    broken = assert_error(api.post("/api/cases", raw=b'{"kind": '), 400, "bad_request")
    assert broken["fields"] == {"request": "The body is not valid JSON."}
    nan = assert_error(api.post("/api/cases", raw=b'{"refund_amount": NaN}'), 400, "bad_request")
    assert "request" in nan["fields"]
    missing = assert_error(api.post("/api/cases"), 422, "invalid")
    assert missing["fields"] == {"request": "Send a JSON object."}
    listed = assert_error(api.post("/api/cases", [NEW_CASE]), 422, "invalid")
    assert "request" in listed["fields"]
    assert state() == before


def test_service_refusals_carry_their_field_messages(api: Any, order: Any, state: Any) -> None:
    before = state()
    body = assert_error(
        api.post(
            "/api/cases",
            {
                **NEW_CASE,
                "kind": "refund_only",
                "order_id": "o1",
                "order_lines": [7],
                "refund_amount": "999.00",
                "team": "nobody",
            },
        ),
        422,
        "invalid",
    )
    assert set(body["fields"]) == {"order_lines", "refund_amount", "team"}
    assert state() == before


def test_an_unknown_assignee_or_follow_up_is_a_field_error(api: Any, state: Any) -> None:
    before = state()
    body = assert_error(
        api.post("/api/cases", {**NEW_CASE, "assignee_id": 424242, "follow_up_of": 99}),
        422,
        "invalid",
    )
    assert set(body["fields"]) == {"assignee_id", "follow_up_of"}
    assert state() == before


def test_an_analyst_may_read_but_not_write(api: Any, make_case: Any, state: Any) -> None:
    case = make_case()
    assert api.get(f"/api/cases/{case.case_id}", as_="li").status_code == 200
    before = state()
    writes = [
        ("POST", "/api/cases", NEW_CASE),
        (
            "POST",
            f"/api/cases/{case.case_id}/transitions",
            {"name": "triage", "expected_version": 1},
        ),
        ("PATCH", f"/api/cases/{case.case_id}", {"expected_version": 1, "priority": "high"}),
        ("POST", f"/api/cases/{case.case_id}/replies", {"body": "hello"}),
        ("POST", f"/api/cases/{case.case_id}/notes", {"body": "hello"}),
        ("POST", f"/api/cases/{case.case_id}/assign", {"team": "vip"}),
        (
            "POST",
            f"/api/cases/{case.case_id}/contacts",
            {"channel": "phone", "direction": "in", "body": "hello"},
        ),
    ]
    for method, path, body in writes:
        assert_error(api.call(method, path, body, as_="li"), 403, "forbidden")
    assert state() == before


def test_another_teams_case_does_not_exist_for_an_agent(
    api: Any, make_case: Any, state: Any
) -> None:
    vip = make_case(team="vip")
    assert api.get(f"/api/cases/{vip.case_id}", as_="bo").status_code == 200
    before = state()
    for method, path, body in [
        ("GET", f"/api/cases/{vip.case_id}", None),
        ("GET", f"/api/cases/{vip.case_id}/events", None),
        (
            "POST",
            f"/api/cases/{vip.case_id}/transitions",
            {"name": "triage", "expected_version": 1, "fields": {"diagnosis": "x"}},
        ),
        ("PATCH", f"/api/cases/{vip.case_id}", {"expected_version": 1, "priority": "high"}),
        ("POST", f"/api/cases/{vip.case_id}/replies", {"body": "hello"}),
        ("POST", f"/api/cases/{vip.case_id}/notes", {"body": "hello"}),
        ("POST", f"/api/cases/{vip.case_id}/assign", {"team": "returns"}),
    ]:
        hidden = assert_error(api.call(method, path, body, as_="ana"), 404, "not_found")
        absent = assert_error(
            api.call(method, path.replace(str(vip.case_id), "987654"), body, as_="ana"),
            404,
            "not_found",
        )
        # The same answer as for a case that does not exist, so existence is not disclosed.
        assert hidden["message"].replace(str(vip.case_id), "N") == absent["message"].replace(
            "987654", "N"
        )
    assert api.get("/api/cases?queue=all", as_="ana").json()["count"] == 0
    assert state() == before


def test_a_transition_the_workflow_does_not_allow_is_409_with_the_allowed_moves(
    api: Any, make_case: Any, state: Any
) -> None:
    case = make_case()
    before = state()
    body = assert_error(
        api.post(
            f"/api/cases/{case.case_id}/transitions",
            {"name": "refund", "expected_version": 1, "fields": {"refund_amount": "10.00"}},
            as_="ana",
        ),
        409,
        "transition_not_allowed",
    )
    assert body["details"] == {"allowed": ["triage"]}
    chinese = api.post(
        f"/api/cases/{case.case_id}/transitions",
        {"name": "close", "expected_version": 1},
        as_="ana",
        headers={"Accept-Language": "zh-hans"},
    )
    assert chinese.status_code == 409
    # The message is in the caller's language, as readable UTF-8 rather than \u escapes.
    assert "可执行" in chinese.content.decode("utf-8")
    unknown = assert_error(
        api.post(
            f"/api/cases/{case.case_id}/transitions",
            {"name": "teleport", "expected_version": 1},
            as_="ana",
        ),
        422,
        "invalid",
    )
    assert "triage" in unknown["fields"]["name"]
    assert state() == before


def test_a_transition_missing_its_data_names_the_field(
    api: Any, make_case: Any, state: Any
) -> None:
    case = make_case()
    before = state()
    body = assert_error(
        api.post(
            f"/api/cases/{case.case_id}/transitions",
            {"name": "triage", "expected_version": 1},
            as_="ana",
        ),
        422,
        "missing_data",
    )
    assert set(body["fields"]) == {"diagnosis"}
    typo = assert_error(
        api.post(
            f"/api/cases/{case.case_id}/transitions",
            {"name": "triage", "expected_version": 1, "fields": {"diagnoses": "x"}},
            as_="ana",
        ),
        422,
        "invalid",
    )
    assert typo["fields"] == {"fields.diagnoses": "Unknown field."}
    assert state() == before


def test_a_stale_version_is_409_with_the_current_version(
    api: Any, make_case: Any, state: Any
) -> None:
    case = make_case()
    api.post(f"/api/cases/{case.case_id}/notes", {"body": "first"}, as_="ana")
    before = state()
    for method, path, body in [
        (
            "POST",
            f"/api/cases/{case.case_id}/transitions",
            {"name": "triage", "expected_version": 1, "fields": {"diagnosis": "x"}},
        ),
        ("PATCH", f"/api/cases/{case.case_id}", {"expected_version": 1, "priority": "high"}),
        ("POST", f"/api/cases/{case.case_id}/replies", {"body": "late", "expected_version": 1}),
    ]:
        conflict = assert_error(api.call(method, path, body, as_="ana"), 409, "conflict")
        assert conflict["details"] == {"expected_version": 1, "current_version": 2}
        assert "ana" in conflict["message"]
    assert state() == before


def test_out_of_range_ids_and_paging_are_field_errors(api: Any, state: Any) -> None:
    before = state()
    huge = 2**64
    assert "case_id" in assert_error(api.get(f"/api/cases/{huge}"), 422, "invalid")["fields"]
    assert "case_id" in assert_error(api.get("/api/cases/abc"), 422, "invalid")["fields"]
    paging = assert_error(api.get("/api/cases?limit=0&offset=-1&queue=later"), 422, "invalid")
    assert set(paging["fields"]) == {"limit", "offset", "queue"}
    assert_error(api.get("/api/cases?opened_from=2026-11-01T00:00:00"), 422, "invalid")
    assert state() == before


def test_search_terms_that_look_like_numbers_do_not_break_the_list(
    api: Any, make_case: Any
) -> None:
    make_case()
    for term in ("²", "٣", "99999999999999999999999", "#12"):
        response = api.get(f"/api/cases?queue=all&q={term}")
        assert response.status_code == 200, (term, response.content)


def test_idempotency_key_must_be_printable_ascii(api: Any, state: Any) -> None:
    before = state()
    body = assert_error(
        api.post("/api/cases", NEW_CASE, headers={"Idempotency-Key": "x" * 256}), 422, "invalid"
    )
    assert set(body["fields"]) == {"Idempotency-Key"}
    assert state() == before


def test_unknown_paths_and_methods_answer_in_json(api: Any) -> None:
    assert_error(api.get("/api/nothing-here"), 404, "not_found")
    wrong = assert_error(api.call("DELETE", "/api/cases/1"), 405, "method_not_allowed")
    assert sorted(wrong["details"]["allowed"]) == ["GET", "PATCH"]
