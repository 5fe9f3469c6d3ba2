"""Who may see, register, change, suspend and reinstate IT systems."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from accounts import policy as accounts_policy
from accounts.models import BusinessUnit, OfficeCode
from systems.models import SuspensionOrder, System

SUSPENDING_OFFICES = (OfficeCode.CISO, OfficeCode.CEO)


def visible_systems(user: Any) -> QuerySet[System]:
    """Everything for oversight; otherwise the systems granted to the person's units (guardian)."""
    if not getattr(user, "is_authenticated", False):
        return System.objects.none()
    return accounts_policy.visible(user, System)


def visible_suspensions(user: Any) -> QuerySet[SuspensionOrder]:
    return SuspensionOrder.objects.filter(system__in=visible_systems(user))


def can_register_system(user: Any, unit: BusinessUnit) -> bool:
    """Any member of a unit registers systems for that unit (admins for any unit)."""
    return bool(getattr(user, "is_superuser", False)) or accounts_policy.belongs_to(user, unit)


def registrable_units(user: Any) -> QuerySet[BusinessUnit]:
    """The active units a person may register systems for (the units `can_register_system`
    allows): their own, or any for an admin. Offered in the page's form; the service decides."""
    if not getattr(user, "is_authenticated", False):
        return BusinessUnit.objects.none()
    if user.is_superuser:
        return BusinessUnit.objects.filter(is_active=True)
    return accounts_policy.units_of(user).filter(is_active=True)


def can_change_system(user: Any, system: System) -> bool:
    """The owning unit (its group holds the change grant) or an admin."""
    if not getattr(user, "is_authenticated", False):
        return False
    return bool(user.is_superuser or accounts_policy.holds_grant(user, system))


def suspending_office(user: Any) -> str | None:
    """The office a suspension is ordered under: the CISO's, or the chair's."""
    return accounts_policy.acting_office(user, *SUSPENDING_OFFICES)


def can_suspend(user: Any, system: System) -> bool:
    return suspending_office(user) is not None


def can_lift(user: Any, order: SuspensionOrder) -> bool:
    return suspending_office(user) is not None


def can_settle_ratification(decision: Any, *, ratify: bool) -> bool:
    """Only the committee ratifies or overturns a CISO order: an approved decision saying so."""
    effect = "ratify_suspension" if ratify else "overturn_suspension"
    return accounts_policy.decision_authorizes(decision, effect)


def can_keep_inventory(user: Any, system: System) -> bool:
    """The owning unit keeps a system's software inventory and network identities."""
    return can_change_system(user, system)
