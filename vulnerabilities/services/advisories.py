"""Importing advisories: OSV, NVD and KEV records written atomically, then matched.

An import is all or nothing: the reader checks the whole file first (vulnerabilities.feeds),
then one transaction writes every record, joins each to its vulnerability through its aliases
(merging two vulnerabilities an advisory shows to be one), rematches the packages whose ranges
changed and rerates the findings whose vulnerability changed. A refused file is recorded as a
refused import and changes nothing else.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Iterable
from typing import IO, Any, BinaryIO, cast

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from audit import services as audit
from vulnerabilities import feeds, fetch, policy, scoring
from vulnerabilities.models import (
    Advisory,
    AffectedRange,
    Alias,
    FeedImport,
    Finding,
    Vulnerability,
)
from vulnerabilities.records import AdvisoryRecord, FeedError, KevEntry, ReadReport
from vulnerabilities.services import findings as findings_service
from vulnerabilities.services import remediation


def _digest(record: AdvisoryRecord) -> str:
    return hashlib.sha256(
        json.dumps(dataclasses.asdict(record), default=str, sort_keys=True).encode()
    ).hexdigest()


def _main_name(names: Iterable[str]) -> str:
    """A vulnerability's key: its CVE when it has one, else the first name in order."""
    ordered = sorted(names)
    cves = [name for name in ordered if name.upper().startswith("CVE-")]
    return (cves or ordered)[0]


def _merge(keep: Vulnerability, others: list[Vulnerability]) -> None:
    """Advisories showed these to be one flaw: everything moves to `keep`. A finding of the
    same system and package under both names is one finding: the one kept is `keep`'s."""
    for other in others:
        Alias.objects.filter(vulnerability=other).update(vulnerability=keep)
        Advisory.objects.filter(vulnerability=other).update(vulnerability=keep)
        kept = set(Finding.objects.filter(vulnerability=keep).values_list("system_id", "package"))
        for finding in Finding.objects.filter(vulnerability=other).order_by("pk"):
            if (finding.system_id, finding.package) in kept:
                audit.record(
                    actor=None,
                    verb="finding.merged",
                    target=finding,
                    target_label=f"{other.key} {finding.package}",
                    details={"into": keep.key},
                )
                finding.delete()
            else:
                finding.vulnerability = keep
                finding.save(update_fields=["vulnerability", "updated_at"])
        audit.record(
            actor=None, verb="vulnerability.merged", target=keep, details={"merged": other.key}
        )
        other.delete()


def _vulnerability_for(names: set[str]) -> Vulnerability:
    """The one vulnerability these names belong to, made or merged as needed."""
    known = list(Vulnerability.objects.filter(aliases__name__in=names).distinct().order_by("pk"))
    if not known:
        vulnerability = Vulnerability.objects.create(key=_main_name(names))
    else:
        vulnerability = known[0]
        _merge(vulnerability, known[1:])
    present = set(Alias.objects.filter(name__in=names).values_list("name", flat=True))
    Alias.objects.bulk_create(
        [Alias(name=name, vulnerability=vulnerability) for name in sorted(names - present)]
    )
    return vulnerability


def _rate(vulnerability: Vulnerability) -> bool:
    """The vulnerability from all its advisories: key, vector, severity, withdrawal. True when
    its rating changed (its findings are rerated)."""
    advisories = list(vulnerability.advisories.all())
    names = set(vulnerability.aliases.values_list("name", flat=True))
    vector, score, severity = scoring.best_vector(
        vector for advisory in advisories for vector in advisory.cvss_vectors
    )
    before = (vulnerability.severity, vulnerability.cvss_score, vulnerability.kev)
    vulnerability.key = _main_name(names) if names else vulnerability.key
    vulnerability.cvss_vector, vulnerability.cvss_score = vector, score
    vulnerability.severity = severity
    vulnerability.summary = next((a.summary for a in advisories if a.summary), "")
    published = [a.published_at for a in advisories if a.published_at]
    vulnerability.published_at = min(published) if published else None
    withdrawn = advisories and all(a.withdrawn_at for a in advisories)
    vulnerability.withdrawn_at = (
        max(a.withdrawn_at for a in advisories if a.withdrawn_at) if withdrawn else None
    )
    vulnerability.save()
    return before != (vulnerability.severity, vulnerability.cvss_score, vulnerability.kev)


