"""Meetings and dates out of range: every door refuses them with a 400 naming the field; a
meeting moves only ahead, within the horizon the committee is scheduled to; and a meeting
stored with an absurd date before this was checked breaks no list, page, feed or pack."""

from __future__ import annotations

import base64
import datetime as dt
import json
import zoneinfo
from typing import Any
from urllib.parse import urlencode

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import Office
from actions.models import Action
from committee import services
from committee.models import AgendaItem, CadenceException, Committee, Decision, Meeting
from committee.services.meetings import HORIZON
from committee.services.scheduling import schedule_committee
from tests.committee.conftest import make_meeting, mark_present
from tests.dates import Door, assert_refused, filter_door, post_json

pytestmark = pytest.mark.django_db

UTC = dt.UTC
TOKYO = zoneinfo.ZoneInfo("Asia/Tokyo")
NOW = dt.datetime(2026, 11, 26, 0, 0, tzinfo=UTC)  # as tests/committee/test_scheduling.py


# --- Every door ---------------------------------------------------------------------------------


def _the_meeting() -> Meeting:
    return Meeting.objects.get(title="Risk Compliance Committee — test")


def _item() -> AgendaItem:
    return AgendaItem.objects.get(title="Other business")


def _spec(value: str) -> dict[str, Any]:
    return {"unit": "PUBSEC", "title": "Inventory", "due_on": value}


def _decide_page(value: str) -> dict[str, str]:
    return {
        "outcome": "approved",
        "text": "Inventory the internet-facing systems.",
        "effect": "create_actions",
        "actions-TOTAL_FORMS": "1",
        "actions-INITIAL_FORMS": "0",
        "actions-MIN_NUM_FORMS": "0",
        "actions-MAX_NUM_FORMS": "20",
        "actions-0-unit": "PUBSEC",
        "actions-0-title": "Inventory",
        "actions-0-due_on": value,
        "actions-0-domain": "security",
    }


def _starts() -> list[Any]:
    return list(Meeting.objects.order_by("pk").values_list("starts_at", "sequence"))


def doors() -> list[Door]:
    decisions = Decision.objects.count
    exceptions = CadenceException.objects.count

    def api_filter(name: str) -> Door:
        return filter_door("api-get", "chair", name, "/api/v1/meetings/")

    def page_filter(name: str) -> Door:
        return filter_door("page-get", "chair", name, reverse("committee:meetings"), when="")

    def exception(field: str, **fixed: Any) -> Any:
        def send(client: Client, value: str) -> Any:
            committee = Committee.objects.get(slug="rcc")
            body = {
                "occurrence_date": "2027-01-12",
                "kind": "move",
                "reason": "Abroad",
                "moved_to": "2027-01-13T10:00:00+09:00",
                **fixed,
                field: value,
            }
            return post_json(client, f"/api/v1/committees/{committee.pk}/exceptions/", body)

        return send

    return [
        api_filter("starts_after"),
        api_filter("starts_before"),
        page_filter("starts_after"),
        page_filter("starts_before"),
        Door(
            "api reschedule starts_at",
            "api",
            "secretary",
            "starts_at",
            lambda c, v: post_json(
                c,
                f"/api/v1/meetings/{_the_meeting().pk}/reschedule/",
                {"starts_at": v, "reason": "Room taken"},
            ),
            state=_starts,
        ),
        Door(
            "api exception occurrence_date",
            "api",
            "secretary",
            "occurrence_date",
            exception("occurrence_date", kind="skip", moved_to=None),
            state=exceptions,
        ),
        Door(
            "api exception moved_to",
            "api",
            "secretary",
            "moved_to",
            exception("moved_to"),
            state=exceptions,
        ),
        Door(
            "api decision action due_on",
            "api",
            "secretary",
            "due_on",
            lambda c, v: post_json(
                c,
                f"/api/v1/meetings/{_the_meeting().pk}/decisions/",
                {
                    "outcome": "approved",
                    "text": "Inventory.",
                    "effect": "create_actions",
                    "actions": [_spec(v)],
                },
            ),
            state=decisions,
            path="actions.0.due_on",
        ),
        Door(
            "page decision action due_on",
            "page",
            "secretary",
            "due_on",
            lambda c, v: c.post(
                reverse("committee:decide", args=[_the_meeting().pk, _item().pk]),
                _decide_page(v),
            ),
            state=decisions,
        ),
    ]


@pytest.fixture
def world(committee, secretary, chair, ciso, unit) -> Meeting:
    meeting = make_meeting(committee)
    services.add_agenda_item(actor=secretary, meeting=meeting, title="Other business")
    services.publish_agenda(actor=secretary, meeting=meeting)
    mark_present(meeting, secretary, chair, ciso)
    return meeting


@pytest.mark.parametrize("door", doors(), ids=str)
def test_a_date_out_of_range_is_a_400_naming_the_field(door, world, request, login_as):
    client: Client = login_as(request.getfixturevalue(door.who))
    for value in door.values:
        assert_refused(door, client, value)
    assert not Action.objects.exists()


