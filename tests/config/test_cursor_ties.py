"""API lists page through rows that share their order value: a cursor holds the whole sort key
(the ordering's values and the id), so no page repeats or skips a row, and `next` always moves
on, however many rows tie (DRF's cursor alone holds the first value and an offset among equal
ones, capped at `offset_cutoff`: past it, `next` pointed at the same page for ever)."""

from __future__ import annotations

import datetime as dt
import json
from base64 import b64decode, b64encode
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.filters import OrderingFilter

from accounts.models import BusinessUnit, User
from actions.models import Action
from audit.models import AuditEvent
from config.api import CursorPagination
from systems.models import System
from tests.actions.conftest import task
from tests.config.test_orderings import lists, planned_sorts
from tests.systems.conftest import register
from vulnerabilities.filters import SEVERITY_RANK, UNDATED
from vulnerabilities.models import Finding, Priority, Severity, Vulnerability

pytestmark = pytest.mark.django_db

CUTOFF = 5  # DRF's offset_cutoff, made small: a tie longer than it is what looped
TIED = CUTOFF + 2 * 2 + 3  # more rows share one value than the cutoff and two pages


@pytest.fixture(autouse=True)
def small_offset_cutoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(CursorPagination, "offset_cutoff", CUTOFF)


def cursor_of(url: str) -> dict[str, list[str]]:
    encoded = parse_qs(urlsplit(url).query)["cursor"][0]
    return parse_qs(b64decode(encoded).decode())


def walk(client: Client, url: str, link: str = "next") -> tuple[list[int], dict[str, Any]]:
    """Every row's id, page after page along `link` until there is none; the last page."""
    seen: list[int] = []
    visited: set[str] = set()
    next_url: str | None = url
    body: dict[str, Any] = {}
    while next_url:
        assert next_url not in visited, f"{link} leads back to a page already read: {next_url}"
        assert len(visited) < 200, "the walk does not end"
        visited.add(next_url)
        response = client.get(next_url, headers={"Accept": "application/json"})
        assert response.status_code == 200, response.content[:300]
        body = response.json()
        rows = [row["id"] for row in body["results"]]
        seen += rows if link == "next" else rows[::-1]
        next_url = body[link]
        if next_url:
            assert cursor_of(next_url).get("o", ["0"]) == ["0"], "a position, not an offset"
    return seen, body


def walk_both_ways(client: Client, url: str, expected: list[int]) -> None:
    """Forwards to the end, each row once in the list's order; then back from the last page
    to the first, each row once again."""
    forwards, last = walk(client, url)
    assert len(forwards) == len(set(forwards)), "a row came twice"
    assert forwards == expected
    assert last["next"] is None
    if last["previous"] is None:
        return
    backwards, first = walk(client, last["previous"], link="previous")
    shown_last = [row["id"] for row in last["results"]]
    assert backwards[::-1] + shown_last == expected
    assert first["previous"] is None


# --- Findings ---------------------------------------------------------------------------------


@pytest.fixture
def system(unit: BusinessUnit) -> System:
    return register(unit, "cert-issuance", internet_facing=True)


@pytest.fixture
def findings(system: System) -> list[Finding]:
    """TIED findings due the same day, with one due before and after them, and two without a
    date (to review); severities and priorities repeat, so those orderings tie too."""
    vulnerability = Vulnerability.objects.create(key="CVE-2099-0001")
    now = timezone.now()
    day = timezone.localdate() + dt.timedelta(days=30)
    dues = [day] * TIED + [day - dt.timedelta(days=1), day + dt.timedelta(days=1), None, None]
    severities = [Severity.HIGH, Severity.CRITICAL, Severity.UNKNOWN]
    priorities = [Priority.P2, Priority.P4]
    return Finding.objects.bulk_create(
        Finding(
            system=system,
            vulnerability=vulnerability,
            package=f"pkg:pypi/tied-{n}",
            version="1.0",
            why="test",
            state=Finding.State.OPEN if due else Finding.State.REVIEW,
            severity=severities[n % len(severities)],
            priority=priorities[n % len(priorities)],
            due_on=due,
            first_seen_at=now,
            opened_at=now,
        )
        for n, due in enumerate(dues)
    )


