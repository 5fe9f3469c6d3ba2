"""Agenda assembly: exactly the items the data calls for, in constant queries; the secretariat's
edits stick; a unit reads only its own items."""

from __future__ import annotations

import datetime as dt
import importlib

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from actions import services as actions_services
from actions.models import Action
from audit.models import AuditEvent
from cases.models import Incident
from committee import services
from committee.models import AgendaItem, Decision, Meeting
from committee.sayings import NONE_LEFT
from committee.services.agenda import ASSEMBLY_READS, assemble_next_agendas, computed_items
from quality.models import QualityReport
from systems import services as systems_services
from tests.actions.conftest import escalate_to_committee, task
from tests.actions.test_scale import indexed_columns
from tests.cases.conftest import report, risk
from tests.committee.conftest import make_meeting, mark_present
from tests.factories import UserFactory
from tests.quality.conftest import make_project, month
from tests.quality.conftest import report as quality_report

K = AgendaItem.Kind


def seed(
    unit, other_unit, bu_member, other_bu_member, ciso, *, n: int = 1, batch: str = "a"
) -> dict[str, set[str]]:
    """n of every kind that belongs on the agenda, and as many that do not. Returns the
    expected source keys by kind."""
    registrar = UserFactory.create(is_superuser=True, is_staff=True)
    expected: dict[str, set[str]] = {kind: set() for kind in K.values}
    for i in range(n):
        # On the agenda: high and critical incidents; not: medium and low.
        for severity in ("high", "critical"):
            incident = report(unit, bu_member, title=f"Breach {severity} {i}", severity=severity)
            expected[K.INCIDENT].add(f"incident:{incident.pk}")
        report(other_unit, other_bu_member, title=f"Minor {i}", severity="medium")
        # A risk above appetite (4x4 residual) is on; one within appetite is not.
        above = risk(unit, bu_member, title=f"Stale admin accounts {i}", likelihood=5, impact=5)
        assert above.above_appetite
        expected[K.RISK].add(f"risk:{above.pk}")
        risk(unit, bu_member, title=f"Printer toner {i}", likelihood=1, impact=1)
        # Actions chased up to the committee are on, one item for their unit; one escalated
        # to the unit head is not.
        escalated = task(unit, ciso, title=f"Rotate keys {i}")
        escalate_to_committee(escalated, days_late=31)
        expected[K.ESCALATED_ACTION].add(f"escalated:{unit.pk}")
        low = task(unit, ciso, title=f"Patch {i}")
        Action.objects.filter(pk=low.pk).update(escalation_level=1)  # no committee notice
        # A suspension awaiting ratification.
        system = systems_services.register_system(
            actor=registrar, unit=other_unit, code=f"share-{batch}{i}", name=f"Share {i}"
        )
        order = systems_services.suspend_system(actor=ciso, system=system, reason="Breach")
        expected[K.SUSPENSION].add(f"suspension:{order.pk}")
        # A directive issued since the last meeting.
        directive = actions_services.draft_directive(
            actor=ciso,
            title=f"Enforce MFA {i}",
            body="Everywhere.",
            deadline=timezone.localdate() + dt.timedelta(days=30),
            units=[unit],
        )
        actions_services.issue_directive(actor=ciso, directive=directive)
        expected[K.DIRECTIVE].add(f"directive:{directive.pk}")
        # A project rated red is flagged; one in good health is not.
        cert = systems_services.register_system(
            actor=registrar, unit=unit, code=f"cert-{batch}{i}", name=f"Certificates {i}"
        )
        red = make_project(unit, bu_member, cert, name=f"Issuance rebuild {i}")
        quality_report(red, bu_member, month(0), earned_value=50000)
        expected[K.QUALITY_FLAG].add(f"quality:{red.flags.get().pk}")
        healthy = make_project(unit, bu_member, cert, name=f"Issuance tidy-up {i}")
        quality_report(healthy, bu_member, month(0))
    return expected


def keys_by_kind(items) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {kind: set() for kind in K.values}
    for item in items:
        found[item.kind].add(item.source_key)
    return found


