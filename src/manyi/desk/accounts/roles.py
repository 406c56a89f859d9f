"""The staff roles, as Django groups with the permissions each needs."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    AGENT = "agent", _("Customer-service agent")
    MANAGER = "manager", _("Customer-service manager")
    ANALYST = "analyst", _("Analyst")


#: Model permissions per role, as ``app_label.codename``; later apps add their own.
ROLE_PERMISSIONS: dict[Role, tuple[str, ...]] = {
    Role.AGENT: (
        "commerce.view_customer",
        "commerce.view_order",
        "commerce.view_orderitem",
        "commerce.view_payment",
        "commerce.view_review",
        "commerce.view_product",
        "commerce.view_seller",
    ),
    Role.MANAGER: (
        "commerce.view_customer",
        "commerce.view_order",
        "commerce.view_orderitem",
        "commerce.view_payment",
        "commerce.view_review",
        "commerce.view_product",
        "commerce.view_seller",
        "commerce.view_importrun",
    ),
    Role.ANALYST: (
        "commerce.view_customer",
        "commerce.view_order",
        "commerce.view_orderitem",
        "commerce.view_payment",
        "commerce.view_review",
        "commerce.view_product",
        "commerce.view_seller",
        "commerce.view_importrun",
    ),
}
