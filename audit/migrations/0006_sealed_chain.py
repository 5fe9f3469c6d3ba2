"""Events are appended unsealed and chained by the sealer: the chain's columns wait for it, the
trigger lets them be filled once and nothing else change, and the sealer runs every 5 seconds."""

from django.conf import settings
from django.db import migrations, models

PG_FORWARD = """
CREATE OR REPLACE FUNCTION audit_event_refuse_change() RETURNS trigger AS $$
BEGIN
    -- Sealing is the one change an event takes, once: its place, its link and its hash,
    -- with every other column exactly as written.
    IF TG_OP = 'UPDATE' AND OLD.sequence IS NULL AND OLD.hash IS NULL
       AND NEW.sequence IS NOT NULL AND NEW.hash IS NOT NULL AND NEW.prev_hash <> ''
       AND to_jsonb(NEW) - 'sequence' - 'prev_hash' - 'hash'
           = to_jsonb(OLD) - 'sequence' - 'prev_hash' - 'hash' THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'audit events are append-only: % refused on audit_auditevent', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
"""
PG_BACKWARD = """
CREATE OR REPLACE FUNCTION audit_event_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit events are append-only: % refused on audit_auditevent', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
"""


def allow_sealing(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PG_FORWARD, params=None)


def refuse_sealing(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PG_BACKWARD, params=None)


def schedule(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every_5_seconds, _ = IntervalSchedule.objects.get_or_create(every=5, period="seconds")
    PeriodicTask.objects.get_or_create(
        name="Seal the audit trail",
        defaults={"task": "audit.tasks.seal_audit_trail", "interval": every_5_seconds},
    )


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0005_idempotency_claim"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterModelOptions(name="auditevent", options={"ordering": ["-id"]}),
        migrations.AlterField(
            model_name="auditevent",
            name="hash",
            field=models.CharField(
                blank=True, editable=False, max_length=64, null=True, unique=True
            ),
        ),
        migrations.AlterField(
            model_name="auditevent",
            name="prev_hash",
            field=models.CharField(blank=True, editable=False, max_length=64),
        ),
        migrations.AlterField(
            model_name="auditevent",
            name="sequence",
            field=models.PositiveBigIntegerField(
                blank=True,
                editable=False,
                help_text="Its place in the chain; empty until sealed, seconds after it commits.",
                null=True,
                unique=True,
            ),
        ),
        migrations.AddIndex(
            model_name="auditevent",
            index=models.Index(
                condition=models.Q(("sequence__isnull", True)),
                fields=["id"],
                name="audit_unsealed_idx",
            ),
        ),
        migrations.RunPython(allow_sealing, refuse_sealing),
        migrations.RunPython(schedule, migrations.RunPython.noop),
    ]
