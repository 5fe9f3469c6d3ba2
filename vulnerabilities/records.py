"""What the feed readers hand the importer: advisories, affected packages and KEV entries as
plain values, read and checked before anything is written."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field


class FeedError(ValueError):
    """A feed that is not what it claims, truncated, not UTF-8 or malformed. `where` says
    where (a member of a zip, a record's id or index, a JSON path); nothing is imported."""

    def __init__(self, message: str, *, where: str = "") -> None:
        super().__init__(f"{where}: {message}" if where else message)
        self.message = message
        self.where = where


@dataclass(frozen=True)
class AffectedPackage:
    """One package an advisory says is affected, and which of its versions.

    `package` is the key components are matched on (systems.packages): `pkg:pypi/django`,
    `cpe:a:apache:log4j`. `vers` is a univers version range (`vers:pypi/>=3.2|<3.2.14`);
    empty with `review_only` when the advisory names every version (a CPE whose version is
    `*` or `-` with no bounds): a person reviews it, it never makes a finding by itself.
    `platforms`: for an NVD AND configuration, package keys of which one must also be on
    the system. `rule` says in words what was read, and is kept on each finding it makes.
    """

    package: str
    scheme: str
    vers: str
    rule: str
    fixed: tuple[str, ...] = ()
    review_only: bool = False
    platforms: tuple[str, ...] = ()


@dataclass(frozen=True)
class AdvisoryRecord:
    """One advisory as a feed publishes it (an OSV record, an NVD CVE)."""

    source: str  # "osv" or "nvd"
    source_id: str  # "GHSA-…", "PYSEC-…", "CVE-…"
    aliases: tuple[str, ...]  # other names of the same flaw (not including source_id)
    summary: str
    published: dt.datetime | None
    modified: dt.datetime | None
    withdrawn: dt.datetime | None
    cvss_vectors: tuple[str, ...]  # "CVSS:3.1/…", "CVSS:4.0/…" as published
    affected: tuple[AffectedPackage, ...]
    references: tuple[str, ...] = ()


@dataclass(frozen=True)
class KevEntry:
    """One entry of CISA's Known Exploited Vulnerabilities catalogue."""

    cve_id: str
    vendor: str
    product: str
    name: str
    date_added: dt.date
    due_date: dt.date | None
    known_ransomware: bool
    required_action: str = ""


@dataclass
class ReadReport:
    """What a reader found besides the records: ecosystems it could not compare (counted, not
    an error), and the records it read."""

    advisories: list[AdvisoryRecord] = field(default_factory=list)
    kev: list[KevEntry] = field(default_factory=list)
    unknown_ecosystems: Counter[str] = field(default_factory=Counter)
