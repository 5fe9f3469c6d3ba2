"""What every page shares: list paging and filters, CSV/XLSX export of a list, one way to
show a refused act (why it was refused, with the right status), and the error pages."""

from __future__ import annotations

import csv
import io
import itertools
import logging
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any
from urllib.parse import urlsplit

from django.core.exceptions import DisallowedHost, PermissionDenied, ValidationError
from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.template import loader
from django.templatetags.static import static
from django.utils import formats, translation
from django.utils.html import format_html
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django_stubs_ext import StrOrPromise
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from accounts.services import record_refusal
from config.errors import Conflict, PreconditionFailed, PreconditionRequired

logger = logging.getLogger(__name__)

PAGE_SIZE = 50
EXPORT_LIMIT = 50_000  # an export is a report, not a backup; the API pages through more


@dataclass(frozen=True)
class Column:
    """One column of a list and its export: a translated heading and how to read a row."""

    heading: StrOrPromise
    value: Callable[[Any], Any]


COUNT_AHEAD = 10_000  # rows a list counts past the page shown, at most


class CountedAhead(Paginator[Any]):
    """Django's Paginator, but counting no further than COUNT_AHEAD rows past the page asked
    for: a list of a million actions shows "more than 10,000" instead of reading them all to
    number its pages (the count is `SELECT count(*) FROM (SELECT ... LIMIT n)`, which stops at
    n). `more` says the list goes on past what was counted; `counted` and `pages_counted` are
    the rows and whole pages known to be there."""

    def __init__(self, rows: QuerySet[Any], per_page: int, *, asked: int = 1) -> None:
        super().__init__(rows, per_page)
        self.rows = rows
        # Counting from the page asked for, so Next keeps working however far one pages.
        self.limit = (max(asked, 1) - 1) * per_page + COUNT_AHEAD + 1

    @cached_property
    def count(self) -> int:
        # Without its order the count need not sort or walk an index: any limit rows will do.
        return self.rows.order_by()[: self.limit].count()

    @cached_property
    def more(self) -> bool:
        return bool(self.count >= self.limit)

    @property
    def counted(self) -> int:
        return self.limit - 1 if self.more else self.count

    @property
    def pages_counted(self) -> int:
        return self.counted // self.per_page if self.more else self.num_pages

    def page(self, number: int | str) -> Page[Any]:
        page = super().page(number)
        window = page.object_list
        if isinstance(window, QuerySet):
            page.object_list = ids_first(window)
        return page


def ids_first(window: QuerySet[Any]) -> QuerySet[Any]:
    """A slice of a list (`rows[a:b]`) read as `rows WHERE id IN (the slice's ids)`: the ids
    found by the list's own filter and order without what it joins, then the rows with it.

    Asked for the first fifty rows of a list that joins its related rows (`select_related`),
    PostgreSQL may join every row the filter lets through (a unit's 2,000 actions, each to its
    assignee, system and issuer, by hashing the whole user and system tables) before it sorts
    and keeps fifty. With the slice as a subquery it walks the ordering index for fifty ids and
    joins those alone. Still one statement, whatever the list's length; other querysets (no
    joins, not sliced, not one row per id) are returned as they are."""
    if not window.query.select_related or not window.query.is_sliced:
        return window
    if window.query.distinct or window._fields is not None:  # type: ignore[attr-defined]
        return window
    rows = window._chain()  # type: ignore[attr-defined]  # Django's own copy, undeclared in stubs
    rows.query.clear_limits()
    return rows.filter(pk__in=window.values("pk"))


def _asked(request: HttpRequest) -> int:
    """The page asked for; a page before the first, or no number at all, is the first."""
    try:
        return min(max(int(request.GET.get("page") or 1), 1), 10**9)
    except ValueError:
        return 1


def paginate(request: HttpRequest, rows: QuerySet[Any], per_page: int = PAGE_SIZE) -> Page[Any]:
    """One page of a list; the page number comes from ?page= (bad values show the first, one
    past the end the last). The list is counted at most COUNT_AHEAD rows past the page."""
    asked = _asked(request)
    return CountedAhead(rows, per_page, asked=asked).get_page(asked)


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool | int | float):
        return value
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


# A spreadsheet runs text that starts with one of these as a formula (tab and CR too: some
# apps strip them and read on).
FORMULA_STARTS = "=+-@\t\r"
# Where a spreadsheet may start a new cell: any delimiter it might split a CSV line on (it
# need not honour our quotes, so the text after a ; , or tab inside one of our fields can
# become a cell of its own), and a line break of any kind. Spaces and quotes after it are
# skipped too, as some apps trim them before reading the cell.
_CELL_START = re.compile(r"""(\A|[,;\t\n\v\f\r\x1c-\x1e\x85\u2028\u2029])([ "]*)(?=[=+\-@\t\r])""")


def _csv_safe(value: Any) -> Any:
    """Text made inert for spreadsheets: each place where a cell could begin with a formula
    character, at the start or after any delimiter or line break, gets an apostrophe (the
    spreadsheet convention for "this is text"), however the CSV is split."""
    if isinstance(value, str):
        return _CELL_START.sub(r"\1\2'", value)
    return value


