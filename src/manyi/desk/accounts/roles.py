"""The staff roles, as Django groups with the permissions each needs."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    AGENT = "agent", _("Customer-service agent")
    MANAGER = "manager", _("Customer-service manager")
    ANALYST = "analyst", _("Analyst")


#: Reading the imported shop data, which every role needs.
VIEW_SHOP = tuple(
    f"commerce.view_{model}"
    for model in ("customer", "order", "orderitem", "payment", "review", "product", "seller")
)

#: Model permissions per role, as ``app_label.codename``; later apps add their own.
ROLE_PERMISSIONS: dict[Role, tuple[str, ...]] = {
    Role.AGENT: VIEW_SHOP,
    Role.MANAGER: (*VIEW_SHOP, "commerce.view_importrun"),
    Role.ANALYST: (*VIEW_SHOP, "commerce.view_importrun"),
}
