"""Who may see projects, report on them, move them on, review them and decide their release."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from accounts import policy as accounts_policy
from accounts.models import BusinessUnit, OfficeCode, Role
from quality.models import Project

# The release gate is the CQO's; the chair may decide any (docs/architecture.md, Authority).
GATE_OFFICES = (OfficeCode.CQO, OfficeCode.CEO)


def _signed_in(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False))


def is_quality_reviewer(user: Any) -> bool:
    return accounts_policy.has_role(user, Role.QUALITY_REVIEWER)


def visible_projects(user: Any) -> QuerySet[Project]:
    """Everything for oversight and for the quality reviewers (Quality HQ reviews every unit's
    projects); otherwise the projects granted to the person's units."""
    if not _signed_in(user):
        return Project.objects.none()
    if accounts_policy.reads_everything(user) or is_quality_reviewer(user):
        return Project.objects.all()
    return accounts_policy.granted(user, Project)


def registrable_units(user: Any) -> QuerySet[BusinessUnit]:
    """The active units a person may register projects for: their own, or any for an admin."""
    if not _signed_in(user):
        return BusinessUnit.objects.none()
    if user.is_superuser:
        return BusinessUnit.objects.filter(is_active=True)
    return accounts_policy.units_of(user).filter(is_active=True)


def can_register_project(user: Any, unit: BusinessUnit) -> bool:
    """A unit's members register its projects; an admin for any unit."""
    return bool(getattr(user, "is_superuser", False)) or accounts_policy.belongs_to(user, unit)


def can_report(user: Any, project: Project) -> bool:
    """The owning unit (its group holds the change grant) reports on and moves its project."""
    if not _signed_in(user):
        return False
    if user.is_superuser:
        return accounts_policy.belongs_to(user, project.unit)
    return accounts_policy.holds_grant(user, project)


can_advance = can_report


def gate_office(user: Any) -> str | None:
    """The office a release decision is taken under: the CQO's, or the chair's."""
    return accounts_policy.acting_office(user, *GATE_OFFICES)


def can_decide_release(user: Any, project: Project) -> bool:
    return gate_office(user) is not None


def threshold_office(user: Any) -> str | None:
    """The CQO sets the thresholds that rate every project (the chair may too)."""
    return accounts_policy.acting_office(user, *GATE_OFFICES)


def can_review(user: Any, project: Project) -> bool:
    """A quality reviewer, and independent: never a member or head of the project's unit or of
    a unit above it, never who registered the project, never one granted it in person."""
    if not is_quality_reviewer(user) or project.registered_by_id == user.pk:
        return False
    unit: BusinessUnit | None = project.unit
    seen: set[int] = set()
    while unit is not None and unit.pk not in seen:
        if accounts_policy.belongs_to(user, unit):
            return False
        seen.add(unit.pk)
        unit = unit.parent
    return not accounts_policy.holds_grant(user, project)
