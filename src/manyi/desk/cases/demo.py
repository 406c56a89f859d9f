"""Demo cases built from the imported shop's real bad reviews, through the real services.

Every 1–2★ review with a comment becomes a case opened by the customer some hours before
``now``, worked to a realistic mix of states (new, triaged, waiting on the customer, approved,
refunded, resolved), so queues, SLA clocks and the timeline have something true to show.
Idempotent: a re-run only tops the desk up to ``limit`` cases, and orders that already have a
case are skipped.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db.models import Sum

from manyi.desk.cases.errors import CaseError
from manyi.desk.cases.events import Actor
from manyi.desk.cases.models import Case, Macro
from manyi.desk.cases.services import (
    NewCase,
    add_note,
    open_case,
    reply_to_case,
    transition_case,
)
from manyi.desk.commerce.models import Review

#: Words in Olist's Portuguese complaints and the after-sales reason they point to.
REASON_WORDS = (
    ("late_delivery", ("atras", "não chegou", "nao chegou", "não recebi", "nao recebi", "prazo")),
    ("damaged", ("quebrad", "danific", "amassad", "avariad")),
    ("wrong_item", ("errad", "diferente", "outro produto", "trocad")),
    ("not_as_described", ("descri", "anúncio", "anuncio", "foto")),
    ("quality", ("qualidade", "defeito", "não funciona", "nao funciona", "ruim")),
)

MACROS = (
    (
        "Ask for photos",
        "en",
        "Hello {customer_name}, sorry about case {case_number}. Could you send us a photo of the"
        " item and its packaging? — {agent_name}",
        "wait_on_customer",
    ),
    (
        "请提供照片",
        "zh-hans",
        "{customer_name}您好，抱歉给您带来不便（工单 {case_number}）。"
        "麻烦提供商品和外包装的照片，我们会尽快处理。— {agent_name}",
        "wait_on_customer",
    ),
    (
        "Refund issued",
        "en",
        "Hello {customer_name}, we have refunded {refund_amount} {currency} for order"
        " {order_id}. It reaches your account in 1–3 working days.",
        "",
    ),
    (
        "退款已处理",
        "zh-hans",
        "{customer_name}您好，订单 {order_id} 的 {refund_amount} {currency} 已退回，"
        "预计 1–3 个工作日到账。",
        "",
    ),
    (
        "Where is my parcel",
        "en",
        "Hello {customer_name}, we checked with the carrier: your parcel for order {order_id}"
        " is on its way. We will keep case {case_number} open until it arrives.",
        "",
    ),
    (
        "物流查询",
        "zh-hans",
        "{customer_name}您好，已为您联系快递，订单 {order_id} 的包裹正在派送途中，"
        "工单 {case_number} 会保持跟进直到签收。",
        "",
    ),
)


def guess_reason(text: str) -> str:
    lowered = text.lower()
    for reason, words in REASON_WORDS:
        if any(w in lowered for w in words):
            return reason
    return "other"


@dataclass(frozen=True)
class DemoSummary:
    opened: int
    skipped: int


def seed_macros() -> int:
    created = 0
    for name, language, body, transition in MACROS:
        _, was_created = Macro.objects.get_or_create(
            name=name, language=language, defaults={"body": body, "transition": transition}
        )
        created += was_created
    return created


def seed_demo_cases(now: datetime, *, limit: int = 80, seed: int = 7) -> DemoSummary:
    """Open and work up to ``limit`` cases from the shop's bad reviews (see module docs)."""
    seed_macros()
    users = get_user_model().objects
    agent = users.filter(username="agent").first()
    manager = users.filter(username="admin").first()
    if agent is None or manager is None:
        raise RuntimeError("create the demo accounts first (admin and agent)")
    rng = random.Random(seed)
    reviews = (
        Review.objects.filter(rating__lte=2, body__isnull=False)
        .exclude(body="")
        .select_related("order")
        .order_by("created_at", "review_id")
    )
    taken = set(Case.objects.exclude(order=None).values_list("order_id", flat=True))
    # A re-run tops the demo up to ``limit`` cases instead of adding another batch.
    wanted = limit - Case.objects.count()
    opened = skipped = 0
    for review in reviews:
        if opened >= wanted:
            break
        order = review.order
        if order.order_id in taken:
            skipped += 1
            continue
        taken.add(order.order_id)
        text = review.body or ""
        reason = guess_reason(text)
        kind = {
            "late_delivery": "complaint",
            "damaged": "return_refund",
            "wrong_item": "exchange",
            "not_as_described": "return_refund",
            "quality": "return_refund",
        }.get(reason, "complaint")
        paid = order.payments.aggregate(s=Sum("amount"))["s"] or Decimal(0)
        amount = (
            (order.item_total or paid).quantize(Decimal("0.01"))
            if kind == "return_refund"
            else None
        )
        if amount is not None and paid and amount > paid:
            amount = paid
        opened_at = now - timedelta(hours=rng.uniform(0.2, 60))
        team = "returns" if kind in {"return_refund", "exchange"} else "service"
        try:
            case = open_case(
                NewCase(
                    kind=kind,
                    channel=rng.choice(["web", "web", "email", "chat", "phone"]),
                    subject=(review.title or text)[:80] or "—",
                    description=text,
                    reason=reason,
                    priority=rng.choice(["normal", "normal", "normal", "high", "low", "urgent"]),
                    order_id=order.order_id,
                    contact_name=f"Cliente {order.customer_id[:6]}",
                    contact_email="",
                    team=team,
                    refund_amount=amount,
                    currency=order.currency,
                    language="en",
                ),
                actor=Actor.customer(),
                now=opened_at,
            )
        except CaseError:
            skipped += 1
            continue
        opened += 1
        _work(case, rng, agent, manager, opened_at, now)
    return DemoSummary(opened, skipped)


