"""The scanner-report API as clients use it: uploads of every format, refusals, the queue, the
hosts a scan could not place, coverage, triage of discovered assets, and lists that cost the
same for one row or many."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from knox.models import AuthToken

from accounts.models import User
from audit.models import AuditEvent
from systems.models import NetworkIdentity, System
from tests.conftest import sign_in
from tests.systems.conftest import register
from tests.vulnerabilities.samples import nmap_run_at, sample
from vulnerabilities.models import (
    DiscoveredAsset,
    ExposedService,
    Finding,
    Scan,
    ScanHost,
    Sighting,
    Vulnerability,
)

pytestmark = pytest.mark.django_db

JSON = {"Accept": "application/json"}
SCANS = "/api/v1/scans/"
TRIVY_PIP = "trivy/trivy_pip.json"
NESSUS = "nessus/sner4_parser-nessus-simple.nessus"
NESSUS_XXE = "nessus/sner4_parser-nessus-xxe.nessus"
NMAP = "nmap/libnmap_2_hosts_version.xml"
NMAP_REGISTERED, NMAP_STRANGER = "127.0.0.1", "74.207.244.221"  # the two hosts of NMAP

# One real report of each format, and what its import makes.
VULNERABILITY_SAMPLES = [
    ("trivy", TRIVY_PIP),
    ("grype", "grype/defectdojo_same_cve_different_paths.json"),
    ("nessus", NESSUS),
    ("openvas", "openvas/defectdojo_openvas_one_vuln.xml"),
    ("sarif", "sarif/trivy_alpine-310.sarif"),
    ("cyclonedx", "cyclonedx/defectdojo_cdx_nested-component-log4j.json"),
]
SURFACE_SAMPLES = [
    ("nmap", NMAP),
    ("masscan", "masscan/defectdojo_masscan_many_vuln.json"),
]


@pytest.fixture
def other_system(other_unit: Any) -> System:
    return register(other_unit, "cloud-console", internet_facing=True)


def get(client: Client, path: str, **params: Any) -> Any:
    return client.get(path, params, headers=JSON)


def post(client: Client, path: str, body: Any = None, **headers: Any) -> Any:
    return client.post(
        path,
        body if body is not None else {},
        content_type="application/json",
        headers={**JSON, **headers},
    )


def upload(client: Client, data: bytes, name: str = "report.json", **fields: Any) -> Any:
    """A multipart upload, as a browser form or `curl -F file=@report.json` sends it."""
    return client.post(SCANS, {"file": SimpleUploadedFile(name, data), **fields}, headers=JSON)


def upload_sample(client: Client, relative: str, **fields: Any) -> Any:
    return upload(client, sample(relative).read_bytes(), relative.rsplit("/", 1)[-1], **fields)


def token_client(user: User) -> Client:
    """A script's client: a personal API token, no session."""
    _, token = AuthToken.objects.create(user=user)
    return Client(headers={"Authorization": f"Token {token}"})


def trivy_without(cve: str, day: int = 1) -> bytes:
    """The pip report as a later run (on `day` of December) writes it once `cve` is fixed
    (edited in memory)."""
    report = json.loads(sample(TRIVY_PIP).read_bytes())
    for result in report["Results"]:
        result["Vulnerabilities"] = [
            v for v in result.get("Vulnerabilities", []) if v["VulnerabilityID"] != cve
        ]
    report["CreatedAt"] = f"2026-12-{day:02d}T00:00:00Z"
    return json.dumps(report).encode()


def rows() -> dict[str, int]:
    return {
        model.__name__: model.objects.count()
        for model in (Finding, Sighting, ScanHost, ExposedService, DiscoveredAsset, Vulnerability)
    }


def all_pages(client: Client, path: str, **params: Any) -> list[dict[str, Any]]:
    page = get(client, path, **params)
    assert page.status_code == 200, page.content
    body = page.json()
    found = list(body["results"])
    while body.get("next"):
        body = client.get(body["next"], headers=JSON).json()
        found += body["results"]
    return found