def _xlsx_cell(sheet: Any, value: Any) -> Any:
    """A cell of the Excel export: text is a string cell, whatever it starts with, so `=1+2`
    shows as `=1+2` and never runs; text that looks like a formula is also marked as quoted
    text (Excel's quotePrefix style), so editing the cell keeps it text. No apostrophe shows."""
    if not isinstance(value, str):
        return value
    # Excel breaks a line in a cell with LF (a bare CR would come back as LF from the XML
    # anyway); characters XML cannot hold would make openpyxl refuse the whole export.
    value = ILLEGAL_CHARACTERS_RE.sub("\ufffd", value.replace("\r\n", "\n").replace("\r", "\n"))
    cell = WriteOnlyCell(sheet, value=value)
    cell.data_type = "s"  # openpyxl makes "=..." a formula and "#N/A" an error: neither
    if value[:1] in FORMULA_STARTS:
        cell.quotePrefix = True
    return cell


def export(
    request: HttpRequest, *, name: str, columns: Sequence[Column], rows: Iterable[Any]
) -> HttpResponse | None:
    """The list as ?export=csv or ?export=xlsx (the filters applied), or None for the page."""
    kind = request.GET.get("export")
    if kind not in {"csv", "xlsx"}:
        return None
    headings = [str(column.heading) for column in columns]
    table = (
        [_cell(column.value(row)) for column in columns]
        for row in itertools.islice(rows, EXPORT_LIMIT)
    )
    if kind == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, quoting=csv.QUOTE_ALL)  # every field, numbers too
        writer.writerow([_csv_safe(heading) for heading in headings])
        writer.writerows([_csv_safe(value) for value in line] for line in table)
        response = HttpResponse(
            "\ufeff" + buffer.getvalue(),  # a BOM, so spreadsheet apps read UTF-8 (Japanese)
            content_type="text/csv; charset=utf-8",
        )
    else:
        book = Workbook(write_only=True)
        sheet = book.create_sheet(title=name[:31])
        sheet.append([_xlsx_cell(sheet, heading) for heading in headings])
        for line in table:
            sheet.append([_xlsx_cell(sheet, value) for value in line])
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


def error_page(request: HttpRequest, status: int, *, reason: str = "") -> HttpResponse:
    """The product's own 400, 403, 404 or 500 page: the site's layout in the reader's language,
    why (when there is a reason to give) and a way back."""
    # The reader's language from the cookie or Accept-Language, as LocaleMiddleware would
    # choose it: a request refused before that middleware ran (a body in an unknown charset)
    # would otherwise get whatever language this thread served last.
    with translation.override(translation.get_language_from_request(request)):
        try:
            context = {"reason": reason, "back": _way_back(request)}
            if status in {400, 500}:
                # What broke may be the database, the session or the Host header: rendered, as
                # Django does, without a request, so no context processor reads the user or the
                # database.
                body = loader.render_to_string(f"{status}.html", context)
                return HttpResponse(body, status=status)
            return render(request, f"{status}.html", context, status=status)
        except Exception:
            # An error page must not fail in its turn (a broken template, a database gone
            # between the error and its page): a bare page that needs nothing, and the log.
            logger.exception("The %s page could not be rendered; sent the bare page.", status)
            return HttpResponse(_bare_error_page(status, reason), status=status)


# The headings of templates/400.html ... 500.html, for the bare page.
_HEADINGS = {
    400: gettext_lazy("The request could not be processed"),
    403: gettext_lazy("You may not do this"),
    404: gettext_lazy("This page does not exist"),
    500: gettext_lazy("Something went wrong on our side"),
}


def _bare_error_page(status: int, reason: str) -> str:
    return format_html(
        '<!DOCTYPE html><html lang="{}"><head><meta charset="utf-8"><title>{} · {}</title>'
        '</head><body><h1>{}</h1><p>{}</p><p><a href="/">{}</a></p></body></html>',
        get_language() or "en",
        status,
        _("Risk Compliance Committee"),
        _HEADINGS.get(status, status),
        reason,
        _("Go to the dashboard"),
    )


def _way_back(request: HttpRequest) -> str:
    """The page the reader came from, if it is one of ours and not the failing page itself."""
    referer = request.META.get("HTTP_REFERER", "")
    if not referer:
        return ""
    try:
        host = request.get_host()
    except DisallowedHost:  # the 400 of a foreign Host header: no page of ours to go back to
        return ""
    if urlsplit(referer).path == request.path or not url_has_allowed_host_and_scheme(
        referer, allowed_hosts={host}, require_https=request.is_secure()
    ):
        return ""
    return referer


def favicon(request: HttpRequest) -> HttpResponse:
    """Browsers ask for /favicon.ico on their own: send them to the icon the pages link to.
    Not a permanent redirect: with STATIC_MANIFEST the icon's address changes with its content."""
    return HttpResponseRedirect(static("favicon.svg"))