def test_the_agenda_holds_exactly_the_expected_items(
    committee, meeting, unit, other_unit, bu_member, other_bu_member, ciso, secretary
):
    expected = seed(unit, other_unit, bu_member, other_bu_member, ciso, n=2)
    added = services.assemble_agenda(actor=secretary, meeting=meeting)
    items = list(meeting.items.order_by("position"))
    assert added == len(items) == 2 * (2 + 1 + 1 + 1 + 1) + 1  # both escalated actions: one item
    assert keys_by_kind(items) == expected
    # The order a committee takes them in: orders to ratify first, directives last.
    kinds = [item.kind for item in items]
    assert kinds == sorted(
        kinds,
        key=[
            K.SUSPENSION,
            K.INCIDENT,
            K.ESCALATED_ACTION,
            K.CARRIED_ACTION,
            K.RISK,
            K.QUALITY_FLAG,
            K.DIRECTIVE,
        ].index,
    )
    assert [item.position for item in items] == list(range(1, len(items) + 1))
    suspension = next(i for i in items if i.kind == K.SUSPENSION)
    assert suspension.unit == other_unit
    assert "Suspended by the CISO" in suspension.summary
    escalated = next(i for i in items if i.kind == K.ESCALATED_ACTION)
    assert escalated.unit == unit and escalated.action is None
    assert escalated.summary.startswith("2 actions overdue a month or more")
    assert "31 days overdue" in escalated.summary
    # Written with their history, as every other write of an item, under who assembled it.
    history = AgendaItem.history.filter(meeting=meeting)
    assert {h.source_key for h in history} == {i.source_key for i in items}
    assert {h.history_user for h in history} == {secretary}


def test_assembling_again_adds_only_what_is_new_and_keeps_removals(
    committee, meeting, unit, other_unit, bu_member, other_bu_member, ciso, secretary
):
    seed(unit, other_unit, bu_member, other_bu_member, ciso)
    services.assemble_agenda(actor=secretary, meeting=meeting)
    first = list(meeting.items.order_by("position"))
    services.remove_agenda_item(actor=secretary, meeting=meeting, item=first[0], reason="Dup")
    order = [i.pk for i in reversed(first[1:])]
    services.reorder_agenda(actor=secretary, meeting=meeting, order=order)
    assert services.assemble_agenda(actor=secretary, meeting=meeting) == 0
    late = report(unit, bu_member, title="Another breach", severity="critical")
    assert services.assemble_agenda(actor=secretary, meeting=meeting) == 1
    live = list(meeting.items.filter(removed_at__isnull=True).order_by("position"))
    assert [i.pk for i in live[:-1]] == order  # the secretariat's order is kept
    assert live[-1].incident == late  # the new item comes last
    assert meeting.items.get(pk=first[0].pk).removed_at is not None  # not re-added
    # Each assembly by a person is on the record, with what it added.
    events = AuditEvent.objects.filter(verb="agenda.assembled").order_by("pk")
    assert [e.details["added"] for e in events] == [len(first), 0, 1]
    assert {e.actor for e in events} == {secretary}
    assert events.reverse()[0].details["items"] == [live[-1].source_key]


def test_the_hourly_assembly_records_only_what_changed_an_agenda(
    committee, meeting, unit, bu_member
):
    assemble_next_agendas()
    assert not AuditEvent.objects.filter(verb="agenda.assembled").exists()  # nothing to add
    report(unit, bu_member, title="A breach", severity="critical")
    assert assemble_next_agendas() == 1
    [event] = AuditEvent.objects.filter(verb="agenda.assembled")
    assert event.actor is None and event.target_id == str(meeting.pk)
    assert event.details["added"] == 1


def test_only_incidents_since_the_previous_meeting(committee, unit, bu_member, secretary):
    old = report(unit, bu_member, title="Old breach", severity="critical")
    long_ago = timezone.now() - dt.timedelta(days=40)
    Incident.objects.filter(pk=old.pk).update(reported_at=long_ago, detected_at=long_ago)
    make_meeting(committee, days=-20, status=Meeting.Status.HELD)
    meeting = make_meeting(committee, days=10)
    new = report(unit, bu_member, title="New breach", severity="high")
    services.assemble_agenda(actor=secretary, meeting=meeting)
    assert [i.incident for i in meeting.items.all()] == [new]


