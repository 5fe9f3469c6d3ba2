"""Reads of the system register, scoped to the reader, and the criteria selector."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet

from systems import criteria as criteria_language
from systems import policy
from systems.models import SuspensionOrder, System


def systems_for(user: Any) -> QuerySet[System]:
    return policy.visible_systems(user).select_related("unit")


@dataclass(frozen=True)
class Named:
    """What codes name among the systems a person may see: the systems, in the order the codes
    came, the codes that name none, and the codes that name several."""

    systems: list[System]
    unknown: list[str]
    ambiguous: list[str]


def systems_named(user: Any, codes: Iterable[str], *, unit: Any) -> Named:
    """The systems `codes` name among those `user` may see. A code is unique within a unit, so
    `unit`'s system of that code is the one meant; failing that, the one system of that code
    the person sees. A code only other units' systems share (seen by someone who reads every
    register) cannot say which, and names none. One query."""
    wanted = list(dict.fromkeys(codes))
    seen: dict[str, list[System]] = {}
    for system in policy.visible_systems(user).filter(code__in=wanted).order_by("pk"):
        seen.setdefault(system.code, []).append(system)
    named = Named(systems=[], unknown=[], ambiguous=[])
    for code in wanted:
        candidates = seen.get(code, [])
        meant = [s for s in candidates if s.unit_id == getattr(unit, "pk", None)] or candidates
        if len(meant) == 1:
            named.systems.append(meant[0])
        else:
            (named.ambiguous if meant else named.unknown).append(code)
    return named


def suspensions_for(user: Any) -> QuerySet[SuspensionOrder]:
    return policy.visible_suspensions(user).select_related(
        "system", "system__unit", "issued_by", "lifted_by"
    )


def systems_matching(criteria: Mapping[str, Any], *, user: Any | None = None) -> QuerySet[System]:
    """The systems criteria select today; with `user`, only those the user may see.
    Raises ValidationError for criteria that do not parse."""
    clean = criteria_language.validate(criteria)
    base = System.objects.all() if user is None else policy.visible_systems(user)
    return base.filter(criteria_language.as_q(clean)).select_related("unit")
