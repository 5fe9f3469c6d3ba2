"""The attacker's view, as plain rules: which open ports are risky on the internet, and which
ports a network scan says it looked at."""

from __future__ import annotations

import re

from django.utils.translation import gettext_lazy as _

# Services that should not answer on the internet: remote administration, file sharing,
# databases and caches, industrial and management protocols. Named on the attack-surface
# page and in the API wherever such a port is seen open.
RISKY_PORTS: dict[tuple[str, int], str] = {
    ("tcp", 21): "FTP",
    ("tcp", 23): "Telnet",
    ("tcp", 135): "Microsoft RPC",
    ("tcp", 139): "NetBIOS",
    ("tcp", 445): "SMB",
    ("tcp", 1433): "Microsoft SQL Server",
    ("tcp", 1521): "Oracle Database",
    ("tcp", 2375): "Docker API (no TLS)",
    ("tcp", 2379): "etcd",
    ("tcp", 3306): "MySQL",
    ("tcp", 3389): "Remote Desktop (RDP)",
    ("tcp", 5432): "PostgreSQL",
    ("tcp", 5900): "VNC",
    ("tcp", 5984): "CouchDB",
    ("tcp", 6379): "Redis",
    ("tcp", 9200): "Elasticsearch",
    ("tcp", 10250): "Kubernetes kubelet",
    ("tcp", 11211): "memcached",
    ("tcp", 27017): "MongoDB",
    ("tcp", 502): "Modbus",
    ("udp", 161): "SNMP",
    ("udp", 1900): "SSDP",
    ("udp", 11211): "memcached",
}

RISKY_WHY = _("should not answer on the internet")


def risky(protocol: str, port: int) -> str:
    """The name of the risky service on this port, or ""."""
    return RISKY_PORTS.get((protocol.lower(), port), "")


def port_ranges(text: str) -> dict[str, list[tuple[int, int]]]:
    """nmap's port list as the readers write ReportInfo.ports_scanned ("tcp:1-1000,3389,udp:53":
    a protocol prefix holds until the next one; none means TCP) as ranges per protocol; {} when
    the report did not say."""
    ranges: dict[str, list[tuple[int, int]]] = {}
    protocol = "tcp"
    for token in re.split(r"[,;\s]+", text.strip()):
        spec = token
        if ":" in token:
            protocol, spec = token.split(":", 1)
            protocol = protocol.lower()
        low, _dash, high = spec.partition("-")
        try:
            start = int(low)
            end = int(high) if high else start
        except ValueError:
            continue
        ranges.setdefault(protocol, []).append((start, end))
    return ranges


def covers(ranges: dict[str, list[tuple[int, int]]], protocol: str, port: int) -> bool:
    return any(low <= port <= high for low, high in ranges.get(protocol, ()))
