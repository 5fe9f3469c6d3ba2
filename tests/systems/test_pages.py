"""System register pages: the list, registering and correcting, and the two-step suspension and
lifting orders, with the buttons each role sees and what happens when someone posts anyway."""

from __future__ import annotations

import itertools
import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from audit.models import AuditEvent
from cases import services as cases_services
from cases.models import Incident
from config.versioning import etag_of
from systems import policy, services
from systems.models import SuspensionOrder, System
from tests.factories import BusinessUnitFactory, UserFactory
from tests.pages import assert_constant_queries, csv_rows, xlsx_rows
from tests.systems.conftest import register
from tests.unchanged import unchanged

pytestmark = pytest.mark.django_db

LIST = "/systems/"
REASON = "Unauthorized access from abroad"


def detail(system: System) -> str:
    return f"/systems/{system.pk}/"


def html(response) -> str:
    return response.content.decode()


def count_testid(response, name: str) -> int:
    return html(response).count(f'data-testid="{name}"')


def row_codes(response) -> list[str]:
    return re.findall(r'data-testid="system-row" data-code="([^"]+)"', html(response))


def suspend(client: Client, system: System, *, confirm: bool, **fields: str):
    data = {"reason": REASON, **fields}
    if confirm:
        data["confirm"] = "yes"
    return client.post(f"/systems/{system.pk}/suspend/", data)


def lift(client: Client, order: SuspensionOrder, *, confirm: bool, reason: str = "Patched"):
    data = {"reason": reason}
    if confirm:
        data["confirm"] = "yes"
    return client.post(f"/suspensions/{order.pk}/lift/", data)


# --- The register ----------------------------------------------------------------------------


def test_signed_out_readers_are_sent_to_sign_in(client, system):
    for path in (LIST, detail(system), "/systems/new/"):
        response = client.get(path)
        assert response.status_code == 302
        assert "/accounts/login/" in response["Location"]


def test_a_unit_member_sees_their_units_systems_and_oversight_sees_all(
    login_as, bu_member, auditor, system, other_system
):
    assert row_codes(login_as(bu_member).get(LIST)) == ["cert-issuance"]
    assert row_codes(login_as(auditor).get(LIST)) == ["cert-issuance", "cloud-console"]


def test_the_register_filters(login_as, ciso, unit, other_unit, system, other_system):
    register(unit, "intranet", environment="staging", criticality="low")
    client = login_as(ciso)
    assert row_codes(client.get(LIST, {"unit": "CLOUD"})) == ["cloud-console"]
    assert row_codes(client.get(LIST, {"environment": "staging"})) == ["intranet"]
    assert row_codes(client.get(LIST, {"criticality": "low"})) == ["intranet"]
    assert row_codes(client.get(LIST, {"internet_facing": "false"})) == ["intranet"]
    assert row_codes(client.get(LIST, {"handles_personal_data": "true"})) == ["cert-issuance"]
    assert row_codes(client.get(LIST, {"mfa_enforced": "true"})) == ["cloud-console"]
    services.suspend_system(actor=ciso, system=system, reason=REASON)
    assert row_codes(client.get(LIST, {"status": "suspended"})) == ["cert-issuance"]


def test_a_filter_that_does_not_parse_shows_its_error_and_no_rows(login_as, ciso, system):
    response = login_as(ciso).get(LIST, {"status": "on-fire"})
    assert response.status_code == 400  # as on every list, and any form with bad input
    assert row_codes(response) == []
    assert "on-fire is not one of the available choices" in html(response)


def test_exports_carry_the_filtered_rows(login_as, ciso, system, other_system):
    client = login_as(ciso)
    rows = csv_rows(client.get(LIST, {"unit": "PUBSEC", "export": "csv"}).content)
    assert rows[0][:3] == ["Code", "Name", "Business unit"]
    assert [row[0] for row in rows[1:]] == ["cert-issuance"]
    assert rows[1][6:9] == ["Yes", "Yes", "No"]  # internet-facing, personal data, MFA
    response = client.get(LIST, {"mfa_enforced": "true", "export": "xlsx"})
    assert "spreadsheetml" in response["Content-Type"]
    sheet = xlsx_rows(response.content)
    assert [row[0] for row in sheet[1:]] == ["cloud-console"]


