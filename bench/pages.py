"""P16, the pages at scale: each role's dashboard, the lists, the heat map and the meetings, as
the people who use them, against the API's rows or the bare queries of the same figures."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.test import Client
from django.utils import timezone

from accounts.models import BusinessUnit, Membership, Office, Role, User
from accounts.receivers import MFA_SESSION_KEY
from actions import selectors as actions_selectors
from actions.models import Action
from bench.harness import (
    Result,
    count_queries,
    ms,
    sequential_scans,
    side_by_side,
    vacuumed,
)
from bench.lists import client_for, member_of_busiest_unit
from cases.models import Incident, Risk
from committee.models import AgendaItem, Ballot, Decision, Meeting
from committee.services.agenda import assemble_agenda
from systems.models import System
from vulnerabilities.models import Finding

TARGET = "<= 2.0; queries constant; no sequential scan"
UNFINISHED = [
    Action.Status.OPEN,
    Action.Status.IN_PROGRESS,
    Action.Status.RETURNED,
    Action.Status.SUBMITTED,
]
ROWS = 8  # committee.dashboard.PANEL_ROWS
# Each list page's row marker and the API field that names the same record; whether the two
# pages must hold the same records (risks break ties in the score by reference on the page and
# by id in the API; the trail's events wait unsealed, with no sequence, while the chain is
# redesigned): else the same number of rows.
MARKERS = {
    "actions": (r'data-testid="action-row" data-reference="([^"]*)"', "reference", True),
    "incidents": (r'data-testid="incident-row" data-reference="([^"]*)"', "reference", True),
    "risks": (r'data-testid="risk-row" data-reference="([^"]*)"', "reference", False),
    "systems": (r'data-testid="system-row" data-code="([^"]*)"', "code", True),
    "audit-events": (r'data-testid="event-row" data-sequence="([^"]*)"', "sequence", False),
}


def page_client(user: User) -> Client:
    """A browser's session after password and TOTP (what tests.conftest.sign_in leaves): the
    session proves the second factor, so RequireMFAMiddleware lets every page through."""
    client = Client()
    client.force_login(user)
    session = client.session
    session[MFA_SESSION_KEY] = user.pk
    session.save()
    return client


def _html(client: Client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code, response.content[:300])
    return response.content.decode()


def _json(client: Client, url: str) -> Any:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code, response.content[:300])
    return response.json()


def quietest_member() -> User:
    """A plain member of the generated unit with the fewest actions: the same role as the
    busiest unit's member, with less of everything, for the constant-queries check."""
    counts = (
        BusinessUnit.objects.filter(code__startswith="LD", group__isnull=False)
        .annotate(n=Count("actions"))
        .order_by("n", "pk")
    )
    for unit in counts[:20]:
        member = (
            User.objects.filter(memberships__unit=unit, groups__name=Role.BU_MEMBER)
            .exclude(headed_units__isnull=False)
            .order_by("pk")
            .first()
        )
        if member is not None:
            return member
    raise AssertionError("no plain member of a quiet unit")


Samples = tuple[tuple[Client, str], tuple[Client, str]]


@dataclass
class Measured:
    """One page for one reader, measured against its comparison."""

    what: str
    mine: float
    bare: float
    queries: int
    samples: tuple[int, int] | None  # queries with more rows and with fewer
    scans: list[str]
    same: bool
    said: str = ""

    @property
    def ratio(self) -> float:
        return self.mine / self.bare

    @property
    def ok(self) -> bool:
        constant = self.samples is None or self.samples[0] == self.samples[1]
        return self.ratio <= 2.0 and constant and not self.scans

    def note(self) -> str:
        constant = f"{self.queries} queries"
        if self.samples is not None:
            more, fewer = self.samples
            constant += f" (with more rows {more}, with fewer {fewer})"
        scans = f"; SEQUENTIAL SCAN of {', '.join(self.scans)}" if self.scans else ""
        said = f"; {self.said}" if self.said else ""
        return (
            f"{self.what}: {ms(self.mine)} vs {ms(self.bare)} ({self.ratio:.2f}), "
            f"{constant}{scans}{said}"
        )


def _queries(client: Client, url: str) -> int:
    """The queries of a page read again: the first read of a session writes it (its start and
    last-seen marks), which no later read does within the minute."""
    _html(client, url)
    return count_queries(lambda: _html(client, url))[0]


