"""Grype JSON reports read into scan records: one host (the image, directory or SBOM scanned)."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import IO, Any

from django.utils.translation import gettext_noop
from django.utils.translation import gettext_noop as N_

from vulnerabilities.feeds.common import JsonWalk, Utf8Reader, listed, mapping, place, text, unique
from vulnerabilities.feeds.common import timestamp as read_timestamp
from vulnerabilities.records import FeedError
from vulnerabilities.scanners.jsonstream import (
    Seen,
    build,
    clip,
    cvss_vector,
    digest,
    events,
    guarded,
    mapping_of,
    not_this_format,
    package_from_purl,
    package_key,
    purl_type_of,
    refuse_other,
    required,
    result_id,
    score,
    severity,
    skip,
    vulnerability_id,
)
from vulnerabilities.scanners.records import GRYPE, Host, Observation, Record, ReportInfo, Tally

_TOP_KEYS = ("source", "distro", "descriptor")


def read(stream: IO[bytes], *, where: str, tally: Tally) -> Iterator[Record]:
    """The report, its one host, then each match.

    Grype writes `source` and `descriptor` after `matches`: a first pass reads them and the
    package types of the matches, the second hands out the matches one at a time. The same
    vulnerability on the same package and version found at two paths (a library copied twice
    in an image) is one observation: the finding is about the package on the host.
    """
    return guarded(_read(stream, where, tally), where)


def _read(stream: IO[bytes], where: str, tally: Tally) -> Iterator[Record]:
    refuse_other(stream, where, GRYPE, "Grype")
    top, types = _first_pass(stream, where)
    descriptor = mapping(top.get("descriptor") or {}, "descriptor", where)
    if not isinstance(top.get("matches_seen"), bool) or descriptor.get("name") not in {
        "grype",
        None,
    }:
        raise not_this_format(stream, where, "Grype")
    if "source" not in top and not descriptor:
        raise not_this_format(stream, where, "Grype")
    version = text(descriptor, "version", where)
    tool = f"Grype {version}" if version and not version.startswith("[") else "Grype"
    started = _timestamp(descriptor, where)
    yield ReportInfo(format=GRYPE, tool=tool, started_at=started)
    distro = mapping(top.get("distro") or {}, "distro", where)
    family = text(distro, "name", where).lower()
    ecosystems = {purl_type_of(kind, family) or kind for kind in types if kind}
    ecosystems.discard("binary")
    os_type = purl_type_of(family)
    if os_type:
        ecosystems.add(os_type)
    host = _host(mapping(top.get("source") or {}, "source", where), where)
    host.ecosystems = frozenset(ecosystems)
    yield host
    stream.seek(0)
    walk = JsonWalk(Utf8Reader(stream, where=where), where=where, array_key="matches")
    seen = Seen()
    for index, item in enumerate(walk.items()):
        at = place(where, f"matches[{index}]")
        found = _match(mapping_of(item, N_("A match"), at), host.ref, family, at, tally)
        if found is None:
            continue
        if seen.first(found.package, found.version, found.names[0]):
            yield found
        else:
            tally.skip(gettext_noop("same vulnerability on another path of the same package"))


def _first_pass(stream: IO[bytes], where: str) -> tuple[dict[str, Any], set[str]]:
    top: dict[str, Any] = {}
    types: set[str] = set()
    parsed = events(stream, where)
    _prefix, first, _value = next(parsed)
    if first != "start_map":
        raise not_this_format(stream, where, "Grype")
    for prefix, event, value in parsed:
        if prefix in _TOP_KEYS and event in {"start_map", "start_array"}:
            top[prefix] = build(parsed, event)
        elif prefix == "matches" and event == "start_array":
            top["matches_seen"] = True
        elif prefix == "matches.item.artifact.type" and isinstance(value, str):
            types.add(value.lower())
        elif prefix == "matches.item.artifact.purl" and isinstance(value, str) and value:
            purl_type = package_from_purl(value).removeprefix("pkg:").split("/", 1)[0]
            if purl_type:
                types.add(purl_type)
        elif "." not in prefix and prefix and prefix != "matches" and event == "start_map":
            skip(parsed, event)
    return top, types


def _timestamp(descriptor: dict[str, Any], where: str) -> Any:
    try:
        return read_timestamp(descriptor, "timestamp", where)
    except FeedError:
        return None  # Grype's own snapshots write "" or a placeholder


def _host(source: dict[str, Any], where: str) -> Host:
    target = source.get("target")
    kind = text(source, "type", where)
    digests: list[str] = []
    name = ""
    if isinstance(target, dict):
        name = text(target, "userInput", where)
        digests.append(digest(target.get("manifestDigest")))
        digests.append(digest(target.get("imageID")))
        digests.extend(digest(value) for value in listed(target, "repoDigests", where))
        if not name:
            tags = [tag for tag in listed(target, "tags", where) if isinstance(tag, str)]
            name = tags[0] if tags else ""
    elif isinstance(target, str):
        name = target
    name = name or kind or "grype"
    return Host(ref=name, target=name, image_digests=unique(digests))


def _match(
    item: dict[str, Any], host: str, family: str, at: str, tally: Tally
) -> Observation | None:
    vulnerability = required(item, "vulnerability", at)
    main = result_id(vulnerability, "id", place(at, "vulnerability"))
    at = place(at, main)
    related = [
        text(mapping(entry, "relatedVulnerabilities", at), "id", at)
        for entry in listed(item, "relatedVulnerabilities", at)
    ]
    names = unique([vulnerability_id(name) for name in [main, *related] if name])
    artifact = required(item, "artifact", at)
    purl = text(artifact, "purl", at)
    package = package_from_purl(purl) if purl else ""
    if not package:
        name = text(artifact, "name", at, required=True)
        package = package_key(text(artifact, "type", at) or "generic", name, family)
    fix = vulnerability.get("fix")
    versions = listed(fix, "versions", at) if isinstance(fix, dict) else []
    vector, cvss_score = _cvss(vulnerability, item, at)
    description = text(vulnerability, "description", at)
    for entry in listed(item, "relatedVulnerabilities", at):
        if not description and isinstance(entry, dict):
            description = text(entry, "description", at)
    level = severity(vulnerability.get("severity"))
    return Observation(
        host=host,
        names=names,
        title=clip(description.strip().split("\n", 1)[0], 200) or names[0],
        severity=level,
        package=package,
        version=text(artifact, "version", at),
        fixed_in=", ".join(value for value in versions if isinstance(value, str)),
        cvss_vector=vector,
        cvss_score=cvss_score,
        detail=clip(description),
    )


def _cvss(
    vulnerability: dict[str, Any], item: dict[str, Any], at: str
) -> tuple[str, Decimal | None]:
    """The newest CVSS vector of the match's own record, else of a related record (NVD)."""
    records = [vulnerability] + [
        entry for entry in listed(item, "relatedVulnerabilities", at) if isinstance(entry, dict)
    ]
    for record in records:
        best: tuple[str, Decimal | None] = ("", None)
        for entry in listed(record, "cvss", at):
            if not isinstance(entry, dict):
                continue
            vector = cvss_vector(entry.get("vector"))
            if vector and vector > best[0]:
                metrics = entry.get("metrics")
                base = metrics.get("baseScore") if isinstance(metrics, dict) else None
                best = (vector, score(base))
        if best[0]:
            return best
    return "", None
