"""Pages of scanner reports and the attacker's view, over real reports: the scans list and its
upload form, a scan's page and progress, the attack surface, discovered assets and their
triage forms, "Seen by" on a finding and "Last scanned" on a system."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from config.versioning import etag_of
from systems.models import NetworkIdentity, System
from tests.pages import csv_rows, xlsx_rows
from tests.systems.conftest import register
from tests.vulnerabilities.samples import sample
from vulnerabilities.models import DiscoveredAsset, ExposedService, Finding, Scan
from vulnerabilities.services import scans

pytestmark = pytest.mark.django_db

TRIVY_PIP = "trivy/trivy_pip.json"
NMAP = "nmap/libnmap_2_hosts_version.xml"
LOCAL, SCANME = "127.0.0.1", "74.207.244.221"  # the nmap sample's two hosts
SCANS = "/scans/"


def html(response: Any) -> str:
    return response.content.decode()


def upload(actor: Any, data: bytes, name: str, **kwargs: Any) -> Scan:
    return scans.receive(actor=actor, upload=SimpleUploadedFile(name, data), **kwargs)


def trivy(n: int = 0) -> bytes:
    """The pip report; `n` makes it another run (another file, the same findings)."""
    data = sample(TRIVY_PIP).read_bytes()
    if n:
        data = data.replace(b"000000000001", f"{n:012d}".encode(), 1)
    return data


def nmap(first: str = LOCAL, second: str = SCANME) -> bytes:
    """The nmap sample with its two hosts at the addresses given."""
    data = sample(NMAP).read_bytes()
    return data.replace(LOCAL.encode(), first.encode()).replace(SCANME.encode(), second.encode())


def identity(system: System, address: str, actor: Any) -> NetworkIdentity:
    return NetworkIdentity.objects.create(
        system=system,
        kind=NetworkIdentity.Kind.IP,
        value=address,
        valid_from=dt.date(2000, 1, 1),  # before the sample scans ran
        added_by=actor,
    )


@pytest.fixture
def other_system(other_unit, other_bu_member) -> System:
    return register(other_unit, "cloud-console", internet_facing=True)


@pytest.fixture
def trivy_scan(ciso, system) -> Scan:
    scan = upload(ciso, trivy(), "trivy_pip.json", system=system)
    assert scan.state == Scan.State.DONE, scan.error
    return scan


@pytest.fixture
def nmap_scan(ciso, unit, system) -> Scan:
    """The company's addresses scanned: 127.0.0.1 is the system's (MySQL open on it), the
    other address nobody's, so it becomes a discovered asset."""
    identity(system, LOCAL, ciso)
    scan = upload(ciso, nmap(), "nmap.xml")
    assert scan.state == Scan.State.DONE, scan.error
    return scan


def queries(client: Any, path: str) -> int:
    client.get(path)
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    return len(ctx.captured_queries)


# --- The scans list and its upload form ---------------------------------------------------


def test_the_unit_uploads_a_report_for_its_system_and_sees_what_it_found(
    login_as, bu_member, system
):
    client = login_as(bu_member)
    page = html(client.get(SCANS))
    assert 'data-testid="upload-form"' in page
    assert f'value="{system.pk}"' in page
    response = client.post(
        SCANS,
        {"file": SimpleUploadedFile("trivy_pip.json", trivy()), "system": system.pk, "format": ""},
    )
    scan = Scan.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/scans/{scan.pk}/"
    assert scan.state == Scan.State.DONE and scan.system == system
    text = html(client.get(response["Location"]))
    assert "The report is imported." in text
    assert 'data-testid="scan-state"' in text and scan.tool in text
    assert f'href="/findings/?scan={scan.pk}&amp;outcome=new"' in text
    assert f'href="/findings/?closed_by_scan={scan.pk}"' in text
    assert 'data-testid="covered-ecosystems">pypi' in text
    # The link lists the two findings the scan made.
    listed = html(client.get(f"/findings/?scan={scan.pk}&outcome=new"))
    assert listed.count('data-testid="finding-row"') == 2
    assert (
        html(client.get(f"/findings/?scan={scan.pk}&outcome=reopened")).count(
            'data-testid="finding-row"'
        )
        == 0
    )
    # The scan is on the list.
    assert f'data-testid="scan-row" data-id="{scan.pk}" data-state="done"' in html(
        client.get(SCANS)
    )


