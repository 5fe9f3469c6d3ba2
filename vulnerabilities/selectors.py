"""Reads of vulnerabilities that depend on who asks: findings lists, the morning-of question,
scans and the attacker's view of the company."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Count, Exists, F, Max, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from packageurl import PackageURL

from accounts import policy as accounts_policy
from systems import packages
from systems import policy as systems_policy
from systems.models import Component, System
from vulnerabilities import matching, policy
from vulnerabilities.models import (
    Advisory,
    DiscoveredAsset,
    ExposedService,
    Finding,
    Scan,
    ScanHost,
    Vulnerability,
)
from vulnerabilities.surface import RISKY_PORTS


def findings_for(user: Any) -> QuerySet[Finding]:
    """Findings a person may see, with what a list shows of each (a fixed number of queries)."""
    return policy.visible_findings(user).select_related(
        "system", "system__unit", "vulnerability", "action"
    )


def advisories_for(user: Any) -> QuerySet[Advisory]:
    """Advisories are public knowledge: every signed-in person reads them."""
    if not getattr(user, "is_authenticated", False):
        return Advisory.objects.none()
    return Advisory.objects.select_related("vulnerability")


def vulnerabilities_for(user: Any) -> QuerySet[Vulnerability]:
    if not getattr(user, "is_authenticated", False):
        return Vulnerability.objects.none()
    return Vulnerability.objects.all()


@dataclass
class Exposure:
    """The answer to "which of our systems run an affected version": the rows, one per
    system and version, and how many systems each unit has among them."""

    package: str
    vers: str
    rows: list[Any] = field(default_factory=list)
    per_unit: Counter[str] = field(default_factory=Counter)

    @property
    def system_ids(self) -> list[int]:
        return sorted({row["system_id"] for row in self.rows})


def read_question(package: str, vers: str = "") -> tuple[str, str]:
    """The package key and range asked about, or a ValidationError naming the field. A package
    is a Package URL or CPE 2.3 name (any version in it is ignored); the range a univers `vers`
    (`vers:maven/>=2.0|<2.17.1`) or its constraints alone (`>=2.0|<2.17.1`)."""
    package = package.strip()
    errors = {}
    key = scheme = ""
    if package.startswith("pkg:"):
        try:
            purl = PackageURL.from_string(package)
            key = packages.purl_key(purl.type, purl.namespace, purl.name)
            scheme = packages.SCHEME_OF_PURL_TYPE.get(purl.type.lower(), "")
        except ValueError as exc:
            errors["package"] = _("Not a valid Package URL: %(error)s") % {"error": exc}
    elif package.startswith("cpe:"):
        try:
            part, vendor, product, _version = packages.cpe_fields(packages.parse_cpe(package))
            if vendor in {"*", "-"} or product in {"*", "-"}:
                raise packages.PackageError(_("Name the CPE's vendor and product."))
            key, scheme = packages.cpe_key(part, vendor, product), "generic"
        except packages.PackageError as exc:
            errors["package"] = str(exc)
    else:
        errors["package"] = _("Give a Package URL (pkg:…) or a CPE 2.3 name (cpe:2.3:…).")
    vers = vers.strip()
    if vers and not errors:
        if not vers.startswith("vers:"):
            vers = f"vers:{scheme or 'generic'}/{vers}"
        if matching._range(vers) is None:
            errors["range"] = _("Not a version range this product reads, e.g. >=2.0|<2.17.1.")
    if errors:
        raise ValidationError(errors)
    return key, vers


def exposure(user: Any, *, package: str, vers: str = "") -> Exposure:
    """Every system the person may see that runs `package` at a version inside `vers` (any
    version when no range is given), with its owning unit and exposure."""
    key, vers = read_question(package, vers)
    answer = Exposure(package=key, vers=vers)
    rows = (
        Component.objects.current()
        .filter(package=key, system__in=systems_policy.visible_systems(user))
        .order_by("system__unit__code", "system__code", "version")
        .values(
            "system_id",
            "version",
            "scheme",
            "system__code",
            "system__name",
            "system__unit__code",
            "system__internet_facing",
            "system__handles_personal_data",
            "system__criticality",
            "system__status",
        )
        .distinct()
    )
    seen: set[int] = set()
    for row in rows.iterator(chunk_size=5000):
        if vers and not matching.affected(row["scheme"] or "generic", row["version"], vers):
            continue
        answer.rows.append(row)
        if row["system_id"] not in seen:
            seen.add(row["system_id"])
            answer.per_unit[row["system__unit__code"]] += 1
    return answer


# --- Scans and the attack surface -----------------------------------------------------------


def scans_for(user: Any) -> QuerySet[Scan]:
    """Scans a person may see, with what a list shows of each."""
    return policy.visible_scans(user).select_related("system", "uploaded_by")


def scan_hosts(scan: Scan) -> QuerySet[ScanHost]:
    """A scan's hosts, those it could not place first."""
    return scan.hosts.select_related("system").order_by(
        F("system_id").asc(nulls_first=True), "address", "ref"
    )


