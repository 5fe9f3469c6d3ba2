"""Actions fixtures: created through the service, as directives and roll-outs will create them."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from accounts.models import BusinessUnit, User
from actions import services
from actions.chasing import COMMITTEE_STAGE
from actions.models import Action, ChaseNotice


def task(unit: BusinessUnit, issuer: User, **fields: Any) -> Action:
    defaults: dict[str, Any] = {
        "title": "Enforce MFA on the sharing tool",
        "due_on": timezone.localdate() + timedelta(days=14),
    }
    return services.create_action(actor=issuer, unit=unit, **{**defaults, **fields})


def overdue(unit: BusinessUnit, issuer: User, assignee: User, count: int, days: int) -> None:
    """`count` of the unit's actions for `assignee`, each `days` past its due date."""
    for _ in range(count):
        action = task(unit, issuer, assignee=assignee)
        Action.objects.filter(pk=action.pk).update(
            due_on=timezone.localdate() - timedelta(days=days)
        )


def escalate_to_committee(action: Action, *, days_late: int | None = None) -> None:
    """What the chase's last rung leaves: the committee stage reached, level 3; `days_late`
    moves the due date back that far."""
    late = {} if days_late is None else {"due_on": timezone.localdate() - timedelta(days_late)}
    Action.objects.filter(pk=action.pk).update(escalation_level=3, **late)
    ChaseNotice.objects.create(action=action, stage=COMMITTEE_STAGE)


@pytest.fixture
def action(unit, bu_head, bu_member, ciso) -> Action:
    return task(unit, ciso)


@pytest.fixture
def other_action(other_unit, other_bu_member, ciso) -> Action:
    return task(other_unit, ciso, title="Rotate cloud keys")
