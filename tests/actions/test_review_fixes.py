"""Regression tests for defects a review found in actions, directives and chasing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.utils import timezone

from actions import chasing, services
from actions.models import Action, ChaseNotice, Digest, Directive
from config.errors import Conflict
from tests.actions.conftest import task

pytestmark = pytest.mark.django_db


def test_replanning_the_date_restarts_chasing(unit, ciso, bu_member):
    action = task(unit, ciso, assignee=bu_member)
    Action.objects.filter(pk=action.pk).update(due_on=timezone.localdate() - timedelta(days=8))
    chasing.chase_actions()
    action.refresh_from_db()
    assert action.escalation_level == 1
    with pytest.raises(Exception, match="already passed"):
        services.replan_action(
            actor=ciso, action=action, reason="x", due_on=timezone.localdate() - timedelta(days=1)
        )
    services.replan_action(
        actor=ciso,
        action=action,
        reason="New plan",
        due_on=timezone.localdate() + timedelta(days=5),
    )
    action.refresh_from_db()
    assert action.escalation_level == 0
    assert not action.chase_notices.exists()
    chasing.chase_actions()
    assert list(action.chase_notices.values_list("stage", flat=True)) == ["reminder_7d"]


def test_moving_to_another_unit_drops_the_old_assignee(unit, other_unit, ciso, bu_member):
    action = task(unit, ciso, assignee=bu_member)
    services.replan_action(actor=ciso, action=action, reason="Cloud owns it", unit=other_unit)
    action.refresh_from_db()
    assert action.assignee is None


def test_submitted_actions_wait_on_the_verifier_not_the_unit(unit, ciso, bu_member):
    action = task(unit, ciso, assignee=bu_member)
    services.transition_action(actor=bu_member, action=action, act="start")
    services.transition_action(actor=bu_member, action=action, act="submit")
    Action.objects.filter(pk=action.pk).update(due_on=timezone.localdate() - timedelta(days=10))
    chasing.chase_actions()
    assert not ChaseNotice.objects.filter(action=action).exists()


def test_a_directive_whose_last_action_is_cancelled_still_completes(
    unit, other_unit, ciso, bu_member
):
    directive = services.draft_directive(
        actor=ciso,
        title="x",
        body="y",
        deadline=timezone.localdate() + timedelta(days=9),
        units=[unit, other_unit],
    )
    directive = services.issue_directive(actor=ciso, directive=directive)
    first = directive.actions.get(unit=unit)
    second = directive.actions.get(unit=other_unit)
    for act in ("start", "submit"):
        services.transition_action(actor=bu_member, action=first, act=act)
    services.transition_action(actor=ciso, action=first, act="verify")
    services.transition_action(actor=ciso, action=second, act="cancel", note="Unit dissolved")
    directive.refresh_from_db()
    assert directive.status == Directive.Status.COMPLETED


def test_a_failed_mail_is_retried_not_lost(unit, ciso, bu_member, settings):
    action = task(unit, ciso, assignee=bu_member)
    Action.objects.filter(pk=action.pk).update(due_on=timezone.localdate() - timedelta(days=2))
    settings.EMAIL_BACKEND = "tests.actions.test_review_fixes.BrokenBackend"
    chasing.chase_actions()
    assert Digest.objects.filter(sent_at__isnull=True).count() == 1
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert chasing.send_digests() == 1
    assert len(mail.outbox) == 1


def test_a_measure_is_rolled_out_once(unit, other_unit, ciso, bu_member):
    from cases.matrix import load_nist_matrix
    from cases.services import add_measure, roll_out_measure
    from tests.cases.conftest import report
    from tests.systems.conftest import register

    load_nist_matrix()
    register(unit, "share-tool", internet_facing=True)
    incident = report(unit, bu_member)
    measure = add_measure(
        actor=bu_member, incident=incident, description="MFA", criteria={"internet_facing": True}
    )
    deadline = timezone.localdate() + timedelta(days=9)
    roll_out_measure(actor=ciso, measure=measure, deadline=deadline)
    with pytest.raises(Conflict):
        roll_out_measure(actor=ciso, measure=measure, deadline=deadline)


class BrokenBackend(BaseEmailBackend):
    """A mail server that is down."""

    def send_messages(self, messages):
        raise ConnectionRefusedError("smtp down")