def finding_order(findings: list[Finding], ordering: str) -> list[int]:
    """The ids in the order the list promises: its key, then the id in the key's direction."""
    keys = {
        "due_on": lambda f: f.due_on or UNDATED,
        "priority": lambda f: f.priority,
        "severity": lambda f: SEVERITY_RANK[f.severity],
    }
    key = keys[ordering.lstrip("-")]
    rows = sorted(findings, key=lambda f: (key(f), f.pk), reverse=ordering.startswith("-"))
    return [f.pk for f in rows]


@pytest.mark.parametrize(
    "ordering", [None, "due_on", "-due_on", "priority", "-priority", "severity", "-severity"]
)
def test_findings_page_through_a_due_date_they_share(
    login_as: Any, ciso: User, system: System, findings: list[Finding], ordering: str | None
) -> None:
    query = {"system": system.pk, "page_size": 2} | ({"ordering": ordering} if ordering else {})
    expected = finding_order(findings, ordering or "due_on")
    walk_both_ways(login_as(ciso), f"/api/v1/findings/?{urlencode(query)}", expected)


def test_a_page_as_large_as_allowed_still_moves_on(
    login_as: Any, ciso: User, system: System, findings: list[Finding], monkeypatch: Any
) -> None:
    """The tester's case: a page_size past the cap, over more tied rows than the cutoff."""
    monkeypatch.setattr(CursorPagination, "max_page_size", 3)
    url = f"/api/v1/findings/?system={system.pk}&page_size=500"
    walk_both_ways(login_as(ciso), url, finding_order(findings, "due_on"))


# --- Actions ----------------------------------------------------------------------------------


@pytest.fixture
def actions(unit: BusinessUnit, ciso: User) -> list[Action]:
    """TIED actions due the same day (one due earlier and one later), priorities and
    escalation levels repeating."""
    day = timezone.localdate() + dt.timedelta(days=14)
    made = [task(unit, ciso, title=f"t{n}", due_on=day) for n in range(TIED)]
    made += [task(unit, ciso, title="early", due_on=day - dt.timedelta(days=2))]
    made += [task(unit, ciso, title="late", due_on=day + dt.timedelta(days=2))]
    levels = [0, 2, 0, 1]
    priorities = list(Action.Priority)
    for n, action in enumerate(made):
        Action.objects.filter(pk=action.pk).update(
            escalation_level=levels[n % len(levels)],
            priority=priorities[n % len(priorities)],
        )
    return list(Action.objects.all())


def action_order(actions: list[Action], ordering: str) -> list[int]:
    """Several fields, each its own direction, then the id in the last field's direction:
    sorted by the least significant first, as each sort keeps the order of the rows it ties."""
    terms = ordering.split(",")
    rows = list(actions)
    for term in reversed([*terms, ("-" if terms[-1].startswith("-") else "") + "pk"]):
        name = term.lstrip("-")
        rows.sort(key=lambda action: getattr(action, name), reverse=term.startswith("-"))
    return [a.pk for a in rows]


@pytest.mark.parametrize(
    "ordering",
    [
        None,
        "due_on",
        "-due_on",
        "priority",
        "-escalation_level",
        "escalation_level,-due_on",  # directions that differ: compared field by field
        "-priority,due_on",
    ],
)
def test_actions_page_through_a_due_date_they_share(
    login_as: Any, ciso: User, actions: list[Action], ordering: str | None
) -> None:
    query = {"page_size": 2} | ({"ordering": ordering} if ordering else {})
    expected = action_order(actions, ordering or "due_on")
    walk_both_ways(login_as(ciso), f"/api/v1/actions/?{urlencode(query)}", expected)


def test_a_page_picks_up_where_the_last_one_ended_even_if_rows_change(
    login_as: Any, ciso: User, actions: list[Action]
) -> None:
    """The cursor names the last row's key, not a count of rows: one deleted before the next
    page is read moves nothing, and one added after the position is read in its place."""
    client = login_as(ciso)
    first = client.get("/api/v1/actions/?page_size=3").json()
    shown = [row["id"] for row in first["results"]]
    Action.objects.filter(pk=shown[0]).delete()  # a row already read goes
    expected = action_order(actions, "due_on")
    second = client.get(first["next"]).json()
    assert [row["id"] for row in second["results"]] == expected[3:6]


