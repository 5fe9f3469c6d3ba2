"""masscan JSON output (-oJ) read into scan records: one host per address, its open ports."""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO, Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django.utils.translation import gettext_noop as N_

from vulnerabilities.feeds.common import JsonWalk, Utf8Reader, listed, place, text
from vulnerabilities.records import FeedError
from vulnerabilities.scanners.jsonstream import mapping_of, not_this_format, refuse_other
from vulnerabilities.scanners.records import MASSCAN, Host, OpenService, Record, ReportInfo, Tally

# masscan 1.0 ends its list with this line, which is not JSON (an unquoted key).
_FINISHED = re.compile(rb'^\{\s*"?finished"?\s*:\s*1\s*\}$')
_LINE_LIMIT = 1024 * 1024
PROTOCOLS = ("tcp", "udp", "sctp")


@dataclass
class _Address:
    ports: dict[tuple[str, int], str] = field(default_factory=dict)  # (proto, port) -> service


@dataclass
class _Scan:
    addresses: dict[str, _Address] = field(default_factory=dict)
    first: int | None = None
    last: int | None = None


class _NotLines(Exception):
    """The file is not one record a line (a re-indented list): read it as plain JSON."""


def read(stream: IO[bytes], *, where: str, tally: Tally) -> Iterator[Record]:
    """The scan, then each address with its open ports.

    masscan writes one record a line, one port a record, the same address again on later
    lines; it writes a comma after the last record and, before 1.3, a final
    `{finished: 1}`: both are accepted. A re-indented (standard JSON) list is read too.
    masscan's output does not say which ports it was told to scan, so no host says its
    ports were covered.
    """
    refuse_other(stream, where, MASSCAN, "masscan")
    scan = _Scan()
    stream.seek(0)
    try:
        _read_lines(stream, where, scan, tally)
    except _NotLines:
        scan = _Scan()
        stream.seek(0)
        _read_json(stream, where, scan, tally)
    yield ReportInfo(
        format=MASSCAN, tool="masscan", started_at=_time(scan.first), finished_at=_time(scan.last)
    )
    for address, seen in scan.addresses.items():
        yield _host(address)
        for (protocol, port), name in seen.ports.items():
            yield OpenService(host=address, protocol=protocol, port=port, name=name)


def _read_lines(stream: IO[bytes], where: str, scan: _Scan, tally: Tally) -> None:
    offset = 0
    opened = closed = False
    records = 0
    line_label = _("line %(line)d")  # translated once, not once a line
    for number, raw in enumerate(_lines(stream), start=1):
        at = place(where, line_label % {"line": number})
        line = _decoded(raw, offset, where, first=number == 1).strip()
        offset += len(raw)
        if not opened:
            if not line:
                continue
            if not line.startswith("["):
                raise not_this_format(stream, where, "masscan")
            opened = True
            line = line[1:].strip()
        if closed and line:
            raise FeedError(_("There is more after the end of the list."), where=at)
        if line.endswith("]"):
            closed = True
            line = line[:-1].strip()
        line = line.strip(",").strip()
        if not line or _FINISHED.match(line.encode()):
            continue
        try:
            record = json.loads(line)
        except RecursionError:  # a record of brackets nested thousands deep: no scanner's
            raise FeedError(
                _("This line nests deeper than any masscan record does."), where=at
            ) from None
        except ValueError:
            if records == 0 and not closed:
                raise _NotLines from None
            raise FeedError(_("This line is not a complete JSON record."), where=at) from None
        records += 1
        _record(record, at, scan, tally)
    if not opened:
        raise FeedError(_("The file is empty."), where=where)
    if not closed:
        raise FeedError(
            _("The file is not complete: the list of records does not end."), where=where
        )


def _lines(stream: IO[bytes]) -> Iterator[bytes]:
    """The file's lines, each with its newline, read in chunks (the stream need not have
    readline); a line longer than any masscan writes means the file is not one record a line."""
    pending = b""
    while True:
        chunk = stream.read(64 * 1024)
        if not chunk:
            if pending:
                yield pending
            return
        pending += chunk
        *lines, pending = pending.split(b"\n")
        for line in lines:
            yield line + b"\n"
        if len(pending) > _LINE_LIMIT:
            raise _NotLines


def _decoded(raw: bytes, offset: int, where: str, *, first: bool) -> str:
    if first and raw.startswith(b"\xef\xbb\xbf"):
        raw, offset = raw[3:], offset + 3
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise FeedError(
            _("The file is not UTF-8: the byte at offset %(offset)d cannot be read.")
            % {"offset": offset + exc.start},
            where=where,
        ) from None


def _read_json(stream: IO[bytes], where: str, scan: _Scan, tally: Tally) -> None:
    walk = JsonWalk(Utf8Reader(stream, where=where), where=where, array_key="")
    for index, record in enumerate(walk.items()):
        _record(record, place(where, f"[{index}]"), scan, tally)
    if not walk.top_is_list:
        raise not_this_format(stream, where, "masscan")


def _record(value: Any, at: str, scan: _Scan, tally: Tally) -> None:
    record = mapping_of(value, N_("A record"), at)
    if set(record) == {"finished"}:
        return
    address = text(record, "ip", at, required=True).strip()
    moment = record.get("timestamp")
    if isinstance(moment, str) and moment.isdigit():
        seconds = int(moment)
        scan.first = seconds if scan.first is None else min(scan.first, seconds)
        scan.last = seconds if scan.last is None else max(scan.last, seconds)
    if "ports" not in record:
        raise FeedError(_("The field “%(key)s” is missing.") % {"key": "ports"}, where=at)
    seen = scan.addresses.setdefault(address, _Address())
    for index, item in enumerate(listed(record, "ports", at)):
        here = place(at, f"ports[{index}]")
        port_entry = mapping_of(item, N_("A port"), here)
        port = port_entry.get("port")
        if not isinstance(port, int) or isinstance(port, bool) or not 0 <= port <= 65535:
            raise FeedError(
                _("The field “%(key)s” must be a port number.") % {"key": "port"}, where=here
            )
        protocol = text(port_entry, "proto", here, required=True).lower()
        if protocol not in PROTOCOLS:
            tally.skip(gettext_noop("port of an unknown protocol"))
            continue
        status = text(port_entry, "status", here)
        service = port_entry.get("service")
        name = text(service, "name", here) if isinstance(service, dict) else ""
        if status and status != "open":
            tally.skip(gettext_noop("port not open"))
            continue
        if not status and not name:
            tally.skip(gettext_noop("port record without a status"))
            continue
        key = (protocol, port)
        seen.ports[key] = seen.ports.get(key) or name


def _time(seconds: int | None) -> dt.datetime | None:
    if seconds is None:
        return None
    return dt.datetime.fromtimestamp(seconds, tz=dt.UTC)


def _host(address: str) -> Host:
    try:
        normalised = str(ipaddress.ip_address(address))
    except ValueError:
        problem = _("“%(address)s” is not an IP address.") % {"address": address}
        return Host(ref=address, target=address, problems=(problem,))
    return Host(ref=address, target=address, addresses=(normalised,))
