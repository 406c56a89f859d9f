"""The configuration a new desk starts with; every part can be changed in the admin.

- one business calendar (Asia/Shanghai, every day 09:00–12:00 and 13:00–22:00, the hours
  online shops staff their service desk; add the shop's holidays and make-up working days
  (调休) in the admin, since they differ by country, year and shop);
- SLA policies: first response 1 working hour (urgent 15 minutes), next response 4 working
  hours, resolution 48 working hours (returns and exchanges: 120, since goods travel);
- the 7-day no-reason return window from delivery;
- approval limits: agents up to 500, managers and admins without limit.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

SPLIT_DAY = [["09:00", "12:00"], ["13:00", "22:00"]]

DEFAULT_CALENDAR: dict[str, Any] = {
    "tz": "Asia/Shanghai",
    "weekly": dict.fromkeys(("mon", "tue", "wed", "thu", "fri", "sat", "sun"), SPLIT_DAY),
    "holidays": [],
    "makeup_days": {},
}

DEFAULT_SLA = [
    # name, kind, priority, first response, next response, resolution (working minutes), rank
    ("Urgent", "", "urgent", 15, 60, 8 * 60, 10),
    ("Returns and exchanges", "return_refund", "", 60, 240, 120 * 60, 50),
    ("Exchanges", "exchange", "", 60, 240, 120 * 60, 50),
    ("Repairs", "repair", "", 60, 240, 240 * 60, 50),
    ("Standard", "", "", 60, 240, 48 * 60, 100),
]

DEFAULT_LIMITS = [("agent", Decimal("500.00")), ("manager", None), ("admin", None)]


def install_defaults(apps: Any) -> None:
    """Create the defaults where nothing is configured yet (used by a data migration)."""
    calendar_model = apps.get_model("cases", "BusinessCalendar")
    policy_model = apps.get_model("cases", "SlaPolicy")
    return_model = apps.get_model("cases", "ReturnPolicy")
    limit_model = apps.get_model("cases", "ApprovalLimit")
    calendar, _ = calendar_model.objects.get_or_create(
        name="Service desk (Asia/Shanghai)", defaults={"config": DEFAULT_CALENDAR}
    )
    if not policy_model.objects.exists():
        for name, kind, priority, first, nxt, resolution, rank in DEFAULT_SLA:
            policy_model.objects.create(
                name=name,
                kind=kind,
                priority=priority,
                calendar=calendar,
                first_response_minutes=first,
                next_response_minutes=nxt,
                resolution_minutes=resolution,
                rank=rank,
            )
    if not return_model.objects.exists():
        return_model.objects.create(name="7-day no-reason returns", window_days=7)
    for role, amount in DEFAULT_LIMITS:
        limit_model.objects.get_or_create(role=role, defaults={"max_amount": amount})
