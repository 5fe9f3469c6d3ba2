"""The remediation deadlines the CISO starts with; the CISO changes them in the product."""

from django.db import migrations

# priority: days to fix
DEFAULTS = {"p1": 7, "p2": 30, "p3": 90, "p4": 180}


def create(apps, schema_editor):
    RemediationDeadline = apps.get_model("vulnerabilities", "RemediationDeadline")
    for priority, days in DEFAULTS.items():
        RemediationDeadline.objects.get_or_create(priority=priority, defaults={"days": days})


class Migration(migrations.Migration):
    dependencies = [("vulnerabilities", "0001_initial")]

    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
