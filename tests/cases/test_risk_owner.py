"""A risk's owner is someone who may see the risk: a refused owner is a 400 naming `owner`, and
nothing is written (no risk, no grant, no audit event, no reference used up)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from audit.models import AuditEvent
from cases import policy
from cases.models import Risk
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


def register_over_api(client: Client, owner: str) -> Any:
    return client.post(
        "/api/v1/risks/",
        {"title": "Shared admin accounts", "unit": "PUBSEC", "owner": owner, "likelihood": 4,
         "impact": 4},
        content_type="application/json",
    )  # fmt: skip


def nothing_written() -> None:
    assert not Risk.objects.exists()
    assert not AuditEvent.objects.filter(verb="risk.registered").exists()


@pytest.mark.parametrize(
    ("owner", "allowed"),
    [
        ("bu_member", True),
        ("bu_head", True),
        ("ciso", True),  # reads every unit's risks
        ("auditor", True),  # reads them too
        ("other_bu_member", False),  # another unit's member
        ("secretaryless", False),  # nobody's member, no office
    ],
)
def test_who_may_own_a_units_risk(request, login_as, bu_member, unit, owner, allowed):
    if owner == "secretaryless":
        UserFactory.create(username=owner)
    else:
        request.getfixturevalue(owner)
    response = register_over_api(login_as(bu_member), owner)
    if allowed:
        assert response.status_code == 201, response.json()
        risk = Risk.objects.get()
        assert risk.owner.username == owner
        assert policy.visible_risks(risk.owner).filter(pk=risk.pk).exists()
    else:
        assert response.status_code == 400
        assert list(response.json()) == ["owner"]
        assert owner in response.json()["owner"][0]
        nothing_written()


def test_a_refused_owner_uses_up_no_reference(login_as, bu_member, other_bu_member, unit):
    client = login_as(bu_member)
    assert register_over_api(client, "other_bu_member").status_code == 400
    created = register_over_api(client, "bu_member")
    assert created.status_code == 201
    assert created.json()["reference"].endswith("-0001")


def test_the_page_refuses_an_owner_from_the_registrars_other_unit(
    login_as, bu_member, unit, other_unit, other_bu_member
):
    """The page offers the people of every unit the registrar belongs to; the owner of a
    PUBSEC risk must still be someone who sees PUBSEC's risks."""
    MembershipFactory.create(user=bu_member, unit=other_unit)
    client = login_as(bu_member)
    form = {
        "unit": "PUBSEC",
        "title": "Shared admin accounts",
        "description": "",
        "domain": "security",
        "owner": "other_bu_member",
        "likelihood": "4",
        "impact": "4",
        "residual_likelihood": "",
        "residual_impact": "",
        "treatment": "mitigate",
    }
    response = client.post(reverse("cases:risk-new"), form)
    assert response.status_code == 400
    page = response.content.decode()
    assert 'data-testid="error-owner"' in page
    assert "other_bu_member may not see PUBSEC" in page
    nothing_written()
    response = client.post(reverse("cases:risk-new"), {**form, "owner": "bu_member"})
    assert response.status_code == 302
    assert Risk.objects.get().owner == bu_member


def test_an_owner_is_not_changed_by_a_reassessment(login_as, bu_member, other_bu_member, unit):
    client = login_as(bu_member)
    created = register_over_api(client, "bu_member").json()
    url = f"/api/v1/risks/{created['id']}/"
    response = client.patch(
        url,
        {"owner": "other_bu_member"},
        content_type="application/json",
        HTTP_IF_MATCH=client.get(url)["ETag"],
    )
    assert response.status_code == 400
    assert "owner" in response.json()
    assert Risk.objects.get().owner == bu_member
