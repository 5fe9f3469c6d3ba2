"""Who may see, report and change incidents and risks."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from accounts import policy as accounts_policy
from accounts.models import BusinessUnit, Domain, OfficeCode
from cases.models import Incident, Risk

DOMAIN_OFFICE = {Domain.SECURITY: OfficeCode.CISO, Domain.QUALITY: OfficeCode.CQO}


def visible_incidents(user: Any) -> QuerySet[Incident]:
    """Everything for oversight; otherwise the incidents granted to the person's units."""
    if not getattr(user, "is_authenticated", False):
        return Incident.objects.none()
    return accounts_policy.visible(user, Incident)


def visible_risks(user: Any) -> QuerySet[Risk]:
    if not getattr(user, "is_authenticated", False):
        return Risk.objects.none()
    return accounts_policy.visible(user, Risk)


def can_own_risk(person: Any, risk: Risk) -> bool:
    """A risk's owner answers for it, so they must be able to read it: someone who reads every
    unit's risks, or someone the risk is granted to (its unit's members). Asked of a risk
    saved and granted, so the answer is the one the risk register gives that person."""
    return visible_risks(person).filter(pk=risk.pk).exists()


def can_report_incident(user: Any, unit: BusinessUnit) -> bool:
    """Any member of a unit reports incidents for that unit."""
    return bool(getattr(user, "is_superuser", False)) or accounts_policy.belongs_to(user, unit)


def can_register_risk(user: Any, unit: BusinessUnit) -> bool:
    return can_report_incident(user, unit)


def can_report_any_incident(user: Any) -> bool:
    """Does the person belong to a unit they could report for (the report button)?"""
    return any(can_report_incident(user, unit) for unit in accounts_policy.units_of(user))


def can_register_any_risk(user: Any) -> bool:
    return any(can_register_risk(user, unit) for unit in accounts_policy.units_of(user))


def domain_office(user: Any, domain: str) -> str | None:
    """The office (the domain's CxO, or the chair) under which the user may steer a case."""
    office = DOMAIN_OFFICE.get(Domain(domain))
    codes = (office, OfficeCode.CEO) if office else (OfficeCode.CEO,)
    return accounts_policy.acting_office(user, *codes)


def can_change_incident(user: Any, incident: Incident) -> bool:
    """The owning unit (its group holds the grant), the domain's CxO, the chair, or an admin."""
    if not getattr(user, "is_authenticated", False):
        return False
    if user.is_superuser or accounts_policy.holds_grant(user, incident):
        return True
    return domain_office(user, incident.domain) is not None


def can_change_risk(user: Any, risk: Risk) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    if user.is_superuser or accounts_policy.holds_grant(user, risk):
        return True
    return domain_office(user, risk.domain) is not None


def can_accept_by_committee(decision: Any) -> bool:
    """A risk above appetite is accepted only by an approved committee decision to accept it."""
    return accounts_policy.decision_authorizes(decision, "accept_risk")
