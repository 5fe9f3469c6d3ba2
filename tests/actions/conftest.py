"""Actions fixtures: created through the service, as directives and roll-outs will create them."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from accounts.models import BusinessUnit, User
from actions import services
from actions.models import Action


def task(unit: BusinessUnit, issuer: User, **fields: Any) -> Action:
    defaults: dict[str, Any] = {
        "title": "Enforce MFA on the sharing tool",
        "due_on": timezone.localdate() + timedelta(days=14),
    }
    return services.create_action(actor=issuer, unit=unit, **{**defaults, **fields})


@pytest.fixture
def action(unit, bu_head, bu_member, ciso) -> Action:
    return task(unit, ciso)


@pytest.fixture
def other_action(other_unit, other_bu_member, ciso) -> Action:
    return task(other_unit, ciso, title="Rotate cloud keys")
