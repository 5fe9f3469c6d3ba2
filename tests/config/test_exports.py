"""CSV and Excel exports of every list: text that looks like a formula stays text, however the
file is opened (CSV split on ; , or tab, quotes honoured or not; Excel cells read back)."""

from __future__ import annotations

import csv
import io

from django.test import RequestFactory
from openpyxl import load_workbook

from config.pages import Column, export
from tests.pages import csv_lines_all_quoted, csv_rows, formula_cells

# Each start a spreadsheet runs, at the start of a cell and after each delimiter and line
# break a spreadsheet may split on, with and without spaces or a quote in between.
NASTY = [
    "=1+2",
    "+1+2",
    "-1+2",
    "@SUM(A1)",
    "\t=1+2",
    "\r=1+2",
    "=cmd|' /C calc'!A0",
    "a;=1+2;b",
    "a,=1+2,b",
    "a\t=1+2\tb",
    "a; =1+2",
    'a;"=1+2',
    "a;+1;-1;@x",
    "a\n=1+2",
    "a\r\n@x",
    "a\u2028=1+2",
    ";;=1",
    "\t\t-1",
    "#N/A",
]
PLAIN = ["Enforce MFA", "2026-01-31", "a-b = c", "e-mail: x@example.com", "Ⅰ期 — 完了"]


def download(kind: str, values: list[str]) -> bytes:
    request = RequestFactory().get("/", {"export": kind})
    columns = [Column("Title", lambda row: row), Column("Count", lambda row: 7)]
    response = export(request, name="things", columns=columns, rows=values)
    assert response is not None
    return response.content


def test_no_csv_cell_can_start_a_formula_however_it_is_split():
    content = download("csv", NASTY + PLAIN)
    assert formula_cells(content) == []
    assert csv_lines_all_quoted(content)
    titles = [row[0] for row in csv_rows(content)[1:]]
    assert titles[len(NASTY) :] == PLAIN  # text with nothing to neutralise is unchanged
    assert titles[NASTY.index("a;=1+2;b")] == "a;'=1+2;b"
    assert titles[NASTY.index("=1+2")] == "'=1+2"
    assert csv_rows(content)[1][1] == "7"  # numbers too are quoted fields


def test_the_naive_splits_would_find_a_formula_in_an_unprotected_file():
    """The checker itself: the same rows written plainly are caught, split by split."""
    plain = io.StringIO()
    csv.writer(plain).writerows([[value] for value in NASTY])
    found = {how for how, _ in formula_cells(plain.getvalue().encode())}
    assert {"csv ','", "naive ','", "naive ';'", "naive '\\t'"} <= found


def test_excel_holds_the_exact_text_in_string_cells():
    sheet = load_workbook(io.BytesIO(download("xlsx", NASTY + PLAIN))).active
    assert sheet is not None
    cells = [row[0] for row in sheet.iter_rows(min_row=2)]
    # The same text: no apostrophe, nothing lost; a line break is Excel's own, LF.
    expected = [value.replace("\r\n", "\n").replace("\r", "\n") for value in NASTY + PLAIN]
    assert [cell.value for cell in cells] == expected
    assert {cell.data_type for cell in cells} == {"s"}  # never "f" (formula) nor "e" (error)
    quoted = {cell.value for cell in cells if cell.quotePrefix}
    assert quoted == {value for value in expected if value[0] in "=+-@\t"}
    assert sheet.cell(row=2, column=2).value == 7


def test_a_control_character_does_not_break_the_excel_export():
    """openpyxl refuses characters XML 1.0 cannot hold (a 500 before): they show as U+FFFD."""
    sheet = load_workbook(io.BytesIO(download("xlsx", ["bell\x07", "nul\x00"]))).active
    assert [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)] == [
        "bell\ufffd",
        "nul\ufffd",
    ]
