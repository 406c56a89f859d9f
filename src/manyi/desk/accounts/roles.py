"""The staff roles, as Django groups with the permissions each needs.

Model permissions say what a role may do at all; which cases a user may see and work on is
decided per object in ``manyi.desk.cases.selectors`` (agents: their teams' cases).
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    ADMIN = "admin", _("Administrator")
    MANAGER = "manager", _("Customer-service manager")
    AGENT = "agent", _("Customer-service agent")
    ANALYST = "analyst", _("Analyst")


#: Reading the imported shop data, which every role needs.
VIEW_SHOP = tuple(
    f"commerce.view_{model}"
    for model in ("customer", "order", "orderitem", "payment", "review", "product", "seller")
)
WORK_CASES = (
    "cases.view_case",
    "cases.add_case",
    "cases.change_case",
    "cases.view_macro",
    "cases.view_caseevent",
)
CONFIGURE_CASES = (
    *tuple(
        f"cases.{verb}_{model}"
        for model in (
            "macro",
            "slapolicy",
            "businesscalendar",
            "returnpolicy",
            "approvallimit",
            "autoapprovalrule",
        )
        for verb in ("view", "add", "change", "delete")
    ),
    "accounts.view_team",
    "accounts.change_team",
)

#: Model permissions per role, as ``app_label.codename``; later apps add their own.
ROLE_PERMISSIONS: dict[Role, tuple[str, ...]] = {
    Role.ADMIN: (*VIEW_SHOP, "commerce.view_importrun", *WORK_CASES, *CONFIGURE_CASES),
    Role.MANAGER: (*VIEW_SHOP, "commerce.view_importrun", *WORK_CASES, *CONFIGURE_CASES),
    Role.AGENT: (*VIEW_SHOP, *WORK_CASES),
    Role.ANALYST: (*VIEW_SHOP, "commerce.view_importrun", "cases.view_case"),
}


def user_roles(user: AbstractBaseUser | AnonymousUser) -> set[str]:
    """The role names of ``user`` (a superuser is an admin whatever its groups)."""
    if not getattr(user, "is_authenticated", False):
        return set()
    cached: set[str] | None = getattr(user, "_manyi_roles", None)
    if cached is None:
        cached = set(user.groups.values_list("name", flat=True))  # type: ignore[union-attr]
        if getattr(user, "is_superuser", False):
            cached.add(Role.ADMIN.value)
        user._manyi_roles = cached  # type: ignore[union-attr]
    return cached


def sees_all_cases(user: AbstractBaseUser | AnonymousUser) -> bool:
    """Admins, managers and analysts see every team's cases; agents only their teams'."""
    return bool(user_roles(user) & {Role.ADMIN, Role.MANAGER, Role.ANALYST})


def may_work_cases(user: AbstractBaseUser | AnonymousUser) -> bool:
    """Analysts read; the other roles work on cases."""
    return bool(user_roles(user) & {Role.ADMIN, Role.MANAGER, Role.AGENT})