def _write_advisory(record: AdvisoryRecord, now: Any) -> tuple[set[str], Vulnerability] | None:
    """One advisory written; the packages whose ranges it changed and its vulnerability, or
    None when it says what it said before."""
    digest = _digest(record)
    advisory = (
        Advisory.objects.select_for_update()
        .filter(source=record.source, source_id=record.source_id)
        .first()
    )
    if advisory is not None and advisory.digest == digest:
        return None
    vulnerability = _vulnerability_for({record.source_id, *record.aliases})
    packages: set[str] = set()
    if advisory is None:
        advisory = Advisory(source=record.source, source_id=record.source_id)
    else:
        packages |= set(advisory.ranges.values_list("package", flat=True))
        advisory.ranges.all().delete()
    advisory.vulnerability = vulnerability
    advisory.summary = record.summary
    advisory.cvss_vectors = list(record.cvss_vectors)
    advisory.references = list(record.references)[:50]
    advisory.published_at, advisory.modified_at = record.published, record.modified
    advisory.withdrawn_at = record.withdrawn
    advisory.digest, advisory.imported_at = digest, now
    advisory.save()
    AffectedRange.objects.bulk_create(
        [
            AffectedRange(
                advisory=advisory,
                package=affected.package,
                scheme=affected.scheme,
                vers=affected.vers,
                fixed=list(affected.fixed),
                review_only=affected.review_only,
                platforms=list(affected.platforms),
                rule=affected.rule[:1000],
            )
            for affected in record.affected
        ]
    )
    packages |= {affected.package for affected in record.affected}
    return packages, vulnerability


def _write_kev(entries: list[KevEntry]) -> set[int]:
    """The catalogue is the whole list: what it names is exploited, what it no longer names is
    not. Returns the vulnerabilities whose listing changed."""
    changed: set[int] = set()
    listed: set[int] = set()
    for entry in entries:
        vulnerability = _vulnerability_for({entry.cve_id})
        listed.add(vulnerability.pk)
        before = (vulnerability.kev, vulnerability.kev_due_on)
        vulnerability.kev, vulnerability.kev_added_on = True, entry.date_added
        vulnerability.kev_due_on, vulnerability.kev_ransomware = (
            entry.due_date,
            entry.known_ransomware,
        )
        if not vulnerability.summary:
            vulnerability.summary = entry.name
        vulnerability.save()
        if before != (True, entry.due_date):
            changed.add(vulnerability.pk)
    delisted = list(
        Vulnerability.objects.filter(kev=True).exclude(pk__in=listed).values_list("pk", flat=True)
    )
    Vulnerability.objects.filter(pk__in=delisted).update(kev=False, kev_due_on=None)
    return changed | set(delisted)


@transaction.atomic
def import_report(
    *,
    actor: User | None,
    kind: str,
    report: ReadReport,
    origin: str,
    started_at: Any,
    sha256: str = "",
    etag: str = "",
    last_modified: str = "",
) -> FeedImport:
    """Write what a reader read, in one transaction, and match what changed."""
    if not policy.can_import_advisories(actor):
        raise PermissionDenied(_("Only the CISO's office or an admin imports advisories."))
    now = timezone.now()
    packages: set[str] = set()
    rerate: set[int] = set()
    written = unchanged = 0
    touched: dict[int, Vulnerability] = {}
    for record in report.advisories:
        result = _write_advisory(record, now)
        if result is None:
            unchanged += 1
            continue
        written += 1
        changed_packages, vulnerability = result
        packages |= changed_packages
        touched[vulnerability.pk] = vulnerability
    for vulnerability in touched.values():
        vulnerability.refresh_from_db()
        if _rate(vulnerability):
            rerate.add(vulnerability.pk)
    listed = _write_kev(report.kev) if kind == FeedImport.Kind.KEV else set()
    rerate |= listed
    outcome = findings_service.rematch_packages(packages=packages, actor=actor)
    rerated = findings_service.rerate(vulnerability_ids=rerate)
    if listed:
        remediation.tell_ciso_of(
            Finding.objects.filter(
                vulnerability_id__in=listed, state=Finding.State.OPEN
            ).select_related("system", "vulnerability")
        )
    counts = {
        "advisories": written,
        "unchanged": unchanged,
        "kev": len(report.kev),
        "kev_changed": len(listed),
        "unknown_ecosystems": dict(report.unknown_ecosystems),
        "findings": dict(outcome.counts),
        "rerated": rerated,
    }
    feed_import = FeedImport.objects.create(
        kind=kind,
        origin=origin[:1000],
        outcome=FeedImport.Outcome.IMPORTED,
        sha256=sha256,
        etag=etag[:300],
        last_modified=last_modified[:100],
        counts=counts,
        started_at=started_at,
        finished_at=timezone.now(),
        started_by=actor,
    )
    audit.record(
        actor=actor,
        office=policy.ciso_office(actor) if actor is not None else "",
        verb="advisories.imported",
        target=feed_import,
        details={"kind": kind, "origin": origin, **counts},
    )
    return feed_import