def identify(system: System, value: str, by: User, kind: str = NetworkIdentity.Kind.IP) -> None:
    NetworkIdentity.objects.create(
        system=system,
        kind=kind,
        value=value,
        valid_from=dt.date(2000, 1, 1),  # before the sample scans ran
        added_by=by,
    )


# --- Uploads of every format --------------------------------------------------------------------


@pytest.mark.parametrize(("format_", "relative"), VULNERABILITY_SAMPLES)
def test_a_unit_uploads_a_report_and_reads_its_findings_on_its_system(
    format_, relative, bu_member, system, other_system
):
    client = token_client(bu_member)
    response = upload_sample(client, relative, system=system.pk)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["format"] == format_ and body["state"] == "done"
    assert body["system"] == system.pk and body["system_code"] == system.code
    assert body["uploaded_by"] == "bu_member" and body["progress"] == body["size"]
    assert response["Location"].endswith(f"{SCANS}{body['id']}/")
    assert body["hosts_url"].endswith(f"{SCANS}{body['id']}/hosts/")
    found = all_pages(client, "/api/v1/findings/", scan=body["id"])
    made = body["counts"].get("new", 0)
    assert made > 0 and len(found) == made == Finding.objects.count()
    assert {row["system"] for row in found} == {system.pk}
    assert {row["state"] for row in found} == {"open"}
    assert not Finding.objects.filter(system=other_system).exists()
    # Readable again at its own URL, with an ETag, and listed.
    again = get(client, response["Location"])
    assert again.status_code == 200 and again["ETag"]
    assert [row["id"] for row in get(client, SCANS).json()["results"]] == [body["id"]]


@pytest.mark.parametrize(("format_", "relative"), SURFACE_SAMPLES)
def test_a_network_scan_of_a_system_records_its_open_services(format_, relative, bu_member, system):
    client = token_client(bu_member)
    response = upload_sample(client, relative, system=system.pk)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["format"] == format_ and body["state"] == "done"
    services = all_pages(client, "/api/v1/exposed-services/", system=system.pk)
    assert services and len(services) == body["counts"]["services_new"]
    assert {row["system"] for row in services} == {system.pk}
    assert {row["last_scan"] for row in services} == {body["id"]}
    assert all(row["closed_at"] is None for row in services)
    assert not Finding.objects.exists()
    assert not DiscoveredAsset.objects.exists()  # every host was the named system's


def test_the_same_file_again_is_a_409_naming_the_scan(login_as, bu_member, system):
    client = login_as(bu_member)
    first = upload_sample(client, TRIVY_PIP, system=system.pk)
    assert first.status_code == 201
    before = rows()
    again = upload(client, sample(TRIVY_PIP).read_bytes(), "again.json", system=system.pk)
    assert again.status_code == 409, again.content
    assert again.json()["scan"] == first.json()["id"]
    assert again.json()["code"] == "scan_duplicate"
    assert str(first.json()["id"]) in again.json()["detail"]
    assert rows() == before and Scan.objects.count() == 1


def test_a_retried_upload_with_its_idempotency_key_is_the_first_answer(login_as, bu_member, system):
    client = login_as(bu_member)
    data = sample(TRIVY_PIP).read_bytes()
    key = {"Idempotency-Key": "upload-1"}
    first = client.post(
        SCANS,
        {"file": SimpleUploadedFile("r.json", data), "system": system.pk},
        headers={**JSON, **key},
    )
    retry = client.post(
        SCANS,
        {"file": SimpleUploadedFile("r.json", data), "system": system.pk},
        headers={**JSON, **key},
    )
    assert first.status_code == retry.status_code == 201, retry.content
    assert retry.json()["id"] == first.json()["id"]
    assert retry["Idempotent-Replayed"] == "true"
    assert Scan.objects.count() == 1


