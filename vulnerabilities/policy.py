"""Who may see findings, set them aside, accept their risk, set deadlines, import feeds and
scanner reports, and triage the assets scans found that nobody registered."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from accounts import policy as accounts_policy
from accounts.models import Membership, OfficeCode
from systems import policy as systems_policy
from systems.models import System
from vulnerabilities.models import DiscoveredAsset, Finding, Scan


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


def visible_scans(user: Any) -> QuerySet[Scan]:
    """Scans of the systems a person sees, and their own uploads; all for oversight. A scan of
    the company's addresses (no system named) is the CISO's office's and oversight's."""
    if not getattr(user, "is_authenticated", False):
        return Scan.objects.none()
    if accounts_policy.reads_everything(user):
        return Scan.objects.all()
    return Scan.objects.filter(
        system__in=systems_policy.visible_systems(user)
    ) | Scan.objects.filter(uploaded_by=user)


def scan_office(user: Any, system: System | None) -> str | None:
    """Under what a person may upload a scan: the CISO's office ("CISO") for any system or for
    a whole scan placed by network identities; the owning unit's members ("") for one of
    their systems. None when they may not."""
    office = ciso_office(user)
    if office is not None:
        return office
    if system is not None and systems_policy.can_keep_inventory(user, system):
        return ""
    return None


def can_see_attack_surface(user: Any) -> bool:
    """The company-wide attacker's view: whoever reads everything, or acts for the CISO's
    office. (The coverage figures of the API are scoped to a person's own systems instead.)"""
    return accounts_policy.reads_everything(user) or ciso_office(user) is not None


def visible_assets(user: Any) -> QuerySet[DiscoveredAsset]:
    """Discovered assets: all for oversight; a unit sees those assigned to it."""
    if not getattr(user, "is_authenticated", False):
        return DiscoveredAsset.objects.none()
    if accounts_policy.reads_everything(user):
        return DiscoveredAsset.objects.all()
    return DiscoveredAsset.objects.filter(unit__in=accounts_policy.units_of(user))


def can_triage_asset(user: Any) -> bool:
    """Assigning a discovered asset to a unit, or dismissing it: the CISO's office."""
    return ciso_office(user) is not None


def can_claim_asset(user: Any, asset: DiscoveredAsset, system: System) -> bool:
    """Attaching a discovered asset to a system: whoever keeps that system's register entry,
    when the asset was assigned to the system's unit (the CISO's office attaches any)."""
    if not systems_policy.can_keep_inventory(user, system):
        return False
    return ciso_office(user) is not None or asset.unit_id == system.unit_id
