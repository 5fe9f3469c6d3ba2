"""Schedule the sweep of scan imports a dead process left behind (editable in the admin)."""

from django.db import migrations


def schedule(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every, _ = IntervalSchedule.objects.get_or_create(every=5, period="minutes")
    PeriodicTask.objects.get_or_create(
        name="Take back interrupted scan imports",
        defaults={
            "task": "vulnerabilities.tasks.take_back_interrupted_scans",
            "interval": every,
            "expire_seconds": 300,
        },
    )


def unschedule(apps, schema_editor):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTask.objects.filter(name="Take back interrupted scan imports").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("vulnerabilities", "0006_scan_dates_and_targets"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]
    operations = [migrations.RunPython(schedule, unschedule)]