def test_a_later_report_closes_what_it_fixed_and_leaves_the_rest(login_as, ciso, system):
    client = login_as(ciso)
    # A port scan of the same system: findings on ports, which a package scan does not look at.
    ports = upload_sample(client, NESSUS, system=system.pk)
    assert ports.status_code == 201, ports.content
    port_findings = {
        row["id"] for row in all_pages(client, "/api/v1/findings/", scan=ports.json()["id"])
    }
    assert port_findings
    first = upload_sample(client, TRIVY_PIP, system=system.pk)
    assert first.status_code == 201
    later = upload(client, trivy_without("CVE-2020-28724"), "later.json", system=system.pk)
    assert later.status_code == 201, later.content
    later_id = later.json()["id"]
    assert later.json()["counts"]["closed"] == 1
    closed = all_pages(client, "/api/v1/findings/", closed_by_scan=later_id)
    assert [(row["vulnerability"], row["state"]) for row in closed] == [("CVE-2020-28724", "fixed")]
    still = all_pages(client, "/api/v1/findings/", scan=later_id, outcome="still_open")
    assert [(row["vulnerability"], row["state"]) for row in still] == [("CVE-2019-14806", "open")]
    # What the later scan never looked at (the ports) is open as it was.
    open_now = {row["id"] for row in all_pages(client, "/api/v1/findings/", state="open")}
    assert port_findings <= open_now
    assert all_pages(client, "/api/v1/findings/", closed_by_scan=first.json()["id"]) == []


# --- Refusals -----------------------------------------------------------------------------------


def test_a_file_in_no_format_we_read_is_a_400_naming_file(login_as, bu_member, system):
    client = login_as(bu_member)
    response = upload(client, b"hello, world\n", "notes.txt", system=system.pk)
    assert response.status_code == 400
    assert "file" in response.json()
    assert Scan.objects.count() == 0
    said = upload_sample(client, TRIVY_PIP, system=system.pk, format="grype")
    assert said.status_code == 400 and "format" in said.json()
    empty = upload(client, b"", "empty.json", system=system.pk)
    assert empty.status_code == 400 and "file" in empty.json()
    missing = client.post(SCANS, {"system": system.pk}, headers=JSON)
    assert missing.status_code == 400 and "file" in missing.json()
    assert Scan.objects.count() == 0


def test_an_external_entity_is_a_400_saying_where_and_nothing_is_written(login_as, ciso, system):
    client = login_as(ciso)
    before = rows()
    response = upload_sample(client, NESSUS_XXE, system=system.pk)
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["code"] == "scan_refused"
    assert "entit" in body["detail"].lower()
    assert "sner4_parser-nessus-xxe.nessus" in body["where"] and "line" in body["where"]
    assert "xmlentityvalue" not in response.content.decode()
    assert rows() == before
    # The refused import is kept, linked from the answer.
    scan = Scan.objects.get(pk=int(body["scan"].rstrip("/").rsplit("/", 1)[1]))
    assert body["scan"].endswith(f"{SCANS}{scan.pk}/")
    assert scan.state == Scan.State.REFUSED
    assert AuditEvent.objects.filter(verb="scan.refused", target_id=str(scan.pk)).exists()
    read = get(client, f"{SCANS}{scan.pk}/").json()
    assert read["state"] == "refused" and read["error"] == body["detail"]
    assert read["progress"] is None


def test_a_unit_member_uploads_neither_for_another_unit_nor_unplaced(
    login_as, bu_member, other_system
):
    client = login_as(bu_member)
    foreign = upload_sample(client, TRIVY_PIP, system=other_system.pk)
    assert foreign.status_code == 400 and "system" in foreign.json()  # no system of theirs
    unplaced = upload_sample(client, TRIVY_PIP)
    assert unplaced.status_code == 403
    assert Scan.objects.count() == 0


# --- The queue ----------------------------------------------------------------------------------


