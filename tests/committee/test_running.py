"""Running a meeting as people live it: the chair or a delegated secretariat stands in, time is
respected, each meeting says what waits on whom, the agenda keeps what it saw, the minutes start
from what was recorded, and acts that cannot be undone are confirmed first."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone, translation

from accounts.models import Delegation, Office
from actions import services as actions_services
from actions.models import Action
from cases import services as cases_services
from cases.models import Incident
from committee import services
from committee.dashboard import dashboard_for
from committee.minutes_draft import first_draft
from committee.models import AgendaItem, Attendance, Decision, Meeting, MeetingNotice, Minutes
from committee.waiting import Step, next_step, waiting_for
from tests.actions.conftest import task
from tests.cases.conftest import report
from tests.committee.conftest import begin, make_meeting, mark_present
from tests.factories import UserFactory
from tests.pages import assert_constant_queries
from tests.unchanged import unchanged


def url(name: str, *args: Any) -> str:
    return reverse(f"committee:{name}", args=args)


def html(response) -> str:
    return response.content.decode()


# --- The chair and an acting secretariat run the meeting --------------------------------------


def test_the_chair_runs_a_whole_meeting_when_the_secretariat_is_away(
    committee, meeting, chair, ciso
):
    services.assemble_agenda(actor=chair, meeting=meeting)
    item = services.add_agenda_item(actor=chair, meeting=meeting, title="Crisis drill")
    services.publish_agenda(actor=chair, meeting=meeting)
    begin(meeting)
    services.record_attendance_sheet(
        actor=chair,
        meeting=meeting,
        marks=[services.Mark(person=p, status=Attendance.Status.PRESENT) for p in (chair, ciso)],
    )
    decision = services.record_decision(
        actor=chair, meeting=meeting, item=item, outcome="noted", text="Noted."
    )
    services.hold_meeting(actor=chair, meeting=meeting)
    services.draft_minutes(actor=chair, meeting=meeting, body="Drafted by the chair.")
    services.approve_minutes(actor=chair, meeting=meeting)
    meeting.refresh_from_db()
    assert meeting.status == Meeting.Status.APPROVED and decision.recorded_capacity == "chair"


def test_the_secretariat_office_is_delegated_like_the_others(committee, meeting, chair, ciso):
    """The secretary is away: whoever acts for the secretariat office runs the meeting inside
    the delegation window, and not a minute after it."""
    office = Office.objects.create(code="SEC", name="Committee Secretariat")
    committee.secretariat_office = office
    committee.save(update_fields=["secretariat_office"])
    stand_in = UserFactory.create(username="stand-in")
    with pytest.raises(PermissionDenied):
        services.assemble_agenda(actor=stand_in, meeting=meeting)
    now = timezone.now()
    Delegation.objects.create(
        office=office,
        delegate=stand_in,
        starts_at=now - dt.timedelta(hours=1),
        ends_at=now + dt.timedelta(days=1),
        reason="Secretary on leave",
    )
    services.assemble_agenda(actor=stand_in, meeting=meeting)
    services.publish_agenda(actor=stand_in, meeting=meeting)
    assert meeting.committee in committees_of(stand_in)
    with time_machine.travel(now + dt.timedelta(days=2)), pytest.raises(PermissionDenied):
        services.cancel_meeting(actor=stand_in, meeting=meeting, reason="Not mine any more")


def committees_of(user):
    from committee import policy

    return list(policy.committees_of(user))


def test_a_cxo_who_neither_chairs_nor_runs_the_committee_is_still_refused(meeting, ciso, cqo):
    for person in (ciso, cqo):
        with pytest.raises(PermissionDenied, match="secretariat or its chair"):
            services.publish_agenda(actor=person, meeting=meeting)


# --- Time is respected -------------------------------------------------------------------------


def test_nothing_that_happens_at_a_meeting_is_recorded_before_it_begins(
    published, secretary, chair, ciso, cqo
):
    item = services.add_agenda_item(actor=secretary, meeting=published, title="AOB")
    with unchanged(published, Attendance, Decision):
        with pytest.raises(ValidationError, match="mark it held once it has begun"):
            services.hold_meeting(actor=secretary, meeting=published)
        with pytest.raises(ValidationError, match="decisions are recorded from then"):
            services.record_decision(
                actor=chair, meeting=published, item=item, outcome="noted", text="Too early"
            )
        with pytest.raises(ValidationError, match="has not begun"):
            services.record_attendance(
                actor=secretary, meeting=published, person=ciso, status="present"
            )
    # Apologies are known in advance.
    services.record_attendance(actor=secretary, meeting=published, person=cqo, status="absent")
    assert published.attendance.get(person=cqo).status == Attendance.Status.ABSENT
    begin(published)
    mark_present(published, secretary, chair, ciso)
    services.record_decision(
        actor=chair, meeting=published, item=item, outcome="noted", text="On time"
    )
    held = services.hold_meeting(actor=secretary, meeting=published)
    assert held.held_at is not None and held.held_at >= held.starts_at


def test_minutes_are_approved_only_after_the_meeting_is_held(quorate, secretary, chair):
    services.draft_minutes(actor=secretary, meeting=quorate, body="Early draft")
    with pytest.raises(ValidationError):
        services.approve_minutes(actor=chair, meeting=quorate)
    services.hold_meeting(actor=secretary, meeting=quorate)
    assert services.approve_minutes(actor=chair, meeting=quorate).status == Minutes.Status.APPROVED


def test_one_wrong_line_of_the_attendance_sheet_saves_nothing(quorate, secretary, chair, ciso, cqo):
    with unchanged(quorate, Attendance), pytest.raises(ValidationError) as refused:
        services.record_attendance_sheet(
            actor=secretary,
            meeting=quorate,
            marks=[
                services.Mark(person=cqo, status="present"),
                services.Mark(person=ciso, status="represented"),
            ],
        )
    assert refused.value.message_dict == {"ciso.delegate": ["Name who represents them."]}


def test_a_moved_meeting_says_where_it_stood_and_a_cancelled_one_says_so(
    login_as, committee, secretary, bu_member
):
    meeting = make_meeting(committee, days=10)
    first = meeting.starts_at
    services.reschedule_meeting(
        actor=secretary,
        meeting=meeting,
        starts_at=first + dt.timedelta(days=1),
        reason="Board offsite",
    )
    services.reschedule_meeting(
        actor=secretary,
        meeting=meeting,
        starts_at=first + dt.timedelta(days=2),
        reason="Chair travelling",
    )
    meeting.refresh_from_db()
    assert meeting.rescheduled_from == first and meeting.reschedule_reason == "Chair travelling"
    client = login_as(bu_member)
    page = html(client.get(url("meeting", meeting.pk)))
    assert 'data-testid="meeting-moved-from"' in page and "Chair travelling" in page
    listing = html(client.get(url("meetings")))
    assert 'data-testid="meeting-moved"' in listing
    services.cancel_meeting(actor=secretary, meeting=meeting, reason="No quorum possible")
    page = html(client.get(url("meeting", meeting.pk)))
    assert 'data-testid="meeting-cancelled"' in page and "No quorum possible" in page
    assert 'data-testid="meeting-step"' not in page


# --- What waits, on whom, by when ---------------------------------------------------------------


def step_of(meeting: Meeting, *, has_minutes: bool) -> Step:
    step = next_step(meeting, has_minutes=has_minutes)
    assert step is not None
    return step


def test_each_meeting_says_what_it_waits_for_on_whom_and_by_when(committee, secretary, chair, ciso):
    meeting = make_meeting(committee, days=10)
    step = next_step(meeting, has_minutes=False)
    assert step is not None
    assert (step.what, step.on) == ("publish", "secretariat")
    assert step.by == meeting.starts_at - dt.timedelta(days=committee.agenda_lead_days)
    assert step.sentence.startswith("Agenda to be published by the secretariat by ")
    meeting = services.publish_agenda(actor=secretary, meeting=meeting)
    assert step_of(meeting, has_minutes=False).what == "review"
    begin(meeting)
    assert step_of(meeting, has_minutes=False).what == "hold"
    mark_present(meeting, secretary, chair, ciso)
    meeting = services.hold_meeting(actor=secretary, meeting=meeting)
    assert step_of(meeting, has_minutes=False).on == "secretariat"
    step = step_of(meeting, has_minutes=True)
    assert (step.what, step.on) == ("approve", "chair")
    services.draft_minutes(actor=secretary, meeting=meeting, body="Minutes")
    services.approve_minutes(actor=chair, meeting=meeting)
    meeting.refresh_from_db()
    assert next_step(meeting, has_minutes=True) is None


def test_the_dashboard_of_the_person_it_waits_on_shows_it(
    login_as, committee, secretary, chair, ciso, bu_member
):
    soon = make_meeting(committee, days=6)  # publication due tomorrow: the secretariat's
    assert [s.what for s in waiting_for(secretary)] == ["publish"]
    assert [s.what for s in waiting_for(ciso)] == []
    assert [s.what for s in waiting_for(bu_member)] == []
    page = html(login_as(secretary).get("/"))
    assert 'data-testid="panel-waiting"' in page and 'data-step="publish"' in page
    # The publication is late: the chair, who may publish, is told too.
    with time_machine.travel(soon.starts_at - dt.timedelta(days=2)):
        assert [s.what for s in waiting_for(chair)] == ["publish"]
    services.publish_agenda(actor=secretary, meeting=soon)
    assert [s.what for s in waiting_for(ciso)] == ["review"]
    assert 'data-step="review"' in html(login_as(ciso).get("/"))
    begin(soon)
    mark_present(soon, secretary, chair, ciso)
    services.hold_meeting(actor=secretary, meeting=soon)
    services.draft_minutes(actor=secretary, meeting=soon, body="Minutes")
    assert "approve" in [s.what for s in waiting_for(chair)]
    assert "approve" not in [s.what for s in waiting_for(secretary)]
    assert 'data-step="approve"' in html(login_as(chair).get("/"))


def test_submitted_actions_wait_on_the_office_that_verifies_them_oldest_first(
    login_as, ciso, cqo, unit, bu_member
):
    def submitted(title: str) -> Action:
        action = task(unit, ciso, title=title)
        actions_services.transition_action(actor=bu_member, action=action, act="start")
        return actions_services.transition_action(actor=bu_member, action=action, act="submit")

    first, second = submitted("Patch the VPN"), submitted("Rotate keys")
    board = dashboard_for(ciso)
    assert [a.pk for a in board.to_verify] == [first.pk, second.pk]
    assert board.to_verify_count == 2
    assert dashboard_for(cqo).to_verify == []  # security work is the CISO's to verify
    assert dashboard_for(bu_member).to_verify == []
    page = html(login_as(ciso).get("/"))
    assert page.count('data-testid="verify-action"') == 2
    assert f'href="{reverse("actions:action", args=[first.pk])}"' in page


def test_the_dashboard_costs_the_same_queries_however_much_waits(login_as, ciso, unit, bu_member):
    def grow(n: int) -> None:
        for i in range(n):
            action = task(unit, ciso, title=f"Fix {i}")
            actions_services.transition_action(actor=bu_member, action=action, act="start")
            actions_services.transition_action(actor=bu_member, action=action, act="submit")

    assert_constant_queries(login_as(ciso), "/", grow)


# --- A meeting keeps what it saw -------------------------------------------------------------


def test_a_published_agenda_keeps_the_facts_it_saw_with_now_beside_them(
    login_as, committee, meeting, secretary, chair, ciso, unit, bu_member
):
    incident = report(unit, bu_member, title="Wrong certificates printed", severity="high")
    services.assemble_agenda(actor=secretary, meeting=meeting)
    page = html(login_as(chair).get(url("meeting", meeting.pk)))
    assert 'data-testid="fact-now"' not in page and 'data-testid="facts-frozen"' not in page
    services.publish_agenda(actor=secretary, meeting=meeting)
    item = AgendaItem.objects.get(meeting=meeting, incident=incident)
    assert item.facts_frozen is not None and item.facts_frozen["severity"] == "high"
    assert item.facts_frozen["incident_status"] == Incident.Status.REPORTED
    cases_services.change_severity(
        actor=ciso, incident=incident, severity="critical", reason="Residents affected"
    )
    client = login_as(chair)
    page = html(client.get(url("meeting", meeting.pk)))
    assert 'data-testid="facts-frozen"' in page
    assert ">High <span" in page and "now: Critical" in page
    client.cookies["django_language"] = "ja"
    page = html(client.get(url("meeting", meeting.pk)))
    assert "現在: " in page and "now:" not in page


def test_the_first_draft_of_the_minutes_is_made_of_what_was_recorded(
    login_as, quorate, secretary, chair, ciso, cqo
):
    item = services.add_agenda_item(actor=secretary, meeting=quorate, title="SOC budget")
    services.record_decision(
        actor=chair, meeting=quorate, item=item, outcome="approved", text="Fund the SOC."
    )
    services.record_attendance(actor=secretary, meeting=quorate, person=cqo, status="absent")
    with translation.override("en"):
        draft = first_draft(secretary, quorate)
    assert "SOC budget" in draft and "Fund the SOC." in draft
    assert f"{cqo}" in draft and "Absent" in draft and "2 of 3 voting members present" in draft
    page = html(login_as(secretary).get(url("minutes", quorate.pk)))
    assert "Fund the SOC." in page and 'data-testid="draft-form"' in page
    assert not Minutes.objects.filter(meeting=quorate).exists()  # nothing saved until they do


# --- Confirm what cannot be undone ---------------------------------------------------------------


def test_publishing_asks_first_and_says_who_will_be_mailed(login_as, meeting, secretary):
    client = login_as(secretary)
    with unchanged(meeting, MeetingNotice):
        asked = client.post(url("publish", meeting.pk))
    assert asked.status_code == 200 and 'data-testid="confirm"' in html(asked)
    assert "goes by mail now to each person who fills one of the committee" in html(asked)
    assert "3 seats, the chair" in html(asked)
    meeting.refresh_from_db()
    assert meeting.status == Meeting.Status.SCHEDULED
    done = client.post(url("publish", meeting.pk), {"confirm": "yes"})
    assert done.status_code == 302
    meeting.refresh_from_db()
    assert meeting.status == Meeting.Status.PUBLISHED


def test_approving_the_minutes_asks_first_and_says_what_locks(login_as, quorate, secretary, chair):
    services.hold_meeting(actor=secretary, meeting=quorate)
    minutes = services.draft_minutes(actor=secretary, meeting=quorate, body="All decided.")
    version = f'"m{minutes.pk}-v{minutes.version}"'
    client = login_as(chair)
    asked = client.post(url("minutes-approve", quorate.pk), {"version": version})
    assert asked.status_code == 200 and "The minutes are locked as they read now" in html(asked)
    assert 'name="version"' in html(asked)
    minutes.refresh_from_db()
    assert minutes.status == Minutes.Status.DRAFT
    done = client.post(url("minutes-approve", quorate.pk), {"version": version, "confirm": "yes"})
    assert done.status_code == 302
    minutes.refresh_from_db()
    assert minutes.status == Minutes.Status.APPROVED


def test_issuing_a_directive_asks_first_and_says_how_many_actions(login_as, ciso, unit, other_unit):
    directive = actions_services.draft_directive(
        actor=ciso,
        title="Enforce MFA",
        body="Everywhere.",
        deadline=timezone.localdate() + dt.timedelta(days=30),
        units=[unit, other_unit],
    )
    client = login_as(ciso)
    path = reverse("actions:directive-issue", args=[directive.pk])
    with unchanged(directive, Action):
        asked = client.post(path)
    assert asked.status_code == 200 and "2 actions are created now" in html(asked)
    assert client.post(path, {"confirm": "yes"}).status_code == 302
    assert Action.objects.filter(directive=directive).count() == 2