# --- A meeting moves ahead, within the horizon --------------------------------------------------


def _reschedule(secretary: Any, meeting: Meeting, starts_at: dt.datetime) -> Meeting:
    return services.reschedule_meeting(
        actor=secretary, meeting=meeting, starts_at=starts_at, reason="Room taken"
    )


def test_a_meeting_moves_only_to_a_time_still_ahead(committee, secretary):
    meeting = make_meeting(committee, days=3)
    before = meeting.starts_at
    with pytest.raises(ValidationError) as refused:
        _reschedule(secretary, meeting, timezone.now() - dt.timedelta(hours=1))
    assert refused.value.message_dict == {"starts_at": ["Move the meeting to a time still ahead."]}
    meeting.refresh_from_db()
    assert (meeting.starts_at, meeting.sequence) == (before, 0)


def test_a_meeting_moves_at_most_the_horizon_past_its_own_date(committee, secretary):
    with time_machine.travel(NOW, tick=False):
        schedule_committee(committee)
        january = committee.meetings.get(cadence_date=dt.date(2027, 1, 12))
        day = dt.datetime(2027, 1, 12, tzinfo=TOKYO)
        with pytest.raises(ValidationError) as refused:
            _reschedule(secretary, january, day + HORIZON + dt.timedelta(minutes=1))
        assert refused.value.message_dict == {
            "starts_at": [
                "Move the meeting no later than 2027-04-12 00:00 (Asia/Tokyo), three months "
                "past its date."
            ]
        }
        january.refresh_from_db()
        assert january.starts_at == dt.datetime(2027, 1, 12, 1, 0, tzinfo=UTC)
        moved = _reschedule(secretary, january, day + HORIZON - dt.timedelta(hours=1))
    assert moved.starts_at == dt.datetime(2027, 4, 11, 23, 0, tzinfo=TOKYO)
    assert moved.sequence == 1


def test_moving_beyond_the_horizon_through_the_api_is_a_400_and_moves_nothing(
    committee, secretary, login_as
):
    meeting = make_meeting(committee, days=3)
    far = timezone.now() + dt.timedelta(days=3) + HORIZON + dt.timedelta(days=2)
    response = post_json(
        login_as(secretary),
        f"/api/v1/meetings/{meeting.pk}/reschedule/",
        {"starts_at": far.isoformat(), "reason": "Later"},
    )
    assert response.status_code == 400
    assert list(response.json()) == ["starts_at"]
    assert "three months past its date" in response.json()["starts_at"][0]
    meeting.refresh_from_db()
    assert meeting.sequence == 0
    assert not meeting.history.filter(history_type="~").exists()


def test_an_exception_is_planned_at_most_a_year_ahead(committee, secretary, login_as):
    far = timezone.localdate() + dt.timedelta(days=500)
    with pytest.raises(ValidationError) as refused:
        services.add_cadence_exception(
            actor=secretary,
            committee=committee,
            occurrence_date=far,
            kind=CadenceException.Kind.SKIP,
            reason="Far away",
        )
    assert list(refused.value.message_dict) == ["occurrence_date"]
    response = post_json(
        login_as(secretary),
        f"/api/v1/committees/{committee.pk}/exceptions/",
        {"occurrence_date": far.isoformat(), "kind": "skip", "reason": "Far away"},
    )
    assert response.status_code == 400
    assert "a year ahead" in response.json()["occurrence_date"][0]
    assert not CadenceException.objects.exists()


def test_an_exception_moves_its_meeting_within_the_horizon_only(committee, secretary):
    with time_machine.travel(NOW, tick=False), pytest.raises(ValidationError) as refused:
        services.add_cadence_exception(
            actor=secretary,
            committee=committee,
            occurrence_date=dt.date(2027, 2, 9),
            kind=CadenceException.Kind.MOVE,
            moved_to=dt.datetime(2027, 5, 9, 0, 1, tzinfo=TOKYO),  # a minute past the horizon
            reason="Much later",
        )
    assert refused.value.message_dict == {
        "moved_to": [
            "Move the meeting no later than 2027-05-09 00:00 (Asia/Tokyo), three months past "
            "its date."
        ]
    }
    assert not CadenceException.objects.exists()


def _absurd_exception(committee: Committee, secretary: Any, day: dt.date) -> None:
    """As the API wrote one before moves were checked."""
    CadenceException.objects.create(
        committee=committee,
        occurrence_date=day,
        kind=CadenceException.Kind.MOVE,
        moved_to=dt.datetime(9999, 12, 31, 0, 0, tzinfo=UTC),
        reason="Forever",
        created_by=secretary,
    )


def test_the_beat_does_not_carry_an_absurd_exception_into_the_calendar(committee, secretary):
    _absurd_exception(committee, secretary, dt.date(2027, 1, 12))
    with time_machine.travel(NOW, tick=False):
        assert schedule_committee(committee) == (3, 0)
        assert schedule_committee(committee) == (0, 0)  # and says nothing changed, every day
    january = committee.meetings.get(cadence_date=dt.date(2027, 1, 12))
    assert january.starts_at == dt.datetime(2027, 1, 12, 1, 0, tzinfo=UTC)  # the cadence's time