def test_a_big_report_is_queued_with_its_location(login_as, bu_member, system, settings):
    settings.SCAN_INLINE_BYTES = 0
    client = login_as(bu_member)
    response = upload_sample(client, TRIVY_PIP, system=system.pk)
    assert response.status_code == 202, response.content
    assert response.json()["state"] == "queued"
    location = response["Location"]
    assert location.endswith(f"{SCANS}{response.json()['id']}/")
    read = client.get(location, headers=JSON)
    assert read.status_code == 200
    assert read.json()["state"] == "queued" and read.json()["imported_at"] is None
    assert read.json()["progress"] is None  # no worker has started on it
    assert not Finding.objects.exists()
    assert [row["id"] for row in get(client, SCANS, state="queued").json()["results"]] == [
        response.json()["id"]
    ]


# --- Hosts, coverage ----------------------------------------------------------------------------


def test_the_hosts_nobody_could_place_are_listed(login_as, ciso, system):
    identify(system, "serverx.localdomain", ciso, NetworkIdentity.Kind.HOSTNAME)
    client = login_as(ciso)
    response = upload_sample(client, NESSUS)
    assert response.status_code == 201, response.content
    scan_id = response.json()["id"]
    everything = all_pages(client, f"{SCANS}{scan_id}/hosts/")
    unplaced = all_pages(client, f"{SCANS}{scan_id}/hosts/", placed="false")
    placed = all_pages(client, f"{SCANS}{scan_id}/hosts/", placed="true")
    assert len(everything) == 2 == len(unplaced) + len(placed)
    assert [row["system_code"] for row in placed] == [system.code]
    assert "serverx.localdomain" in placed[0]["hostnames"]
    assert placed[0]["placed_by"] == ScanHost.Placement.HOSTNAME
    assert [row["ref"] for row in unplaced] == ["serveralias.localhost"]
    assert unplaced[0]["system"] is None and unplaced[0]["system_code"] is None
    assert response.json()["counts"]["unplaced"] == len(unplaced)
    bad = get(client, f"{SCANS}{scan_id}/hosts/", placed="maybe")
    assert bad.status_code == 400 and "placed" in bad.json()


def test_coverage_answers_what_the_scans_see(login_as, ciso, unit, system):
    never = register(unit, "never-scanned", internet_facing=True)
    identify(system, NMAP_REGISTERED, ciso)
    client = login_as(ciso)
    empty = get(client, f"{SCANS}coverage/").json()
    assert empty["scanned_recently"] == 0 and empty["share"] == 0
    assert upload_sample(client, NMAP).status_code == 201
    # The sample ran in 2013: sent today, it is still a scan of 2013, not a recent one.
    assert get(client, f"{SCANS}coverage/").json()["scanned_recently"] == 0
    yesterday = timezone.now() - dt.timedelta(days=1)
    rerun = nmap_run_at(sample(NMAP).read_bytes(), yesterday)
    assert upload(client, rerun, "rerun.xml").status_code == 201
    response = get(client, f"{SCANS}coverage/")
    assert response.status_code == 200, response.content
    answer = response.json()
    assert answer["days"] == 30
    assert answer["internet_facing"] == 2 and answer["scanned_recently"] == 1
    assert answer["share"] == 50
    assert answer["never_scanned"][0] == never.code and system.code not in answer["never_scanned"]
    assert answer["not_registered_facing"] == []
    assert {
        "address": NMAP_REGISTERED,
        "protocol": "tcp",
        "port": 3306,
        "service": "MySQL",
        "system": system.code,
    } in answer["risky_services"]
    assert answer["assets_new"] == 1 and answer["assets_overdue"] == 0


# --- Triage of discovered assets ----------------------------------------------------------------


@pytest.fixture
def stranger(ciso, system) -> DiscoveredAsset:
    """The address nmap found answering that no system claims."""
    identify(system, NMAP_REGISTERED, ciso)
    response = upload_sample(sign_in(Client(), ciso), NMAP)
    assert response.status_code == 201, response.content
    return DiscoveredAsset.objects.get(address=NMAP_STRANGER)


