"""Reads of vulnerabilities that depend on who asks: findings lists and the morning-of question."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils.translation import gettext as _
from packageurl import PackageURL

from systems import packages
from systems import policy as systems_policy
from systems.models import Component
from vulnerabilities import matching, policy
from vulnerabilities.models import Advisory, Finding, Vulnerability


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
