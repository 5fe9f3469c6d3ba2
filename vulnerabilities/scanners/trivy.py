"""Trivy JSON reports (image, file system, repository and Kubernetes) read into scan records."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import IO, Any

import ijson
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop as N_
from packageurl import PackageURL

from systems.packages import purl_key
from vulnerabilities.feeds.common import (
    Utf8Reader,
    _json_error,
    listed,
    mapping,
    place,
    text,
    timestamp,
    unique,
)
from vulnerabilities.records import FeedError
from vulnerabilities.scanners.records import TRIVY, Host, Observation, Record, ReportInfo, Tally

# --- what the JSON readers of this package share ----------------------------------------------

Event = tuple[str, str, Any]
DETAIL_LIMIT = 500
_OPEN = {"start_map", "start_array"}
_CLOSE = {"end_map", "end_array"}

# Scanner package types (Trivy, Grype, Syft) -> Package URL type; OS families -> (type, namespace
# given by the family itself).
PURL_TYPE_OF = {
    "pip": "pypi",
    "pipenv": "pypi",
    "poetry": "pypi",
    "uv": "pypi",
    "python-pkg": "pypi",
    "python": "pypi",
    "npm": "npm",
    "yarn": "npm",
    "pnpm": "npm",
    "bun": "npm",
    "node-pkg": "npm",
    "gomod": "golang",
    "gobinary": "golang",
    "go-module": "golang",
    "jar": "maven",
    "pom": "maven",
    "gradle": "maven",
    "sbt": "maven",
    "java-archive": "maven",
    "cargo": "cargo",
    "rust-binary": "cargo",
    "rust-crate": "cargo",
    "bundler": "gem",
    "gemspec": "gem",
    "gem": "gem",
    "nuget": "nuget",
    "dotnet-core": "nuget",
    "dotnet-deps": "nuget",
    "packages-props": "nuget",
    "dotnet": "nuget",
    "composer": "composer",
    "composer-vendor": "composer",
    "php-composer": "composer",
    "hex": "hex",
    "mix-lock": "hex",
    "conan": "conan",
    "deb": "deb",
    "rpm": "rpm",
    "apk": "apk",
}
OS_PURL_TYPE = {
    "debian": "deb",
    "ubuntu": "deb",
    "alpine": "apk",
    "wolfi": "apk",
    "chainguard": "apk",
    "redhat": "rpm",
    "centos": "rpm",
    "rocky": "rpm",
    "alma": "rpm",
    "almalinux": "rpm",
    "amazon": "rpm",
    "oracle": "rpm",
    "fedora": "rpm",
    "photon": "rpm",
    "suse linux enterprise server": "rpm",
    "opensuse.leap": "rpm",
    "opensuse.tumbleweed": "rpm",
    "opensuse": "rpm",
    "sles": "rpm",
    "cbl-mariner": "rpm",
    "azurelinux": "rpm",
}
SEVERITIES = {
    "critical": "critical",
    "high": "high",
    "important": "high",
    "medium": "medium",
    "moderate": "medium",
    "low": "low",
    "negligible": "low",
    "none": "none",
    "info": "none",
    "informational": "none",
    "unknown": "unknown",
}
# How people write the formats' names, for messages.
FORMAT_NAMES = {
    "trivy": "Trivy",
    "grype": "Grype",
    "nessus": "Nessus",
    "openvas": "OpenVAS",
    "sarif": "SARIF",
    "cyclonedx": "CycloneDX",
    "nmap": "nmap",
    "masscan": "masscan",
}
_DIGEST = re.compile(r"sha256:[0-9a-fA-F]{64}")
_TENTHS = Decimal("0.1")


def events(stream: IO[bytes], where: str) -> Iterator[Event]:
    """The ijson events of a UTF-8 JSON file from its start; FeedError when empty or not UTF-8.
    The parser's own errors (broken, cut short) surface where the events are read: run the
    reader inside `guarded`."""
    stream.seek(0)
    head = stream.read(64 * 1024)
    if not head.strip():
        raise FeedError(_("The file is empty."), where=where)
    parsed: Iterator[Event] = ijson.parse(
        Utf8Reader(stream, where=where, head=head), use_float=True
    )
    return parsed


def guarded(records: Iterator[Record], where: str) -> Iterator[Record]:
    """The records, with the JSON parser's errors turned into FeedError naming the file."""
    try:
        yield from records
    except (ijson.JSONError, ijson.IncompleteJSONError) as exc:
        raise _json_error(exc, where) from None