def measure(
    what: str,
    client: Client,
    url: str,
    bare: Callable[[], Any],
    *,
    runs: int,
    constant: Samples | None = None,
    same: bool = True,
    said: str = "",
) -> Measured:
    """The page and its comparison side by side, the page's queries counted and each of them
    EXPLAINed; and the queries of the same page with more rows and with fewer (`constant`: two
    readers, or two filters, that see more and fewer of them)."""
    mine, theirs = side_by_side(lambda: _html(client, url), bare, runs=runs)
    queries, statements = count_queries(lambda: _html(client, url))
    samples = None
    if constant is not None:
        (more, more_url), (fewer, fewer_url) = constant
        samples = (_queries(more, more_url), _queries(fewer, fewer_url))
    return Measured(
        what,
        mine,
        theirs,
        queries,
        samples,
        sequential_scans(statements),
        same,
        said,
    )


def _result(key: str, what: str, measured: list[Measured], baseline: str) -> Result:
    worst = max(measured, key=lambda m: m.ratio)
    return Result(
        key,
        what,
        f"{ms(worst.mine)} ({worst.what})",
        f"{ms(worst.bare)} ({baseline})",
        worst.ratio,
        TARGET,
        all(m.ok for m in measured),
        [m.note() for m in measured],
        sound=all(m.same for m in measured),
    )


# --- The bare figures: the same numbers and rows by hand, no templates ----------------------


def _scoped(rows: QuerySet[Any], user: User, oversight: bool, unit: str = "unit") -> Any:
    """Oversight reads every unit's rows; a member their units', by a join on the membership
    (the grants say the same for generated data: each unit's group holds its records')."""
    return rows if oversight else rows.filter(**{f"{unit}__memberships__user": user})


def bare_dashboard(user: User, *, oversight: bool) -> Callable[[], Any]:
    """Every figure of the dashboard by plain `.values()` queries: the reader, the actions due
    and overdue, the next meeting's agenda, open incidents by severity, suspended systems,
    submitted actions to verify, votes, the findings tile, both heat maps and the trend (the
    trend by the product's own statement, which is already one hand-written SQL)."""

    def figures() -> dict[str, Any]:
        today = timezone.localdate()
        units = list(Membership.objects.filter(user=user).values_list("unit_id", flat=True))
        offices = list(Office.objects.filter(holder=user).values("code", "name"))
        roles = list(user.groups.values_list("name", flat=True))
        columns = ("id", "reference", "title", "due_on", "status", "unit__code", "submitted_at")
        actions = _scoped(Action.objects.all(), user, oversight).filter(
            status__in=UNFINISHED, due_on__lte=today + dt.timedelta(days=14)
        )
        mine = list(actions.filter(assignee=user).order_by("due_on", "pk").values(*columns)[:ROWS])
        theirs = list(
            actions.filter(unit__in=units)
            .exclude(assignee=user)
            .order_by("due_on", "pk")
            .values(*columns)[:ROWS]
        )
        overdue = actions.filter(Q(assignee=user) | Q(unit__in=units), due_on__lt=today).count()
        meeting = (
            Meeting.objects.filter(ends_at__gte=timezone.now())
            .exclude(status=Meeting.Status.CANCELLED)
            .order_by("starts_at")
            .values("id", "title", "starts_at", "status", "committee__time_zone")
            .first()
        )
        agenda = (
            list(
                AgendaItem.objects.filter(meeting_id=meeting["id"])
                .order_by("position", "pk")
                .values("id", "kind", "title", "unit__code")[: ROWS * 2]
            )
            if meeting
            else []
        )
        severities = dict(
            _scoped(Incident.objects.all(), user, oversight)
            .exclude(status=Incident.Status.CLOSED)
            .order_by()
            .values_list("severity")
            .annotate(n=Count("pk"))
        )
        suspended = list(
            _scoped(System.objects.all(), user, oversight)
            .filter(status=System.Status.SUSPENDED)
            .order_by("code")
            .values("id", "code", "name")[:ROWS]
        )
        verify = _scoped(Action.objects.all(), user, oversight).filter(
            status=Action.Status.SUBMITTED, domain__in=["security"] if oversight else []
        )
        to_verify = list(verify.order_by("submitted_at", "pk").values(*columns)[:ROWS])
        verify_count = verify.count()
        votes = list(
            Ballot.objects.filter(person=user, cast_at__isnull=True).values("id", "seat")[:ROWS]
        )
        findings = _scoped(Finding.objects.all(), user, oversight, unit="system__unit").aggregate(
            visible=Count("pk"),
            critical=Count("pk", filter=Q(state="open", severity="critical")),
            kev=Count("pk", filter=Q(state="open", vulnerability__kev=True)),
            overdue=Count("pk", filter=Q(state="open", due_on__lt=today)),
        )
        risks = _scoped(Risk.objects.all(), user, oversight).exclude(status=Risk.Status.RETIRED)
        inherent = list(risks.order_by().values("likelihood", "impact").annotate(n=Count("pk")))
        residual = list(
            risks.order_by()
            .values("residual_likelihood", "residual_impact")
            .annotate(n=Count("pk"))
        )
        trend = actions_selectors.overdue_trend_shown(user)  # as the page reads it
        return locals()

    return figures


