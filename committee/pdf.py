"""The agenda pack as a PDF (reportlab): the meeting, then each item with its facts and decision.
Latin text is set in Helvetica and everything else (Japanese) in an embedded TrueType font, so
Japanese prints as text, not as boxes, on any machine, and English keeps its proper spacing."""

from __future__ import annotations

import functools
import io
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any
from xml.sax.saxutils import escape

from django.utils import formats, timezone
from django.utils.translation import gettext as _
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from committee.models import Decision, Meeting
from config import dates

if TYPE_CHECKING:
    from committee.views import AgendaRow

LATIN, BOLD = "Helvetica", "Helvetica-Bold"
# VL PGothic (committee/fonts, with its BSD-style licence), embedded as a subset of the glyphs
# a pack uses (a few kilobytes): a reader's machine needs no Japanese font of its own, as it
# did with reportlab's built-in CID fonts, which are never embedded. It covers JIS X 0208 and
# most of JIS X 0213, names such as 髙橋 and 𠮷野 included. Helvetica, one of the standard
# fonts every PDF reader has, keeps the Latin text; an English pack embeds nothing.
CJK = "VL-PGothic"
CJK_FILE = Path(__file__).resolve().parent / "fonts" / "VL-PGothic-Regular.ttf"


@functools.cache
def _cjk_font() -> str:
    pdfmetrics.registerFont(TTFont(CJK, str(CJK_FILE)))
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
        _p(meeting.shown_title, s["title"]),
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
                [[_p(fact.label, s["kind"]), _p(_as_seen(fact), s["body"])] for fact in row.facts],
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
        title=meeting.shown_title,
        author=meeting.committee.name,
    )
    doc.build(story, onFirstPage=on_page, onLaterPages=on_page)
    return out.getvalue()


def _as_seen(fact: Any) -> str:
    """What the committee saw, and what is true now when that has changed since."""
    if fact.now is None:
        return str(fact.value)
    return _("%(then)s (now: %(now)s)") % {"then": fact.value, "now": fact.now}
