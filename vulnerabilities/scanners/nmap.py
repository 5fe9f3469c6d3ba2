"""Reads nmap XML output (`-oX`): the hosts it found, up or down, and the ports open on them."""

from __future__ import annotations

import datetime as dt
import io
import ipaddress
import re
from collections.abc import Iterator
from typing import IO

from django.utils.translation import gettext as _

from vulnerabilities.records import FeedError
from vulnerabilities.scanners.records import NMAP, Host, OpenService, Record, ReportInfo, Tally
from vulnerabilities.scanners.xml import Element, at_line, attribute, local, walk

_TAIL = 16384  # bytes at the end of the file where nmap writes `runstats/finished`
_FINISHED = re.compile(rb'<finished\s[^>]*?\btime="(\d+)"')
_ADDRESS_TYPES = {"ipv4", "ipv6"}


def read(stream: IO[bytes], *, where: str, tally: Tally) -> Iterator[Record]:
    """The report, then each host and its open ports, as nmap wrote them."""
    finished = _finished_at(stream)
    started: dt.datetime | None = None
    tool = "nmap"
    scaninfo: list[tuple[str, str]] = []
    info_sent = False
    refs: set[str] = set()
    for event, element in walk(
        stream,
        where=where,
        expected=_("an nmap XML report"),
        roots=("nmaprun",),
        items=("nmaprun/scaninfo", "nmaprun/host"),
        marks=("nmaprun",),
    ):
        if event == "start":  # nmaprun: its attributes
            scanner = (element.get("scanner") or "nmap").strip()
            version = (element.get("version") or "").strip()
            tool = f"{scanner} {version}".strip()
            started = _epoch(element.get("start"), element, where) or _startstr(
                element.get("startstr") or ""
            )
        elif local(element) == "scaninfo":
            protocol = (element.get("protocol") or "").strip().lower()
            services = (element.get("services") or "").strip()
            if services:
                scaninfo.append((protocol, services))
        elif local(element) == "host":
            if not info_sent:
                info_sent = True
                yield _info(tool, started, finished, scaninfo)
            yield from _host(element, where=where, refs=refs)
    if not info_sent:
        yield _info(tool, started, finished, scaninfo)


def _info(
    tool: str,
    started: dt.datetime | None,
    finished: dt.datetime | None,
    scaninfo: list[tuple[str, str]],
) -> ReportInfo:
    if len(scaninfo) == 1 and scaninfo[0][0] in {"tcp", ""}:
        ports = scaninfo[0][1]
    else:
        ports = ",".join(f"{protocol}:{services}" for protocol, services in scaninfo)
    return ReportInfo(
        format=NMAP, tool=tool, started_at=started, finished_at=finished, ports_scanned=ports
    )


def _host(element: Element, *, where: str, refs: set[str]) -> Iterator[Record]:
    status = element.find("status")
    if status is None:
        raise FeedError(_("The element <host> has no <status>."), where=at_line(where, element))
    up = attribute(status, "state", where) == "up"
    addresses, written, problems = _addresses(element, where)
    names, user_name = _names(element)
    target = user_name or (written[0] if written else "") or (names[0] if names else "")
    ref = _unique(addresses[0] if addresses else (target or "host"), refs)
    yield Host(
        ref=ref,
        target=target,
        addresses=tuple(addresses),
        hostnames=tuple(names),
        up=up,
        ports_covered=up,
        problems=tuple(problems),
    )
    for port in element.iterfind("ports/port"):
        protocol = attribute(port, "protocol", where).lower()
        number = _port_number(attribute(port, "portid", where), port, where)
        state = port.find("state")
        if state is None:
            raise FeedError(_("The element <port> has no <state>."), where=at_line(where, port))
        if attribute(state, "state", where) == "open":
            name, product = _service(port.find("service"))
            yield OpenService(host=ref, protocol=protocol, port=number, name=name, product=product)


def _addresses(element: Element, where: str) -> tuple[list[str], list[str], list[str]]:
    """The host's IP addresses normalised, as written, and a problem for each invalid one
    (MAC addresses are left out)."""
    addresses: list[str] = []
    written: list[str] = []
    problems: list[str] = []
    for address in element.iterfind("address"):
        if (address.get("addrtype") or "ipv4").strip().lower() not in _ADDRESS_TYPES:
            continue
        text = attribute(address, "addr", where)
        written.append(text)
        try:
            normal = str(ipaddress.ip_address(text))
        except ValueError:
            problems.append(
                _("“%(address)s” (line %(line)d) is not an IP address.")
                % {"address": text, "line": address.sourceline or 0}
            )
            continue
        if normal not in addresses:
            addresses.append(normal)
    return addresses, written, problems


def _names(element: Element) -> tuple[list[str], str]:
    """The host's names (user-given and PTR), lower case, without repeats; and the first name
    the user gave."""
    names: list[str] = []
    user_name = ""
    for hostname in element.iterfind("hostnames/hostname"):
        name = (hostname.get("name") or "").strip().rstrip(".").lower()
        if not name:
            continue
        if (hostname.get("type") or "") == "user" and not user_name:
            user_name = name
        if name not in names:
            names.append(name)
    return names, user_name


def _service(service: Element | None) -> tuple[str, str]:
    """What answered on a port: its service name, and product, version and extra info."""
    if service is None:
        return "", ""
    name = (service.get("name") or "").strip()
    product = " ".join(
        part
        for part in ((service.get(key) or "").strip() for key in ("product", "version"))
        if part
    )
    extra = (service.get("extrainfo") or "").strip()
    if extra:
        product = f"{product} ({extra})" if product else extra
    return name, product


def _unique(ref: str, refs: set[str]) -> str:
    candidate, count = ref, 1
    while candidate in refs:
        count += 1
        candidate = f"{ref}#{count}"
    refs.add(candidate)
    return candidate


def _port_number(text: str, element: Element, where: str) -> int:
    if text.isdigit() and 0 <= int(text) <= 65535:
        return int(text)
    raise FeedError(
        _("“%(port)s” is not a port number.") % {"port": text}, where=at_line(where, element)
    )


def _epoch(text: str | None, element: Element, where: str) -> dt.datetime | None:
    if not text or not text.strip():
        return None
    if not text.strip().isdigit():
        raise FeedError(
            _("“%(value)s” is not a time in seconds since 1970.") % {"value": text},
            where=at_line(where, element),
        )
    return dt.datetime.fromtimestamp(int(text.strip()), tz=dt.UTC)


def _startstr(text: str) -> dt.datetime | None:
    try:
        return dt.datetime.strptime(" ".join(text.split()), "%a %b %d %H:%M:%S %Y").replace(
            tzinfo=dt.UTC
        )
    except ValueError:
        return None


def _finished_at(stream: IO[bytes]) -> dt.datetime | None:
    """When the scan finished: nmap writes it last (`runstats/finished time=`), after every
    host, so it is read from the file's tail (a peek; the parse checks the whole file)."""
    start = stream.tell()
    try:
        stream.seek(0, io.SEEK_END)
        size = stream.tell()
        stream.seek(max(start, size - _TAIL))
        tail = stream.read(_TAIL)
    finally:
        stream.seek(start)
    found = _FINISHED.findall(tail)
    return dt.datetime.fromtimestamp(int(found[-1]), tz=dt.UTC) if found else None
