"""Trivy JSON reports (image, file system, repository and Kubernetes) read into scan records."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import IO, Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django.utils.translation import gettext_noop as N_

from vulnerabilities.feeds.common import (
    listed,
    mapping,
    place,
    text,
    timestamp,
    unique,
)
from vulnerabilities.records import FeedError
from vulnerabilities.scanners.jsonstream import (
    CLOSING,
    OPENING,
    Event,
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
    result_id,
    score,
    severity,
    skip,
    vulnerability_id,
)
from vulnerabilities.scanners.records import TRIVY, Host, Observation, Record, ReportInfo, Tally

# --- Trivy ------------------------------------------------------------------------------------

FINDING_LISTS = ("Vulnerabilities", "Misconfigurations", "Secrets", "ExperimentalModifiedFindings")
K8S_CONTAINERS = ("Resources", "Vulnerabilities", "Misconfigurations")
SCANNED_CLASSES = ("os-pkgs", "lang-pkgs")


@dataclass
class _Result:
    target: str = ""
    klass: str = ""
    type: str = ""


@dataclass
class _Subject:
    """A host as the first pass finds it: an artifact, or one Kubernetes resource."""

    ref: str
    target: str
    digests: list[str] = field(default_factory=list)
    results: list[_Result] = field(default_factory=list)
    os_family: str = ""


@dataclass
class _Header:
    top: dict[str, Any] = field(default_factory=dict)
    version: str = ""
    subjects: dict[str, _Subject] = field(default_factory=dict)
    # (container, resource index) -> subject ref, for Kubernetes reports
    resource_refs: dict[tuple[str, int], str] = field(default_factory=dict)
    # (container, resource index, result index) -> result
    results: dict[tuple[str, int, int], _Result] = field(default_factory=dict)


def read(stream: IO[bytes], *, where: str, tally: Tally) -> Iterator[Record]:
    """The report, then each artifact or Kubernetes resource and what Trivy found on it.

    Read twice: first the shape (which hosts, which results of which package types), then the
    findings one at a time, so that a result with any number of them is never one object.
    """
    return guarded(_read(stream, where, tally), where)


def _read(stream: IO[bytes], where: str, tally: Tally) -> Iterator[Record]:
    refuse_other(stream, where, TRIVY, "Trivy")
    header = _first_pass(stream, where)
    top = header.top
    schema = top.get("SchemaVersion")
    kubernetes = "ClusterName" in top
    if schema is None and not kubernetes:
        raise not_this_format(stream, where, "Trivy")
    if schema is not None and schema != 2:
        raise FeedError(
            _("Trivy JSON schema version %(version)s is not supported (only 2).")
            % {"version": schema},
            where=where,
        )
    tool = f"Trivy {header.version}" if header.version else "Trivy"
    yield ReportInfo(format=TRIVY, tool=tool, started_at=timestamp(top, "CreatedAt", where))
    for subject in header.subjects.values():
        ecosystems = set()
        for result in subject.results:
            if result.klass in SCANNED_CLASSES and result.type:
                kind = purl_type_of(result.type) or result.type.lower()
                ecosystems.add(kind)
        yield Host(
            ref=subject.ref,
            target=subject.target,
            image_digests=unique(subject.digests),
            ecosystems=frozenset(ecosystems),
        )
    yield from _findings(stream, where, header, kubernetes, tally)


def _first_pass(stream: IO[bytes], where: str) -> _Header:
    parsed = events(stream, where)
    _prefix, first, _value = next(parsed)
    if first != "start_map":
        raise not_this_format(stream, where, "Trivy")
    shape = _Shape(where, parsed)
    for prefix, event, value in parsed:
        shape.note(parsed, prefix, event, value)
    header = shape.header
    if "Metadata" in header.top:
        mapping(header.top["Metadata"], "Metadata", where)
    if "ClusterName" not in header.top:
        name = header.top.get("ArtifactName")
        artifact = name if isinstance(name, str) and name else "artifact"
        subject = _Subject(ref=artifact, target=artifact)
        subject.digests = _metadata_digests(header.top.get("Metadata") or {})
        subject.results = [result for key, result in sorted(header.results.items()) if not key[0]]
        header.subjects[artifact] = subject
    return header


class _Shape:
    """The first pass: the report's top-level fields, its hosts and the type of each result,
    from the parser's events (the findings themselves are passed over)."""

    def __init__(self, where: str, parsed: Iterator[Event]) -> None:
        self.where = where
        self.parsed = parsed
        self.header = _Header()
        self.resources: dict[str, int] = {}  # container -> index of its current resource
        self.results: dict[tuple[str, int], int] = {}  # resource -> index of its current result
        self.fields: dict[str, Any] = {}  # of the resource being read

    def note(self, parsed: Iterator[Event], prefix: str, event: str, value: Any) -> None:
        parts = prefix.split(".") if prefix else []
        if len(parts) == 1 and event not in CLOSING and event != "map_key":
            self._top(parsed, parts[0], event, value)
        elif prefix == "Trivy.Version" and isinstance(value, str):
            self.header.version = value
        elif parts[:2] == ["Results", "item"]:
            self._result("", 0, parts[2:], event, value)
        elif len(parts) >= 2 and parts[0] in K8S_CONTAINERS and parts[1] == "item":
            self._resource(parsed, parts, event, value)

    def _top(self, parsed: Iterator[Event], key: str, event: str, value: Any) -> None:
        if key == "Metadata" and event == "start_map":
            self.header.top[key] = build(parsed, event)
        elif event in OPENING and key not in {"Results", "Trivy", *K8S_CONTAINERS}:
            skip(parsed, event)
        elif event not in OPENING:
            self.header.top[key] = value

    def _resource(self, parsed: Iterator[Event], parts: list[str], event: str, value: Any) -> None:
        container = parts[0]
        depth = len(parts)
        if depth == 2 and event == "start_map":
            self.resources[container] = self.resources.get(container, -1) + 1
            self.fields = {}
            return
        index = self.resources.get(container, 0)
        if depth == 2 and event == "end_map":
            _close_resource(self.header, container, index, self.fields, self.where)
        elif depth == 3 and parts[2] in {"Namespace", "Kind", "Name"} and event == "string":
            self.fields[parts[2]] = value
        elif depth == 3 and parts[2] == "Metadata" and event in OPENING:
            self.fields["Metadata"] = build(parsed, event)
        elif parts[2:4] == ["Results", "item"]:
            self._result(container, index, parts[4:], event, value)

    def _result(self, container: str, index: int, rest: list[str], event: str, value: Any) -> None:
        resource = (container, index)
        if not rest and event == "start_map":
            self.results[resource] = self.results.get(resource, -1) + 1
            self.header.results[(container, index, self.results[resource])] = _Result()
        elif len(rest) == 1 and event == "start_array":
            skip(self.parsed, event)  # the findings: read in the second pass
        elif len(rest) == 1 and event == "string" and rest[0] in _RESULT_FIELDS:
            result = self.header.results.get((container, index, self.results.get(resource, 0)))
            if result is not None:
                setattr(result, _RESULT_FIELDS[rest[0]], value)