def test_the_ciso_assigns_a_discovered_asset_with_if_match(login_as, ciso, stranger, unit):
    client = login_as(ciso)
    path = f"/api/v1/discovered-assets/{stranger.pk}/"
    read = get(client, path)
    assert read.status_code == 200
    assert read.json()["state"] == "new" and read.json()["services"]
    etag = read["ETag"]
    body = {"unit": unit.code, "note": "Their marketing site."}
    assert post(client, f"{path}assign/", body).status_code == 428
    assert post(client, f"{path}assign/", body, **{"If-Match": '"stale"'}).status_code == 412
    done = post(client, f"{path}assign/", body, **{"If-Match": etag})
    assert done.status_code == 200, done.content
    assert done.json()["state"] == "assigned" and done.json()["unit"] == unit.code
    assert done.json()["decided_by"] == "ciso"
    assert done["ETag"] != etag
    assert post(client, f"{path}assign/", body, **{"If-Match": etag}).status_code == 412
    past = (timezone.localdate() - dt.timedelta(days=1)).isoformat()
    late = post(client, f"{path}assign/", {**body, "due_on": past}, **{"If-Match": done["ETag"]})
    assert late.status_code == 400 and "due_on" in late.json()


def test_a_unit_member_may_not_assign(login_as, bu_member, stranger, unit):
    client = login_as(bu_member)
    path = f"/api/v1/discovered-assets/{stranger.pk}/"
    assert get(client, path).status_code == 404  # not the unit's yet
    response = post(client, f"{path}assign/", {"unit": unit.code}, **{"If-Match": "*"})
    assert response.status_code == 404
    stranger.refresh_from_db()
    assert stranger.state == DiscoveredAsset.State.NEW


def test_dismissing_needs_a_note(login_as, ciso, stranger):
    client = login_as(ciso)
    path = f"/api/v1/discovered-assets/{stranger.pk}/"
    etag = get(client, path)["ETag"]
    bare = post(client, f"{path}dismiss/", {"reason": "not_ours"}, **{"If-Match": etag})
    assert bare.status_code == 400 and "note" in bare.json()
    blank = post(
        client, f"{path}dismiss/", {"reason": "not_ours", "note": "  "}, **{"If-Match": etag}
    )
    assert blank.status_code == 400 and "note" in blank.json()
    reason = post(client, f"{path}dismiss/", {"reason": "gone", "note": "x"}, **{"If-Match": etag})
    assert reason.status_code == 400 and "reason" in reason.json()
    done = post(
        client,
        f"{path}dismiss/",
        {"reason": "not_ours", "note": "The hosting provider's resolver."},
        **{"If-Match": etag},
    )
    assert done.status_code == 200, done.content
    assert done.json()["state"] == "dismissed" and done.json()["reason"] == "not_ours"
    # Dismissed is final: assigning it is a conflict, not a silent change.
    again = post(client, f"{path}assign/", {"unit": "PUBSEC"}, **{"If-Match": done["ETag"]})
    assert again.status_code in {400, 409}