def test_decided_actions_are_carried_forward_until_verified(
    committee, quorate, unit, secretary, chair, ciso, bu_member
):
    decision = services.record_decision(
        actor=secretary,
        meeting=quorate,
        item=None,
        outcome=Decision.Outcome.APPROVED,
        text="PUBSEC reviews every certificate template.",
        effect=Decision.Effect.CREATE_ACTIONS,
        actions=[{"unit": unit.code, "title": "Review templates", "due_on": "2099-01-31"}],
    )
    carried = decision.actions.get()
    done = task(unit, ciso, title="Unrelated")  # not from a decision: not carried
    next_meeting = make_meeting(committee, days=35)
    services.assemble_agenda(actor=secretary, meeting=next_meeting)
    carried_items = [i for i in next_meeting.items.all() if i.kind == K.CARRIED_ACTION]
    assert [i.action for i in carried_items] == [carried]
    assert done.pk not in [i.action_id for i in next_meeting.items.all()]
    assert decision.reference in carried_items[0].summary
    # Verified, it drops off the following agenda.
    actions_services.transition_action(actor=bu_member, action=carried, act="start")
    actions_services.transition_action(actor=bu_member, action=carried, act="submit")
    actions_services.transition_action(actor=ciso, action=carried, act="verify")
    after = make_meeting(committee, days=70)
    services.assemble_agenda(actor=secretary, meeting=after)
    assert not after.items.filter(kind=K.CARRIED_ACTION).exists()


def test_assembly_runs_a_constant_number_of_queries(
    committee, unit, other_unit, bu_member, other_bu_member, ciso, secretary
):
    reads = []
    for n, batch in ((1, "a"), (12, "b")):
        meeting = make_meeting(committee, days=3 + n)
        seed(unit, other_unit, bu_member, other_bu_member, ciso, n=n, batch=batch)
        with CaptureQueriesContext(connection) as queries:
            services.assemble_agenda(actor=secretary, meeting=meeting)
        assert meeting.items.count() == {"a": 7, "b": 6 * 13 + 1}[batch]
        # Out of the way, so the next meeting's window starts where this one's did.
        Meeting.objects.filter(pk=meeting.pk).update(status=Meeting.Status.CANCELLED)
        statements = [q["sql"] for q in queries]
        # On PostgreSQL the items and their history are one statement, WITH ... INSERT.
        inserts = [sql for sql in statements if sql.startswith(("INSERT", "WITH"))]
        reads.append(len(statements) - len(inserts))
        assert len(inserts) <= 4  # the items and their history, in batches
    assert reads[0] == reads[1]


@pytest.mark.parametrize("n", [1, 12])
def test_assembly_reads_what_it_is_designed_to_read(
    committee, unit, other_unit, bu_member, other_bu_member, ciso, n
):
    """The count the benchmark holds an assembly of thousands of items to (bench/agenda.py)."""
    meeting = make_meeting(committee, days=4)
    seed(unit, other_unit, bu_member, other_bu_member, ciso, n=n)
    with CaptureQueriesContext(connection) as queries:
        services.assemble_agenda(actor=None, meeting=meeting)
    assert meeting.items.count() == 6 * n + 1
    control = ("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT")
    statements = [
        q["sql"] for q in queries if '"audit_' not in q["sql"] and not q["sql"].startswith(control)
    ]
    reads = [sql for sql in statements if sql.startswith("SELECT")]
    assert len(reads) == ASSEMBLY_READS == 4 + len(K) - 1  # one a kind but the secretariat's
    if connection.vendor == "postgresql":
        assert len(statements) - len(reads) == 1  # the items with their history


def test_computing_the_items_is_constant_in_queries(
    committee, meeting, unit, other_unit, bu_member, other_bu_member, ciso
):
    counts = []
    for batch in "ab":
        seed(unit, other_unit, bu_member, other_bu_member, ciso, n=3, batch=batch)
        with CaptureQueriesContext(connection) as queries:
            computed_items(meeting)
        counts.append(len(queries))
    assert counts[0] == counts[1] == 10  # the previous meeting, then one query per kind


