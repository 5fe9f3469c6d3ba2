"""A project's Earned Value chart as server-side SVG: no script, prints, reads in any locale."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.utils import formats
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from quality.evm import months_between

WIDTH, HEIGHT = 680, 290
LEFT, RIGHT, TOP, BOTTOM = 64, 16, 16, 84
PLOT_W, PLOT_H = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
INSET = 44  # keeps the first and last points, and their period labels, inside the plot
INK, GRID = "#495057", "#dee2e6"
MAX_PERIOD_LABELS = 6  # more would overlap at this width
TICKS = 4  # grid intervals on the y axis
# Round tops for the y axis; 1.2 and 1.5 keep a budget line from sitting far below the top.
STEPS = (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10)
HEADROOM = 1.05


@dataclass(frozen=True)
class Series:
    """One line of the chart: its key, colour and dash pattern (colour is never the only cue)."""

    key: str
    colour: str
    dash: str


PV = Series("pv", "#0d6efd", "6 3")
EV = Series("ev", "#198754", "")
AC = Series("ac", "#dc3545", "2 3")
BAC = Series("bac", "#212529", "10 4 2 4")


@dataclass(frozen=True)
class EvmPoint:
    """One report's cumulative figures, as the chart draws them."""

    period: dt.date
    planned_value: Decimal
    earned_value: Decimal
    actual_cost: Decimal


def _labels() -> dict[str, str]:
    return {
        PV.key: _("Planned value (PV)"),
        EV.key: _("Earned value (EV)"),
        AC.key: _("Actual cost (AC)"),
        BAC.key: _("Budget at completion (BAC)"),
    }


def money(value: Decimal | float | int | None) -> str:
    """An amount in the reader's locale: grouped, cents only where there are some."""
    if value is None:
        return ""
    amount = Decimal(value)
    places = 0 if amount == amount.to_integral_value() else 2
    return str(formats.number_format(amount, decimal_pos=places, force_grouping=True))


def month_label(period: dt.date) -> str:
    return str(formats.date_format(period, "YEAR_MONTH_FORMAT"))


def _fixed(value: float) -> str:
    return f"{value:.1f}"


def _ceiling(value: float) -> float:
    """A round top for the y axis a little above the largest amount."""
    if value <= 0:
        return 1.0
    value *= HEADROOM
    power = 10 ** math.floor(math.log10(value))
    return next(step * power for step in STEPS if step * power >= value)


def _scale(top: float) -> int:
    """Tick labels in units, thousands, millions...: never more than four digits on the axis."""
    divisor = 1
    while top / divisor >= 10_000 and divisor < 1000**4:
        divisor *= 1000
    return divisor


def _description(points: Sequence[EvmPoint], budget: Decimal) -> str:
    if not points:
        return _(
            "No report yet: the lines start with the first monthly report. Budget at "
            "completion %(bac)s."
        ) % {"bac": money(budget)}
    last = points[-1]
    return _(
        "Budget at completion %(bac)s. %(period)s, the latest of %(count)s reports: planned "
        "value %(pv)s, earned value %(ev)s, actual cost %(ac)s."
    ) % {
        "bac": money(budget),
        "period": month_label(last.period),
        "count": len(points),
        "pv": money(last.planned_value),
        "ev": money(last.earned_value),
        "ac": money(last.actual_cost),
    }


