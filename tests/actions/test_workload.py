"""A unit's workload: unfinished actions per person by status and overdue, for the unit's head
and oversight, in a constant number of queries, linking to the action list narrowed to each
person's share."""

from __future__ import annotations

import datetime as dt
import html as html_lib
import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts import services as account_services
from accounts.models import BusinessUnit, Membership, User
from actions import selectors, services
from actions.models import Action
from tests.actions.conftest import task
from tests.conftest import sign_in
from tests.factories import MembershipFactory, UserFactory
from tests.pages import assert_constant_queries

pytestmark = pytest.mark.django_db

OPEN, STARTED, RETURNED, SUBMITTED = "open", "in_progress", "returned", "submitted"


def signed_in(user: User) -> Client:
    return sign_in(Client(), user)


def workload(unit: BusinessUnit) -> str:
    return reverse("actions:unit-workload", args=[unit.code])


def late(action: Action, days: int = 3) -> None:
    Action.objects.filter(pk=action.pk).update(due_on=timezone.localdate() - dt.timedelta(days))


def put(action: Action, status: str) -> Action:
    Action.objects.filter(pk=action.pk).update(status=status)
    return action


@pytest.fixture
def work(unit, other_unit, bu_head, bu_member, other_bu_member, ciso) -> dict[str, Action]:
    """PUBSEC: bu_member holds 2 open (1 late), 1 in progress, 1 submitted (late), 1 verified;
    bu_head holds 1 returned; 2 unassigned open (1 late), 1 unassigned cancelled. CLOUD: one
    open action of its own, which PUBSEC's counts never include."""
    made = {
        "m-open": task(unit, ciso, assignee=bu_member),
        "m-open-late": task(unit, ciso, assignee=bu_member),
        "m-started": put(task(unit, ciso, assignee=bu_member), STARTED),
        "m-submitted-late": put(task(unit, ciso, assignee=bu_member), SUBMITTED),
        "m-verified": put(task(unit, ciso, assignee=bu_member), "verified"),
        "h-returned": put(task(unit, ciso, assignee=bu_head), RETURNED),
        "u-open": task(unit, ciso),
        "u-open-late": task(unit, ciso),
        "u-cancelled": task(unit, ciso),
        "cloud": task(other_unit, ciso, assignee=other_bu_member),
    }
    Action.objects.filter(pk=made["u-cancelled"].pk).update(status="cancelled", cancel_reason="x")
    for key in ("m-open-late", "m-submitted-late", "u-open-late", "m-verified"):
        late(made[key])
    return made


def table(loads: list[selectors.Load]) -> dict[str, tuple[int, ...]]:
    return {
        (load.person.username if load.person else ""): (
            *(count for _status, count in load.cells()),
            load.overdue,
            load.total,
        )
        for load in loads
    }


def test_each_person_and_the_unassigned_by_status_and_overdue(work, unit, bu_head):
    #                 open  started returned submitted overdue total
    assert table(selectors.unit_workload(bu_head, unit)) == {
        "bu_head": (0, 0, 1, 0, 0, 1),
        "bu_member": (2, 1, 0, 1, 2, 4),
        "": (2, 0, 0, 0, 1, 2),
    }


def test_everyone_of_the_unit_is_listed_even_with_nothing(work, unit, bu_head):
    idle = UserFactory.create(username="idle")
    MembershipFactory.create(user=idle, unit=unit)
    loads = table(selectors.unit_workload(bu_head, unit))
    assert loads["idle"] == (0, 0, 0, 0, 0, 0)
    assert list(loads) == ["bu_head", "bu_member", "idle", ""]


def test_someone_who_left_still_shows_with_the_work_they_hold(work, unit, bu_head, bu_member):
    Membership.objects.filter(user=bu_member, unit=unit).delete()
    account_services.sync_unit_group(unit=unit)
    loads = {
        (load.person.username if load.person else ""): load
        for load in selectors.unit_workload(bu_head, unit)
    }
    assert loads["bu_member"].in_unit is False
    assert loads["bu_member"].total == 4
    assert loads["bu_head"].in_unit is True
    html = signed_in(bu_head).get(workload(unit)).content.decode()
    assert 'data-testid="left-unit"' in html


def test_counting_is_one_aggregate_query_over_the_actions(work, unit, bu_head, ciso):
    for reader in (bu_head, ciso):
        with CaptureQueriesContext(connection) as ctx:
            selectors.unit_workload(reader, unit)
        over_actions = [
            q["sql"] for q in ctx.captured_queries if 'FROM "actions_action"' in q["sql"]
        ]
        assert len(over_actions) == 1, over_actions
        assert "GROUP BY" in over_actions[0]


# --- The page --------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["bu_head", "ciso", "chair", "auditor", "secretary"])
def test_the_head_and_oversight_read_the_page(request, role, work, unit):
    response = signed_in(request.getfixturevalue(role)).get(workload(unit))
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count('data-testid="load"') == 3
    assert "Workload of PUBSEC" in html


