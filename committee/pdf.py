"""The agenda pack as a PDF (reportlab): the meeting, then each item with its facts and decision.
Latin text is set in Helvetica and everything else (Japanese) in a CID font, so Japanese titles
print as text, not as boxes, and English keeps its proper spacing."""

from __future__ import annotations

import functools
import io
from collections.abc import Sequence
from typing import TYPE_CHECKING
from xml.sax.saxutils import escape

from django.utils import formats, timezone
from django.utils.translation import gettext as _
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from committee.models import Decision, Meeting
from config import dates

if TYPE_CHECKING:
    from committee.views import AgendaRow

LATIN, BOLD = "Helvetica", "Helvetica-Bold"
# One of reportlab's built-in CID fonts: the PDF reader supplies the Japanese glyphs, so nothing
# is embedded and nothing is downloaded. Its Latin glyphs are spaced poorly, hence Helvetica.
CJK = "HeiseiKakuGo-W5"


@functools.cache
def _cjk_font() -> str:
    pdfmetrics.registerFont(UnicodeCIDFont(CJK))
    return CJK


def _latin(char: str) -> bool:
    """Can Helvetica (WinAnsi, i.e. cp1252) draw this character?"""
    try:
        char.encode("cp1252")
    except UnicodeEncodeError:
        return False
    return True


def runs(text: str) -> list[tuple[str, str]]:
    """The text cut into (font, run) pieces: Latin runs in Helvetica, the rest in the CID font."""
    pieces: list[tuple[str, str]] = []
    for char in text:
        font = LATIN if _latin(char) else _cjk_font()
        if pieces and pieces[-1][0] == font:
            pieces[-1] = (font, pieces[-1][1] + char)
        else:
            pieces.append((font, char))
    return pieces


def _styles() -> dict[str, ParagraphStyle]:
    base = ParagraphStyle("base", fontName=LATIN, fontSize=9.5, leading=13)
    return {
        "title": ParagraphStyle(
            "title", parent=base, fontName=BOLD, fontSize=16, leading=21, spaceAfter=4
        ),
        "meta": ParagraphStyle("meta", parent=base, textColor=colors.HexColor("#444444")),
        "note": ParagraphStyle("note", parent=base, textColor=colors.HexColor("#8a5300")),
        "item": ParagraphStyle(
            "item", parent=base, fontName=BOLD, fontSize=11.5, leading=15, spaceBefore=8
        ),
        "kind": ParagraphStyle("kind", parent=base, fontSize=8.5, textColor=colors.grey),
        "body": base,
        "decision": ParagraphStyle(
            "decision", parent=base, leftIndent=6, borderPadding=3, backColor="#f1f5f1"
        ),
    }


def _wrapping_anywhere(style: ParagraphStyle) -> ParagraphStyle:
    """Japanese has no spaces between words: a line may break between any two characters."""
    return ParagraphStyle(f"{style.name}-cjk", parent=style, wordWrap="CJK")


def _p(text: object, style: ParagraphStyle) -> Paragraph:
    markup = []
    mixed = False
    for font, run in runs(str(text)):
        body = escape(run).replace("\n", "<br/>")
        if font == LATIN:
            markup.append(body)
        else:
            mixed = True
            markup.append(f'<font face="{font}">{body}</font>')
    return Paragraph("".join(markup), _wrapping_anywhere(style) if mixed else style)


def _draw(canvas: Canvas, x: float, y: float, text: str, size: float) -> None:
    """One line on the canvas, switching fonts run by run."""
    for font, run in runs(text):
        canvas.setFont(font, size)
        canvas.drawString(x, y, run)
        x += pdfmetrics.stringWidth(run, font, size)


def _when(meeting: Meeting) -> str:
    zone = meeting.committee.zone
    start = formats.date_format(dates.local(meeting.starts_at, zone), "DATETIME_FORMAT")
    return _("%(start)s (%(zone)s)") % {"start": start, "zone": zone.key}


def _decision(decision: Decision, style: ParagraphStyle) -> Paragraph:
    text = _("Decision %(reference)s: %(outcome)s. %(text)s") % {
        "reference": decision.reference,
        "outcome": decision.get_outcome_display(),
        "text": decision.text,
    }
    actions = [a.reference for a in decision.actions.all()]
    if actions:
        text += "\n" + _("Actions: %(references)s") % {"references": ", ".join(actions)}
    return _p(text, style)


def agenda_pack(
    meeting: Meeting, rows: Sequence[AgendaRow], general: Sequence[Decision], *, whole: bool
) -> bytes:
    """The pack for one reader: `rows` are the items they may read (a unit's own only)."""
    s = _styles()
    story: list[object] = [
        _p(meeting.title, s["title"]),
        _p(meeting.committee.name, s["meta"]),
        _p(_("When: %(when)s") % {"when": _when(meeting)}, s["meta"]),
    ]
    location = meeting.location or meeting.committee.location
    if location:
        story.append(_p(_("Where: %(location)s") % {"location": location}, s["meta"]))
    story.append(_p(_("Status: %(status)s") % {"status": meeting.get_status_display()}, s["meta"]))
    if not whole:
        story.append(_p(_("This pack lists only the items of your business units."), s["note"]))
    story.append(Spacer(1, 4 * mm))
    if not rows:
        story.append(_p(_("There are no items on this agenda."), s["body"]))
    for number, row in enumerate(rows, start=1):
        item = row.item
        block: list[object] = [
            _p(f"{number}. {row.heading or item.title}", s["item"]),
            _p(
                " · ".join(
                    [str(item.get_kind_display())] + ([item.unit.code] if item.unit else [])
                ),
                s["kind"],
            ),
        ]
        if row.summary:
            block.append(_p(row.summary, s["body"]))
        if row.facts:
            table = Table(
                [[_p(label, s["kind"]), _p(value, s["body"])] for label, value in row.facts],
                colWidths=[38 * mm, None],
                hAlign="LEFT",
            )
            table.setStyle(
                TableStyle(
                    [
                        ("VALIGN", (0, 0), (-1, -1), "TOP"),
                        ("BOTTOMPADDING", (0, 0), (-1, -1), 1),
                        ("TOPPADDING", (0, 0), (-1, -1), 1),
                    ]
                )
            )
            block.append(table)
        if row.decision is not None:
            block += [Spacer(1, 1.5 * mm), _decision(row.decision, s["decision"])]
        story.append(KeepTogether(block))
    if general:
        story += [Spacer(1, 4 * mm), _p(_("Other decisions"), s["item"])]
        story += [_decision(decision, s["decision"]) for decision in general]

    printed = formats.date_format(timezone.localtime(), "SHORT_DATETIME_FORMAT")
    footer = _("Agenda pack · printed %(when)s · page %(page)s")

    def on_page(canvas: Canvas, doc: SimpleDocTemplate) -> None:
        canvas.saveState()
        canvas.setFillColor(colors.grey)
        text = footer % {"when": printed, "page": canvas.getPageNumber()}
        _draw(canvas, doc.leftMargin, 10 * mm, text, 7.5)
        canvas.restoreState()

    out = io.BytesIO()
    doc = SimpleDocTemplate(
        out,
        pagesize=A4,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=16 * mm,
        bottomMargin=18 * mm,
        title=meeting.title,
        author=meeting.committee.name,
    )
    doc.build(story, onFirstPage=on_page, onLaterPages=on_page)
    return out.getvalue()
