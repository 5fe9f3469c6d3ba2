"""Cases fixtures: incidents and risks made through the services, as the product makes them."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from accounts.models import BusinessUnit, User
from cases import services
from cases.matrix import load_nist_matrix
from cases.models import Incident, Risk


@pytest.fixture(autouse=True)
def risk_matrix(db) -> None:
    # A transactional test empties every table, the migration's matrix rows included.
    load_nist_matrix()


def report(unit: BusinessUnit, reporter: User, **fields: Any) -> Incident:
    defaults: dict[str, Any] = {
        "title": "Unauthorized access to the sharing tool",
        "description": "Logins from an unknown network.",
        "category": Incident.Category.UNAUTHORIZED_ACCESS,
        "severity": "high",
        "detected_at": timezone.now() - timedelta(hours=2),
    }
    return services.report_incident(actor=reporter, unit=unit, **{**defaults, **fields})


def risk(unit: BusinessUnit, owner: User, **fields: Any) -> Risk:
    defaults: dict[str, Any] = {"title": "Stale accounts", "likelihood": 4, "impact": 4}
    return services.register_risk(actor=owner, unit=unit, owner=owner, **{**defaults, **fields})


@pytest.fixture
def incident(unit, bu_member, bu_head) -> Incident:
    return report(unit, bu_member)


@pytest.fixture
def other_incident(other_unit, other_bu_member) -> Incident:
    return report(other_unit, other_bu_member, title="Cloud console exposed")


@pytest.fixture
def a_risk(unit, bu_member, bu_head) -> Risk:
    return risk(unit, bu_member)
