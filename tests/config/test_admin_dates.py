"""Dates out of range in the admin: the form comes back with the error on the field (the admin's
own way, a 200), never a 500, and nothing is written."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.urls import reverse

from accounts.models import Delegation, Office
from audit.models import AuditEvent
from committee.admin import CommitteeAdmin
from committee.models import Committee
from config import dates
from quality.models import Project
from tests.committee.conftest import build_committee
from tests.factories import UserFactory
from tests.systems.conftest import register

pytestmark = pytest.mark.django_db

# (date, time) as the admin's split widget posts them.
SPLIT = [
    ("0001-01-01", "00:00"),
    ("9999-12-31", "23:59"),
    ("10000-01-01", "00:00"),
    ("1999-12-31", "12:00"),
    ("garbage", "12:00"),
]
DAYS = ["0001-01-01", "9999-12-31", "10000-01-01", "2101-01-01", "garbage"]


def _field_error(response, field: str) -> list[str]:
    assert response.status_code == 200, response.status_code  # shown again, not saved
    return response.context["adminform"].form.errors.get(field, [])


@pytest.mark.parametrize("field", ["starts_at", "ends_at"])
def test_a_delegation_window_off_the_calendar(login_as, admin_user, ciso, field):
    client = login_as(admin_user)
    delegate = UserFactory.create(username="deputy")
    events = AuditEvent.objects.count()
    for day, time in SPLIT:
        data = {
            "office": Office.objects.get(code="CISO").pk,
            "delegate": delegate.pk,
            "starts_at_0": "2026-12-01",
            "starts_at_1": "09:00",
            "ends_at_0": "2026-12-20",
            "ends_at_1": "18:00",
            "reason": "Leave",
            f"{field}_0": day,
            f"{field}_1": time,
        }
        response = client.post(reverse("admin:accounts_delegation_add"), data)
        assert _field_error(response, field), (day, time)
    assert not Delegation.objects.exists()
    assert AuditEvent.objects.count() == events


@pytest.mark.parametrize("field", ["planned_start", "planned_finish"])
def test_a_project_plan_off_the_calendar(login_as, admin_user, unit, field):
    client = login_as(admin_user)
    system = register(unit, "intranet-wiki")
    for value in DAYS:
        data = {
            "name": "Issuance rebuild",
            "unit": unit.pk,
            "system": system.pk,
            "description": "",
            "planned_budget": "500000",
            "planned_start": "2026-01-01",
            "planned_finish": "2026-12-31",
            "size_unit": "kloc",
            field: value,
        }
        response = client.post(reverse("admin:quality_project_add"), data)
        assert _field_error(response, field), value
    assert not Project.objects.exists()


def test_a_committees_cadence_start_off_the_calendar(rf, admin_user, chair, ciso, cqo, secretary):
    committee = build_committee(secretary)
    request = rf.post("/admin/")
    request.user = admin_user
    form_class = CommitteeAdmin(Committee, admin.site).get_form(request, obj=committee)
    for value in DAYS:
        form = form_class(data={"cadence_start": value}, instance=committee)
        assert "cadence_start" in form.errors, value
        assert dates.window_message() in form.errors["cadence_start"] or value in {
            "10000-01-01",
            "garbage",
        }
