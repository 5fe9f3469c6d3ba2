"""Draft agendas take escalated actions one item a unit now: the items they already held one
action at a time are taken off (kept, marked removed, as the secretariat's removals are), so
the next assembly does not list those actions twice. Published agendas stay as they were."""

from django.db import migrations
from django.utils import timezone


def take_off_per_action_items(apps, schema_editor):
    AgendaItem = apps.get_model("committee", "AgendaItem")
    AgendaItem.objects.filter(
        meeting__status="scheduled",
        kind="escalated_action",
        action__isnull=False,
        removed_at__isnull=True,
        decisions__isnull=True,
    ).update(removed_at=timezone.now())


class Migration(migrations.Migration):
    dependencies = [
        ("committee", "0005_agenda_item_links_unindexed"),
    ]

    operations = [
        migrations.RunPython(take_off_per_action_items, migrations.RunPython.noop),
    ]
