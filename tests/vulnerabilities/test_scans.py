"""Scanner reports imported through the service: findings once, closed only where a scan
looked, the same file once, refusals that write nothing, the attacker's view."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from audit.models import AuditEvent
from systems import inventory
from systems.models import NetworkIdentity, System
from tests.systems.conftest import register
from tests.vulnerabilities.conftest import LOG4J_SBOM, import_bytes
from tests.vulnerabilities.samples import nmap_run_at, sample
from vulnerabilities import selectors
from vulnerabilities.models import (
    DiscoveredAsset,
    ExposedService,
    Finding,
    Scan,
    ScanHost,
    Sighting,
    Vulnerability,
)
from vulnerabilities.services import scans, surface

pytestmark = pytest.mark.django_db


@pytest.fixture
def other_system(other_unit) -> System:
    return register(other_unit, "cloud-console", internet_facing=True)


TRIVY_PIP = "trivy/trivy_pip.json"
WERKZEUG = "pkg:pypi/werkzeug"


def upload(actor: Any, data: bytes, name: str = "report.json", **kwargs: Any) -> Scan:
    return scans.receive(actor=actor, upload=SimpleUploadedFile(name, data), **kwargs)


def upload_sample(actor: Any, relative: str, **kwargs: Any) -> Scan:
    return upload(actor, sample(relative).read_bytes(), relative.rsplit("/", 1)[-1], **kwargs)


def trivy_without(cve: str) -> bytes:
    """The pip report as a later run would write it once `cve` is fixed."""
    report = json.loads(sample(TRIVY_PIP).read_bytes())
    for result in report["Results"]:
        result["Vulnerabilities"] = [
            v for v in result.get("Vulnerabilities", []) if v["VulnerabilityID"] != cve
        ]
    report["CreatedAt"] = "2026-12-01T00:00:00Z"
    return json.dumps(report).encode()


def counts_of_rows() -> dict[str, int]:
    return {
        model.__name__: model.objects.count()
        for model in (Finding, Sighting, ScanHost, ExposedService, DiscoveredAsset, Vulnerability)
    }


# --- Findings from a report -----------------------------------------------------------------


def test_a_report_for_a_system_makes_its_findings(ciso, system):
    scan = upload_sample(ciso, TRIVY_PIP, system=system)
    assert scan.state == Scan.State.DONE, scan.error
    assert scan.format == Scan.Format.TRIVY and scan.tool.startswith("Trivy")
    found = Finding.objects.filter(system=system).order_by("vulnerability__key")
    assert [(f.vulnerability.key, f.package, f.version, f.state) for f in found] == [
        ("CVE-2019-14806", WERKZEUG, "0.11", Finding.State.OPEN),
        ("CVE-2020-28724", WERKZEUG, "0.11", Finding.State.OPEN),
    ]
    assert all(f.seen_by_scan and f.due_on is not None for f in found)
    # The scanner's word on severity rates a vulnerability no advisory has named yet.
    assert Vulnerability.objects.get(key="CVE-2019-14806").severity == "high"
    assert scan.counts["new"] == 2 and scan.counts["sightings"] == 2
    host = scan.hosts.get()
    assert host.system == system and host.placed_by == ScanHost.Placement.NAMED
    assert "pypi" in host.ecosystems
    assert AuditEvent.objects.filter(verb="scan.imported", target_id=str(scan.pk)).exists()


def test_the_same_file_again_is_refused_and_changes_nothing(ciso, system):
    first = upload_sample(ciso, TRIVY_PIP, system=system)
    before = counts_of_rows()
    with pytest.raises(scans.DuplicateScan) as refused:
        upload_sample(ciso, TRIVY_PIP, system=system)
    assert refused.value.scan == first
    assert counts_of_rows() == before
    assert Scan.objects.count() == 1


def test_a_later_run_sees_the_same_findings_once_more(ciso, system):
    upload_sample(ciso, TRIVY_PIP, system=system)
    again = upload(ciso, trivy_without("nothing"), system=system)
    assert again.counts["still_open"] == 2 and again.counts.get("new", 0) == 0
    assert Finding.objects.count() == 2
    assert Sighting.objects.count() == 4


def test_a_later_scan_closes_what_it_no_longer_sees_where_it_looked(ciso, system):
    upload_sample(ciso, TRIVY_PIP, system=system)
    later = upload(ciso, trivy_without("CVE-2020-28724"), system=system)
    assert later.counts["closed"] == 1 and later.counts["still_open"] == 1
    closed = Finding.objects.get(vulnerability__key="CVE-2020-28724")
    assert closed.state == Finding.State.FIXED and closed.closed_by_scan == later
    assert not closed.seen_by_scan
    assert Finding.objects.get(vulnerability__key="CVE-2019-14806").state == Finding.State.OPEN
    # It comes back: the same finding reopens, it is not a new one.
    back = upload(ciso, trivy_without("nothing"), system=system)
    closed.refresh_from_db()
    assert closed.state == Finding.State.OPEN and closed.reopened == 1
    assert back.counts["reopened"] == 1 and Finding.objects.count() == 2


def test_a_scan_that_did_not_look_there_closes_nothing(ciso, system):
    upload_sample(ciso, TRIVY_PIP, system=system)
    report = json.loads(sample(TRIVY_PIP).read_bytes())
    for result in report["Results"]:  # an npm scan of the same system: pip not examined
        result["Type"], result["Vulnerabilities"] = "npm", []
    other = upload(ciso, json.dumps(report).encode(), system=system)
    assert other.counts.get("closed", 0) == 0
    assert Finding.objects.filter(state=Finding.State.OPEN).count() == 2


def test_a_finding_the_inventory_still_carries_stays_open(ciso, bu_member, system):
    log4j_osv = {
        "id": "GHSA-jfh8-c2jp-5v3q",
        "aliases": ["CVE-2021-44228"],
        "modified": "2023-01-01T00:00:00Z",
        "summary": "Log4Shell",
        "affected": [
            {
                "package": {"ecosystem": "Maven", "name": "org.apache.logging.log4j:log4j-core"},
                "ranges": [
                    {"type": "ECOSYSTEM", "events": [{"introduced": "2.0"}, {"fixed": "2.15.0"}]}
                ],
            }
        ],
    }
    import_bytes(ciso, "osv", json.dumps(log4j_osv).encode())
    inventory.upload_sbom(
        actor=bu_member,
        system=system,
        stream=sample(LOG4J_SBOM).open("rb"),
        filename="bom.json",
        size=sample(LOG4J_SBOM).stat().st_size,
    )
    finding = Finding.objects.get(system=system, vulnerability__key="CVE-2021-44228")
    assert finding.component_id is not None and not finding.seen_by_scan
    # A CycloneDX report and a second scanner's report name the same flaw: one finding.
    cdx = "cyclonedx/defectdojo_cdx_nested-component-log4j.json"
    first = upload_sample(ciso, cdx, system=system)
    assert first.state == Scan.State.DONE, first.error
    second_report = sample(cdx).read_bytes().replace(b'"version": 1', b'"version": 2', 1)
    upload(ciso, second_report, "second.json", system=system)
    finding.refresh_from_db()
    assert Finding.objects.filter(system=system, vulnerability__key="CVE-2021-44228").count() == 1
    assert finding.sightings.count() == 2 and finding.component_id is not None
    # The inventory still carries it: a scan that no longer sees it leaves it open.
    report = json.loads(sample(cdx).read_bytes())
    report["vulnerabilities"] = []
    upload(ciso, json.dumps(report).encode(), "third.json", system=system)
    finding.refresh_from_db()
    assert finding.state == Finding.State.OPEN and not finding.seen_by_scan


def test_the_inventory_dropping_a_package_leaves_open_what_a_scan_still_sees(
    ciso, bu_member, system
):
    upload_sample(ciso, TRIVY_PIP, system=system)
    inventory.add_components(
        actor=bu_member,
        system=system,
        entries=[inventory.Entry(kind="purl", identifier="pkg:pypi/flask@2.0.0")],
    )
    assert Finding.objects.filter(state=Finding.State.OPEN).count() == 2


# --- Placing hosts by their network identities ------------------------------------------------


def test_hosts_are_placed_by_identity_and_the_rest_listed(ciso, system, other_system):
    NetworkIdentity.objects.create(
        system=system,
        kind=NetworkIdentity.Kind.IP,
        value="10.0.0.5",
        valid_from=dt.date(2000, 1, 1),  # before the sample scans ran
        added_by=ciso,
    )
    scan = upload_sample(ciso, "nessus/sner4_parser-nessus-simple.nessus")
    assert scan.state == Scan.State.DONE, scan.error
    hosts = list(scan.hosts.all())
    assert hosts, "the sample names hosts"
    assert all(h.system_id is None for h in hosts if "10.0.0.5" not in h.addresses)
    assert scan.counts["unplaced"] == sum(1 for h in hosts if h.system_id is None)
    assert Finding.objects.filter(system=other_system).count() == 0


def test_an_image_digest_places_a_container_scan(ciso, system):
    NetworkIdentity.objects.create(
        system=system,
        kind=NetworkIdentity.Kind.IMAGE,
        value="sha256:ce9898fd214aef9c994a42624b09056bdce3ff4a8e3f68dc242d967b80fcbeee",
        valid_from=dt.date(2000, 1, 1),  # before the sample scans ran
        added_by=ciso,
    )
    scan = upload_sample(ciso, "grype/defectdojo_check_all_fields.json")
    assert scan.state == Scan.State.DONE, scan.error
    host = scan.hosts.get()
    assert host.system == system and host.placed_by == ScanHost.Placement.IMAGE
    assert Finding.objects.filter(system=system).count() == scan.counts["new"] > 0


def test_one_flaw_on_two_paths_of_one_package_is_one_finding(ciso, system):
    scan = upload_sample(ciso, "grype/defectdojo_same_cve_different_paths.json", system=system)
    assert scan.state == Scan.State.DONE, scan.error
    assert Finding.objects.filter(system=system).count() == 1
    assert scan.counts["sightings"] == 1


# --- Refusals -----------------------------------------------------------------------------------


def test_an_external_entity_is_refused_and_nothing_written(ciso, system):
    before = counts_of_rows()
    scan = upload_sample(ciso, "nessus/sner4_parser-nessus-xxe.nessus", system=system)
    assert scan.state == Scan.State.REFUSED
    assert "entit" in scan.error.lower()
    assert counts_of_rows() == before
    assert AuditEvent.objects.filter(verb="scan.refused", target_id=str(scan.pk)).exists()


def test_a_truncated_report_is_refused_saying_where(ciso, system):
    data = sample(TRIVY_PIP).read_bytes()
    before = counts_of_rows()
    scan = upload(ciso, data[: len(data) // 2], system=system)
    assert scan.state == Scan.State.REFUSED and scan.error
    assert counts_of_rows() == before
    # A refused file may be sent again, complete.
    assert upload_sample(ciso, TRIVY_PIP, system=system).state == Scan.State.DONE


def test_a_file_in_no_format_we_read_is_refused_before_it_is_kept(ciso, system):
    with pytest.raises(ValidationError) as refused:
        upload(ciso, b"hello, world\n", "notes.txt", system=system)
    assert "file" in refused.value.message_dict
    assert Scan.objects.count() == 0


def test_a_format_that_is_not_what_the_file_is_is_refused(ciso, system):
    with pytest.raises(ValidationError) as refused:
        upload_sample(ciso, TRIVY_PIP, system=system, format=Scan.Format.GRYPE)
    assert "format" in refused.value.message_dict


# --- Who may upload -----------------------------------------------------------------------------


def test_a_unit_uploads_for_its_own_systems_only(bu_member, system, other_system):
    assert upload_sample(bu_member, TRIVY_PIP, system=system).state == Scan.State.DONE
    with pytest.raises(PermissionDenied):
        upload_sample(
            bu_member, "grype/defectdojo_same_cve_different_paths.json", system=other_system
        )
    with pytest.raises(PermissionDenied):
        upload_sample(bu_member, "grype/defectdojo_same_cve_different_paths.json")


# --- Big reports by a worker ------------------------------------------------------------------


def test_a_big_report_is_queued_then_imported_once(
    ciso, system, settings, django_capture_on_commit_callbacks
):
    settings.SCAN_INLINE_BYTES = 100
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        scan = upload_sample(ciso, TRIVY_PIP, system=system)
    assert scan.state == Scan.State.QUEUED and len(callbacks) == 1
    assert Finding.objects.count() == 0
    assert scans.run(scan_id=scan.pk).state == Scan.State.DONE
    assert Finding.objects.count() == 2
    # A redelivered task finds it imported and changes nothing.
    assert scans.run(scan_id=scan.pk).state == Scan.State.DONE
    assert Sighting.objects.count() == 2


# --- The attacker's view ------------------------------------------------------------------------


NMAP = "nmap/libnmap_2_hosts_version.xml"


def nmap_hosts() -> list[tuple[str, list[int]]]:
    from vulnerabilities.scanners import nmap
    from vulnerabilities.scanners.records import Host, OpenService, Tally

    hosts: dict[str, tuple[str, list[int]]] = {}
    with sample(NMAP).open("rb") as stream:
        for record in nmap.read(stream, where=NMAP, tally=Tally()):
            if isinstance(record, Host) and record.up and record.addresses:
                hosts[record.ref] = (record.addresses[0], [])
            elif isinstance(record, OpenService) and record.host in hosts:
                hosts[record.host][1].append(record.port)
    return [value for value in hosts.values() if value[1]]


def test_an_address_nobody_registered_becomes_a_discovered_asset(ciso, system):
    (registered, ports), (stranger, _ports) = nmap_hosts()[:2]
    NetworkIdentity.objects.create(
        system=system,
        kind=NetworkIdentity.Kind.IP,
        value=registered,
        valid_from=dt.date(2000, 1, 1),  # before the sample scans ran
        added_by=ciso,
    )
    scan = upload_sample(ciso, NMAP)
    assert scan.state == Scan.State.DONE, scan.error
    assert set(ExposedService.objects.filter(system=system).values_list("port", flat=True)) == set(
        ports
    )
    asset = DiscoveredAsset.objects.get(address=stranger)
    assert asset.state == DiscoveredAsset.State.NEW and asset.first_scan == scan
    assert asset.due_on > timezone.localdate()
    assert asset.services.exists()


def test_a_system_open_on_the_internet_but_registered_as_not_is_flagged(ciso, unit, bu_member):
    inside = register(unit, "intranet", internet_facing=False)
    address, _ports = nmap_hosts()[0]
    NetworkIdentity.objects.create(
        system=inside,
        kind=NetworkIdentity.Kind.IP,
        value=address,
        valid_from=dt.date(2000, 1, 1),  # before the sample scans ran
        added_by=ciso,
    )
    upload_sample(ciso, NMAP)
    view = selectors.coverage(ciso)
    assert inside in view.not_registered_facing
    assert inside in [s for s in System.objects.filter(pk=inside.pk)]


def test_triage_assigns_dismisses_and_attaches(ciso, bu_member, unit, system):
    upload_sample(ciso, NMAP)
    first, second = DiscoveredAsset.objects.order_by("address")[:2]
    with pytest.raises(PermissionDenied):
        surface.assign(actor=bu_member, asset=first, unit=unit)
    first = surface.assign(actor=ciso, asset=first, unit=unit)
    assert first.state == DiscoveredAsset.State.ASSIGNED and first.unit == unit
    with pytest.raises(ValidationError):
        surface.dismiss(actor=ciso, asset=second, reason="not_ours", note=" ")
    second = surface.dismiss(
        actor=ciso, asset=second, reason=DiscoveredAsset.Reason.DECOMMISSIONED, note="gone"
    )
    assert second.state == DiscoveredAsset.State.DISMISSED
    # The unit attaches its asset: the address becomes the system's identity, and so do its
    # services; the next scan places it.
    services = first.services.count()
    first = surface.attach(actor=bu_member, asset=first, system=system)
    assert first.system == system
    claimed = NetworkIdentity.objects.get(system=system, value=first.address)
    # Since the address was first seen (the sample's scan ran in 2013): that scan's day counts.
    assert claimed.valid_from == timezone.localdate(first.first_seen_at) < timezone.localdate()
    assert ExposedService.objects.filter(system=system).count() == services
    # A decommissioned address that answers again is new again (a later run of the scan).
    later = nmap_run_at(sample(NMAP).read_bytes(), timezone.now() - dt.timedelta(hours=1))
    rescan = upload(ciso, later, "later.xml")
    assert rescan.state == Scan.State.DONE, rescan.error
    second.refresh_from_db()
    assert second.state == DiscoveredAsset.State.NEW
    assert rescan.hosts.get(address=first.address).system == system


def test_findings_only_a_scanner_saw_get_remediation_work(ciso, system):
    upload_sample(ciso, TRIVY_PIP, system=system)
    found = list(Finding.objects.filter(system=system).select_related("action"))
    assert len({f.action_id for f in found}) == 1 and found[0].action is not None
    action = found[0].action
    # The fixed versions compare by PyPI's rules: the one upgrade that fixes both.
    assert action.title == "Upgrade werkzeug 0.11 to 0.15.3 on cert-issuance"
    assert action.unit_id == system.unit_id
    assert action.due_on == min(f.due_on for f in found if f.due_on is not None)
    # Both fixed, as a later scan finds: the work is settled by itself.
    report = json.loads(sample(TRIVY_PIP).read_bytes())
    for result in report["Results"]:
        result["Vulnerabilities"] = []
    upload(ciso, json.dumps(report).encode(), system=system)
    action.refresh_from_db()
    assert action.status == "verified"


# --- What a scan may not do -------------------------------------------------------------------


def test_a_scan_for_one_system_takes_no_service_from_another(ciso, bu_member, system, other_system):
    address, ports = nmap_hosts()[0]
    NetworkIdentity.objects.create(
        system=other_system,
        kind=NetworkIdentity.Kind.IP,
        value=address,
        valid_from=dt.date(2000, 1, 1),  # before the sample scans ran
        added_by=ciso,
    )
    upload_sample(ciso, NMAP)  # placed by identity: the other unit's services
    theirs = set(ExposedService.objects.filter(system=other_system).values_list("pk", flat=True))
    assert theirs
    # A member of another unit uploads the same addresses as a scan of their own system.
    later = sample(NMAP).read_bytes().replace(b"<nmaprun ", b"<nmaprun again='1' ", 1)
    scan = upload(bu_member, later, "mine.xml", system=system)
    assert scan.state == Scan.State.DONE, scan.error
    assert scan.counts["services_elsewhere"] >= len(ports)
    assert (
        set(
            ExposedService.objects.filter(system=other_system, closed_at__isnull=True).values_list(
                "pk", flat=True
            )
        )
        == theirs
    )


def test_the_same_file_is_one_import_a_system_and_another_systems_own(
    bu_member, system, other_system, other_bu_member
):
    """Two systems running one image have the same report: each unit imports it for its own
    system; the same file again for the same system is refused, naming the first import."""
    theirs = upload_sample(other_bu_member, TRIVY_PIP, system=other_system)
    mine = upload_sample(bu_member, TRIVY_PIP, system=system)
    assert theirs.state == mine.state == Scan.State.DONE, mine.error
    assert (
        Finding.objects.filter(system=system).count()
        == Finding.objects.filter(system=other_system).count()
        > 0
    )
    with pytest.raises(scans.DuplicateScan) as refused:
        upload_sample(bu_member, TRIVY_PIP, system=system)
    assert refused.value.scan == mine
    assert f"as scan {mine.pk} of" in refused.value.message


def test_a_name_longer_than_the_column_is_cut_not_a_failure(ciso, system):
    report = json.loads(sample(TRIVY_PIP).read_bytes())
    long_name = "VENDOR-" + "X" * 150
    report["Results"][0]["Vulnerabilities"][0]["VulnerabilityID"] = long_name
    scan = upload(ciso, json.dumps(report).encode(), system=system)
    assert scan.state == Scan.State.DONE, scan.error
    assert Vulnerability.objects.filter(key=long_name[:100]).exists()


def test_an_import_that_trips_is_refused_not_left_running(ciso, system, monkeypatch):
    def trip(self: Any) -> None:
        raise ValueError("a value no column holds")

    monkeypatch.setattr(scans._Import, "apply", trip)
    scan = upload_sample(ciso, TRIVY_PIP, system=system)
    assert scan.state == Scan.State.REFUSED and "ValueError" in scan.error
    monkeypatch.undo()
    assert upload_sample(ciso, TRIVY_PIP, system=system).state == Scan.State.DONE


def test_a_port_scan_closes_no_vulnerability_found_on_a_port(ciso, system):
    NetworkIdentity.objects.create(
        system=system,
        kind=NetworkIdentity.Kind.IP,
        value="127.128.129.130",
        valid_from=dt.date(2000, 1, 1),  # before the sample scans ran
        added_by=ciso,
    )
    upload_sample(ciso, "nessus/sner4_parser-nessus-simple.nessus")
    on_ports = Finding.objects.filter(system=system, package__startswith="port:")
    assert on_ports.filter(state=Finding.State.OPEN).exists()
    before = on_ports.filter(state=Finding.State.OPEN).count()
    address, _ports = nmap_hosts()[0]
    nmap = sample(NMAP).read_bytes().replace(address.encode(), b"127.128.129.130")
    scan = upload(ciso, nmap, "ports.xml")
    assert scan.state == Scan.State.DONE, scan.error
    assert on_ports.filter(state=Finding.State.OPEN).count() == before


# --- Where and when a scan looked ----------------------------------------------------------


def trivy_report(*, without: tuple[str, ...] = (), created: str, artifact: str = "") -> bytes:
    """The pip report as another run writes it: some vulnerabilities gone, another date, and
    (`artifact`) another thing scanned."""
    report = json.loads(sample(TRIVY_PIP).read_bytes())
    for result in report["Results"]:
        result["Vulnerabilities"] = [
            v for v in result.get("Vulnerabilities", []) if v["VulnerabilityID"] not in without
        ]
        if artifact:
            result["Target"] = f"{artifact}/requirements.txt"
    if artifact:
        report["ArtifactName"] = artifact
    report["CreatedAt"] = created
    return json.dumps(report).encode()


def state_of(system: System, cve: str) -> str:
    return Finding.objects.get(system=system, vulnerability__key=cve).state


def test_a_scan_of_another_target_on_the_system_closes_nothing_it_did_not_look_at(ciso, system):
    """A finding seen in one checkout is not closed by a scan of another checkout of the same
    system that lacks it: only a scan of what saw it, no longer seeing it, closes it."""
    upload_sample(ciso, TRIVY_PIP, system=system)
    other = trivy_report(
        without=("CVE-2019-14806",), created="2026-12-01T00:00:00Z", artifact="elsewhere/pip"
    )
    scan = upload(ciso, other, "elsewhere.json", system=system)
    assert scan.state == Scan.State.DONE, scan.error
    assert state_of(system, "CVE-2019-14806") == Finding.State.OPEN
    assert scan.counts.get("closed", 0) == 0
    # The first checkout scanned again without it: now it is fixed, by that scan.
    again = trivy_report(without=("CVE-2019-14806",), created="2026-12-02T00:00:00Z")
    fixing = upload(ciso, again, "again.json", system=system)
    finding = Finding.objects.get(system=system, vulnerability__key="CVE-2019-14806")
    assert finding.state == Finding.State.FIXED and finding.closed_by_scan == fixing
    assert set(
        Sighting.objects.filter(finding__system=system).values_list("target", flat=True)
    ) == {"testdata/fixtures/repo/pip", "elsewhere/pip"}


def test_an_older_report_sent_later_changes_nothing_a_newer_one_saw(ciso, system):
    upload_sample(ciso, TRIVY_PIP, system=system)  # run in 2021
    newer = upload(
        ciso,
        trivy_report(without=("CVE-2019-14806",), created="2026-12-01T00:00:00Z"),
        "newer.json",
        system=system,
    )
    assert state_of(system, "CVE-2019-14806") == Finding.State.FIXED
    # A report of 2023 still saw it: kept as a sighting, the finding stays fixed.
    older = upload(ciso, trivy_report(created="2023-01-01T00:00:00Z"), "older.json", system=system)
    assert older.state == Scan.State.DONE, older.error
    finding = Finding.objects.get(system=system, vulnerability__key="CVE-2019-14806")
    assert finding.state == Finding.State.FIXED and finding.closed_by_scan == newer
    assert finding.sightings.get(scan=older).outcome == Sighting.Outcome.OLDER
    # A report of 2024 without the other one does not close what the 2026 scan saw.
    oldest = upload(
        ciso,
        trivy_report(without=("CVE-2020-28724",), created="2024-01-01T00:00:00Z"),
        "2024.json",
        system=system,
    )
    assert oldest.state == Scan.State.DONE and oldest.counts.get("closed", 0) == 0
    assert state_of(system, "CVE-2020-28724") == Finding.State.OPEN


def test_hosts_are_placed_by_the_identities_of_the_day_the_scan_ran(ciso, system):
    """The sample nmap scan ran in February 2013: an address the register gave the system
    for 2013 alone is the system's in that scan, and a stranger's in the same scan run today."""
    (registered, _ports), *_rest = nmap_hosts()
    NetworkIdentity.objects.create(
        system=system,
        kind=NetworkIdentity.Kind.IP,
        value=registered,
        valid_from=dt.date(2013, 1, 1),
        valid_to=dt.date(2013, 12, 31),
        added_by=ciso,
    )
    then = upload_sample(ciso, NMAP)
    assert then.scanned_at.year == 2013
    assert then.hosts.get(address=registered).system == system
    today = upload(ciso, nmap_run_at(sample(NMAP).read_bytes(), timezone.now()), "today.xml")
    assert today.hosts.get(address=registered).system is None
    assert DiscoveredAsset.objects.filter(address=registered).exists()


def test_a_report_dated_after_its_upload_counts_as_of_the_upload(ciso):
    ahead = nmap_run_at(sample(NMAP).read_bytes(), timezone.now() + dt.timedelta(days=30))
    scan = upload(ciso, ahead, "ahead.xml")
    assert scan.state == Scan.State.DONE, scan.error
    assert scan.scanned_at == scan.uploaded_at
    assert scan.scanned_to is not None and scan.scanned_to > scan.uploaded_at  # as it says


def test_an_older_report_sent_later_opens_nothing_a_newer_one_looked_for(ciso, system):
    """A flaw only an older report saw, on a target a newer scan examined without seeing it,
    is made fixed as of that newer scan: a sighting for history, no open finding, no work."""
    upload(ciso, trivy_report(created="2026-12-01T00:00:00Z"), "newer.json", system=system)
    report = json.loads(trivy_report(created="2024-01-01T00:00:00Z"))
    extra = dict(report["Results"][0]["Vulnerabilities"][0], VulnerabilityID="CVE-2099-0001")
    report["Results"][0]["Vulnerabilities"].append(extra)
    older = upload(ciso, json.dumps(report).encode(), "older.json", system=system)
    assert older.state == Scan.State.DONE, older.error
    finding = Finding.objects.get(system=system, vulnerability__key="CVE-2099-0001")
    assert finding.state == Finding.State.FIXED and not finding.seen_by_scan
    assert finding.closed_by_scan == Scan.objects.get(file_name="newer.json")
    assert finding.sightings.get(scan=older).outcome == Sighting.Outcome.OLDER
    assert older.counts.get("new", 0) == 0 and older.counts["older"] == 1
    assert finding.action_id is None  # no remediation work for what is already fixed


def test_a_refused_file_is_not_kept(ciso, system, django_capture_on_commit_callbacks):
    name = f"deep-{uuid.uuid4().hex}.json"
    bomb = b'{"SchemaVersion": 2, "Results": [' + b"[" * 500
    with django_capture_on_commit_callbacks(execute=True):
        scan = upload(ciso, bomb, name, system=system)
    assert scan.state == Scan.State.REFUSED and "nested" in scan.error
    assert scan.file.name == ""
    assert not list(Path(settings.MEDIA_ROOT).rglob(name))
