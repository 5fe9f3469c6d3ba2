"""Admin: scans and the attack surface readable, never edited; its actions go through the
same services as the pages (an import the worker never ran; a dismissal by the CISO only)."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.factories import UserFactory
from tests.vulnerabilities.samples import sample
from vulnerabilities.models import DiscoveredAsset, Finding, Scan
from vulnerabilities.services import scans

pytestmark = pytest.mark.django_db


def test_a_queued_scan_is_imported_from_the_admin(login_as, ciso, system, settings):
    settings.SCAN_INLINE_BYTES = 0
    data = sample("trivy/trivy_pip.json").read_bytes()
    scan = scans.receive(actor=ciso, upload=SimpleUploadedFile("pip.json", data), system=system)
    assert scan.state == Scan.State.QUEUED
    root = login_as(UserFactory.create(username="root", is_superuser=True, is_staff=True))
    listing = root.get("/admin/vulnerabilities/scan/")
    assert listing.status_code == 200 and b"pip.json" in listing.content
    response = root.post(
        "/admin/vulnerabilities/scan/",
        {"action": "import_now", "_selected_action": [scan.pk]},
        follow=True,
    )
    assert b"1 scan(s) imported." in response.content
    assert Finding.objects.filter(system=system).count() == 2
    page = root.get(f"/admin/vulnerabilities/scan/{scan.pk}/change/")
    assert page.status_code == 200 and b"testdata/fixtures/repo/pip" in page.content


def test_only_the_ciso_dismisses_from_the_admin(login_as, ciso):
    scans.receive(
        actor=ciso,
        upload=SimpleUploadedFile(
            "scan.xml", sample("nmap/libnmap_2_hosts_version.xml").read_bytes()
        ),
    )
    asset = DiscoveredAsset.objects.order_by("pk").first()
    assert asset is not None
    root = login_as(UserFactory.create(username="root", is_superuser=True, is_staff=True))
    refused = root.post(
        "/admin/vulnerabilities/discoveredasset/",
        {"action": "dismiss_not_ours", "_selected_action": [asset.pk]},
        follow=True,
    )
    assert b"Only the CISO" in refused.content
    asset.refresh_from_db()
    assert asset.state == DiscoveredAsset.State.NEW
    ciso.is_staff = ciso.is_superuser = True  # an administrator who holds the CISO office
    ciso.save()
    response = login_as(ciso).post(
        "/admin/vulnerabilities/discoveredasset/",
        {"action": "dismiss_not_ours", "_selected_action": [asset.pk]},
        follow=True,
    )
    asset.refresh_from_db()
    assert asset.state == DiscoveredAsset.State.DISMISSED, response.content[:2000]
