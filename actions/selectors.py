"""Reads of actions scoped to the reader, with the filters people ask for."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.core.cache import cache
from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Value
from django.utils import timezone

from accounts import policy as accounts_policy
from accounts.models import BusinessUnit, User
from actions import policy
from actions.models import Action, ActionUpdate, Directive, Evidence, Notification


def actions_for(user: Any) -> QuerySet[Action]:
    return policy.visible_actions(user).select_related("unit", "assignee", "system", "issued_by")


# What a row of the action list page shows: fifty rows read whole (every date of the action,
# each assignee's password hash and dates, the issuer) cost more to load than to find.
_LISTED_WITH = ("unit", "assignee", "system")
_LISTED = (
    *("reference", "title", "domain", "status", "due_on", "escalation_level", "percent_done"),
    *("unit__code", "system__code"),
    *("assignee__username", "assignee__display_name", "assignee__first_name"),
    "assignee__last_name",
)


def as_listed(rows: QuerySet[Action]) -> QuerySet[Action]:
    """`rows` (actions_for's, filtered) reading only what the list page shows of each."""
    return rows.select_related(None).select_related(*_LISTED_WITH).only(*_LISTED)


# A row of a list of actions, read with .values(): output name -> column. actions.api.ActionOut
# documents the same shape (a test keeps the two equal); a page of fifty built this way costs a
# fraction of fifty model instances, each with four related ones, through a ModelSerializer.
LIST_ROW = {
    "id": "id",
    "reference": "reference",
    "title": "title",
    "description": "description",
    "domain": "domain",
    "unit": "unit__code",
    "assignee": "assignee__username",
    "due_on": "due_on",
    "priority": "priority",
    "status": "status",
    "escalation_level": "escalation_level",
    "percent_done": "percent_done",
    "system": "system__code",
    "origin_incident": "origin_incident_id",
    "issued_by": "issued_by__username",
    "issued_office": "issued_office",
    "submitted_at": "submitted_at",
    "verified_at": "verified_at",
    "cancel_reason": "cancel_reason",
    "version": "version",
    "updated_at": "updated_at",
}


def action_rows_for(user: Any) -> QuerySet[Action]:
    """The reader's actions as rows for a list (dicts of LIST_ROW's columns, plus `due_on`
    under its own name for the cursor)."""
    return policy.visible_actions(user).values(*LIST_ROW.values())


def action_details_for(user: Any) -> QuerySet[Action]:
    """Actions with everything their page shows: where they came from and who acted on them."""
    return actions_for(user).select_related(
        "directive",
        "origin_incident",
        "origin_measure__incident",
        "origin_decision",
        "submitted_by",
        "verified_by",
    )


def awaiting_verification(user: Any) -> QuerySet[Action]:
    """Submitted actions waiting on the reader's office to verify or return them, oldest
    submission first; never their own submissions, which someone else verifies."""
    domains = policy.verifying_domains(user)
    if not domains:
        return Action.objects.none()
    return (
        actions_for(user)
        .filter(status=Action.Status.SUBMITTED, domain__in=domains)
        .exclude(submitted_by=user)
        .order_by("submitted_at", "pk")
    )


UNFINISHED = [
    Action.Status.OPEN,
    Action.Status.IN_PROGRESS,
    Action.Status.RETURNED,
    Action.Status.SUBMITTED,
]


@dataclass(frozen=True)
class Load:
    """One person's share of a unit's unfinished actions (no person: the unassigned ones)."""

    person: User | None
    counts: dict[str, int]  # by status, for the statuses in UNFINISHED
    overdue: int
    in_unit: bool = True

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def cells(self) -> list[tuple[str, int]]:
        """The counts in UNFINISHED's order, as a table shows them."""
        return [(status, self.counts[status]) for status in UNFINISHED]


def unit_workload(user: Any, unit: BusinessUnit, *, today: dt.date | None = None) -> list[Load]:
    """The unit's unfinished actions the reader sees, counted per person by status and overdue:
    every active person of the unit (none left out for having nothing), anyone outside it who
    still holds some of its work, then the unassigned. One aggregate query and one for the
    people, however many actions and people."""
    today = today or timezone.localdate()
    counted = (
        policy.visible_actions(user)
        .filter(unit=unit, status__in=UNFINISHED)
        .order_by()
        .values("assignee")
        .annotate(
            **{status: Count("pk", filter=Q(status=status)) for status in UNFINISHED},
            overdue=Count("pk", filter=Q(due_on__lt=today)),
        )
    )
    by_person: dict[int | None, dict[str, Any]] = {row["assignee"]: dict(row) for row in counted}
    holders = Q(pk__in=[pk for pk in by_person if pk is not None])
    group = unit.group_id
    if group is None:  # a unit never set up has no people yet (accounts.services.sync_unit_group)
        people = User.objects.filter(holders).annotate(in_unit=Value(False))
    else:
        in_unit = User.groups.through.objects.filter(user_id=OuterRef("pk"), group_id=group)
        people = (
            User.objects.filter(Q(groups=group, is_active=True) | holders)
            .annotate(in_unit=Exists(in_unit))
            .distinct()
        )

    def load(person: User | None, row: dict[str, Any] | None, *, member: bool = True) -> Load:
        row = row or {}
        counts = {str(status): int(row.get(status, 0)) for status in UNFINISHED}
        return Load(person, counts, int(row.get("overdue", 0)), in_unit=member)

    rows = [
        load(person, by_person.get(person.pk), member=person.in_unit)
        for person in people.order_by("username")
    ]
    return [*rows, load(None, by_person.get(None))]


def workload_units(user: Any) -> list[str]:
    """The codes of the active units whose workload the reader answers for: those they head."""
    if not getattr(user, "is_authenticated", False):
        return []
    return list(
        BusinessUnit.objects.filter(head=user, is_active=True)
        .order_by("code")
        .values_list("code", flat=True)
    )


def updates_of(action: Action) -> QuerySet[ActionUpdate]:
    return action.updates.select_related("author").prefetch_related("evidence")


def evidence_for(user: Any) -> QuerySet[Evidence]:
    """Evidence files on the actions the reader may see (nobody else's)."""
    return Evidence.objects.filter(update__action__in=policy.visible_actions(user))


def directives_for(user: Any) -> QuerySet[Directive]:
    return (
        policy.visible_directives(user)
        .select_related("issued_by")
        .prefetch_related("units")
        .annotate(
            action_count=Count("actions", distinct=True),
            verified_count=Count(
                "actions", filter=Q(actions__status=Action.Status.VERIFIED), distinct=True
            ),
        )
        .order_by("-created_at", "-pk")  # Meta.ordering does not survive the GROUP BY
    )


def actions_of_directive(user: Any, directive: Directive) -> QuerySet[Action]:
    """The actions a directive fanned out that the reader may see, unit by unit."""
    return actions_for(user).filter(directive=directive).order_by("unit__code", "pk")


def notifications_for(user: Any) -> QuerySet[Notification]:
    """A person's own notifications: nobody reads another's inbox."""
    if not getattr(user, "is_authenticated", False):
        return Notification.objects.none()
    return Notification.objects.filter(recipient=user).select_related("action")


def overdue_trend(
    user: Any, *, weeks: int = 12, today: dt.date | None = None
) -> list[tuple[dt.date, int]]:
    """For each of the last `weeks` weeks (oldest first, the last point today), how many of the
    reader's visible actions were overdue at the end of that day, in one aggregate query.

    Overdue on day d means: created by the end of d, due before d, and neither verified nor
    cancelled by the end of d. The cancel time is the first history row showing the action
    cancelled (both cancelling paths write history). Approximations, because no due-date or
    ownership history is read: a re-planned action counts with its current due date, and
    visibility is today's (an action moved between units counts for its current unit). The
    last point therefore equals today's overdue count."""
    today = today or timezone.localdate()
    days = [today - dt.timedelta(weeks=back) for back in range(weeks - 1, -1, -1)]
    if not days:
        return []
    zone = timezone.get_current_timezone()
    # The first instant of the next local day: "by the end of d" is "before this".
    ends = [
        dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min, tzinfo=zone) for day in days
    ]
    # Only actions that could count on some day: due before today, and not verified before the
    # first day ended (verified and cancelled are final, so the rest are unfinished or were
    # cancelled, and only the cancelled ones have a cancel time to look up).
    candidates = (
        policy.visible_actions(user)
        .filter(due_on__lt=days[-1])
        .filter(Q(verified_at__isnull=True) | Q(verified_at__gte=ends[0]))
        .order_by()
        .values("id", "status", "created_at", "due_on", "verified_at")
    )
    try:
        inner, inner_params = candidates.query.sql_with_params()
    except EmptyResultSet:  # nobody's actions (signed out): nothing to count
        return [(day, 0) for day in days]
    counts, params = [], []
    for day, end in zip(days, ends, strict=True):
        counts.append(
            "COUNT(*) FILTER (WHERE c.created_at < %s AND c.due_on < %s"
            " AND (c.closed_at IS NULL OR c.closed_at >= %s))"
        )
        params += [end, day, end]
    history = Action.history.model._meta.db_table
    # One statement. The candidates are read once (MATERIALIZED: inlined, their cancel time
    # would be planned, and compiled, once per week counted) and the history is probed only
    # for the cancelled ones.
    sql = (
        f"WITH candidate AS MATERIALIZED ({inner}), "  # noqa: S608  # nosec B608
        "cancelled AS ("
        f" SELECT h.id, MIN(h.history_date) AS at FROM {history} h"
        " WHERE h.status = %s AND h.id IN (SELECT id FROM candidate WHERE status = %s)"
        " GROUP BY h.id) "
        f"SELECT {', '.join(counts)} FROM ("
        " SELECT candidate.created_at, candidate.due_on,"
        " COALESCE(candidate.verified_at, cancelled.at) AS closed_at"
        " FROM candidate LEFT JOIN cancelled ON cancelled.id = candidate.id) AS c"
    )
    cancelled = Action.Status.CANCELLED
    with connection.cursor() as cursor:
        cursor.execute(sql, [*inner_params, cancelled, cancelled, *params])
        totals = cursor.fetchone()
    return [(day, int(total or 0)) for day, total in zip(days, totals, strict=True)]


# How long a page may show the trend it read: the chart is of weeks, its points move when an
# action of the past is closed or re-planned, and for the CISO it reads every unit's overdue
# actions (a third of a second at a million actions).
TREND_FRESH_FOR = 300  # seconds


def overdue_trend_shown(user: Any) -> list[tuple[dt.date, int]]:
    """overdue_trend as the pages show it, read again at most every TREND_FRESH_FOR seconds:
    one answer shared by everyone who reads every unit's actions (they see the same ones), one
    per person for the rest. Nobody is shown a count of actions they could not see."""
    today = timezone.localdate()
    scope = "all" if accounts_policy.reads_everything(user) else f"person-{user.pk}"
    key = f"overdue-trend:{scope}:{today.isoformat()}"
    points = cache.get(key)
    if points is None:
        points = overdue_trend(user, today=today)
        cache.set(key, points, TREND_FRESH_FOR)
    return list(points)
