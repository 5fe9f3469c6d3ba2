"""Every API list's default first page is read in an index's order, not sorted whole."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import BusinessUnit, User
from config.urls import inventory_router, router
from systems.models import System

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db]

# Lists whose tables stay small whatever the company's size (a row per unit, office, committee,
# meeting, person's feed token, written resolution, suspension, quality project, directive):
# sorting them whole costs less than an index every write keeps.
SMALL = {
    "business-units",
    "offices",
    "committees",
    "meetings",
    "calendar-feeds",
    "resolutions",
    "suspensions",
    "projects",
    "directives",
}

# Big, and still sorted: what is left to do, with why.
KNOWN = {
    # The open services are counted per asset (GROUP BY), and PostgreSQL sorts the groups; an
    # index serves the order once the count is a subquery (vulnerabilities.selectors.assets_for).
    "discovered-assets",
    # (address, protocol, port) is unique and leads with the address: the incremental sort only
    # orders each address's few services, reading no more than the page.
    "exposed-services",
}

PAGE_QUERY = f"LIMIT {50 + 1}"  # the first page: PAGE_SIZE rows and one to know of a next


def lists() -> list[tuple[str, str]]:
    """(name, URL) of every API list that pages."""
    found = []
    for registry in (router.registry, inventory_router.registry):
        for prefix, viewset, _basename in registry:
            if not hasattr(viewset, "list") or getattr(viewset, "pagination_class", None) is None:
                continue
            name = prefix.rsplit("/", 1)[-1]
            found.append(
                (name, "/api/v1/" + prefix.replace("(?P<system_id>[0-9]+)", "{system}") + "/")
            )
    return found


def sorts(plan: dict[str, Any]) -> list[str]:
    """The sorts anywhere in a plan, each as what it sorts by."""
    found = []
    if plan["Node Type"] in {"Sort", "Incremental Sort"}:
        found.append(f"{plan['Node Type']} by {', '.join(plan['Sort Key'])}")
    for child in plan.get("Plans", []):
        found += sorts(child)
    return found


def planned_sorts(sql: str) -> list[str]:
    """The sorts PostgreSQL plans for a statement when it may neither read a table whole nor
    sort unless nothing else gives the order: whatever sort is left, no index serves. Planning
    on forced settings, not on rows, keeps this true on an empty test database."""
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_sort = off")
        try:
            cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}")
            return sorts(cursor.fetchone()[0][0]["Plan"])
        finally:
            cursor.execute("RESET enable_seqscan")
            cursor.execute("RESET enable_sort")


@pytest.fixture
def system(unit: BusinessUnit) -> System:
    return System.objects.create(unit=unit, code="cert-issuance", name="Certificates")


def test_every_paged_list_is_checked() -> None:
    """A new list is either served by an index or named here as small, on purpose."""
    names = {name for name, _url in lists()}
    assert {"actions", "incidents", "risks", "systems", "findings", "scans"} <= names
    assert names >= (SMALL | KNOWN), "a list named here is gone: drop it from the sets"


@pytest.mark.parametrize(("name", "url"), lists(), ids=[name for name, _url in lists()])
def test_the_default_first_page_is_read_in_an_index_order(
    name: str, url: str, login_as: Any, ciso: User, system: System
) -> None:
    """Oversight's unfiltered first page (the CISO reads everything): the statement with the
    page's LIMIT needs no sort, so the database reads fifty rows, not the whole table."""
    client = login_as(ciso)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url.format(system=system.pk))
    assert response.status_code == 200, response.content[:300]
    pages = [q["sql"] for q in captured.captured_queries if PAGE_QUERY in q["sql"]]
    assert len(pages) == 1, [q["sql"] for q in captured.captured_queries]
    found = planned_sorts(pages[0])
    if name in SMALL or name in KNOWN:
        return
    assert not found, f"{name}: no index serves the default order ({'; '.join(found)})"
