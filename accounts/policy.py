"""Who holds which office and role now: the questions every app's policy is built on."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from allauth.mfa.models import Authenticator
from django.db.models import Q
from django.utils import timezone

from accounts.models import BusinessUnit, Delegation, Office, OfficeCode, Role

if TYPE_CHECKING:
    from django.db.models import QuerySet


@dataclass(frozen=True)
class HeldOffice:
    """An office a person holds at a moment: as its holder, or acting for it until `until`."""

    code: str
    name: str
    capacity: str  # "holder" or "acting"
    until: datetime | None = None


def _signed_in(user: Any) -> bool:
    return bool(user is not None and getattr(user, "is_authenticated", False) and user.is_active)


def offices_held(user: Any, *, at: datetime | None = None) -> list[HeldOffice]:
    """Every office the user holds at `at` (now by default), in two queries at most."""
    if not _signed_in(user):
        return []
    moment = at or timezone.now()
    held = [
        HeldOffice(code=o.code, name=o.name, capacity="holder")
        for o in Office.objects.filter(holder=user).only("code", "name")
    ]
    codes = {h.code for h in held}
    # Overlapping delegations of one office: the person acts until the last of them ends.
    acting: dict[str, HeldOffice] = {}
    for delegation in (
        Delegation.objects.active(moment).filter(delegate=user).select_related("office")
    ):
        code = delegation.office.code
        if code in codes:
            continue
        until = delegation.ends_at
        if delegation.revoked_at is not None:
            until = min(until, delegation.revoked_at)
        if code not in acting or (acting[code].until or until) < until:
            acting[code] = HeldOffice(
                code=code, name=delegation.office.name, capacity="acting", until=until
            )
    held.extend(acting.values())
    return sorted(held, key=lambda h: h.code)


def holds_office(user: Any, code: str, *, at: datetime | None = None) -> bool:
    """Does the user hold (or act for) the office `code` at `at`?"""
    return office_capacity(user, code, at=at) is not None


def office_capacity(user: Any, code: str, *, at: datetime | None = None) -> str | None:
    """'holder', 'acting', or None: in what capacity the user holds the office at `at`.
    Holders are today's (the history of holders is in the office's history); `at` moves
    the delegation window only."""
    if not _signed_in(user):
        return None
    if Office.objects.filter(code=code, holder=user).exists():
        return "holder"
    moment = at or timezone.now()
    if Delegation.objects.active(moment).filter(office__code=code, delegate=user).exists():
        return "acting"
    return None


def acting_office(user: Any, *codes: str, at: datetime | None = None) -> str | None:
    """The first of `codes` the user holds now: the office an authority act is recorded under."""
    held = {h.code for h in offices_held(user, at=at)}
    return next((code for code in codes if code in held), None)


def has_role(user: Any, role: Role | str) -> bool:
    if not _signed_in(user):
        return False
    return user.groups.filter(name=str(role)).exists()


def role_names(user: Any) -> list[str]:
    if not _signed_in(user):
        return []
    # Only role groups: a unit's own group ("unit:PUBSEC") is membership, not a role.
    return sorted(user.groups.filter(name__in=Role.values).values_list("name", flat=True))


def units_of(user: Any) -> QuerySet[BusinessUnit]:
    """The business units a person belongs to (as member or head)."""
    if not _signed_in(user):
        return BusinessUnit.objects.none()
    return BusinessUnit.objects.filter(Q(memberships__user=user) | Q(head=user)).distinct()


def is_chair(user: Any, *, at: datetime | None = None) -> bool:
    return holds_office(user, OfficeCode.CEO, at=at)


def can_read_audit_trail(user: Any) -> bool:
    """Auditors, the chair, the CISO and the CQO read the audit trail (DESIGN.md section 3)."""
    if not _signed_in(user):
        return False
    if user.is_superuser or has_role(user, Role.AUDITOR):
        return True
    return acting_office(user, OfficeCode.CEO, OfficeCode.CISO, OfficeCode.CQO) is not None


def can_delegate(user: Any, office: Office) -> bool:
    """The office's own holder, the CEO in person, or an admin may delegate it. An acting
    delegate may not delegate further: an acting CEO could otherwise extend their own term."""
    if not _signed_in(user):
        return False
    return bool(
        user.is_superuser
        or office.holder_id == user.pk
        or office_capacity(user, OfficeCode.CEO) == "holder"
    )


def can_assign_office(user: Any, office: Office) -> bool:
    """Who holds an office is decided by the board; in the product, only admins record it."""
    return _signed_in(user) and bool(user.is_superuser)


def has_mfa(user: Any) -> bool:
    """Has the person enrolled an authenticator app (TOTP)?"""
    return Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()


OVERSIGHT_ROLES = [Role.CHAIR, Role.CXO, Role.AUDITOR, Role.SECRETARY]


def reads_everything(user: Any) -> bool:
    """Committee members, the secretariat, auditors and the CEO/CISO/CQO (held or acting) read
    every unit's cases, systems and actions; everyone else sees their own units' only."""
    if not _signed_in(user):
        return False
    if user.is_superuser or user.groups.filter(name__in=OVERSIGHT_ROLES).exists():
        return True
    return acting_office(user, OfficeCode.CEO, OfficeCode.CISO, OfficeCode.CQO) is not None


def belongs_to(user: Any, unit: BusinessUnit) -> bool:
    """Is the person the unit's head or one of its members?"""
    if not _signed_in(user):
        return False
    return unit.head_id == user.pk or unit.memberships.filter(user=user).exists()


def decision_authorizes(decision: Any, effect: str) -> bool:
    """A committee decision is authority for its own effect only: approved, with that effect,
    at a meeting whose record is still open. (Read by attribute: the kernel knows no committee.)"""
    return bool(
        decision is not None
        and decision.outcome == "approved"
        and decision.effect == effect
        and not decision.meeting.is_locked
    )