@pytest.mark.parametrize("role", ["bu_member", "other_bu_member"])
def test_anyone_else_is_refused_with_the_reason(request, role, unit):
    response = signed_in(request.getfixturevalue(role)).get(workload(unit))
    assert response.status_code == 403
    assert "Only the unit&#x27;s head and oversight" in response.content.decode()


def test_the_head_of_one_unit_does_not_read_another(bu_head, other_unit):
    assert signed_in(bu_head).get(workload(other_unit)).status_code == 403


def test_an_unknown_or_closed_unit_is_not_there(bu_head, ciso, unit):
    client = signed_in(ciso)
    assert client.get(reverse("actions:unit-workload", args=["NOPE"])).status_code == 404
    BusinessUnit.objects.filter(pk=unit.pk).update(is_active=False)
    assert client.get(workload(unit)).status_code == 404


def test_signed_out_visitors_are_sent_to_sign_in(client, unit):
    response = client.get(workload(unit))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def links(html: str) -> dict[tuple[str, str], str]:
    """(person, column) -> the link in that cell."""
    found = {}
    for row in re.findall(r'<tr data-testid="load" data-person="([^"]*)"(.*?)</tr>', html, re.S):
        person, cells = row
        for status, href in re.findall(r'data-status="([^"]+)"><a [^>]*href="([^"]+)"', cells):
            found[(person, status)] = html_lib.unescape(href)
    return found


def listed(client: Client, href: str) -> set[str]:
    html = client.get(href).content.decode()
    return set(re.findall(r'data-testid="action-row" data-reference="([^"]+)"', html))


def test_each_number_opens_exactly_those_actions(work, unit, bu_head):
    client = signed_in(bu_head)
    cells = links(client.get(workload(unit)).content.decode())
    ref = {key: action.reference for key, action in work.items()}
    assert listed(client, cells[("bu_member", OPEN)]) == {ref["m-open"], ref["m-open-late"]}
    assert listed(client, cells[("bu_member", "overdue")]) == {
        ref["m-open-late"],
        ref["m-submitted-late"],
    }
    assert listed(client, cells[("bu_head", RETURNED)]) == {ref["h-returned"]}
    assert listed(client, cells[("", OPEN)]) == {ref["u-open"], ref["u-open-late"]}
    assert listed(client, cells[("", "overdue")]) == {ref["u-open-late"]}
    # a zero is not a link
    assert ("bu_head", OPEN) not in cells


def test_the_narrowed_list_says_so_and_shows_the_way_back(work, unit, bu_head):
    client = signed_in(bu_head)
    url = reverse("actions:actions")
    html = client.get(url, {"unit": "PUBSEC", "assignee": "bu_member"}).content.decode()
    assert "Only the actions assigned to bu_member." in html
    assert f'<a href="{url}?unit=PUBSEC">Show everyone\'s</a>' in html
    # the person rides along hidden, never a name to type
    assert '<input type="hidden" name="assignee" value="bu_member">' in html
    html = client.get(url, {"unassigned": "true"}).content.decode()
    assert "Only the actions assigned to nobody in particular." in html
    assert 'data-testid="narrowed"' not in client.get(url).content.decode()


def test_the_api_filters_by_assignee_and_unassigned(work, unit, bu_head):
    client = signed_in(bu_head)
    mine = client.get("/api/v1/actions/", {"assignee": "bu_head"}).json()["results"]
    assert [row["reference"] for row in mine] == [work["h-returned"].reference]
    nobody = client.get("/api/v1/actions/", {"unassigned": "true"}).json()["results"]
    assert {row["reference"] for row in nobody} == {
        work[key].reference for key in ("u-open", "u-open-late", "u-cancelled")
    }


def test_the_action_list_links_a_head_to_their_units_workload(work, unit, bu_head, bu_member):
    html = signed_in(bu_head).get(reverse("actions:actions")).content.decode()
    assert f'href="{workload(unit)}" data-testid="workload-link"' in html
    member = signed_in(bu_member).get(reverse("actions:actions"), {"unit": "PUBSEC"})
    assert 'data-testid="workload-link"' not in member.content.decode()


def test_the_action_list_filtered_to_a_unit_links_oversight_to_its_workload(work, unit, ciso):
    client = signed_in(ciso)
    assert (
        'data-testid="workload-link"' not in client.get(reverse("actions:actions")).content.decode()
    )
    html = client.get(reverse("actions:actions"), {"unit": "PUBSEC"}).content.decode()
    assert f'href="{workload(unit)}" data-testid="workload-link"' in html


@pytest.mark.parametrize("role", ["bu_head", "ciso"])
def test_the_page_costs_the_same_queries_for_3_and_30_actions_and_people(
    request, role, unit, bu_head, ciso
):
    def grow(n: int) -> None:
        for index in range(n):
            person = UserFactory.create()
            MembershipFactory.create(user=person, unit=unit)
            action = task(unit, ciso, assignee=person)
            if index % 2:
                late(put(action, STARTED))
            services.create_action(
                actor=ciso, unit=unit, title=f"Nobody's {index}", due_on=action.due_on
            )

    assert_constant_queries(signed_in(request.getfixturevalue(role)), workload(unit), grow)
