"""Charts of the vulnerability posture drawn on the server as SVG: no script, prints, any locale."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence

from django.utils import formats
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext

from vulnerabilities.models import Severity
from vulnerabilities.posture import BUCKETS, TrendPoint, UnitExposure

INK, GRID = "#495057", "#dee2e6"
OPEN_LINE, OPEN_FILL = "#0d6efd", "#cfe2ff"  # Bootstrap's primary and its light tint
OVERDUE_LINE = "#dc3545"  # Bootstrap's danger red, dashed: colour is never the only cue
# One colour a severity, darkest for the worst; each segment also carries its name and count.
SEVERITY_COLOURS: dict[str, str] = {
    Severity.CRITICAL: "#842029",
    Severity.HIGH: "#dc3545",
    Severity.MEDIUM: "#fd7e14",
    Severity.LOW: "#ffc107",
    Severity.UNKNOWN: "#adb5bd",
}
MAX_DATE_LABELS = 6  # more would overlap at this width
STEPS = (1, 2, 2.5, 3, 4, 5, 6, 8, 10)
MAX_UNITS = 20  # the most exposed units are drawn; the table below the chart lists them all

TREND_W, TREND_H = 640, 260
T_LEFT, T_RIGHT, T_TOP, T_BOTTOM = 48, 16, 16, 72
T_PLOT_W, T_PLOT_H = TREND_W - T_LEFT - T_RIGHT, TREND_H - T_TOP - T_BOTTOM
T_INSET = 32  # keeps the first and last points' date labels inside the plot

BAR_W = 640
B_LEFT, B_RIGHT, B_TOP = 96, 48, 40  # unit codes on the left, the total right of each bar
ROW, BAR_H = 24, 16
B_PLOT_W = BAR_W - B_LEFT - B_RIGHT


def _ceiling(value: int) -> int:
    """A round whole top for an axis (1, 2, 3, 4, 5, 6, 8, 10, 20, 25, 30, ...) at or above
    the largest count: close enough above it that the longest bar fills most of the plot."""
    if value <= 1:
        return 1
    power = 10 ** math.floor(math.log10(value))
    tops = (step * power for step in STEPS if float(step * power).is_integer())
    return int(next(top for top in tops if top >= value))


def _day(day: dt.date) -> str:
    return str(formats.date_format(day, "MONTH_DAY_FORMAT"))


def _number(value: int) -> str:
    return str(formats.number_format(value, force_grouping=True))


def _fixed(value: float) -> str:
    return f"{value:.1f}"


def _joined(parts: list[SafeString]) -> SafeString:
    # Joined through format_html_join: safe parts stay as built, anything else is escaped.
    return format_html_join("", "{}", ((part,) for part in parts))


def _empty(chart_id: str, sentence: str) -> SafeString:
    return format_html(
        '<p class="text-body-secondary mb-0" data-testid="{}-empty">{}</p>', chart_id, sentence
    )


def _open_svg(chart_id: str, width: int, height: int, title: str, description: str) -> SafeString:
    return format_html(
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {} {}" role="img" '
        'aria-labelledby="{}-title {}-desc" class="rcc-chart w-100 h-auto" data-testid="{}" '
        'font-family="system-ui, sans-serif" font-size="11">'
        '<title id="{}-title">{}</title><desc id="{}-desc">{}</desc>',
        width,
        height,
        chart_id,
        chart_id,
        chart_id,
        chart_id,
        title,
        chart_id,
        description,
    )


# --- Open and overdue findings, week by week --------------------------------------------------


def trend_svg(points: Sequence[TrendPoint], *, chart_id: str = "vulnerability-trend") -> SafeString:
    """Open findings (a filled area) and overdue ones (a dashed red line) at the end of each
    week, oldest first, with an accessible title and description, a legend and labelled axes.
    With nothing to draw it is a sentence saying so, not empty axes."""
    weeks = len(points)
    title = ngettext(
        "Open and overdue findings, last %(weeks)d week",
        "Open and overdue findings, last %(weeks)d weeks",
        weeks,
    ) % {"weeks": weeks}
    if not any(point.open for point in points):
        return _empty(
            chart_id,
            ngettext(
                "No finding was open in the last %(weeks)d week.",
                "No finding was open in the last %(weeks)d weeks.",
                weeks,
            )
            % {"weeks": weeks},
        )
    first, last = points[0], points[-1]
    description = _(
        "On %(first_day)s, %(first_open)s findings were open and %(first_overdue)s overdue; "
        "on %(last_day)s, %(last_open)s open and %(last_overdue)s overdue."
    ) % {
        "first_day": _day(first.day),
        "first_open": _number(first.open),
        "first_overdue": _number(first.overdue),
        "last_day": _day(last.day),
        "last_open": _number(last.open),
        "last_overdue": _number(last.overdue),
    }
    parts = [_open_svg(chart_id, TREND_W, TREND_H, title, description)]
    top = _ceiling(max(point.open for point in points))
    base = T_TOP + T_PLOT_H

    def y_of(count: int) -> float:
        return base - T_PLOT_H * count / top

    def x_of(index: int) -> float:
        if weeks == 1:
            return T_LEFT + T_PLOT_W / 2
        return T_LEFT + T_INSET + (T_PLOT_W - 2 * T_INSET) * index / (weeks - 1)

    for tick in sorted({0, top // 2, top}):  # grid lines at zero, half and the top
        parts.append(
            format_html(
                '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="{}"/>'
                '<text x="{}" y="{}" text-anchor="end" fill="{}">{}</text>',
                T_LEFT,
                _fixed(y_of(tick)),
                TREND_W - T_RIGHT,
                _fixed(y_of(tick)),
                GRID,
                T_LEFT - 6,
                _fixed(y_of(tick) + 4),
                INK,
                _number(tick),
            )
        )
    opened = [(x_of(i), y_of(p.open)) for i, p in enumerate(points)]
    overdue = [(x_of(i), y_of(p.overdue)) for i, p in enumerate(points)]
    line = " ".join(f"{_fixed(x)},{_fixed(y)}" for x, y in opened)
    area = f"{_fixed(opened[0][0])},{base} {line} {_fixed(opened[-1][0])},{base}"
    parts.append(
        format_html(
            '<g data-series="open"><polygon points="{}" fill="{}" fill-opacity="0.6"/>'
            '<polyline points="{}" fill="none" stroke="{}" stroke-width="2"/>',
            area,
            OPEN_FILL,
            line,
            OPEN_LINE,
        )
    )
    parts.extend(
        format_html(
            '<circle cx="{}" cy="{}" r="3" fill="{}" data-count="{}"><title>{}</title></circle>',
            _fixed(x),
            _fixed(y),
            OPEN_LINE,
            point.open,
            _("%(day)s: %(count)s open") % {"day": _day(point.day), "count": _number(point.open)},
        )
        for point, (x, y) in zip(points, opened, strict=True)
    )
    parts.append(
        format_html(
            '</g><g data-series="overdue"><polyline points="{}" fill="none" stroke="{}" '
            'stroke-width="2" stroke-dasharray="6 3"/>',
            " ".join(f"{_fixed(x)},{_fixed(y)}" for x, y in overdue),
            OVERDUE_LINE,
        )
    )
    parts.extend(
        format_html(
            '<rect x="{}" y="{}" width="6" height="6" fill="{}" data-count="{}">'
            "<title>{}</title></rect>",
            _fixed(x - 3),
            _fixed(y - 3),
            OVERDUE_LINE,
            point.overdue,
            _("%(day)s: %(count)s overdue")
            % {"day": _day(point.day), "count": _number(point.overdue)},
        )
        for point, (x, y) in zip(points, overdue, strict=True)
    )
    parts.append(SafeString("</g>"))
    every = max(1, math.ceil(weeks / MAX_DATE_LABELS))
    for index, point in enumerate(points):
        if (weeks - 1 - index) % every == 0:  # the latest week is always labelled
            parts.append(
                format_html(
                    '<text x="{}" y="{}" text-anchor="middle" fill="{}">{}</text>',
                    _fixed(x_of(index)),
                    base + 16,
                    INK,
                    _day(point.day),
                )
            )
    legend_y = base + 44
    parts.append(
        format_html(
            '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="{}"/>'
            '<text transform="translate(12 {}) rotate(-90)" text-anchor="middle" fill="{}">{}'
            '</text><g data-testid="{}-legend">'
            '<rect x="{}" y="{}" width="18" height="10" fill="{}" stroke="{}"/>'
            '<text x="{}" y="{}" fill="{}">{}</text>'
            '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="{}" stroke-width="2" '
            'stroke-dasharray="6 3"/><text x="{}" y="{}" fill="{}">{}</text></g></svg>',
            T_LEFT,
            base,
            TREND_W - T_RIGHT,
            base,
            INK,
            _fixed(T_TOP + T_PLOT_H / 2),
            INK,
            _("Findings"),
            chart_id,
            T_LEFT,
            legend_y - 9,
            OPEN_FILL,
            OPEN_LINE,
            T_LEFT + 24,
            legend_y,
            INK,
            pgettext("findings", "Open"),
            _fixed(T_LEFT + T_PLOT_W / 2),
            legend_y - 4,
            _fixed(T_LEFT + T_PLOT_W / 2 + 18),
            legend_y - 4,
            OVERDUE_LINE,
            _fixed(T_LEFT + T_PLOT_W / 2 + 24),
            legend_y,
            INK,
            _("Overdue"),
        )
    )
    return _joined(parts)


# --- Open findings by severity, unit by unit ---------------------------------------------------


def severity_labels() -> dict[str, str]:
    """The severity columns' names in the reader's language ("none" is counted with low)."""
    labels = dict(Severity.choices)
    return {str(bucket): str(labels[bucket]) for bucket in BUCKETS}


def units_svg(units: Sequence[UnitExposure], *, chart_id: str = "exposure-by-unit") -> SafeString:
    """A horizontal bar a unit, stacked by severity (critical first), the most exposed units
    at the top; each segment names its severity and count, and the total stands at the end of
    the bar. At most MAX_UNITS units are drawn; the page's table lists every one."""
    shown = [unit for unit in units if unit.open][:MAX_UNITS]
    if not shown:
        return _empty(chart_id, _("No finding is open."))
    labels = severity_labels()
    title = _("Open findings by severity and business unit")
    hidden = len([unit for unit in units if unit.open]) - len(shown)
    description = ngettext(
        "%(count)s business unit with open findings; %(first)s has the most critical ones "
        "(%(critical)s of %(open)s open).",
        "%(count)s business units with open findings; %(first)s has the most critical ones "
        "(%(critical)s of %(open)s open).",
        len(shown) + hidden,
    ) % {
        "count": _number(len(shown) + hidden),
        "first": shown[0].code,
        "critical": _number(shown[0].critical),
        "open": _number(shown[0].open),
    }
    if hidden:
        description += " " + ngettext(
            "The %(n)s other unit is in the table.",
            "The %(n)s other units are in the table.",
            hidden,
        ) % {"n": hidden}
    height = B_TOP + ROW * len(shown) + 28
    parts = [_open_svg(chart_id, BAR_W, height, title, description)]
    # The legend above the bars: one swatch a severity, spread across the plot.
    column = B_PLOT_W / len(BUCKETS)
    parts.append(format_html('<g data-testid="{}-legend">', chart_id))
    parts.extend(
        format_html(
            '<rect x="{}" y="8" width="12" height="12" fill="{}"/>'
            '<text x="{}" y="18" fill="{}">{}</text>',
            _fixed(B_LEFT + index * column),
            SEVERITY_COLOURS[bucket],
            _fixed(B_LEFT + index * column + 16),
            INK,
            labels[str(bucket)],
        )
        for index, bucket in enumerate(BUCKETS)
    )
    parts.append(SafeString("</g>"))
    top = _ceiling(max(unit.open for unit in shown))
    base = B_TOP + ROW * len(shown)
    for tick in sorted({0, top // 2, top}):
        x = B_LEFT + B_PLOT_W * tick / top
        parts.append(
            format_html(
                '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="{}"/>'
                '<text x="{}" y="{}" text-anchor="middle" fill="{}">{}</text>',
                _fixed(x),
                B_TOP - 6,
                _fixed(x),
                base,
                GRID,
                _fixed(x),
                base + 14,
                INK,
                _number(tick),
            )
        )
    for row, unit in enumerate(shown):
        y = B_TOP + row * ROW + (ROW - BAR_H) / 2
        parts.append(
            format_html(
                '<g data-testid="{}-unit" data-unit="{}" data-open="{}">'
                '<text x="{}" y="{}" text-anchor="end" fill="{}">{}<title>{}</title></text>',
                chart_id,
                unit.code,
                unit.open,
                B_LEFT - 6,
                _fixed(y + BAR_H - 4),
                INK,
                unit.code,
                unit.name,
            )
        )
        x = float(B_LEFT)
        for bucket, count in unit.by_severity:
            if not count:
                continue
            width = B_PLOT_W * count / top
            parts.append(
                format_html(
                    '<rect x="{}" y="{}" width="{}" height="{}" fill="{}" data-severity="{}" '
                    'data-count="{}"><title>{}</title></rect>',
                    _fixed(x),
                    _fixed(y),
                    _fixed(width),
                    BAR_H,
                    SEVERITY_COLOURS[bucket],
                    bucket,
                    count,
                    _("%(unit)s, %(severity)s: %(count)s open")
                    % {"unit": unit.code, "severity": labels[bucket], "count": _number(count)},
                )
            )
            x += width
        parts.append(
            format_html(
                '<text x="{}" y="{}" fill="{}">{}</text></g>',
                _fixed(x + 4),
                _fixed(y + BAR_H - 4),
                INK,
                _number(unit.open),
            )
        )
    parts.append(
        format_html(
            '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="{}"/>'
            '<text x="{}" y="{}" text-anchor="middle" fill="{}">{}</text></svg>',
            B_LEFT,
            B_TOP - 6,
            B_LEFT,
            base,
            INK,
            _fixed(B_LEFT + B_PLOT_W / 2),
            base + 26,
            INK,
            _("Open findings"),
        )
    )
    return _joined(parts)