def test_a_project_trending_red_comes_to_the_next_agenda_exactly_once(
    committee, unit, bu_member, secretary
):
    cert = systems_services.register_system(
        actor=UserFactory.create(is_superuser=True), unit=unit, code="cert", name="Certificates"
    )
    project = make_project(unit, bu_member, cert)
    first = make_meeting(committee, days=10)
    # SPI and CPI fall three periods running (still green): flagged, and on the agenda.
    for offset, earned in zip(range(-4, 0), [100000, 99000, 98000, 97000], strict=True):
        quality_report(project, bu_member, month(offset), earned_value=earned)
    assert services.assemble_agenda(actor=secretary, meeting=first) == 1
    [item] = first.items.filter(kind=K.QUALITY_FLAG)
    assert item.project == project and item.unit == unit
    assert (
        "Schedule performance index (SPI) and Cost performance index (CPI) falling three "
        "periods running" in item.summary
    )
    assert "spi" not in item.summary  # indicators by name, never by key
    # Still falling next month: the flag stays open, nothing new comes to the agenda.
    quality_report(project, bu_member, month(0), earned_value=96000)
    assert services.assemble_agenda(actor=secretary, meeting=first) == 0
    assert first.items.filter(kind=K.QUALITY_FLAG).count() == 1
    item.refresh_from_db()  # but its item says the flag holds a month on
    assert item.summary.endswith(f"Still open at the {month(0):%Y-%m} report, status green.")
    # Nor to the meeting after: the flag was taken to the first one.
    services.publish_agenda(actor=secretary, meeting=first)
    second = make_meeting(committee, days=40)
    services.assemble_agenda(actor=secretary, meeting=second)
    assert not second.items.filter(kind=K.QUALITY_FLAG).exists()
    assert AgendaItem.objects.filter(project=project).count() == 1


def test_a_flag_committed_while_the_last_agenda_was_published_comes_to_the_next(
    committee, unit, bu_member, secretary
):
    from quality.models import QualityFlag

    cert = systems_services.register_system(
        actor=UserFactory.create(is_superuser=True), unit=unit, code="cert", name="Certificates"
    )
    project = make_project(unit, bu_member, cert)
    first = make_meeting(committee, days=10)
    services.publish_agenda(actor=secretary, meeting=first)
    quality_report(project, bu_member, month(0), earned_value=50000)
    # Its report began before the publication and committed after: raised before the cutoff.
    first.refresh_from_db()
    assert first.published_at is not None
    QualityFlag.objects.update(raised_at=first.published_at - dt.timedelta(seconds=1))
    assert not first.items.filter(kind=K.QUALITY_FLAG).exists()
    second = make_meeting(committee, days=40)
    services.assemble_agenda(actor=secretary, meeting=second)
    assert second.items.filter(kind=K.QUALITY_FLAG, project=project).count() == 1


def test_a_flag_withdrawn_by_correcting_its_report_comes_to_no_agenda(
    committee, unit, bu_member, secretary
):
    from quality import services as quality_services

    cert = systems_services.register_system(
        actor=UserFactory.create(is_superuser=True), unit=unit, code="cert", name="Certificates"
    )
    project = make_project(unit, bu_member, cert)
    mistyped = quality_report(project, bu_member, month(0), earned_value=50000)
    quality_services.correct_report(
        actor=bu_member,
        report=mistyped,
        reason="EV lost a zero.",
        planned_value=100000,
        earned_value=100000,
        actual_cost=100000,
        percent_complete=10,
    )
    meeting = make_meeting(committee, days=10)
    services.assemble_agenda(actor=secretary, meeting=meeting)
    assert not meeting.items.filter(kind=K.QUALITY_FLAG).exists()
    # Corrected back to red: the same flag, reopened, comes to the agenda after all.
    quality_services.correct_report(
        actor=bu_member,
        report=mistyped,
        reason="The zero was right.",
        planned_value=100000,
        earned_value=50000,
        actual_cost=100000,
        percent_complete=10,
    )
    assert services.assemble_agenda(actor=secretary, meeting=meeting) == 1
    assert project.flags.count() == 1