def test_the_same_file_again_is_refused_with_a_message_naming_the_first(
    login_as, bu_member, system, trivy_scan
):
    client = login_as(bu_member)
    response = client.post(
        SCANS, {"file": SimpleUploadedFile("again.json", trivy()), "system": system.pk}
    )
    assert response.status_code == 302 and response["Location"] == f"/scans/{trivy_scan.pk}/"
    text = html(client.get(response["Location"]))
    assert f"as scan {trivy_scan.pk} of" in text
    assert Scan.objects.count() == 1


def test_the_same_file_for_another_units_system_is_its_own_import(
    login_as, other_bu_member, other_system, trivy_scan
):
    client = login_as(other_bu_member)
    response = client.post(
        SCANS, {"file": SimpleUploadedFile("t.json", trivy()), "system": other_system.pk}
    )
    theirs = Scan.objects.get(system=other_system)
    assert response.status_code == 302 and response["Location"] == f"/scans/{theirs.pk}/"
    assert theirs.state == Scan.State.DONE and theirs.sha256 == trivy_scan.sha256


def test_a_file_we_do_not_read_shows_the_error_and_writes_nothing(login_as, ciso, system):
    client = login_as(ciso)
    response = client.post(
        SCANS, {"file": SimpleUploadedFile("notes.txt", b"hello, world\n"), "system": system.pk}
    )
    assert response.status_code == 400
    assert 'data-testid="error-file"' in html(response)
    assert Scan.objects.count() == 0 and Finding.objects.count() == 0


