"""The 5x5 risk heat map drawn as server-side SVG (no script), for the risk pages and dashboard."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlencode

from django.urls import reverse
from django.utils import formats
from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.request_memo import remembered
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
    """The matrix in force (one query, once a reading request: a page shows two maps); a cell
    missing from it shows NIST's default level."""
    return remembered("cases.risk-matrix", _matrix_in_force)


def _matrix_in_force() -> dict[tuple[int, int], str]:
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
    labels = {level: escape(_label(level)) for level in {*levels.values(), *RiskLevel}}
    title = _("Inherent risk heat map") if basis == "inherent" else _("Residual risk heat map")
    title_id = escape(f"heatmap-{basis}-title")
    basis_ = escape(basis)
    # Written with plain formatting, each text escaped once: format_html escaped every number
    # of every attribute, and the two maps of a page spent more than their queries on it.
    cells = []
    for likelihood in range(5, 0, -1):
        for impact in range(1, 6):
            count = grid[likelihood - 1][impact - 1]
            level = levels[(likelihood, impact)]
            x = LEFT + (impact - 1) * CELL
            y = TOP + (5 - likelihood) * CELL
            shown = formats.number_format(count, force_grouping=True)
            description = ngettext(
                "Likelihood %(likelihood)s, impact %(impact)s (%(level)s): %(count)s risk",
                "Likelihood %(likelihood)s, impact %(impact)s (%(level)s): %(count)s risks",
                count,
            ) % {
                "likelihood": likelihood,
                "impact": impact,
                "level": _label(level),
                "count": shown,
            }
            rect = (
                f'<title>{escape(description)}</title><rect x="{x}" y="{y}" width="{CELL}" '
                f'height="{CELL}" fill="{escape(COLOURS.get(level, "#dee2e6"))}" '
                'stroke="#fff" stroke-width="2"></rect>'
            )
            data = (
                f'data-testid="heatmap-cell" data-basis="{basis_}" data-likelihood="{likelihood}" '
                f'data-impact="{impact}" data-count="{count}" data-level="{escape(level)}"'
            )
            if not count:
                cells.append(f"<g {data}>{rect}</g>")
                continue
            cells.append(
                f'<a href="{escape(link(likelihood, impact))}" {data}>{rect}'
                f'<text x="{x + CELL // 2}" y="{y + CELL // 2}" text-anchor="middle" '
                f'dominant-baseline="central" font-size="{COUNT_FONT}" font-weight="700" '
                f'fill="{TEXT}">{escape(shown)}</text></a>'
            )
    ticks = "".join(
        f'<text x="{x}" y="{y}" text-anchor="{anchor}" font-size="{LABEL_FONT}" '
        f'fill="{TEXT}">{n}</text>'
        for x, y, anchor, n in [
            *((LEFT - 8, TOP + (5 - n) * CELL + CELL // 2 + 5, "end", n) for n in range(1, 6)),
            *(
                (LEFT + (n - 1) * CELL + CELL // 2, TOP + GRID + 18, "middle", n)
                for n in range(1, 6)
            ),
        ]
    )
    axes = (
        f'<text x="{LEFT + GRID // 2}" y="{TOP + GRID + 42}" text-anchor="middle" '
        f'font-size="{LABEL_FONT}" font-weight="600" fill="{TEXT}">{escape(_("Impact"))}</text>'
        f'<text x="16" y="{TOP + GRID // 2}" text-anchor="middle" font-size="{LABEL_FONT}" '
        f'font-weight="600" fill="{TEXT}" transform="rotate(-90 16 {TOP + GRID // 2})">'
        f"{escape(_('Likelihood'))}</text>"
    )
    legend = "".join(
        f'<rect x="{LEGEND_X}" y="{TOP + row * 26}" width="16" height="16" '
        f'fill="{COLOURS[level]}" stroke="#adb5bd"></rect>'
        f'<text x="{LEGEND_X + 22}" y="{TOP + row * 26 + 13}" font-size="{LABEL_FONT}" '
        f'fill="{TEXT}" data-testid="heatmap-legend">{labels[level]}</text>'
        for row, level in enumerate(reversed(RiskLevel))
    )
    return mark_safe(  # noqa: S308  # nosec B308 B703 - every text above is escaped
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="{WIDTH}" height="{HEIGHT}" role="group" aria-labelledby="{title_id}" '
        f'class="img-fluid" data-testid="heatmap-{basis_}"><title id="{title_id}">'
        f"{escape(title)}</title>{''.join(cells)}{ticks}{axes}{legend}</svg>"
    )
