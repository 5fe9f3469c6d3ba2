"""The 5x5 risk heat map drawn as server-side SVG (no script), for the risk pages and dashboard."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlencode

from django.urls import reverse
from django.utils import formats
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from cases.matrix import NIST_800_30_TABLE_I2
from cases.models import RiskLevel, RiskMatrixCell

# Fill and text colour per NIST SP 800-30 level: green through red, dark text on all of them.
COLOURS: dict[str, str] = {
    RiskLevel.VERY_LOW: "#a3cfbb",
    RiskLevel.LOW: "#d9ecc4",
    RiskLevel.MODERATE: "#ffe69c",
    RiskLevel.HIGH: "#fdae6b",
    RiskLevel.VERY_HIGH: "#ea868f",
}
TEXT = "#212529"
# Drawn at 520 px wide, which a half-width dashboard column shows at full size: counts at 22 px
# and every label at 14 px stay readable even where the map is scaled down to fit.
CELL = 64
LEFT = 52  # room for the likelihood axis title and its ticks
TOP = 8
GRID = 5 * CELL
LEGEND_X = LEFT + GRID + 16  # the legend stands right of the grid, very high at the top
WIDTH = LEGEND_X + 132  # the longest level name, "非常に高い" at 14 px, and its swatch
HEIGHT = TOP + GRID + 52
COUNT_FONT, LABEL_FONT = 22, 14


def _levels() -> dict[tuple[int, int], str]:
    """The matrix in force (one query); a cell missing from it shows NIST's default level."""
    levels = {
        (likelihood, impact): level
        for likelihood, row in enumerate(NIST_800_30_TABLE_I2, start=1)
        for impact, level in enumerate(row, start=1)
    }
    levels.update(
        {
            (c.likelihood, c.impact): c.level
            for c in RiskMatrixCell.objects.only("likelihood", "impact", "level")
        }
    )
    return levels


def _label(level: str) -> str:
    return str(RiskLevel(level).label) if level in RiskLevel.values else level


def register_cell_link(basis: str) -> Callable[[int, int], str]:
    """Links from a heat-map cell to the risk register filtered to that cell's live risks."""
    base = reverse("cases:risks")

    def link(likelihood: int, impact: int) -> str:
        query = {"basis": basis, "likelihood": likelihood, "impact": impact, "live": "true"}
        return f"{base}?{urlencode(query)}"

    return link


def heatmap_svg(
    grid: list[list[int]], *, basis: str, link: Callable[[int, int], str]
) -> SafeString:
    """The heat map of `grid` (rows likelihood 1..5, columns impact 1..5, as
    cases.selectors.heatmap returns it), drawn with likelihood 5 at the top and impact 1 on the
    left; each cell is coloured by its level, and a cell with risks shows its count and links to
    `link(l, i)` (an empty cell is neither: there is nothing to open). A map with no risk at all
    is a sentence saying so, not an empty grid."""
    if not any(any(row) for row in grid):
        return format_html(
            '<p class="text-body-secondary mb-0" data-testid="heatmap-{}-empty">{}</p>',
            basis,
            _("There are no live risks (not retired) to map."),
        )
    levels = _levels()
    title = _("Inherent risk heat map") if basis == "inherent" else _("Residual risk heat map")
    title_id = f"heatmap-{basis}-title"
    cells = []
    for likelihood in range(5, 0, -1):
        for impact in range(1, 6):
            count = grid[likelihood - 1][impact - 1]
            level = levels[(likelihood, impact)]
            x = LEFT + (impact - 1) * CELL
            y = TOP + (5 - likelihood) * CELL
            description = ngettext(
                "Likelihood %(likelihood)s, impact %(impact)s (%(level)s): %(count)s risk",
                "Likelihood %(likelihood)s, impact %(impact)s (%(level)s): %(count)s risks",
                count,
            ) % {
                "likelihood": likelihood,
                "impact": impact,
                "level": _label(level),
                "count": formats.number_format(count, force_grouping=True),
            }
            rect = format_html(
                '<title>{}</title><rect x="{}" y="{}" width="{}" height="{}" fill="{}" '
                'stroke="#fff" stroke-width="2"></rect>',
                description,
                x,
                y,
                CELL,
                CELL,
                COLOURS.get(level, "#dee2e6"),
            )
            data = format_html(
                'data-testid="heatmap-cell" data-basis="{}" data-likelihood="{}" '
                'data-impact="{}" data-count="{}" data-level="{}"',
                basis,
                likelihood,
                impact,
                count,
                level,
            )
            if not count:
                cells.append(format_html("<g {}>{}</g>", data, rect))
                continue
            cells.append(
                format_html(
                    '<a href="{}" {}>{}<text x="{}" y="{}" text-anchor="middle" '
                    'dominant-baseline="central" font-size="{}" font-weight="700" fill="{}">{}'
                    "</text></a>",
                    link(likelihood, impact),
                    data,
                    rect,
                    x + CELL // 2,
                    y + CELL // 2,
                    COUNT_FONT,
                    TEXT,
                    formats.number_format(count, force_grouping=True),
                )
            )
    ticks = format_html_join(
        "",
        '<text x="{}" y="{}" text-anchor="{}" font-size="{}" fill="{}">{}</text>',
        [
            *(
                (LEFT - 8, TOP + (5 - n) * CELL + CELL // 2 + 5, "end", LABEL_FONT, TEXT, n)
                for n in range(1, 6)
            ),
            *(
                (LEFT + (n - 1) * CELL + CELL // 2, TOP + GRID + 18, "middle", LABEL_FONT, TEXT, n)
                for n in range(1, 6)
            ),
        ],
    )
    axes = format_html(
        '<text x="{}" y="{}" text-anchor="middle" font-size="{}" font-weight="600" '
        'fill="{}">{}</text>'
        '<text x="{}" y="{}" text-anchor="middle" font-size="{}" font-weight="600" fill="{}" '
        'transform="rotate(-90 {} {})">{}</text>',
        LEFT + GRID // 2,
        TOP + GRID + 42,
        LABEL_FONT,
        TEXT,
        _("Impact"),
        16,
        TOP + GRID // 2,
        LABEL_FONT,
        TEXT,
        16,
        TOP + GRID // 2,
        _("Likelihood"),
    )
    legend = format_html_join(
        "",
        '<rect x="{}" y="{}" width="16" height="16" fill="{}" stroke="#adb5bd"></rect>'
        '<text x="{}" y="{}" font-size="{}" fill="{}" data-testid="heatmap-legend">{}</text>',
        (
            (
                LEGEND_X,
                TOP + row * 26,
                COLOURS[level],
                LEGEND_X + 22,
                TOP + row * 26 + 13,
                LABEL_FONT,
                TEXT,
                _label(level),
            )
            for row, level in enumerate(reversed(RiskLevel))
        ),
    )
    return format_html(
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {} {}" width="{}" height="{}" '
        'role="group" aria-labelledby="{}" class="img-fluid" data-testid="heatmap-{}">'
        '<title id="{}">{}</title>{}{}{}{}</svg>',
        WIDTH,
        HEIGHT,
        WIDTH,
        HEIGHT,
        title_id,
        basis,
        title_id,
        title,
        format_html_join("", "{}", ((cell,) for cell in cells)),
        ticks,
        axes,
        legend,
    )
