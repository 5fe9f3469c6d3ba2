"""Scanner reports: received (kept by their hash, the same file twice is one import), read
streaming and applied in one transaction, or refused whole.

What a scanner saw on a host becomes a sighting of the same finding the inventory would make
(system, vulnerability through its aliases, package) or of a finding on a port, so two
scanners and an SBOM reporting one flaw are one finding. A scan closes a finding only where it
looked: on a host it covered (up; the package types it examined, or its ports) and that it no
longer saw there; a finding the inventory still carries stays open. A scan of the company's
addresses (nmap, masscan) records the services open on registered systems and turns an
address no system claims into a discovered asset for the CISO's office to triage.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import IO, Any

from django.conf import settings
from django.core.cache import caches
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import DatabaseError, IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q
from django.db.models import F as Ref
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from audit import services as audit
from config.errors import Conflict
from config.sql import copy_rows, reserve_ids
from systems.models import System
from vulnerabilities import policy, scoring
from vulnerabilities.models import (
    Alias,
    DiscoveredAsset,
    ExposedService,
    Finding,
    Scan,
    ScanHost,
    Severity,
    Sighting,
    Vulnerability,
)
from vulnerabilities.placing import Placer
from vulnerabilities.records import FeedError
from vulnerabilities.scanners import detect
from vulnerabilities.scanners.records import (
    Host,
    Observation,
    OpenService,
    ReportInfo,
    Tally,
)
from vulnerabilities.services import remediation
from vulnerabilities.services.advisories import _main_name
from vulnerabilities.services.findings import LIVE, _facts, _rated, deadlines
from vulnerabilities.surface import covers, port_ranges

logger = logging.getLogger(__name__)
F = Finding.State
# A new finding's columns as a scan writes it; the rest take their defaults.
NEW_FINDING_COLUMNS = [
    "system_id", "vulnerability_id", "package", "version", "why", "fixed_in", "state",
    "severity", "priority", "due_on", "first_seen_at", "opened_at", "seen_by_scan",
]  # fmt: skip
SIGHTING_COLUMNS = [
    "finding_id", "scan_id", "target", "version", "fixed_in", "severity", "title", "affected",
    "outcome",
]  # fmt: skip
# What seeing a finding again may change on it.
SEEN_FIELDS = [
    "state", "opened_at", "fixed_at", "reopened", "severity", "priority", "due_on", "version",
    "fixed_in", "seen_by_scan", "version_number", "updated_at",
]  # fmt: skip
BATCH = 5000
PROGRESS_EVERY = 1 << 20  # bytes read between two progress notes
_SEVERITIES = {choice.value for choice in Severity}


class DuplicateScan(Conflict):
    """This file was imported already: 409, naming the import it was to whoever may see it
    (`scan` is None for anyone else: another unit's upload is not theirs to learn of)."""

    def __init__(self, scan: Scan, actor: Any) -> None:
        shown = policy.visible_scans(actor).filter(pk=scan.pk).exists()
        super().__init__(
            _("This file was imported already, as scan %(id)d of %(when)s.")
            % {"id": scan.pk, "when": timezone.localtime(scan.uploaded_at).strftime("%Y-%m-%d")}
            if shown
            else _("This file was imported already."),
            code="scan_duplicate",
        )
        self.scan: Scan | None = scan if shown else None


# --- Receiving --------------------------------------------------------------------------------


def inline_limit() -> int:
    """Reports up to this size are imported in the request; bigger ones by a worker."""
    return int(getattr(settings, "SCAN_INLINE_BYTES", 2 << 20))


def receive(
    *, actor: User, upload: UploadedFile, system: System | None = None, format: str = ""
) -> Scan:
    """Keep an uploaded report and import it: now when small, else queued for a worker (the
    returned scan says which). Refused at once: a file in no format we read, an empty or
    oversized one, one imported before (409)."""
    office = policy.scan_office(actor, system)
    if office is None:
        raise PermissionDenied(
            _("Only the system's unit or the CISO's office uploads its scans.")
            if system is not None
            else _("Only the CISO's office uploads a scan placed by network identities.")
        )
    size = upload.size or 0
    if size == 0:
        raise ValidationError({"file": _("The file is empty.")})
    if size > settings.SCAN_MAX_BYTES:
        raise ValidationError(
            {
                "file": _("The file is larger than %(limit)d MB.")
                % {"limit": settings.SCAN_MAX_BYTES >> 20}
            }
        )
    upload.seek(0)
    head = upload.read(64 * 1024)
    found = detect.detect(head)
    if found is None:
        raise ValidationError(
            {
                "file": _("This is not a report in a format we read (%(formats)s).")
                % {"formats": ", ".join(str(label) for _v, label in Scan.Format.choices)}
            }
        )
    if format and format != found:
        raise ValidationError(
            {
                "format": _("The file is %(found)s, not %(said)s.")
                % {"found": Scan.Format(found).label, "said": Scan.Format(format).label}
            }
        )
    digest = hashlib.sha256()
    upload.seek(0)
    for chunk in upload.chunks():
        digest.update(chunk)
    sha256 = digest.hexdigest()
    upload.seek(0)
    with transaction.atomic():
        imported = Scan.objects.filter(sha256=sha256, system=system).exclude(
            state=Scan.State.REFUSED
        )
        earlier = imported.first()
        if earlier is not None:
            raise DuplicateScan(earlier, actor)
        now = timezone.now()
        scan = Scan(
            format=found,
            file_name=(upload.name or "report")[-255:],
            size=size,
            sha256=sha256,
            system=system,
            uploaded_by=actor,
            uploaded_office=office,
            uploaded_at=now,
            scanned_at=now,  # until the report says when it ran
        )
        scan.file.save(scan.file_name, upload, save=False)
        try:
            with transaction.atomic():
                scan.save()
        except IntegrityError:  # the same file, uploaded at the same moment
            scan.file.delete(save=False)
            raise DuplicateScan(imported.get(), actor) from None
        audit.record(
            actor=actor,
            office=office,
            verb="scan.received",
            target=scan,
            target_label=str(scan),
            details={
                "format": found,
                "size": size,
                "sha256": sha256,
                "system": system.code if system is not None else None,
            },
        )
        if size > inline_limit():
            from vulnerabilities import tasks  # the task module imports this one

            transaction.on_commit(lambda: tasks.import_scan.delay(scan.pk))
    if size <= inline_limit():
        return run(scan_id=scan.pk)
    return scan


# --- Progress ---------------------------------------------------------------------------------


def _progress_key(scan_id: int) -> str:
    return f"scan-progress:{scan_id}"


# Times each reader goes through the file (the host descriptions of some formats come after
# their findings, or a summary at the end): progress is the bytes read over all passes.
PASSES: dict[str, int] = {
    Scan.Format.TRIVY: 2,
    Scan.Format.GRYPE: 2,
    Scan.Format.CYCLONEDX: 2,
    Scan.Format.SARIF: 2,
    Scan.Format.NESSUS: 2,
    Scan.Format.OPENVAS: 2,
    Scan.Format.NMAP: 1,
    Scan.Format.MASSCAN: 1,
}


def progress(scan: Scan) -> int | None:
    """Bytes of the file read so far by the import running now (None: not known)."""
    if scan.state == Scan.State.DONE:
        return scan.size
    value = caches["progress"].get(_progress_key(scan.pk))
    if value is None:
        return None
    return min(scan.size, int(value) // PASSES.get(scan.format, 1))


class _Counting:
    """The stored file, noting how much of it the import has read, over all its passes (for
    the page's progress bar)."""

    def __init__(self, raw: IO[bytes], scan_id: int) -> None:
        self._raw = raw
        self._key = _progress_key(scan_id)
        self._read = 0
        self._noted = 0

    def read(self, size: int = -1) -> bytes:
        chunk = self._raw.read(size)
        self._read += len(chunk)
        if self._read - self._noted >= PROGRESS_EVERY:
            self._noted = self._read
            caches["progress"].set(self._key, self._read, timeout=24 * 3600)
        return chunk

    def seek(self, offset: int, whence: int = 0) -> int:
        return self._raw.seek(offset, whence)

    def tell(self) -> int:
        return self._raw.tell()

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True


# --- Importing --------------------------------------------------------------------------------


def run(*, scan_id: int) -> Scan:
    """Import a received scan (the worker's task and small uploads alike). Idempotent: a
    scan already imported or refused is returned as it is; a redelivered task waits for the
    one running and then finds it done."""
    scan = Scan.objects.get(pk=scan_id)
    if scan.state not in {Scan.State.QUEUED, Scan.State.RUNNING}:
        return scan
    Scan.objects.filter(pk=scan_id, state=Scan.State.QUEUED).update(state=Scan.State.RUNNING)
    try:
        with transaction.atomic():
            scan = Scan.objects.select_for_update().get(pk=scan_id)
            if scan.state in {Scan.State.QUEUED, Scan.State.RUNNING}:
                _Import(scan).apply()
    except FeedError as exc:
        return _refuse(scan_id, exc)
    except (DatabaseError, LookupError, RecursionError, TypeError, ValueError) as exc:
        # A report that makes the import trip (a value no column holds, an import of the same
        # system at the same moment): refused rather than left importing for ever, its hash
        # free again, and the cause logged for us.
        logger.exception("scan %s: the import failed", scan_id)
        return _refuse(
            scan_id,
            FeedError(
                _("The import failed (%(error)s); nothing of the file was written. Send it again.")
                % {"error": type(exc).__name__},
                where=scan.file_name,
            ),
        )
    finally:
        caches["progress"].delete(_progress_key(scan_id))
    return Scan.objects.get(pk=scan_id)


# An import holds its scan's row lock from start to end: a scan still "importing" whose row
# nobody holds, this long after its upload, was being imported by a process that ended (a
# worker killed, a web process restarted) and will not finish.
INTERRUPTED_AFTER = timedelta(minutes=10)
QUEUED_RESENT_AFTER = timedelta(hours=1)


def take_back_interrupted(*, now: dt.datetime | None = None) -> dict[str, list[int]]:
    """Scans left importing by a process that ended are refused, saying so (nothing of the
    file was written, and its hash is free to send it again); scans queued for long are sent
    to the workers again (an import is idempotent). Beat runs this every few minutes."""
    now = now or timezone.now()
    interrupted = []
    for scan_id in Scan.objects.filter(
        state=Scan.State.RUNNING, uploaded_at__lt=now - INTERRUPTED_AFTER
    ).values_list("pk", flat=True):
        with transaction.atomic():
            free = (
                Scan.objects.select_for_update(skip_locked=True)
                .filter(pk=scan_id, state=Scan.State.RUNNING)
                .exists()
            )
            if not free:
                continue  # being imported now
            _refuse(
                scan_id,
                FeedError(
                    _(
                        "The import stopped before it finished (the process importing it "
                        "ended); nothing of the file was written. Send it again."
                    ),
                    where="",
                ),
            )
            interrupted.append(scan_id)
    waiting = list(
        Scan.objects.filter(
            state=Scan.State.QUEUED, uploaded_at__lt=now - QUEUED_RESENT_AFTER
        ).values_list("pk", flat=True)
    )
    if waiting:
        from vulnerabilities import tasks  # the task module imports this one

        for scan_id in waiting:
            tasks.import_scan.delay(scan_id)
    if interrupted:
        logger.warning("scan imports interrupted and refused: %s", interrupted)
    return {"refused": interrupted, "resent": waiting}


@transaction.atomic
def _refuse(scan_id: int, exc: FeedError) -> Scan:
    """Nothing of the file was written (its transaction rolled back): the scan says why."""
    scan = Scan.objects.select_for_update().get(pk=scan_id)
    scan.state, scan.error, scan.error_where = Scan.State.REFUSED, exc.message, exc.where[:500]
    scan.imported_at = timezone.now()
    if scan.file.name:  # a refused file is not kept: a bomb or a stranger's file has no use here
        name, storage = scan.file.name, scan.file.storage
        transaction.on_commit(lambda: storage.delete(name))
    scan.file = ""
    scan.save(update_fields=["state", "error", "error_where", "imported_at", "file"])
    audit.record(
        actor=scan.uploaded_by,
        office=scan.uploaded_office,
        verb="scan.refused",
        target=scan,
        target_label=str(scan),
        details={"error": exc.message[:500], "where": exc.where[:500]},
    )
    return scan


class _Rater:
    """Severity, priority and due date of a batch's findings, from one read of their systems'
    and vulnerabilities' facts and of the CISO's deadlines."""

    def __init__(self, system_ids: set[int], vulnerability_ids: set[int]) -> None:
        self.systems, self.vulnerabilities = _facts(system_ids, vulnerability_ids)
        self.days = deadlines()

    def rating(
        self, system_id: int, vulnerability_id: int, opened: dt.date
    ) -> tuple[str, str, Any]:
        """Severity, priority and due date of a new finding opened on `opened`, as `rate`
        gives them, for rows written without a model instance."""
        vulnerability = self.vulnerabilities[vulnerability_id]
        priority = scoring.priority(
            severity=vulnerability["severity"],
            kev=vulnerability["kev"],
            system=self.systems[system_id],
        )
        due_on = scoring.due_on(
            opened=opened,
            priority=priority,
            deadlines=self.days,
            kev_due_on=vulnerability["kev_due_on"],
        )
        return vulnerability["severity"], priority, due_on

    def planned(
        self, pk: int, key: tuple[int, int, str], obs: Observation, row: tuple[Any, ...]
    ) -> remediation.Planned:
        """A new finding as remediation plans from it (`row`: as written, NEW_FINDING_COLUMNS)."""
        system, vulnerability = self.systems[key[0]], self.vulnerabilities[key[1]]
        return remediation.Planned(
            pk=pk,
            system_id=key[0],
            package=key[2],
            version=row[3],
            fixed_in=row[5],
            priority=row[8],
            due_on=row[9],
            unit_id=system["unit_id"],
            code=system["code"],
            internet_facing=system["internet_facing"],
            key=vulnerability["key"],
            kev=vulnerability["kev"],
            severity=vulnerability["severity"],
            scheme=None,
            name=None,
        )

    def rate(self, finding: Finding) -> None:
        _rated(
            finding,
            self.vulnerabilities[finding.vulnerability_id],
            self.systems[finding.system_id],
            self.days,
        )


@dataclass(slots=True)
class _Placed:
    """A host of the report as the import holds it while reading on: where it goes, what it
    covered, how much was seen on it, and its row until that is written (a scan of a hundred
    thousand addresses keeps a few hundred bytes a host, not a model instance)."""

    system_id: int | None
    address: str | None
    hostnames: tuple[str, ...]
    up: bool
    ecosystems: tuple[str, ...]
    ports_covered: bool
    label: str  # how its port findings name it: the first address, else a host name, else ref
    target: str  # what the scanner looked at, as its sightings keep it
    row: ScanHost | None  # None once written
    pk: int | None = None
    observations: int = 0
    services: int = 0
    written: tuple[int, int] = (0, 0)  # the counts its row was written with

    def counts(self) -> tuple[int, int]:
        return self.observations, self.services


@dataclass
class _Import:
    """One report applied: hosts placed, observations batched into findings and sightings,
    services into the attack surface, then what the scan covered and no longer saw closed."""

    scan: Scan
    tally: Tally = field(default_factory=Tally)
    counts: Counter[str] = field(default_factory=Counter)
    hosts: dict[str, _Placed] = field(default_factory=dict)
    unwritten: list[_Placed] = field(default_factory=list)
    pending: list[tuple[_Placed, Observation]] = field(default_factory=list)
    services: list[tuple[_Placed, OpenService]] = field(default_factory=list)
    looked: list[str] = field(default_factory=list)  # addresses whose ports the scan examined
    seen: set[tuple[int, int, str]] = field(default_factory=set)
    names: dict[str, int] = field(default_factory=dict)  # vulnerability of each name
    opened: list[int] = field(default_factory=list)
    planned: list[remediation.Planned] = field(default_factory=list)  # new findings, as rows
    info: ReportInfo | None = None
    placer: Placer | None = None
    newer: set[int] = field(default_factory=set)  # scans of a later moment that fixed findings

    @property
    def moment(self) -> dt.datetime:
        """When the scan looked (Scan.scanned_at)."""
        return self.scan.scanned_at

    def _report(self, info: ReportInfo) -> None:
        """The report's own moment: its end, else its start, else the upload; never later
        than the upload (a scanner's clock ahead of ours would otherwise make its report newer
        than every scan to come). Hosts are placed by the identities valid on that day."""
        self.info = info
        said = info.finished_at or info.started_at
        self.scan.scanned_at = min(said, self.scan.uploaded_at) if said else self.scan.uploaded_at
        self.placer = Placer.on(timezone.localdate(self.scan.scanned_at))

    def apply(self) -> None:
        from vulnerabilities.scanners.detect import READERS

        read = READERS[self.scan.format]
        with self.scan.file.open("rb") as raw:
            stream = _Counting(raw, self.scan.pk)
            for record in read(stream, where=self.scan.file_name, tally=self.tally):
                if isinstance(record, Observation):
                    self._observation(record)
                elif isinstance(record, OpenService):
                    self._service(record)
                elif isinstance(record, Host):
                    self._host(record)
                elif isinstance(record, ReportInfo):
                    self._report(record)
        if self.info is None:
            raise FeedError(
                _("The report says nothing of what wrote it."), where=self.scan.file_name
            )
        self._flush_observations()
        self._write_hosts(everything=True)
        self._flush_services()
        self._close_services()
        closed = self._close()
        self._finish(closed)

    # Records ------------------------------------------------------------------------------

    def _host(self, host: Host) -> None:
        if host.ref in self.hosts:
            raise FeedError(
                _("The host “%(ref)s” is reported twice.") % {"ref": host.ref[:200]},
                where=self.scan.file_name,
            )
        row = ScanHost(
            scan=self.scan,
            ref=host.ref[:500],
            target=host.target[:500],
            address=host.addresses[0] if host.addresses else None,
            addresses=list(host.addresses),
            hostnames=list(host.hostnames),
            image_digests=list(host.image_digests),
            up=host.up,
            ecosystems=sorted(host.ecosystems),
            ports_covered=host.ports_covered,
            problems=list(host.problems),
        )
        if self.scan.system_id is not None:
            row.system_id, row.placed_by = self.scan.system_id, ScanHost.Placement.NAMED
        else:
            if self.placer is None:  # a reader that describes a host before its report
                self.placer = Placer.on(timezone.localdate(self.scan.scanned_at))
            found = self.placer.place(host)
            if found is not None:
                row.system_id, row.placed_by = found
        placed = _Placed(
            system_id=row.system_id,
            address=row.address,
            hostnames=tuple(host.hostnames),
            up=host.up,
            ecosystems=tuple(row.ecosystems),
            ports_covered=host.ports_covered,
            label=(host.addresses or host.hostnames or (host.ref,))[0],
            target=_target(host),
            row=row,
        )
        self.hosts[host.ref] = placed
        self.unwritten.append(placed)
        if host.up and host.ports_covered and row.address:
            self.looked.append(row.address)
        if len(self.unwritten) > BATCH:
            self._write_hosts()
        self.counts["hosts"] += 1
        self.counts["placed" if row.system_id else "unplaced"] += 1
        if not host.up:
            self.counts["hosts_down"] += 1

    def _of(self, ref: str) -> _Placed:
        placed = self.hosts.get(ref)
        if placed is None:
            raise FeedError(
                _("A result names the host “%(ref)s”, which the report does not describe.")
                % {"ref": ref[:200]},
                where=self.scan.file_name,
            )
        return placed

    def _observation(self, observation: Observation) -> None:
        if any(len(name) > 100 for name in observation.names):  # as the alias column holds them
            observation = replace(
                observation, names=tuple(dict.fromkeys(name[:100] for name in observation.names))
            )
        placed = self._of(observation.host)
        placed.observations += 1
        self.counts["observations"] += 1
        if placed.system_id is None:
            self.counts["observations_unplaced"] += 1
            return
        self.pending.append((placed, observation))
        if len(self.pending) >= BATCH:
            self._flush_observations()

    def _service(self, service: OpenService) -> None:
        placed = self._of(service.host)
        placed.services += 1
        self.counts["services"] += 1
        self.services.append((placed, service))
        if len(self.services) >= BATCH:
            self._flush_services()

    def _write_hosts(self, *, everything: bool = False) -> None:
        """The hosts' rows, a batch at a time as the file is read (but the last, whose results
        may still be coming); at the end, the counts of those written before their last result."""
        batch = self.unwritten if everything else self.unwritten[:-1]
        self.unwritten = [] if everything else self.unwritten[-1:]
        rows = []
        for placed in batch:
            assert placed.row is not None
            placed.row.observations, placed.row.services = placed.written = placed.counts()
            rows.append(placed.row)
        ScanHost.objects.bulk_create(rows, batch_size=2000)
        for placed, row in zip(batch, rows, strict=True):
            placed.pk, placed.row = row.pk, None
        if everything:
            later = [p for p in self.hosts.values() if p.counts() != p.written]
            ScanHost.objects.bulk_update(
                [
                    ScanHost(pk=p.pk, observations=p.observations, services=p.services)
                    for p in later
                ],
                ["observations", "services"],
                batch_size=2000,
            )

    # Findings -----------------------------------------------------------------------------

    def _vulnerabilities(self, batch: list[tuple[_Placed, Observation]]) -> None:
        """Every name of the batch resolved to a vulnerability, through its aliases; a flaw
        no advisory has named yet is made from what the scanner says of it (its advisories,
        when they come, join it by the same names)."""
        wanted = {name for _p, obs in batch for name in obs.names} - self.names.keys()
        if wanted:
            self.names.update(
                Alias.objects.filter(name__in=wanted).values_list("name", "vulnerability_id")
            )
        unknown: dict[str, Observation] = {}
        for _placed, obs in batch:
            if not any(name in self.names for name in obs.names):
                unknown.setdefault(_main_name(obs.names), obs)
        if unknown:
            made = {
                key: Vulnerability(
                    key=key[:100],
                    summary=obs.title,
                    **_rating(obs),
                )
                for key, obs in unknown.items()
            }
            present = set(Vulnerability.objects.filter(key__in=made).values_list("key", flat=True))
            Vulnerability.objects.bulk_create(
                [v for key, v in made.items() if key not in present], batch_size=2000
            )
            keys = dict(Vulnerability.objects.filter(key__in=made).values_list("key", "pk"))
            aliases = []
            for key, obs in unknown.items():
                for name in {key, *obs.names}:
                    aliases.append(Alias(name=name[:100], vulnerability_id=keys[key]))
                    self.names[name] = keys[key]
            Alias.objects.bulk_create(aliases, ignore_conflicts=True, batch_size=2000)
            self.counts["vulnerabilities_new"] += len(made) - len(present)
        # A name the scanner gives beside a known one (Grype's related CVE of a GHSA) joins the
        # same vulnerability; names that belong to two already are left as they are.
        extra = []
        for _placed, obs in batch:
            known = next(self.names[name] for name in obs.names if name in self.names)
            for name in obs.names:
                if name not in self.names:
                    self.names[name] = known
                    extra.append(Alias(name=name[:100], vulnerability_id=known))
        Alias.objects.bulk_create(extra, ignore_conflicts=True, batch_size=2000)

    def _flush_observations(self) -> None:
        batch, self.pending = self.pending, []
        if not batch:
            return
        self._vulnerabilities(batch)
        rows: dict[tuple[int, int, str], Observation] = {}
        targets: dict[tuple[int, int, str], str] = {}
        for placed, obs in batch:
            package = obs.package or f"port:{placed.label}/{obs.port or 'tcp/0'}"
            vulnerability_id = next(self.names[n] for n in obs.names if n in self.names)
            assert placed.system_id is not None
            key = (placed.system_id, vulnerability_id, package[:300])
            if key in self.seen or key in rows:
                self.counts["repeated"] += 1
                continue
            rows[key] = obs
            targets[key] = placed.target
        self.seen.update(rows)
        existing = self._existing(rows)
        self._rater = _Rater({k[0] for k in rows}, {k[1] for k in rows})
        created: list[tuple[tuple[int, int, str], Observation]] = []
        changed: list[Finding] = []
        sightings: list[tuple[tuple[int, int, str], Observation, str]] = []
        later = self._later_scans({(key[0], targets[key]) for key in rows if key not in existing})
        superseded: dict[tuple[int, int, str], int] = {}  # new, but a later scan looked: fixed
        for key, obs in rows.items():
            found = existing.get(key)
            if found is None and not obs.affected:
                self.counts["not_affected_unopened"] += 1  # a statement on no finding: no sighting
                continue
            if found is None:
                created.append((key, obs))
                outcome: str = Sighting.Outcome.NEW
                newer = _covering(later.get((key[0], targets[key]), []), key[2])
                if newer is not None:
                    superseded[key], outcome = newer, Sighting.Outcome.OLDER
            else:
                outcome = self._again(found, obs, changed)
            self.counts[outcome] += 1
            sightings.append((key, obs, outcome))
        ids = {key: f.pk for key, f in existing.items()}
        ids.update(self._create(created))
        if superseded:
            self._fixed_by_later(superseded, ids)
        Finding.objects.bulk_update(changed, SEEN_FIELDS, batch_size=2000)
        copy_rows(
            Sighting,
            SIGHTING_COLUMNS,
            (
                (
                    ids[key],
                    self.scan.pk,
                    targets[key],
                    obs.version[:100],
                    obs.fixed_in[:100],
                    obs.severity if obs.severity in _SEVERITIES else Severity.UNKNOWN,
                    obs.title[:500],
                    obs.affected,
                    outcome,
                )
                for key, obs, outcome in sightings
            ),
        )
        self.counts["sightings"] += len(sightings)

    def _later_scans(
        self, pairs: set[tuple[int, str]]
    ) -> dict[tuple[int, str], list[tuple[int, list[str], bool]]]:
        """For each (system, target) of new findings, the later scans that looked at that
        target (scan, package types, ports examined): one query a batch, none when no later
        scan was imported (the usual case: scans come in the order they ran)."""
        if not pairs:
            return {}
        wanted = {target for _system, target in pairs}
        found: dict[tuple[int, str], list[tuple[int, list[str], bool]]] = {}
        for system_id, target, ref, scan_id, ecosystems, ports in (
            ScanHost.objects.filter(
                system_id__in={system for system, _target in pairs},
                up=True,
                scan__state=Scan.State.DONE,
                scan__scanned_at__gt=self.moment,
            )
            .filter(Q(target__in=wanted) | Q(target="", ref__in=wanted))
            .values_list("system_id", "target", "ref", "scan_id", "ecosystems", "ports_covered")
        ):
            pair = (system_id, (target or ref)[:500])
            if pair in pairs:
                found.setdefault(pair, []).append((scan_id, ecosystems, ports))
        return found

    def _fixed_by_later(
        self, superseded: dict[tuple[int, int, str], int], ids: dict[tuple[int, int, str], int]
    ) -> None:
        """New findings that a later scan of the same target looked for and did not see: made
        as this scan saw them, then fixed as of that later scan (no work is planned for them)."""
        now = timezone.now()
        by_scan: dict[int, list[int]] = {}
        for key, scan_id in superseded.items():
            by_scan.setdefault(scan_id, []).append(ids[key])
        for scan_id, pks in by_scan.items():
            Finding.objects.filter(pk__in=pks).update(
                state=F.FIXED, fixed_at=now, seen_by_scan=False, closed_by_scan_id=scan_id
            )
        gone = {ids[key] for key in superseded}
        self.planned = [planned for planned in self.planned if planned.pk not in gone]

    def _create(
        self, created: list[tuple[tuple[int, int, str], Observation]]
    ) -> dict[tuple[int, int, str], int]:
        """New findings written as rows (no model instance a finding: at a hundred thousand,
        building them costs more than writing them), and their ids read back by key."""
        if not created:
            return {}
        now = timezone.now()
        opened = timezone.localtime(now).date()
        why = _("Seen by %(tool)s in scan %(scan)d.") % {"tool": self._tool(), "scan": self.scan.pk}
        rows = []
        for (system_id, vulnerability_id, package), obs in created:
            severity, priority, due_on = self._rater.rating(system_id, vulnerability_id, opened)
            rows.append(
                (
                    system_id, vulnerability_id, package, obs.version[:100], why,
                    obs.fixed_in[:100], F.OPEN, severity, priority, due_on, now, now, True,
                )
            )  # fmt: skip
        wanted = [key for key, _obs in created]
        ids = reserve_ids(Finding, len(rows))
        if ids is not None:  # PostgreSQL: ids taken first, so nothing is read back
            copy_rows(
                Finding,
                ["id", *NEW_FINDING_COLUMNS],
                [(pk, *row) for pk, row in zip(ids, rows, strict=True)],
            )
            found = dict(zip(wanted, ids, strict=True))
        else:
            copy_rows(Finding, NEW_FINDING_COLUMNS, rows)
            keys = set(wanted)
            found = {}
            for system_id, vulnerability_id, package, pk in Finding.objects.filter(
                system_id__in={k[0] for k in keys},
                vulnerability_id__in={k[1] for k in keys},
                package__in={k[2] for k in keys},
            ).values_list("system_id", "vulnerability_id", "package", "pk"):
                if (system_id, vulnerability_id, package) in keys:
                    found[(system_id, vulnerability_id, package)] = pk
        for (key, obs), row in zip(created, rows, strict=True):
            self.planned.append(self._rater.planned(found[key], key, obs, row))
        return found

    def _existing(
        self, rows: dict[tuple[int, int, str], Observation]
    ) -> dict[tuple[int, int, str], Finding]:
        """The batch's findings that exist already. Read without a lock: a later scan sees
        mostly what the last one saw, and locking a hundred thousand rows to change none costs
        a write each. Those this scan will change are read again under lock."""
        fields = (
            "system_id", "vulnerability_id", "package", "component_id", "closed_by_scan_id",
            *SEEN_FIELDS,
        )  # fmt: skip
        found = {
            (f.system_id, f.vulnerability_id, f.package): f
            for f in Finding.objects.filter(
                system_id__in={k[0] for k in rows},
                vulnerability_id__in={k[1] for k in rows},
                package__in={k[2] for k in rows},
            ).only(*fields)
            if (f.system_id, f.vulnerability_id, f.package) in rows
        }
        closers = {
            f.closed_by_scan_id
            for f in found.values()
            if f.state == F.FIXED and f.closed_by_scan_id is not None
        }
        if closers - self.newer:
            self.newer |= set(
                Scan.objects.filter(
                    pk__in=closers - self.newer, scanned_at__gt=self.moment
                ).values_list("pk", flat=True)
            )
        moving = sorted(
            f.pk
            for key, f in found.items()
            if _would_change(f, rows[key]) and f.closed_by_scan_id not in self.newer
        )
        for start in range(0, len(moving), 2000):
            for f in (
                Finding.objects.select_for_update()
                .filter(pk__in=moving[start : start + 2000])
                .only(*fields)
                .order_by("pk")
            ):
                found[(f.system_id, f.vulnerability_id, f.package)] = f
        return found

    def _again(self, found: Finding, obs: Observation, changed: list[Finding]) -> str:
        """A finding seen again: reopened when it was fixed, held open by this scan; a VEX
        statement that it does not apply changes nothing but is kept as a sighting."""
        if not obs.affected:
            return Sighting.Outcome.NOT_AFFECTED
        if found.state == F.FIXED and found.closed_by_scan_id in self.newer:
            return Sighting.Outcome.OLDER  # a later scan no longer saw it: this one changes nothing
        before = (found.state, found.version, found.fixed_in, found.seen_by_scan)
        if found.state in {F.FIXED, F.WITHDRAWN}:
            found.state, found.opened_at, found.fixed_at = F.OPEN, timezone.now(), None
            found.reopened += 1
            self._rater.rate(found)
            self.opened.append(found.pk)
            outcome = Sighting.Outcome.REOPENED
        elif found.state in LIVE:
            outcome = Sighting.Outcome.STILL_OPEN
        else:
            outcome = Sighting.Outcome.SET_ASIDE
        if found.component_id is None and obs.version:
            found.version = obs.version[:100]
        found.fixed_in = obs.fixed_in[:100] or found.fixed_in
        found.seen_by_scan = True
        if (found.state, found.version, found.fixed_in, found.seen_by_scan) != before:
            found.version_number += 1
            found.updated_at = timezone.now()
            changed.append(found)
        return outcome

    def _tool(self) -> str:
        return (self.info.tool if self.info else "") or self.scan.get_format_display()

    def _close(self) -> list[int]:
        """Findings the scan looked for and no longer saw: open ones the inventory does not
        carry are fixed; every one is no longer held open by a scan. Set-based, a few hundred
        systems to a statement.

        Where it looked is narrow: on each system, the package types (or the ports) of the
        targets it examined there, and of those findings only the ones no other target has
        seen (an image's finding is not closed by a scan of one file on the same system, nor
        by an SBOM) and no scan newer than this one has seen (an old report uploaded late
        closes nothing)."""
        looked_at: dict[int, tuple[set[str], Q]] = {}
        for placed in self.hosts.values():
            if placed.system_id is None or not placed.up:
                continue
            parts = [Q(package__startswith=f"pkg:{ecosystem}/") for ecosystem in placed.ecosystems]
            if placed.ports_covered and not self.scan.is_surface:
                # nmap and masscan look for open ports, not for flaws on them.
                parts.append(Q(package__startswith=f"port:{placed.label}/"))
            if not parts:
                continue
            targets, packages = looked_at.setdefault(placed.system_id, (set(), Q()))
            targets.add(placed.target)
            for part in parts:
                packages |= part
            looked_at[placed.system_id] = (targets, packages)
        closed: list[int] = []
        now = timezone.now()
        not_seen = ~Exists(Sighting.objects.filter(finding=OuterRef("pk"), scan=self.scan))
        seen_later = Exists(
            Sighting.objects.filter(finding=OuterRef("pk"), scan__scanned_at__gt=self.moment)
        )
        systems = sorted(looked_at)
        for start in range(0, len(systems), 300):
            scope = Q()
            for system_id in systems[start : start + 300]:
                targets, packages = looked_at[system_id]
                elsewhere = Exists(
                    Sighting.objects.filter(finding=OuterRef("pk"))
                    .exclude(target="")  # kept before targets were: the system's scope decides
                    .exclude(target__in=sorted(targets))
                )
                scope |= Q(packages, ~elsewhere, system_id=system_id)
            looked = list(  # read once: the anti-joins are the statement's cost
                Finding.objects.filter(scope, seen_by_scan=True)
                .filter(not_seen)
                .exclude(seen_later)
                .values_list("pk", "state", "component_id")
            )
            fixed = [pk for pk, state, component in looked if state in LIVE and component is None]
            kept = set(fixed)
            released = [pk for pk, _state, _component in looked if pk not in kept]
            for chunk in range(0, len(fixed), 2000):
                Finding.objects.filter(pk__in=fixed[chunk : chunk + 2000]).update(
                    state=F.FIXED,
                    fixed_at=now,
                    seen_by_scan=False,
                    closed_by_scan=self.scan,
                    version_number=Ref("version_number") + 1,
                    updated_at=now,
                )
            for chunk in range(0, len(released), 2000):
                Finding.objects.filter(pk__in=released[chunk : chunk + 2000]).update(
                    seen_by_scan=False, updated_at=now
                )
            closed += fixed
        self.counts["closed"] += len(closed)
        return closed

    # Attack surface -----------------------------------------------------------------------

    def _flush_services(self) -> None:
        """A batch of open services onto the register's systems, or onto discovered assets."""
        batch, self.services = self.services, []
        if not batch:
            return
        now = self.moment  # when the scan saw them open
        unplaced = {
            placed.address: placed
            for placed, _service in batch
            if placed.system_id is None and placed.address
        }
        assets = self._assets(unplaced, now) if unplaced else {}
        known = {
            (s.address, s.protocol, s.port): s
            for s in ExposedService.objects.select_for_update().filter(
                address__in={p.address for p, _s in batch if p.address}
            )
        }
        create: list[ExposedService] = []
        update: dict[int, ExposedService] = {}
        for placed, service in batch:
            address = placed.address
            if not address:
                self.counts["services_without_address"] += 1
                continue
            key = (address, service.protocol, service.port)
            row = known.get(key)
            if row is None:
                row = ExposedService(
                    address=address,
                    protocol=service.protocol,
                    port=service.port,
                    first_seen_at=now,
                )
                known[key] = row
                create.append(row)
            elif self.scan.system_id is not None and row.system_id != self.scan.system_id:
                # A scan uploaded for one system says nothing of a service the register puts
                # elsewhere (another system's, or a discovered asset's): it is not taken over.
                self.counts["services_elsewhere"] += 1
                continue
            elif row.last_seen_at is not None and row.last_seen_at > now:
                self.counts["services_seen_since"] += 1  # a newer scan has its word on it
                continue
            elif row.pk is not None:
                update[row.pk] = row
            row.name, row.product = service.name[:100], service.product[:300]
            row.system_id = placed.system_id
            row.asset = assets.get(address) if placed.system_id is None else None
            row.last_seen_at, row.last_scan, row.closed_at = now, self.scan, None
        ExposedService.objects.bulk_create(create, batch_size=2000)
        ExposedService.objects.bulk_update(
            list(update.values()),
            ["name", "product", "system", "asset", "last_seen_at", "last_scan", "closed_at"],
            batch_size=2000,
        )
        self.counts["services_new"] += len(create)

    def _close_services(self) -> None:
        """The services the scan looked for at an address it reached and no longer found open:
        closed. Only the ports it says it scanned count as looked at, and a scan uploaded for
        one system closes only that system's."""
        ranges = port_ranges(self.info.ports_scanned if self.info else "")
        if not ranges or not self.looked:
            return
        now = self.moment
        mine = Q(system_id=self.scan.system_id) if self.scan.system_id is not None else Q()
        for start in range(0, len(self.looked), BATCH):
            shut = [
                pk
                for pk, protocol, port in ExposedService.objects.filter(
                    mine, address__in=self.looked[start : start + BATCH], closed_at__isnull=True
                )
                .exclude(last_scan=self.scan)
                .exclude(last_seen_at__gt=now)  # seen open by a newer scan than this one
                .values_list("pk", "protocol", "port")
                if covers(ranges, protocol, port)
            ]
            ExposedService.objects.filter(pk__in=shut).update(closed_at=now)
            self.counts["services_closed"] += len(shut)

    def _assets(self, unplaced: dict[str, _Placed], now: Any) -> dict[str, DiscoveredAsset]:
        """The discovered asset at each address nobody registered: found again, or new with the
        CISO's deadline to triage it. One dismissed as decommissioned that answers again is new
        again; one dismissed as not ours stays dismissed."""
        known = {
            a.address: a
            for a in DiscoveredAsset.objects.select_for_update().filter(address__in=unplaced)
        }
        due = timezone.localdate() + timedelta(days=settings.DISCOVERED_ASSET_TRIAGE_DAYS)
        create, update, back = [], [], []
        for address, placed in unplaced.items():
            asset = known.get(address)
            names = sorted(set(placed.hostnames) | set(asset.hostnames if asset else ()))
            if asset is None:
                asset = DiscoveredAsset(
                    address=address,
                    hostnames=names,
                    due_on=due,
                    first_seen_at=now,
                    last_seen_at=now,
                    first_scan=self.scan,
                    last_scan=self.scan,
                )
                known[address] = asset
                create.append(asset)
                continue
            if asset.last_seen_at > now:  # a newer scan has seen it: this one tells nothing new
                asset.hostnames = names
                update.append(asset)
                continue
            asset.hostnames, asset.last_seen_at, asset.last_scan = names, now, self.scan
            if (
                asset.state == DiscoveredAsset.State.DISMISSED
                and asset.reason == DiscoveredAsset.Reason.DECOMMISSIONED
            ):
                asset.state, asset.reason, asset.due_on = DiscoveredAsset.State.NEW, "", due
                asset.version_number += 1
                back.append(asset.address)
            update.append(asset)
        DiscoveredAsset.objects.bulk_create(create, batch_size=2000)
        DiscoveredAsset.objects.bulk_update(
            update,
            ["hostnames", "last_seen_at", "last_scan", "state", "reason", "due_on",
             "version_number"],
            batch_size=2000,
        )  # fmt: skip
        self.counts["assets_new"] += len(create)
        self.counts["assets_back"] += len(back)
        return known

    # Done ---------------------------------------------------------------------------------

    def _finish(self, closed: list[int]) -> None:
        scan, info = self.scan, self.info
        assert info is not None
        if info.format != scan.format:
            raise FeedError(
                _("The file reads as %(found)s, not %(said)s.")
                % {"found": info.format, "said": scan.format},
                where=scan.file_name,
            )
        scan.tool = info.tool[:200]
        scan.scanned_from, scan.scanned_to = info.started_at, info.finished_at
        scan.ports_scanned = info.ports_scanned[:2000]
        scan.counts = dict(sorted(self.counts.items()))
        scan.skipped = dict(sorted(self.tally.skipped.items()))
        scan.state, scan.imported_at = Scan.State.DONE, timezone.now()
        scan.error = scan.error_where = ""
        scan.save()
        audit.record(
            actor=scan.uploaded_by,
            office=scan.uploaded_office,
            verb="scan.imported",
            target=scan,
            target_label=str(scan),
            details={
                "tool": scan.tool,
                "counts": scan.counts,
                "systems": sorted({p.system_id for p in self.hosts.values() if p.system_id})[:100],
            },
        )
        remediation.follow(
            opened=self.opened, closed=closed, actor=scan.uploaded_by, known=self.planned
        )


def _covering(later: list[tuple[int, list[str], bool]], package: str) -> int | None:
    """The first of the later scans of a target that examined this package's type (or, for a
    port, the host's ports): it looked and did not see the finding."""
    for scan_id, ecosystems, ports in later:
        if package.startswith("port:") and ports:
            return scan_id
        if any(package.startswith(f"pkg:{ecosystem}/") for ecosystem in ecosystems):
            return scan_id
    return None


def _target(host: Host) -> str:
    """What a host's sightings keep of it: the scanner's name for what it looked at, else the
    report's reference for the host."""
    return (host.target or host.ref)[:500]


def _would_change(found: Finding, obs: Observation) -> bool:
    """Whether seeing it again changes the finding (`_Import._again` decides how)."""
    if not obs.affected:
        return False
    return (
        found.state in {F.FIXED, F.WITHDRAWN}
        or not found.seen_by_scan
        or bool(found.component_id is None and obs.version and obs.version[:100] != found.version)
        or bool(obs.fixed_in and obs.fixed_in[:100] != found.fixed_in)
    )


def _rating(obs: Observation) -> dict[str, Any]:
    """A vulnerability known only from a scanner: rated by the vector it gave, else its word."""
    if obs.cvss_vector:
        vector, score, severity = scoring.best_vector([obs.cvss_vector])
        if vector:
            return {"cvss_vector": vector, "cvss_score": score, "severity": severity}
    severity = obs.severity if obs.severity in _SEVERITIES else Severity.UNKNOWN
    return {"severity": severity, "cvss_score": obs.cvss_score}
