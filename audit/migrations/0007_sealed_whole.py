"""An event is sealed whole or not at all, arrives unsealed, and a late sealer run is dropped."""

from django.db import migrations, models

PG_FORWARD = """
CREATE OR REPLACE FUNCTION audit_event_refuse_change() RETURNS trigger AS $$
BEGIN
    -- Events arrive unsealed: only the sealer gives them a place in the chain.
    IF TG_OP = 'INSERT' THEN
        IF NEW.sequence IS NULL AND NEW.hash IS NULL THEN
            RETURN NEW;
        END IF;
        RAISE EXCEPTION 'audit events are sealed by the sealer: a sealed INSERT is refused'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
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
DROP TRIGGER IF EXISTS audit_event_append_only ON audit_auditevent;
CREATE TRIGGER audit_event_append_only
    BEFORE INSERT OR UPDATE OR DELETE ON audit_auditevent
    FOR EACH ROW EXECUTE FUNCTION audit_event_refuse_change();
"""
PG_BACKWARD = """
DROP TRIGGER IF EXISTS audit_event_append_only ON audit_auditevent;
CREATE TRIGGER audit_event_append_only
    BEFORE UPDATE OR DELETE ON audit_auditevent
    FOR EACH ROW EXECUTE FUNCTION audit_event_refuse_change();
"""


def refuse_sealed_inserts(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PG_FORWARD, params=None)


def allow_sealed_inserts(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PG_BACKWARD, params=None)


def expire(apps, schema_editor):
    # A run the workers could not start within its 5 seconds is dropped, not queued: the next
    # one seals the same events, so an outage does not leave thousands waiting.
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTask.objects.filter(name="Seal the audit trail", expire_seconds__isnull=True).update(
        expire_seconds=5
    )


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0006_sealed_chain"),
    ]

    operations = [
        migrations.AddConstraint(
            model_name="auditevent",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("hash__isnull", True), ("prev_hash", ""), ("sequence__isnull", True)),
                    models.Q(
                        ("hash__isnull", False),
                        ("sequence__isnull", False),
                        models.Q(("prev_hash", ""), _negated=True),
                    ),
                    _connector="OR",
                ),
                name="audit_event_sealed_whole",
            ),
        ),
        migrations.RunPython(refuse_sealed_inserts, allow_sealed_inserts),
        migrations.RunPython(expire, migrations.RunPython.noop),
    ]