def test_the_unit_attaches_its_asset_to_its_system(
    login_as, ciso, bu_member, stranger, unit, system, other_system
):
    ciso_client = sign_in(Client(), ciso)
    path = f"/api/v1/discovered-assets/{stranger.pk}/"
    etag = get(ciso_client, path)["ETag"]
    assigned = post(ciso_client, f"{path}assign/", {"unit": unit.code}, **{"If-Match": etag})
    assert assigned.status_code == 200
    client = login_as(bu_member)
    read = get(client, path)
    assert read.status_code == 200  # the unit sees what was assigned to it
    etag = read["ETag"]
    assert post(client, f"{path}attach/", {"system": system.pk}).status_code == 428
    foreign = post(client, f"{path}attach/", {"system": other_system.pk}, **{"If-Match": etag})
    assert foreign.status_code == 404
    done = post(client, f"{path}attach/", {"system": system.pk}, **{"If-Match": etag})
    assert done.status_code == 200, done.content
    assert done.json()["system"] == system.pk and done.json()["system_code"] == system.code
    assert NetworkIdentity.objects.filter(system=system, value=NMAP_STRANGER).exists()
    services = all_pages(client, "/api/v1/exposed-services/", address=NMAP_STRANGER)
    assert services and {row["system"] for row in services} == {system.pk}
    assert all(row["asset"] is None for row in services)
    twice = post(client, f"{path}attach/", {"system": system.pk}, **{"If-Match": done["ETag"]})
    assert twice.status_code == 409


def test_exposed_services_are_filtered(login_as, ciso, stranger, system):
    client = login_as(ciso)
    everything = all_pages(client, "/api/v1/exposed-services/")
    risky = all_pages(client, "/api/v1/exposed-services/", risky="true")
    assert [(row["port"], row["risky"]) for row in risky] == [(3306, "MySQL")]
    assert len(all_pages(client, "/api/v1/exposed-services/", risky="false")) == len(everything) - 1
    on_asset = all_pages(client, "/api/v1/exposed-services/", address=NMAP_STRANGER)
    assert on_asset and {row["asset"] for row in on_asset} == {stranger.pk}
    bad = get(client, "/api/v1/exposed-services/", address="not-an-ip")
    assert bad.status_code == 400 and "address" in bad.json()
    assert all_pages(client, "/api/v1/exposed-services/", open="false") == []


# --- Lists cost the same for one row or many ----------------------------------------------------


def same_queries_for_more(
    client: Client,
    path: str,
    one: int,
    grow: Callable[[], None],
    many: int,
    django_assert_num_queries: Any,
) -> None:
    get(client, path)  # the session warms up
    with CaptureQueriesContext(connection) as first:
        assert len(get(client, path).json()["results"]) == one
    queries = len(first)  # read now: the next request empties the connection's log
    grow()
    with django_assert_num_queries(queries):
        assert len(get(client, path).json()["results"]) == many


def nmap_of(addresses: list[str]) -> bytes:
    """The nmap report with its two hosts at other addresses (another network, another run)."""
    data = sample(NMAP).read_bytes()
    data = data.replace(NMAP_REGISTERED.encode(), addresses[0].encode())
    return data.replace(NMAP_STRANGER.encode(), addresses[1].encode())


def test_the_scans_list_costs_the_same_for_1_or_6(
    login_as, ciso, system, django_assert_num_queries
):
    client = login_as(ciso)
    assert upload_sample(client, TRIVY_PIP, system=system.pk).status_code == 201

    def grow() -> None:
        for n in range(5):
            data = trivy_without("none", day=n + 2)
            assert upload(client, data, f"r{n}.json", system=system.pk).status_code == 201

    same_queries_for_more(client, SCANS, 1, grow, 6, django_assert_num_queries)


def test_the_assets_list_costs_the_same_for_1_or_7(
    login_as, ciso, bu_member, system, unit, django_assert_num_queries
):
    identify(system, NMAP_REGISTERED, ciso)
    client = login_as(ciso)
    assert upload_sample(client, NMAP).status_code == 201

    def grow() -> None:
        for n in range(3):
            report = nmap_of([f"198.51.100.{n + 1}", f"203.0.113.{n + 1}"])
            assert upload(client, report, f"n{n}.xml").status_code == 201
        # Assets in every state: assigned with its unit and decider, attached to a system.
        first, second = DiscoveredAsset.objects.order_by("pk")[1:3]
        etag = get(client, f"/api/v1/discovered-assets/{first.pk}/")["ETag"]
        post(
            client,
            f"/api/v1/discovered-assets/{first.pk}/assign/",
            {"unit": unit.code},
            **{"If-Match": etag},
        )
        etag = get(client, f"/api/v1/discovered-assets/{second.pk}/")["ETag"]
        assigned = post(
            client,
            f"/api/v1/discovered-assets/{second.pk}/assign/",
            {"unit": unit.code},
            **{"If-Match": etag},
        )
        attached = post(
            sign_in(Client(), bu_member),
            f"/api/v1/discovered-assets/{second.pk}/attach/",
            {"system": system.pk},
            **{"If-Match": assigned["ETag"]},
        )
        assert attached.status_code == 200, attached.content

    same_queries_for_more(
        client, "/api/v1/discovered-assets/", 1, grow, 7, django_assert_num_queries
    )


