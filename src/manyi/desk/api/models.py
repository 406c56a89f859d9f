"""What the API keeps for itself: the responses of requests sent with an ``Idempotency-Key``."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class IdempotencyKey(models.Model):
    """One client key per user: the request it was first used with and the response it got.

    The row is inserted before the work starts, in the same transaction, so the unique
    constraint is the lock: a concurrent retry waits for the first request's transaction and
    then finds its response. ``status_code`` is empty only while that transaction runs.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("user"),
    )
    key = models.CharField(_("key"), max_length=255)
    #: SHA-256 of method, path and body of the first request sent with the key.
    fingerprint = models.CharField(_("request fingerprint"), max_length=64)
    status_code = models.PositiveSmallIntegerField(_("response status"), null=True, blank=True)
    #: The JSON body exactly as it was sent, so a retry gets the same bytes.
    response_body = models.TextField(_("response body"), blank=True)
    created_at = models.DateTimeField(_("created"))

    class Meta:
        db_table = "api_idempotency_keys"
        verbose_name = _("idempotency key")
        verbose_name_plural = _("idempotency keys")
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="api_idempotency_keys_key")
        ]
        indexes = [models.Index(fields=["created_at"], name="api_idempotency_keys_created")]

    def __str__(self) -> str:
        return f"{self.user_id}/{self.key}"
