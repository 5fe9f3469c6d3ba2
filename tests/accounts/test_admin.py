"""The admin: every registered page opens for an administrator; authority writes go through services."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.test import Client
from django.urls import reverse

from accounts.models import Office
from audit.models import AuditEvent
from tests.factories import OfficeFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_user():
    return UserFactory.create(username="root", is_staff=True, is_superuser=True)


def test_every_admin_page_opens(login_as, admin_user):
    client = login_as(admin_user)
    assert client.get(reverse("admin:index")).status_code == 200
    for model, model_admin in admin.site._registry.items():
        info = (model._meta.app_label, model._meta.model_name)
        changelist = client.get(reverse("admin:{}_{}_changelist".format(*info)))
        assert changelist.status_code == 200, info
        if model_admin.has_add_permission(changelist.wsgi_request):
            assert client.get(reverse("admin:{}_{}_add".format(*info))).status_code == 200, info


def test_audit_events_are_read_only_in_the_admin(login_as, admin_user):
    client = login_as(admin_user)
    UserFactory.create(username="someone")
    from audit import services as audit

    event = audit.record(actor=admin_user, verb="test.event")
    url = reverse("admin:audit_auditevent_change", args=[event.pk])
    assert client.get(url).status_code == 200
    assert client.post(url, {"verb": "rewritten"}).status_code == 403
    delete = reverse("admin:audit_auditevent_delete", args=[event.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    assert AuditEvent.objects.get(pk=event.pk).verb == "test.event"


def test_changing_an_office_holder_in_the_admin_is_audited(login_as, admin_user, ciso):
    successor = UserFactory.create(username="new-ciso")
    office = OfficeFactory.create(code="CISO")
    client = login_as(admin_user)
    response = client.post(
        reverse("admin:accounts_office_change", args=[office.pk]),
        {"code": "CISO", "name": office.name, "domain": "security", "holder": successor.pk},
    )
    assert response.status_code == 302
    assert Office.objects.get(pk=office.pk).holder == successor
    event = AuditEvent.objects.get(verb="office.holder_changed")
    assert event.actor == admin_user
    assert event.details == {"from": "ciso", "to": "new-ciso"}


def test_a_delegation_made_in_the_admin_goes_through_the_service(login_as, admin_user, ciso):
    deputy = UserFactory.create(username="deputy")
    office = OfficeFactory.create(code="CISO")
    client = login_as(admin_user)
    response = client.post(
        reverse("admin:accounts_delegation_add"),
        {
            "office": office.pk,
            "delegate": deputy.pk,
            "starts_at_0": "2026-12-01",
            "starts_at_1": "09:00:00",
            "ends_at_0": "2026-12-08",
            "ends_at_1": "09:00:00",
            "reason": "Overseas audit",
        },
    )
    assert response.status_code == 302
    assert office.delegations.get().created_by == admin_user
    assert AuditEvent.objects.filter(verb="office.delegated", actor=admin_user).count() == 1


def test_admin_actions_go_through_the_services(login_as, admin_user, unit, bu_member):
    from cases.matrix import load_nist_matrix
    from cases.models import Incident, Risk
    from tests.cases.conftest import report, risk

    load_nist_matrix()
    incident = report(unit, bu_member)
    a_risk = risk(unit, bu_member)
    client = login_as(admin_user)
    client.post(
        reverse("admin:cases_incident_changelist"),
        {"action": "triage", "_selected_action": [incident.pk]},
    )
    client.post(
        reverse("admin:cases_incident_changelist"),
        {"action": "close", "_selected_action": [incident.pk]},
    )
    client.post(
        reverse("admin:cases_risk_changelist"),
        {"action": "assess", "_selected_action": [a_risk.pk]},
    )
    assert Incident.objects.get(pk=incident.pk).status == "triaged"  # closing was refused
    assert Risk.objects.get(pk=a_risk.pk).status == "assessed"
    verbs = set(AuditEvent.objects.filter(actor=admin_user).values_list("verb", flat=True))
    assert {"incident.triaged", "risk.assessed"} <= verbs


def test_an_admin_issues_a_token_that_expires_and_sees_its_secret_once(login_as, admin_user):
    from django.contrib.messages import get_messages
    from django.utils import timezone
    from knox.models import AuthToken

    integration = UserFactory.create(username="ticketing-bot")
    client = login_as(admin_user)
    add = reverse("admin:knox_authtoken_add")
    page = client.post(add, {"user": integration.pk, "days": 30})
    assert page.status_code == 200
    assert "no-store" in page["Cache-Control"]
    secret = page.context["secret"]
    assert secret in page.content.decode()
    assert not list(get_messages(page.wsgi_request))  # never in a flash message
    [token] = AuthToken.objects.filter(user=integration)
    assert token.expiry is not None
    assert 29 <= (token.expiry - timezone.now()).days <= 30
    event = AuditEvent.objects.get(verb="api_token.issued")
    assert event.actor == admin_user and event.details["token_key"] == token.token_key
    assert secret not in str(event.details)
    me = client.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Token {secret}")
    assert me.status_code == 200 and me.json()["username"] == "ticketing-bot"
    # The change list names the token by its key only: the secret is never shown again.
    assert secret not in client.get(reverse("admin:knox_authtoken_changelist")).content.decode()


@pytest.mark.parametrize("days", ["", "0", "-3", "366", "100000000000000000000", "never"])
def test_a_token_without_a_sensible_expiry_is_refused(login_as, admin_user, days):
    from knox.models import AuthToken

    integration = UserFactory.create(username="ticketing-bot")
    client = login_as(admin_user)
    page = client.post(reverse("admin:knox_authtoken_add"), {"user": integration.pk, "days": days})
    assert page.status_code == 400
    assert "days" in page.context["form"].errors
    assert not AuthToken.objects.exists()
    assert not AuditEvent.objects.filter(verb="api_token.issued").exists()


def test_revoking_a_token_in_the_admin_is_audited_and_takes_effect(login_as, admin_user):
    from knox.models import AuthToken

    from accounts import services

    integration = UserFactory.create(username="ticketing-bot")
    token, secret = services.issue_api_token(actor=None, user=integration, days=30)
    client = login_as(admin_user)
    delete = reverse("admin:knox_authtoken_delete", args=[token.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 302
    assert not AuthToken.objects.exists()
    event = AuditEvent.objects.get(verb="api_token.revoked")
    assert event.actor == admin_user
    assert event.details["token_key"] == token.token_key
    assert event.target_id == str(integration.pk)
    refused = Client().get("/api/v1/me/", HTTP_AUTHORIZATION=f"Token {secret}")
    assert refused.status_code == 401


def test_revoking_tokens_in_bulk_records_each(login_as, admin_user):
    from knox.models import AuthToken

    from accounts import services

    integration = UserFactory.create(username="ticketing-bot")
    tokens = [services.issue_api_token(actor=None, user=integration)[0] for _ in range(3)]
    client = login_as(admin_user)
    response = client.post(
        reverse("admin:knox_authtoken_changelist"),
        {"action": "delete_selected", "_selected_action": [t.pk for t in tokens], "post": "yes"},
    )
    assert response.status_code == 302
    assert not AuthToken.objects.exists()
    revoked = AuditEvent.objects.filter(verb="api_token.revoked")
    assert sorted(e.details["token_key"] for e in revoked) == sorted(t.token_key for t in tokens)


def test_a_signed_in_person_without_admin_access_gets_a_clear_403(login_as, bu_member):
    client = login_as(bu_member)
    for path in ["/admin/", "/admin/accounts/user/", "/admin/login/?next=/admin/"]:
        response = client.get(path, follow=True)
        assert response.status_code == 403, path
        assert len(response.redirect_chain) <= 2, response.redirect_chain
        assert "administration" in response.content.decode().lower()


def test_an_administrator_at_the_admin_login_goes_on_to_the_admin(login_as, admin_user):
    client = login_as(admin_user)
    response = client.get("/admin/login/?next=/admin/accounts/user/")
    assert response.status_code == 302 and response["Location"] == "/admin/accounts/user/"
    offsite = client.get("/admin/login/?next=https://evil.example/")
    assert offsite["Location"] == reverse("admin:index")


def test_signed_out_the_admin_sends_to_the_sites_sign_in(client):
    response = client.get("/admin/accounts/user/", follow=True)
    assert response.redirect_chain[-1][0] == "/accounts/login/?next=/admin/accounts/user/"