def refused(
    *, actor: User | None, kind: str, origin: str, started_at: Any, error: FeedError | str
) -> FeedImport:
    """Record an import refused whole (in its own transaction: nothing else was written)."""
    return FeedImport.objects.create(
        kind=kind,
        origin=origin[:1000],
        outcome=FeedImport.Outcome.REFUSED,
        error=str(error),
        started_at=started_at,
        finished_at=timezone.now(),
        started_by=actor,
    )


def _sha256(stream: IO[bytes]) -> str:
    """The file's digest, read in chunks; the stream is left at its start again."""
    digest = hashlib.sha256()
    for chunk in iter(lambda: stream.read(1 << 20), b""):
        digest.update(chunk)
    stream.seek(0)
    return digest.hexdigest()


def import_file(
    *, actor: User | None, kind: str, stream: IO[bytes], origin: str, **conditional: str
) -> FeedImport:
    """Read and import one file; a malformed one is refused whole, recorded, and raised as a
    ValidationError saying what was wrong and where."""
    if not policy.can_import_advisories(actor):
        raise PermissionDenied(_("Only the CISO's office or an admin imports advisories."))
    if kind not in FeedImport.Kind.values:
        raise ValidationError({"kind": _("The kind must be osv, nvd or kev.")})
    started = timezone.now()
    digest = _sha256(stream)
    try:
        report = feeds.read_feed(kind, cast(BinaryIO, stream), name=origin)
    except FeedError as exc:
        refused(actor=actor, kind=kind, origin=origin, started_at=started, error=exc)
        raise ValidationError({"file": str(exc)}) from None
    return import_report(
        actor=actor,
        kind=kind,
        report=report,
        origin=origin,
        started_at=started,
        sha256=digest,
        **conditional,
    )


def import_origin(*, actor: User | None, kind: str, origin: str) -> FeedImport:
    """Import a feed from a URL (asked conditionally: a 304 is recorded as unchanged) or a
    local file; refusals as `import_file`."""
    if not policy.can_import_advisories(actor):
        raise PermissionDenied(_("Only the CISO's office or an admin imports advisories."))
    started = timezone.now()
    try:
        with fetch.fetch(origin) as fetched:
            if fetched.stream is None:
                return FeedImport.objects.create(
                    kind=kind,
                    origin=origin[:1000],
                    outcome=FeedImport.Outcome.UNCHANGED,
                    etag=fetched.etag,
                    last_modified=fetched.last_modified,
                    started_at=started,
                    finished_at=timezone.now(),
                    started_by=actor,
                )
            return import_file(
                actor=actor,
                kind=kind,
                stream=fetched.stream,
                origin=origin,
                etag=fetched.etag,
                last_modified=fetched.last_modified,
            )
    except OSError as exc:  # unreachable, refused, not found: recorded, nothing imported
        refused(actor=actor, kind=kind, origin=origin, started_at=started, error=str(exc))
        raise ValidationError(
            {"origin": _("Could not read %(origin)s: %(error)s") % {"origin": origin, "error": exc}}
        ) from None


def configured_feeds() -> list[tuple[str, str]]:
    """The feeds named in settings.VULNERABILITY_FEEDS as (kind, origin)."""
    from django.conf import settings

    feeds_named = []
    for entry in settings.VULNERABILITY_FEEDS:
        kind, _sep, origin = entry.partition("=")
        feeds_named.append((kind.strip(), origin.strip()))
    return feeds_named