def test_the_beat_does_not_move_a_meeting_by_an_absurd_exception(committee, secretary):
    with time_machine.travel(NOW, tick=False):
        schedule_committee(committee)
        _absurd_exception(committee, secretary, dt.date(2027, 1, 12))
        assert schedule_committee(committee) == (0, 0)
    january = committee.meetings.get(cadence_date=dt.date(2027, 1, 12))
    assert (january.starts_at, january.sequence) == (dt.datetime(2027, 1, 12, 1, tzinfo=UTC), 0)


# --- A meeting stored with an absurd date -------------------------------------------------------

END = dt.datetime(9999, 12, 31, 20, 0, tzinfo=UTC)  # 10000-01-01 in Tokyo
START = dt.datetime(1, 1, 1, 5, 0, tzinfo=UTC)  # year 0 in Niue (UTC-11)


@pytest.fixture
def absurd(committee, secretary) -> list[Meeting]:
    """Two meetings written straight to the database, as the API wrote them before moves were
    checked: one at the end of the calendar (Tokyo cannot show it), one at its start, of a
    committee in Niue (which cannot show that one)."""
    niue = Committee.objects.create(
        name="Pacific board",
        slug="pacific",
        chair_office=Office.objects.get(code="CEO"),
        time_zone="Pacific/Niue",
    )
    niue.secretariat.add(secretary)
    make_meeting(committee, days=3, title="Ordinary")
    rows = [
        Meeting.objects.create(
            committee=committee,
            title="At the end",
            starts_at=END,
            ends_at=END + dt.timedelta(hours=2),
        ),
        Meeting.objects.create(
            committee=niue,
            title="At the start",
            starts_at=START,
            ends_at=START + dt.timedelta(hours=2),
        ),
    ]
    for row in rows:
        with pytest.raises(OverflowError):
            row.starts_at.astimezone(row.committee.zone)  # what every page did with them
    return rows


@pytest.mark.parametrize("ordering", ["starts_at", "-starts_at"])
def test_the_meetings_list_pages_through_absurd_dates(absurd, login_as, chair, ordering):
    client = login_as(chair)
    url: str | None = f"/api/v1/meetings/?page_size=1&ordering={ordering}"
    seen = {}
    while url:
        response = client.get(url)
        assert response.status_code == 200, response.content
        body = response.json()
        seen.update({row["title"]: row for row in body["results"]})
        url = body["next"]
    assert set(seen) == {"Ordinary", "At the end", "At the start"}
    assert seen["At the end"]["starts_at"] == "9999-12-31T20:00:00Z"  # exact, in UTC
    assert seen["At the start"]["starts_at"].startswith("0001-01-01T14:")  # Tokyo's mean time
    assert seen["At the start"]["local_start"].startswith("0001-01-0")  # held at the start


def test_a_cursor_whose_position_cannot_be_stored_is_a_404(absurd, login_as, chair):
    client = login_as(chair)
    for position in ("9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00", "garbage"):
        cursor = base64.b64encode(urlencode({"p": position}).encode()).decode()
        response = client.get("/api/v1/meetings/", {"cursor": cursor})
        assert response.status_code == 404, (position, response.content)


def test_pages_feeds_and_packs_show_a_meeting_stored_with_an_absurd_date(
    absurd, login_as, chair, secretary
):
    client = login_as(chair)
    listing = client.get(reverse("committee:meetings"), {"when": ""})
    assert listing.status_code == 200
    assert listing.content.decode().count('data-testid="meeting-row"') == 3
    assert client.get(reverse("committee:meetings")).status_code == 200  # upcoming
    assert client.get(reverse("dashboard")).status_code == 200
    for meeting in absurd:
        for name in ("meeting", "meeting-ical", "meeting-pack"):
            response = client.get(reverse(f"committee:{name}", args=[meeting.pk]))
            assert response.status_code == 200, (name, meeting.title)
        api = client.get(f"/api/v1/meetings/{meeting.pk}/")
        assert api.status_code == 200
        assert client.get(f"/api/v1/meetings/{meeting.pk}/ical/").status_code == 200
    _, token = services.create_calendar_feed(actor=chair)
    feed = client.get(reverse("calendar-feed", kwargs={"token": token}))
    assert feed.status_code == 200
    assert feed.content.count(b"BEGIN:VEVENT") == 3


def test_a_meeting_stored_with_an_absurd_date_can_be_moved_back(absurd, login_as, secretary):
    stuck = absurd[0]
    back = timezone.now() + dt.timedelta(days=7)
    response = post_json(
        login_as(secretary),
        f"/api/v1/meetings/{stuck.pk}/reschedule/",
        {"starts_at": back.isoformat(), "reason": "Typed 9999 by mistake"},
    )
    assert response.status_code == 200, response.content
    stuck.refresh_from_db()
    assert stuck.starts_at == back
    assert json.loads(response.content)["starts_at"] == timezone.localtime(back).isoformat()
