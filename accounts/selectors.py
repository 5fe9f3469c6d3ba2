"""Reads about people and the organisation: the directory of units and offices, and 'me'."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from accounts import policy
from accounts.models import BusinessUnit, Delegation, Membership, Office, Role


def business_units_for(user: Any) -> QuerySet[BusinessUnit]:
    """The organisation's directory of units is open to every signed-in person."""
    if not user.is_authenticated:
        return BusinessUnit.objects.none()
    return BusinessUnit.objects.filter(is_active=True).select_related("parent", "head")


def offices_for(user: Any) -> QuerySet[Office]:
    """Offices with their holder and the delegations in force now, in a fixed number of queries."""
    if not user.is_authenticated:
        return Office.objects.none()
    return Office.objects.select_related("holder").prefetch_related(
        Prefetch(
            "delegations",
            queryset=Delegation.objects.active(timezone.now()).select_related("delegate"),
            to_attr="active_delegations",
        )
    )


def office_people(codes: Iterable[str]) -> dict[str, set[int]]:
    """The holder of each office and anyone acting for it now, by office code: whom an office's
    mail goes to."""
    people: dict[str, set[int]] = defaultdict(set)
    for code, holder in Office.objects.filter(code__in=codes).values_list("code", "holder_id"):
        if holder:
            people[code].add(holder)
    acting = Delegation.objects.active().filter(office__code__in=codes)
    for code, delegate in acting.values_list("office__code", "delegate_id"):
        people[code].add(delegate)
    return people


def memberships_of(user: Any) -> list[dict[str, str]]:
    """The units a person belongs to, with their standing in each (head wins over member)."""
    standing: dict[str, dict[str, str]] = {}
    for m in Membership.objects.filter(user=user).select_related("unit"):
        standing[m.unit.code] = {"code": m.unit.code, "name": m.unit.name, "role": m.kind}
    for unit in BusinessUnit.objects.filter(head=user):
        standing[unit.code] = {"code": unit.code, "name": unit.name, "role": "head"}
    return [standing[code] for code in sorted(standing)]


def profile_of(user: Any) -> dict[str, Any]:
    """Who the caller is: units, offices (held or acting), role groups and MFA state."""
    roles = policy.role_names(user)
    return {
        "username": user.get_username(),
        "display_name": str(user),
        "email": user.email,
        "language": user.language,
        "units": memberships_of(user),
        "offices": [
            {"code": h.code, "name": h.name, "capacity": h.capacity, "until": h.until}
            for h in policy.offices_held(user)
        ],
        "roles": roles,
        # what a page shows: the roles by name, in the reader's language (the API keeps slugs)
        "role_labels": [Role(role).label for role in roles],
        "mfa_enrolled": policy.has_mfa(user),
    }
