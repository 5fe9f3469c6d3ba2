"""Dates and times of incidents out of range: every door refuses them with a 400 naming the field
and writes nothing; an incident's own dates are not in the future, give or take a little skew."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from actions.models import Directive
from cases import services
from cases.models import Incident, TimelineEntry
from tests.cases.conftest import report
from tests.dates import Door, assert_refused, filter_door, post_json
from tests.systems.conftest import register

pytestmark = pytest.mark.django_db


def _report(**fields: str) -> dict[str, str]:
    return {
        "title": "Certificates printed for the wrong residents",
        "description": "Batch job mixed up resident IDs.",
        "category": "personal_data_misissue",
        "severity": "critical",
        "unit": "PUBSEC",
        "detected_at": (timezone.localtime() - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
        **fields,
    }


def _incident() -> Incident:
    return Incident.objects.get()


def _measure_of(incident: Incident) -> Any:
    return incident.measures.get()


def doors() -> list[Door]:
    incidents = Incident.objects.count
    notes = TimelineEntry.objects.count
    directives = Directive.objects.count

    def api_filter(name: str) -> Door:
        return filter_door("api-get", "bu_member", name, "/api/v1/incidents/")

    def page_filter(name: str) -> Door:
        return filter_door("page-get", "bu_member", name, reverse("cases:incidents"))

    def timeline_url() -> str:
        return f"/api/v1/incidents/{_incident().pk}/timeline/"

    def rollout_page() -> str:
        incident = _incident()
        return reverse("cases:measure-rollout", args=[incident.pk, _measure_of(incident).pk])

    return [
        Door(
            "api report detected_at",
            "api",
            "bu_member",
            "detected_at",
            lambda c, v: post_json(c, "/api/v1/incidents/", {**_report(), "detected_at": v}),
            state=incidents,
        ),
        Door(
            "api report occurred_at",
            "api",
            "bu_member",
            "occurred_at",
            lambda c, v: post_json(c, "/api/v1/incidents/", {**_report(), "occurred_at": v}),
            state=incidents,
        ),
        Door(
            "api timeline at",
            "api",
            "bu_member",
            "at",
            lambda c, v: post_json(c, timeline_url(), {"text": "Logs pulled", "at": v}),
            state=notes,
        ),
        Door(
            "api rollout deadline",
            "api",
            "ciso",
            "deadline",
            lambda c, v: post_json(
                c,
                f"/api/v1/incidents/{_incident().pk}/rollout/",
                {"measure": _measure_of(_incident()).pk, "deadline": v},
            ),
            state=directives,
        ),
        api_filter("reported_after"),
        api_filter("reported_before"),
        page_filter("reported_after"),
        page_filter("reported_before"),
        Door(
            "page report detected_at",
            "page",
            "bu_member",
            "detected_at",
            lambda c, v: c.post(reverse("cases:incident-new"), _report(detected_at=v)),
            state=incidents,
        ),
        Door(
            "page report occurred_at",
            "page",
            "bu_member",
            "occurred_at",
            lambda c, v: c.post(reverse("cases:incident-new"), _report(occurred_at=v)),
            state=incidents,
        ),
        Door(
            "page timeline at",
            "page",
            "bu_member",
            "at",
            lambda c, v: c.post(
                reverse("cases:incident-note", args=[_incident().pk]), {"text": "x", "at": v}
            ),
            state=notes,
        ),
        Door(
            "page rollout deadline",
            "page",
            "ciso",
            "deadline",
            lambda c, v: c.post(rollout_page(), {"deadline": v}),
            state=directives,
        ),
    ]


@pytest.fixture
def world(unit, bu_member, bu_head, ciso) -> Incident:
    incident = report(unit, bu_member)
    register(unit, "share-tool", internet_facing=True, mfa_enforced=False)
    services.add_measure(
        actor=bu_member,
        incident=incident,
        description="Enforce MFA on internet-facing systems",
        criteria={"internet_facing": True},
    )
    return incident


@pytest.mark.parametrize("door", doors(), ids=str)
def test_a_date_out_of_range_is_a_400_naming_the_field(door, world, request, login_as):
    client: Client = login_as(request.getfixturevalue(door.who))
    for value in door.values:
        assert_refused(door, client, value)


# --- An incident's own window: what happened happened already ---------------------------------


def test_a_report_a_minute_ahead_of_our_clock_is_accepted_a_day_ahead_is_not(unit, bu_member):
    sent = timezone.now() + timedelta(minutes=1)  # the client's clock runs a little ahead
    skewed = report(unit, bu_member, detected_at=sent, occurred_at=sent)
    # Its "now" is ours: detected as it was reported, never after.
    assert skewed.occurred_at == skewed.detected_at == skewed.reported_at < sent
    with pytest.raises(ValidationError) as refused:
        report(unit, bu_member, detected_at=timezone.now() + timedelta(days=1))
    assert refused.value.message_dict == {"detected_at": ["Cannot be in the future."]}
    assert Incident.objects.count() == 1


@pytest.mark.parametrize("field", ["detected_at", "occurred_at"])
def test_the_service_holds_a_caller_that_skipped_the_input_layer_to_the_window(
    unit, bu_member, field
):
    ancient = datetime(1999, 6, 1, tzinfo=UTC)
    fields = {"detected_at": timezone.now() - timedelta(hours=1), field: ancient}
    with pytest.raises(ValidationError) as refused:
        report(unit, bu_member, **fields)
    assert refused.value.message_dict == {field: ["Enter a date from 2000-01-01 to 2100-12-31."]}
    assert not Incident.objects.exists()


def test_a_timeline_entry_is_not_in_the_future_through_the_api(login_as, bu_member, world):
    client = login_as(bu_member)
    url = f"/api/v1/incidents/{world.pk}/timeline/"
    ahead = (timezone.now() + timedelta(hours=1)).isoformat()
    response = post_json(client, url, {"text": "Tomorrow's news", "at": ahead})
    assert response.status_code == 400
    assert response.json() == {"at": ["Cannot be in the future."]}
    assert not world.timeline.filter(text="Tomorrow's news").exists()
    just_now = (timezone.now() + timedelta(seconds=30)).isoformat()
    assert post_json(client, url, {"text": "Logs pulled", "at": just_now}).status_code == 201
