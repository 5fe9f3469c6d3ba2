"""Lifecycles: every illegal move is refused naming the allowed ones; closing needs its proof."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from audit.models import AuditEvent
from cases import services
from cases.models import Incident, Risk, TimelineEntry

pytestmark = pytest.mark.django_db

S = Incident.Status
PATH = [S.REPORTED, S.TRIAGED, S.INVESTIGATING, S.CONTAINED, S.RESOLVED, S.CLOSED]


def walk_to(incident, target, actor):
    """Take an incident along the main path to `target` (closing with its proof)."""
    for step in PATH[PATH.index(incident.status) + 1 : PATH.index(target) + 1]:
        if step == S.CLOSED:
            services.update_incident(
                actor=actor, incident=incident, root_cause="Shared admin password"
            )
            services.add_measure(
                actor=actor,
                incident=incident,
                description="Enforce MFA",
                criteria={"internet_facing": True, "mfa_enforced": False},
            )
        incident = services.transition_incident(actor=actor, incident=incident, to=step)
    return incident


@pytest.mark.parametrize("start", list(S))
@pytest.mark.parametrize("target", list(S))
def test_every_transition_is_allowed_or_refused_by_the_table(incident, bu_member, start, target):
    incident = (
        walk_to(incident, start, bu_member)
        if start != S.CLOSED
        else walk_to(incident, S.CLOSED, bu_member)
    )
    allowed = services.INCIDENT_TRANSITIONS[start]
    if target in allowed:
        if target == S.CLOSED:  # the proof closing needs; refusing without it is tested below
            services.update_incident(actor=bu_member, incident=incident, root_cause="Weak password")
            services.add_measure(actor=bu_member, incident=incident, description="Enforce MFA")
        moved = services.transition_incident(actor=bu_member, incident=incident, to=target)
        assert moved.status == target
    else:
        with pytest.raises(ValidationError) as excinfo:
            services.transition_incident(actor=bu_member, incident=incident, to=target)
        message = excinfo.value.message_dict["status"][0]
        assert f"Cannot go from {start} to {target}" in message
        for name in allowed:
            assert name in message
        incident.refresh_from_db()
        assert incident.status == start


def test_closing_needs_root_cause_and_a_measure(incident, bu_member):
    incident = walk_to(incident, S.RESOLVED, bu_member)
    with pytest.raises(ValidationError) as excinfo:
        services.transition_incident(actor=bu_member, incident=incident, to=S.CLOSED)
    assert set(excinfo.value.message_dict) == {"root_cause", "measures"}
    services.update_incident(actor=bu_member, incident=incident, root_cause="Reused password")
    with pytest.raises(ValidationError) as excinfo:
        services.transition_incident(actor=bu_member, incident=incident, to=S.CLOSED)
    assert set(excinfo.value.message_dict) == {"measures"}
    services.add_measure(actor=bu_member, incident=incident, description="Rotate and enforce MFA")
    closed = services.transition_incident(actor=bu_member, incident=incident, to=S.CLOSED)
    assert closed.status == S.CLOSED
    assert closed.closed_at is not None


def test_reopening_a_closed_incident(incident, bu_member):
    incident = walk_to(incident, S.CLOSED, bu_member)
    with pytest.raises(ValidationError):
        services.update_incident(actor=bu_member, incident=incident, title="Edited after closing")
    reopened = services.transition_incident(
        actor=bu_member, incident=incident, to=S.INVESTIGATING, note="New evidence"
    )
    assert reopened.closed_at is None
    assert AuditEvent.objects.filter(verb="incident.reopened").count() == 1


def test_the_timeline_records_every_status_and_severity_change(incident, bu_member):
    services.transition_incident(actor=bu_member, incident=incident, to=S.TRIAGED)
    services.change_severity(
        actor=bu_member, incident=incident, severity="critical", reason="Data left the network"
    )
    entries = list(incident.timeline.values_list("kind", "from_value", "to_value"))
    assert entries == [
        (TimelineEntry.Kind.STATUS, "", "reported"),
        (TimelineEntry.Kind.STATUS, "reported", "triaged"),
        (TimelineEntry.Kind.SEVERITY, "high", "critical"),
    ]


def test_timeline_entries_cannot_be_in_the_future(incident, bu_member):
    with pytest.raises(ValidationError) as excinfo:
        services.add_timeline_entry(
            actor=bu_member,
            incident=incident,
            text="Will happen",
            at=timezone.now() + timedelta(minutes=5),
        )
    assert "at" in excinfo.value.message_dict
    past = services.add_timeline_entry(
        actor=bu_member,
        incident=incident,
        text="Firewall logs pulled",
        at=timezone.now() - timedelta(hours=1),
    )
    assert incident.timeline.first() == past  # ordered by when it happened


def test_detection_cannot_be_in_the_future_or_before_occurrence(unit, bu_member):
    from tests.cases.conftest import report

    with pytest.raises(ValidationError) as excinfo:
        report(unit, bu_member, detected_at=timezone.now() + timedelta(days=1))
    assert "detected_at" in excinfo.value.message_dict
    now = timezone.now()
    with pytest.raises(ValidationError) as excinfo:
        report(
            unit,
            bu_member,
            detected_at=now - timedelta(days=2),
            occurred_at=now - timedelta(days=1),
        )
    assert "occurred_at" in excinfo.value.message_dict


def test_references_read_well_and_never_repeat(unit, bu_member):
    from tests.cases.conftest import report

    year = timezone.localdate().year
    refs = [report(unit, bu_member).reference for _ in range(3)]
    assert refs == [f"INC-{year}-0001", f"INC-{year}-0002", f"INC-{year}-0003"]


R = Risk.Status


@pytest.mark.parametrize("start", [R.IDENTIFIED, R.ASSESSED, R.TREATING, R.MONITORED, R.RETIRED])
@pytest.mark.parametrize("target", list(R))
def test_every_risk_transition_follows_the_table(a_risk, bu_member, start, target):
    Risk.objects.filter(pk=a_risk.pk).update(status=start)
    a_risk.refresh_from_db()
    allowed = services.RISK_TRANSITIONS[start]
    if target in allowed:
        assert services.transition_risk(actor=bu_member, risk=a_risk, to=target).status == target
    else:
        with pytest.raises(ValidationError) as excinfo:
            services.transition_risk(actor=bu_member, risk=a_risk, to=target)
        assert f"Cannot go from {start} to {target}" in excinfo.value.message_dict["status"][0]
