"""The inventory API: entries, whole replacements with If-Match, SBOM uploads, network identities."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from systems.models import Component, NetworkIdentity, SbomUpload, System
from tests.conftest import sign_in
from tests.vulnerabilities.samples import sample

pytestmark = pytest.mark.django_db

LOG4J_SBOM = "cyclonedx/defectdojo_cdx_nested-component-log4j.json"
LOG4J = "pkg:maven/org.apache.logging.log4j/log4j-core"


def url(system: System, rest: str = "") -> str:
    return f"/api/v1/systems/{system.pk}/{rest}"


def upload(client: Client, system: System, content: bytes, name: str = "bom.json", **headers: Any):
    return client.post(
        url(system, "sbom/"),
        {"file": SimpleUploadedFile(name, content, content_type="application/json")},
        headers={"Accept": "application/json", **headers},
    )


def post_json(client: Client, path: str, body: Any, method: str = "post", **headers: Any):
    return getattr(client, method)(
        path,
        body,
        content_type="application/json",
        headers={"Accept": "application/json", **headers},
    )


def components(client: Client, system: System, query: str = "") -> Any:
    return client.get(url(system, f"components/{query}"), headers={"Accept": "application/json"})


# --- SBOM uploads -------------------------------------------------------------------------------


def test_a_member_uploads_an_sbom_and_the_inventory_shows_it(login_as, bu_member, system):
    client = login_as(bu_member)
    response = upload(client, system, sample(LOG4J_SBOM).read_bytes(), name="log4j.json")
    assert response.status_code == 201, response.content
    summary = response.json()
    assert summary["spec_version"] and summary["subject"]
    assert summary["filename"] == "log4j.json"
    assert summary["added"] == summary["entries"] > 0
    assert summary["removed"] == 0
    listed = components(client, system)
    assert listed.status_code == 200
    assert listed["ETag"].startswith('"inv-')
    rows = listed.json()["results"]
    log4j = [row for row in rows if row["package"] == LOG4J]
    assert [row["version"] for row in log4j] == ["2.13.2"]
    assert log4j[0]["source"] == "sbom" and log4j[0]["sbom"] == summary["id"]


def test_the_same_sbom_again_keeps_every_entry(login_as, bu_member, system):
    client = login_as(bu_member)
    first = upload(client, system, sample(LOG4J_SBOM).read_bytes()).json()
    again = upload(client, system, sample(LOG4J_SBOM).read_bytes()).json()
    assert again["added"] == 0 and again["removed"] == 0
    assert again["kept"] == first["added"]


def test_a_truncated_sbom_is_a_400_naming_file_and_changes_nothing(login_as, bu_member, system):
    content = sample(LOG4J_SBOM).read_bytes()
    response = upload(login_as(bu_member), system, content[: len(content) // 2])
    assert response.status_code == 400
    assert "file" in response.json()
    assert not SbomUpload.objects.exists() and not Component.objects.exists()


def test_an_oversized_sbom_is_refused_before_it_is_read(login_as, bu_member, system, settings):
    settings.SBOM_MAX_BYTES = 1024
    # Past the limit and the multipart overhead allowed on top of it (whitespace: still JSON).
    padded = sample(LOG4J_SBOM).read_bytes() + b" " * (70 * 1024)
    response = upload(login_as(bu_member), system, padded)
    assert response.status_code == 413
    assert "SBOM" in response.json()["detail"]
    assert not SbomUpload.objects.exists()


def test_a_file_past_the_limit_without_a_telling_length_is_a_400(
    login_as, bu_member, system, settings
):
    """Under the request's own limit (its overhead allowance), the file's size decides."""
    content = sample(LOG4J_SBOM).read_bytes()
    settings.SBOM_MAX_BYTES = max(1024, len(content) - 10)
    response = upload(login_as(bu_member), system, content)
    assert response.status_code == 400
    assert "file" in response.json()
    assert not SbomUpload.objects.exists()


def test_an_sbom_upload_honours_an_idempotency_key(login_as, bu_member, system):
    client = login_as(bu_member)
    content = sample(LOG4J_SBOM).read_bytes()
    first = upload(client, system, content, **{"Idempotency-Key": "sbom-1"})
    second = upload(client, system, content, **{"Idempotency-Key": "sbom-1"})
    assert first.status_code == second.status_code == 201
    assert second["Idempotent-Replayed"] == "true"
    assert second.json() == first.json()
    assert SbomUpload.objects.count() == 1


def test_oversight_sees_the_inventory_but_may_not_upload(login_as, ciso, bu_member, system):
    upload(login_as(bu_member), system, sample(LOG4J_SBOM).read_bytes())
    client = sign_in(Client(), ciso)
    assert components(client, system).status_code == 200
    response = upload(client, system, sample(LOG4J_SBOM).read_bytes())
    assert response.status_code == 403
    assert SbomUpload.objects.count() == 1


def test_another_units_member_gets_404_on_the_systems_inventory(
    login_as, bu_member, other_bu_member, system
):
    upload(login_as(bu_member), system, sample(LOG4J_SBOM).read_bytes())
    other = sign_in(Client(), other_bu_member)
    assert components(other, system).status_code == 404
    assert upload(other, system, sample(LOG4J_SBOM).read_bytes()).status_code == 404
    entry = {"components": [{"kind": "purl", "identifier": f"{LOG4J}@2.17.1"}]}
    assert post_json(other, url(system, "components/"), entry).status_code == 404
    assert other.get(url(system, "network-identities/")).status_code == 404
    assert SbomUpload.objects.count() == 1


# --- Entries ------------------------------------------------------------------------------------


def test_entries_are_added_and_counted(login_as, bu_member, system):
    client = login_as(bu_member)
    body = {
        "components": [
            {"kind": "purl", "identifier": f"{LOG4J}@2.14.0"},
            {"kind": "purl", "identifier": "pkg:pypi/django", "version": "4.2.1"},
            {"kind": "cpe", "identifier": "cpe:2.3:o:canonical:ubuntu_linux:22.04:*:*:*:*:*:*:*"},
        ]
    }
    response = post_json(client, url(system, "components/"), body)
    assert response.status_code == 201, response.content
    assert response.json()["added"] == 3
    again = post_json(client, url(system, "components/"), body)
    assert again.status_code == 201 and again.json()["added"] == 0
    versions = sorted(Component.objects.current().values_list("version", flat=True))
    assert versions == ["2.14.0", "22.04", "4.2.1"]


def test_a_bad_package_url_is_a_400_naming_its_entry(login_as, bu_member, system):
    body = {"components": [{"kind": "purl", "identifier": "pkg:/no-type@1.0"}]}
    response = post_json(login_as(bu_member), url(system, "components/"), body)
    assert response.status_code == 400
    assert "components[0]" in response.json()
    assert not Component.objects.exists()


def test_an_unknown_field_in_an_entry_is_refused(login_as, bu_member, system):
    body = {"components": [{"kind": "purl", "identifier": f"{LOG4J}@2.0", "system": 3}]}
    response = post_json(login_as(bu_member), url(system, "components/"), body)
    assert response.status_code == 400
    assert not Component.objects.exists()


def test_replacing_the_inventory_needs_the_current_etag(login_as, bu_member, system):
    client = login_as(bu_member)
    post_json(
        client,
        url(system, "components/"),
        {
            "components": [
                {"kind": "purl", "identifier": f"{LOG4J}@2.14.0"},
                {"kind": "purl", "identifier": "pkg:pypi/django@4.2.1"},
            ]
        },
    )
    stale = components(client, system)["ETag"]
    post_json(
        client,
        url(system, "components/"),
        {"components": [{"kind": "purl", "identifier": "pkg:npm/lodash@4.17.20"}]},
    )
    body = {"components": [{"kind": "purl", "identifier": f"{LOG4J}@2.17.1"}]}
    missing = post_json(client, url(system, "components/"), body, method="put")
    assert missing.status_code == 428
    old = post_json(client, url(system, "components/"), body, method="put", **{"If-Match": stale})
    assert old.status_code == 412
    assert Component.objects.current().count() == 3
    current = components(client, system)["ETag"]
    done = post_json(
        client, url(system, "components/"), body, method="put", **{"If-Match": current}
    )
    assert done.status_code == 200, done.content
    assert done.json() == {"added": 1, "removed": 3, "kept": 0, "unknown_ecosystems": {}}
    assert done["ETag"] != current
    assert list(Component.objects.current().values_list("version", flat=True)) == ["2.17.1"]


def test_a_removed_entry_stays_in_the_history(login_as, bu_member, system):
    client = login_as(bu_member)
    post_json(
        client,
        url(system, "components/"),
        {
            "components": [
                {"kind": "purl", "identifier": f"{LOG4J}@2.14.0"},
                {"kind": "purl", "identifier": "pkg:pypi/django@4.2.1"},
            ]
        },
    )
    log4j = Component.objects.get(package=LOG4J)
    response = client.delete(url(system, f"components/{log4j.pk}/"))
    assert response.status_code == 204
    now = components(client, system).json()["results"]
    assert [row["package"] for row in now] == ["pkg:pypi/django"]
    history = components(client, system, "?all=1").json()["results"]
    removed = [row for row in history if row["id"] == log4j.pk]
    assert removed and removed[0]["removed_at"] is not None
    assert components(client, system, "?all=maybe").status_code == 400


def test_a_component_of_another_system_is_not_found_through_this_one(
    login_as, bu_member, system, unit
):
    from tests.systems.conftest import register

    client = login_as(bu_member)
    second = register(unit, "second-system")
    post_json(
        client,
        url(second, "components/"),
        {"components": [{"kind": "purl", "identifier": f"{LOG4J}@2.14.0"}]},
    )
    component = Component.objects.get(system=second)
    assert client.delete(url(system, f"components/{component.pk}/")).status_code == 404
    assert Component.objects.get(pk=component.pk).removed_at is None


def test_the_inventory_list_costs_the_same_for_many_entries(login_as, bu_member, system):
    client = login_as(bu_member)

    def cost() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert components(client, system).status_code == 200
        return len(queries)

    post_json(
        client,
        url(system, "components/"),
        {"components": [{"kind": "purl", "identifier": "pkg:pypi/django@4.2.1"}]},
    )
    one = cost()
    post_json(
        client,
        url(system, "components/"),
        {
            "components": [
                {"kind": "purl", "identifier": f"pkg:pypi/package-{n}@1.0"} for n in range(20)
            ]
        },
    )
    assert cost() == one


# --- Network identities -------------------------------------------------------------------------


def test_network_identities_are_added_listed_and_ended(login_as, bu_member, system):
    client = login_as(bu_member)
    added = post_json(
        client,
        url(system, "network-identities/"),
        {"kind": "hostname", "value": "Certs.Example.COM.", "valid_from": "2026-01-01"},
    )
    assert added.status_code == 201, added.content
    assert added.json()["value"] == "certs.example.com"
    bad = post_json(
        client, url(system, "network-identities/"), {"kind": "ip", "value": "300.1.1.1"}
    )
    assert bad.status_code == 400 and "value" in bad.json()
    listed = client.get(url(system, "network-identities/")).json()["results"]
    assert [row["value"] for row in listed] == ["certs.example.com"]
    identity_id = added.json()["id"]
    ended = post_json(
        client, url(system, f"network-identities/{identity_id}/end/"), {"valid_to": "2026-02-01"}
    )
    assert ended.status_code == 200
    assert ended.json()["valid_to"] == "2026-02-01"
    early = post_json(
        client, url(system, f"network-identities/{identity_id}/end/"), {"valid_to": "2025-01-01"}
    )
    assert early.status_code == 400 and "valid_to" in early.json()
    assert str(NetworkIdentity.objects.get(pk=identity_id).valid_to) == "2026-02-01"
