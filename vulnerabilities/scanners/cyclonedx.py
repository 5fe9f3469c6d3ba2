"""CycloneDX JSON (1.4 to 1.6) BOMs with vulnerabilities, VEX included, read into scan records."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import IO, Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop as N_
from packageurl import PackageURL

from systems.packages import PackageError, cpe_fields, cpe_key, parse_cpe, purl_key
from vulnerabilities.feeds.common import JsonWalk, Utf8Reader, listed, mapping, place, text, unique
from vulnerabilities.feeds.common import timestamp as read_timestamp
from vulnerabilities.records import FeedError
from vulnerabilities.scanners.jsonstream import (
    build,
    clip,
    cvss_vector,
    digest,
    events,
    guarded,
    mapping_of,
    not_this_format,
    refuse_other,
    result_id,
    score,
    severity,
    severity_of_score,
    skip,
    vulnerability_id,
)
from vulnerabilities.scanners.records import (
    CYCLONEDX,
    Host,
    Observation,
    Record,
    ReportInfo,
    Tally,
)

NOT_AFFECTED = {"not_affected", "false_positive"}
# Rating methods, best first: the newest CVSS.
METHODS = ("CVSSv4", "CVSSv31", "CVSSv3")


@dataclass(frozen=True)
class _Component:
    package: str
    version: str
    purl_type: str


def read(stream: IO[bytes], *, where: str, tally: Tally) -> Iterator[Record]:
    """The BOM, its one host (the metadata component), then for each vulnerability one
    observation per affected component.

    A first pass reads the metadata and the components (by bom-ref: package key and version);
    the second hands out the vulnerabilities one at a time, so that their order in the file
    does not matter.
    """
    return guarded(_read(stream, where, tally), where)


def _read(stream: IO[bytes], where: str, tally: Tally) -> Iterator[Record]:
    refuse_other(stream, where, CYCLONEDX, "CycloneDX")
    top, components = _first_pass(stream, where)
    if top.get("bomFormat") != "CycloneDX":
        raise not_this_format(stream, where, "CycloneDX")
    spec = top.get("specVersion")
    if not isinstance(spec, str):
        raise FeedError(_("The field “%(key)s” is missing.") % {"key": "specVersion"}, where=where)
    metadata = mapping(top.get("metadata") or {}, "metadata", where)
    yield ReportInfo(
        format=CYCLONEDX, tool=_tool(metadata, spec), started_at=_timestamp(metadata, where)
    )
    host = _host(metadata, where)
    host.ecosystems = frozenset(
        component.purl_type
        for component in components.values()
        if component.purl_type and component.purl_type != "oci"  # the image, not a package
    )
    yield host
    stream.seek(0)
    walk = JsonWalk(Utf8Reader(stream, where=where), where=where, array_key="vulnerabilities")
    for index, item in enumerate(walk.items()):
        at = place(where, f"vulnerabilities[{index}]")
        yield from _vulnerability(
            mapping_of(item, N_("A vulnerability"), at), host.ref, components, at, tally
        )
    if not walk.found_list:
        # A plain SBOM says what is installed, not what a scanner found: read as a scan, it
        # would "no longer see" every finding of its package types and close them.
        raise FeedError(
            _(
                "This BOM has no “vulnerabilities” list: it is a software inventory, not a "
                "scan. Upload it as the system's SBOM."
            ),
            where=where,
        )


def _first_pass(stream: IO[bytes], where: str) -> tuple[dict[str, Any], dict[str, _Component]]:
    top: dict[str, Any] = {}
    components: dict[str, _Component] = {}
    parsed = events(stream, where)
    _prefix, first, _value = next(parsed)
    if first != "start_map":
        raise not_this_format(stream, where, "CycloneDX")
    for prefix, event, value in parsed:
        if "." in prefix or not prefix or event == "map_key":
            continue
        if prefix == "metadata" and event == "start_map":
            top["metadata"] = build(parsed, event)
            component = top["metadata"].get("component")
            if isinstance(component, dict):
                _collect([component], components, place(where, "metadata.component"))
        elif prefix == "components" and event == "start_array":
            top["components"] = True
            for index, item in enumerate(_items(parsed)):
                _collect([item], components, place(where, f"components[{index}]"))
        elif event in {"start_map", "start_array"}:
            skip(parsed, event)
        elif event not in {"end_map", "end_array"}:
            top[prefix] = value
    return top, components


def _items(parsed: Iterator[tuple[str, str, Any]]) -> Iterator[Any]:
    for _prefix, event, value in parsed:
        if event == "end_array":
            return
        yield build(parsed, event) if event in {"start_map", "start_array"} else value


def _collect(items: list[Any], components: dict[str, _Component], at: str) -> None:
    """Each component (and those nested in it) by its bom-ref."""
    for item in items:
        component = mapping_of(item, N_("A component"), at)
        ref = text(component, "bom-ref", at)
        found = _identity(component, at)
        if ref and found is not None:
            components[ref] = found
        _collect(listed(component, "components", at), components, at)


def _identity(component: dict[str, Any], at: str) -> _Component | None:
    """A component's package key: its Package URL, else its CPE, else its name (generic)."""
    version = text(component, "version", at)
    purl_text = text(component, "purl", at)
    if purl_text:
        try:
            purl = PackageURL.from_string(purl_text.strip())
        except ValueError:
            purl = None
        if purl is not None:
            key = purl_key(purl.type, purl.namespace, purl.name)
            return _Component(key, version or purl.version or "", purl.type.lower())
    cpe_text = text(component, "cpe", at)
    if cpe_text:
        try:
            part, vendor, product, cpe_version = cpe_fields(parse_cpe(cpe_text))
        except PackageError:
            part = ""
        if part and vendor not in {"*", "-"} and product not in {"*", "-"}:
            found = version or ("" if cpe_version in {"*", "-"} else cpe_version)
            return _Component(cpe_key(part, vendor, product), found, "")
    name = text(component, "name", at)
    if not name:
        return None
    return _Component(purl_key("generic", text(component, "group", at), name), version, "")


