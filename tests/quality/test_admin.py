"""Quality in the admin: registering goes through the service; records are read-only."""

from __future__ import annotations

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from quality.models import Project, QualityReport, Threshold
from tests.unchanged import unchanged

pytestmark = pytest.mark.django_db


def test_an_admin_registers_a_project_through_the_service(login_as, admin_user, unit, system):
    client = login_as(admin_user)
    response = client.post(
        reverse("admin:quality_project_add"),
        {
            "name": "Issuance rebuild",
            "unit": unit.pk,
            "system": system.pk,
            "description": "",
            "planned_budget": "500000",
            "planned_start": "2026-01-01",
            "planned_finish": "2026-12-31",
            "size_unit": "kloc",
        },
    )
    assert response.status_code == 302, response.content
    project = Project.objects.get()
    assert project.reference.startswith("PRJ-")
    assert project.handles_personal_data  # from its system, though the form left it unticked
    assert AuditEvent.objects.filter(verb="project.registered", actor=admin_user).exists()


def test_reports_and_reviews_cannot_be_changed_or_deleted_here(
    login_as, admin_user, plain_project, bu_member
):
    from tests.quality.conftest import month, report

    made = report(plain_project, bu_member, month(0))
    client = login_as(admin_user)
    url = reverse("admin:quality_qualityreport_change", args=[made.pk])
    assert client.get(url).status_code == 200
    with unchanged(made, plain_project, QualityReport, Project):
        assert client.post(url, {"rag": "green"}).status_code == 403
        assert (
            client.post(
                reverse("admin:quality_qualityreport_delete", args=[made.pk]), {"post": "yes"}
            ).status_code
            == 403
        )
        assert (
            client.post(
                reverse("admin:quality_project_delete", args=[plain_project.pk]), {"post": "yes"}
            ).status_code
            == 403
        )


def test_thresholds_are_set_in_the_admin_by_the_cqo_only(login_as, admin_user, cqo):
    spi = Threshold.objects.get(indicator="spi")
    url = reverse("admin:quality_threshold_change", args=[spi.pk])
    refused = login_as(admin_user).post(url, {"indicator": "spi", "green": "0.9", "red": "0.8"})
    assert refused.status_code == 403  # an admin runs the site; the thresholds are the CQO's
    cqo.is_staff = cqo.is_superuser = True
    cqo.save()
    done = login_as(cqo).post(url, {"indicator": "spi", "green": "0.9", "red": "0.8"})
    assert done.status_code == 302
    spi.refresh_from_db()
    assert str(spi.green) == "0.9000"
    assert AuditEvent.objects.get(verb="quality.threshold_set").office == "CQO"
