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
# docs/architecture.md (Lifecycles), written out by hand (not read from the code under test):
# reported → triaged → investigating → contained → resolved → closed (reopen allowed).
DESIGN_GRAPH = {
    ("reported", "triage"): "triaged",
    ("triaged", "investigate"): "investigating",
    ("investigating", "contain"): "contained",
    ("contained", "resolve"): "resolved",
    ("resolved", "close"): "closed",
    ("resolved", "reopen"): "investigating",
    ("closed", "reopen"): "investigating",
}
ACTS = ["triage", "investigate", "contain", "resolve", "close", "reopen"]


def give_proof(incident, actor):
    services.update_incident(actor=actor, incident=incident, root_cause="Shared admin password")
    services.add_measure(
        actor=actor,
        incident=incident,
        description="Enforce MFA",
        criteria={"internet_facing": True, "mfa_enforced": False},
    )


def walk_to(incident, target, actor):
    """Take an incident along the main path to `target` (closing with its proof)."""
    acts = dict(zip(PATH[1:], ACTS, strict=False))
    for step in PATH[PATH.index(incident.status) + 1 : PATH.index(target) + 1]:
        if step == S.CLOSED:
            give_proof(incident, actor)
        incident = services.transition_incident(actor=actor, incident=incident, act=acts[step])
    return incident


@pytest.mark.parametrize("start", PATH)
@pytest.mark.parametrize("act", ACTS)
def test_every_move_follows_the_design(incident, bu_member, start, act):
    incident = walk_to(incident, start, bu_member)
    target = DESIGN_GRAPH.get((start, act))
    if target is not None:
        if target == S.CLOSED:
            give_proof(incident, bu_member)
        moved = services.transition_incident(actor=bu_member, incident=incident, act=act)
        assert moved.status == target
    else:
        with pytest.raises(ValidationError) as excinfo:
            services.transition_incident(actor=bu_member, incident=incident, act=act)
        message = excinfo.value.message_dict["status"][0]
        assert f"Cannot {act} an incident that is {start}" in message
        allowed = [a for (s, a) in DESIGN_GRAPH if s == start]
        assert message.endswith(f"From {start} you may: {', '.join(allowed)}.")
        incident.refresh_from_db()
        assert incident.status == start


def test_closing_needs_root_cause_and_a_measure(incident, bu_member):
    incident = walk_to(incident, S.RESOLVED, bu_member)
    with pytest.raises(ValidationError) as excinfo:
        services.transition_incident(actor=bu_member, incident=incident, act="close")
    assert set(excinfo.value.message_dict) == {"root_cause", "measures"}
    services.update_incident(actor=bu_member, incident=incident, root_cause="Reused password")
    with pytest.raises(ValidationError) as excinfo:
        services.transition_incident(actor=bu_member, incident=incident, act="close")
    assert set(excinfo.value.message_dict) == {"measures"}
    services.add_measure(actor=bu_member, incident=incident, description="Rotate and enforce MFA")
    closed = services.transition_incident(actor=bu_member, incident=incident, act="close")
    assert closed.status == S.CLOSED
    assert closed.closed_at is not None


def test_reopening_a_closed_incident(incident, bu_member):
    incident = walk_to(incident, S.CLOSED, bu_member)
    with pytest.raises(ValidationError):
        services.update_incident(actor=bu_member, incident=incident, title="Edited after closing")
    with pytest.raises(ValidationError):
        services.add_measure(actor=bu_member, incident=incident, description="Late idea")
    with pytest.raises(ValidationError):  # "investigate" is not a way to reopen
        services.transition_incident(actor=bu_member, incident=incident, act="investigate")
    reopened = services.transition_incident(
        actor=bu_member, incident=incident, act="reopen", note="New evidence"
    )
    assert reopened.status == S.INVESTIGATING
    assert reopened.closed_at is None
    assert AuditEvent.objects.filter(verb="incident.reopened").count() == 1


def test_the_timeline_records_every_status_and_severity_change(incident, bu_member):
    services.transition_incident(actor=bu_member, incident=incident, act="triage")
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
# identified → assessed → treating → monitored → retired, and a monitored risk treated again.
RISK_DESIGN = {
    ("identified", "assess"): "assessed",
    ("assessed", "treat"): "treating",
    ("treating", "monitor"): "monitored",
    ("monitored", "treat"): "treating",
    ("monitored", "retire"): "retired",
}


@pytest.mark.parametrize("start", list(R))
@pytest.mark.parametrize("act", ["assess", "treat", "monitor", "retire"])
def test_every_risk_move_follows_the_design(a_risk, bu_member, start, act, settings):
    Risk.objects.filter(pk=a_risk.pk).update(status=start, above_appetite=False)
    a_risk.refresh_from_db()
    target = RISK_DESIGN.get((start, act))
    if target is not None:
        assert services.transition_risk(actor=bu_member, risk=a_risk, act=act).status == target
    else:
        with pytest.raises(ValidationError) as excinfo:
            services.transition_risk(actor=bu_member, risk=a_risk, act=act)
        assert f"Cannot {act} a risk that is {start}" in excinfo.value.message_dict["status"][0]


def test_a_unit_cannot_accept_or_retire_a_risk_above_appetite(unit, bu_member, ciso, settings):
    from django.core.exceptions import PermissionDenied

    from tests.cases.conftest import risk

    settings.RISK_APPETITE_SCORE = 12
    r = risk(unit, bu_member, likelihood=5, impact=5)
    assert r.above_appetite
    with pytest.raises(PermissionDenied):
        services.reassess_risk(actor=bu_member, risk=r, treatment=Risk.Treatment.ACCEPT)
    with pytest.raises(PermissionDenied):
        services.reassess_risk(actor=bu_member, risk=r, residual_likelihood=1)
    services.reassess_risk(actor=bu_member, risk=r, residual_impact=5, title="Worse than thought")
    Risk.objects.filter(pk=r.pk).update(status=R.MONITORED)
    r.refresh_from_db()
    with pytest.raises(PermissionDenied):
        services.transition_risk(actor=bu_member, risk=r, act="retire")
    # The CISO, whose domain it is, may accept it.
    accepted = services.reassess_risk(actor=ciso, risk=r, treatment=Risk.Treatment.ACCEPT)
    assert accepted.treatment == "accept"
    assert AuditEvent.objects.filter(verb="risk.reassessed", office="CISO").exists()


def test_review_date_moves_only_when_the_score_does(a_risk, bu_member):
    Risk.objects.filter(pk=a_risk.pk).update(next_review_on=timezone.localdate())
    a_risk.refresh_from_db()
    services.reassess_risk(actor=bu_member, risk=a_risk, title="Renamed")
    a_risk.refresh_from_db()
    assert a_risk.next_review_on == timezone.localdate()


def test_closing_waits_for_its_actions(unit, incident, bu_member, ciso):
    from actions import services as actions_services

    incident = walk_to(incident, S.RESOLVED, bu_member)
    give_proof(incident, bu_member)
    action = actions_services.create_action(
        actor=ciso,
        unit=unit,
        title="Rotate credentials",
        due_on=timezone.localdate() + timedelta(days=3),
        origin_incident=incident,
    )
    with pytest.raises(ValidationError) as excinfo:
        services.transition_incident(actor=bu_member, incident=incident, act="close")
    assert set(excinfo.value.message_dict) == {"actions"}
    for act in ("start", "submit"):
        actions_services.transition_action(actor=bu_member, action=action, act=act)
    actions_services.transition_action(actor=ciso, action=action, act="verify")
    assert (
        services.transition_incident(actor=bu_member, incident=incident, act="close").status
        == S.CLOSED
    )