def test_a_truncated_report_is_refused_on_the_form_and_its_page_says_why(login_as, ciso, system):
    client = login_as(ciso)
    data = trivy()
    response = client.post(
        SCANS, {"file": SimpleUploadedFile("cut.json", data[: len(data) // 2]), "system": system.pk}
    )
    assert response.status_code == 400
    assert "The report was refused" in html(response)
    assert Finding.objects.count() == 0
    scan = Scan.objects.get()
    assert scan.state == Scan.State.REFUSED
    page = html(client.get(f"/scans/{scan.pk}/"))
    assert 'data-testid="scan-error"' in page and scan.error in page


def test_a_unit_member_names_one_of_its_systems(login_as, bu_member, system, other_system):
    client = login_as(bu_member)
    response = client.post(SCANS, {"file": SimpleUploadedFile("trivy_pip.json", trivy())})
    assert response.status_code == 400 and 'data-testid="error-system"' in html(response)
    response = client.post(
        SCANS, {"file": SimpleUploadedFile("t.json", trivy()), "system": other_system.pk}
    )
    assert response.status_code == 400 and 'data-testid="error-system"' in html(response)
    assert Scan.objects.count() == 0


def test_the_cisos_office_uploads_a_scan_placed_by_network_identities(login_as, ciso, system):
    identity(system, LOCAL, ciso)
    client = login_as(ciso)
    response = client.post(SCANS, {"file": SimpleUploadedFile("nmap.xml", nmap()), "system": ""})
    scan = Scan.objects.get()
    assert response.status_code == 302 and scan.system is None
    text = html(client.get(f"/scans/{scan.pk}/"))
    assert 'data-testid="covered-unplaced"><span class="text-danger fw-semibold">1<' in text
    assert f'data-ref="{SCANME}"' in text or SCANME in text
    assert f'href="/systems/{system.pk}/"' in text


def test_who_may_not_upload_gets_no_form_and_is_refused(login_as, auditor, trivy_scan):
    client = login_as(auditor)
    page = html(client.get(SCANS))
    assert 'data-testid="upload-form"' not in page
    assert f'data-id="{trivy_scan.pk}"' in page  # oversight reads every scan
    response = client.post(SCANS, {"file": SimpleUploadedFile("t.json", trivy(1))})
    assert response.status_code == 403
    assert Scan.objects.count() == 1


def test_the_list_filters_and_exports(login_as, ciso, system, trivy_scan, nmap_scan):
    client = login_as(ciso)
    page = html(client.get(f"{SCANS}?format=nmap"))
    assert f'data-id="{nmap_scan.pk}"' in page and f'data-id="{trivy_scan.pk}"' not in page
    assert client.get(f"{SCANS}?state=nonsense").status_code == 400
    rows = csv_rows(client.get(f"{SCANS}?export=csv").content)
    assert rows[0][0] == "Scan" and {r[0] for r in rows[1:]} == {
        str(trivy_scan.pk),
        str(nmap_scan.pk),
    }
    sheet = xlsx_rows(client.get(f"{SCANS}?export=xlsx&format=trivy").content)
    assert [r[0] for r in sheet[1:]] == [trivy_scan.pk]


def test_the_scans_list_costs_the_same_queries_for_one_scan_or_many(login_as, bu_member, system):
    client = login_as(bu_member)
    upload(bu_member, trivy(1), "r1.json", system=system)
    one = queries(client, SCANS)
    for n in range(2, 8):
        upload(bu_member, trivy(n), f"r{n}.json", system=system)
    assert queries(client, SCANS) == one
    assert html(client.get(SCANS)).count('data-testid="scan-row"') == 7


# --- A scan's page ------------------------------------------------------------------------


def test_a_scan_is_hidden_from_another_unit(login_as, other_bu_member, trivy_scan):
    client = login_as(other_bu_member)
    assert client.get(f"/scans/{trivy_scan.pk}/").status_code == 404
    assert client.get(f"/scans/{trivy_scan.pk}/progress/").status_code == 404
    assert f'data-id="{trivy_scan.pk}"' not in html(client.get(SCANS))


def test_a_scans_hosts_export(login_as, ciso, system, nmap_scan):
    client = login_as(ciso)
    rows = csv_rows(client.get(f"/scans/{nmap_scan.pk}/?export=csv").content)
    assert rows[0][0] == "Host"
    by_ref = {row[0]: row for row in rows[1:]}
    assert len(by_ref) == 2
    placed = [row for row in rows[1:] if row[7] == system.code]
    assert len(placed) == 1 and LOCAL in placed[0][2]
    sheet = xlsx_rows(client.get(f"/scans/{nmap_scan.pk}/?export=xlsx").content)
    assert len(sheet) == 3


def test_a_queued_scan_polls_its_progress_until_imported(
    login_as, ciso, system, settings, django_capture_on_commit_callbacks
):
    settings.SCAN_INLINE_BYTES = 100
    with django_capture_on_commit_callbacks(execute=False):
        scan = upload(ciso, trivy(), "big.json", system=system)
    assert scan.state == Scan.State.QUEUED
    client = login_as(ciso)
    page = html(client.get(f"/scans/{scan.pk}/"))
    assert 'hx-trigger="every 1s"' in page and f"/scans/{scan.pk}/progress/" in page
    partial = client.get(f"/scans/{scan.pk}/progress/", headers={"HX-Request": "true"})
    assert 'hx-trigger="every 1s"' in html(partial) and "HX-Refresh" not in partial
    scans.run(scan_id=scan.pk)
    partial = client.get(f"/scans/{scan.pk}/progress/", headers={"HX-Request": "true"})
    assert partial["HX-Refresh"] == "true"
    assert "hx-trigger" not in html(partial)
    assert 'hx-trigger="every 1s"' not in html(client.get(f"/scans/{scan.pk}/"))


# --- The attack surface -------------------------------------------------------------------


def test_the_attack_surface_for_the_cisos_office_and_oversight(
    login_as, ciso, auditor, bu_member, unit, nmap_scan
):
    inside = register(unit, "intranet", internet_facing=False)
    identity(inside, "192.0.2.10", ciso)
    upload(ciso, nmap("192.0.2.10", "198.51.100.7"), "again.xml")
    page = html(login_as(ciso).get("/attack-surface/"))
    assert 'data-port="tcp/3306"' in page and "MySQL" in page  # open on 127.0.0.1
    assert f'href="/systems/{inside.pk}/"' in page.split('data-testid="not-registered-facing"')[1]
    queue = page.split('data-testid="asset-queue"')[1]
    assert f'data-address="{SCANME}"' in queue and 'data-address="198.51.100.7"' in queue
    assert login_as(auditor).get("/attack-surface/").status_code == 200
    assert login_as(bu_member).get("/attack-surface/").status_code == 403


def test_an_overdue_asset_is_in_red(login_as, ciso, nmap_scan):
    DiscoveredAsset.objects.filter(address=SCANME).update(due_on=dt.date(2020, 1, 1))
    page = html(login_as(ciso).get("/attack-surface/"))
    row = page.split(f'data-address="{SCANME}"')[1].split("</tr>")[0]
    assert 'data-testid="overdue"' in row
    assert 'data-testid="assets-overdue"' in page
    listed = html(login_as(ciso).get("/discovered-assets/?overdue=true"))
    assert listed.count('data-testid="asset-row"') == 1


# --- Discovered assets ----------------------------------------------------------------------


def _asset() -> DiscoveredAsset:
    return DiscoveredAsset.objects.get(address=SCANME)


def test_an_asset_is_the_cisos_office_until_assigned_to_a_unit(
    login_as, ciso, bu_member, other_bu_member, unit, system, nmap_scan
):
    asset = _asset()
    url = f"/discovered-assets/{asset.pk}/"
    page = html(login_as(ciso).get(url))
    assert 'data-testid="assign-form"' in page and 'data-testid="dismiss-form"' in page
    assert f'href="/scans/{nmap_scan.pk}/"' in page
    assert 'data-testid="service-row"' in page
    assert login_as(bu_member).get(url).status_code == 404
    assert 'data-testid="asset-row"' not in html(login_as(bu_member).get("/discovered-assets/"))
    # The CISO's office assigns it to the unit, with a new deadline.
    client = login_as(ciso)
    due = (dt.date.today() + dt.timedelta(days=30)).isoformat()
    response = client.post(
        f"{url}assign/",
        {
            "assign-unit": unit.code,
            "assign-due_on": due,
            "assign-note": "Their CDN",
            "assign-version": etag_of(asset),
        },
    )
    assert response.status_code == 302 and response["Location"] == url
    asset.refresh_from_db()
    assert asset.state == DiscoveredAsset.State.ASSIGNED and asset.unit == unit
    assert asset.due_on.isoformat() == due
    # The unit now sees it and may attach it to its system; another unit does not see it.
    page = html(login_as(bu_member).get(url))
    assert 'data-testid="attach-form"' in page and 'data-testid="assign-form"' not in page
    assert login_as(other_bu_member).get(url).status_code == 404
    client = login_as(bu_member)
    assert client.post(f"{url}assign/", {"assign-unit": unit.code}).status_code == 403
    response = client.post(
        f"{url}attach/", {"attach-system": system.pk, "attach-version": etag_of(asset)}
    )
    assert response.status_code == 302
    asset.refresh_from_db()
    assert asset.system == system
    assert NetworkIdentity.objects.filter(system=system, value=SCANME).exists()
    assert ExposedService.objects.filter(address=SCANME, system=system).exists()
    assert 'data-testid="attach-form"' not in html(client.get(url))


def test_a_stale_form_is_refused(login_as, ciso, unit, nmap_scan):
    asset = _asset()
    client = login_as(ciso)
    stale = etag_of(asset)
    url = f"/discovered-assets/{asset.pk}/"
    response = client.post(f"{url}assign/", {"assign-unit": unit.code, "assign-version": stale})
    assert response.status_code == 302
    response = client.post(
        f"{url}dismiss/",
        {"dismiss-reason": "not_ours", "dismiss-note": "Not our range", "dismiss-version": stale},
    )
    assert response.status_code == 412
    assert 'data-testid="refusal"' in html(response)
    assert _asset().state == DiscoveredAsset.State.ASSIGNED


def test_the_cisos_office_dismisses_an_asset_saying_how_it_knows(login_as, ciso, nmap_scan):
    asset = _asset()
    client = login_as(ciso)
    url = f"/discovered-assets/{asset.pk}/"
    response = client.post(
        f"{url}dismiss/",
        {"dismiss-reason": "not_ours", "dismiss-note": " ", "dismiss-version": etag_of(asset)},
    )
    assert response.status_code == 400 and 'data-testid="error-note"' in html(response)
    response = client.post(
        f"{url}dismiss/",
        {
            "dismiss-reason": "not_ours",
            "dismiss-note": "A customer's address",
            "dismiss-version": etag_of(asset),
        },
    )
    assert response.status_code == 302
    asset.refresh_from_db()
    assert asset.state == DiscoveredAsset.State.DISMISSED and asset.reason == "not_ours"
    page = html(client.get(url))
    assert 'data-testid="dismiss-form"' not in page and "A customer&#x27;s address" in page


def test_the_assets_list_exports_and_costs_the_same_queries(login_as, ciso, system):
    client = login_as(ciso)
    upload(ciso, nmap("203.0.113.1", "203.0.113.2"), "n1.xml")
    one = queries(client, "/discovered-assets/")
    for n in range(3, 13, 2):
        upload(ciso, nmap(f"203.0.113.{n}", f"203.0.113.{n + 1}"), f"n{n}.xml")
    assert queries(client, "/discovered-assets/") == one
    assert html(client.get("/discovered-assets/")).count('data-testid="asset-row"') == 12
    rows = csv_rows(client.get("/discovered-assets/?export=csv&state=new").content)
    assert rows[0][0] == "Address" and len(rows) == 13
    sheet = xlsx_rows(client.get("/discovered-assets/?export=xlsx").content)
    assert len(sheet) == 13


# --- A finding's page and a system's page -------------------------------------------------------


def test_a_finding_says_which_scans_saw_it(login_as, bu_member, ciso, system, trivy_scan):
    later = upload(ciso, trivy(2), "later.json", system=system)
    finding = Finding.objects.filter(system=system).first()
    assert finding is not None
    client = login_as(bu_member)
    client.get(f"/findings/{finding.pk}/")
    with CaptureQueriesContext(connection) as ctx:
        page = html(client.get(f"/findings/{finding.pk}/"))
    seen = page.split('data-testid="seen-by"')[1]
    first, second = (
        seen.index(f'data-scan="{later.pk}"'),
        seen.index(f'data-scan="{trivy_scan.pk}"'),
    )
    assert first < second  # newest first
    assert 'data-outcome="still_open"' in seen and 'data-outcome="new"' in seen
    assert sum("vulnerabilities_sighting" in q["sql"] for q in ctx.captured_queries) == 1


def test_a_system_says_when_it_was_last_scanned(login_as, bu_member, system, other_system):
    client = login_as(bu_member)
    assert "Never scanned" in html(client.get(f"/systems/{system.pk}/"))
    scan = upload(bu_member, trivy(), "trivy_pip.json", system=system)
    page = html(client.get(f"/systems/{system.pk}/"))
    panel = page.split('data-testid="last-scanned"')[1].split("</span>")[0]
    assert "Last scanned" in panel and f'href="/scans/{scan.pk}/"' in panel
    assert scan.tool in panel


def test_the_navigation_links_scans_and_the_attack_surface(login_as, ciso, bu_member):
    assert 'href="/attack-surface/"' in html(login_as(ciso).get(SCANS))
    page = html(login_as(bu_member).get(SCANS))
    assert 'href="/scans/"' in page and 'href="/attack-surface/"' not in page


def test_a_scan_says_as_of_when_it_counts(login_as, ciso, system, trivy_scan):
    """The report's own moment, in the page, the export and the API."""
    client = login_as(ciso)
    text = html(client.get(f"/scans/{trivy_scan.pk}/"))
    assert 'data-testid="scanned-at"' in text
    assert trivy_scan.scanned_at.year == 2021  # the sample's CreatedAt, not today
    exported = client.get(f"{SCANS}?export=csv").content.decode()
    assert "Scanned at" in exported.splitlines()[0] and "2021-08-25" in exported
    body = client.get(f"/api/v1/scans/{trivy_scan.pk}/", headers={"Accept": "application/json"})
    assert body.json()["scanned_at"].startswith("2021-08-25")
