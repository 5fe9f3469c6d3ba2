"""Reads Greenbone/OpenVAS XML reports (GMP `get_reports`): hosts and the results on them."""

from __future__ import annotations

import datetime as dt
import ipaddress
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import IO

from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from vulnerabilities.feeds.common import unique
from vulnerabilities.records import FeedError
from vulnerabilities.scanners.records import (
    OPENVAS,
    Host,
    Observation,
    Record,
    ReportInfo,
    Tally,
)
from vulnerabilities.scanners.xml import Element, at_line, attribute, child_text, local, walk

ROOTS = ("report", "get_reports_response")
THREATS = {"critical": "critical", "high": "high", "medium": "medium", "low": "low"}
_SKIPPED = {  # what was skipped, kept in English and said in the reader's language
    "log": gettext_noop("informational result (Log)"),
    "debug": gettext_noop("debug result"),
    "false positive": gettext_noop("false positive"),
    "error": gettext_noop("error result"),
}
_CVE = re.compile(r"^CVE-\d{4}-\d{4,}$", re.IGNORECASE)
_FRACTION = re.compile(r"(\.\d{6})\d+")
DETAIL_LIMIT = 10000


@dataclass
class _Target:
    """One host address of the report, as the first pass gathers it."""

    line: int
    names: list[str] = field(default_factory=list)


@dataclass
class _Survey:
    started: dt.datetime | None = None
    finished: dt.datetime | None = None
    version: str = ""
    hosts: dict[str, _Target] = field(default_factory=dict)

    def host(self, address: str, line: int) -> _Target:
        if address not in self.hosts:
            self.hosts[address] = _Target(line=line)
        return self.hosts[address]


def read(stream: IO[bytes], *, where: str, tally: Tally) -> Iterator[Record]:
    """The report, each host and its results. The file is read twice: the hosts' summaries
    and the scan's end come after the results."""
    start = stream.tell()
    survey = _survey(stream, where=where)
    stream.seek(start)
    tool = f"OpenVAS (GMP {survey.version})" if survey.version else "OpenVAS"
    yield ReportInfo(
        format=OPENVAS, tool=tool, started_at=survey.started, finished_at=survey.finished
    )
    for address, target in survey.hosts.items():
        yield _host(address, target)  # its ref is the address, as the results name it
    for _event, element in _walk(stream, where=where, items=("results/result",)):
        yield from _result(element, where=where, tally=tally)


def _walk(
    stream: IO[bytes], *, where: str, items: tuple[str, ...]
) -> Iterator[tuple[str, Element]]:
    return walk(
        stream,
        where=where,
        expected=_("a Greenbone/OpenVAS report"),
        roots=ROOTS,
        items=items,
    )


def _survey(stream: IO[bytes], *, where: str) -> _Survey:
    survey = _Survey()
    for _event, element in _walk(
        stream,
        where=where,
        items=(
            "report/host",
            "result/host",
            "report/scan_start",
            "report/scan_end",
            "gmp/version",
        ),
    ):
        name = local(element)
        if name == "version":
            survey.version = (element.text or "").strip()
        elif name == "scan_start":
            survey.started = _moment(element, where) or survey.started
        elif name == "scan_end":
            survey.finished = _moment(element, where) or survey.finished
        elif (parent := element.getparent()) is not None and local(parent) == "result":
            address = (element.text or "").strip()
            if address:
                target = survey.host(address, element.sourceline or 0)
                _add_name(target, child_text(element, "hostname"))
        else:  # a host summary: ip, start, end, details
            address = child_text(element, "ip")
            if not address:
                raise FeedError(_("The element <host> has no <ip>."), where=at_line(where, element))
            target = survey.host(address, element.sourceline or 0)
            for detail in element.iterfind("detail"):
                if child_text(detail, "name") == "hostname":
                    _add_name(target, child_text(detail, "value"))
    return survey


def _add_name(target: _Target, text: str) -> None:
    name = text.strip().rstrip(".").lower()
    if not name or name in target.names:
        return
    try:
        ipaddress.ip_address(name)
    except ValueError:
        target.names.append(name)


def _moment(element: Element, where: str) -> dt.datetime | None:
    text = (element.text or "").strip()
    if not text:
        return None
    cleaned = _FRACTION.sub(r"\1", text.replace("Z", "+00:00"))
    try:
        parsed = dt.datetime.fromisoformat(cleaned)
    except ValueError:
        raise FeedError(
            _("“%(value)s” in <%(element)s> is not a date and time.")
            % {"value": text, "element": local(element)},
            where=at_line(where, element),
        ) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def _host(address: str, target: _Target) -> Host:
    try:
        addresses: tuple[str, ...] = (str(ipaddress.ip_address(address)),)
        problems: tuple[str, ...] = ()
    except ValueError:
        addresses = ()
        problems = (
            _("“%(address)s” (line %(line)d) is not an IP address.")
            % {"address": address, "line": target.line},
        )
    return Host(
        ref=address,
        target=address,
        addresses=addresses,
        hostnames=tuple(target.names),
        ports_covered=True,
        problems=problems,
    )


