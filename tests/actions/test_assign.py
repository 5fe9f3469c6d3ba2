"""A unit head assigns the unit's actions to its people: who may, the service's rules, the
action page's form and the API's POST /actions/{id}/assign/."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.urls import reverse

from accounts import services as account_services
from accounts.models import BusinessUnit, User
from actions import policy, services
from actions.models import Action
from audit.models import AuditEvent
from config.errors import PreconditionFailed
from tests.actions.conftest import task
from tests.conftest import sign_in
from tests.factories import MembershipFactory, UserFactory
from tests.pages import assert_constant_queries

pytestmark = pytest.mark.django_db


@pytest.fixture
def other_head(other_unit: BusinessUnit) -> User:
    """The head of CLOUD, who has nothing to say about PUBSEC's work."""
    user = UserFactory.create(username="other_head", roles=["bu_head"])
    other_unit.head = user
    other_unit.save()
    account_services.sync_unit_group(unit=other_unit)
    return user


@pytest.fixture
def admin(db) -> User:
    return UserFactory.create(username="admin", is_superuser=True, is_staff=True)


def signed_in(user: User) -> Client:
    return sign_in(Client(), user)


def page(action: Action) -> str:
    return reverse("actions:action", args=[action.pk])


def assign_url(action: Action) -> str:
    return reverse("actions:action-assign", args=[action.pk])


def version_on(html: str) -> str:
    found = re.search(r'id="id_assign_version" value="([^"]+)"', html) or re.search(
        r'name="version" value="([^"]+)"', html
    )
    assert found, "the page carries no version"
    return found.group(1).replace("&quot;", '"')


def finish(action: Action, member: User, ciso: User) -> Action:
    for act, actor in (("start", member), ("submit", member), ("verify", ciso)):
        action = services.transition_action(actor=actor, action=action, act=act)
    return action


# --- Policy ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "allowed"),
    [
        ("bu_head", True),
        ("bu_member", False),
        ("other_head", False),
        ("other_bu_member", False),
        ("ciso", False),  # the issuing office names an owner by re-planning, with a reason
        ("chair", False),
        ("secretary", False),
        ("auditor", False),
        ("admin", False),  # runs the site, not the unit's work
    ],
)
def test_who_may_assign_a_units_action(request, role, allowed, action):
    assert policy.can_assign(request.getfixturevalue(role), action) is allowed


def test_nobody_signed_out_or_deactivated_assigns(bu_head, action):
    from django.contrib.auth.models import AnonymousUser

    assert policy.can_assign(AnonymousUser(), action) is False
    bu_head.is_active = False
    assert policy.can_assign(bu_head, action) is False


def test_the_head_of_the_unit_an_action_moved_to_assigns_it(
    bu_head, other_head, ciso, action, other_unit
):
    moved = services.replan_action(actor=ciso, action=action, reason="Theirs", unit=other_unit)
    assert policy.can_assign(other_head, moved) is True
    assert policy.can_assign(bu_head, moved) is False


# --- Service ---------------------------------------------------------------------------------


def test_the_head_assigns_and_the_trail_says_who_from_and_to(bu_head, bu_member, action):
    assigned = services.assign_action(
        actor=bu_head, action=action, assignee=bu_member, expected_version=services.etag(action)
    )
    assert assigned.assignee == bu_member
    assert assigned.version == action.version + 1
    event = AuditEvent.objects.get(verb="action.assigned")
    assert (event.actor, event.office) == (bu_head, "")
    assert event.details == {"unit": "PUBSEC", "assignee": {"from": None, "to": "bu_member"}}
    again = services.assign_action(actor=bu_head, action=assigned, assignee=bu_head)
    assert again.assignee == bu_head
    latest = AuditEvent.objects.filter(verb="action.assigned").latest("pk")
    assert latest.details["assignee"] == {"from": "bu_member", "to": "bu_head"}


def test_the_head_hands_the_action_back_to_the_whole_unit(unit, bu_head, bu_member, ciso):
    action = task(unit, ciso, assignee=bu_member)
    cleared = services.assign_action(actor=bu_head, action=action, assignee=None)
    assert cleared.assignee is None
    assert AuditEvent.objects.get(verb="action.assigned").details["assignee"] == {
        "from": "bu_member",
        "to": None,
    }


