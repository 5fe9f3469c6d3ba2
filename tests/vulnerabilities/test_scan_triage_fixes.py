"""Three defects an acceptance tester found in scanner imports (issue 20): an attached asset
could still be dismissed or assigned; a unit could not open the scan of the company's
addresses that found its findings (now it may, in part: its own hosts and what was found on
them, nothing of other units'); and the scan page's Japanese (the "Report" heading, the
"Imported" label, what the reader skipped)."""

from __future__ import annotations

import ast
import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils.translation import trans_real

from config.errors import Conflict
from config.versioning import etag_of
from systems.models import NetworkIdentity, System
from tests.systems.conftest import register
from tests.vulnerabilities.samples import sample
from vulnerabilities.models import DiscoveredAsset, Finding, Scan
from vulnerabilities.services import scans, surface

pytestmark = pytest.mark.django_db

JSON = {"Accept": "application/json"}
NMAP = "nmap/libnmap_2_hosts_version.xml"
NESSUS = "nessus/sner4_parser-nessus-simple.nessus"
LOCAL, SCANME = "127.0.0.1", "74.207.244.221"  # the nmap sample's two hosts
# The Nessus sample's two hosts, by the names that place them, and what its reader skips.
NESSUS_OURS, NESSUS_THEIRS = "serverx.localdomain", "serveralias.localhost"
SEVERITY_0 = "informational plugin (severity 0)"
SEVERITY_0_JA = "情報提供のみのプラグイン (深刻度0)"


@pytest.fixture
def other_system(other_unit: Any, other_bu_member: Any) -> System:
    return register(other_unit, "cloud-console", internet_facing=True)


def upload(actor: Any, data: bytes, name: str, **kwargs: Any) -> Scan:
    scan = scans.receive(actor=actor, upload=SimpleUploadedFile(name, data), **kwargs)
    assert scan.state == Scan.State.DONE, scan.error
    return scan


def nmap(first: str = LOCAL, second: str = SCANME) -> bytes:
    """The nmap sample with its two hosts at the addresses given."""
    data = sample(NMAP).read_bytes()
    return data.replace(LOCAL.encode(), first.encode()).replace(SCANME.encode(), second.encode())


def identify(system: System, value: str, by: Any, kind: str = NetworkIdentity.Kind.IP) -> None:
    NetworkIdentity.objects.create(
        system=system,
        kind=kind,
        value=value,
        valid_from=dt.date(2000, 1, 1),  # before the samples ran
        added_by=by,
    )


def get(client: Client, path: str, **params: Any) -> Any:
    return client.get(path, params, headers=JSON)


def post(client: Client, path: str, body: Any, **headers: Any) -> Any:
    return client.post(path, body, content_type="application/json", headers={**JSON, **headers})


def html(response: Any) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


# --- 1. An attached asset is settled ----------------------------------------------------------


@pytest.fixture
def attached(ciso, other_unit, other_bu_member, other_system) -> DiscoveredAsset:
    """The tester's case: the address nobody registered, assigned to the other unit and
    attached by it to its cloud-console."""
    upload(ciso, nmap(), "nmap.xml")
    asset = DiscoveredAsset.objects.get(address=SCANME)
    asset = surface.assign(actor=ciso, asset=asset, unit=other_unit)
    return surface.attach(actor=other_bu_member, asset=asset, system=other_system)


def _unchanged(asset: DiscoveredAsset, system: System) -> None:
    before = asset.version_number
    asset.refresh_from_db()
    assert asset.state == DiscoveredAsset.State.ASSIGNED and asset.system == system
    assert asset.reason == "" and asset.version_number == before
    assert NetworkIdentity.objects.filter(
        system=system, value=SCANME, valid_to__isnull=True
    ).exists()


