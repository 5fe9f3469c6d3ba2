"""Charts of actions drawn on the server as SVG: no script, prints cleanly, reads in any locale."""

from __future__ import annotations

import datetime as dt
import math

from django.utils import formats
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

WIDTH, HEIGHT = 640, 240
LEFT, RIGHT, TOP, BOTTOM = 48, 12, 16, 52
PLOT_W, PLOT_H = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
BAR = "#dc3545"  # Bootstrap's danger red: overdue work
INK, GRID = "#495057", "#dee2e6"
MAX_DATE_LABELS = 8  # more would overlap at this width


def _ceiling(value: int) -> int:
    """A round top for the y axis (1, 2, 5, 10, 20, 50, ...) at or above the largest count."""
    if value <= 1:
        return 1
    power = 10 ** math.floor(math.log10(value))
    return next(step * power for step in (1, 2, 5, 10) if step * power >= value)


def _day(day: dt.date) -> str:
    return str(formats.date_format(day, "MONTH_DAY_FORMAT"))


def _number(value: int) -> str:
    return str(formats.number_format(value, force_grouping=True))


def _fixed(value: float) -> str:
    return f"{value:.1f}"


def _title_and_description(points: list[tuple[dt.date, int]]) -> tuple[str, str]:
    weeks = len(points)
    title = ngettext(
        "Overdue actions, last %(weeks)d week", "Overdue actions, last %(weeks)d weeks", weeks
    ) % {"weeks": weeks}
    if not points:
        return title, _("There is no data to show yet.")
    description = _(
        "On %(first_day)s, %(first)s actions were overdue; on %(last_day)s, %(last)s."
    ) % {
        "first_day": _day(points[0][0]),
        "first": _number(points[0][1]),
        "last_day": _day(points[-1][0]),
        "last": _number(points[-1][1]),
    }
    return title, description


def overdue_trend_svg(
    points: list[tuple[dt.date, int]], *, chart_id: str = "overdue-trend"
) -> SafeString:
    """A bar per week of how many actions were overdue, with translated axes and an accessible
    title and description; `chart_id` keeps two charts on one page apart. With nothing to draw
    (no weeks, or none with an overdue action) it is a sentence saying so, not empty axes."""
    title, description = _title_and_description(points)
    if not any(count for _when, count in points):
        sentence = (
            ngettext(
                "No action was overdue in the last %(weeks)d week.",
                "No action was overdue in the last %(weeks)d weeks.",
                len(points),
            )
            % {"weeks": len(points)}
            if points
            else description
        )
        return format_html(
            '<p class="text-body-secondary mb-0" data-testid="{}-empty">{}</p>',
            chart_id,
            sentence,
        )
    parts: list[SafeString] = [
        format_html(
            '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {} {}" role="img" '
            'aria-labelledby="{}-title {}-desc" class="rcc-chart w-100" data-testid="{}" '
            'font-family="system-ui, sans-serif" font-size="11">'
            '<title id="{}-title">{}</title><desc id="{}-desc">{}</desc>',
            WIDTH,
            HEIGHT,
            chart_id,
            chart_id,
            chart_id,
            chart_id,
            title,
            chart_id,
            description,
        )
    ]
    top = _ceiling(max((count for _when, count in points), default=0))
    for tick in sorted({0, top // 2, top}):  # grid lines at zero, half and the top
        y = TOP + PLOT_H - PLOT_H * tick / top
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
                _number(tick),
            )
        )
    slot = PLOT_W / max(len(points), 1)
    label_every = max(1, math.ceil(len(points) / MAX_DATE_LABELS))
    for index, (day, count) in enumerate(points):
        height = PLOT_H * count / top
        x = LEFT + index * slot + slot * 0.15
        tip = _("%(day)s: %(count)s overdue") % {"day": _day(day), "count": _number(count)}
        parts.append(
            format_html(
                '<rect x="{}" y="{}" width="{}" height="{}" fill="{}" data-count="{}">'
                "<title>{}</title></rect>",
                _fixed(x),
                _fixed(TOP + PLOT_H - height),
                _fixed(slot * 0.7),
                _fixed(height),
                BAR,
                count,
                tip,
            )
        )
        if (len(points) - 1 - index) % label_every == 0:  # the latest week is always labelled
            parts.append(
                format_html(
                    '<text x="{}" y="{}" text-anchor="middle" fill="{}">{}</text>',
                    _fixed(x + slot * 0.35),
                    TOP + PLOT_H + 16,
                    INK,
                    _day(day),
                )
            )
    parts.append(
        format_html(
            '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="{}"/>'
            '<text x="{}" y="{}" text-anchor="middle" fill="{}">{}</text>'
            '<text transform="translate(12 {}) rotate(-90)" text-anchor="middle" fill="{}">{}</text>'
            "</svg>",
            LEFT,
            TOP + PLOT_H,
            WIDTH - RIGHT,
            TOP + PLOT_H,
            INK,
            _fixed(LEFT + PLOT_W / 2),
            HEIGHT - 8,
            INK,
            _("Week"),
            _fixed(TOP + PLOT_H / 2),
            INK,
            _("Overdue actions"),
        )
    )
    # Joined through format_html_join: safe parts stay as built, anything else is escaped.
    return format_html_join("", "{}", ((part,) for part in parts))