def _result(element: Element, *, where: str, tally: Tally) -> Iterator[Record]:
    host = element.find("host")
    address = (host.text or "").strip() if host is not None else ""
    if not address:
        raise FeedError(_("The result has no <host>."), where=at_line(where, element))
    nvt = element.find("nvt")
    if nvt is None:
        raise FeedError(_("The result has no <nvt>."), where=at_line(where, element))
    oid = attribute(nvt, "oid", where)
    score = _score(element.find("severity"), where)
    threat = child_text(element, "threat").lower()
    if threat in _SKIPPED:
        tally.skip(_SKIPPED[threat])
        return
    severity = THREATS.get(threat) or _band(score)
    if severity == "none":
        tally.skip(gettext_noop("informational result (severity 0.0)"))
        return
    vector, vector_score = _vector(nvt, where)
    if not vector:
        tagged = _tags(child_text(nvt, "tags")).get("cvss_base_vector", "")
        vector = tagged if tagged.startswith(("CVSS:3.", "CVSS:4.0/")) else ""
    cves = unique(
        [
            ref_id.upper()
            for ref in nvt.iterfind("refs/ref")
            if (ref.get("type") or "").lower() == "cve"
            and (ref_id := (ref.get("id") or "").strip())
            and _CVE.match(ref_id)
        ]
    )
    title = child_text(nvt, "name") or child_text(element, "name")
    tags = _tags(child_text(nvt, "tags"))
    description = child_text(element, "description")
    if len(description) > DETAIL_LIMIT:
        description = description[:DETAIL_LIMIT] + "…"
    detail = "\n\n".join(part for part in (tags.get("summary", ""), description) if part)
    port = _port(child_text(element, "port"))
    for names in [(cve,) for cve in cves] or [(f"OPENVAS-{oid}",)]:
        yield Observation(
            host=address,
            names=names,
            title=title,
            severity=severity,
            port=port,
            cvss_vector=vector,
            cvss_score=vector_score or score or _score(nvt.find("cvss_base"), where),
            detail=detail,
        )


def _band(score: Decimal | None) -> str:
    if score is None:
        return "unknown"
    if score >= 9:
        return "critical"
    if score >= 7:
        return "high"
    if score >= 4:
        return "medium"
    if score > 0:
        return "low"
    return "none"


def _port(text: str) -> str:
    """ "443/tcp" as "tcp/443"; "general/tcp" and other host-wide ports as "tcp/0"."""
    number, _slash, protocol = text.partition("/")
    protocol = protocol.strip().lower()
    if number.strip().isdigit() and protocol in {"tcp", "udp", "sctp"}:
        return f"{protocol}/{int(number)}"
    return "tcp/0"


def _vector(nvt: Element, where: str) -> tuple[str, Decimal | None]:
    """The newest CVSS vector in <severities> (v4, then v3) and its score."""
    best: tuple[int, str, Decimal | None] = (0, "", None)
    for severity in nvt.iterfind("severities/severity"):
        value = child_text(severity, "value")
        rank = 2 if value.startswith("CVSS:4.0/") else 1 if value.startswith("CVSS:3.") else 0
        if rank > best[0]:
            best = (rank, value, _score(severity.find("score"), where))
    return best[1], best[2]


def _score(element: Element | None, where: str) -> Decimal | None:
    """A CVSS score; GMP's negative ones (-1 false positive, -2/-3 errors) read as 0.0."""
    text = (element.text or "").strip() if element is not None else ""
    if element is None or not text:
        return None
    try:
        score = Decimal(text)
    except InvalidOperation:
        score = Decimal("NaN")
    if not score.is_finite() or score > 10:
        raise FeedError(
            _("“%(value)s” in <%(element)s> is not a CVSS score.")
            % {"value": text, "element": local(element)},
            where=at_line(where, element),
        )
    return max(score, Decimal(0)).quantize(Decimal("0.1"))


def _tags(text: str) -> dict[str, str]:
    """The `key=value|key=value` pairs of an NVT's <tags>."""
    pairs: dict[str, str] = {}
    for part in text.split("|"):
        key, equals, value = part.partition("=")
        if equals:
            pairs[key.strip()] = value.strip()
    return pairs
