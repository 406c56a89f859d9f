"""After-sales policies kept as data: the return window, approval limits, auto-approval.

Each check returns a small result with its reason, so the decision and why it was taken can be
written on the case and in its log.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.utils.translation import gettext as _

from manyi.desk.accounts.roles import user_roles
from manyi.desk.cases.models import (
    ApprovalLimit,
    AutoApprovalRule,
    Case,
    CaseKind,
    CaseReason,
    ReturnPolicy,
)
from manyi.desk.commerce.models import Order

#: Kinds that send goods back, to which the return window applies.
RETURN_KINDS = frozenset({CaseKind.RETURN_REFUND, CaseKind.EXCHANGE})


@dataclass(frozen=True)
class WindowCheck:
    applies: bool
    within: bool
    closes_at: datetime | None
    reason: str


def active_return_policy() -> ReturnPolicy:
    """The active policy, or the default one (7 days from delivery, no reason needed)."""
    policy = ReturnPolicy.objects.filter(active=True).order_by("id").first()
    return policy or ReturnPolicy(name="default")


def order_categories(order: Order) -> set[str]:
    return {c for c in order.items.values_list("product__category", flat=True) if c is not None}


def check_return_window(
    order: Order | None, *, now: datetime, policy: ReturnPolicy | None = None
) -> WindowCheck:
    """Whether a no-reason return of ``order`` is still accepted at ``now``.

    The window counts whole local days, as shops state it ("7 days from delivery"): it closes
    at the end of the ``window_days``-th day after the day of delivery (or purchase), in the
    shop's time zone. An order not yet delivered is within the window when it counts from
    delivery (the customer may refuse it).
    """
    policy = policy or active_return_policy()
    if order is None:
        return WindowCheck(True, False, None, _("No order is linked to the case."))
    excluded = set(policy.excluded_categories or []) & order_categories(order)
    if excluded:
        return WindowCheck(
            True,
            False,
            None,
            _("No-reason returns do not apply to: %(categories)s.")
            % {"categories": ", ".join(sorted(excluded))},
        )
    start = order.delivered_at if policy.window_start == "delivery" else order.purchased_at
    if start is None:
        return WindowCheck(True, True, None, _("Not delivered yet."))
    tz = ZoneInfo(settings.TIME_ZONE)
    last_day = start.astimezone(tz).date() + timedelta(days=policy.window_days)
    closes_at = datetime.combine(last_day + timedelta(days=1), time(0), tzinfo=tz)
    if now < closes_at:
        return WindowCheck(
            True,
            True,
            closes_at,
            _("Within the %(days)s-day return window (until %(day)s).")
            % {"days": policy.window_days, "day": last_day.isoformat()},
        )
    return WindowCheck(
        True,
        False,
        closes_at,
        _("The %(days)s-day return window closed on %(day)s.")
        % {"days": policy.window_days, "day": last_day.isoformat()},
    )


def no_reason_allowed(order: Order | None, *, now: datetime) -> WindowCheck:
    """A "changed my mind" return needs the policy to allow it and the window to be open."""
    policy = active_return_policy()
    if not policy.no_reason:
        return WindowCheck(True, False, None, _("This shop does not take no-reason returns."))
    return check_return_window(order, now=now, policy=policy)


def approval_limit(user: AbstractBaseUser | AnonymousUser) -> tuple[bool, Decimal | None]:
    """Whether the user may approve at all, and the largest amount (``None``: no limit)."""
    if getattr(user, "is_superuser", False):
        return True, None
    limits = {row.role: row.max_amount for row in ApprovalLimit.objects.all()}
    mine = [limits[r] for r in user_roles(user) if r in limits]
    if not mine:
        return False, Decimal(0)
    if any(m is None for m in mine):
        return True, None
    return True, max(m for m in mine if m is not None)


def check_approval(user: AbstractBaseUser | AnonymousUser, amount: Decimal | None) -> str | None:
    """``None`` when ``user`` may approve ``amount``, else the reason they may not."""
    may, limit = approval_limit(user)
    if not may:
        return _("Your role may not approve cases; ask a manager.")
    if limit is not None and amount is not None and amount > limit:
        return _("%(amount)s is over your approval limit of %(limit)s; ask a manager.") % {
            "amount": amount,
            "limit": limit,
        }
    return None


@dataclass(frozen=True)
class AutoDecision:
    rule: AutoApprovalRule
    reason: str


def find_auto_approval(case: Case, *, now: datetime) -> AutoDecision | None:
    """The first active rule (by rank) that approves this new case, if any."""
    for rule in AutoApprovalRule.objects.filter(active=True).order_by("rank", "name"):
        if rule.kinds and case.kind not in rule.kinds:
            continue
        if rule.reasons and (case.reason or "") not in rule.reasons:
            continue
        if rule.max_amount is not None and (
            case.refund_amount is None or case.refund_amount > rule.max_amount
        ):
            continue
        window_note = ""
        if rule.within_return_window:
            window = check_return_window(case.order, now=now)
            if not window.within:
                continue
            window_note = " " + window.reason
        return AutoDecision(
            rule,
            _("Approved automatically by rule “%(rule)s”.") % {"rule": rule.name} + window_note,
        )
    return None


def refund_cap(order: Order | None) -> Decimal | None:
    """The most that may be refunded on an order: what was paid (items and freight)."""
    if order is None:
        return None
    paid = sum((p.amount for p in order.payments.all()), Decimal(0))
    if paid > 0:
        return paid
    return (order.item_total or Decimal(0)) + (order.freight_total or Decimal(0)) or None


def is_changed_mind(reason: str | None) -> bool:
    return reason == CaseReason.CHANGED_MIND