def test_a_flagged_projects_item_says_what_is_true_of_its_flag_until_published(
    committee, unit, bu_member, secretary
):
    from quality import services as quality_services

    cert = systems_services.register_system(
        actor=UserFactory.create(is_superuser=True), unit=unit, code="cert", name="Certificates"
    )
    project = make_project(unit, bu_member, cert)
    mistyped = quality_report(project, bu_member, month(-1), earned_value=50000)
    meeting = make_meeting(committee, days=10)
    assert services.assemble_agenda(actor=secretary, meeting=meeting) == 1
    [item] = meeting.items.filter(kind=K.QUALITY_FLAG)
    assert "rated red on" in item.summary and "SPI 0.50" in item.summary

    def corrected(earned: int) -> str:
        quality_services.correct_report(
            actor=bu_member,
            report=QualityReport.objects.get(pk=mistyped.pk),
            reason="Retyped.",
            planned_value=100000,
            earned_value=earned,
            actual_cost=100000,
            percent_complete=10,
        )
        assert services.assemble_agenda(actor=secretary, meeting=meeting) == 0
        item.refresh_from_db()
        return item.summary

    # Restated: still red, on what the corrected figures say.
    assert "SPI 0.70" in corrected(70000)
    # Withdrawn: the committee is told it was a mistake, not shown the first figures.
    withdrawn = corrected(100000)
    assert "flag withdrawn" in withdrawn and "SPI" not in withdrawn
    # Reopened, then cleared by next month's healthy report: it says so.
    assert "SPI 0.50" in corrected(50000)
    quality_report(project, bu_member, month(0))
    services.assemble_agenda(actor=secretary, meeting=meeting)
    item.refresh_from_db()
    assert item.summary.endswith(f"Cleared since by the {month(0):%Y-%m} report.")
    assert meeting.items.filter(kind=K.QUALITY_FLAG).count() == 1
    # Published: the item stays as the members were sent it.
    services.publish_agenda(actor=secretary, meeting=meeting)
    sent = item.summary
    quality_services.correct_report(  # the report that cleared it turns out red: reopened
        actor=bu_member,
        report=QualityReport.objects.get(period=month(0)),
        reason="Retyped.",
        planned_value=100000,
        earned_value=50000,
        actual_cost=100000,
        percent_complete=10,
    )
    assert project.flags.get().cleared_at is None
    assemble_next_agendas()
    item.refresh_from_db()
    assert item.summary == sent


def test_only_the_secretariat_or_the_chair_edits_the_agenda(
    committee, meeting, ciso, chair, bu_head, secretary
):
    for person in (ciso, bu_head):
        with pytest.raises(PermissionDenied):
            services.assemble_agenda(actor=person, meeting=meeting)
        with pytest.raises(PermissionDenied):
            services.add_agenda_item(actor=person, meeting=meeting, title="Mine")
    item = services.add_agenda_item(actor=secretary, meeting=meeting, title="Budget for SOC")
    assert item.kind == K.OTHER and item.added_by == secretary
    # The meeting goes ahead when the secretariat is away: the chair may do its every act.
    services.assemble_agenda(actor=chair, meeting=meeting)
    chairs = services.add_agenda_item(actor=chair, meeting=meeting, title="Crisis drill")
    assert chairs.added_by == chair


def test_after_publication_additions_are_marked_and_held_meetings_are_closed(
    committee, published, secretary, chair, ciso
):
    item = services.add_agenda_item(actor=secretary, meeting=published, title="Late item")
    assert item.added_after_publication
    with pytest.raises(ValidationError):
        services.assemble_agenda(actor=secretary, meeting=published)
    mark_present(published, secretary, chair, ciso)
    services.hold_meeting(actor=secretary, meeting=published)
    with pytest.raises(ValidationError, match="closed"):
        services.add_agenda_item(actor=secretary, meeting=published, title="Too late")


