"""Schedule the hourly chase in django-celery-beat (editable in the admin)."""

from django.db import migrations


def schedule(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    hourly, _ = IntervalSchedule.objects.get_or_create(every=1, period="hours")
    PeriodicTask.objects.get_or_create(
        name="Chase actions", defaults={"task": "actions.tasks.chase_actions", "interval": hourly}
    )


class Migration(migrations.Migration):
    dependencies = [
        ("actions", "0003_chasing"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]
    operations = [migrations.RunPython(schedule, migrations.RunPython.noop)]