@pytest.mark.parametrize("role", ["bu_member", "ciso"])
def test_the_register_costs_the_same_queries_for_3_and_30_systems(request, login_as, unit, role):
    user = request.getfixturevalue(role)
    request.getfixturevalue("bu_member")
    counter = itertools.count()

    def grow(n: int) -> None:
        for _ in range(n):
            register(unit, f"system-{next(counter)}", internet_facing=True)

    assert_constant_queries(login_as(user), LIST, grow)


# --- Registering -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "offered"),
    [("bu_member", True), ("bu_head", True), ("ciso", False), ("auditor", False)],
)
def test_only_unit_people_are_offered_registration(request, login_as, unit, role, offered):
    client = login_as(request.getfixturevalue(role))
    assert (count_testid(client.get(LIST), "register-button") == 1) is offered
    assert client.get("/systems/new/").status_code == (200 if offered else 403)


def test_registrable_units_are_the_units_register_system_allows(
    bu_member, bu_head, ciso, unit, other_unit
):
    admin = UserFactory.create(username="admin", is_superuser=True)
    closed = BusinessUnitFactory.create(code="OLD", is_active=False)
    assert list(policy.registrable_units(bu_member)) == [unit]
    assert list(policy.registrable_units(bu_head)) == [unit]
    assert not policy.registrable_units(ciso).exists()
    assert set(policy.registrable_units(admin)) == {unit, other_unit}
    assert closed not in policy.registrable_units(admin)
    for user in (bu_member, bu_head, ciso, admin):
        for candidate in policy.registrable_units(user):
            assert policy.can_register_system(user, candidate)


def test_a_unit_member_registers_a_system(login_as, bu_member, unit, other_unit):
    client = login_as(bu_member)
    form = client.get("/systems/new/")
    assert "PUBSEC" in html(form)
    assert "CLOUD" not in html(form)  # only their own unit is offered
    response = client.post(
        "/systems/new/",
        {
            "unit": unit.pk,
            "code": "resident-portal",
            "name": "Resident portal",
            "environment": "production",
            "criticality": "high",
            "status": "operational",
            "internet_facing": "on",
        },
    )
    system = System.objects.get(code="resident-portal")
    assert response.status_code == 302
    assert response["Location"] == detail(system)
    assert (system.unit, system.internet_facing, system.mfa_enforced) == (unit, True, False)
    assert system.registered_by == bu_member
    event = AuditEvent.objects.get(verb="system.registered")
    assert (event.actor, event.target_id) == (bu_member, str(system.pk))
    assert "resident-portal is on the register." in html(client.get(response["Location"]))


def test_bad_registration_input_shows_the_errors_in_place(login_as, bu_member, unit, system):
    client = login_as(bu_member)
    base = {"unit": unit.pk, "name": "X", "environment": "production", "criticality": "low"}
    response = client.post("/systems/new/", {**base, "code": "not a slug!", "status": "planned"})
    assert response.status_code == 400
    assert count_testid(response, "error-code") == 1
    # The code is taken: the service's own check comes back on the field.
    response = client.post("/systems/new/", {**base, "code": system.code, "status": "planned"})
    assert response.status_code == 400
    assert count_testid(response, "error-code") == 1
    assert System.objects.count() == 1


def test_registering_for_another_unit_is_refused_by_the_service(login_as, bu_member, other_unit):
    response = login_as(bu_member).post(
        "/systems/new/",
        {
            "unit": other_unit.pk,
            "code": "sneaky",
            "name": "Sneaky",
            "environment": "production",
            "criticality": "low",
            "status": "operational",
        },
    )
    assert response.status_code == 403
    assert "Only members of CLOUD may register its systems." in html(response)
    assert not System.objects.filter(code="sneaky").exists()


