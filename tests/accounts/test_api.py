"""The accounts API: who am I, the unit directory and the offices; deny by default; constant queries."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts import services
from accounts.models import Office
from tests.factories import BusinessUnitFactory, DelegationFactory, OfficeFactory, UserFactory

pytestmark = pytest.mark.django_db

ENDPOINTS = ["/api/v1/me/", "/api/v1/business-units/", "/api/v1/offices/", "/api/v1/audit-events/"]


@pytest.mark.parametrize("path", ENDPOINTS)
def test_anonymous_is_refused(client, path):
    response = client.get(path)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"


@pytest.mark.parametrize("path", ENDPOINTS)
def test_a_bad_token_is_refused(client, path):
    assert client.get(path, HTTP_AUTHORIZATION="Token not-a-token").status_code == 401


def test_me_shows_units_offices_and_roles(login_as, bu_head, unit):
    deputy_for = OfficeFactory.create(code="CQO")
    DelegationFactory.create(office=deputy_for, delegate=bu_head)
    BusinessUnitFactory.create(code="ELSEWHERE")
    body = login_as(bu_head).get("/api/v1/me/").json()
    assert body["username"] == "bu_head"
    assert body["units"] == [{"code": "PUBSEC", "name": "Public Sector Solutions", "role": "head"}]
    assert [(o["code"], o["capacity"]) for o in body["offices"]] == [("CQO", "acting")]
    assert body["offices"][0]["until"] is not None
    assert body["roles"] == ["bu_head"]
    assert body["mfa_enrolled"] is True


def test_me_for_an_office_holder(login_as, ciso, bu_member):
    body = login_as(ciso).get("/api/v1/me/").json()
    name = Office.objects.get(code="CISO").name
    assert body["offices"] == [{"code": "CISO", "name": name, "capacity": "holder", "until": None}]
    assert body["roles"] == ["cxo"]
    assert body["units"] == []


def test_token_authentication_works_and_expires(client, bu_member):
    _instance, token = services.issue_api_token(actor=None, user=bu_member, days=1)
    auth = {"HTTP_AUTHORIZATION": f"Token {token}"}
    response = client.get("/api/v1/me/", **auth)
    assert response.status_code == 200
    assert response.json()["units"][0]["code"] == "PUBSEC"
    with time_machine.travel(timezone.now() + timedelta(days=2)):
        assert client.get("/api/v1/me/", **auth).status_code == 401


def test_business_units_are_listed_with_a_cursor(login_as, bu_member):
    for n in range(5):
        BusinessUnitFactory.create(code=f"U{n}")
    client = login_as(bu_member)
    first = client.get("/api/v1/business-units/?page_size=4").json()
    assert [u["code"] for u in first["results"]] == ["PUBSEC", "U0", "U1", "U2"]
    second = client.get(first["next"]).json()
    assert [u["code"] for u in second["results"]] == ["U3", "U4"]
    assert second["next"] is None


def test_page_size_is_capped(login_as, bu_member, monkeypatch):
    from config.api import CursorPagination

    monkeypatch.setattr(CursorPagination, "max_page_size", 3)
    for n in range(5):
        BusinessUnitFactory.create(code=f"U{n}")
    body = login_as(bu_member).get("/api/v1/business-units/?page_size=100000").json()
    assert len(body["results"]) == 3
    assert body["next"] is not None


def _count_queries(client, path: str) -> int:
    client.get(path)  # the first request of a session also touches the session row
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(path)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_business_unit_list_runs_constant_queries(login_as, bu_member):
    client = login_as(bu_member)
    heads = [UserFactory.create() for _ in range(30)]
    for n in range(2):
        BusinessUnitFactory.create(code=f"A{n}", head=heads[n], parent=None)
    few = _count_queries(client, "/api/v1/business-units/")
    parent = BusinessUnitFactory.create(code="PARENT")
    for n in range(27):
        BusinessUnitFactory.create(code=f"B{n}", head=heads[n + 2], parent=parent)
    many = _count_queries(client, "/api/v1/business-units/")
    assert few == many


def test_office_list_runs_constant_queries(login_as, bu_member):
    client = login_as(bu_member)
    for code in ["CEO", "CISO", "CQO"]:
        OfficeFactory.create(code=code, holder=UserFactory.create())
    few = _count_queries(client, "/api/v1/offices/")
    for n in range(27):
        office = OfficeFactory.create(code=f"X{n}", holder=UserFactory.create())
        DelegationFactory.create(office=office)
    many = _count_queries(client, "/api/v1/offices/")
    assert few == many
    rows = client.get("/api/v1/offices/?page_size=200").json()["results"]
    assert len(rows) == Office.objects.count() >= 30
    assert all(len(r["acting"]) == 1 for r in rows if r["code"].startswith("X"))


def test_audit_events_are_for_those_who_may_read_them(login_as, auditor, bu_member, client):
    services.issue_api_token(actor=None, user=bu_member)
    readable = login_as(auditor).get("/api/v1/audit-events/").json()["results"]
    assert "api_token.issued" in [e["verb"] for e in readable]
    client.logout()
    hidden = login_as(bu_member).get("/api/v1/audit-events/").json()["results"]
    assert hidden == []
    assert login_as(bu_member).get("/api/v1/audit-events/1/").status_code == 404


def test_audit_event_list_runs_constant_queries(login_as, auditor):
    client = login_as(auditor)
    actors = [UserFactory.create() for _ in range(3)]
    for a in actors:
        services.issue_api_token(actor=None, user=a)
    few = _count_queries(client, "/api/v1/audit-events/")
    for a in [UserFactory.create() for _ in range(27)]:
        services.issue_api_token(actor=a, user=a)
    assert _count_queries(client, "/api/v1/audit-events/") == few
