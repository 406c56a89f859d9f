"""Who sees dashboards, alerts and campaigns, and who may change them.

=========  ====================================================  ===============================
role       sees                                                  may change
=========  ====================================================  ===============================
admin      every dashboard block, alerts, campaigns, reviews     alert rules, acknowledgements,
manager                                                          campaigns, reviews, exports
analyst    every dashboard block, alerts, campaigns, reviews     runs campaign reviews, exports;
                                                                 no rules, no acknowledgements
agent      the service block of their own teams' cases only,     nothing
           with drill-down to the cases they may see; no
           satisfaction, sales, alerts or campaigns
=========  ====================================================  ===============================

Agents get the service view of their teams because the queue's health (backlog, first response,
SLA) is what they act on; the shop-wide satisfaction and sales figures are management data.
An agent without a team sees no dashboard (403). Checks are role based, like the review inbox
(``manyi.desk.accounts.roles``); every view and export calls one of these.
"""

from __future__ import annotations

from typing import Any

from manyi.desk.accounts.roles import Role, user_roles

FULL_VIEW = {Role.ADMIN.value, Role.MANAGER.value, Role.ANALYST.value}
CHANGE = {Role.ADMIN.value, Role.MANAGER.value}


def _active(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False) and getattr(user, "is_active", False))


def sees_full_dashboard(user: Any) -> bool:
    """Admins, managers and analysts: every block of the dashboard."""
    return _active(user) and bool(user_roles(user) & FULL_VIEW)


def agent_teams(user: Any) -> list[str]:
    """The team codes an agent's service view is limited to (empty: not an agent, or none)."""
    if not _active(user) or Role.AGENT.value not in user_roles(user):
        return []
    return sorted(user.teams.values_list("code", flat=True))


def sees_dashboard(user: Any) -> bool:
    """The full dashboard, or an agent's team service view."""
    return sees_full_dashboard(user) or bool(agent_teams(user))


def sees_alerts(user: Any) -> bool:
    return sees_full_dashboard(user)


def may_change_alerts(user: Any) -> bool:
    """Create, edit and switch off rules; acknowledge events."""
    return _active(user) and bool(user_roles(user) & CHANGE)


def sees_campaigns(user: Any) -> bool:
    return sees_full_dashboard(user)


def may_change_campaigns(user: Any) -> bool:
    return _active(user) and bool(user_roles(user) & CHANGE)


def may_run_reviews(user: Any) -> bool:
    """A post-campaign review only reads data: analysts may run one too."""
    return sees_full_dashboard(user)