def test_reorder_must_list_every_item_once(committee, meeting, secretary):
    a = services.add_agenda_item(actor=secretary, meeting=meeting, title="A")
    b = services.add_agenda_item(actor=secretary, meeting=meeting, title="B")
    for wrong in ([a.pk], [a.pk, a.pk], [a.pk, b.pk, 999999]):
        with pytest.raises(ValidationError):
            services.reorder_agenda(actor=secretary, meeting=meeting, order=wrong)
    services.reorder_agenda(actor=secretary, meeting=meeting, order=[b.pk, a.pk])
    assert list(meeting.items.order_by("position").values_list("title", flat=True)) == ["B", "A"]


def test_the_hourly_task_keeps_the_next_draft_current_and_publishes_at_lead_time(
    committee, secretary, unit, bu_member
):
    from committee.tasks import prepare_agendas

    soon = make_meeting(committee, days=4)  # inside the 5-day lead time
    later = make_meeting(committee, days=30)
    report(unit, bu_member, title="Breach", severity="critical")
    result = prepare_agendas.apply().get()
    assert result == {"items_added": 1, "published": 1}
    soon.refresh_from_db()
    later.refresh_from_db()
    assert soon.status == Meeting.Status.PUBLISHED
    assert later.status == Meeting.Status.SCHEDULED
    assert soon.items.count() == 1
    risk(unit, bu_member, title="Stale admin accounts", likelihood=5, impact=5)
    assert prepare_agendas.apply().get() == {"items_added": 1, "published": 0}
    # The next draft is now the later meeting's; the published agenda is frozen.
    assert [i.kind for i in later.items.all()] == [K.RISK]
    assert soon.items.count() == 1


def test_what_came_after_the_previous_agenda_was_published_reaches_this_one(
    committee, secretary, unit, bu_member
):
    previous = make_meeting(committee, days=2)
    services.publish_agenda(actor=secretary, meeting=previous)  # its agenda froze now
    late = report(unit, bu_member, title="Reported between publication and sitting")
    following = make_meeting(committee, days=30)
    services.assemble_agenda(actor=secretary, meeting=following)
    assert [i.incident for i in following.items.filter(kind=K.INCIDENT)] == [late]
    assert not previous.items.filter(incident=late).exists()


def test_a_decided_action_escalated_by_chasing_is_listed_once(committee, quorate, secretary, unit):
    decision = services.record_decision(
        actor=secretary,
        meeting=quorate,
        item=None,
        outcome=Decision.Outcome.APPROVED,
        text="Do it.",
        effect=Decision.Effect.CREATE_ACTIONS,
        actions=[{"unit": unit.code, "title": "Do it", "due_on": "2099-01-31"}],
    )
    escalate_to_committee(Action.objects.get(origin_decision=decision))
    nxt = make_meeting(committee, days=40)
    services.assemble_agenda(actor=secretary, meeting=nxt)
    assert list(nxt.items.values_list("kind", flat=True)) == [K.CARRIED_ACTION]


def test_escalated_actions_make_one_item_a_unit_naming_the_oldest(
    committee, meeting, unit, other_unit, ciso, secretary
):
    mine = [task(unit, ciso, title=f"Rotate keys {n}") for n in range(5)]
    for late, action in zip((40, 35, 90, 31, 33), mine, strict=True):
        escalate_to_committee(action, days_late=late)
    theirs = task(other_unit, ciso, title="Patch the gateway")
    escalate_to_committee(theirs, days_late=60)
    finished = task(other_unit, ciso, title="Done already")
    escalate_to_committee(finished, days_late=200)
    Action.objects.filter(pk=finished.pk).update(status=Action.Status.VERIFIED)

    services.assemble_agenda(actor=secretary, meeting=meeting)

    first, second = meeting.items.filter(kind=K.ESCALATED_ACTION).order_by("position")
    # Units in order of their oldest: unit's is 90 days late, other_unit's 60.
    assert (first.unit, second.unit) == (unit, other_unit)
    assert first.title == f"{unit.code} {unit.name}: actions escalated to the committee"
    oldest = [mine[2], mine[0], mine[1]]  # 90, 40 and 35 days late
    references = ", ".join(a.reference for a in oldest)
    assert first.summary == (
        f"5 actions overdue a month or more; the oldest due "
        f"{(timezone.localdate() - dt.timedelta(days=90)).isoformat()}, 90 days overdue. "
        f"{references} and 2 more."
    )
    assert second.summary.startswith("1 action overdue a month or more")
    assert second.summary.endswith(f"60 days overdue. {theirs.reference}.")