def test_naming_the_same_person_again_changes_nothing(unit, bu_head, bu_member, ciso):
    action = task(unit, ciso, assignee=bu_member)
    same = services.assign_action(actor=bu_head, action=action, assignee=bu_member)
    assert same.version == action.version
    assert not AuditEvent.objects.filter(verb="action.assigned").exists()


@pytest.mark.parametrize("role", ["bu_member", "ciso", "chair", "other_head"])
def test_anyone_but_the_head_is_refused_and_nothing_changes(request, role, bu_member, action):
    with pytest.raises(PermissionDenied):
        services.assign_action(
            actor=request.getfixturevalue(role), action=action, assignee=bu_member
        )
    action.refresh_from_db()
    assert (action.assignee, action.version) == (None, 1)
    assert not AuditEvent.objects.filter(verb="action.assigned").exists()


def test_the_assignee_must_be_an_active_member_of_the_unit(
    bu_head, bu_member, other_bu_member, action
):
    with pytest.raises(ValidationError) as refused:
        services.assign_action(actor=bu_head, action=action, assignee=other_bu_member)
    assert refused.value.message_dict == {"assignee": ["The assignee must belong to PUBSEC."]}
    bu_member.is_active = False
    bu_member.save()
    with pytest.raises(ValidationError):
        services.assign_action(actor=bu_head, action=action, assignee=bu_member)
    action.refresh_from_db()
    assert action.assignee is None


def test_a_stale_version_is_refused(bu_head, bu_member, action):
    stale = services.etag(action)
    services.add_update(actor=bu_member, action=action, note="Started looking")
    with pytest.raises(PreconditionFailed):
        services.assign_action(
            actor=bu_head, action=action, assignee=bu_member, expected_version=stale
        )


def test_a_finished_action_is_not_assigned(bu_head, bu_member, ciso, action):
    done = finish(action, bu_member, ciso)
    with pytest.raises(ValidationError) as refused:
        services.assign_action(actor=bu_head, action=done, assignee=bu_head)
    assert "status" in refused.value.message_dict


# --- The action page -------------------------------------------------------------------------


def test_the_head_picks_one_of_the_units_people_on_the_page(
    bu_head, bu_member, other_bu_member, action
):
    client = signed_in(bu_head)
    html = client.get(page(action)).content.decode()
    assert 'data-testid="assign-form"' in html
    offered = re.findall(r'<option value="([^"]*)"', html.split('data-testid="assign-form"')[1])
    assert offered[:3] == ["", "bu_head", "bu_member"]
    assert "other_bu_member" not in html
    response = client.post(
        assign_url(action), {"version": version_on(html), "assignee": "bu_member"}, follow=True
    )
    assert response.redirect_chain == [(page(action), 302)]
    assert f"The action is assigned to {bu_member}." in response.content.decode()
    action.refresh_from_db()
    assert action.assignee == bu_member


def test_the_form_shows_the_current_assignee_and_clears_it(unit, bu_head, bu_member, ciso):
    action = task(unit, ciso, assignee=bu_member)
    client = signed_in(bu_head)
    html = client.get(page(action)).content.decode()
    assert '<option value="bu_member" selected>' in html
    response = client.post(assign_url(action), {"version": version_on(html), "assignee": ""})
    assert response.status_code == 302
    action.refresh_from_db()
    assert action.assignee is None


@pytest.mark.parametrize("role", ["bu_member", "ciso", "auditor"])
def test_those_who_may_not_assign_see_no_form_and_are_refused(request, role, bu_member, action):
    client = signed_in(request.getfixturevalue(role))
    html = client.get(page(action)).content.decode()
    assert 'data-testid="assign-form"' not in html
    response = client.post(
        assign_url(action), {"version": services.etag(action), "assignee": "bu_member"}
    )
    assert response.status_code == 403
    assert 'data-testid="refusal"' in response.content.decode()
    action.refresh_from_db()
    assert action.assignee is None


def test_another_units_head_finds_no_such_action(other_head, bu_member, action):
    response = signed_in(other_head).post(
        assign_url(action), {"version": services.etag(action), "assignee": "bu_member"}
    )
    assert response.status_code == 404


