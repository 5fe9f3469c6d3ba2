"""Schedule the daily feed import and the expiry of accepted risks (editable in the admin)."""

from django.db import migrations


def schedule(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    early, _ = CrontabSchedule.objects.get_or_create(
        minute="30", hour="5", day_of_week="*", day_of_month="*", month_of_year="*",
        timezone="Asia/Tokyo",
    )
    PeriodicTask.objects.get_or_create(
        name="Import vulnerability feeds",
        defaults={"task": "vulnerabilities.tasks.import_vulnerability_feeds", "crontab": early},
    )
    PeriodicTask.objects.get_or_create(
        name="Reopen expired risk acceptances",
        defaults={"task": "vulnerabilities.tasks.reopen_expired_acceptances", "crontab": early},
    )


class Migration(migrations.Migration):
    dependencies = [
        ("vulnerabilities", "0002_default_deadlines"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]
    operations = [migrations.RunPython(schedule, migrations.RunPython.noop)]