_RESULT_FIELDS = {"Target": "target", "Class": "klass", "Type": "type"}


def _close_resource(
    header: _Header, container: str, index: int, fields: dict[str, Any], where: str
) -> None:
    at = place(where, f"{container}[{index}]")
    kind = fields.get("Kind")
    name = fields.get("Name")
    if not kind or not name:
        missing = "Kind" if not kind else "Name"
        raise FeedError(_("The field “%(key)s” is missing.") % {"key": missing}, where=at)
    namespace = fields.get("Namespace") or ""
    ref = f"{namespace}/{kind}/{name}"
    subject = header.subjects.setdefault(ref, _Subject(ref=ref, target=ref))
    metadata = fields.get("Metadata")
    for item in metadata if isinstance(metadata, list) else [metadata]:
        if isinstance(item, dict):
            subject.digests.extend(_metadata_digests(item))
    header.resource_refs[(container, index)] = ref
    position = 0
    while (container, index, position) in header.results:
        subject.results.append(header.results[(container, index, position)])
        position += 1


def _metadata_digests(metadata: dict[str, Any]) -> list[str]:
    found = [digest(value) for value in metadata.get("RepoDigests") or [] if isinstance(value, str)]
    found.append(digest(metadata.get("ImageID")))
    return [value for value in found if value]


def _findings(
    stream: IO[bytes], where: str, header: _Header, kubernetes: bool, tally: Tally
) -> Iterator[Observation]:
    parsed = events(stream, where)
    counters: dict[str, int] = {}
    result_counters: dict[tuple[str, int], int] = {}
    item_counters: dict[str, int] = {}
    seen = Seen()
    artifact = next(iter(header.subjects), "")
    for prefix, event, _value in parsed:
        if event != "start_map":
            continue
        parts = prefix.split(".")
        container = ""
        if kubernetes and len(parts) >= 2 and parts[0] in K8S_CONTAINERS and parts[1] == "item":
            container = parts[0]
            if len(parts) == 2:
                counters[container] = counters.get(container, -1) + 1
                continue
            parts = parts[2:]
        elif kubernetes:
            continue
        if parts[:2] != ["Results", "item"]:
            continue
        index = counters.get(container, 0)
        if len(parts) == 2:
            result_counters[(container, index)] = result_counters.get((container, index), -1) + 1
            item_counters.clear()
            continue
        if len(parts) != 4 or parts[2] not in FINDING_LISTS or parts[3] != "item":
            continue
        listing = parts[2]
        item_counters[listing] = item_counters.get(listing, -1) + 1
        position = result_counters.get((container, index), 0)
        result = header.results.get((container, index, position), _Result())
        host = header.resource_refs.get((container, index), "") if container else artifact
        at = place(
            where,
            (f"{container}[{index}]." if container else "")
            + f"Results[{position}].{listing}[{item_counters[listing]}]",
        )
        item = mapping_of(build(parsed, event), N_("A finding"), at)
        found = _finding(
            item, listing=listing, result=result, host=host, header=header, at=at, tally=tally
        )
        if found is None:
            continue
        key = (found.host, found.package, found.version, found.names[0], str(found.affected))
        if seen.first(*key):
            yield found
        else:
            tally.skip(gettext_noop("same finding again on the same package"))


