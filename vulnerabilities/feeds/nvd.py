"""NVD CVE API 2.0 responses and feed files read into AdvisoryRecords with CPE ranges."""

from __future__ import annotations

import re
from typing import Any, BinaryIO

from django.utils.translation import gettext as _
from univers.version_range import VersionRange

from systems.packages import PackageError, cpe_fields, cpe_key, parse_cpe
from vulnerabilities.feeds.common import (
    JsonWalk,
    Utf8Reader,
    listed,
    mapping,
    place,
    record_place,
    text,
    timestamp,
    unique,
)
from vulnerabilities.records import AdvisoryRecord, AffectedPackage, FeedError, ReadReport

# NVD's bound fields and the vers comparator each one means, lower bounds first.
BOUNDS = (
    ("versionStartIncluding", ">="),
    ("versionStartExcluding", ">"),
    ("versionEndIncluding", "<="),
    ("versionEndExcluding", "<"),
)
METRICS = ("cvssMetricV40", "cvssMetricV31", "cvssMetricV30")
ANY_VERSION = {"*", "-", ""}
_ESCAPED = re.compile(r"\\(.)")


def read_nvd(stream: BinaryIO, *, name: str = "") -> ReadReport:
    """An NVD API 2.0 response or feed file ({"vulnerabilities": [{"cve": …}, …]}), or one
    bare {"cve": …} or CVE object. FeedError, and nothing read, for anything not so."""
    report = ReadReport()
    walk = JsonWalk(Utf8Reader(stream, where=name), where=name, array_key="vulnerabilities")
    for index, item in enumerate(walk.items()):
        here = place(name, record_place(index))
        cve = mapping(mapping(item, _("A vulnerability"), here).get("cve"), "“cve”", here)
        report.advisories.append(_advisory(cve, index, name))
    if walk.top_is_list:
        raise FeedError(_("This is not an NVD CVE file: it is a list."), where=name)
    if not walk.found_list:
        if isinstance(walk.top.get("cve"), dict):
            report.advisories.append(_advisory(walk.top["cve"], None, name))
        elif str(walk.top.get("id", "")).startswith("CVE-"):
            report.advisories.append(_advisory(walk.top, None, name))
        else:
            raise FeedError(
                _("This is not an NVD CVE file: it has no “vulnerabilities” list."), where=name
            )
    return report


def _advisory(cve: dict[str, Any], index: int | None, where: str) -> AdvisoryRecord:
    source_id = text(cve, "id", place(where, record_place(index)), required=True)
    here = place(where, record_place(index, source_id))
    if not source_id.startswith("CVE-"):
        raise FeedError(_("“%(id)s” is not a CVE id.") % {"id": source_id}, where=here)
    summary = ""
    for description in listed(cve, "descriptions", here):
        if isinstance(description, dict) and description.get("lang") == "en":
            summary = text(description, "value", here).strip()
            break
    modified = timestamp(cve, "lastModified", here)
    references = [
        ref.get("url") for ref in listed(cve, "references", here) if isinstance(ref, dict)
    ]
    return AdvisoryRecord(
        source="nvd",
        source_id=source_id,
        aliases=(),
        summary=summary,
        published=timestamp(cve, "published", here),
        modified=modified,
        withdrawn=modified if cve.get("vulnStatus") == "Rejected" else None,
        cvss_vectors=_cvss_vectors(cve, here),
        affected=_affected(cve, here),
        references=unique([url for url in references if isinstance(url, str)]),
    )


def _cvss_vectors(cve: dict[str, Any], where: str) -> tuple[str, ...]:
    """One vector per CVSS version (4.0, 3.1, 3.0): NVD's own ("Primary") when there is one."""
    metrics = mapping(cve.get("metrics", {}), "“metrics”", where)
    vectors = []
    for version in METRICS:
        scored = [m for m in listed(metrics, version, where) if isinstance(m, dict)]
        scored.sort(key=lambda metric: metric.get("type") != "Primary")
        for metric in scored:
            data = metric.get("cvssData")
            vector = data.get("vectorString") if isinstance(data, dict) else None
            if isinstance(vector, str) and vector.startswith("CVSS:"):
                vectors.append(vector)
                break
    return unique(vectors)


