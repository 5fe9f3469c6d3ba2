"""In the meeting: quorum, decisions that act on actions, suspensions and risks, and minutes
the chair approves and so locks."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from actions.models import Action
from audit.models import AuditEvent
from committee import services
from committee.models import Attendance, Decision, Meeting, Minutes
from config.errors import Conflict
from systems import services as systems_services
from systems.models import SuspensionOrder, System
from tests.cases.conftest import risk
from tests.committee.conftest import begin, make_meeting, mark_present
from tests.factories import BusinessUnitFactory, DelegationFactory, UserFactory

OUTCOME = Decision.Outcome
E = Decision.Effect


def decide(meeting, actor, **fields):
    defaults = {"item": None, "outcome": OUTCOME.NOTED, "text": "Noted."}
    return services.record_decision(actor=actor, meeting=meeting, **{**defaults, **fields})


def test_publication_freezes_the_chair_and_the_roster(committee, published, chair, ciso, cqo):
    assert published.status == Meeting.Status.PUBLISHED
    assert published.chair == chair and published.chair_capacity == "holder"
    rows = {a.person: a for a in published.attendance.all()}
    assert set(rows) == {chair, ciso, cqo}
    assert rows[chair].is_chair and rows[chair].office == "CEO"
    assert {a.status for a in rows.values()} == {Attendance.Status.EXPECTED}
    assert AuditEvent.objects.filter(verb="meeting.agenda_published").count() == 1


def test_a_new_office_holder_after_publication_does_not_silently_join(
    committee, published, ciso, secretary
):
    from accounts.models import Office

    newcomer = UserFactory.create(username="new-ciso")
    Office.objects.filter(code="CISO").update(holder=newcomer)
    assert not published.attendance.filter(person=newcomer).exists()
    row = services.add_attendee(
        actor=secretary,
        meeting=published,
        person=newcomer,
        kind=Attendance.Kind.VOTING,
        reason="Took office after the agenda went out",
    )
    assert row.added_after_publication
    published.refresh_from_db()
    assert published.sequence == 1  # attendees' calendars are updated
    event = AuditEvent.objects.get(verb="meeting.roster_amended")
    assert event.details["added"] == newcomer.pk


def test_a_decision_is_refused_without_quorum(committee, published, secretary, chair):
    mark_present(published, secretary, chair)  # 1 of 3 voting seats
    with pytest.raises(Conflict, match="1 of 3 voting members present, 2 needed"):
        decide(published, secretary)
    assert not Decision.objects.exists()


def test_quorum_needs_the_chair_or_the_chairs_acting_delegate(
    committee, published, secretary, chair, ciso, cqo
):
    mark_present(published, secretary, ciso, cqo)  # 2 of 3, but no chair
    with pytest.raises(Conflict, match="chair"):
        decide(published, secretary)
    deputy = UserFactory.create(username="deputy")
    with pytest.raises(ValidationError, match="acting delegate"):
        services.record_attendance(
            actor=secretary,
            meeting=published,
            person=chair,
            status=Attendance.Status.REPRESENTED,
            delegate=deputy,
        )
    DelegationFactory.create(office=committee.chair_office, delegate=deputy)
    services.record_attendance(
        actor=secretary,
        meeting=published,
        person=chair,
        status=Attendance.Status.REPRESENTED,
        delegate=deputy,
    )
    decision = decide(published, secretary)
    assert decision.recorded_capacity == "secretariat"
    assert decision.chair == chair  # the decision is the chair's, recorded on their behalf


def test_an_approved_decision_creates_actions_owned_by_the_named_units(
    committee, quorate, secretary, unit, other_unit
):
    third = BusinessUnitFactory.create(code="FINSOL", name="Financial Solutions")
    due = (timezone.localdate() + dt.timedelta(days=30)).isoformat()
    decision = decide(
        quorate,
        secretary,
        outcome=OUTCOME.APPROVED,
        text="Every unit inventories its internet-facing systems.",
        effect=E.CREATE_ACTIONS,
        actions=[
            {"unit": code, "title": f"Inventory {code}", "due_on": due}
            for code in (unit.code, other_unit.code, third.code)
        ],
    )
    created = Action.objects.filter(origin_decision=decision).order_by("unit__code")
    assert [(a.unit.code, a.title) for a in created] == [
        ("CLOUD", "Inventory CLOUD"),
        ("FINSOL", "Inventory FINSOL"),
        ("PUBSEC", "Inventory PUBSEC"),
    ]
    # The chair's act under the chair's office, though the secretariat recorded it.
    assert {a.issued_office for a in created} == {"CEO"}
    assert {a.issued_by.username for a in created} == {"chair"}
    assert decision.recorded_by == secretary
    event = AuditEvent.objects.get(verb="decision.recorded")
    assert sorted(event.details["actions"]) == sorted(a.reference for a in created)


def test_bad_action_specs_write_nothing(committee, quorate, secretary, unit):
    with pytest.raises(ValidationError) as refused:
        decide(
            quorate,
            secretary,
            outcome=OUTCOME.APPROVED,
            effect=E.CREATE_ACTIONS,
            actions=[
                {"unit": unit.code, "title": "Good", "due_on": "2099-01-01"},
                {"unit": "NOPE", "title": "Bad unit", "due_on": "2099-01-01"},
            ],
        )
    assert "actions[1].unit" in refused.value.message_dict
    assert not Decision.objects.exists() and not Action.objects.exists()
    with pytest.raises(ValidationError, match="approved"):
        decide(quorate, secretary, outcome=OUTCOME.DEFERRED, effect=E.CREATE_ACTIONS, actions=[{}])


def _suspension_item(meeting, secretary, system_unit, ciso):
    registrar = UserFactory.create(is_superuser=True, is_staff=True)
    system = systems_services.register_system(
        actor=registrar, unit=system_unit, code="project-share", name="Project sharing"
    )
    order = systems_services.suspend_system(actor=ciso, system=system, reason="Breach")
    services.assemble_agenda(actor=secretary, meeting=meeting)
    return order, meeting.items.get(suspension=order)


@pytest.mark.parametrize(
    ("effect", "ratification", "system_status", "order_status"),
    [
        (E.RATIFY_SUSPENSION, "ratified", System.Status.SUSPENDED, "active"),
        (E.OVERTURN_SUSPENSION, "overturned", System.Status.OPERATIONAL, "lifted"),
    ],
)
def test_ratify_and_overturn_act_on_the_suspension(
    effect, ratification, system_status, order_status, committee, secretary, chair, ciso, unit
):
    meeting = make_meeting(committee)
    order, item = _suspension_item(meeting, secretary, unit, ciso)
    services.publish_agenda(actor=secretary, meeting=meeting)
    mark_present(meeting, secretary, chair, ciso)
    decision = decide(
        meeting, chair, item=item, outcome=OUTCOME.APPROVED, effect=effect, text="So."
    )
    assert decision.recorded_capacity == "chair"
    order = SuspensionOrder.objects.select_related("system").get(pk=order.pk)
    assert order.ratification == ratification
    assert order.ratification_decision == decision
    assert order.status == order_status
    assert order.system.status == system_status
    with pytest.raises(Conflict):
        decide(meeting, chair, item=item, outcome=OUTCOME.APPROVED, effect=effect, text="Again.")


def test_ratifying_needs_a_suspension_item(committee, quorate, secretary):
    item = services.add_agenda_item(actor=secretary, meeting=quorate, title="AOB")
    with pytest.raises(ValidationError, match="suspension"):
        decide(quorate, secretary, item=item, outcome=OUTCOME.APPROVED, effect=E.RATIFY_SUSPENSION)


def test_accepting_a_risk_above_appetite_is_recorded_against_the_owning_cxo(
    committee, secretary, chair, ciso, unit, bu_member
):
    above = risk(unit, bu_member, title="Legacy VPN", likelihood=5, impact=5)
    meeting = make_meeting(committee)
    services.assemble_agenda(actor=secretary, meeting=meeting)
    item = meeting.items.get(risk=above)
    services.publish_agenda(actor=secretary, meeting=meeting)
    mark_present(meeting, secretary, chair, ciso)
    decision = decide(meeting, secretary, item=item, outcome=OUTCOME.APPROVED, effect=E.ACCEPT_RISK)
    above.refresh_from_db()
    assert above.treatment == "accept"
    assert above.acceptance_decision == decision
    assert (above.accepted_office, above.accepted_by) == ("CISO", ciso)
    # Accepted, it no longer comes back to the committee every month.
    nxt = make_meeting(committee, days=40)
    services.assemble_agenda(actor=secretary, meeting=nxt)
    assert not nxt.items.filter(risk=above).exists()


def test_only_the_chair_or_the_secretariat_records_decisions(
    committee, quorate, ciso, cqo, auditor, bu_head
):
    for person in (ciso, cqo, auditor, bu_head):
        with pytest.raises(PermissionDenied):
            decide(quorate, person)


def _held_with_minutes(meeting, secretary):
    services.hold_meeting(actor=secretary, meeting=meeting)
    return services.draft_minutes(actor=secretary, meeting=meeting, body="Present: all.")


def test_minutes_approved_by_anyone_but_the_chair_are_refused(
    committee, quorate, secretary, ciso, auditor, chair
):
    _held_with_minutes(quorate, secretary)
    for person in (secretary, ciso, auditor):
        with pytest.raises(PermissionDenied):
            services.approve_minutes(actor=person, meeting=quorate)
    minutes = services.approve_minutes(actor=chair, meeting=quorate)
    assert (minutes.status, minutes.approved_by, minutes.approved_office) == (
        Minutes.Status.APPROVED,
        chair,
        "CEO",
    )
    quorate.refresh_from_db()
    assert quorate.status == Meeting.Status.APPROVED
    assert AuditEvent.objects.filter(verb="minutes.approved").count() == 1


def test_approved_minutes_lock_the_meeting_and_corrections_are_new_records(
    committee, quorate, secretary, chair, ciso
):
    decision = decide(quorate, secretary, text="The SOC budget is noted.")
    _held_with_minutes(quorate, secretary)
    services.approve_minutes(actor=chair, meeting=quorate)
    refused = [
        lambda: services.draft_minutes(actor=secretary, meeting=quorate, body="Rewritten"),
        lambda: decide(quorate, secretary, text="Late decision"),
        lambda: services.record_attendance(
            actor=secretary, meeting=quorate, person=ciso, status=Attendance.Status.ABSENT
        ),
        lambda: services.approve_minutes(actor=chair, meeting=quorate),
    ]
    for write in refused:
        with pytest.raises(Conflict, match="locked"):
            write()
    assert Minutes.objects.get(meeting=quorate).body == "Present: all."
    correction = services.correct_minutes(
        actor=secretary, meeting=quorate, text="The CQO left at 11:00."
    )
    assert correction.minutes.meeting == quorate
    # A decision is corrected by a new decision at a later meeting that points at it.
    later = services.publish_agenda(actor=secretary, meeting=make_meeting(committee, days=40))
    mark_present(later, secretary, chair, ciso)
    fix = decide(later, secretary, text="The SOC budget is approved.", corrects=decision)
    assert fix.corrects == decision
    decision.refresh_from_db()
    assert decision.text == "The SOC budget is noted."


def test_a_stale_minutes_draft_is_refused(committee, quorate, secretary):
    from committee.services.minutes import etag
    from config.errors import PreconditionFailed

    minutes = _held_with_minutes(quorate, secretary)
    old = etag(minutes)
    services.draft_minutes(actor=secretary, meeting=quorate, body="v2", expected_version=old)
    with pytest.raises(PreconditionFailed):
        services.draft_minutes(actor=secretary, meeting=quorate, body="v3", expected_version=old)
    assert Minutes.objects.get(meeting=quorate).body == "v2"


def test_votes_belong_to_seats_and_a_stranger_cannot_vote(
    committee, published, secretary, chair, ciso, cqo
):
    from accounts.models import Office

    newcomer = UserFactory.create(username="new-ciso")
    Office.objects.filter(code="CISO").update(holder=newcomer)
    row = services.add_attendee(
        actor=secretary,
        meeting=published,
        person=newcomer,
        kind=Attendance.Kind.VOTING,
        reason="New CISO",
    )
    assert row.office == "CISO"
    stranger = UserFactory.create(username="stranger")
    with pytest.raises(ValidationError, match="observer"):
        services.add_attendee(
            actor=secretary,
            meeting=published,
            person=stranger,
            kind=Attendance.Kind.VOTING,
            reason="Wants a vote",
        )
    # The chair and both CISOs present: still 2 of 3 seats (one vote for the CISO's seat).
    mark_present(published, secretary, chair, ciso, newcomer)
    from committee.quorum import quorum_of

    quorum = quorum_of(committee, published.attendance.all())
    assert (quorum.voting, quorum.present, quorum.met) == (3, 2, True)


def test_one_decision_per_item_and_corrections_point_backwards(
    committee, quorate, secretary, chair, ciso
):
    item = services.add_agenda_item(actor=secretary, meeting=quorate, title="SOC budget")
    first = decide(quorate, secretary, item=item)
    with pytest.raises(Conflict, match="already has its decision"):
        decide(quorate, secretary, item=item, text="Again")
    earlier = services.publish_agenda(actor=secretary, meeting=make_meeting(committee, days=1))
    begin(earlier, minutes_ago=60)  # it began before the one whose decision it would correct
    mark_present(earlier, secretary, chair, ciso)
    with pytest.raises(ValidationError, match="earlier meeting"):
        decide(earlier, secretary, corrects=first, text="Backwards in time")


def test_only_an_approved_decision_to_create_actions_is_authority_for_them(
    committee, quorate, secretary, unit
):
    from actions import services as actions_services

    noted = decide(quorate, secretary)
    with pytest.raises(PermissionDenied):
        actions_services.create_action(
            actor=secretary,
            unit=unit,
            title="Smuggled",
            due_on=timezone.localdate() + dt.timedelta(days=3),
            origin_decision=noted,
        )
    assert not Action.objects.exists()


def test_rewriting_minutes_needs_the_version_read(committee, quorate, secretary):
    from config.errors import PreconditionRequired

    _held_with_minutes(quorate, secretary)
    with pytest.raises(PreconditionRequired):
        services.draft_minutes(actor=secretary, meeting=quorate, body="Overwrite")
    assert Minutes.objects.get(meeting=quorate).body == "Present: all."
