"""Helpers for page tests: query counts that must not grow with the rows, and exports."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook


def queries_for(client: Client, path: str) -> int:
    """How many queries a page costs once the session is warm (its first request does more)."""
    client.get(path)
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    return len(ctx.captured_queries)


def assert_constant_queries(
    client: Client, path: Callable[[], str] | str, grow: Callable[[int], None]
) -> None:
    """The page costs the same queries with 3 rows and with 30: `grow(n)` adds n rows."""
    grow(3)
    few = queries_for(client, path() if callable(path) else path)
    grow(27)
    many = queries_for(client, path() if callable(path) else path)
    assert few == many, f"{few} queries with 3 rows, {many} with 30"


def csv_rows(content: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))


def xlsx_rows(content: bytes) -> list[list[object]]:
    sheet = load_workbook(io.BytesIO(content), read_only=True).active
    assert sheet is not None
    return [list(row) for row in sheet.iter_rows(values_only=True)]


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def formula_cells(content: bytes) -> list[tuple[str, str]]:
    """Every cell of a CSV export that a spreadsheet could read as a formula, however it splits
    the file: by the csv module with each delimiter a spreadsheet may choose (; , tab), and
    naively (a split on the delimiter that ignores the quotes, line by line). Leading spaces
    and quotes are skipped, as some apps trim them. Returns (how it was split, cell)."""
    text = content.decode("utf-8-sig")
    found = []
    for delimiter in (",", ";", "\t"):
        parsed = [
            cell for row in csv.reader(io.StringIO(text), delimiter=delimiter) for cell in row
        ]
        naive = [cell for line in text.splitlines() for cell in line.split(delimiter)]
        for how, cells in ((f"csv {delimiter!r}", parsed), (f"naive {delimiter!r}", naive)):
            found += [(how, cell) for cell in cells if cell.lstrip(' "').startswith(FORMULA_STARTS)]
    return found


def csv_lines_all_quoted(content: bytes) -> bool:
    """Every field of every record is quoted (so no app guesses a type from an unquoted one)."""
    rows = csv_rows(content)
    quoted = io.StringIO()
    csv.writer(quoted, quoting=csv.QUOTE_ALL).writerows(rows)
    return content.decode("utf-8-sig").replace("\r\n", "\n") == quoted.getvalue().replace(
        "\r\n", "\n"
    )
