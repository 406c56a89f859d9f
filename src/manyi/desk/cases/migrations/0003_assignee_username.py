"""``cases.assignee`` becomes the agent's username (the canonical column ``manyi.insight``
reads, joinable with ``survey_responses.agent_id``); the link to the user moves to
``assignee_user_id``. Existing rows get their assignee's username."""

from __future__ import annotations

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models
from django.db.models import OuterRef, Subquery


def fill_usernames(apps, schema_editor):
    Case = apps.get_model("cases", "Case")
    User = apps.get_model(*settings.AUTH_USER_MODEL.split("."))
    # Historical models carry no USERNAME_FIELD; the desk uses Django's User.
    username = "username"
    Case.objects.filter(assignee__isnull=False).update(
        assignee_username=Subquery(
            User.objects.filter(pk=OuterRef("assignee_id")).values(username)[:1]
        )
    )


def clear_usernames(apps, schema_editor):
    Case = apps.get_model("cases", "Case")
    Case.objects.update(assignee_username=None)


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0002_defaults"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        # First free the column name: the user id moves to assignee_user_id.
        migrations.AlterField(
            model_name="case",
            name="assignee",
            field=models.ForeignKey(
                blank=True,
                db_column="assignee_user_id",
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="assigned_cases",
                to=settings.AUTH_USER_MODEL,
                verbose_name="assignee",
            ),
        ),
        migrations.AddField(
            model_name="case",
            name="assignee_username",
            field=models.CharField(
                blank=True,
                db_column="assignee",
                editable=False,
                max_length=150,
                null=True,
                verbose_name="assignee (username)",
            ),
        ),
        migrations.AlterField(
            model_name="caseevent",
            name="kind",
            field=models.CharField(
                choices=[
                    ("opened", "Opened"),
                    ("transition", "Status changed"),
                    ("assigned", "Assigned"),
                    ("updated", "Details changed"),
                    ("reply", "Reply to the customer"),
                    ("note", "Internal note"),
                    ("customer_message", "Message from the customer"),
                    ("decision", "Decision"),
                    ("sla_warning", "SLA warning"),
                    ("sla_breach", "SLA breached"),
                    ("order_event", "Order event"),
                    ("delivery_failed", "E-mail delivery failed"),
                ],
                max_length=20,
                verbose_name="kind",
            ),
        ),
        migrations.RunPython(fill_usernames, clear_usernames),
    ]
