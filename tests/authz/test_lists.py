"""What each role finds in every list: a unit's people see their own unit's records and never
another's, oversight sees every unit's, a quality reviewer (of a third unit) sees neither, and
someone signed out gets nothing. The matrix checks each list answers; this checks what is in it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db.models import Model
from django.test import Client

from tests.authz.matrix import (
    API,
    AUDIT_READERS,
    OVERSIGHT,
    ROLES,
    World,
    make_action,
    make_directive,
    make_incident,
    make_item,
    make_meeting,
    make_order,
    make_risk,
    make_system,
)

SEES = {"own": {"member", "head"} | OVERSIGHT, "other": {"other"} | OVERSIGHT}


def _agenda_item(w: World, scope: str) -> Model:
    if "_meeting" not in w.__dict__:
        w.__dict__["_meeting"] = make_meeting(w, "published")
    meeting = w.__dict__["_meeting"]
    return make_item(w, meeting, scope)


def _audit(w: World, scope: str) -> Model:
    make_system(w, scope)
    from audit.models import AuditEvent

    event = AuditEvent.objects.order_by("-pk").first()
    assert event is not None
    return event


LISTS: list[
    tuple[str, Callable[[World], str], Callable[[World, str], Model], dict[str, set[str]]]
] = [
    ("systems", lambda w: "/systems/", make_system, SEES),
    ("suspensions", lambda w: "/suspensions/", make_order, SEES),
    ("incidents", lambda w: "/incidents/", make_incident, SEES),
    ("risks", lambda w: "/risks/", make_risk, SEES),
    ("actions", lambda w: "/actions/", make_action, SEES),
    ("directives", lambda w: "/directives/", lambda w, s: make_directive(w, s, issued=True), SEES),
    (
        "agenda",
        lambda w: f"/meetings/{w.__dict__['_meeting'].pk}/agenda/",
        _agenda_item,
        {"own": {"member", "head"} | OVERSIGHT, "other": {"other"} | OVERSIGHT},
    ),
    (
        "audit-events",
        lambda w: "/audit-events/",
        _audit,
        {"own": set(AUDIT_READERS), "other": set(AUDIT_READERS)},
    ),
]


def _ids(payload: Any) -> set[Any]:
    rows = payload["results"] if isinstance(payload, dict) and "results" in payload else payload
    if isinstance(payload, dict) and "items" in payload:
        rows = payload["items"]
    return {row.get("id") for row in rows}


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "url", "make", "sees"), LISTS, ids=[entry[0] for entry in LISTS])
def test_each_role_finds_exactly_what_it_may_see(
    name, url, make, sees, world: World, login_as
) -> None:
    made = {scope: make(world, scope) for scope in ("own", "other")}
    key = {scope: obj.pk for scope, obj in made.items()}
    for role in ROLES:
        client = Client() if role == "anonymous" else login_as(world.users[role])
        response = client.get(API + url(world), {"page_size": 200}, HTTP_ACCEPT="application/json")
        if role == "anonymous":
            assert response.status_code in {401, 403}, (name, role)
            continue
        if response.status_code == 404 and not any(role in sees[s] for s in made):
            continue  # a list inside a record the role may not see at all (an agenda)
        assert response.status_code == 200, (name, role, response.status_code)
        found = _ids(response.json())
        for scope in made:
            visible = key[scope] in found
            assert visible == (role in sees[scope]), (
                f"{name}: {role} {'sees' if visible else 'misses'} the {scope} unit's record"
            )