# --- A system's page -------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["chair", "ciso", "cqo", "secretary", "auditor", "bu_head"])
def test_the_system_page_shows_the_facts(request, login_as, system, role):
    response = login_as(request.getfixturevalue(role)).get(detail(system))
    assert response.status_code == 200
    assert 'data-testid="system-status" data-status="operational"' in html(response)
    assert count_testid(response, "no-suspensions") == 1


def test_another_units_system_is_a_404(login_as, other_bu_member, system):
    client = login_as(other_bu_member)
    for path in (detail(system), f"/systems/{system.pk}/edit/", f"/systems/{system.pk}/suspend/"):
        assert client.get(path).status_code == 404
    assert suspend(client, system, confirm=True).status_code == 404
    assert not SuspensionOrder.objects.exists()


BUTTONS = {
    # role: (suspend, edit)
    "chair": (True, False),
    "ciso": (True, False),
    "cqo": (False, False),
    "secretary": (False, False),
    "auditor": (False, False),
    "bu_head": (False, True),
    "bu_member": (False, True),
}


@pytest.mark.parametrize("role", list(BUTTONS))
def test_each_role_sees_only_the_buttons_it_may_press(request, login_as, system, role):
    response = login_as(request.getfixturevalue(role)).get(detail(system))
    may_suspend, may_edit = BUTTONS[role]
    assert (count_testid(response, "suspend-button") == 1) is may_suspend
    assert (count_testid(response, "suspend-form") == 1) is may_suspend
    assert (count_testid(response, "edit-button") == 1) is may_edit


@pytest.mark.parametrize("role", ["bu_member", "ciso"])
def test_the_system_page_costs_the_same_queries_for_3_and_30_orders(
    request, login_as, ciso, bu_member, system, role
):
    def grow(n: int) -> None:
        for i in range(n):
            order = services.suspend_system(actor=ciso, system=system, reason=f"Breach {i}")
            services.lift_suspension(actor=ciso, order=order, reason="Patched")

    client = login_as(request.getfixturevalue(role))
    assert_constant_queries(client, detail(system), grow)
    assert count_testid(client.get(detail(system)), "suspension-row") == 30


# --- Correcting the register -----------------------------------------------------------------


def edit_data(system: System, **changes: object) -> dict[str, object]:
    data: dict[str, object] = {
        "name": system.name,
        "description": system.description,
        "environment": system.environment,
        "criticality": system.criticality,
        "version": etag_of(system),
    }
    for flag in ("internet_facing", "handles_personal_data", "mfa_enforced"):
        if getattr(system, flag):
            data[flag] = "on"
    data.update(changes)
    return data


def test_the_owning_unit_corrects_the_register(login_as, bu_member, system):
    client = login_as(bu_member)
    form = client.get(f"/systems/{system.pk}/edit/")
    assert form.status_code == 200
    assert etag_of(system) in html(form).replace("&quot;", '"')
    response = client.post(
        f"/systems/{system.pk}/edit/", {**edit_data(system), "mfa_enforced": "on"}
    )
    assert response.status_code == 302
    system.refresh_from_db()
    assert system.mfa_enforced is True
    event = AuditEvent.objects.get(verb="system.changed")
    assert event.details == {"mfa_enforced": {"from": False, "to": True}}


def test_a_stale_form_is_refused_not_overwriting(login_as, bu_member, bu_head, system):
    stale = edit_data(system, name="Old view")
    services.update_system(actor=bu_head, system=system, name="Someone else's change")
    response = login_as(bu_member).post(f"/systems/{system.pk}/edit/", stale)
    assert response.status_code == 412
    assert count_testid(response, "refusal") == 1
    system.refresh_from_db()
    assert system.name == "Someone else's change"


