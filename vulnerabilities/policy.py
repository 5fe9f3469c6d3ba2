"""Who may see findings, set them aside, accept their risk, set deadlines and import feeds."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from accounts import policy as accounts_policy
from accounts.models import Membership, OfficeCode
from systems import policy as systems_policy
from vulnerabilities.models import Finding


def visible_findings(user: Any) -> QuerySet[Finding]:
    """The findings on the systems a person sees: a unit's own, or all for oversight."""
    if not getattr(user, "is_authenticated", False):
        return Finding.objects.none()
    if accounts_policy.reads_everything(user):
        return Finding.objects.all()
    return Finding.objects.filter(system__in=systems_policy.visible_systems(user))


def ciso_office(user: Any) -> str | None:
    """The CISO's office, when the person holds it or acts for it now."""
    return accounts_policy.acting_office(user, OfficeCode.CISO)


def is_security_officer(user: Any, unit_id: int) -> bool:
    """The unit's on-site security officer."""
    if not getattr(user, "is_authenticated", False):
        return False
    return Membership.objects.filter(
        user=user, unit_id=unit_id, kind=Membership.Kind.SECURITY_OFFICER
    ).exists()


def triage_office(user: Any, finding: Finding) -> str | None:
    """Under what a person may mark a finding a false positive or confirm one to review: the
    CISO's office ("CISO"), the unit's security officer (""); None when they may not."""
    office = ciso_office(user)
    if office is not None:
        return office
    if is_security_officer(user, finding.system.unit_id):
        return ""
    return None


def can_accept_risk(user: Any) -> bool:
    """Only the CISO accepts a vulnerability's risk until a date."""
    return ciso_office(user) is not None


def can_set_deadlines(user: Any) -> bool:
    """The CISO sets the remediation deadlines (admins may, through admin)."""
    return ciso_office(user) is not None or bool(getattr(user, "is_superuser", False))


def can_import_advisories(user: Any) -> bool:
    """The CISO's office and admins load advisory feeds; the beat task does it as no one."""
    if user is None:
        return True  # the scheduled task
    return ciso_office(user) is not None or bool(getattr(user, "is_superuser", False))


def can_ask_exposure(user: Any) -> bool:
    """The morning-of question across the company: whoever reads everything (the CISO, the
    chair, auditors); others ask it of their own units' systems through the same selector."""
    return bool(getattr(user, "is_authenticated", False))
