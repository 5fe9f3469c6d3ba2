"""Tokens issued before every token had to expire (knox's own admin let an administrator leave the
expiry empty) get one: 90 days from now, and none lives past 365 days from now."""

from datetime import timedelta

from django.db import migrations
from django.db.models import Q
from django.utils import timezone


def cap_token_lives(apps, schema_editor):
    AuthToken = apps.get_model("knox", "AuthToken")
    now = timezone.now()
    AuthToken.objects.filter(expiry__isnull=True).update(expiry=now + timedelta(days=90))
    AuthToken.objects.filter(Q(expiry__gt=now + timedelta(days=365))).update(
        expiry=now + timedelta(days=365)
    )


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0003_business_unit_group"),
        ("knox", "0009_extend_authtoken_field"),
    ]

    operations = [migrations.RunPython(cap_token_lives, migrations.RunPython.noop)]