def bare_heatmap(user: User, *, oversight: bool) -> Callable[[], Any]:
    """The two grids of the heat map: one aggregate each, by hand."""

    def grids() -> tuple[list[Any], list[Any]]:
        risks = _scoped(Risk.objects.all(), user, oversight).exclude(status=Risk.Status.RETIRED)
        return (
            list(risks.order_by().values("likelihood", "impact").annotate(n=Count("pk"))),
            list(
                risks.order_by()
                .values("residual_likelihood", "residual_impact")
                .annotate(n=Count("pk"))
            ),
        )

    return grids


def api_heatmaps(user: User) -> Callable[[], Any]:
    """The API's heat maps of the same risks, both bases, as a client reads them: one request
    a basis (the API serves one map a request; the page shows two)."""
    client = client_for(user)

    def both() -> list[Any]:
        return [
            _json(client, f"/api/v1/risks/heatmap/?basis={basis}")["counts"]
            for basis in ("inherent", "residual")
        ]

    return both


def _heatmap(
    what: str, client: Client, user: User, *, oversight: bool, runs: int, **kw: Any
) -> Measured:
    """The heat map page against the API's maps (the issue's baseline: the API's time for the
    same figures); the two bare aggregates, which carry no request at all, timed beside them and
    said, and the API's counts held equal to theirs."""
    api, bare = api_heatmaps(user), bare_heatmap(user, oversight=oversight)
    grids = bare()
    same = api() == [
        _grid(grids[0], ("likelihood", "impact")),
        _grid(grids[1], ("residual_likelihood", "residual_impact")),
    ]
    _api_time, bare_time = side_by_side(api, bare, runs=runs)
    return measure(
        what,
        client,
        "/risks/heatmap/",
        api,
        runs=runs,
        same=same,
        said=f"two bare aggregates {ms(bare_time)}",
        **kw,
    )


def _grid(rows: list[Any], names: tuple[str, str]) -> list[list[int]]:
    grid = [[0] * 5 for _ in range(5)]
    for row in rows:
        grid[row[names[0]] - 1][row[names[1]] - 1] = row["n"]
    return grid


# --- The suite ------------------------------------------------------------------------------


def _list_page(
    name: str,
    who: str,
    user: User,
    *,
    page: str,
    api: str,
    runs: int,
    constant: Samples | None = None,
) -> Measured:
    """A list page against the API's first page of the same filter (both fifty rows)."""
    client, token = page_client(user), client_for(user)
    pattern, field, exact = MARKERS[name]
    shown = re.findall(pattern, _html(client, page))
    served = [str(row[field]) for row in _json(token, api)["results"]]
    if exact:
        same = sorted(shown) == sorted(served)
        said = f"{len(shown)} rows, the API's the same" if same else "ROWS DIFFER from the API's"
    else:
        same = len(shown) == len(served)
        said = f"{len(shown)} rows, as many as the API's" if same else "ROW COUNTS DIFFER"
    return measure(
        f"{name}, {who}",
        client,
        page,
        lambda: _json(token, api),
        runs=runs,
        constant=constant,
        same=same,
        said=said,
    )