def test_someone_outside_the_unit_is_an_error_in_place(bu_head, other_bu_member, action):
    response = signed_in(bu_head).post(
        assign_url(action), {"version": services.etag(action), "assignee": "other_bu_member"}
    )
    assert response.status_code == 400
    assert 'data-testid="error-assignee"' in response.content.decode()
    action.refresh_from_db()
    assert action.assignee is None


def test_a_stale_or_missing_version_is_refused_on_the_page(bu_head, bu_member, action):
    client = signed_in(bu_head)
    stale = services.etag(action)
    services.add_update(actor=bu_member, action=action, note="Moved on")
    assert (
        client.post(assign_url(action), {"version": stale, "assignee": "bu_member"}).status_code
        == 412
    )
    assert client.post(assign_url(action), {"assignee": "bu_member"}).status_code == 412
    action.refresh_from_db()
    assert action.assignee is None


def test_no_form_for_a_finished_action(bu_head, bu_member, ciso, action):
    done = finish(action, bu_member, ciso)
    assert 'data-testid="assign-form"' not in signed_in(bu_head).get(page(done)).content.decode()


def test_the_heads_action_page_costs_the_same_queries_for_3_and_30_people(unit, bu_head, action):
    def grow(n: int) -> None:
        for _ in range(n):
            MembershipFactory.create(user=UserFactory.create(), unit=unit)

    assert_constant_queries(signed_in(bu_head), page(action), grow)


# --- The API ---------------------------------------------------------------------------------


def assign(client: Client, action: Action, body: Any, etag: str | None = "current") -> Any:
    headers: dict[str, Any] = {}
    if etag == "current":
        etag = client.get(f"/api/v1/actions/{action.pk}/")["ETag"]
    if etag is not None:
        headers["HTTP_IF_MATCH"] = etag
    return client.post(
        f"/api/v1/actions/{action.pk}/assign/", body, content_type="application/json", **headers
    )


def test_the_head_assigns_through_the_api(bu_head, bu_member, action):
    client = signed_in(bu_head)
    response = assign(client, action, {"assignee": "bu_member"})
    assert response.status_code == 200, response.json()
    assert response.json()["assignee"] == "bu_member"
    assert response["ETag"] == f'"{action.pk}-v2"'
    cleared = assign(client, action, {"assignee": None})
    assert cleared.status_code == 200
    assert cleared.json()["assignee"] is None


def test_the_api_names_what_is_wrong(bu_head, bu_member, other_bu_member, ciso, action):
    client = signed_in(bu_head)
    outsider = assign(client, action, {"assignee": "other_bu_member"})
    assert outsider.status_code == 400
    assert "assignee" in outsider.json()
    assert assign(client, action, {"assignee": "nobody-by-that-name"}).status_code == 400
    assert assign(client, action, {}).status_code == 400
    assert assign(client, action, {"assignee": "bu_member", "unit": "CLOUD"}).status_code == 400
    action.refresh_from_db()
    assert (action.assignee, action.unit.code) == (None, "PUBSEC")


def test_the_api_wants_the_version_read(bu_head, bu_member, action):
    client = signed_in(bu_head)
    assert assign(client, action, {"assignee": "bu_member"}, etag=None).status_code == 428
    stale = services.etag(action)
    services.add_update(actor=bu_member, action=action, note="Moved on")
    assert assign(client, action, {"assignee": "bu_member"}, etag=stale).status_code == 412
    action.refresh_from_db()
    assert action.assignee is None


def test_the_api_refuses_others_and_hides_other_units_actions(bu_member, other_head, ciso, action):
    assert assign(signed_in(bu_member), action, {"assignee": "bu_member"}).status_code == 403
    assert assign(signed_in(ciso), action, {"assignee": "bu_member"}).status_code == 403
    hidden = assign(signed_in(other_head), action, {"assignee": "bu_member"}, etag='"*"')
    assert hidden.status_code == 404


def test_a_finished_action_is_not_assigned_through_the_api(bu_head, bu_member, ciso, action):
    done = finish(action, bu_member, ciso)
    assert assign(signed_in(bu_head), done, {"assignee": "bu_head"}).status_code == 400