def evm_chart_svg(
    points: Sequence[EvmPoint], *, budget: Decimal, chart_id: str = "evm-chart"
) -> SafeString:
    """Cumulative planned value, earned value and actual cost by report period, oldest first,
    under a horizontal line at the budget at completion; with an accessible title and
    description, a legend and labelled axes. Periods are placed by month, so a month without a
    report shows as a gap in time, not as a neighbour."""
    labels = _labels()
    title = _("Earned value: planned value, earned value and actual cost")
    description = _description(points, budget)
    parts: list[SafeString] = [
        format_html(
            '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {} {}" role="img" '
            'aria-labelledby="{}-title {}-desc" class="rcc-chart w-100 h-auto" data-testid="{}" '
            'data-points="{}" font-family="system-ui, sans-serif" font-size="11">'
            '<title id="{}-title">{}</title><desc id="{}-desc">{}</desc>',
            WIDTH,
            HEIGHT,
            chart_id,
            chart_id,
            chart_id,
            len(points),
            chart_id,
            title,
            chart_id,
            description,
        )
    ]
    amounts = [float(budget)] + [
        float(value) for p in points for value in (p.planned_value, p.earned_value, p.actual_cost)
    ]
    top = _ceiling(max(amounts))
    divisor = _scale(top)
    base = TOP + PLOT_H

    def y_of(amount: float) -> float:
        return base - PLOT_H * amount / top

    for step in range(TICKS + 1):
        tick = top * step / TICKS
        y = y_of(tick)
        parts.append(
            format_html(
                '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="{}"/>'
                '<text x="{}" y="{}" text-anchor="end" fill="{}">{}</text>',
                LEFT,
                _fixed(y),
                WIDTH - RIGHT,
                _fixed(y),
                GRID,
                LEFT - 6,
                _fixed(y + 4),
                INK,
                money(Decimal(str(round(tick / divisor, 2)))),
            )
        )
    if budget > 0:
        y = y_of(float(budget))
        parts.append(
            format_html(
                '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="{}" stroke-width="1.5" '
                'stroke-dasharray="{}" data-series="{}"><title>{}: {}</title></line>',
                LEFT,
                _fixed(y),
                WIDTH - RIGHT,
                _fixed(y),
                BAC.colour,
                BAC.dash,
                BAC.key,
                labels[BAC.key],
                money(budget),
            )
        )

    if points:
        first = points[0].period
        span = months_between(first, points[-1].period)

        def x_of(day: dt.date) -> float:
            if span == 0:
                return LEFT + PLOT_W / 2
            return LEFT + INSET + (PLOT_W - 2 * INSET) * months_between(first, day) / span

        for series, field in ((PV, "planned_value"), (EV, "earned_value"), (AC, "actual_cost")):
            coordinates = [(x_of(p.period), y_of(float(getattr(p, field)))) for p in points]
            parts.append(
                format_html(
                    '<g data-series="{}"><polyline points="{}" fill="none" stroke="{}" '
                    'stroke-width="2" stroke-dasharray="{}"/>',
                    series.key,
                    " ".join(f"{_fixed(x)},{_fixed(y)}" for x, y in coordinates),
                    series.colour,
                    series.dash or "none",
                )
            )
            parts.extend(
                format_html(
                    '<circle cx="{}" cy="{}" r="3" fill="{}"><title>{}</title></circle>',
                    _fixed(x),
                    _fixed(y),
                    series.colour,
                    _("%(series)s, %(period)s: %(amount)s")
                    % {
                        "series": labels[series.key],
                        "period": month_label(p.period),
                        "amount": money(getattr(p, field)),
                    },
                )
                for p, (x, y) in zip(points, coordinates, strict=True)
            )
            parts.append(SafeString("</g>"))
        every = max(1, math.ceil(len(points) / MAX_PERIOD_LABELS))
        for index, p in enumerate(points):
            if (len(points) - 1 - index) % every == 0:  # the latest period is always labelled
                parts.append(
                    format_html(
                        '<text x="{}" y="{}" text-anchor="middle" fill="{}">{}</text>',
                        _fixed(x_of(p.period)),
                        base + 16,
                        INK,
                        month_label(p.period),
                    )
                )
    else:
        parts.append(
            format_html(
                '<text x="{}" y="{}" text-anchor="middle" fill="{}" data-testid="evm-empty">'
                "{}</text>",
                _fixed(LEFT + PLOT_W / 2),
                _fixed(TOP + PLOT_H / 2),
                INK,
                _("No report yet."),
            )
        )

    axis_title = {
        1: _("Amount"),
        1000: _("Amount (thousands)"),
        1000**2: _("Amount (millions)"),
        1000**3: _("Amount (billions)"),
    }.get(divisor, _("Amount (trillions)"))
    parts.append(
        format_html(
            '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="{}"/>'
            '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="{}"/>'
            '<text x="{}" y="{}" text-anchor="middle" fill="{}">{}</text>'
            '<text transform="translate(12 {}) rotate(-90)" text-anchor="middle" fill="{}">{}'
            "</text>",
            LEFT,
            base,
            WIDTH - RIGHT,
            base,
            INK,
            LEFT,
            TOP,
            LEFT,
            base,
            INK,
            _fixed(LEFT + PLOT_W / 2),
            base + 36,
            INK,
            _("Report period"),
            _fixed(TOP + PLOT_H / 2),
            INK,
            axis_title,
        )
    )
    # Two rows of two: room for the longest label in any language at this width.
    column = PLOT_W / 2
    parts.append(format_html('<g data-testid="{}-legend">', chart_id))
    parts.extend(
        format_html(
            '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="{}" stroke-width="2" '
            'stroke-dasharray="{}"/><text x="{}" y="{}" fill="{}">{}</text>',
            _fixed(LEFT + (index % 2) * column),
            base + 50 + (index // 2) * 16,
            _fixed(LEFT + (index % 2) * column + 22),
            base + 50 + (index // 2) * 16,
            series.colour,
            series.dash or "none",
            _fixed(LEFT + (index % 2) * column + 28),
            base + 54 + (index // 2) * 16,
            INK,
            labels[series.key],
        )
        for index, series in enumerate((PV, EV, AC, BAC))
    )
    parts.append(SafeString("</g></svg>"))
    # Joined through format_html_join: safe parts stay as built, anything else is escaped.
    return format_html_join("", "{}", ((part,) for part in parts))
