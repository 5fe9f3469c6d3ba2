"""Reads Tenable `.nessus` files (NessusClientData_v2; Nessus and Nessus WAS): hosts and plugins."""

from __future__ import annotations

import datetime as dt
import ipaddress
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import IO
from urllib.parse import urlsplit

from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from vulnerabilities.feeds.common import unique
from vulnerabilities.records import FeedError
from vulnerabilities.scanners.records import (
    NESSUS,
    Host,
    Observation,
    Record,
    ReportInfo,
    Tally,
)
from vulnerabilities.scanners.xml import Element, at_line, attribute, child_text, local, walk

ROOTS = ("NessusClientData_v2",)
SEVERITIES = {"4": "critical", "3": "high", "2": "medium", "1": "low"}
DETAIL_LIMIT = 10000  # characters of a plugin's output kept on an observation
_SCAN_INFO_PLUGIN = "19506"
_VERSION = re.compile(r"^Nessus version\s*:\s*(\S+)", re.MULTILINE)
_CVE = re.compile(r"^CVE-\d{4}-\d{4,}$", re.IGNORECASE)
_CTIME = re.compile(r"^\w{3}\s+(\w{3})\s+(\d{1,2})\s+(\d{1,2}):(\d{2}):(\d{2})\s+(\d{4})$")
_MONTHS = {
    name: number
    for number, name in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"),
        start=1,
    )
}
_HOST_NAME = re.compile(r"^[a-z0-9_]([a-z0-9_.-]*[a-z0-9_])?$")


@dataclass
class _Survey:
    """What the first pass learns before the report can be described."""

    started: dt.datetime | None = None
    finished: dt.datetime | None = None
    policy: str = ""
    host_policy: str = ""
    version: str = ""
    kind: str = ""

    def see(self, moment: dt.datetime | None, *, end: bool) -> None:
        if moment is None:
            return
        if end:
            self.finished = moment if self.finished is None else max(self.finished, moment)
        else:
            self.started = moment if self.started is None else min(self.started, moment)


@dataclass
class _HostState:
    element: Element
    ref: str
    sent: bool = False
    properties: dict[str, str] = field(default_factory=dict)


def read(stream: IO[bytes], *, where: str, tally: Tally) -> Iterator[Record]:
    """The report, then each ReportHost and what its plugins found. The file is read twice:
    the scan's start and end are the earliest HOST_START and latest HOST_END of all hosts."""
    start = stream.tell()
    survey = _survey(stream, where=where)
    stream.seek(start)
    tool = "Nessus WAS" if survey.kind == "was" else "Nessus"
    if survey.version:
        tool = f"{tool} {survey.version}"
    policy = survey.policy or survey.host_policy
    if policy:
        tool = f"{tool} ({policy})"
    yield ReportInfo(
        format=NESSUS, tool=tool, started_at=survey.started, finished_at=survey.finished
    )
    refs: set[str] = set()
    host: _HostState | None = None
    for event, element in _walk(
        stream,
        where=where,
        items=("ReportHost/HostProperties", "ReportHost/ReportItem"),
        marks=("Report/ReportHost",),
    ):
        name = local(element)
        if event == "start":
            target = attribute(element, "name", where)
            host = _HostState(element=element, ref=_unique(target, refs))
        elif host is None:
            continue  # not inside a ReportHost (cannot happen with these paths)
        elif event == "end":
            if not host.sent:
                yield _host(host, where)
            host = None
        elif name == "HostProperties":
            for tag in element.iterfind("tag"):
                key = (tag.get("name") or "").strip()
                if key and key not in host.properties:
                    host.properties[key] = (tag.text or "").strip()
        else:  # ReportItem
            if not host.sent:
                host.sent = True
                yield _host(host, where)
            yield from _item(element, host.ref, where=where, tally=tally)


def _walk(
    stream: IO[bytes], *, where: str, items: tuple[str, ...], marks: tuple[str, ...] = ()
) -> Iterator[tuple[str, Element]]:
    return walk(
        stream,
        where=where,
        expected=_("a Nessus report (.nessus)"),
        roots=ROOTS,
        items=items,
        marks=marks,
    )


def _survey(stream: IO[bytes], *, where: str) -> _Survey:
    survey = _Survey()
    for event, element in _walk(
        stream,
        where=where,
        items=("Policy/policyName", "ReportHost/HostProperties", "ReportItem/plugin_output"),
        marks=("NessusClientData_v2/Report",),
    ):
        name = local(element)
        if event == "start":
            survey.kind = (element.get("type") or "").strip().lower()
        elif name == "policyName":
            survey.policy = (element.text or "").strip()
        elif name == "HostProperties":
            tags = {
                key: (tag.text or "").strip()
                for tag in reversed(element.findall("tag"))
                if (key := tag.get("name") or "")
            }
            for key, end in (("HOST_START", False), ("HOST_END", True)):
                # The seconds since 1970 are exact; the ctime text is the scanner's local time.
                exact = f"{key}_TIMESTAMP"
                chosen = exact if tags.get(exact) else key
                survey.see(_moment(chosen, tags.get(chosen, ""), element, where), end=end)
            if not survey.host_policy:
                survey.host_policy = tags.get("policy-used", "")
        elif name == "plugin_output" and not survey.version:
            parent = element.getparent()
            if parent is not None and parent.get("pluginID") == _SCAN_INFO_PLUGIN:
                found = _VERSION.search(element.text or "")
                survey.version = found.group(1) if found else ""
    return survey