def _tool(metadata: dict[str, Any], spec: str) -> str:
    tools = metadata.get("tools")
    entries: list[Any] = []
    if isinstance(tools, list):  # 1.4: a list of tools
        entries = tools
    elif isinstance(tools, dict):  # 1.5+: components and services
        entries = list(tools.get("components") or []) + list(tools.get("services") or [])
    for entry in entries:
        if isinstance(entry, dict) and isinstance(entry.get("name"), str):
            version = entry.get("version")
            return f"{entry['name']} {version}" if isinstance(version, str) else entry["name"]
    return f"CycloneDX {spec}"


def _timestamp(metadata: dict[str, Any], where: str) -> Any:
    return read_timestamp(metadata, "timestamp", place(where, "metadata"))


def _host(metadata: dict[str, Any], where: str) -> Host:
    at = place(where, "metadata.component")
    component = mapping(metadata.get("component") or {}, "metadata.component", at)
    name = text(component, "name", at)
    version = text(component, "version", at)
    ref = text(component, "bom-ref", at) or name or "bom"
    digests: list[str] = []
    if text(component, "type", at) == "container":
        for entry in listed(component, "hashes", at):
            if isinstance(entry, dict) and str(entry.get("alg", "")).upper() == "SHA-256":
                digests.append(digest(f"sha256:{entry.get('content', '')}"))
        purl_text = text(component, "purl", at)
        if purl_text.startswith("pkg:oci/"):
            with contextlib.suppress(ValueError):
                digests.append(digest(PackageURL.from_string(purl_text).version or ""))
    target = f"{name} {version}".strip() or ref
    return Host(ref=ref, target=target, image_digests=unique(digests))


def _vulnerability(
    item: dict[str, Any],
    host: str,
    components: dict[str, _Component],
    at: str,
    tally: Tally,
) -> Iterator[Observation]:
    main = result_id(item, "id", at)
    at = place(at, main)
    others = [
        text(mapping_of(entry, N_("A reference"), at), "id", at)
        for entry in listed(item, "references", at)
    ]
    names = unique([vulnerability_id(name) for name in [main, *others] if name])
    level, vector, cvss_score = _ratings(item, at)
    analysis = item.get("analysis")
    state = text(analysis, "state", at) if isinstance(analysis, dict) else ""
    description = text(item, "description", at)
    detail = text(item, "detail", at)
    title = clip(description.strip().split("\n", 1)[0], 200) or names[0]
    affects = listed(item, "affects", at)
    if not affects:  # a vulnerability on nothing: naming no component, it would close them all
        raise FeedError(_("The field “%(key)s” is missing.") % {"key": "affects"}, where=at)
    for entry in affects:
        ref = text(mapping_of(entry, N_("An affected component"), at), "ref", at, required=True)
        component = components.get(ref) or _purl_component(ref)
        if component is None:
            raise FeedError(
                _("“%(ref)s” is no component of the BOM and no Package URL.") % {"ref": ref[:200]},
                where=at,
            )
        yield Observation(
            host=host,
            names=names,
            title=title,
            severity=level,
            package=component.package,
            version=component.version,
            cvss_vector=vector,
            cvss_score=cvss_score,
            detail=clip(description or detail),
            affected=state not in NOT_AFFECTED,
        )


def _purl_component(ref: str) -> _Component | None:
    if not ref.startswith("pkg:"):
        return None
    try:
        purl = PackageURL.from_string(ref)
    except ValueError:
        return None
    return _Component(purl_key(purl.type, purl.namespace, purl.name), purl.version or "", purl.type)


def _ratings(item: dict[str, Any], at: str) -> tuple[str, str, Decimal | None]:
    """Severity, CVSS vector and score: the newest CVSS rating's, else the first rating's."""
    ratings = [entry for entry in listed(item, "ratings", at) if isinstance(entry, dict)]
    best: dict[str, Any] | None = None
    best_vector = ""
    for method in METHODS:
        for rating in ratings:
            vector = cvss_vector(rating.get("vector"), str(rating.get("method", "")))
            if rating.get("method") == method and vector:
                best, best_vector = rating, vector
                break
        if best is not None:
            break
    cvss_score = score(best.get("score")) if best is not None else None
    level = severity(best.get("severity")) if best is not None else "unknown"
    if level == "unknown":
        for rating in ratings:
            level = severity(rating.get("severity"))
            if level != "unknown":
                break
    if level == "unknown" and cvss_score is not None:
        level = severity_of_score(cvss_score)
    return level, best_vector, cvss_score
