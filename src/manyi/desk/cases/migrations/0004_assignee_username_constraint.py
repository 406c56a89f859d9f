"""Both or neither: the user link and its username. A migration of its own, so that on
PostgreSQL the constraint is added after the rows filled by 0003 were committed."""

from __future__ import annotations

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("cases", "0003_assignee_username")]

    operations = [
        migrations.AddConstraint(
            model_name="case",
            constraint=models.CheckConstraint(
                condition=models.Q(assignee__isnull=True, assignee_username__isnull=True)
                | models.Q(assignee__isnull=False, assignee_username__isnull=False),
                name="cases_assignee_username_with_user",
            ),
        ),
    ]
