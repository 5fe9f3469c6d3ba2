"""The navigation's badge: how many meeting steps and submitted actions wait on the reader,
fetched with htmx after the page (so no page pays for it), in a constant number of queries."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import User
from actions import services as action_services
from actions.models import Action
from tests.actions.conftest import task
from tests.committee.conftest import make_meeting
from tests.conftest import sign_in
from tests.factories import MembershipFactory
from tests.pages import assert_constant_queries

pytestmark = pytest.mark.django_db

URL = "/waiting/count/"


def signed_in(user: User) -> Client:
    return sign_in(Client(), user)


def submitted(unit, ciso, member, n: int) -> None:
    for _ in range(n):
        action = task(unit, ciso)
        action = action_services.transition_action(actor=member, action=action, act="start")
        action_services.transition_action(actor=member, action=action, act="submit")


def test_the_route_is_the_one_the_navigation_asks():
    assert reverse("committee:waiting-count") == URL


def test_the_verifying_office_sees_how_many_submitted_actions_wait(unit, ciso, bu_member):
    submitted(unit, ciso, bu_member, 2)
    response = signed_in(ciso).get(URL, headers={"HX-Request": "true"})
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="waiting-count"' in html
    assert f'href="{reverse("dashboard")}#waiting-heading"' in html
    assert '<span class="badge rounded-pill text-bg-warning">2</span>' in html
    assert 'aria-label="2 things wait for you"' in html


def test_meeting_steps_count_too(committee, secretary, unit, ciso, bu_member):
    make_meeting(committee, days=3)  # its agenda is the secretariat's to publish
    response = signed_in(secretary).get(URL)
    assert 'aria-label="1 thing waits for you"' in response.content.decode()


def test_nothing_waiting_is_nothing_at_all(unit, ciso, bu_member):
    task(unit, ciso)  # open work of the unit is not waiting on anyone's verification
    response = signed_in(bu_member).get(URL)
    assert response.status_code == 200
    assert response.content.decode().strip() == ""


def test_the_submitter_is_not_counted_for_their_own_submission(unit, ciso):
    # The CISO's office submitted it for its own unit: someone else verifies.
    MembershipFactory.create(user=ciso, unit=unit)
    submitted(unit, ciso, ciso, 1)
    assert signed_in(ciso).get(URL).content.decode().strip() == ""


def test_signed_out_visitors_are_sent_to_sign_in(client):
    response = client.get(URL, headers={"HX-Request": "true"})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_pages_ask_for_the_badge_instead_of_counting(bu_member):
    html = signed_in(bu_member).get(reverse("actions:actions")).content.decode()
    assert f'hx-get="{URL}" hx-trigger="load" hx-select="#waiting-count"' in html
    assert 'id="waiting-count"' not in html


def test_the_badge_costs_the_same_queries_for_3_and_30_waiting(committee, unit, ciso, bu_member):
    def grow(n: int) -> None:
        submitted(unit, ciso, bu_member, n)
        for day in range(n):
            make_meeting(committee, days=3 + day / 10)

    assert_constant_queries(signed_in(ciso), URL, grow)
    assert Action.objects.filter(status="submitted").count() == 30