def test_the_services_list_costs_the_same_for_1_or_many(
    login_as, ciso, system, django_assert_num_queries
):
    client = login_as(ciso)
    response = upload_sample(client, "masscan/defectdojo_masscan_many_vuln.json")
    assert response.status_code == 201
    ExposedService.objects.exclude(pk=ExposedService.objects.earliest("pk").pk).delete()

    def grow() -> None:
        identify(system, NMAP_REGISTERED, ciso)
        assert upload_sample(client, NMAP).status_code == 201  # on a system and on an asset

    many = 1 + 5 + 3  # what was left, the registered host's, the stranger's
    same_queries_for_more(
        client, "/api/v1/exposed-services/", 1, grow, many, django_assert_num_queries
    )


def test_the_hosts_list_costs_the_same_for_1_or_10(
    login_as, ciso, system, django_assert_num_queries
):
    client = login_as(ciso)
    response = upload_sample(client, "nmap/sner4_parser-nmap-output.xml")
    assert response.status_code == 201
    scan = Scan.objects.get(pk=response.json()["id"])
    assert scan.hosts.count() == 1

    def grow() -> None:
        ScanHost.objects.bulk_create(
            ScanHost(
                scan=scan,
                ref=f"host-{n}",
                address=f"192.0.2.{n}",
                addresses=[f"192.0.2.{n}"],
                system=system if n % 2 else None,
                placed_by=ScanHost.Placement.NAMED if n % 2 else "",
            )
            for n in range(9)
        )

    same_queries_for_more(
        client, f"{SCANS}{scan.pk}/hosts/", 1, grow, 10, django_assert_num_queries
    )


# --- The OpenAPI document -----------------------------------------------------------------------


def test_the_schema_documents_the_new_operations(client):
    response = client.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    paths = response.json()["paths"]
    for path, methods in {
        "/api/v1/scans/": {"get", "post"},
        "/api/v1/scans/{id}/": {"get"},
        "/api/v1/scans/{id}/hosts/": {"get"},
        "/api/v1/scans/coverage/": {"get"},
        "/api/v1/discovered-assets/": {"get"},
        "/api/v1/discovered-assets/{id}/": {"get"},
        "/api/v1/discovered-assets/{id}/assign/": {"post"},
        "/api/v1/discovered-assets/{id}/dismiss/": {"post"},
        "/api/v1/discovered-assets/{id}/attach/": {"post"},
        "/api/v1/exposed-services/": {"get"},
        "/api/v1/exposed-services/{id}/": {"get"},
    }.items():
        assert path in paths, path
        assert methods <= set(paths[path]), (path, set(paths[path]))
    create = paths["/api/v1/scans/"]["post"]
    assert "multipart/form-data" in create["requestBody"]["content"]
    assert {"201", "202", "400", "409", "413"} <= set(create["responses"])
    assign = paths["/api/v1/discovered-assets/{id}/assign/"]["post"]
    assert "If-Match" in {p["name"] for p in assign["parameters"] if p["in"] == "header"}
    hosts = paths["/api/v1/scans/{id}/hosts/"]["get"]
    assert "placed" in {p["name"] for p in hosts["parameters"]}
