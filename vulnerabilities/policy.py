"""Who may see findings, set them aside, accept their risk, set deadlines, import feeds and
scanner reports, and triage the assets scans found that nobody registered."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db.models import Case, Count, Exists, OuterRef, Q, QuerySet, Sum, Value, When

from accounts import policy as accounts_policy
from accounts.models import Membership, OfficeCode
from systems import policy as systems_policy
from systems.models import System
from vulnerabilities.models import DiscoveredAsset, Finding, Scan, ScanHost, Sighting


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
    """Scans a person sees, each marked `seen_whole`. Oversight sees all, whole. Others see
    whole the scans of the systems they see and their own uploads; and in part (`seen_whole`
    False) a scan of the company's addresses that placed hosts on systems they see: what it
    found on those is theirs to read, the rest of it is the CISO's office's (`in_part`).
    One statement: the placed hosts are looked up through ScanHost's (system, scan) index."""
    if not getattr(user, "is_authenticated", False):
        return Scan.objects.none()
    if accounts_policy.reads_everything(user):
        return Scan.objects.annotate(seen_whole=Value(True))
    whole = _whole(user)
    placed = Exists(
        ScanHost.objects.filter(
            scan=OuterRef("pk"), system__in=systems_policy.visible_systems(user)
        )
    )
    return Scan.objects.annotate(
        seen_whole=Case(When(whole, then=Value(True)), default=Value(False))
    ).filter(whole | placed)


def _whole(user: Any) -> Q:
    """The scans a person who does not read everything sees whole: those of the systems they
    see, and their own uploads."""
    return Q(system__in=systems_policy.visible_systems(user)) | Q(uploaded_by=user)


def _seen_whole(user: Any, pks: list[int]) -> set[int]:
    """Which of these scans the person sees whole (for scans not read through visible_scans)."""
    if not getattr(user, "is_authenticated", False):
        return set()
    if accounts_policy.reads_everything(user):
        return set(pks)
    return set(Scan.objects.filter(_whole(user), pk__in=pks).values_list("pk", flat=True))


def sees_whole(user: Any, scan: Scan) -> bool:
    """Whether the person sees the whole scan (as read through visible_scans, or asked)."""
    whole = getattr(scan, "seen_whole", None)
    if whole is None:
        return scan.pk in _seen_whole(user, [scan.pk])
    return bool(whole)


def visible_scan_hosts(
    user: Any, scan: Scan, hosts: QuerySet[ScanHost] | None = None
) -> QuerySet[ScanHost]:
    """The scan's hosts a person sees (of `hosts`, the scan's as a list reads them): all of a
    scan they see whole; of one they see in part, those placed on the systems they see."""
    if hosts is None:
        hosts = ScanHost.objects.filter(scan=scan)
    if sees_whole(user, scan):
        return hosts
    return hosts.filter(system__in=systems_policy.visible_systems(user))


def in_part(user: Any, scans: Iterable[Scan]) -> list[Scan]:
    """The scans as the person may read them. A scan seen in part keeps only what concerns the
    systems they see: its counts are of the hosts placed on those (all placed), of what it made
    of their findings and of those it closed; what the reader skipped is the report's, and the
    file's name the uploader's, so neither is shown. Changed in memory, never saved; at most
    three queries for any number of scans, none when every one is seen whole."""
    scans = list(scans)
    unsure = [scan.pk for scan in scans if getattr(scan, "seen_whole", None) is None]
    if unsure:
        whole = _seen_whole(user, unsure)
        for scan in scans:
            if scan.pk in unsure:
                setattr(scan, "seen_whole", scan.pk in whole)  # noqa: B010 (an annotation's)
    part = {scan.pk: scan for scan in scans if not getattr(scan, "seen_whole", False)}
    if not part:
        return scans
    systems = systems_policy.visible_systems(user)
    counts: dict[int, dict[str, int]] = {pk: {} for pk in part}
    hosts = (
        ScanHost.objects.filter(scan_id__in=part, system__in=systems)
        .order_by()
        .values("scan_id")
        .annotate(
            n_hosts=Count("pk"),
            n_down=Count("pk", filter=Q(up=False)),
            n_observations=Sum("observations"),
            n_services=Sum("services"),
        )
    )
    for host in hosts:
        counts[host["scan_id"]].update(
            {
                "hosts": host["n_hosts"],
                "placed": host["n_hosts"],
                "hosts_down": host["n_down"],
                "observations": host["n_observations"] or 0,
                "services": host["n_services"] or 0,
            }
        )
    sightings = (
        Sighting.objects.filter(scan_id__in=part, finding__system__in=systems)
        .order_by()
        .values("scan_id", "outcome")
        .annotate(n=Count("pk"))
    )
    for seen in sightings:
        counts[seen["scan_id"]][seen["outcome"]] = seen["n"]
    closed = (
        Finding.objects.filter(closed_by_scan_id__in=part, system__in=systems)
        .order_by()
        .values("closed_by_scan_id")
        .annotate(n=Count("pk"))
    )
    for gone in closed:
        counts[gone["closed_by_scan_id"]]["closed"] = gone["n"]
    for pk, scan in part.items():
        scan.counts = dict(sorted(counts[pk].items()))
        scan.skipped = {}
        scan.file_name = ""
    return scans


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
