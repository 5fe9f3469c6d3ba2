"""The agenda pack's fonts: a Japanese pack carries the Japanese font it is set in (an
embedded subset), so it reads the same on a machine without Japanese fonts; an English pack
uses only the standard PDF fonts and embeds nothing."""

from __future__ import annotations

import re

import pytest
from django.utils import translation

from committee import pdf
from tests.committee.conftest import make_meeting
from tests.committee.test_pages import pdf_text

pytestmark = pytest.mark.django_db

# The fonts every PDF reader has (ISO 32000-1, 9.6.2.2): the only ones a PDF may leave out.
STANDARD_14 = {
    b"Courier", b"Courier-Bold", b"Courier-Oblique", b"Courier-BoldOblique",
    b"Helvetica", b"Helvetica-Bold", b"Helvetica-Oblique", b"Helvetica-BoldOblique",
    b"Times-Roman", b"Times-Bold", b"Times-Italic", b"Times-BoldItalic", b"Symbol",
    b"ZapfDingbats",
}  # fmt: skip


def fonts(content: bytes) -> list[bytes]:
    return re.findall(rb"/BaseFont /([^\s/]+)", content)


def pack(meeting) -> bytes:
    return pdf.agenda_pack(meeting, [], [], whole=True)


def test_a_japanese_pack_embeds_the_font_it_is_set_in(committee):
    meeting = make_meeting(committee, title="12月度 リスクコンプライアンス委員会 髙橋・𠮷野")
    with translation.override("ja"):
        content = pack(meeting)
    assert content.startswith(b"%PDF")
    outside = [name for name in fonts(content) if name not in STANDARD_14]
    assert outside, "the Japanese text is in a font of its own"
    for name in outside:
        # a subset (six letters and a plus) whose glyphs the PDF carries in a FontFile2
        assert re.fullmatch(rb"[A-Z]{6}\+VL-PGothic-Regular", name), name
    assert content.count(b"/FontFile2") == len(set(outside))
    # none of reportlab's CID fonts, which name a font the reader must have
    assert not re.search(rb"/CIDFontType|/Type0|UniJIS|Heisei", content)
    assert len(content) < 100_000  # the glyphs used, not the 4 MB font
    text = pdf_text(content)
    assert "12月度 リスクコンプライアンス委員会 髙橋・𠮷野" in text
    assert "ステータス" in text  # the pack's own words are Japanese too


def test_an_english_pack_uses_the_standard_fonts_only(committee):
    meeting = make_meeting(committee, title="Risk Compliance Committee, March")
    content = pack(meeting)
    assert set(fonts(content)) <= STANDARD_14
    assert b"/FontFile" not in content
    assert "Risk Compliance Committee, March" in pdf_text(content)