def assets_for(user: Any) -> QuerySet[DiscoveredAsset]:
    """Discovered assets a person may see, with their unit, system and open services counted."""
    return (
        policy.visible_assets(user)
        .select_related("unit", "system", "last_scan", "decided_by")
        .annotate(open_services=Count("services", filter=Q(services__closed_at__isnull=True)))
    )


def risky_ports_q(prefix: str = "") -> Q:
    """The services on ports that should not answer on the internet (surface.RISKY_PORTS)."""
    query = Q(pk__in=[])
    for protocol, port in RISKY_PORTS:
        query |= Q(**{f"{prefix}protocol": protocol, f"{prefix}port": port})
    return query


def exposed_services_for(user: Any) -> QuerySet[ExposedService]:
    """Services open on the company's addresses, on the systems a person sees (on discovered
    assets too, for oversight)."""
    if not getattr(user, "is_authenticated", False):
        return ExposedService.objects.none()
    services = ExposedService.objects.select_related("system", "asset", "last_scan")
    if accounts_policy.reads_everything(user):
        return services
    return services.filter(system__in=systems_policy.visible_systems(user))


@dataclass
class Coverage:
    """How much of what faces the internet the scans see: internet-facing systems scanned in
    the last `days` days out of all of them, those never scanned, systems found open on the
    internet although registered as not internet-facing, and open services on risky ports."""

    days: int
    internet_facing: int = 0
    scanned_recently: int = 0
    never_scanned: list[Any] = field(default_factory=list)
    not_registered_facing: list[Any] = field(default_factory=list)
    risky: list[Any] = field(default_factory=list)
    assets_new: int = 0
    assets_overdue: int = 0

    @property
    def share(self) -> int | None:
        """Percent of internet-facing systems scanned recently (None when there are none)."""
        if not self.internet_facing:
            return None
        return round(100 * self.scanned_recently / self.internet_facing)


def coverage(user: Any, *, days: int = 30, limit: int = 200) -> Coverage:
    """The CISO's view of the attack surface, over the systems the person sees; a fixed
    number of queries whatever the size of the company."""
    since = timezone.now() - dt.timedelta(days=days)
    today = timezone.localdate()
    systems = systems_policy.visible_systems(user).exclude(status=System.Status.RETIRED)
    hosts = ScanHost.objects.filter(system=OuterRef("pk"), scan__state=Scan.State.DONE)
    facing = systems.filter(internet_facing=True)
    answer = Coverage(days=days)
    answer.internet_facing = facing.count()
    answer.scanned_recently = facing.filter(
        Exists(hosts.filter(scan__scanned_at__gte=since))  # when it looked, not when sent
    ).count()
    answer.never_scanned = list(
        systems.filter(~Exists(hosts))
        .select_related("unit")
        .order_by("-internet_facing", "unit__code", "code")[:limit]
    )
    open_services = ExposedService.objects.filter(system=OuterRef("pk"), closed_at__isnull=True)
    answer.not_registered_facing = list(
        systems.filter(internet_facing=False)
        .filter(Exists(open_services))
        .select_related("unit")
        .order_by("unit__code", "code")[:limit]
    )
    answer.risky = list(
        exposed_services_for(user)
        .filter(closed_at__isnull=True)
        .filter(risky_ports_q())
        .order_by("address", "protocol", "port")[:limit]
    )
    assets = assets_for(user).filter(state=DiscoveredAsset.State.NEW)
    answer.assets_new = assets.count()
    answer.assets_overdue = assets.filter(due_on__lt=today).count()
    return answer


def last_scanned(system_ids: list[int]) -> dict[int, dict[str, Any]]:
    """When each system was last scanned (when the scan looked, not when it was sent), and by
    what (the latest imported scan placing a host on it): one query for any number of systems."""
    rows = (
        ScanHost.objects.filter(system_id__in=system_ids, scan__state=Scan.State.DONE)
        .values("system_id")
        .annotate(at=Max("scan__scanned_at"))
    )
    latest = {row["system_id"]: row["at"] for row in rows}
    if not latest:
        return {}
    found = (
        ScanHost.objects.filter(system_id__in=latest, scan__scanned_at__in=set(latest.values()))
        .values("system_id", "scan_id", "scan__scanned_at", "scan__tool", "scan__format")
        .order_by("system_id", "-scan_id")
    )
    answer: dict[int, dict[str, Any]] = {}
    for row in found:
        if row["scan__scanned_at"] == latest[row["system_id"]]:
            answer.setdefault(row["system_id"], dict(row))
    return answer