def test_bad_edit_input_shows_the_error_in_place(login_as, bu_member, system):
    client = login_as(bu_member)
    with unchanged(system):
        response = client.post(
            f"/systems/{system.pk}/edit/", edit_data(system, name="", criticality="extreme")
        )
    assert response.status_code == 400
    assert count_testid(response, "error-name") == 1
    assert count_testid(response, "error-criticality") == 1


def test_those_who_may_not_change_it_are_refused(login_as, ciso, system):
    client = login_as(ciso)
    assert client.get(f"/systems/{system.pk}/edit/").status_code == 403
    response = client.post(f"/systems/{system.pk}/edit/", edit_data(system, name="CISO's name"))
    assert response.status_code == 403
    assert "Only the owning unit may change this system." in html(response)
    system.refresh_from_db()
    assert system.name == "CERT-ISSUANCE"


# --- Suspending ------------------------------------------------------------------------------


def test_the_ciso_confirms_before_the_order_is_given(
    login_as, ciso, system, django_capture_on_commit_callbacks
):
    client = login_as(ciso)
    assert client.get(f"/systems/{system.pk}/suspend/").status_code == 200
    first = suspend(client, system, confirm=False)
    assert first.status_code == 200
    text = html(first)
    assert "You are about to suspend cert-issuance (CERT-ISSUANCE)" in text
    assert "It goes out of service at once" in text
    assert "the committee will ratify" in text
    assert REASON in text
    assert count_testid(first, "confirm-suspend") == 1
    assert 'name="confirm" value="yes"' in text
    assert not SuspensionOrder.objects.exists()  # nothing happens before the confirmation
    system.refresh_from_db()
    assert system.status == System.Status.OPERATIONAL

    with django_capture_on_commit_callbacks() as callbacks:
        second = suspend(client, system, confirm=True)
    assert second.status_code == 302
    assert second["Location"] == detail(system)
    order = SuspensionOrder.objects.get()
    assert (order.issued_by, order.issued_office, order.reason) == (ciso, "CISO", REASON)
    system.refresh_from_db()
    assert system.status == System.Status.SUSPENDED
    event = AuditEvent.objects.get(verb="system.suspended")
    assert (event.actor, event.office) == (ciso, "CISO")
    assert len(callbacks) == 1  # the unit is told after commit
    page = client.get(detail(system))
    assert "cert-issuance is suspended and out of service." in html(page)
    assert count_testid(page, "suspend-form") == 0  # a suspended system offers no second order
    assert count_testid(page, "lift-button") == 1


def test_the_chair_suspends_under_the_ceo_office(login_as, chair, system):
    client = login_as(chair)
    assert suspend(client, system, confirm=False).status_code == 200
    assert suspend(client, system, confirm=True).status_code == 302
    assert SuspensionOrder.objects.get().issued_office == "CEO"


def test_a_suspension_names_its_incident(login_as, ciso, bu_member, unit, system):
    incident = cases_services.report_incident(
        actor=bu_member,
        unit=unit,
        title="Certificates printed for the wrong residents",
        description="A resident received someone else's certificate.",
        category=Incident.Category.UNAUTHORIZED_ACCESS,
        severity="high",
        detected_at=timezone.now() - timedelta(hours=1),
    )
    client = login_as(ciso)
    confirm = suspend(client, system, confirm=False, case=incident.reference)
    assert incident.reference in html(confirm)
    assert suspend(client, system, confirm=True, case=incident.reference).status_code == 302
    assert SuspensionOrder.objects.get().case == incident
    assert incident.reference in html(client.get(detail(system)))


def test_bad_suspension_input_shows_the_error_in_place(login_as, ciso, system):
    client = login_as(ciso)
    response = suspend(client, system, confirm=False, reason="")
    assert response.status_code == 400
    assert count_testid(response, "error-reason") == 1
    # An unknown incident is found only by the service, on the confirmed step.
    response = suspend(client, system, confirm=True, case="INC-2099-9999")
    assert response.status_code == 400
    assert count_testid(response, "error-case") == 1
    assert "No incident INC-2099-9999." in html(response)
    assert not SuspensionOrder.objects.exists()