def test_the_service_refuses_to_dismiss_assign_or_attach_an_attached_asset(
    ciso, unit, other_bu_member, other_system, attached
):
    acts: list[tuple[Callable[..., Any], dict[str, Any]]] = [
        (surface.dismiss, {"actor": ciso, "reason": "not_ours", "note": "Not our range"}),
        (surface.assign, {"actor": ciso, "unit": unit}),
        (surface.attach, {"actor": other_bu_member, "system": other_system}),
    ]
    for act, arguments in acts:
        with pytest.raises(Conflict) as refused:
            act(asset=attached, **arguments)
        assert refused.value.code == "asset_attached"
        assert other_system.code in refused.value.message
    _unchanged(attached, other_system)
    assert not surface.may(attached, "dismiss") and not surface.may(attached, "assign")
    assert not surface.may(attached, "attach")


def test_the_api_answers_409_to_dismissing_or_assigning_an_attached_asset(
    login_as, ciso, unit, other_system, attached
):
    client = login_as(ciso)
    path = f"/api/v1/discovered-assets/{attached.pk}/"
    etag = get(client, path)["ETag"]
    dismissed = post(
        client, f"{path}dismiss/", {"reason": "not_ours", "note": "x"}, **{"If-Match": etag}
    )
    assert dismissed.status_code == 409, dismissed.content
    assert dismissed.json()["code"] == "asset_attached"
    assert other_system.code in dismissed.json()["detail"]
    assigned = post(client, f"{path}assign/", {"unit": unit.code}, **{"If-Match": etag})
    assert assigned.status_code == 409 and assigned.json()["code"] == "asset_attached"
    _unchanged(attached, other_system)


def test_the_pages_offer_no_act_on_an_attached_asset_and_refuse_one_sent(
    login_as, ciso, other_bu_member, other_system, attached
):
    url = f"/discovered-assets/{attached.pk}/"
    page = html(login_as(ciso).get(url))
    for form in ("assign-form", "dismiss-form", "attach-form"):
        assert f'data-testid="{form}"' not in page
    assert f'href="/systems/{other_system.pk}/"' in page
    assert 'data-testid="attach-form"' not in html(login_as(other_bu_member).get(url))
    # A form sent anyway (an old tab) is a 409 saying why, whatever else it says.
    client = login_as(ciso)
    response = client.post(
        f"{url}dismiss/",
        {"dismiss-reason": "not_ours", "dismiss-note": "", "dismiss-version": etag_of(attached)},
    )
    assert response.status_code == 409
    assert 'data-testid="refusal"' in response.content.decode()
    response = client.post(
        f"{url}assign/", {"assign-unit": "PUBSEC", "assign-version": etag_of(attached)}
    )
    assert response.status_code == 409
    _unchanged(attached, other_system)


def test_a_dismissed_asset_offers_no_act_and_refuses_one_sent(login_as, ciso, unit):
    upload(ciso, nmap(), "nmap.xml")
    asset = DiscoveredAsset.objects.get(address=SCANME)
    asset = surface.dismiss(actor=ciso, asset=asset, reason="not_ours", note="A customer's")
    url = f"/discovered-assets/{asset.pk}/"
    client = login_as(ciso)
    page = html(client.get(url))
    assert 'data-testid="assign-form"' not in page and 'data-testid="dismiss-form"' not in page
    response = client.post(
        f"{url}assign/", {"assign-unit": unit.code, "assign-version": etag_of(asset)}
    )
    assert response.status_code == 409
    asset.refresh_from_db()
    assert asset.state == DiscoveredAsset.State.DISMISSED


def test_an_assigned_asset_not_yet_attached_still_offers_its_acts(
    login_as, ciso, bu_member, unit, system
):
    upload(ciso, nmap(), "nmap.xml")
    asset = surface.assign(actor=ciso, asset=DiscoveredAsset.objects.get(address=SCANME), unit=unit)
    url = f"/discovered-assets/{asset.pk}/"
    page = html(login_as(ciso).get(url))
    assert 'data-testid="assign-form"' in page and 'data-testid="dismiss-form"' in page
    assert 'data-testid="attach-form"' in html(login_as(bu_member).get(url))


