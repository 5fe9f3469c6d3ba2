"""The risk matrix as data: NIST SP 800-30 Rev. 1 Table I-2, loaded by a migration, replaceable."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from cases.models import RiskLevel, RiskMatrixCell

# Rows: likelihood 1 (very low) .. 5 (very high); columns: impact 1 (very low) .. 5 (very high).
NIST_800_30_TABLE_I2 = [
    ["very_low", "very_low", "very_low", "low", "low"],
    ["very_low", "low", "low", "low", "moderate"],
    ["very_low", "low", "moderate", "moderate", "high"],
    ["very_low", "low", "moderate", "high", "very_high"],
    ["very_low", "low", "moderate", "high", "very_high"],
]
REVIEW_DAYS = {"very_low": 365, "low": 365, "moderate": 180, "high": 90, "very_high": 30}


@dataclass(frozen=True)
class Assessment:
    level: str
    review_days: int


def load_nist_matrix() -> None:
    """(Re)load the default matrix; the migration does this on install."""
    for likelihood, row in enumerate(NIST_800_30_TABLE_I2, start=1):
        for impact, level in enumerate(row, start=1):
            RiskMatrixCell.objects.update_or_create(
                likelihood=likelihood,
                impact=impact,
                defaults={"level": level, "review_days": REVIEW_DAYS[level]},
            )


def current_matrix() -> dict[tuple[int, int], Assessment]:
    """The matrix in force, in one query. An incomplete matrix is refused, not guessed at."""
    cells = {
        (c.likelihood, c.impact): Assessment(c.level, c.review_days)
        for c in RiskMatrixCell.objects.all()
    }
    if len(cells) != 25:
        raise ValidationError(
            _(
                "The risk matrix has %(count)s of its 25 cells; complete it in the admin (Cases > Risk matrix cells) before risks can be scored."
            )
            % {"count": len(cells)}
        )
    return cells


LEVEL_ORDER = [level.value for level in RiskLevel]
