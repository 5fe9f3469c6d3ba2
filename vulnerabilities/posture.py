"""The vulnerability posture a person may read: exposure by unit, KEV, overdue, fix rate, trend."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, cast

from django.db.models import Count, F, Q
from django.utils import timezone

from vulnerabilities import policy
from vulnerabilities.models import Finding, FindingQuerySet, Priority, Severity

WEEKS = 12
FIX_WINDOW = dt.timedelta(days=90)
KEV_SHOWN = 10
# The severity columns of the posture; a CVSS 0.0 ("none") is counted with the lows.
BUCKETS = (Severity.CRITICAL, Severity.HIGH, Severity.MEDIUM, Severity.LOW, Severity.UNKNOWN)
IN_BUCKET: dict[str, list[str]] = {
    Severity.CRITICAL: [Severity.CRITICAL],
    Severity.HIGH: [Severity.HIGH],
    Severity.MEDIUM: [Severity.MEDIUM],
    Severity.LOW: [Severity.LOW, Severity.NONE],
    Severity.UNKNOWN: [Severity.UNKNOWN],
}
# The trend reads the states whose open time is known: open (since opened_at) and fixed (from
# opened_at to fixed_at). No state history is kept, so a finding now set aside (false positive,
# accepted, withdrawn) or still to review counts in no week, and a reopened one from its latest
# opening only: approximations that keep the latest point equal to today's open count.
TREND_STATES = [Finding.State.OPEN, Finding.State.FIXED]


@dataclass(frozen=True)
class UnitExposure:
    """One unit's open findings: by severity, exploited (KEV), overdue, and systems affected."""

    unit_id: int
    code: str
    name: str
    open: int
    critical: int
    high: int
    medium: int
    low: int
    unknown: int
    kev: int
    overdue: int
    systems: int

    @property
    def by_severity(self) -> list[tuple[str, int]]:
        """(severity, count) in the order of BUCKETS, most severe first."""
        return [(str(bucket), getattr(self, str(bucket))) for bucket in BUCKETS]


@dataclass(frozen=True)
class KevFinding:
    """An open finding of a vulnerability exploited in the wild, as the posture lists it."""

    pk: int
    vulnerability: str
    severity: str
    system_id: int
    system: str
    unit: str
    due_on: dt.date | None
    opened_at: dt.datetime
    overdue: bool


@dataclass(frozen=True)
class TrendPoint:
    """Open and overdue findings at the end of one day."""

    day: dt.date
    open: int
    overdue: int


@dataclass
class Posture:
    """Everything the posture page shows, read in a fixed number of queries."""

    today: dt.date
    units: list[UnitExposure]
    kev_open: int
    kev_oldest: list[KevFinding]
    overdue_by_priority: list[tuple[str, int]]
    fixed: int
    fixed_in_time: int
    trend: list[TrendPoint] = field(default_factory=list)

    @property
    def open(self) -> int:
        return sum(unit.open for unit in self.units)

    @property
    def critical(self) -> int:
        return sum(unit.critical for unit in self.units)

    @property
    def overdue(self) -> int:
        return sum(count for _priority, count in self.overdue_by_priority)

    @property
    def systems(self) -> int:
        return sum(unit.systems for unit in self.units)  # a system belongs to one unit

    @property
    def by_severity(self) -> list[tuple[str, int]]:
        return [
            (str(bucket), sum(getattr(unit, str(bucket)) for unit in self.units))
            for bucket in BUCKETS
        ]

    @property
    def fixed_in_time_share(self) -> float | None:
        """Of the findings fixed in the last 90 days, the share fixed by their due date;
        None when none was fixed."""
        return self.fixed_in_time / self.fixed if self.fixed else None


@dataclass(frozen=True)
class Headline:
    """The dashboard's three numbers, and whether the reader sees any finding at all."""

    visible: int
    critical: int
    kev: int
    overdue: int


def _findings(user: Any) -> FindingQuerySet:
    # visible_findings returns a queryset of Finding's own manager: its methods are there.
    return cast(FindingQuerySet, policy.visible_findings(user))


def _end_of(day: dt.date) -> dt.datetime:
    """The first instant of the next local day: "at the end of d" is "before this"."""
    zone = timezone.get_current_timezone()
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min, tzinfo=zone)


def trend_days(today: dt.date, weeks: int = WEEKS) -> list[dt.date]:
    """The days the trend is read at, oldest first: one a week, the last one today."""
    return [today - dt.timedelta(weeks=back) for back in range(weeks - 1, -1, -1)]


