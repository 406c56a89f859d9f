"""``manyi manage purge_idempotency_keys``: delete idempotency keys older than 24 hours."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.utils.translation import ngettext

from manyi.desk.api.idempotency import KEY_TTL, purge_expired_keys


class Command(BaseCommand):
    help = (
        f"Delete API idempotency keys older than {KEY_TTL}."
        " Example: manyi manage purge_idempotency_keys"
    )

    def handle(self, *args: Any, **options: Any) -> None:
        deleted = purge_expired_keys()
        self.stdout.write(
            ngettext(
                "Deleted %(count)d expired idempotency key.",
                "Deleted %(count)d expired idempotency keys.",
                deleted,
            )
            % {"count": deleted}
        )
