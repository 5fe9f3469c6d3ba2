"""The dashboard's panels, read for one person: their work, the next meeting, open incidents,
suspended systems, open vulnerabilities, the risk heat maps and the overdue trend. Each panel
is scoped by the app that owns it, so a unit sees its own and oversight sees everything."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q
from django.utils import timezone
from django.utils.safestring import SafeString

from accounts import policy as accounts_policy
from accounts import selectors as accounts_selectors
from actions import charts as action_charts
from actions import selectors as actions_selectors
from actions.models import Action
from cases import charts as case_charts
from cases import selectors as cases_selectors
from cases.models import Incident, Severity
from committee import selectors
from committee.headings import heading_of
from committee.models import AgendaItem, Ballot, Meeting
from committee.waiting import Step, waiting_for
from config.pages import ids_first
from systems import selectors as systems_selectors
from systems.models import System
from vulnerabilities import posture

PANEL_ROWS = 8
DUE_SOON = dt.timedelta(days=14)


@dataclass
class Dashboard:
    me: dict[str, Any]
    my_actions: list[Action]
    unit_actions: list[Action]
    overdue_count: int
    next_meeting: Meeting | None
    agenda: list[tuple[AgendaItem, str]]
    incidents_by_severity: list[tuple[str, str, int]]
    suspended: list[System]
    heatmap_inherent: SafeString
    heatmap_residual: SafeString
    overdue_trend: SafeString
    waiting: list[Step]
    votes: list[Ballot]
    workload_units: list[str]
    to_verify: list[Action]
    to_verify_count: int
    vulnerabilities: posture.Headline | None = None  # None: the reader sees no finding


def dashboard_for(user: Any) -> Dashboard:
    """Every panel in a fixed number of queries, whatever the data."""
    today = timezone.localdate()
    heatmaps = cases_selectors.heatmaps(user)
    visible = actions_selectors.actions_for(user).filter(
        status__in=[
            Action.Status.OPEN,
            Action.Status.IN_PROGRESS,
            Action.Status.RETURNED,
            Action.Status.SUBMITTED,
        ],
        due_on__lte=today + DUE_SOON,
    )
    # The reader's units, known before the panels ask: a subquery there would have the planner
    # walk every unfinished action due soon to find, for the CISO, who belongs to no unit,
    # that there are none.
    units = list(accounts_policy.units_of(user).values_list("pk", flat=True))
    mine = list(ids_first(visible.filter(assignee=user).order_by("due_on", "pk")[:PANEL_ROWS]))
    unit_work = (
        list(
            ids_first(
                visible.filter(unit__in=units)
                .exclude(assignee=user)
                .order_by("due_on", "pk")[:PANEL_ROWS]
            )
        )
        if units
        else []
    )
    overdue = visible.filter(Q(assignee=user) | Q(unit__in=units), due_on__lt=today).count()

    upcoming = (
        selectors.meetings_for(user)
        .filter(ends_at__gte=timezone.now())
        .exclude(status=Meeting.Status.CANCELLED)
        .order_by("starts_at")
        .first()
    )
    items = list(selectors.agenda_for(user, upcoming)[: PANEL_ROWS * 2]) if upcoming else []
    agenda = [(item, heading_of(item)[0]) for item in items]

    counts = dict(
        cases_selectors.incidents_for(user)
        .exclude(status=Incident.Status.CLOSED)
        .order_by()
        .values_list("severity")
        .annotate(n=Count("*"))  # not COUNT(id): open incidents counted from the index alone
        .values_list("severity", "n")
    )
    by_severity = [
        (value, str(label), counts.get(value, 0)) for value, label in reversed(Severity.choices)
    ]
    suspended = list(
        systems_selectors.systems_for(user)
        .filter(status=System.Status.SUSPENDED)
        .order_by("code")[:PANEL_ROWS]
    )
    awaiting = actions_selectors.awaiting_verification(user)
    findings = posture.headline_for(user, today=today)
    return Dashboard(
        vulnerabilities=findings if findings.visible else None,
        waiting=waiting_for(user),
        votes=list(selectors.resolutions_waiting_for(user)[:PANEL_ROWS]),
        workload_units=actions_selectors.workload_units(user),
        to_verify=list(ids_first(awaiting[:PANEL_ROWS])),
        to_verify_count=awaiting.count(),
        me=accounts_selectors.profile_of(user),
        my_actions=mine,
        unit_actions=unit_work,
        overdue_count=overdue,
        next_meeting=upcoming,
        agenda=agenda,
        incidents_by_severity=by_severity,
        suspended=suspended,
        heatmap_inherent=case_charts.heatmap_svg(
            heatmaps["inherent"],
            basis="inherent",
            link=case_charts.register_cell_link("inherent"),
        ),
        heatmap_residual=case_charts.heatmap_svg(
            heatmaps["residual"],
            basis="residual",
            link=case_charts.register_cell_link("residual"),
        ),
        overdue_trend=action_charts.overdue_trend_svg(actions_selectors.overdue_trend_shown(user)),
    )