def test_a_list_ordered_by_its_id_alone_pages_both_ways(
    login_as: Any, auditor: User, actions: list[Action]
) -> None:
    """The audit trail, newest first: the key is the id, one value, no tie to break."""
    client = login_as(auditor)  # signing in is an event too
    expected = list(AuditEvent.objects.order_by("-id").values_list("id", flat=True))
    assert len(expected) > 2 * CUTOFF
    walk_both_ways(client, "/api/v1/audit-events/?page_size=2", expected)


@pytest.mark.postgres_only
@pytest.mark.parametrize(
    ("url", "compared"),
    [
        ("/api/v1/actions/", '("actions_action"."due_on", "actions_action"."id") >'),
        (
            "/api/v1/actions/?ordering=-due_on",
            '("actions_action"."due_on", "actions_action"."id") <',
        ),
        ("/api/v1/findings/", '(COALESCE("vulnerabilities_finding"."due_on", '),
    ],
)
def test_a_later_page_is_read_in_the_index_order(
    login_as: Any,
    ciso: User,
    actions: list[Action],
    findings: list[Finding],
    url: str,
    compared: str,
) -> None:
    """Page two's statement starts at the cursor's key in the list's index, (due_on, id) for
    actions, (the coalesced due date, id) for findings: a row comparison the index answers,
    no sort and no walk over the rows before it."""
    client = login_as(ciso)
    first = client.get(url + ("&" if "?" in url else "?") + "page_size=2").json()
    with CaptureQueriesContext(connection) as captured:
        assert client.get(first["next"]).status_code == 200
    [page] = [q["sql"] for q in captured.captured_queries if "LIMIT 3" in q["sql"]]
    assert compared in page, page
    assert not planned_sorts(page), page


# --- Every list -----------------------------------------------------------------------------


def test_every_ordering_a_list_allows_is_a_column_that_is_never_null() -> None:
    """A position must compare with the next page's rows: a NULL compares with nothing. So
    every list's default order and every `?ordering=` it accepts name a column (not a
    relation, whose order is its model's) that is never NULL, or a sort key the view annotates
    (findings' due date is coalesced for this)."""
    viewsets = {
        prefix.rsplit("/", 1)[-1]: viewset
        for registry in _registries()
        for prefix, viewset, _basename in registry
    }
    problems = []
    for name, _url in lists():
        view_class = viewsets[name]
        model = view_class.serializer_class.Meta.model
        terms = [str(view_class.ordering)]
        backends = getattr(view_class, "filter_backends", [])
        ordering_filter = next((b for b in backends if issubclass(b, OrderingFilter)), None)
        sort_keys = getattr(ordering_filter, "SORT_KEYS", {})
        if ordering_filter is not None:
            view = view_class()
            view.request = None
            view.format_kwarg = None
            valid = ordering_filter().get_valid_fields(model.objects.none(), view, {})
            terms += [field for field, _label in valid]
        for term in terms:
            field_name = term.lstrip("-")
            if field_name in sort_keys:
                continue  # annotated by the view, never NULL
            field = model._meta.pk if field_name == "pk" else model._meta.get_field(field_name)
            if field.null or field.is_relation:
                problems.append(f"{name}: {field_name}")
    assert not problems


def _registries() -> list[Any]:
    from config.urls import inventory_router, router

    return [router.registry, inventory_router.registry]


# --- Cursors a client made up -------------------------------------------------------------


@pytest.mark.parametrize(
    "position",
    [
        "2030-01-01",  # one value, as DRF's own cursor held it: not this list's key
        json.dumps(["2030-01-01"]),  # a value short
        json.dumps(["2030-01-01", "1", "2"]),  # a value too many
        json.dumps(["not a date", "1"]),
        json.dumps(["2030-01-01", "9" * 30]),  # an id no column holds
        json.dumps(["2030-01-01", None]),
        json.dumps({"due_on": "2030-01-01"}),
        "[",
    ],
)
def test_a_cursor_that_is_not_a_position_in_the_list_is_a_404(
    login_as: Any, ciso: User, position: str
) -> None:
    cursor = b64encode(urlencode({"p": position}).encode()).decode()
    response = login_as(ciso).get("/api/v1/actions/", {"cursor": cursor})
    assert response.status_code == 404, response.content
    assert response.json()["detail"]
