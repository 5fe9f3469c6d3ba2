"""Due dates and deadlines out of range: every door refuses them with a 400 naming the field and
writes nothing; the service holds any caller to the window and to "not already passed"."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from actions import services
from actions.models import Action, Directive
from tests.actions.conftest import task
from tests.dates import Door, assert_refused, post_json

pytestmark = pytest.mark.django_db


def _action() -> Action:
    return Action.objects.get()


def _directive(deadline: str) -> dict[str, Any]:
    return {
        "title": "Enforce MFA on internet-facing systems",
        "body": "Turn MFA on for every account.",
        "domain": "security",
        "deadline": deadline,
        "units": ["PUBSEC"],
    }


def _replan_api(client: Client, value: str) -> Any:
    action = _action()
    etag = client.get(f"/api/v1/actions/{action.pk}/")["ETag"]
    return post_json(
        client,
        f"/api/v1/actions/{action.pk}/replan/",
        {"reason": "Vendor late", "due_on": value},
        HTTP_IF_MATCH=etag,
    )


def doors() -> list[Door]:
    def due_on() -> Any:
        return list(Action.objects.values_list("pk", "due_on"))

    return [
        Door(
            "api filter due_before",
            "api-get",
            "bu_member",
            "due_before",
            lambda c, v: c.get("/api/v1/actions/", {"due_before": v}),
        ),
        Door(
            "page filter due_before",
            "page-get",
            "bu_member",
            "due_before",
            lambda c, v: c.get(reverse("actions:actions"), {"due_before": v}),
        ),
        Door(
            "api create due_on",
            "api",
            "ciso",
            "due_on",
            lambda c, v: post_json(
                c, "/api/v1/actions/", {"title": "Patch", "unit": "PUBSEC", "due_on": v}
            ),
            state=due_on,
        ),
        Door("api replan due_on", "api", "ciso", "due_on", _replan_api, state=due_on),
        Door(
            "page replan due_on",
            "page",
            "ciso",
            "due_on",
            lambda c, v: c.post(
                reverse("actions:action-replan", args=[_action().pk]),
                {"version": services.etag(_action()), "reason": "Vendor late", "due_on": v},
            ),
            state=due_on,
        ),
        Door(
            "api directive deadline",
            "api",
            "ciso",
            "deadline",
            lambda c, v: post_json(c, "/api/v1/directives/", _directive(v)),
            state=Directive.objects.count,
        ),
        Door(
            "page directive deadline",
            "page",
            "ciso",
            "deadline",
            lambda c, v: c.post(
                reverse("actions:directive-new"), {**_directive(v), "address": "units"}
            ),
            state=Directive.objects.count,
        ),
    ]


@pytest.mark.parametrize("door", doors(), ids=str)
def test_a_date_out_of_range_is_a_400_naming_the_field(door, action, request, login_as):
    client: Client = login_as(request.getfixturevalue(door.who))
    for value in door.values:
        assert_refused(door, client, value)


@pytest.mark.parametrize(
    ("write", "field"),
    [
        (lambda unit, ciso, action, day: task(unit, ciso, due_on=day), "due_on"),
        (
            lambda unit, ciso, action, day: services.replan_action(
                actor=ciso, action=action, reason="x", due_on=day
            ),
            "due_on",
        ),
        (
            lambda unit, ciso, action, day: services.draft_directive(
                actor=ciso, title="MFA", body="On.", deadline=day, units=[unit]
            ),
            "deadline",
        ),
    ],
)
def test_the_services_hold_any_caller_to_the_window_and_to_the_future(
    unit, ciso, action, write, field
):
    """A task, the admin or another app's service calls these without a form in front."""
    before = (Action.objects.count(), Directive.objects.count(), action.due_on)
    for day, message in [
        (dt.date(2101, 1, 1), "Enter a date from 2000-01-01 to 2100-12-31."),
        (dt.date(1, 1, 1), "Enter a date from 2000-01-01 to 2100-12-31."),
        (timezone.localdate() - dt.timedelta(days=1), "already passed"),
    ]:
        with pytest.raises(ValidationError) as refused:
            write(unit, ciso, action, day)
        assert list(refused.value.message_dict) == [field]
        assert message in refused.value.message_dict[field][0]
    action.refresh_from_db()
    assert (Action.objects.count(), Directive.objects.count(), action.due_on) == before
