"""The software inventory on a system's page: the owning unit uploads an SBOM, adds and removes
components and keeps network identities; others see it and are refused when they post."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from systems import inventory
from systems.models import Component, NetworkIdentity, SbomUpload, System
from tests.pages import assert_constant_queries
from tests.vulnerabilities.samples import sample

pytestmark = pytest.mark.django_db

LOG4J_SBOM = "cyclonedx/defectdojo_cdx_nested-component-log4j.json"
LOG4J = "pkg:maven/org.apache.logging.log4j/log4j-core"


def page(system: System) -> str:
    return f"/systems/{system.pk}/"


def upload(client: Client, system: System, content: bytes, name: str = "bom.json"):
    return client.post(
        f"/systems/{system.pk}/inventory/sbom/",
        {"file": SimpleUploadedFile(name, content, content_type="application/json")},
    )


def test_a_member_uploads_the_sbom_and_sees_its_components(login_as, bu_member, system):
    client = login_as(bu_member)
    response = upload(client, system, sample(LOG4J_SBOM).read_bytes())
    assert response.status_code == 302
    assert response["Location"] == page(system)

    shown = client.get(page(system)).content.decode()
    assert 'data-testid="component-row" data-name="log4j-core" data-version="2.13.2"' in shown
    assert f"{LOG4J}@2.13.2" in shown
    assert 'data-testid="sbom-form"' in shown
    assert SbomUpload.objects.filter(system=system).count() == 1


def test_a_file_that_is_not_an_sbom_changes_nothing_and_says_why(login_as, bu_member, system):
    client = login_as(bu_member)
    truncated = sample(LOG4J_SBOM).read_bytes()[:200]
    response = upload(client, system, truncated)
    assert response.status_code == 400
    assert 'data-testid="error-file"' in response.content.decode()
    assert not Component.objects.filter(system=system).exists()
    assert not SbomUpload.objects.exists()


def test_a_component_added_by_hand_then_removed_stays_in_the_history(login_as, bu_member, system):
    client = login_as(bu_member)
    response = client.post(
        f"/systems/{system.pk}/inventory/add/",
        {"kind": "purl", "identifier": f"{LOG4J}@2.14.1", "version": ""},
    )
    assert response.status_code == 302
    component = Component.objects.get(system=system)
    assert (component.version, component.source) == ("2.14.1", Component.Source.MANUAL)

    assert client.post(f"/components/{component.pk}/remove/").status_code == 302
    assert 'data-testid="component-row"' not in client.get(page(system)).content.decode()
    history = client.get(f"/systems/{system.pk}/inventory/").content.decode()
    assert 'data-testid="history-row" data-name="log4j-core" data-removed="yes"' in history


def test_a_bad_identifier_is_named_on_its_field(login_as, bu_member, system):
    client = login_as(bu_member)
    response = client.post(
        f"/systems/{system.pk}/inventory/add/",
        {"kind": "purl", "identifier": "log4j 2.14", "version": ""},
    )
    assert response.status_code == 400
    assert 'data-testid="error-identifier"' in response.content.decode()
    assert not Component.objects.exists()


def test_network_identities_are_added_and_ended(login_as, bu_member, system):
    client = login_as(bu_member)
    response = client.post(
        f"/systems/{system.pk}/network/add/", {"kind": "hostname", "value": "Certs.Example.JP"}
    )
    assert response.status_code == 302
    identity = NetworkIdentity.objects.get(system=system)
    assert identity.value == "certs.example.jp" and identity.valid_to is None
    assert 'data-value="certs.example.jp"' in client.get(page(system)).content.decode()

    assert client.post(f"/network-identities/{identity.pk}/end/").status_code == 302
    identity.refresh_from_db()
    assert identity.valid_to is not None

    bad = client.post(f"/systems/{system.pk}/network/add/", {"kind": "ip", "value": "10.0.0.999"})
    assert bad.status_code == 400
    assert 'data-testid="error-value"' in bad.content.decode()


def test_another_units_member_does_not_learn_the_system_exists(
    login_as, other_bu_member, system, bu_member
):
    component = inventory.add_components(
        actor=bu_member, system=system, entries=[inventory.Entry("purl", f"{LOG4J}@2.14.1")]
    )
    assert component.added == 1
    client = login_as(other_bu_member)
    assert upload(client, system, sample(LOG4J_SBOM).read_bytes()).status_code == 404
    assert client.get(f"/systems/{system.pk}/inventory/").status_code == 404
    row = Component.objects.get(system=system)
    assert client.post(f"/components/{row.pk}/remove/").status_code == 404
    row.refresh_from_db()
    assert row.removed_at is None


def test_the_ciso_reads_the_inventory_but_does_not_keep_it(login_as, ciso, system):
    client = login_as(ciso)
    shown = client.get(page(system)).content.decode()
    assert 'data-testid="software-inventory"' in shown
    assert 'data-testid="sbom-form"' not in shown
    response = client.post(
        f"/systems/{system.pk}/inventory/add/",
        {"kind": "purl", "identifier": f"{LOG4J}@2.14.1"},
    )
    assert response.status_code == 403
    assert not Component.objects.exists()


def test_the_system_page_costs_the_same_with_3_or_30_components(login_as, bu_member, system):
    client = login_as(bu_member)
    made = [0]

    def grow(n: int) -> None:
        entries = [
            inventory.Entry("purl", f"pkg:pypi/package-{made[0] + i}@1.0.{i}") for i in range(n)
        ]
        made[0] += n
        inventory.add_components(actor=bu_member, system=system, entries=entries)

    assert_constant_queries(client, page(system), grow)


def test_a_suspension_link_may_carry_the_reason_written(login_as, ciso, system):
    client = login_as(ciso)
    response = client.get(f"/systems/{system.pk}/suspend/?reason=KEV-listed+critical+on+log4j")
    assert response.status_code == 200
    assert "KEV-listed critical on log4j</textarea>" in response.content.decode()
    assert System.objects.get(pk=system.pk).status == System.Status.OPERATIONAL
