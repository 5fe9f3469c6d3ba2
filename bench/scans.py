"""P12 a big Trivy report imported against COPY of its rows; P13 it again; P14 nmap on a worker."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.db import connection, transaction
from django.test.utils import override_settings
from django.utils import timezone

from accounts.models import OfficeCode, User
from bench.harness import Result, alternate, ms, worker_line
from bench.vulnerabilities import _Timed
from committee.load_data import _copy
from systems.models import System
from vulnerabilities.models import (
    Alias,
    Finding,
    Scan,
    ScanHost,
    Sighting,
    Vulnerability,
)
from vulnerabilities.scanners import trivy
from vulnerabilities.scanners.records import Observation, Tally
from vulnerabilities.services import remediation, scans

ROOT = Path(__file__).resolve().parent.parent
FINDINGS_AT_SCALE_1 = 100_000
PACKAGES_AT_SCALE_1 = 3_000
NMAP_BYTES_AT_SCALE_1 = 50 * 1024 * 1024
NETWORK = "198.18.0.0/15"  # RFC 2544's benchmarking block: public-looking, nobody's
CVE = "CVE-2099-{:06d}"
SEVERITIES = ["CRITICAL", "HIGH", "HIGH", "MEDIUM", "MEDIUM", "MEDIUM", "LOW"]
BATCH = 5000


class _RolledBack(Exception):
    pass


def scratch() -> Path:
    """Where the bench writes the reports it generates (under the bench's var dir)."""
    path = Path(settings.VAR_DIR) / "bench-scratch"
    path.mkdir(parents=True, exist_ok=True)
    return path


def seconds(value: float) -> str:
    return f"{value:.1f} s"


def _ciso() -> User:
    return User.objects.filter(offices__code=OfficeCode.CISO).order_by("pk")[0]


def _system() -> System:
    """One registered system of the bench data: the first."""
    return System.objects.order_by("pk")[0]


# --- Generating ---------------------------------------------------------------------------------


def _package(index: int, packages: int) -> tuple[str, str, str, str]:
    """(result, name, installed version, Package URL) of the index-th package: the first half
    Python packages of the application, the rest Debian packages of its image."""
    if index < packages // 2 or packages < 2:
        name, version = f"bench-lib-{index:05d}", f"1.{index % 17}.{index % 5}"
        return "pip", name, version, f"pkg:pypi/{name}@{version}"
    name, version = f"libbench{index:05d}", f"2.{index % 11}.{index % 7}-1+deb12u1"
    return "debian", name, version, f"pkg:deb/debian/{name}@{version}?arch=amd64&distro=debian-12.8"


def write_trivy(path: Path, *, findings: int, packages: int, created_at: dt.datetime) -> int:
    """A Trivy image report with `findings` vulnerabilities, each its own CVE, over `packages`
    packages (in blocks: a package's vulnerabilities one after the other), written streaming.
    Returns its size in bytes."""
    created = created_at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    image = "sha256:" + "b" * 64
    head = {
        "SchemaVersion": 2,
        "Trivy": {"Version": "0.58.1"},
        "CreatedAt": created,
        "ArtifactName": "registry.example/bench/app:1.0",
        "ArtifactType": "container_image",
        "Metadata": {
            "OS": {"Family": "debian", "Name": "12.8"},
            "ImageID": image,
            "RepoDigests": ["registry.example/bench/app@sha256:" + "c" * 64],
        },
    }
    results = [
        ("pip", {"Target": "app/requirements.txt", "Class": "lang-pkgs", "Type": "pip"}),
        (
            "debian",
            {
                "Target": "registry.example/bench/app:1.0 (debian 12.8)",
                "Class": "os-pkgs",
                "Type": "debian",
            },
        ),
    ]
    with path.open("w", encoding="utf-8") as out:
        out.write(json.dumps(head, indent=2)[:-2] + ',\n  "Results": [\n')
        for position, (kind, result) in enumerate(results):
            out.write("    " + json.dumps(result)[:-1] + ', "Vulnerabilities": [\n')
            first = True
            for index in range(findings):
                package = index * packages // findings
                where, name, version, purl = _package(package, packages)
                if where != kind:
                    continue
                entry = _vulnerability(index, name, version, purl)
                out.write(("" if first else ",\n") + "      " + entry)
                first = False
            out.write("\n    ]}" + ("," if position < len(results) - 1 else "") + "\n")
        out.write("  ]\n}\n")
    return path.stat().st_size


def _vulnerability(index: int, name: str, version: str, purl: str) -> str:
    cve = CVE.format(index)
    return json.dumps(
        {
            "VulnerabilityID": cve,
            "PkgID": f"{name}@{version}",
            "PkgName": name,
            "PkgIdentifier": {"PURL": purl, "UID": f"{index:016x}"},
            "InstalledVersion": version,
            "FixedVersion": version + ".1",
            "Status": "fixed",
            "SeveritySource": "nvd",
            "PrimaryURL": f"https://avd.aquasec.com/nvd/{cve.lower()}",
            "Title": f"{name}: benchmark flaw {index}",
            "Description": f"A flaw in {name} before {version}.1 (generated for the benchmark).",
            "Severity": SEVERITIES[index % len(SEVERITIES)],
            "CVSS": {
                "nvd": {
                    "V3Vector": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
                    "V3Score": 9.8,
                }
            },
            "PublishedDate": "2099-01-01T00:00:00Z",
            "LastModifiedDate": "2099-01-02T00:00:00Z",
        }
    )


def write_nmap(path: Path, *, size: int, started: dt.datetime) -> int:
    """An nmap XML scan of NETWORK's addresses, up with two to four open ports each, written
    streaming until the file is `size` bytes. Returns how many hosts it holds."""
    import ipaddress

    epoch = int(started.timestamp())
    services = [
        (22, "ssh", "OpenSSH", "9.2p1 Debian 2+deb12u3"),
        (443, "https", "nginx", "1.25.3"),
        (80, "http", "nginx", "1.25.3"),
        (8443, "https-alt", "Apache Tomcat", "10.1.16"),
    ]
    hosts = 0
    with path.open("w", encoding="utf-8") as out:
        out.write(
            '<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE nmaprun>\n'
            f'<nmaprun scanner="nmap" args="nmap -sS -sV -oX bench.xml {NETWORK}" '
            f'start="{epoch}" startstr="{started:%a %b %d %H:%M:%S %Y}" version="7.94" '
            'xmloutputversion="1.05">\n'
            '<scaninfo type="syn" protocol="tcp" numservices="1000" services="1-1000,8443"/>\n'
            '<verbose level="0"/>\n<debugging level="0"/>\n'
        )
        for address in ipaddress.ip_network(NETWORK).hosts():
            if out.tell() >= size:
                break
            dashed = str(address).replace(".", "-")
            lines = [
                f'<host starttime="{epoch}" endtime="{epoch + 30}">'
                '<status state="up" reason="syn-ack" reason_ttl="53"/>',
                f'<address addr="{address}" addrtype="ipv4"/>',
                # A PTR name for one host in three, as on a public range.
                f'<hostnames><hostname name="h-{dashed}.bench.example" type="PTR"/></hostnames>'
                if hosts % 3 == 0
                else "<hostnames/>",
                '<ports><extraports state="filtered" count="998"/>',
            ]
            for port, name, product, version in services[: 2 + hosts % 2 + hosts // 7 % 2]:
                described = f' product="{product}" version="{version}"' if hosts % 4 == 0 else ""
                lines.append(
                    f'<port protocol="tcp" portid="{port}"><state state="open" reason="syn-ack" '
                    f'reason_ttl="53"/><service name="{name}"{described} conf="10"/></port>'
                )
            lines.append("</ports>\n</host>\n")
            out.write("\n".join(lines))
            hosts += 1
        out.write(
            f'<runstats><finished time="{epoch + 3600}" timestr="" elapsed="3600" '
            f'exit="success"/><hosts up="{hosts}" down="0" total="{hosts}"/></runstats>\n'
            "</nmaprun>\n"
        )
    return hosts


# --- Helpers --------------------------------------------------------------------------------------


@contextmanager
def _upload(path: Path) -> Iterator[UploadedFile]:
    with path.open("rb") as handle:
        yield UploadedFile(file=handle, name=path.name, size=path.stat().st_size)


def _receive(path: Path, *, system: System | None, actor: User) -> Scan:
    with _upload(path) as upload:
        return scans.receive(actor=actor, upload=upload, system=system)


def _forget(scan_files: list[str]) -> None:
    """Stored copies of scans whose rows were rolled back."""
    for name in scan_files:
        if name and default_storage.exists(name):
            default_storage.delete(name)
    scan_files.clear()


def _known_vulnerabilities(findings: int) -> None:
    """The report's CVE ids as the feeds would have made them (COPY, in the run's transaction):
    a 100,000-finding report names flaws the advisories know."""
    now = timezone.now()
    _copy(
        Vulnerability,
        ["key", "summary", "severity", "cvss_score", "published_at", "updated_at"],
        (
            (CVE.format(i), f"Benchmark flaw {i}", "critical", "9.8", now, now)
            for i in range(findings)
        ),
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO vulnerabilities_alias (name, vulnerability_id) "
            "SELECT key, id FROM vulnerabilities_vulnerability WHERE key LIKE %s",
            ["CVE-2099-%"],
        )


def _sizes(scale: float) -> tuple[int, int]:
    findings = max(100, round(FINDINGS_AT_SCALE_1 * scale))
    packages = max(10, min(findings, round(PACKAGES_AT_SCALE_1 * scale)))
    return findings, packages


def _trivy_files(scale: float) -> tuple[Path, Path, int, int, int]:
    """The report, and the same findings in a later scan (only CreatedAt differs)."""
    findings, packages = _sizes(scale)
    first, later = scratch() / "p12-trivy.json", scratch() / "p13-trivy-later.json"
    now = timezone.now().replace(microsecond=0)
    size = write_trivy(first, findings=findings, packages=packages, created_at=now)
    write_trivy(later, findings=findings, packages=packages, created_at=now + dt.timedelta(days=1))
    return first, later, findings, packages, size


# --- P12 ----------------------------------------------------------------------------------------

FINDING_COLUMNS = [
    "id", "system_id", "vulnerability_id", "package", "version", "why", "fixed_in", "state",
    "severity", "priority", "first_seen_at", "opened_at", "reopened", "reason",
    "decided_office", "seen_by_scan", "version_number", "updated_at",
]  # fmt: skip
SIGHTING_COLUMNS = [
    "id", "finding_id", "scan_id", "target", "version", "fixed_in", "severity", "title",
    "affected", "outcome",
]  # fmt: skip


def _bare_copy(path: Path, system_id: int) -> int:
    """The bare minimum: the same reader over the same file, each observation's name looked up
    (one query a batch), then one finding row and one sighting row COPYed into temp tables
    shaped like the real ones (their indexes included). In the caller's transaction."""
    with connection.cursor() as cursor:
        for table in ("finding", "sighting"):
            cursor.execute(
                f"CREATE TEMP TABLE bench_{table} "
                f"(LIKE vulnerabilities_{table} INCLUDING ALL) ON COMMIT DROP"
            )
    written = 0
    now = timezone.now()
    batch: list[Observation] = []

    def flush() -> None:
        nonlocal written
        names = {obs.names[0] for obs in batch}
        ids = dict(Alias.objects.filter(name__in=names).values_list("name", "vulnerability_id"))
        with connection.cursor() as cursor:
            raw = cursor.cursor
            columns = ", ".join(FINDING_COLUMNS)
            with raw.copy(f"COPY bench_finding ({columns}) FROM STDIN") as copy:
                for n, obs in enumerate(batch, start=written + 1):
                    copy.write_row(
                        (n, system_id, ids[obs.names[0]], obs.package, obs.version,
                         "Seen by Trivy.", obs.fixed_in, "open", obs.severity, "P4", now, now,
                         0, "", "", True, 1, now)
                    )  # fmt: skip
            columns = ", ".join(SIGHTING_COLUMNS)
            with raw.copy(f"COPY bench_sighting ({columns}) FROM STDIN") as copy:
                for n, obs in enumerate(batch, start=written + 1):
                    copy.write_row(
                        (n, n, 0, obs.host[:500], obs.version, obs.fixed_in, obs.severity,
                         obs.title[:500], obs.affected, "new")
                    )  # fmt: skip
        written += len(batch)
        batch.clear()

    with path.open("rb") as stream:
        for record in trivy.read(stream, where=path.name, tally=Tally()):
            if isinstance(record, Observation):
                batch.append(record)
                if len(batch) >= BATCH:
                    flush()
    if batch:
        flush()
    return written


def _timed(call: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    value = call()
    return time.perf_counter() - started, value


def run_import(plan: tuple[int, float]) -> list[Result]:
    """P12: the report through `scans.receive` inline (hash, stored copy, scan row, the import:
    read, placed, findings and sightings written, remediation work), each run rolled back;
    against reading it with the same reader and COPYing its rows."""
    runs, scale = plan
    path, later, findings, packages, size = _trivy_files(scale)
    ciso, system = _ciso(), _system()
    state: dict[str, Any] = {}
    stored: list[str] = []

    def ours() -> float:
        try:
            with transaction.atomic(), override_settings(SCAN_INLINE_BYTES=1 << 40):
                _known_vulnerabilities(findings)
                with (
                    _Timed(scans, "run") as importing,
                    _Timed(scans._Import, "_flush_observations") as rows,
                    _Timed(remediation, "follow") as work,
                ):
                    took, scan = _timed(lambda: _receive(path, system=system, actor=ciso))
                stored.append(scan.file.name or "")
                state.update(
                    received=took - importing.seconds,
                    rows=rows.seconds,
                    remediation=work.seconds,
                    reading=importing.seconds - rows.seconds - work.seconds,
                    state=scan.state,
                    counts=dict(scan.counts),
                    findings=Finding.objects.filter(sightings__scan=scan).count(),
                    sightings=Sighting.objects.filter(scan=scan).count(),
                    actions=Finding.objects.filter(sightings__scan=scan)
                    .exclude(action=None)
                    .values("action")
                    .distinct()
                    .count(),
                )
                raise _RolledBack
        except _RolledBack:
            pass
        finally:
            _forget(stored)
        return took

    def bare() -> float:
        try:
            with transaction.atomic():
                _known_vulnerabilities(findings)
                took, state["bare"] = _timed(lambda: _bare_copy(path, system.pk))
                raise _RolledBack
        except _RolledBack:
            pass
        return took

    mine, theirs = alternate(ours, bare, runs=runs)
    path.unlink(missing_ok=True)
    later.unlink(missing_ok=True)
    median, baseline = statistics.median(mine), statistics.median(theirs)
    ratio = median / baseline
    counts = state["counts"]
    same = (
        state["state"] == Scan.State.DONE
        and counts.get("new", 0) == state["bare"] == findings
        and state["findings"] == state["sightings"] == findings
    )
    return [
        Result(
            "P12",
            f"a Trivy report of {findings:,} findings ({size / 2**20:.0f} MB, {packages:,} "
            "packages, one system) received and imported inline: read, findings, sightings, "
            "audit events, remediation work",
            seconds(median),
            seconds(baseline) + " (same reader, the rows COPYed into temp tables)",
            ratio,
            "<= 3.0 and <= 60 s at scale 1",
            ratio <= 3.0 and median <= 60,
            [
                f"{counts.get('new', 0):,} findings new, {state['sightings']:,} sightings"
                if same
                else f"ROWS DIFFER: ours {counts}, bare {state['bare']:,}",
                f"of the last run: receiving (hash, stored copy, scan row) "
                f"{seconds(state['received'])}, reading, placing and closing "
                f"{seconds(state['reading'])}, findings and sightings written "
                f"{seconds(state['rows'])}, remediation work {seconds(state['remediation'])} "
                f"for {state['actions']:,} actions",
                "the CVE ids known beforehand (vulnerabilities and aliases COPYed untimed "
                "in the run's transaction)",
                f"{runs} run(s) a side, each rolled back",
            ],
            sound=same,
        )
    ]


# --- P13 ----------------------------------------------------------------------------------------


def run_again(plan: tuple[int, float]) -> list[Result]:
    """P13: after the import (untimed, all rolled back), (a) the identical file is refused by
    its hash, writing nothing; (b) the same findings in a later scan's file: sightings only."""
    runs, scale = plan
    path, later, findings, _packages, _size = _trivy_files(scale)
    ciso, system = _ciso(), _system()
    refused: list[float] = []
    again: list[float] = []
    checks: dict[str, Any] = {"refused": True, "unchanged": True, "untouched": True}
    stored: list[str] = []
    for _turn in range(runs):
        try:
            with transaction.atomic(), override_settings(SCAN_INLINE_BYTES=1 << 40):
                _known_vulnerabilities(findings)
                first = _receive(path, system=system, actor=ciso)
                stored.append(first.file.name or "")
                before = Finding.objects.count()
                scans_before = Scan.objects.count()
                started = time.perf_counter()
                try:
                    _receive(path, system=system, actor=ciso)
                    checks["refused"] = False
                except scans.DuplicateScan as exc:
                    checks["refused"] &= exc.scan is not None and exc.scan.pk == first.pk
                refused.append(time.perf_counter() - started)
                checks["unchanged"] &= (
                    Finding.objects.count() == before and Scan.objects.count() == scans_before
                )
                moment = timezone.now()
                with (
                    _Timed(scans, "run") as importing,
                    _Timed(scans._Import, "_flush_observations") as rows,
                ):
                    took, second = _timed(lambda: _receive(later, system=system, actor=ciso))
                checks["rows"] = rows.seconds
                checks["reading"] = importing.seconds - rows.seconds
                checks["received"] = took - importing.seconds
                stored.append(second.file.name or "")
                again.append(took)
                checks["unchanged"] &= Finding.objects.count() == before
                checks["untouched"] &= not Finding.objects.filter(updated_at__gte=moment).exists()
                checks["counts"] = dict(second.counts)
                checks["sightings"] = Sighting.objects.filter(scan=second).count()
                checks["state"] = second.state
                raise _RolledBack
        except _RolledBack:
            pass
        finally:
            _forget(stored)
    counts = checks["counts"]
    reimported = (
        checks["state"] == Scan.State.DONE
        and counts.get("new", 0) == 0
        and counts.get("still_open", 0) == findings
        and checks["sightings"] == findings
        and checks["unchanged"]
        and checks["untouched"]
    )
    path.unlink(missing_ok=True)
    later.unlink(missing_ok=True)
    refused_time, again_time = statistics.median(refused), statistics.median(again)
    untouched = checks["untouched"] and checks["unchanged"]
    written = "neither added nor updated" if untouched else "WRITTEN"
    return [
        Result(
            "P13",
            f"the same report ({findings:,} findings) uploaded again: refused by its hash",
            ms(refused_time),
            "-",
            None,
            "refused, nothing written",
            checks["refused"] and checks["unchanged"],
            [
                "DuplicateScan naming the first import; findings and scans unchanged"
                if checks["refused"] and checks["unchanged"]
                else "NOT REFUSED, or rows written",
                f"{runs} run(s), each rolled back",
            ],
            sound=checks["refused"] and checks["unchanged"],
        ),
        Result(
            "P13b",
            f"the same {findings:,} findings in a later scan's file (CreatedAt changed) "
            "imported inline",
            seconds(again_time),
            "-",
            None,
            "<= 20 s at scale 1; no finding written",
            again_time <= 20 and reimported,
            [
                f"{counts.get('new', 0)} new, {counts.get('still_open', 0):,} still open, "
                f"{checks['sightings']:,} sightings; findings {written}",
                f"of the last run: receiving {seconds(checks['received'])}, reading, placing "
                f"and closing {seconds(checks['reading'])}, findings looked up and sightings "
                f"written {seconds(checks['rows'])}",
                f"{runs} run(s), each rolled back",
            ],
            sound=reimported,
        ),
    ]


# --- P14 ----------------------------------------------------------------------------------------


def _clear_surface() -> int:
    """What an earlier P14 left: its scans, their hosts, the services and discovered assets in
    NETWORK (committed: the worker is another process)."""
    earlier = list(Scan.objects.filter(file_name__startswith="bench-p14-"))
    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM vulnerabilities_exposedservice WHERE address <<= inet %s", [NETWORK]
        )
        cursor.execute(
            "DELETE FROM vulnerabilities_discoveredasset WHERE address <<= inet %s", [NETWORK]
        )
    ScanHost.objects.filter(scan__in=earlier).delete()
    for scan in earlier:
        scan.file.delete(save=False)
    Scan.objects.filter(pk__in=[scan.pk for scan in earlier]).delete()
    return len(earlier)


def _status(pid: int, field: str) -> int:
    found = re.search(rf"{field}:\s+(\d+)", Path(f"/proc/{pid}/status").read_text())
    return int(found.group(1)) if found else 0


def run_worker(scale: float) -> list[Result]:
    """P14: a big nmap scan of addresses nobody registered, uploaded (queued) and imported by
    a real worker: its time and peak memory."""
    from config.celery import app

    _clear_surface()
    started_at = timezone.now().replace(microsecond=0)
    path = scratch() / f"bench-p14-{started_at:%Y%m%d%H%M%S}.xml"
    size = max(256 * 1024, round(NMAP_BYTES_AT_SCALE_1 * scale))
    hosts = write_nmap(path, size=size, started=started_at)
    megabytes = path.stat().st_size / 2**20
    queue = f"bench-scans-{os.getpid()}"
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool", "solo",
         "--concurrency", "1", "--queues", queue, "--loglevel", "INFO", "--without-gossip",
         "--without-mingle", "--without-heartbeat", "--hostname", f"{queue}@%h"],
        cwd=ROOT, env=dict(os.environ), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True,
    )  # fmt: skip
    lines: list[str] = []
    default_queue = app.conf.task_default_queue
    try:
        worker_line(worker, lines, ("ready.",), within=3600)
        idle_kb = _status(worker.pid, "VmRSS")
        app.conf.task_default_queue = queue  # the upload's task goes to this worker alone
        queued_at = time.perf_counter()
        with override_settings(SCAN_INLINE_BYTES=1024):
            scan = _receive(path, system=None, actor=_ciso())
        received = time.perf_counter() - queued_at
        app.conf.task_default_queue = default_queue
        done = worker_line(
            worker, lines, ("succeeded in", "raised", "Traceback", "retry"), within=3600
        )
        total = time.perf_counter() - queued_at
        peak_kb = _status(worker.pid, "VmHWM")
        took = re.search(r"succeeded in ([0-9.]+)s", done)
    finally:
        app.conf.task_default_queue = default_queue
        worker.terminate()
        worker.wait(60)
    scan.refresh_from_db()
    counts = scan.counts
    path.unlink(missing_ok=True)
    peak_mb = peak_kb / 1024
    sound = (
        took is not None
        and scan.state == Scan.State.DONE
        and counts.get("hosts") == hosts
        and counts.get("placed", 0) == 0
        and counts.get("assets_new", 0) == hosts
    )
    task_time = float(took.group(1)) if took else total
    result = Result(
        "P14",
        f"an nmap XML of {megabytes:.1f} MB ({hosts:,} hosts in {NETWORK}, none registered, "
        "two to four open ports each) uploaded, queued and imported by a real worker (solo pool)",
        f"{task_time:.1f} s, peak {peak_mb:.0f} MB",
        "-",
        None,
        "<= 250 MB",
        sound and peak_mb <= 250,
        [
            f"{counts.get('assets_new', 0):,} discovered assets, "
            f"{counts.get('services_new', 0):,} services"
            if sound
            else f"IMPORT NOT AS EXPECTED: {scan.state} {counts} {done.strip()[:300]}",
            f"the worker at {idle_kb / 1024:.0f} MB when ready",
            f"upload {received:.1f} s; queued to done {total:.1f} s",
        ],
        sound=sound,
    )
    _clear_surface()
    return [result]
