"""Load the 5x5 risk matrix of NIST SP 800-30 Rev. 1, Table I-2 (a company may replace it)."""

from django.db import migrations

SCALE = ["very_low", "low", "moderate", "high", "very_high"]
# Rows: likelihood 1 (very low) .. 5 (very high); columns: impact 1 (very low) .. 5 (very high).
TABLE_I2 = [
    ["very_low", "very_low", "very_low", "low", "low"],
    ["very_low", "low", "low", "low", "moderate"],
    ["very_low", "low", "moderate", "moderate", "high"],
    ["very_low", "low", "moderate", "high", "very_high"],
    ["very_low", "low", "moderate", "high", "very_high"],
]
REVIEW_DAYS = {"very_low": 365, "low": 365, "moderate": 180, "high": 90, "very_high": 30}


def load(apps, schema_editor):
    Cell = apps.get_model("cases", "RiskMatrixCell")
    for likelihood, row in enumerate(TABLE_I2, start=1):
        for impact, level in enumerate(row, start=1):
            Cell.objects.update_or_create(
                likelihood=likelihood,
                impact=impact,
                defaults={"level": level, "review_days": REVIEW_DAYS[level]},
            )


class Migration(migrations.Migration):
    dependencies = [("cases", "0002_affected_systems_and_grants")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