def _moment(key: str, value: str, element: Element, where: str) -> dt.datetime | None:
    """A HOST_START/HOST_END value: seconds since 1970, ctime ("Mon Jan  6 13:01:21 2020",
    taken as UTC) or ISO 8601 (Nessus WAS)."""
    if not value:
        return None
    if value.isdigit():
        return dt.datetime.fromtimestamp(int(value), tz=dt.UTC)
    found = _CTIME.match(value)
    try:
        if found and found.group(1).lower() in _MONTHS:
            month, day, hour, minute, second, year = found.groups()
            return dt.datetime(
                int(year),
                _MONTHS[month.lower()],
                int(day),
                int(hour),
                int(minute),
                int(second),
                tzinfo=dt.UTC,
            )
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        parsed = None
    if parsed is None:
        raise FeedError(
            _("“%(value)s” in “%(key)s” is not a date and time.") % {"value": value, "key": key},
            where=at_line(where, element),
        )
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def _unique(ref: str, refs: set[str]) -> str:
    candidate, count = ref, 1
    while candidate in refs:
        count += 1
        candidate = f"{ref}#{count}"
    refs.add(candidate)
    return candidate


def _host(state: _HostState, where: str) -> Host:
    state.sent = True
    target = state.element.get("name", "").strip()
    props = state.properties
    addresses: list[str] = []
    names: list[str] = []
    problems: list[str] = []
    for text, stated in ((props.get("host-ip", ""), True), (target, False)):
        # host-ip must be an address; the ReportHost name may as well be a host name or URL.
        try:
            normal = str(ipaddress.ip_address(text))
        except ValueError:
            if stated and text:
                problems.append(_("“%(address)s” is not an IP address.") % {"address": text})
            continue
        if normal not in addresses:
            addresses.append(normal)
    for text in (
        target,
        props.get("host-fqdn", ""),
        props.get("hostname", ""),
        props.get("host-rdns", ""),
        props.get("netbios-name", ""),
    ):
        name = _host_name(text)
        if name and name not in names:
            names.append(name)
    return Host(
        ref=state.ref,
        target=target,
        addresses=tuple(addresses),
        hostnames=tuple(names),
        ports_covered=True,
        problems=tuple(problems),
    )


def _host_name(text: str) -> str:
    """A host name from a ReportHost name, host-fqdn or URL (Nessus WAS); "" for an address."""
    text = text.strip()
    if "://" in text:
        text = urlsplit(text).hostname or ""
    name = text.rstrip(".").lower()
    if not name or not _HOST_NAME.match(name):
        return ""
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return name
    return ""


def _item(element: Element, ref: str, *, where: str, tally: Tally) -> Iterator[Record]:
    plugin = attribute(element, "pluginID", where)
    severity_code = attribute(element, "severity", where)
    port_text = attribute(element, "port", where)
    protocol = attribute(element, "protocol", where).lower()
    if severity_code == "0":
        tally.skip(gettext_noop("informational plugin (severity 0)"))
        return
    severity = SEVERITIES.get(severity_code)
    if severity is None:
        raise FeedError(
            _("“%(value)s” is not a Nessus severity (0 to 4).") % {"value": severity_code},
            where=at_line(where, element),
        )
    if not port_text.isdigit() or int(port_text) > 65535:
        raise FeedError(
            _("“%(port)s” is not a port number.") % {"port": port_text},
            where=at_line(where, element),
        )
    port = f"{protocol}/{int(port_text)}" if int(port_text) else "tcp/0"
    title = (element.get("pluginName") or "").strip() or child_text(element, "plugin_name")
    vector, score = _cvss(element, where)
    cves = unique(
        [
            text.upper()
            for cve in element.iterfind("cve")
            if (text := (cve.text or "").strip()) and _CVE.match(text)
        ]
    )
    detail = _detail(element)
    for names in [(cve,) for cve in cves] or [(f"NESSUS-{plugin}",)]:
        yield Observation(
            host=ref,
            names=names,
            title=title,
            severity=severity,
            port=port,
            cvss_vector=vector,
            cvss_score=score,
            detail=detail,
        )


def _cvss(element: Element, where: str) -> tuple[str, Decimal | None]:
    """The newest CVSS vector given (v4, then v3) and its base score; else a score alone."""
    for vector_tag, score_tag, prefix in (
        ("cvss4_vector", "cvss4_base_score", "CVSS:4.0/"),
        ("cvss3_vector", "cvss3_base_score", "CVSS:3."),
    ):
        vector = child_text(element, vector_tag)
        if vector.startswith(prefix):
            return vector, _score(element, score_tag, where)
    for score_tag in ("cvss3_base_score", "cvssv3", "cvss_base_score", "cvss"):
        score = _score(element, score_tag, where)
        if score is not None:
            return "", score
    return "", None


def _score(element: Element, tag: str, where: str) -> Decimal | None:
    child = element.find(tag)
    text = (child.text or "").strip() if child is not None else ""
    if child is None or not text:
        return None
    try:
        score = Decimal(text)
    except InvalidOperation:
        score = Decimal("NaN")
    if not score.is_finite() or not Decimal(0) <= score <= Decimal(10):
        raise FeedError(
            _("“%(value)s” in <%(element)s> is not a CVSS score.")
            % {"value": text, "element": tag},
            where=at_line(where, child),
        )
    return score.quantize(Decimal("0.1"))


def _detail(element: Element) -> str:
    parts = [child_text(element, "synopsis")]
    output = child_text(element, "plugin_output")
    if len(output) > DETAIL_LIMIT:
        output = output[:DETAIL_LIMIT] + "…"
    parts.append(output)
    references = unique(
        [(child.text or "").strip() for child in element.iterfind("see_also")]
        + [(child.text or "").strip() for child in element.iterfind("xref")]
    )
    parts.append("\n".join(references))
    return "\n\n".join(part for part in parts if part)
