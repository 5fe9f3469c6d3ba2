"""What every page shares: list paging and filters, CSV/XLSX export of a list, and one way to
show a refused act (why it was refused, with the right status)."""

from __future__ import annotations

import csv
import io
import itertools
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import formats
from django.utils.translation import gettext as _
from django_stubs_ext import StrOrPromise
from openpyxl import Workbook

from accounts.services import record_refusal
from config.errors import Conflict, PreconditionFailed, PreconditionRequired

PAGE_SIZE = 50
EXPORT_LIMIT = 50_000  # an export is a report, not a backup; the API pages through more


@dataclass(frozen=True)
class Column:
    """One column of a list and its export: a translated heading and how to read a row."""

    heading: StrOrPromise
    value: Callable[[Any], Any]


def paginate(request: HttpRequest, rows: QuerySet[Any], per_page: int = PAGE_SIZE) -> Page[Any]:
    """One page of a list; the page number comes from ?page= (bad values show the first)."""
    return Paginator(rows, per_page).get_page(request.GET.get("page"))


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool | int | float):
        return value
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def _csv_safe(value: Any) -> Any:
    """A cell that starts with = + - @ would run as a formula in a spreadsheet: quote it."""
    if isinstance(value, str) and value[:1] in {"=", "+", "-", "@", "\t", "\r"}:
        return "'" + value
    return value


def export(
    request: HttpRequest, *, name: str, columns: Sequence[Column], rows: Iterable[Any]
) -> HttpResponse | None:
    """The list as ?export=csv or ?export=xlsx (the filters applied), or None for the page."""
    kind = request.GET.get("export")
    if kind not in {"csv", "xlsx"}:
        return None
    headings = [str(column.heading) for column in columns]
    table = (
        [_csv_safe(_cell(column.value(row))) for column in columns]
        for row in itertools.islice(rows, EXPORT_LIMIT)
    )
    if kind == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(headings)
        writer.writerows(table)
        response = HttpResponse(
            "\ufeff" + buffer.getvalue(),  # a BOM, so spreadsheet apps read UTF-8 (Japanese)
            content_type="text/csv; charset=utf-8",
        )
    else:
        book = Workbook(write_only=True)
        sheet = book.create_sheet(title=name[:31])
        sheet.append(headings)
        for line in table:
            sheet.append(line)
        out = io.BytesIO()
        book.save(out)
        response = HttpResponse(
            out.getvalue(),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    response["Content-Disposition"] = f'attachment; filename="{name}.{kind}"'
    return response


def export_links(request: HttpRequest) -> dict[str, str]:
    """The current list's query string with ?export=csv / xlsx, for the export buttons."""
    links = {}
    for kind in ("csv", "xlsx"):
        query = request.GET.copy()
        query.pop("page", None)
        query["export"] = kind
        links[kind] = "?" + query.urlencode()
    return links


def refusal(exc: Exception) -> tuple[int, str]:
    """The status and the human reason for an act a service refused."""
    if isinstance(exc, PermissionDenied):
        return 403, str(exc) or _("You may not do this.")
    if isinstance(exc, Conflict):
        return 409, exc.message
    if isinstance(exc, PreconditionFailed | PreconditionRequired):
        return 412, _("Someone changed this while you were reading it. Reload and try again.")
    if isinstance(exc, ValidationError):
        return 400, " ".join(exc.messages)
    raise exc


def refused(request: HttpRequest, exc: Exception) -> HttpResponse:
    """A page saying why the act was refused (never a bare 403 or a 500)."""
    status, reason = refusal(exc)
    if status == 403:
        record_refusal(user=request.user, request=request, reason=reason)
    return render(request, "refused.html", {"reason": reason}, status=status)


def number(value: Any) -> str:
    """A number in the reader's locale (1,234 or 1 234)."""
    return formats.number_format(value, force_grouping=True)