def _affected(cve: dict[str, Any], where: str) -> tuple[AffectedPackage, ...]:
    """Every vulnerable CPE match; in an AND configuration, with the platforms (the CPEs not
    vulnerable themselves) one of which must also be present. Repeats collapse to one."""
    found: dict[tuple[Any, ...], AffectedPackage] = {}
    for value in listed(cve, "configurations", where):
        config = mapping(value, _("A configuration"), where)
        nodes = [mapping(node, _("A node"), where) for node in listed(config, "nodes", where)]
        matches = [
            [mapping(m, _("A CPE match"), where) for m in listed(node, "cpeMatch", where)]
            for node in nodes
        ]
        for position, node in enumerate(nodes):
            if config.get("operator") == "AND" and len(nodes) > 1:
                # A negated node says what must be absent: not a platform to require.
                others = [
                    match
                    for i, other in enumerate(nodes)
                    if i != position and not other.get("negate")
                    for match in matches[i]
                ]
            elif node.get("operator") == "AND":
                others = matches[position]
            else:
                others = []
            platforms = [m for m in others if m.get("vulnerable") is False]
            for match in matches[position]:
                if match.get("vulnerable") is True:
                    package = _package(match, platforms, where)
                    found.setdefault(_identity(package), package)
    return tuple(found.values())


def _identity(package: AffectedPackage) -> tuple[Any, ...]:
    # The rule names the CPE as written (editions, target software); two CPEs that differ
    # only there give the same package and range, which is one thing to match.
    return (package.package, package.vers, package.review_only, package.platforms, package.fixed)


def _cpe(criteria: str, where: str) -> tuple[str, str, str, str]:
    try:
        part, vendor, product, version = cpe_fields(parse_cpe(criteria))
    except PackageError as exc:
        raise FeedError(str(exc), where=where) from None
    if vendor in ANY_VERSION or product in ANY_VERSION:
        raise FeedError(
            _("The CPE “%(cpe)s” names no vendor or product.") % {"cpe": criteria}, where=where
        )
    return part, vendor, product, _ESCAPED.sub(r"\1", version)


def _package(match: dict[str, Any], platforms: list[dict[str, Any]], where: str) -> AffectedPackage:
    criteria = text(match, "criteria", where, required=True)
    part, vendor, product, version = _cpe(criteria, where)
    bounds = [(field, operator, text(match, field, where)) for field, operator in BOUNDS]
    bounds = [(field, operator, value) for field, operator, value in bounds if value]
    if bounds:
        constraints = [f"{operator}{value}" for _field, operator, value in bounds]
        said = ", ".join(f"{field} {value}" for field, _operator, value in bounds)
    elif version not in ANY_VERSION:
        constraints = [version]
        said = f"version {version}"
    else:
        constraints = []
        said = "every version"
    written = sorted({text(m, "criteria", where, required=True) for m in platforms})
    platform_keys = tuple(sorted({cpe_key(*_cpe(cpe, where)[:3]) for cpe in written}))
    rule = f"NVD CPE {criteria}: {said}"
    if written:
        rule += "; with one of " + ", ".join(written)
    vers = f"vers:generic/{'|'.join(constraints)}" if constraints else ""
    if vers and not _readable(vers):
        # NVD versions are free text ("r12", "5.1 update 3"): one that no rule compares is
        # for a person to review, not a reason to refuse the whole feed.
        rule += " (version not comparable: for review)"
        vers = ""
    return AffectedPackage(
        package=cpe_key(part, vendor, product),
        scheme="generic",
        vers=vers,
        rule=rule,
        fixed=tuple(value for field, _op, value in bounds if field == "versionEndExcluding"),
        review_only=not vers,
        platforms=platform_keys,
    )


def _readable(vers: str) -> bool:
    try:
        VersionRange.from_string(vers)
    except Exception:  # univers raises several types for a range it cannot read
        return False
    return True
