"""A relay run nobody picked up within a minute is dropped: the next minute's run replaces it."""

from django.db import migrations


def expire(apps, schema_editor):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTask.objects.filter(name="Relay the outbox", expire_seconds__isnull=True).update(
        expire_seconds=60
    )


class Migration(migrations.Migration):
    dependencies = [("outbox", "0003_claim_lease")]
    operations = [migrations.RunPython(expire, migrations.RunPython.noop)]
