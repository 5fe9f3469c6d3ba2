"""Directives: who issues them, set-based fan-out, completion, withdrawal and horizontal roll-out."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import BusinessUnit
from actions import policy, services
from actions.models import Action, Directive
from audit.models import AuditEvent
from config.errors import Conflict
from systems.models import System
from tests.factories import BusinessUnitFactory
from tests.systems.conftest import register
from tests.unchanged import unchanged

pytestmark = pytest.mark.django_db


def deadline():
    return timezone.localdate() + timedelta(days=30)


def draft(actor, **fields):
    defaults = {
        "title": "Enforce MFA",
        "body": "Turn on MFA for every account.",
        "deadline": deadline(),
    }
    return services.draft_directive(actor=actor, **{**defaults, **fields})


@pytest.mark.parametrize(
    ("role", "domain", "allowed"),
    [
        ("ciso", "security", True),
        ("ciso", "quality", False),
        ("cqo", "quality", True),
        ("cqo", "security", False),
        ("chair", "security", True),
        ("chair", "quality", True),
        ("chair", "other", True),
        ("secretary", "security", False),
        ("bu_head", "security", False),
        ("auditor", "quality", False),
    ],
)
def test_who_issues_directives(request, role, domain, allowed, unit):
    user = request.getfixturevalue(role)
    assert policy.can_issue_directive(user, domain) is allowed
    if not allowed:
        with pytest.raises(PermissionDenied):
            draft(user, domain=domain, units=[unit])


def test_issuing_to_units_tasks_each_unit(ciso, unit, other_unit, bu_member, other_bu_member):
    directive = services.issue_directive(
        actor=ciso, directive=draft(ciso, units=[unit, other_unit])
    )
    assert directive.status == Directive.Status.ISSUED
    actions = Action.objects.filter(directive=directive)
    assert sorted(a.unit.code for a in actions) == ["CLOUD", "PUBSEC"]
    assert all(a.issued_office == "CISO" and a.due_on == deadline() for a in actions)
    assert [a.unit.code for a in policy.visible_actions(bu_member)] == ["PUBSEC"]
    assert [a.unit.code for a in policy.visible_actions(other_bu_member)] == ["CLOUD"]
    assert AuditEvent.objects.get(verb="directive.issued").details == {"actions": 2, "units": 2}
    with pytest.raises(Conflict):
        services.issue_directive(actor=ciso, directive=directive)


def test_issuing_to_all_units(chair, unit, other_unit):
    BusinessUnitFactory.create(code="FINSOL")
    directive = services.issue_directive(actor=chair, directive=draft(chair, all_units=True))
    assert directive.actions.count() == BusinessUnit.objects.filter(is_active=True).count()


def test_issuing_by_criteria_tasks_each_matching_system(ciso, unit, other_unit):
    register(unit, "share-tool", internet_facing=True, mfa_enforced=False)
    register(other_unit, "cloud-console", internet_facing=True, mfa_enforced=False)
    register(unit, "intranet", internet_facing=False)
    directive = services.issue_directive(
        actor=ciso, directive=draft(ciso, criteria={"internet_facing": True, "mfa_enforced": False})
    )
    pairs = sorted(directive.actions.values_list("system__code", "unit__code"))
    assert pairs == [("cloud-console", "CLOUD"), ("share-tool", "PUBSEC")]


def test_a_directive_is_addressed_exactly_once(ciso, unit):
    with pytest.raises(ValidationError):
        draft(ciso)
    with pytest.raises(ValidationError):
        draft(ciso, units=[unit], all_units=True)
    with pytest.raises(ValidationError):
        draft(ciso, criteria={"colour": "red"})


def _fan_out_queries(ciso, unit, count: int, tag: str) -> int:
    for n in range(count):
        System.objects.create(code=f"{tag}-{n}", name=tag, unit=unit, internet_facing=True)
    directive = draft(ciso, criteria={"units": [unit.code]}, title=tag)
    System.objects.exclude(code__startswith=tag).update(status="retired")
    with CaptureQueriesContext(connection) as ctx:
        services.issue_directive(actor=ciso, directive=directive)
    assert directive.actions.count() == count
    System.objects.filter(code__startswith=tag).update(status="retired")
    return len(ctx.captured_queries)


@pytest.mark.postgres_only
def test_fan_out_runs_the_same_queries_for_1000_systems_as_for_10(ciso, unit, bu_member):
    _fan_out_queries(ciso, unit, 1, "warm")  # first use creates counters and fills caches
    few = _fan_out_queries(ciso, unit, 10, "few")
    many = _fan_out_queries(ciso, unit, 1000, "many")
    assert many == few


def test_fan_out_to_1000_systems_grants_each_action_to_its_unit(ciso, unit, bu_member):
    _fan_out_queries(ciso, unit, 1000, "big")
    assert policy.visible_actions(bu_member).count() == 1000
    references = list(Action.objects.values_list("reference", flat=True))
    assert len(set(references)) == 1000


def test_completed_when_all_actions_are_verified(
    ciso, unit, other_unit, bu_member, other_bu_member
):
    directive = services.issue_directive(
        actor=ciso, directive=draft(ciso, units=[unit, other_unit])
    )
    for action in directive.actions.all():
        member = bu_member if action.unit == unit else other_bu_member
        services.transition_action(actor=member, action=action, act="start")
        services.transition_action(actor=member, action=action, act="submit")
        directive.refresh_from_db()
        assert directive.status == Directive.Status.ISSUED
        services.transition_action(actor=ciso, action=action, act="verify")
    directive.refresh_from_db()
    assert directive.status == Directive.Status.COMPLETED


def test_withdrawing_cancels_unfinished_actions(ciso, unit, other_unit, bu_member):
    directive = services.issue_directive(
        actor=ciso, directive=draft(ciso, units=[unit, other_unit])
    )
    with pytest.raises(ValidationError):
        services.withdraw_directive(actor=ciso, directive=directive, reason="")
    services.withdraw_directive(actor=ciso, directive=directive, reason="Superseded")
    statuses = set(directive.actions.values_list("status", flat=True))
    assert statuses == {"cancelled"}
    assert all("Superseded" in a.cancel_reason for a in directive.actions.all())
    first = directive.actions.order_by("pk")[0]
    assert first.history.count() == 2  # created, cancelled


def test_issue_over_the_api_honours_idempotency_key(login_as, ciso, unit):
    client = login_as(ciso)
    created = client.post(
        "/api/v1/directives/",
        {
            "title": "Patch VPN",
            "body": "Apply the vendor fix.",
            "deadline": str(deadline()),
            "units": ["PUBSEC"],
        },
        content_type="application/json",
    )
    assert created.status_code == 201, created.json()
    url = f"/api/v1/directives/{created.json()['id']}/issue/"
    first = client.post(url, {}, content_type="application/json", HTTP_IDEMPOTENCY_KEY="dir-1")
    again = client.post(url, {}, content_type="application/json", HTTP_IDEMPOTENCY_KEY="dir-1")
    assert first.status_code == again.status_code == 200
    assert again.json() == first.json()
    assert first.json()["actions"] == 1
    issued = Directive.objects.get(pk=created.json()["id"])
    with unchanged(issued, Action):
        assert client.post(url, {}, content_type="application/json").status_code == 409


def test_horizontal_roll_out_from_a_measure(
    login_as, ciso, unit, other_unit, bu_member, other_bu_member
):
    from cases.matrix import load_nist_matrix
    from cases.services import add_measure
    from tests.cases.conftest import report

    load_nist_matrix()
    failed = register(unit, "share-tool", internet_facing=True, mfa_enforced=False)
    register(other_unit, "cloud-console", internet_facing=True, mfa_enforced=False)
    incident = report(unit, bu_member, affected_systems=[failed])
    measure = add_measure(
        actor=bu_member,
        incident=incident,
        description="Enforce MFA on internet-facing systems",
        criteria={"internet_facing": True, "mfa_enforced": False},
    )
    client = login_as(ciso)
    response = client.post(
        f"/api/v1/incidents/{incident.pk}/rollout/",
        {"measure": measure.pk, "deadline": str(deadline())},
        content_type="application/json",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["actions"] == 2
    reached = sorted(
        Action.objects.filter(origin_measure=measure).values_list("system__code", flat=True)
    )
    assert reached == ["cloud-console", "share-tool"]  # not just the system that failed
    assert AuditEvent.objects.filter(verb="incident.measure_rolled_out").count() == 1
    client.logout()
    unit_client = login_as(bu_member)
    with unchanged(incident, measure, Directive, Action):
        refused = unit_client.post(
            f"/api/v1/incidents/{incident.pk}/rollout/",
            {"measure": measure.pk, "deadline": str(deadline())},
            content_type="application/json",
        )
    assert refused.status_code == 403