def test_a_unit_is_not_linked_to_the_scan_it_may_not_open(login_as, ciso, bu_member, unit):
    upload(ciso, nmap(), "nmap.xml")
    asset = surface.assign(actor=ciso, asset=DiscoveredAsset.objects.get(address=SCANME), unit=unit)
    scan = f'href="/scans/{asset.first_scan_id}/"'
    assert scan in html(login_as(ciso).get(f"/discovered-assets/{asset.pk}/"))
    client = login_as(bu_member)
    page = html(client.get(f"/discovered-assets/{asset.pk}/"))
    assert scan not in page and f"scan {asset.first_scan_id}" in page
    assert client.get(f"/scans/{asset.first_scan_id}/").status_code == 404


# --- 2. A unit opens the scan of the company's addresses that found its findings, in part ---


@pytest.fixture
def nessus_scan(ciso, system, other_system) -> Scan:
    """A whole Nessus scan by the CISO's office: its first host is the unit's system (with a
    finding), its second the other unit's (an informational plugin only, skipped)."""
    identify(system, NESSUS_OURS, ciso, NetworkIdentity.Kind.HOSTNAME)
    identify(other_system, NESSUS_THEIRS, ciso, NetworkIdentity.Kind.HOSTNAME)
    scan = upload(ciso, sample(NESSUS).read_bytes(), "acme-and-partners.nessus")
    assert scan.system is None and scan.counts["placed"] == 2
    assert scan.skipped == {SEVERITY_0: 1}
    return scan


@pytest.fixture
def nmap_scan(ciso, system) -> Scan:
    """A whole nmap scan: 127.0.0.1 is the unit's system, the other address nobody's."""
    identify(system, LOCAL, ciso)
    scan = upload(ciso, nmap(), "public-ranges.xml")
    assert scan.counts["unplaced"] == 1 and scan.counts["assets_new"] == 1
    return scan


def test_a_unit_reads_the_whole_scan_that_found_its_findings_in_part_through_the_api(
    login_as, bu_head, system, nessus_scan
):
    ours = sorted(Finding.objects.filter(system=system).values_list("pk", flat=True))
    host = nessus_scan.hosts.get(system=system)
    assert 0 < len(ours) == nessus_scan.counts["new"]  # the other host had none to find
    client = login_as(bu_head)
    response = get(client, f"/api/v1/scans/{nessus_scan.pk}/")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["whole"] is False and body["system"] is None
    assert body["file_name"] == "" and body["skipped"] == {}
    assert body["counts"] == {
        "hosts": 1,
        "hosts_down": 0,
        "new": len(ours),
        "observations": host.observations,
        "placed": 1,
        "services": 0,
    }
    hosts = get(client, f"/api/v1/scans/{nessus_scan.pk}/hosts/").json()["results"]
    assert [(h["system_code"], NESSUS_OURS in h["hostnames"]) for h in hosts] == [
        (system.code, True)
    ]
    assert (
        get(client, f"/api/v1/scans/{nessus_scan.pk}/hosts/", placed="false").json()["results"]
        == []
    )
    listed = get(client, "/api/v1/scans/").json()["results"]
    assert [(s["id"], s["whole"], s["file_name"], s["counts"]) for s in listed] == [
        (nessus_scan.pk, False, "", body["counts"])
    ]
    # The findings the scan made on the unit's system, as "Seen by" links to them.
    seen = get(client, "/api/v1/findings/", scan=nessus_scan.pk).json()["results"]
    assert sorted(f["id"] for f in seen) == ours


def test_the_other_unit_reads_its_own_host_and_oversight_the_whole_scan(
    login_as, ciso, auditor, other_bu_member, other_system, nessus_scan
):
    client = login_as(other_bu_member)
    body = get(client, f"/api/v1/scans/{nessus_scan.pk}/").json()
    assert body["whole"] is False and body["file_name"] == "" and body["skipped"] == {}
    assert body["counts"] == {
        "hosts": 1,
        "hosts_down": 0,
        "observations": 0,
        "placed": 1,
        "services": 0,
    }
    hosts = get(client, f"/api/v1/scans/{nessus_scan.pk}/hosts/").json()["results"]
    assert [h["system_code"] for h in hosts] == [other_system.code]
    for overseer in (ciso, auditor):
        body = get(login_as(overseer), f"/api/v1/scans/{nessus_scan.pk}/").json()
        assert body["whole"] is True and body["file_name"] == "acme-and-partners.nessus"
        assert body["counts"] == nessus_scan.counts and body["skipped"] == {SEVERITY_0: 1}
        hosts = get(login_as(overseer), f"/api/v1/scans/{nessus_scan.pk}/hosts/").json()
        assert len(hosts["results"]) == 2