def test_a_units_item_stays_current_until_the_agenda_is_published(
    committee, meeting, unit, ciso, secretary
):
    first = task(unit, ciso, title="Rotate keys")
    escalate_to_committee(first, days_late=31)
    services.assemble_agenda(actor=secretary, meeting=meeting)
    item = meeting.items.get(kind=K.ESCALATED_ACTION)
    assert item.summary.startswith("1 action ")

    escalate_to_committee(task(unit, ciso, title="Patch"), days_late=45)
    assert services.assemble_agenda(actor=secretary, meeting=meeting) == 0  # the same item
    item.refresh_from_db()
    assert item.summary.startswith("2 actions ") and "45 days overdue" in item.summary
    assert item.history.count() == 2  # added, then brought up to date

    services.publish_agenda(actor=secretary, meeting=meeting)
    escalate_to_committee(task(unit, ciso, title="Later"), days_late=50)
    assemble_next_agendas()  # the hourly task no longer touches a published agenda
    item.refresh_from_db()
    assert item.summary.startswith("2 actions ")


def test_a_units_item_says_so_when_nothing_is_escalated_any_more(
    committee, meeting, unit, ciso, secretary
):
    action = task(unit, ciso, title="Rotate keys")
    escalate_to_committee(action, days_late=31)
    services.assemble_agenda(actor=secretary, meeting=meeting)
    Action.objects.filter(pk=action.pk).update(status=Action.Status.VERIFIED)
    services.assemble_agenda(actor=secretary, meeting=meeting)
    item = meeting.items.get(kind=K.ESCALATED_ACTION)
    assert item.said == NONE_LEFT
    assert item.summary == "No action of this unit is escalated to the committee any more."


def test_a_units_item_the_secretariat_removed_stays_removed(
    committee, meeting, unit, ciso, secretary
):
    escalate_to_committee(task(unit, ciso, title="Rotate keys"), days_late=31)
    services.assemble_agenda(actor=secretary, meeting=meeting)
    item = meeting.items.get(kind=K.ESCALATED_ACTION)
    services.remove_agenda_item(actor=secretary, meeting=meeting, item=item, reason="Known")
    escalate_to_committee(task(unit, ciso, title="Patch"), days_late=45)
    assert services.assemble_agenda(actor=secretary, meeting=meeting) == 0
    item.refresh_from_db()
    assert item.removed_at is not None and item.summary.startswith("1 action ")


@pytest.mark.django_db
def test_agenda_items_carry_only_the_index_their_reads_use():
    """Every read of items is one meeting's; thousands are written at once."""
    assert indexed_columns(AgendaItem) == {("meeting_id", "source_key")}
    assert indexed_columns(AgendaItem.history.model) == {
        ("id",),
        ("history_date",),
        ("history_user_id",),
    }


def test_drafts_drop_the_escalated_items_they_held_one_action_at_a_time(
    committee, unit, ciso, secretary
):
    """The data migration to one item a unit: a draft's per-action items come off (kept, marked
    removed); a published agenda keeps what it published."""
    from django.apps import apps

    migration = importlib.import_module("committee.migrations.0006_escalated_items_by_unit")
    draft = make_meeting(committee, days=10)
    published = make_meeting(committee, days=40, status=Meeting.Status.PUBLISHED)
    action = task(unit, ciso, title="Rotate keys")
    for meeting in (draft, published):
        AgendaItem.objects.create(
            meeting=meeting,
            position=1,
            kind=K.ESCALATED_ACTION,
            source_key=f"action:{action.pk}",
            title=action.reference,
            unit=unit,
            action=action,
        )
    migration.take_off_per_action_items(apps, None)
    assert draft.items.get().removed_at is not None
    assert published.items.get().removed_at is None
