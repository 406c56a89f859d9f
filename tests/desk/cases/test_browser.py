"""The console in a real browser: an agent logs in, takes a case from the queue, replies and
approves the return; the customer opens the signed link and sees the new status.

Screenshots of the queue and the case page in Chinese and English are kept as artefacts
(``tests/artifacts/`` or ``MANYI_TEST_ARTIFACTS``).
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from manyi.desk.cases.events import Actor
from manyi.desk.cases.models import Case, CaseStatus, Macro, Message
from manyi.desk.cases.services import NewCase, add_note, open_case
from manyi.desk.channels.links import case_link
from manyi.desk.commerce.models import Order

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "a-long-password-1"


def report(order: Order, **overrides: Any) -> Case:
    values: dict[str, Any] = {
        "kind": "return_refund",
        "channel": "web",
        "subject": "枕套有破洞",
        "description": "收到的枕套有一个洞，想退货。",
        "reason": "quality",
        "order_id": order.order_id,
        "order_lines": (1,),
        "contact_name": "王女士",
        "contact_email": "wang@example.com",
        "team": "returns",
        "refund_amount": Decimal("130.00"),
    }
    values.update(overrides)
    return open_case(NewCase(**values), actor=Actor.customer())


def log_in(page: Any, base: str, username: str) -> None:
    page.goto(base + reverse("cases:queue"))
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")
    expect(page).to_have_url(base + reverse("cases:queue"))


def test_an_agent_takes_replies_and_approves_and_the_customer_sees_it(
    live_server: Any,
    new_page: Any,
    screenshot: Any,
    staff: Any,
    make_order: Any,
    settings: Any,
) -> None:
    settings.MANYI_SITE_URL = live_server.url
    case = report(make_order("o1"))
    report(
        make_order("o2", customer_id="c2"),
        kind="exchange",
        subject="尺码不合适，想换大一号",
        reason="not_as_described",
        contact_name="李先生",
        contact_email="li@example.com",
        priority="high",
        refund_amount=None,
    )
    report(
        make_order("o3", customer_id="c3"),
        kind="question",
        subject="什么时候发货？",
        reason=None,
        contact_name="张小姐",
        contact_email="zhang@example.com",
        team=None,
        refund_amount=None,
    )
    page = new_page(locale="zh-CN")
    log_in(page, live_server.url, "ana")

    # The agent has no case yet, so she lands on her teams' queue.
    row = page.locator(f"tr[data-case='{case.case_id}']")
    expect(page.locator(".queues a.current")).to_contain_text("我的团队")
    expect(row).to_contain_text("枕套有破洞")
    expect(row).to_contain_text("待处理")
    screenshot("console-queue-zh", page)

    row.get_by_role("button", name="接单").click()
    expect(page).to_have_url(live_server.url + reverse("cases:case", args=[case.case_id]))
    expect(page.get_by_test_id("assignee")).to_have_text("ana")

    page.fill("#reply-box textarea[name=body]", "王女士您好，很抱歉给您带来不便，我们马上处理。")
    page.get_by_test_id("send-reply").click()
    expect(page.locator(".timeline li.msg-out")).to_contain_text("我们马上处理")

    page.click("summary[data-transition=triage]")
    page.fill("#transition-triage textarea[name=diagnosis]", "照片显示枕套有破洞，属质量问题。")
    page.click("#transition-triage button[type=submit]")
    expect(page.get_by_test_id("case-status")).to_have_text("已诊断")

    page.click("summary[data-transition=approve]")
    expect(page.locator("#transition-approve input[name=refund_amount]")).to_have_value("130.00")
    page.fill("#transition-approve textarea[name=note]", "质量问题，同意退货退款。")
    page.click("#transition-approve button[type=submit]")
    expect(page.get_by_test_id("case-status")).to_have_text("已审核")
    expect(page.locator(".decision")).to_contain_text("同意退货退款")
    screenshot("console-case-zh", page)

    approved = Case.objects.get(pk=case.case_id)
    assert (approved.status, approved.assignee, approved.decided_by) == (
        CaseStatus.APPROVED,
        staff.agent,
        staff.agent,
    )
    assert Message.objects.filter(case=approved, direction="out").count() == 1

    customer = new_page(locale="zh-CN")
    customer.goto(case_link(case.case_id, "wang@example.com"))
    expect(customer.get_by_test_id("case-status")).to_have_text("已审核")
    expect(customer.locator("body")).to_contain_text("我们马上处理")
    expect(customer.locator("body")).not_to_contain_text("照片显示枕套有破洞")  # internal
    screenshot("customer-case-zh", customer)

    # The same console in English, switched with the language menu.
    page.select_option("select[name=language]", "en")
    expect(page.get_by_test_id("case-status")).to_have_text("Approved")
    expect(page.locator("summary[data-transition=request_return]")).to_have_text(
        "Ask for the goods back"
    )
    screenshot("console-case-en", page)
    page.goto(live_server.url + reverse("cases:queue") + "?queue=open")
    expect(page.locator(".queues a.current")).to_contain_text("All open")
    screenshot("console-queue-en", page)


def test_filters_search_and_bulk_update_the_table_in_place(
    live_server: Any, page: Any, staff: Any, make_order: Any
) -> None:
    first = report(make_order("o1"), subject="碎了")
    second = report(make_order("o2", customer_id="c2"), subject="颜色不对", kind="exchange")
    log_in(page, live_server.url, "ana")
    page.evaluate("window.notReloaded = true")

    page.fill("#case-search", "o2")
    expect(page).to_have_url(re.compile(r"q=o2"))
    expect(page.locator("table.queue tbody tr")).to_have_count(1)
    expect(page.locator("table.queue")).to_contain_text("颜色不对")

    page.fill("#case-search", "")
    page.select_option("select[name=kind]", "return_refund")
    expect(page).to_have_url(re.compile(r"kind=return_refund"))
    expect(page.locator("table.queue tbody tr")).to_have_count(1)
    expect(page.locator("table.queue")).to_contain_text("碎了")

    page.select_option("select[name=kind]", "")
    expect(page.locator("table.queue tbody tr")).to_have_count(2)
    page.check(f"input[name=case_ids][value='{first.case_id}']")
    page.check(f"input[name=case_ids][value='{second.case_id}']")
    page.get_by_role("button", name="分配给我").click()
    expect(page.get_by_test_id("bulk-result")).to_have_count(2)
    expect(page.locator(".bulk-results")).to_contain_text("完成")
    expect(page.locator(".queues a[data-queue=mine] .count")).to_have_text("2")
    assert page.evaluate("window.notReloaded") is True
    assert set(Case.objects.values_list("assignee__username", flat=True)) == {"ana"}


def test_the_queue_filters_without_javascript(
    live_server: Any, new_page: Any, staff: Any, make_order: Any
) -> None:
    report(make_order("o1"), subject="碎了")
    report(make_order("o2", customer_id="c2"), subject="颜色不对", kind="exchange")
    page = new_page(java_script_enabled=False, locale="en-GB")
    log_in(page, live_server.url, "ana")
    page.select_option("select[name=kind]", "exchange")
    page.click("form.filters button[type=submit]")
    expect(page).to_have_url(re.compile(r"kind=exchange"))
    expect(page.locator("table.queue tbody tr")).to_have_count(1)
    expect(page.locator("table.queue")).to_contain_text("颜色不对")


def test_a_conflict_keeps_the_typed_text_and_macros_fill_the_reply_box(
    live_server: Any, page: Any, screenshot: Any, staff: Any, order: Order
) -> None:
    case = report(order)
    Macro.objects.create(name="确认收到", body="{customer_name}您好，工单 {case_number} 已收到。")
    log_in(page, live_server.url, "ana")
    page.goto(live_server.url + reverse("cases:case", args=[case.case_id]))

    page.click("[data-macro]")
    expect(page.get_by_test_id("macro-preview")).to_contain_text(f"王女士您好，工单 {case.number}")
    page.get_by_role("link", name="插入回复框").click()
    expect(page.locator("#reply-box textarea[name=body]")).to_have_value(
        f"王女士您好，工单 {case.number} 已收到。"
    )

    # A colleague changes the case while the agent is typing her diagnosis.
    add_note(case.case_id, "我先看一下", actor=staff.actor("manager"))
    page.click("summary[data-transition=triage]")
    page.fill("#transition-triage textarea[name=diagnosis]", "线头开裂，属质量问题")
    page.click("#transition-triage button[type=submit]")

    expect(page.get_by_test_id("notice")).to_contain_text("已被 mei 修改")
    expect(page.locator(".timeline")).to_contain_text("我先看一下")
    expect(page.locator("#transition-triage textarea[name=diagnosis]")).to_have_value(
        "线头开裂，属质量问题"
    )
    screenshot("console-conflict-zh", page)
    page.click("#transition-triage button[type=submit]")
    expect(page.get_by_test_id("case-status")).to_have_text("已诊断")
    assert Case.objects.get(pk=case.case_id).diagnosis == "线头开裂，属质量问题"