def test_a_double_submitted_confirmation_gives_one_order_and_shows_the_409(login_as, ciso, system):
    client = login_as(ciso)
    assert suspend(client, system, confirm=True).status_code == 302
    again = suspend(client, system, confirm=True)
    assert again.status_code == 409
    assert "cert-issuance is already suspended." in html(again)
    assert SuspensionOrder.objects.filter(system=system).count() == 1


@pytest.mark.parametrize("role", ["bu_member", "bu_head", "cqo", "auditor", "secretary"])
def test_posting_a_suspension_without_the_authority_is_refused(request, login_as, system, role):
    client = login_as(request.getfixturevalue(role))
    assert client.get(f"/systems/{system.pk}/suspend/").status_code == 403
    for confirm in (False, True):
        response = suspend(client, system, confirm=confirm)
        assert response.status_code == 403
        assert "may suspend a system" in html(response)
    assert not SuspensionOrder.objects.exists()
    system.refresh_from_db()
    assert system.status == System.Status.OPERATIONAL


# --- Lifting ---------------------------------------------------------------------------------


@pytest.fixture
def order(ciso, system) -> SuspensionOrder:
    return services.suspend_system(actor=ciso, system=system, reason=REASON)


def test_a_unit_member_sees_the_order_but_no_buttons(login_as, bu_member, system, order):
    response = login_as(bu_member).get(detail(system))
    assert 'data-testid="system-status" data-status="suspended"' in html(response)
    assert count_testid(response, "active-order") == 1
    assert REASON in html(response)
    for button in ("suspend-button", "lift-button", "lift-form", "suspend-form"):
        assert count_testid(response, button) == 0


@pytest.mark.parametrize("role", ["bu_member", "bu_head", "cqo", "auditor"])
def test_posting_a_lift_without_the_authority_is_refused(request, login_as, system, order, role):
    client = login_as(request.getfixturevalue(role))
    for confirm in (False, True):
        response = lift(client, order, confirm=confirm)
        assert response.status_code == 403
        assert "may lift a suspension" in html(response)
    order.refresh_from_db()
    assert order.status == SuspensionOrder.Status.ACTIVE


def test_the_ciso_confirms_before_lifting(login_as, ciso, system, order):
    client = login_as(ciso)
    page = client.get(detail(system))
    assert count_testid(page, "lift-button") == 1
    first = lift(client, order, confirm=False)
    assert first.status_code == 200
    assert "You are about to lift the suspension of cert-issuance" in html(first)
    assert count_testid(first, "confirm-lift") == 1
    order.refresh_from_db()
    assert order.status == SuspensionOrder.Status.ACTIVE

    second = lift(client, order, confirm=True)
    assert second.status_code == 302
    assert second["Location"] == detail(system)
    order.refresh_from_db()
    assert (order.status, order.lifted_by, order.lift_reason) == ("lifted", ciso, "Patched")
    system.refresh_from_db()
    assert system.status == System.Status.OPERATIONAL
    assert AuditEvent.objects.filter(verb="system.reinstated").count() == 1
    page = client.get(detail(system))
    assert "The suspension of cert-issuance is lifted." in html(page)
    assert count_testid(page, "suspend-form") == 1  # it may be suspended again

    again = lift(client, order, confirm=True)
    assert again.status_code == 409
    assert "This suspension was already lifted." in html(again)
    assert AuditEvent.objects.filter(verb="system.reinstated").count() == 1


def test_lifting_needs_a_reason(login_as, ciso, order):
    response = lift(login_as(ciso), order, confirm=False, reason="  ")
    assert response.status_code == 400
    assert count_testid(response, "error-reason") == 1


def test_another_unit_cannot_reach_the_order(login_as, other_bu_member, order):
    assert lift(login_as(other_bu_member), order, confirm=True).status_code == 404
