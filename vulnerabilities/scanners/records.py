"""What a scanner-report reader hands the importer: the report, its hosts, what was seen on
them (vulnerabilities by package or port) and which services were open, as plain values.

A reader is a generator over one binary stream. It yields one `ReportInfo` first, then for
each host (an address, a container image, a file system, a Kubernetes resource) its `Host`
before that host's `Observation`s and `OpenService`s. It checks as it reads and raises
`FeedError` (vulnerabilities.records) naming where, the moment the file is not what it
claims: the importer then writes nothing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

# Formats, as Scan.Format stores them.
TRIVY = "trivy"
GRYPE = "grype"
NESSUS = "nessus"
OPENVAS = "openvas"
SARIF = "sarif"
CYCLONEDX = "cyclonedx"
NMAP = "nmap"
MASSCAN = "masscan"
VULNERABILITY_FORMATS = (TRIVY, GRYPE, NESSUS, OPENVAS, SARIF, CYCLONEDX)
SURFACE_FORMATS = (NMAP, MASSCAN)


@dataclass(frozen=True)
class ReportInfo:
    """The report as a whole: which tool wrote it, when it ran, and (network scans) which
    ports it was told to look at, in nmap's notation ("1-1024,3389"; "" when not said)."""

    format: str
    tool: str  # "Trivy 0.58.1", "Nessus", "nmap 7.94"
    started_at: dt.datetime | None = None
    finished_at: dt.datetime | None = None
    ports_scanned: str = ""


@dataclass
class Host:
    """One thing the scan looked at. `ref` is unique within the report and is what the
    observations and services of this host name.

    Routing to a registered system uses `addresses`, `hostnames` and `image_digests` (all
    normalised: addresses as `ipaddress` writes them, host names lower case without a final
    dot, digests `sha256:<hex>`). `target` is what the scanner called it, for people.

    Coverage says where the scan looked, so that only there can it close findings: `up` is
    False for a host a network scan found down (it covered nothing); `ecosystems` are the
    package types a package scanner examined on it (the Package URL types, "pypi", "deb",
    ...); `ports_covered` is True when a network scanner examined its ports. `problems` are
    things in the report about this host that were kept but could not be read (an invalid
    address), for the import's page.
    """

    ref: str
    target: str = ""
    addresses: tuple[str, ...] = ()
    hostnames: tuple[str, ...] = ()
    image_digests: tuple[str, ...] = ()
    up: bool = True
    ecosystems: frozenset[str] = frozenset()
    ports_covered: bool = False
    problems: tuple[str, ...] = ()


@dataclass(frozen=True)
class Observation:
    """One vulnerability the scanner saw on a host.

    `names`: the vulnerability's identifiers, the scanner's main one first, then its other
    names ("CVE-2021-44228", "GHSA-jfh8-c2jp-5v3q"); a finding without a CVE has the
    scanner's own ("NESSUS-19506", "OPENVAS-1.3.6.1.4.1.25623.1.0.108440", "AVD-KSV-0001").
    Either `package` (a package key, systems.packages.purl_key: "pkg:pypi/django") with the
    `version` installed and `fixed_in`, or `port` ("tcp/443"; "tcp/0" for the host itself),
    or for a configuration or a secret a `package` of "file:<path>".
    `affected` is False for a VEX statement that the product is not affected.
    """

    host: str
    names: tuple[str, ...]
    title: str
    severity: str  # vulnerabilities.models.Severity value
    package: str = ""
    version: str = ""
    fixed_in: str = ""
    port: str = ""
    cvss_vector: str = ""
    cvss_score: Decimal | None = None
    detail: str = ""
    affected: bool = True


@dataclass(frozen=True)
class OpenService:
    """A port a network scan found open on a host, and what answered there."""

    host: str
    protocol: str  # "tcp", "udp", "sctp"
    port: int
    name: str = ""  # "https"
    product: str = ""  # "nginx 1.25.3"


Record = ReportInfo | Host | Observation | OpenService


@dataclass
class Tally:
    """What a reader skipped without refusing the file (counted, shown on the import)."""

    skipped: dict[str, int] = field(default_factory=dict)

    def skip(self, why: str) -> None:
        self.skipped[why] = self.skipped.get(why, 0) + 1
