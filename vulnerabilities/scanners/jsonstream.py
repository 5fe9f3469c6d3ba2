"""What the JSON scanner readers share: a UTF-8-checked event stream, values built from it,
and the normalising of severities, vectors, digests and package keys."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from decimal import Decimal, InvalidOperation
from typing import IO, Any

import ijson
from django.utils.translation import gettext as _
from packageurl import PackageURL

from systems.packages import purl_key
from vulnerabilities.feeds.common import (
    Utf8Reader,
    _json_error,
    json_events,
    mapping,
    text,
)
from vulnerabilities.records import FeedError
from vulnerabilities.scanners.records import Record

Event = tuple[str, str, Any]
DETAIL_LIMIT = 500
OPENING = {"start_map", "start_array"}
CLOSING = {"end_map", "end_array"}

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
    """The ijson events of a UTF-8 JSON file from its start; FeedError when empty, not UTF-8 or
    nested past JSON_MAX_DEPTH (see json_events). The parser's own errors (broken, cut short)
    surface where the events are read: run the reader inside `guarded`."""
    stream.seek(0)
    head = stream.read(64 * 1024)
    if not head.strip():
        raise FeedError(_("The file is empty."), where=where)
    return json_events(Utf8Reader(stream, where=where, head=head), where=where)


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
        if event in CLOSING:
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
        if event in OPENING:
            stack.append(item)
    return root


def skip(stream: Iterator[Event], opening: str) -> None:
    """Reads past the value that begins with the `opening` event, building nothing."""
    if opening not in OPENING:
        return
    depth = 1
    for _prefix, event, _value in stream:
        if event in OPENING:
            depth += 1
        elif event in CLOSING:
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


def result_id(data: dict[str, Any], key: str, at: str) -> str:
    """A result's identifier (its vulnerability, rule or check): without it the result names
    nothing, and a report that drops it must not read as "no longer seen" (which would close a
    finding), so the file is refused naming the field and where."""
    value = text(data, key, at).strip()
    if not value:
        raise FeedError(_("The field “%(key)s” is missing.") % {"key": key}, where=at)
    return value


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