def exposure_by_unit(findings: FindingQuerySet, today: dt.date) -> list[UnitExposure]:
    """Open findings per unit, in one grouped query; the units with most criticals first."""

    def severity(bucket: str) -> Count:
        return Count("pk", filter=Q(severity__in=IN_BUCKET[bucket]))

    rows = (
        findings.unresolved()
        .order_by()
        .values("system__unit_id", "system__unit__code", "system__unit__name")
        .annotate(
            open=Count("pk"),
            critical=severity(Severity.CRITICAL),
            high=severity(Severity.HIGH),
            medium=severity(Severity.MEDIUM),
            low=severity(Severity.LOW),
            unknown=severity(Severity.UNKNOWN),
            kev=Count("pk", filter=Q(vulnerability__kev=True)),
            overdue=Count("pk", filter=Q(due_on__lt=today)),
            systems=Count("system_id", distinct=True),
        )
        .order_by("-critical", "-kev", "-overdue", "-open", "system__unit__code")
    )
    return [
        UnitExposure(
            unit_id=row["system__unit_id"],
            code=row["system__unit__code"],
            name=row["system__unit__name"],
            open=row["open"],
            critical=row["critical"],
            high=row["high"],
            medium=row["medium"],
            low=row["low"],
            unknown=row["unknown"],
            kev=row["kev"],
            overdue=row["overdue"],
            systems=row["systems"],
        )
        for row in rows
    ]


def oldest_kev(findings: FindingQuerySet, today: dt.date) -> list[KevFinding]:
    """The open KEV findings open longest (one query)."""
    rows = (
        findings.unresolved()
        .filter(vulnerability__kev=True)
        .order_by("opened_at", "pk")
        .values(
            "pk", "vulnerability__key", "severity", "system_id", "system__code",
            "system__unit__code", "due_on", "opened_at",
        )[:KEV_SHOWN]
    )  # fmt: skip
    return [
        KevFinding(
            pk=row["pk"],
            vulnerability=row["vulnerability__key"],
            severity=row["severity"],
            system_id=row["system_id"],
            system=row["system__code"],
            unit=row["system__unit__code"],
            due_on=row["due_on"],
            opened_at=row["opened_at"],
            overdue=row["due_on"] is not None and row["due_on"] < today,
        )
        for row in rows
    ]


def _summary(
    findings: FindingQuerySet, today: dt.date, now: dt.datetime, days: list[dt.date]
) -> dict[str, int]:
    """Overdue by priority, the fix rate and the trend: conditional counts in one query."""
    is_open = Q(state=Finding.State.OPEN)
    fixed = Q(state=Finding.State.FIXED, fixed_at__gte=now - FIX_WINDOW, fixed_at__lte=now)
    counts: dict[str, Any] = {
        f"overdue_{priority}": Count("pk", filter=is_open & Q(due_on__lt=today, priority=priority))
        for priority in Priority.values
    }
    counts["fixed"] = Count("pk", filter=fixed)
    # A finding without a due date had no deadline to miss.
    counts["fixed_in_time"] = Count(
        "pk", filter=fixed & (Q(due_on__isnull=True) | Q(fixed_at__date__lte=F("due_on")))
    )
    for index, day in enumerate(days):
        end = _end_of(day)
        open_then = Q(state__in=TREND_STATES, opened_at__lt=end) & (
            Q(fixed_at__isnull=True) | Q(fixed_at__gte=end)
        )
        counts[f"open_{index}"] = Count("pk", filter=open_then)
        counts[f"overdue_{index}"] = Count("pk", filter=open_then & Q(due_on__lt=day))
    totals = findings.order_by().aggregate(**counts)
    return {key: value or 0 for key, value in totals.items()}


def posture_for(
    user: Any, *, today: dt.date | None = None, now: dt.datetime | None = None
) -> Posture:
    """The posture over the findings `user` may see (every unit for oversight, their own units
    otherwise), in three queries after the visibility check, whatever the number of findings."""
    now = now or timezone.now()
    today = today or timezone.localdate(now)
    findings = _findings(user)
    days = trend_days(today)
    units = exposure_by_unit(findings, today)
    summary = _summary(findings, today, now, days)
    return Posture(
        today=today,
        units=units,
        kev_open=sum(unit.kev for unit in units),
        kev_oldest=oldest_kev(findings, today),
        overdue_by_priority=[(p, summary[f"overdue_{p}"]) for p in Priority.values],
        fixed=summary["fixed"],
        fixed_in_time=summary["fixed_in_time"],
        trend=[
            TrendPoint(day=day, open=summary[f"open_{i}"], overdue=summary[f"overdue_{i}"])
            for i, day in enumerate(days)
        ],
    )


def headline_for(user: Any, *, today: dt.date | None = None) -> Headline:
    """The dashboard tile's numbers: open criticals, open KEV, overdue (one query)."""
    today = today or timezone.localdate()
    is_open = Q(state=Finding.State.OPEN)
    totals = (
        _findings(user)
        .order_by()
        .aggregate(
            visible=Count("pk"),
            critical=Count("pk", filter=is_open & Q(severity=Severity.CRITICAL)),
            kev=Count("pk", filter=is_open & Q(vulnerability__kev=True)),
            overdue=Count("pk", filter=is_open & Q(due_on__lt=today)),
        )
    )
    return Headline(**{key: value or 0 for key, value in totals.items()})