def test_a_unit_with_no_host_in_a_whole_scan_does_not_see_it(
    login_as, other_bu_member, other_system, nmap_scan
):
    client = login_as(other_bu_member)
    assert get(client, f"/api/v1/scans/{nmap_scan.pk}/").status_code == 404
    assert get(client, f"/api/v1/scans/{nmap_scan.pk}/hosts/").status_code == 404
    assert client.get(f"/scans/{nmap_scan.pk}/").status_code == 404
    assert get(client, "/api/v1/scans/").json()["results"] == []


def test_the_scan_page_shows_a_unit_its_hosts_alone(login_as, ciso, bu_member, system, nmap_scan):
    client = login_as(bu_member)
    page = html(client.get(f"/scans/{nmap_scan.pk}/"))
    assert 'data-testid="scan-in-part"' in page
    assert "public-ranges.xml" not in page and 'data-testid="scan-file"' not in page
    assert 'data-testid="unplaced-hosts"' not in page and SCANME not in page
    assert 'data-testid="covered-unplaced"' not in page
    assert 'data-testid="found-assets_new"' not in page
    placed = page.split('data-testid="placed-hosts"')[1]
    assert placed.count('data-testid="host-row"') == 1 and LOCAL in placed
    assert 'data-testid="covered-hosts">1' in page
    # Its export: the unit's hosts alone.
    rows = client.get(f"/scans/{nmap_scan.pk}/?export=csv").content.decode()
    assert LOCAL in rows and SCANME not in rows
    # The list: the row, without the file's name, counting the unit's hosts.
    listed = html(client.get("/scans/"))
    row = listed.split(f'data-testid="scan-row" data-id="{nmap_scan.pk}"')[1].split("</tr>")[0]
    assert "public-ranges.xml" not in row and '<td class="text-end">1</td>' in row
    exported = client.get("/scans/?export=csv").content.decode()
    assert "public-ranges.xml" not in exported
    # The CISO's office reads it whole.
    page = html(login_as(ciso).get(f"/scans/{nmap_scan.pk}/"))
    assert 'data-testid="scan-in-part"' not in page and "public-ranges.xml" in page
    assert SCANME in page.split('data-testid="unplaced-hosts"')[1]


def test_the_scan_page_counts_a_units_findings_alone(login_as, bu_member, system, nessus_scan):
    ours = Finding.objects.filter(system=system).count()
    page = html(login_as(bu_member).get(f"/scans/{nessus_scan.pk}/"))
    assert f'data-testid="found-new-link">{ours}<' in page
    assert 'data-testid="scan-skipped"' not in page and SEVERITY_0 not in page
    assert NESSUS_THEIRS not in page and "cloud-console" not in page


def test_a_units_scans_list_costs_the_same_for_1_or_4_scans_seen_in_part(
    login_as, ciso, bu_member, system
):
    identify(system, "192.0.2.1", ciso)
    upload(ciso, nmap("192.0.2.1", "198.51.100.1"), "n1.xml")
    client = login_as(bu_member)

    def cost(path: str) -> int:
        client.get(path, headers=JSON)
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(path, headers=JSON).status_code == 200
        return len(ctx.captured_queries)

    api, page = cost("/api/v1/scans/"), cost("/scans/")
    for n in range(2, 5):
        identify(system, f"192.0.2.{n}", ciso)
        upload(ciso, nmap(f"192.0.2.{n}", f"198.51.100.{n}"), f"n{n}.xml")
    assert cost("/api/v1/scans/") == api and cost("/scans/") == page
    listed = get(client, "/api/v1/scans/").json()["results"]
    assert len(listed) == 4 and {s["counts"]["hosts"] for s in listed} == {1}