def _finding(
    item: dict[str, Any],
    *,
    listing: str,
    result: _Result,
    host: str,
    header: _Header,
    at: str,
    tally: Tally,
) -> Observation | None:
    if listing == "Vulnerabilities":
        return _vulnerability(
            item, result=result, host=host, header=header, at=at, tally=tally, affected=True
        )
    if listing == "Misconfigurations":
        return _misconfiguration(item, result, host, at, tally)
    if listing == "Secrets":
        return _secret(item, result, host, at, tally)
    # A finding VEX (or an ignore file) took out of the report, shown with --show-suppressed.
    kind = text(item, "Type", at)
    status = text(item, "Status", at)
    inner = mapping(item.get("Finding") or {}, "Finding", at)
    if kind == "vulnerability" and status in {"not_affected", "fixed"}:
        return _vulnerability(
            inner, result=result, host=host, header=header, at=at, tally=tally, affected=False
        )
    tally.skip(gettext_noop("finding suppressed without a VEX statement"))
    return None


def _vulnerability(
    item: dict[str, Any],
    *,
    result: _Result,
    host: str,
    header: _Header,
    at: str,
    tally: Tally,
    affected: bool,
) -> Observation | None:
    main = result_id(item, "VulnerabilityID", at)
    names = unique(
        [vulnerability_id(main)]
        + [vulnerability_id(v) for v in listed(item, "VendorIDs", at) if isinstance(v, str)]
    )
    at = place(at, main)
    identifier = item.get("PkgIdentifier")
    purl = text(identifier, "PURL", at) if isinstance(identifier, dict) else ""
    package = package_from_purl(purl) if purl else ""
    if not package:
        name = text(item, "PkgName", at, required=True)
        family = _os_family(header, result)
        package = package_key(result.type or "generic", name, family)
    title = text(item, "Title", at)
    description = text(item, "Description", at)
    vector, cvss_score = _trivy_cvss(item, at)
    if text(item, "Status", at) == "not_affected":
        affected = False
    return Observation(
        host=host,
        names=names,
        title=title or clip(description.strip().split("\n", 1)[0], 200) or names[0],
        severity=severity(item.get("Severity")),
        package=package,
        version=text(item, "InstalledVersion", at),
        fixed_in=text(item, "FixedVersion", at),
        cvss_vector=vector,
        cvss_score=cvss_score,
        detail=clip(description),
        affected=affected,
    )


def _os_family(header: _Header, result: _Result) -> str:
    if result.klass == "os-pkgs":
        return result.type
    metadata = header.top.get("Metadata")
    os_info = metadata.get("OS") if isinstance(metadata, dict) else None
    family = os_info.get("Family") if isinstance(os_info, dict) else ""
    return family if isinstance(family, str) else ""


def _trivy_cvss(item: dict[str, Any], at: str) -> tuple[str, Decimal | None]:
    cvss = item.get("CVSS")
    if not isinstance(cvss, dict):
        return "", None
    source = text(item, "SeveritySource", at)
    order = ["nvd", source, *cvss]
    for name in unique(order):
        entry = cvss.get(name)
        if not isinstance(entry, dict):
            continue
        for vector_key, score_key in (("V40Vector", "V40Score"), ("V3Vector", "V3Score")):
            vector = cvss_vector(entry.get(vector_key))
            if vector:
                return vector, score(entry.get(score_key))
    return "", None


def _misconfiguration(
    item: dict[str, Any], result: _Result, host: str, at: str, tally: Tally
) -> Observation | None:
    if text(item, "Status", at) != "FAIL":
        tally.skip(gettext_noop("configuration check that did not fail"))
        return None
    names = unique([text(item, "ID", at), text(item, "AVDID", at)])
    if not names:
        raise FeedError(_("The field “%(key)s” is missing.") % {"key": "ID"}, where=at)
    at = place(at, names[0])
    message = text(item, "Message", at)
    description = text(item, "Description", at)
    detail = "\n\n".join(part for part in (message, description) if part)
    return Observation(
        host=host,
        names=names,
        title=text(item, "Title", at) or names[0],
        severity=severity(item.get("Severity")),
        package=f"file:{result.target}",
        detail=clip(detail),
    )


def _secret(
    item: dict[str, Any], result: _Result, host: str, at: str, tally: Tally
) -> Observation | None:
    rule = result_id(item, "RuleID", at)
    at = place(at, rule)
    title = text(item, "Title", at) or rule
    category = text(item, "Category", at)
    line = item.get("StartLine")
    # Never the secret itself (Match, Code): only what kind of secret and where.
    detail = _("%(category)s secret in %(target)s") % {
        "category": category or title,
        "target": result.target,
    }
    if isinstance(line, int) and not isinstance(line, bool):
        detail += " " + _("(line %(line)d)") % {"line": line}
    return Observation(
        host=host,
        names=(rule,),
        title=title,
        severity=severity(item.get("Severity")),
        package=f"file:{result.target}",
        detail=detail,
    )
