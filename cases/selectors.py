"""Reads of incidents and risks scoped to the reader, and the risk heat map."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Prefetch, QuerySet

from cases import policy
from cases.models import Incident, RecurrenceMeasure, Risk, TimelineEntry
from systems import selectors as systems_selectors
from systems.models import System


def incidents_for(user: Any) -> QuerySet[Incident]:
    return (
        policy.visible_incidents(user)
        .select_related("unit", "reporter")
        .prefetch_related(Prefetch("affected_systems", queryset=System.objects.only("id", "code")))
    )


def timeline_of(incident: Incident) -> QuerySet[TimelineEntry]:
    return incident.timeline.select_related("author")


def matching_system_codes(measure: RecurrenceMeasure, user: Any) -> list[str]:
    """The systems a measure's criteria select today, of those the reader may see: oversight
    sees the whole reach of the fix, a unit its own systems only."""
    if not measure.criteria:
        return []
    matching = systems_selectors.systems_matching(measure.criteria, user=user)
    return list(matching.values_list("code", flat=True))


def measures_of(incident: Incident, user: Any) -> list[tuple[RecurrenceMeasure, list[str]]]:
    """Each measure with its matching systems (one query per measure; an incident has a few)."""
    return [
        (m, matching_system_codes(m, user)) for m in incident.measures.select_related("created_by")
    ]


def risks_for(user: Any) -> QuerySet[Risk]:
    return policy.visible_risks(user).select_related("unit", "owner")


BASES = {
    "inherent": ("likelihood", "impact"),
    "residual": ("residual_likelihood", "residual_impact"),
}


def heatmaps(user: Any) -> dict[str, list[list[int]]]:
    """Both heat maps, inherent and residual (counts of live risks per likelihood, rows 1..5,
    x impact, columns 1..5), from one query: the risks grouped by all four scores, at most 625
    groups, folded into the two grids here."""
    grids = {basis: [[0] * 5 for _ in range(5)] for basis in BASES}
    rows = (
        policy.visible_risks(user)
        .exclude(status=Risk.Status.RETIRED)
        .order_by()
        .values_list(*BASES["inherent"], *BASES["residual"])
        .annotate(n=Count("*"))
    )
    for likelihood, impact, residual_likelihood, residual_impact, n in rows:
        grids["inherent"][likelihood - 1][impact - 1] += n
        grids["residual"][residual_likelihood - 1][residual_impact - 1] += n
    return grids


def heatmap(user: Any, *, basis: str = "residual") -> list[list[int]]:
    """Counts of live risks per likelihood (rows, 1..5) x impact (columns, 1..5): one query."""
    return heatmaps(user)[basis]
