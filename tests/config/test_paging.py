"""List pages number their pages without counting a whole table: at most COUNT_AHEAD rows past the page."""

from __future__ import annotations

from typing import Any, cast

import pytest
from django.db import connection
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext

from accounts.models import Membership, User
from config import pages
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(monkeypatch: pytest.MonkeyPatch) -> list[User]:
    monkeypatch.setattr(pages, "COUNT_AHEAD", 4)
    UserFactory.create_batch(12 - User.objects.count())  # guardian's AnonymousUser is one
    return list(User.objects.order_by("pk"))


def _counted(page: pages.Page[Any]) -> pages.CountedAhead:
    return cast(pages.CountedAhead, page.paginator)


def _page(number: str) -> tuple[pages.Page[User], str, list[str]]:
    request = RequestFactory().get("/actions/", {"status": "open", "page": number})
    with CaptureQueriesContext(connection) as queries:
        page = pages.paginate(request, User.objects.order_by("pk"), per_page=2)
        html = render_to_string("includes/pagination.html", {"page": page, "request": request})
    counts = [q["sql"] for q in queries.captured_queries if "COUNT(" in q["sql"].upper()]
    return page, html, counts


def test_a_list_longer_than_the_count_says_more_than(people: list[User]) -> None:
    page, html, counts = _page("2")
    # One count, and it stops: the page's own rows and four more, plus one to know there are more.
    assert len(counts) == 1 and "LIMIT 7" in counts[0]
    assert [u.pk for u in page] == [u.pk for u in people[2:4]]
    assert _counted(page).more and _counted(page).counted == 6
    assert "Page 2 of more than 3" in html
    assert "status=open&amp;page=1" in html and "status=open&amp;page=3" in html


def test_next_keeps_working_past_the_first_count(people: list[User]) -> None:
    page, html, counts = _page("4")  # counted from page 4 on: all twelve are known
    assert "LIMIT 11" in counts[0] and _counted(page).more
    page, html, counts = _page("5")
    assert not _counted(page).more and page.paginator.num_pages == 6
    assert "Page 5 of 6" in html and "page=6" in html


def test_a_short_list_is_counted_exactly(people: list[User]) -> None:
    page, _html, _counts = _page("1")
    assert _counted(page).more
    request = RequestFactory().get("/", {"page": "1"})
    three = User.objects.filter(pk__in=[u.pk for u in people[:3]]).order_by("pk")
    short = pages.paginate(request, three, per_page=2)
    assert not _counted(short).more and short.paginator.count == 3
    assert "Page 1 of 2" in render_to_string(
        "includes/pagination.html", {"page": short, "request": request}
    )


def test_a_page_past_the_end_shows_the_last(people: list[User]) -> None:
    page, html, _counts = _page("99")
    assert page.number == 6 and not page.has_next() and "Page 6 of 6" in html
    page, _html, _counts = _page("nonsense")
    assert page.number == 1


@pytest.mark.parametrize("number", ["0", "-3", "first"])
def test_a_page_before_the_first_or_not_a_number_is_the_first(
    people: list[User], number: str
) -> None:
    page, html, _counts = _page(number)
    assert page.number == 1 and [u.pk for u in page] == [u.pk for u in people[:2]]
    assert "Page 1 of more than" in html and "page=2" in html


# --- A page of a list that joins: its ids first ----------------------------------------------


def test_a_joined_list_pages_the_same_rows_in_one_statement(people: list[User]) -> None:
    """A page of a list read with select_related holds the same rows in the same order as the
    plain slice, read in one statement whose slice is a subquery of ids."""
    for person in people[:5]:
        MembershipFactory(user=person)
    rows = Membership.objects.select_related("user", "unit").order_by("-unit__code", "pk")
    request = RequestFactory().get("/units/", {"page": "2"})
    with CaptureQueriesContext(connection) as queries:
        page = pages.paginate(request, rows, per_page=2)
        shown = [(row.pk, row.user.username, row.unit.code) for row in page]
    expected = [(row.pk, row.user.username, row.unit.code) for row in rows[2:4]]
    assert shown == expected
    reads = [q["sql"] for q in queries.captured_queries if "COUNT(" not in q["sql"].upper()]
    assert len(reads) == 1, reads  # the rows and their units together, no read per row
    assert reads[0].count("SELECT") == 2 and "LIMIT 2 OFFSET 2" in reads[0]


def test_rows_that_are_not_joined_models_are_paged_as_they_are(people: list[User]) -> None:
    values = User.objects.order_by("pk").values("pk")[:2]
    assert pages.ids_first(values) is values
    plain = User.objects.order_by("pk")[:2]
    assert pages.ids_first(plain) is plain
