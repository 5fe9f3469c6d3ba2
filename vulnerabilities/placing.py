"""Which registered system a scanned host is: by the network identities valid on the scan's day
(host name, address, an address in a registered range, container image digest)."""

from __future__ import annotations

import datetime as dt
import ipaddress
from dataclasses import dataclass, field

from django.db.models import Q

from systems.models import NetworkIdentity
from vulnerabilities.models import ScanHost
from vulnerabilities.scanners.records import Host

Kind = NetworkIdentity.Kind
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass
class Placer:
    """Every identity valid on one day, read once for a whole import: placing a host is then
    a few dictionary lookups (a range is tested by containment, most specific first)."""

    hostnames: dict[str, int] = field(default_factory=dict)
    addresses: dict[str, int] = field(default_factory=dict)
    images: dict[str, int] = field(default_factory=dict)
    ranges: list[tuple[Network, int]] = field(default_factory=list)

    @classmethod
    def on(cls, day: dt.date) -> Placer:
        placer = cls()
        rows = (
            NetworkIdentity.objects.filter(valid_from__lte=day)
            .filter(Q(valid_to__isnull=True) | Q(valid_to__gte=day))
            .order_by("pk")
            .values_list("kind", "value", "system_id")
        )
        for kind, value, system_id in rows:
            if kind == Kind.HOSTNAME:
                placer.hostnames.setdefault(hostname(value), system_id)
            elif kind == Kind.IP:
                placer.addresses.setdefault(address(value), system_id)
            elif kind == Kind.IMAGE:
                placer.images.setdefault(digest(value), system_id)
            elif kind == Kind.RANGE:
                try:
                    placer.ranges.append((ipaddress.ip_network(value, strict=False), system_id))
                except ValueError:
                    continue  # the register's validation refuses these; an old row is ignored
        placer.ranges.sort(key=lambda pair: -pair[0].prefixlen)
        return placer

    def place(self, host: Host) -> tuple[int, str] | None:
        """The system and how it was recognised; None when no identity claims the host. An
        image digest is the surest, then an exact address, a host name, a range."""
        for image in host.image_digests:
            if image in self.images:
                return self.images[image], ScanHost.Placement.IMAGE
        for value in host.addresses:
            if value in self.addresses:
                return self.addresses[value], ScanHost.Placement.IP
        for name in host.hostnames:
            if name in self.hostnames:
                return self.hostnames[name], ScanHost.Placement.HOSTNAME
        for value in host.addresses:
            found = self.in_range(value)
            if found is not None:
                return found, ScanHost.Placement.RANGE
        return None

    def in_range(self, value: str) -> int | None:
        try:
            ip = ipaddress.ip_address(value)
        except ValueError:
            return None
        for network, system_id in self.ranges:
            if ip.version == network.version and ip in network:
                return system_id
        return None


def hostname(value: str) -> str:
    return value.strip().lower().rstrip(".")


def address(value: str) -> str:
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return value.strip()


def digest(value: str) -> str:
    value = value.strip().lower()
    if "@" in value:
        value = value.rsplit("@", 1)[1]
    return value if value.startswith("sha256:") else f"sha256:{value}"
