"""A scan's own moment (scanned_at), each sighting's target, and the same file once a system."""

import django.db.models.functions.comparison
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models
from django.db.models.functions import Coalesce


def scanned_when_it_says(apps, schema_editor):
    """Scans imported before: the end of the scan, else its start, else the upload."""
    Scan = apps.get_model("vulnerabilities", "Scan")
    Scan.objects.update(scanned_at=Coalesce("scanned_to", "scanned_from", "uploaded_at"))


class Migration(migrations.Migration):

    dependencies = [
        ('systems', '0006_list_order_indexes'),
        ('vulnerabilities', '0005_list_order_indexes'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name='scan',
            name='scan_file_once',
        ),
        migrations.AddField(
            model_name='scan',
            name='scanned_at',
            field=models.DateTimeField(help_text='When the scan looked, as its report says (its end, else its start); when it was uploaded, for a report that does not say. What it saw is as of then: an older scan uploaded later changes no finding a newer one has seen.', null=True),
        ),
        migrations.RunPython(scanned_when_it_says, migrations.RunPython.noop),
        migrations.AlterField(
            model_name='scan',
            name='scanned_at',
            field=models.DateTimeField(default=django.utils.timezone.now, help_text='When the scan looked, as its report says (its end, else its start); when it was uploaded, for a report that does not say. What it saw is as of then: an older scan uploaded later changes no finding a newer one has seen.'),
        ),
        migrations.AddField(
            model_name='sighting',
            name='target',
            field=models.CharField(blank=True, help_text='What the scanner looked at when it saw it (an image, a file, an address): only a scan of the same targets closes the finding. Empty on sightings kept before.', max_length=500),
        ),
        migrations.AlterField(
            model_name='sighting',
            name='outcome',
            field=models.CharField(choices=[('new', 'New'), ('reopened', 'Reopened'), ('still_open', 'Still open'), ('set_aside', 'Set aside (false positive or accepted)'), ('not_affected', 'Not affected (VEX)'), ('older', 'Seen by an older scan than the one that closed it')], max_length=16),
        ),
        migrations.AddConstraint(
            model_name='scan',
            constraint=models.UniqueConstraint(models.F('sha256'), django.db.models.functions.comparison.Coalesce('system', 0), condition=models.Q(('state', 'refused'), _negated=True), name='scan_file_once'),
        ),
    ]
