"""Earned Value and quality indicators from a report's figures, and their green/amber/red rating.

The standard formulas (PMI, PMBOK Guide, 6th ed., 7.4): SV = EV - PV, CV = EV - AC,
SPI = EV / PV, CPI = EV / AC, EAC = BAC / CPI, ETC = EAC - AC. Where a formula divides by
zero it has no value (None) rather than an error: no planned value yet means no SPI; nothing
spent means no CPI, and then the estimate assumes the rest costs what was budgeted
(EAC = AC + BAC - EV); something spent and nothing earned leaves no estimate at all.
Pure functions: no database, no side effects.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Context, Decimal, localcontext
from itertools import pairwise

from quality.models import LOWER_IS_BETTER, RAG_ORDER, Indicator, Phase, Rag

FOUR = Decimal("0.0001")
CENTS = Decimal("0.01")
HUNDRED = Decimal(100)
TREND_RUN = 3  # falls in a row that make a trend
PRE_RELEASE = (Phase.PLANNING, Phase.DESIGN, Phase.BUILD, Phase.TEST)  # defects caught in time


def month_of(day: dt.date) -> dt.date:
    """The period a day falls in: its month, as the month's first day."""
    return day.replace(day=1)


def months_between(earlier: dt.date, later: dt.date) -> int:
    """How many months `later` is after `earlier`, by calendar month."""
    return (later.year * 12 + later.month) - (earlier.year * 12 + earlier.month)


@dataclass(frozen=True)
class Figures:
    """What a unit reports, with the project's budget at completion (BAC)."""

    budget_at_completion: Decimal
    planned_value: Decimal
    earned_value: Decimal
    actual_cost: Decimal
    tests_run: int = 0
    size: Decimal = Decimal(0)
    defects_before_release: int = 0
    defects_after_release: int = 0


@dataclass(frozen=True)
class Indicators:
    schedule_variance: Decimal
    cost_variance: Decimal
    spi: Decimal | None
    cpi: Decimal | None
    estimate_at_completion: Decimal | None
    estimate_to_complete: Decimal | None
    test_density: Decimal | None
    defect_detection_rate: Decimal | None


def _ratio(numerator: Decimal, denominator: Decimal) -> Decimal | None:
    if denominator == 0:
        return None
    return (numerator / denominator).quantize(FOUR, rounding=ROUND_HALF_UP)


def _percent(part: Decimal | None, whole: Decimal) -> Decimal | None:
    if part is None or whole == 0:
        return None
    return (part * HUNDRED / whole).quantize(FOUR, rounding=ROUND_HALF_UP)


def _money(value: Decimal) -> Decimal:
    return value.quantize(CENTS, rounding=ROUND_HALF_UP)


def indicators(f: Figures) -> Indicators:
    """Every derived indicator of one report's figures, computed with room to spare (figures
    near the columns' limits give products past the default 28 digits)."""
    with localcontext(Context(prec=60)):
        return _indicators(f)


def _indicators(f: Figures) -> Indicators:
    sv = f.earned_value - f.planned_value
    cv = f.earned_value - f.actual_cost
    spi = _ratio(f.earned_value, f.planned_value)
    cpi = _ratio(f.earned_value, f.actual_cost)
    eac: Decimal | None
    if f.actual_cost == 0:
        eac = f.budget_at_completion - f.earned_value  # nothing spent: the rest as budgeted
        eac = max(eac, Decimal(0))
    elif f.earned_value == 0:
        eac = None  # money spent and nothing earned: no rate to forecast from
    else:
        # BAC / CPI, computed from the unrounded index.
        eac = f.budget_at_completion * f.actual_cost / f.earned_value
    etc = None if eac is None else max(eac - f.actual_cost, Decimal(0))
    found = f.defects_before_release + f.defects_after_release
    return Indicators(
        schedule_variance=_money(sv),
        cost_variance=_money(cv),
        spi=spi,
        cpi=cpi,
        estimate_at_completion=None if eac is None else _money(eac),
        estimate_to_complete=None if etc is None else _money(etc),
        test_density=_ratio(Decimal(f.tests_run), f.size),
        defect_detection_rate=_percent(Decimal(f.defects_before_release), Decimal(found)),
    )


def rated_values(found: Indicators, figures: Figures, phase: str) -> dict[str, Decimal | None]:
    """The value each rated indicator is judged on. SV and CV as a share of what they are
    variances of (planned and earned value), so one threshold fits a small project and a large
    one; the estimate as its overrun of the budget. Test density is judged once testing is
    under way (before, no tests have run, and that is no failing)."""
    overrun = (
        None
        if found.estimate_at_completion is None
        else found.estimate_at_completion - figures.budget_at_completion
    )
    return {
        Indicator.SPI: found.spi,
        Indicator.CPI: found.cpi,
        Indicator.SV: _percent(found.schedule_variance, figures.planned_value),
        Indicator.CV: _percent(found.cost_variance, figures.earned_value),
        Indicator.EAC: _percent(overrun, figures.budget_at_completion),
        Indicator.TEST_DENSITY: found.test_density
        if phase in {Phase.TEST, Phase.RELEASE}
        else None,
        Indicator.DEFECT_DETECTION: found.defect_detection_rate,
    }


def rate(value: Decimal | None, *, indicator: str, green: Decimal, red: Decimal) -> str:
    """Green, amber or red for one value under one threshold; not rated without a value."""
    if value is None:
        return Rag.UNRATED
    if indicator in LOWER_IS_BETTER:
        if value <= green:
            return Rag.GREEN
        return Rag.RED if value > red else Rag.AMBER
    if value >= green:
        return Rag.GREEN
    return Rag.RED if value < red else Rag.AMBER


def rate_all(
    values: Mapping[str, Decimal | None], thresholds: Mapping[str, tuple[Decimal, Decimal]]
) -> dict[str, str]:
    """Each value that has a threshold and a value, rated; the rest are left out."""
    ratings = {}
    for indicator, value in values.items():
        if indicator not in thresholds:
            continue
        green, red = thresholds[indicator]
        rating = rate(value, indicator=indicator, green=green, red=red)
        if rating != Rag.UNRATED:
            ratings[indicator] = rating
    return ratings


def overall(ratings: Mapping[str, str]) -> str:
    """A project is as healthy as its worst indicator."""
    return max(ratings.values(), key=lambda r: RAG_ORDER[Rag(r)], default=Rag.UNRATED)


def falling(series: Sequence[Decimal | None], run: int = TREND_RUN) -> bool:
    """Has the value fallen in each of the last `run` periods (so `run` + 1 values, oldest
    first, each lower than the one before)? A period without a value breaks the run."""
    if len(series) < run + 1:
        return False
    tail = [value for value in series[-(run + 1) :] if value is not None]
    if len(tail) < run + 1:
        return False
    return all(later < earlier for earlier, later in pairwise(tail))
