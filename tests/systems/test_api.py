"""The systems API: register, change with If-Match, suspend and lift with Idempotency-Key, scoping."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.core import mail
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from audit.models import AuditEvent
from systems.models import SuspensionOrder, System
from systems.tasks import notify_suspension
from tests.conftest import enrol_totp, sign_in
from tests.systems.conftest import register
from tests.unchanged import unchanged

pytestmark = pytest.mark.django_db


def suspend(client: Client, system: System, body: dict | None = None, **headers: Any):
    return client.post(
        f"/api/v1/systems/{system.pk}/suspend/",
        body if body is not None else {"reason": "Unauthorized access from abroad"},
        content_type="application/json",
        **headers,
    )


# --- Suspension -----------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["bu_member", "bu_head", "cqo", "auditor", "secretary"])
def test_those_who_see_but_may_not_suspend_get_403(request, login_as, system, role):
    response = suspend(login_as(request.getfixturevalue(role)), system)
    assert response.status_code == 403
    system.refresh_from_db()
    assert system.status == System.Status.OPERATIONAL
    assert not SuspensionOrder.objects.exists()


def test_another_unit_cannot_even_see_the_system(login_as, system, other_bu_member):
    client = login_as(other_bu_member)
    assert client.get(f"/api/v1/systems/{system.pk}/").status_code == 404
    assert suspend(client, system).status_code == 404


def test_ciso_suspends_at_once_and_it_is_audited(
    login_as, ciso, system, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        response = suspend(login_as(ciso), system)
    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "active"
    assert body["issued_office"] == "CISO"
    assert body["ratification"] == "pending"
    system.refresh_from_db()
    assert system.status == System.Status.SUSPENDED
    event = AuditEvent.objects.get(verb="system.suspended")
    assert (event.actor, event.office, event.target_id) == (ciso, "CISO", str(system.pk))
    assert len(callbacks) == 1  # the unit's mail leaves only after commit


def test_the_chair_suspends_under_the_ceo_office(login_as, chair, system):
    assert suspend(login_as(chair), system).json()["issued_office"] == "CEO"


def test_a_second_suspension_is_a_409(login_as, ciso, system):
    client = login_as(ciso)
    assert suspend(client, system).status_code == 201
    second = suspend(client, system, {"reason": "Again"})
    assert second.status_code == 409
    assert second.json()["code"] == "already_suspended"
    assert SuspensionOrder.objects.filter(system=system).count() == 1


def test_idempotent_replay_returns_the_same_body(login_as, ciso, system):
    client = login_as(ciso)
    first = suspend(client, system, HTTP_IDEMPOTENCY_KEY="k-1")
    again = suspend(client, system, HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert SuspensionOrder.objects.count() == 1
    assert AuditEvent.objects.filter(verb="system.suspended").count() == 1
    other_body = suspend(client, system, {"reason": "Different"}, HTTP_IDEMPOTENCY_KEY="k-1")
    assert other_body.status_code == 422


def test_lifting_restores_operation_and_is_audited(login_as, ciso, system):
    client = login_as(ciso)
    order_id = suspend(client, system).json()["id"]
    order = SuspensionOrder.objects.get(pk=order_id)
    with unchanged(order, system):
        missing = client.post(
            f"/api/v1/suspensions/{order_id}/lift/", {}, content_type="application/json"
        )
    assert missing.status_code == 400
    assert "reason" in missing.json()
    lifted = client.post(
        f"/api/v1/suspensions/{order_id}/lift/",
        {"reason": "Access keys rotated"},
        content_type="application/json",
    )
    assert lifted.status_code == 200
    assert lifted.json()["status"] == "lifted"
    assert lifted.json()["lifted_office"] == "CISO"
    system.refresh_from_db()
    assert system.status == System.Status.OPERATIONAL
    event = AuditEvent.objects.get(verb="system.reinstated")
    assert event.office == "CISO"
    with unchanged(order, system):
        again = client.post(
            f"/api/v1/suspensions/{order_id}/lift/",
            {"reason": "x"},
            content_type="application/json",
        )
    assert again.status_code == 409


def test_the_unit_is_mailed(ciso, system, bu_head, bu_member):
    from systems import services

    order = services.suspend_system(actor=ciso, system=system, reason="Breach")
    assert notify_suspension(order.pk) == 2
    [message] = mail.outbox
    assert message.subject == "[RCC] cert-issuance suspended"
    assert sorted(message.to) == sorted([bu_head.email, bu_member.email])
    assert "Breach" in message.body
    assert "CISO" in message.body


@pytest.mark.django_db(transaction=True)
def test_concurrent_suspensions_leave_exactly_one_active_order(unit, bu_member, ciso):
    system = register(unit, "portal")
    enrol_totp(ciso)
    results: list[int] = []

    def attempt() -> None:
        try:
            client = sign_in(Client(), ciso)
            barrier.wait()
            results.append(suspend(client, system).status_code)
        finally:
            connection.close()

    barrier = threading.Barrier(4)
    threads = [threading.Thread(target=attempt) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(results) == [201, 409, 409, 409]
    assert SuspensionOrder.objects.filter(system=system, status="active").count() == 1


# --- Register and change --------------------------------------------------------------------


def test_a_unit_member_registers_a_system(login_as, bu_member, unit):
    response = login_as(bu_member).post(
        "/api/v1/systems/",
        {
            "code": "share-tool",
            "name": "Project sharing",
            "unit": "PUBSEC",
            "internet_facing": True,
        },
        content_type="application/json",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["unit"] == "PUBSEC"
    assert response["ETag"]
    assert AuditEvent.objects.filter(verb="system.registered", actor=bu_member).exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "x", "unit": "PUBSEC"}, "code"),
        ({"code": "x", "unit": "PUBSEC"}, "name"),
        ({"code": "x", "name": "x", "unit": "NOPE"}, "unit"),
        (
            {"code": "x", "name": "x", "unit": "PUBSEC", "internet_facing": "perhaps"},
            "internet_facing",
        ),
        ({"code": "x", "name": "x", "unit": "PUBSEC", "criticality": "apocalyptic"}, "criticality"),
        ({"code": "has spaces", "name": "x", "unit": "PUBSEC"}, "code"),
        ({"code": "x", "name": "x", "unit": "PUBSEC", "status": "suspended"}, "status"),
        ({"code": "cert-issuance", "name": "x", "unit": "PUBSEC"}, "code"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(login_as, bu_member, system, body, field):
    client = login_as(bu_member)
    with unchanged(System, system):
        response = client.post("/api/v1/systems/", body, content_type="application/json")
    assert response.status_code == 400
    assert field in response.json()


def test_registering_for_another_unit_is_refused(login_as, other_bu_member, unit):
    response = login_as(other_bu_member).post(
        "/api/v1/systems/",
        {"code": "x", "name": "x", "unit": "PUBSEC"},
        content_type="application/json",
    )
    assert response.status_code == 403
    assert not System.objects.filter(code="x").exists()


def test_bad_json_is_a_400(login_as, bu_member):
    client = login_as(bu_member)
    with unchanged(System):
        response = client.post("/api/v1/systems/", "{not json", content_type="application/json")
    assert response.status_code == 400


def test_changes_need_if_match_and_a_current_version(login_as, bu_member, system):
    client = login_as(bu_member)
    url = f"/api/v1/systems/{system.pk}/"
    etag = client.get(url)["ETag"]
    body = {"mfa_enforced": True}
    assert client.patch(url, body, content_type="application/json").status_code == 428
    changed = client.patch(url, body, content_type="application/json", HTTP_IF_MATCH=etag)
    assert changed.status_code == 200
    assert changed.json()["mfa_enforced"] is True
    stale = client.patch(
        url, {"mfa_enforced": False}, content_type="application/json", HTTP_IF_MATCH=etag
    )
    assert stale.status_code == 412
    system.refresh_from_db()
    assert system.mfa_enforced is True
    event = AuditEvent.objects.get(verb="system.changed")
    assert event.details == {"mfa_enforced": {"from": False, "to": True}}


def test_status_and_unit_cannot_be_patched(login_as, bu_member, system):
    client = login_as(bu_member)
    url = f"/api/v1/systems/{system.pk}/"
    etag = client.get(url)["ETag"]
    response = client.patch(
        url,
        {"status": "retired", "unit": "CLOUD"},
        content_type="application/json",
        HTTP_IF_MATCH=etag,
    )
    assert response.status_code == 400  # said out loud, not silently ignored
    assert set(response.json()) == {"status", "unit"}
    system.refresh_from_db()
    assert (system.status, system.unit.code) == ("operational", "PUBSEC")


def test_another_unit_cannot_change_it(login_as, auditor, system):
    client = login_as(auditor)
    url = f"/api/v1/systems/{system.pk}/"
    etag = client.get(url)["ETag"]
    with unchanged(system):
        response = client.patch(
            url, {"name": "x"}, content_type="application/json", HTTP_IF_MATCH=etag
        )
    assert response.status_code == 403


# --- Criteria and lists ---------------------------------------------------------------------


def test_match_selects_by_criteria(login_as, auditor, system, other_system):
    client = login_as(auditor)
    response = client.post(
        "/api/v1/systems/match/",
        {"criteria": {"internet_facing": True, "mfa_enforced": False}},
        content_type="application/json",
    )
    assert response.status_code == 200
    assert [s["code"] for s in response.json()["results"]] == ["cert-issuance"]
    bad = client.post(
        "/api/v1/systems/match/",
        {"criteria": {"colour": "blue", "mfa_enforced": "no"}},
        content_type="application/json",
    )
    assert bad.status_code == 400
    assert set(bad.json()) == {"colour", "mfa_enforced"}


def _queries(client: Client, path: str) -> int:
    client.get(path)
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(path)
    assert response.status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize("role", ["auditor", "bu_member"])
def test_system_list_runs_constant_queries(request, login_as, unit, bu_member, role):
    client = login_as(request.getfixturevalue(role))
    for n in range(3):
        register(unit, f"few-{n}")
    few = _queries(client, "/api/v1/systems/")
    for n in range(27):
        register(unit, f"many-{n}")
    assert _queries(client, "/api/v1/systems/") == few
    assert len(client.get("/api/v1/systems/?page_size=100").json()["results"]) == 30


def test_suspension_list_runs_constant_queries(login_as, ciso, unit, bu_member):
    from systems import services

    client = login_as(ciso)
    for n in range(3):
        services.suspend_system(actor=ciso, system=register(unit, f"s-{n}"), reason="x")
    few = _queries(client, "/api/v1/suspensions/")
    for n in range(27):
        services.suspend_system(actor=ciso, system=register(unit, f"t-{n}"), reason="x")
    assert _queries(client, "/api/v1/suspensions/") == few


def test_filters(login_as, auditor, system, other_system):
    client = login_as(auditor)
    codes = lambda q: [s["code"] for s in client.get(f"/api/v1/systems/?{q}").json()["results"]]  # noqa: E731
    assert codes("unit=CLOUD") == ["cloud-console"]
    assert codes("handles_personal_data=true") == ["cert-issuance"]
    assert codes("ordering=-code") == ["cloud-console", "cert-issuance"]


def test_a_refused_suspender_learns_nothing_about_incidents(login_as, bu_member, system):
    client = login_as(bu_member)
    real = suspend(client, system, {"reason": "x", "case": "INC-2026-0001"})
    fake = suspend(client, system, {"reason": "x", "case": "INC-1999-9999"})
    assert real.status_code == fake.status_code == 403


def test_an_unknown_incident_is_a_400_for_the_ciso(login_as, ciso, system):
    response = suspend(login_as(ciso), system, {"reason": "x", "case": "INC-1999-9999"})
    assert response.status_code == 400
    assert "case" in response.json()
    assert not SuspensionOrder.objects.exists()


def test_lifting_restores_a_planned_system_to_planned(ciso, unit, bu_member):
    from systems import services

    planned = register(unit, "future-portal", status="planned")
    order = services.suspend_system(actor=ciso, system=planned, reason="Design exposes admin API")
    services.lift_suspension(actor=ciso, order=order, reason="Design fixed")
    planned.refresh_from_db()
    assert planned.status == System.Status.PLANNED


def test_retiring_a_system(ciso, bu_member, system):
    from config.errors import Conflict
    from systems import services

    order = services.suspend_system(actor=ciso, system=system, reason="x")
    with pytest.raises(Conflict):
        services.retire_system(actor=bu_member, system=system, reason="Replaced")
    services.lift_suspension(actor=ciso, order=order, reason="ok")
    retired = services.retire_system(actor=bu_member, system=system, reason="Replaced")
    assert retired.status == System.Status.RETIRED
    assert AuditEvent.objects.filter(verb="system.retired").count() == 1


def test_another_user_cannot_replay_someone_elses_key(login_as, ciso, chair, system, unit):
    first = suspend(login_as(ciso), system, HTTP_IDEMPOTENCY_KEY="shared")
    assert first.status_code == 201
    other = register(unit, "other-system")
    second = suspend(login_as(chair), other, HTTP_IDEMPOTENCY_KEY="shared")
    assert second.status_code == 201
    assert second.json()["system"] == "other-system"


@pytest.mark.django_db(transaction=True)
def test_concurrent_retries_with_one_key_suspend_once_and_replay(unit, bu_member, ciso):
    system = register(unit, "portal")
    enrol_totp(ciso)
    responses: list[tuple[int, dict]] = []

    def attempt() -> None:
        try:
            client = sign_in(Client(), ciso)
            barrier.wait()
            response = suspend(client, system, HTTP_IDEMPOTENCY_KEY="retry-1")
            responses.append((response.status_code, response.json()))
        finally:
            connection.close()

    barrier = threading.Barrier(4)
    threads = [threading.Thread(target=attempt) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert [code for code, _ in responses] == [201, 201, 201, 201]
    assert len({body["id"] for _, body in responses}) == 1
    assert SuspensionOrder.objects.filter(system=system).count() == 1
