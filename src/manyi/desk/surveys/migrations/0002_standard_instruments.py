from __future__ import annotations

from django.db import migrations
from django.utils import timezone

from manyi.desk.surveys.standard import install_standard


def forwards(apps, schema_editor):
    install_standard(apps, timezone.now())


class Migration(migrations.Migration):
    dependencies = [("surveys", "0001_initial")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