def _work(
    case: Case,
    rng: random.Random,
    agent: object,
    manager: object,
    opened_at: datetime,
    now: datetime,
) -> None:
    """Move a case some way along the workflow, at plausible instants before ``now``."""
    stage = rng.random()
    if stage < 0.3:
        return  # still new
    a, m = Actor.staff(agent), Actor.staff(manager)  # type: ignore[arg-type]
    t = opened_at + timedelta(minutes=rng.uniform(5, 90))
    if t >= now:
        return
    reply_to_case(
        case.case_id, "Olá! Recebemos sua mensagem e já estamos verificando.", actor=a, now=t
    )
    transition_case(
        case.case_id,
        "triage",
        actor=a,
        fields={"diagnosis": "Verificado com a transportadora e o vendedor."},
        now=t,
    )
    if stage < 0.45:
        return
    t += timedelta(minutes=rng.uniform(5, 120))
    if t >= now:
        return
    if stage < 0.6:
        transition_case(
            case.case_id, "wait_on_customer", actor=a, note="Pedimos fotos do produto.", now=t
        )
        return
    if case.kind == "complaint":
        transition_case(case.case_id, "resolve", actor=a, note="Cliente informado.", now=t)
        if stage > 0.85:
            transition_case(case.case_id, "close", actor=m, now=t + timedelta(hours=1))
        return
    try:
        transition_case(
            case.case_id,
            "approve",
            actor=m,
            note="Dentro da política de trocas e devoluções.",
            now=t,
        )
    except CaseError:
        add_note(case.case_id, "Aguardando aprovação do gerente.", actor=a, now=t)
        return
    if stage < 0.75 or case.kind != "return_refund":
        return
    t += timedelta(hours=rng.uniform(1, 10))
    if t >= now:
        return
    transition_case(
        case.case_id,
        "request_return",
        actor=a,
        fields={"return_tracking": f"BR{rng.randrange(10**8, 10**9)}"},
        now=t,
    )
    transition_case(
        case.case_id,
        "receive",
        actor=a,
        fields={"inspection_note": "Produto recebido, defeito confirmado."},
        now=t + timedelta(minutes=30),
    )
    transition_case(case.case_id, "refund", actor=m, now=t + timedelta(minutes=40))
    if stage > 0.9:
        transition_case(case.case_id, "resolve", actor=a, now=t + timedelta(minutes=45))