def run(runs: int) -> list[Result]:
    member, quiet = member_of_busiest_unit(), quietest_member()
    unit = member.memberships.get().unit
    quiet_unit = quiet.memberships.get().unit
    ciso = User.objects.get(username="ld-ciso")
    chair = User.objects.get(username="ld-ceo")
    member_client, quiet_client, ciso_client = (
        page_client(member),
        page_client(quiet),
        page_client(ciso),
    )
    mine = f"{unit.code} member"

    dashboards = [
        measure(
            f"dashboard, {mine}",
            page_client(member),
            "/",
            bare_dashboard(member, oversight=False),
            runs=runs,
            constant=((member_client, "/"), (quiet_client, "/")),
        ),
        *(
            measure(f"dashboard, {who}", page_client(user), "/", bare, runs=runs)
            for who, user, bare in (
                ("CISO", ciso, bare_dashboard(ciso, oversight=True)),
                ("chair", chair, bare_dashboard(chair, oversight=True)),
            )
        ),
    ]

    in_progress = f"status={Action.Status.IN_PROGRESS}"
    lists = [
        _list_page(
            "actions",
            mine,
            member,
            page=f"/actions/?{in_progress}",
            api=f"/api/v1/actions/?{in_progress}",
            runs=runs,
            constant=(
                (member_client, f"/actions/?{in_progress}"),
                (quiet_client, f"/actions/?{in_progress}"),
            ),
        ),
        _list_page(
            "actions",
            "CISO",
            ciso,
            page="/actions/",
            api="/api/v1/actions/",
            runs=runs,
            constant=(
                (ciso_client, f"/actions/?unit={unit.code}"),
                (ciso_client, f"/actions/?unit={quiet_unit.code}"),
            ),
        ),
    ]
    for name in ("incidents", "risks", "systems"):
        page, api = f"/{name}/", f"/api/v1/{name}/"
        lists += [
            _list_page(
                name,
                mine,
                member,
                page=page,
                api=api,
                runs=runs,
                constant=((member_client, page), (quiet_client, page)),
            ),
            _list_page(
                name,
                "CISO",
                ciso,
                page=page,
                api=api,
                runs=runs,
                constant=(
                    (ciso_client, f"{page}?unit={unit.code}"),
                    (ciso_client, f"{page}?unit={quiet_unit.code}"),
                ),
            ),
        ]

    heatmaps = [
        _heatmap(
            f"heat map, {mine}",
            page_client(member),
            member,
            oversight=False,
            runs=runs,
            constant=((member_client, "/risks/heatmap/"), (quiet_client, "/risks/heatmap/")),
        ),
        _heatmap("heat map, CISO", page_client(ciso), ciso, oversight=True, runs=runs),
    ]

    meetings = _meetings(runs, mine=mine, member=member, chair=chair)

    # Last: the trail's order is changing (-sequence to -id) with the chain's redesign.
    auditor = User.objects.get(username="ld-auditor")
    trail = [
        _list_page(
            "audit-events", who, user, page="/audit/", api="/api/v1/audit-events/", runs=runs
        )
        for who, user in (("CISO", ciso), ("auditor", auditor))
    ]

    return [
        _result(
            "P16",
            "dashboards: busiest unit's member, CISO, chair",
            dashboards,
            "the same figures by bare .values() queries",
        ),
        _result(
            "P16b",
            "list pages, page 1 of 50: actions, incidents, risks, systems",
            lists,
            "the API's page of the same rows",
        ),
        _result("P16c", "risk heat map", heatmaps, "the API's two maps"),
        _result(
            "P16d",
            "a meeting's page: the next meeting's agenda, a held meeting",
            meetings,
            "the API's meeting, agenda and decisions",
        ),
        _result("P16e", "the audit trail, page 1 of 50", trail, "the API's page of the same rows"),
    ]


class _RolledBack(Exception):
    pass


def _meetings(runs: int, *, mine: str, member: User, chair: User) -> list[Measured]:
    """The next meeting's page with its agenda assembled from the whole data set (as P5 does,
    in a transaction rolled back after), for the chair and for a unit member; and the last held
    meeting's. Queries are counted before the agenda is assembled too: fewer items, same page."""
    upcoming = Meeting.objects.filter(status=Meeting.Status.SCHEDULED).order_by("starts_at").first()
    held = (
        Meeting.objects.filter(status__in=[Meeting.Status.HELD, Meeting.Status.APPROVED])
        .order_by("-starts_at")
        .first()
    )
    assert upcoming is not None and held is not None, "the generated data has meetings"
    readers = [
        ("next meeting's agenda, chair", upcoming, chair),
        (f"next meeting's agenda, {mine}", upcoming, member),
        ("last held meeting, chair", held, chair),
    ]
    measured: list[Measured] = []
    vacuumed(AgendaItem)  # the dead rows of P5's and earlier runs' rolled-back assemblies
    try:
        with transaction.atomic():
            clients = [page_client(user) for _what, _meeting, user in readers]
            before = [
                _queries(client, f"/meetings/{meeting.pk}/")
                for client, (_what, meeting, _user) in zip(clients, readers, strict=True)
            ]
            assemble_agenda(actor=None, meeting=upcoming)
            for client, fewer, (what, meeting, user) in zip(clients, before, readers, strict=True):
                measured.append(_meeting_page(what, meeting, user, client, fewer, runs=runs))
            raise _RolledBack
    except _RolledBack:
        pass
    return measured


def _meeting_page(
    what: str, meeting: Meeting, user: User, client: Client, fewer: int, *, runs: int
) -> Measured:
    """A meeting's page against the API's three reads of the same: the meeting, its agenda and
    its decisions (the page shows all three)."""
    token = client_for(user)
    url, base = f"/meetings/{meeting.pk}/", f"/api/v1/meetings/{meeting.pk}"
    shown = len(re.findall(r'data-testid="agenda-item"', _html(client, url)))
    served = len(_json(token, f"{base}/agenda/"))
    decided = Decision.objects.filter(meeting=meeting).count()

    def api() -> None:
        _json(token, f"{base}/")
        _json(token, f"{base}/agenda/")
        _json(token, f"{base}/decisions/")

    result = measure(
        what,
        client,
        url,
        api,
        runs=runs,
        same=shown == served,
        said=f"{shown} items ({served} from the API), {decided} decisions",
    )
    result.samples = (result.queries, fewer)
    return result