def build(stream: Iterator[Event], opening: str) -> Any:
    """The whole value that begins with the `opening` event just read."""
    root: Any = {} if opening == "start_map" else []
    stack: list[Any] = [root]
    key: Any = None
    for _prefix, event, value in stream:
        if event == "map_key":
            key = value
            continue
        if event in _CLOSE:
            stack.pop()
            if not stack:
                return root
            continue
        item = {} if event == "start_map" else [] if event == "start_array" else value
        container = stack[-1]
        if type(container) is dict:
            container[key] = item
        else:
            container.append(item)
        if event in _OPEN:
            stack.append(item)
    return root


def skip(stream: Iterator[Event], opening: str) -> None:
    """Reads past the value that begins with the `opening` event, building nothing."""
    if opening not in _OPEN:
        return
    depth = 1
    for _prefix, event, _value in stream:
        if event in _OPEN:
            depth += 1
        elif event in _CLOSE:
            depth -= 1
            if depth == 0:
                return


def not_this_format(stream: IO[bytes], where: str, expected: str) -> FeedError:
    """The error for a file that is not `expected`, naming the format it looks like."""
    from vulnerabilities.scanners.detect import detect  # detect imports the readers

    stream.seek(0)
    found = detect(stream.read(64 * 1024))
    if found and FORMAT_NAMES.get(found, found) != expected:
        return FeedError(
            _("This is not a %(expected)s report: it looks like %(found)s output.")
            % {"expected": expected, "found": FORMAT_NAMES.get(found, found)},
            where=where,
        )
    return FeedError(_("This is not a %(expected)s report.") % {"expected": expected}, where=where)


def refuse_other(stream: IO[bytes], where: str, expected: str, label: str) -> None:
    """FeedError when the file's first bytes show it is another format than `expected`."""
    from vulnerabilities.scanners.detect import detect  # detect imports the readers

    stream.seek(0)
    found = detect(stream.read(64 * 1024))
    stream.seek(0)
    if found is not None and found != expected:
        raise not_this_format(stream, where, label)


def mapping_of(value: Any, what: str, at: str) -> dict[str, Any]:
    """`value` if it is a JSON object, else FeedError; `what` (a gettext_noop msgid) is
    translated only then, so that reading a million items costs no translation."""
    if type(value) is dict:
        return value
    return mapping(value, _(what), at)


def required(data: dict[str, Any], key: str, at: str) -> dict[str, Any]:
    """A JSON object field that must be there (FeedError naming it when missing)."""
    if data.get(key) is None:
        raise FeedError(_("The field “%(key)s” is missing.") % {"key": key}, where=at)
    return mapping(data[key], key, at)


def severity(value: Any) -> str:
    """A scanner's severity word as one of the product's severities ("unknown" otherwise)."""
    if isinstance(value, str):
        return SEVERITIES.get(value.strip().lower(), "unknown")
    return "unknown"


def severity_of_score(score: Decimal | None) -> str:
    """The CVSS qualitative band of a base score."""
    if score is None:
        return "unknown"
    if score >= 9:
        return "critical"
    if score >= 7:
        return "high"
    if score >= 4:
        return "medium"
    return "low" if score > 0 else "none"


def score(value: Any) -> Decimal | None:
    """A CVSS score with one decimal place, or None when there is none to read."""
    if value is None or isinstance(value, bool):
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return None
    if not number.is_finite() or not 0 <= number <= 10:
        return None
    return number.quantize(_TENTHS)


