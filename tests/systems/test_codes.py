"""A system's code is unique within its unit, not across units: registering a code another unit
uses tells nothing of that unit's register, through the API or the pages. Where a code names
systems of several units, the unit the record is for says which one is meant."""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from cases.models import Incident
from quality.models import Project
from systems.models import System
from tests.factories import BusinessUnitFactory, MembershipFactory
from tests.systems.conftest import register

pytestmark = pytest.mark.django_db

SECRET = "merger-dataroom"


def register_over_api(client: Client, code: str, unit: str = "PUBSEC") -> Any:
    return client.post(
        "/api/v1/systems/",
        {"code": code, "name": "Our data room", "unit": unit},
        content_type="application/json",
    )


def page_form(code: str, unit_pk: int) -> dict[str, Any]:
    return {
        "unit": unit_pk,
        "code": code,
        "name": "Our data room",
        "environment": "production",
        "criticality": "low",
        "status": "operational",
    }


def without_ids(body: dict[str, Any]) -> dict[str, Any]:
    """What an answer says, less what differs between any two registrations."""
    return {k: v for k, v in body.items() if k not in {"id", "code", "created_at", "updated_at"}}


def test_another_units_code_registers_as_any_new_code_would_over_the_api(
    login_as, bu_member, unit, other_unit
):
    theirs = register(other_unit, SECRET, internet_facing=True)
    client = login_as(bu_member)
    taken_elsewhere = register_over_api(client, SECRET)
    never_used = register_over_api(client, "brand-new")
    assert taken_elsewhere.status_code == never_used.status_code == 201
    assert without_ids(taken_elsewhere.json()) == without_ids(never_used.json())
    assert set(taken_elsewhere.headers) == set(never_used.headers)
    ours = System.objects.get(pk=taken_elsewhere.json()["id"])
    assert (ours.unit, ours.code) == (unit, SECRET)
    assert ours.pk != theirs.pk
    assert "CLOUD" not in json.dumps(taken_elsewhere.json())
    listed = client.get("/api/v1/systems/").json()["results"]
    assert sorted(s["code"] for s in listed) == ["brand-new", SECRET]
    assert {s["unit"] for s in listed} == {"PUBSEC"}
    theirs.refresh_from_db()
    assert (theirs.unit, theirs.name, theirs.internet_facing) == (other_unit, SECRET.upper(), True)


def test_another_units_code_registers_as_any_new_code_would_on_the_page(
    login_as, bu_member, unit, other_unit
):
    register(other_unit, SECRET)
    client = login_as(bu_member)
    taken_elsewhere = client.post("/systems/new/", page_form(SECRET, unit.pk))
    never_used = client.post("/systems/new/", page_form("brand-new", unit.pk))
    assert taken_elsewhere.status_code == never_used.status_code == 302
    ours = System.objects.get(unit=unit, code=SECRET)
    assert taken_elsewhere["Location"] == reverse("systems:system", args=[ours.pk])
    page = client.get(taken_elsewhere["Location"]).content.decode()
    assert f"{SECRET} is on the register." in page
    assert "CLOUD" not in page


def test_a_code_the_unit_already_uses_is_refused_on_the_code(login_as, bu_member, unit):
    register(unit, SECRET)
    client = login_as(bu_member)
    response = register_over_api(client, SECRET)
    assert response.status_code == 400
    assert response.json()["code"] == ["PUBSEC already has a system with this code."]
    page = client.post("/systems/new/", page_form(SECRET, unit.pk))
    assert page.status_code == 400
    assert "PUBSEC already has a system with this code." in page.content.decode()
    assert System.objects.filter(code=SECRET).count() == 1


def test_the_database_keeps_codes_unique_within_a_unit(unit, other_unit):
    from django.db import IntegrityError, transaction

    first = register(unit, SECRET)
    register(other_unit, SECRET)
    with pytest.raises(IntegrityError), transaction.atomic():
        System.objects.create(unit=unit, code=SECRET, name="Twin")
    assert System.objects.filter(unit=unit, code=SECRET).get() == first


@pytest.fixture
def ciso_in_unit(ciso, unit):
    """The CISO, who reads every unit's register, also a member of PUBSEC."""
    MembershipFactory.create(user=ciso, unit=unit)
    return ciso


def a_report(**overrides: Any) -> dict[str, Any]:
    return {
        "title": "Data room exposed",
        "description": "Anonymous links were left open.",
        "category": "unauthorized_access",
        "severity": "high",
        "unit": "PUBSEC",
        "detected_at": (timezone.now() - dt.timedelta(hours=1)).isoformat(),
        **overrides,
    }


def test_an_incidents_system_is_its_units_where_others_share_the_code(
    login_as, ciso_in_unit, unit, other_unit
):
    ours = register(unit, SECRET)
    register(other_unit, SECRET)
    client = login_as(ciso_in_unit)
    response = client.post(
        "/api/v1/incidents/", a_report(affected_systems=[SECRET]), content_type="application/json"
    )
    assert response.status_code == 201, response.json()
    incident = Incident.objects.get(pk=response.json()["id"])
    assert list(incident.affected_systems.all()) == [ours]

    form = {
        "unit": "PUBSEC",
        "title": "Data room exposed again",
        "description": "Anonymous links.",
        "category": "unauthorized_access",
        "severity": "high",
        "domain": "security",
        "detected_at": (timezone.localtime() - dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
        "affected_systems": SECRET,
    }
    page = client.post(reverse("cases:incident-new"), form)
    assert page.status_code == 302
    assert list(Incident.objects.latest("pk").affected_systems.all()) == [ours]


def test_a_code_only_other_units_share_names_no_system(login_as, ciso_in_unit, other_unit):
    third = BusinessUnitFactory.create(code="FINSOL")
    register(other_unit, "ledger")
    register(third, "ledger")
    client = login_as(ciso_in_unit)
    response = client.post(
        "/api/v1/incidents/", a_report(affected_systems=["ledger"]), content_type="application/json"
    )
    assert response.status_code == 400
    assert re.search(r"several other units.*ledger", response.json()["affected_systems"][0])
    assert not Incident.objects.exists()


def test_a_projects_system_is_its_units_where_others_share_the_code(
    login_as, bu_member, unit, other_unit
):
    register(other_unit, SECRET)  # first on the register: a lookup by code alone finds it
    ours = register(unit, SECRET)
    today = timezone.localdate()
    response = login_as(bu_member).post(
        "/api/v1/projects/",
        {
            "name": "Data room rebuild",
            "unit": "PUBSEC",
            "system": SECRET,
            "planned_budget": "1000.00",
            "planned_start": today.isoformat(),
            "planned_finish": (today + dt.timedelta(days=90)).isoformat(),
        },
        content_type="application/json",
    )
    assert response.status_code == 201, response.json()
    assert Project.objects.get(pk=response.json()["id"]).system == ours
