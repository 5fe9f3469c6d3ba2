"""Schedule meetings daily and prepare agendas hourly in django-celery-beat (editable in admin)."""

from django.db import migrations


def schedule(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    daily, _ = CrontabSchedule.objects.get_or_create(
        minute="5", hour="2", day_of_week="*", day_of_month="*", month_of_year="*",
        timezone="Asia/Tokyo",
    )
    hourly, _ = IntervalSchedule.objects.get_or_create(every=1, period="hours")
    PeriodicTask.objects.get_or_create(
        name="Schedule committee meetings",
        defaults={"task": "committee.tasks.schedule_meetings", "crontab": daily},
    )
    PeriodicTask.objects.get_or_create(
        name="Prepare and publish agendas",
        defaults={"task": "committee.tasks.prepare_agendas", "interval": hourly},
    )


class Migration(migrations.Migration):
    dependencies = [
        ("committee", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]
    operations = [migrations.RunPython(schedule, migrations.RunPython.noop)]