def test_the_uploader_and_the_systems_unit_still_read_their_scans_whole(
    login_as, bu_member, system
):
    client = login_as(bu_member)
    data = sample("trivy/trivy_pip.json").read_bytes()
    scan = upload(bu_member, data, "trivy_pip.json", system=system)
    body = get(client, f"/api/v1/scans/{scan.pk}/").json()
    assert body["whole"] is True and body["file_name"] == "trivy_pip.json"
    assert body["counts"] == scan.counts


# --- 3. Japanese ---------------------------------------------------------------------------


def _japanese(monkeypatch: pytest.MonkeyPatch, entries: dict[str, str]) -> None:
    """Catalogue entries as the translators will add them (msgctxt\\x04msgid for a context)."""
    catalog = trans_real.translation("ja")._catalog._catalogs[0]  # type: ignore[attr-defined]
    for key, text in entries.items():
        monkeypatch.setitem(catalog, key, text)


def test_the_scan_page_in_japanese_heads_the_report_and_dates_its_import(
    login_as, ciso, nessus_scan, monkeypatch
):
    _japanese(
        monkeypatch,
        {
            "scan file\x04Report": "レポート",
            "scan date\x04Imported": "取り込み日時",
            SEVERITY_0: SEVERITY_0_JA,
        },
    )
    client = login_as(ciso)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ja"
    page = html(client.get(f"/scans/{nessus_scan.pk}/"))
    assert '<div class="card-header">レポート</div>' in page
    assert "報告する" not in page  # the incident form's button
    facts = page.split('data-testid="scan-facts"')[1].split("</dl>")[0]
    assert "取り込み日時" in facts and "取り込み済み" not in facts
    assert "取り込み済み" in page.split('data-testid="scan-state"')[1]  # the state
    skipped = page.split('data-testid="scan-skipped"')[1].split("</ul>")[0]
    assert f"{SEVERITY_0_JA}: 1" in skipped and SEVERITY_0 not in skipped
    # Kept in English: the API's keys are the same in every language.
    api = client.get(f"/api/v1/scans/{nessus_scan.pk}/", headers=JSON)
    assert api.json()["skipped"] == {SEVERITY_0: 1}
    csv = client.get("/scans/?export=csv").content.decode()
    assert "取り込み日時" in csv.splitlines()[0]


def test_a_skip_reason_stored_in_english_shows_in_the_readers_language(login_as, ciso, nessus_scan):
    assert nessus_scan.skipped == {SEVERITY_0: 1}  # kept in English, for every reader
    client = login_as(ciso)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ja"
    skipped = html(client.get(f"/scans/{nessus_scan.pk}/")).split('data-testid="scan-skipped"')[1]
    assert "情報提供のみのプラグイン（深刻度0）: 1" in skipped  # noqa: RUF001  # Japanese brackets


def test_every_skip_reason_a_reader_gives_is_marked_for_translation():
    """tally.skip(...) takes gettext_noop("...") (or a table of them), so makemessages finds
    each reason and the page translates what was stored in English."""
    readers = Path(settings.BASE_DIR) / "vulnerabilities" / "scanners"
    seen = 0
    for path in sorted(readers.glob("*.py")):
        tree = ast.parse(path.read_text())
        marked = {
            id(node)
            for node in ast.walk(tree)
            if isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "gettext_noop"
        }
        tables = {
            target.id
            for node in ast.walk(tree)
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Dict)
            for target in node.targets
            if isinstance(target, ast.Name)
            and all(id(value) in marked for value in node.value.values)
        }
        for node in ast.walk(tree):
            if not (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "skip"
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id == "tally"
            ):
                continue
            seen += 1
            (reason,) = node.args
            in_table = (
                isinstance(reason, ast.Subscript)
                and isinstance(reason.value, ast.Name)
                and reason.value.id in tables
            )
            assert id(reason) in marked or in_table, f"{path.name}:{node.lineno}"
    assert seen >= 11  # the skips left after missing identifiers became refusals