def cvss_vector(value: Any, method: str = "") -> str:
    """A "CVSS:3.x/…" or "CVSS:4.0/…" vector; a bare v3 vector gets the prefix `method` says
    (CycloneDX CVSSv3 / CVSSv31 / CVSSv4); anything else (v2) is ""."""
    if not isinstance(value, str) or not value.strip():
        return ""
    vector = value.strip()
    if vector.startswith(("CVSS:3.0/", "CVSS:3.1/", "CVSS:4.0/")):
        return vector
    if vector.startswith("CVSS:"):
        return ""
    prefixes = {"CVSSv3": "CVSS:3.0/", "CVSSv31": "CVSS:3.1/", "CVSSv4": "CVSS:4.0/"}
    prefix = prefixes.get(method, "")
    return prefix + vector if prefix and vector.startswith("AV:") else ""


def vulnerability_id(value: str) -> str:
    """A vulnerability id as published: CVE ids upper case, others (GHSA-…) as written."""
    value = value.strip()
    return value.upper() if value.upper().startswith("CVE-") else value


def digest(value: Any) -> str:
    """An image digest ("name@sha256:…" or "sha256:…") as "sha256:<hex>", or ""."""
    if not isinstance(value, str):
        return ""
    found = _DIGEST.search(value)
    return found.group(0).lower() if found else ""


@functools.lru_cache(maxsize=65536)
def package_from_purl(purl: str) -> str:
    """The package key of a Package URL, or "" when it is not one (remembered: a report names
    the same few thousand packages over and over)."""
    try:
        parsed = PackageURL.from_string(purl.strip())
    except ValueError:
        return ""
    return purl_key(parsed.type, parsed.namespace, parsed.name)


def purl_type_of(package_type: str, os_family: str = "") -> str:
    """The Package URL type of a scanner's package type or OS family ("" when unknown)."""
    kind = package_type.strip().lower()
    return OS_PURL_TYPE.get(kind) or PURL_TYPE_OF.get(kind, "")


def package_key(package_type: str, name: str, os_family: str = "") -> str:
    """The package key of a package a scanner names by type and name, without a Package URL:
    OS packages take the distribution as namespace, Maven "group:artifact" splits in two, an
    unknown type keeps its own name (an ecosystem the importer cannot compare)."""
    kind = package_type.strip().lower()
    family = os_family.strip().lower()
    purl_type = purl_type_of(kind)
    namespace = ""
    if kind in OS_PURL_TYPE:
        namespace = kind
    elif purl_type in {"deb", "rpm"}:
        namespace = family
    elif purl_type == "apk":
        namespace = family or "alpine"
    if purl_type == "maven" and ":" in name:
        namespace, name = name.split(":", 1)
    elif purl_type == "npm" and name.startswith("@") and "/" in name:
        namespace, name = name.split("/", 1)
    return purl_key(purl_type or kind or "generic", namespace, name)


def clip(value: str, limit: int = DETAIL_LIMIT) -> str:
    """At most `limit` characters."""
    return value[:limit]


class Seen:
    """Which observations were already handed on (as 64-bit hashes, so that a report with
    hundreds of thousands of them stays small)."""

    def __init__(self) -> None:
        self._seen: set[int] = set()

    def first(self, *key: str) -> bool:
        """True the first time `key` is seen."""
        marker = hash(key)
        if marker in self._seen:
            return False
        self._seen.add(marker)
        return True


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
        if len(parts) == 1 and event not in _CLOSE and event != "map_key":
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
        elif event in _OPEN and key not in {"Results", "Trivy", *K8S_CONTAINERS}:
            skip(parsed, event)
        elif event not in _OPEN:
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
        elif depth == 3 and parts[2] == "Metadata" and event in _OPEN:
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
            tally.skip("same finding again on the same package")


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
    tally.skip("finding suppressed without a VEX statement")
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
    main = text(item, "VulnerabilityID", at)
    if not main:
        tally.skip("vulnerability without an identifier")
        return None
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
        tally.skip("configuration check that did not fail")
        return None
    names = unique([text(item, "ID", at), text(item, "AVDID", at)])
    if not names:
        tally.skip("configuration check without an identifier")
        return None
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
    rule = text(item, "RuleID", at)
    if not rule:
        tally.skip("secret without a rule identifier")
        return None
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
