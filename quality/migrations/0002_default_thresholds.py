"""The thresholds quality control starts with; the CQO changes them in the product."""

from decimal import Decimal

from django.db import migrations

# indicator: (green, red). Better higher, except the estimate's overrun (better lower).
DEFAULTS = {
    "spi": (Decimal("0.95"), Decimal("0.85")),
    "cpi": (Decimal("0.95"), Decimal("0.85")),
    "sv": (Decimal("-5"), Decimal("-15")),
    "cv": (Decimal("-5"), Decimal("-15")),
    "eac": (Decimal("5"), Decimal("15")),
    "test_density": (Decimal("20"), Decimal("10")),
    "defect_detection": (Decimal("90"), Decimal("75")),
}


def create(apps, schema_editor):
    Threshold = apps.get_model("quality", "Threshold")
    for indicator, (green, red) in DEFAULTS.items():
        Threshold.objects.get_or_create(indicator=indicator, defaults={"green": green, "red": red})


class Migration(migrations.Migration):
    dependencies = [("quality", "0001_initial")]

    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
