"""The criteria language: exactly the matching systems, and a clear error for a bad criterion."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from systems import selectors
from tests.factories import BusinessUnitFactory
from tests.systems.conftest import register

pytestmark = pytest.mark.django_db


@pytest.fixture
def register_of_systems(unit):
    cloud = BusinessUnitFactory.create(code="CLOUD")
    return {
        "a": register(unit, "a", internet_facing=True, mfa_enforced=False, criticality="high"),
        "b": register(unit, "b", internet_facing=True, mfa_enforced=True, criticality="critical"),
        "c": register(
            unit, "c", internet_facing=False, handles_personal_data=True, criticality="low"
        ),
        "d": register(cloud, "d", internet_facing=True, mfa_enforced=False, environment="staging"),
        "e": register(cloud, "e", internet_facing=True, mfa_enforced=False, status="planned"),
        "r": register(unit, "r", internet_facing=True, mfa_enforced=False, status="operational"),
    }


def codes(criteria):
    return sorted(s.code for s in selectors.systems_matching(criteria))


@pytest.mark.parametrize(
    ("criteria", "expected"),
    [
        ({"internet_facing": True, "mfa_enforced": False}, ["a", "d", "e", "r"]),
        (
            {"internet_facing": True, "mfa_enforced": False, "environment": "production"},
            ["a", "e", "r"],
        ),
        ({"handles_personal_data": True}, ["c"]),
        ({"criticality": ["high", "critical"]}, ["a", "b"]),
        ({"criticality_at_least": "high"}, ["a", "b"]),
        ({"units": ["CLOUD"]}, ["d", "e"]),
        ({"status": "planned"}, ["e"]),
        ({"internet_facing": False}, ["c"]),
    ],
)
def test_criteria_select_exactly_the_matching_systems(register_of_systems, criteria, expected):
    assert codes(criteria) == expected


def test_retired_systems_are_left_out_unless_asked_for(register_of_systems):
    from systems.models import System

    System.objects.filter(code="r").update(status="retired")
    assert "r" not in codes({"internet_facing": True})
    assert codes({"status": ["retired"]}) == ["r"]


@pytest.mark.parametrize(
    ("criteria", "bad_key"),
    [
        ({"internet_facing": "yes"}, "internet_facing"),
        ({"criticality": []}, "criticality"),
        ({"criticality": ["huge"]}, "criticality"),
        ({"environment": 3}, "environment"),
        ({"units": "PUBSEC"}, "units"),
        ({"criticality_at_least": "extreme"}, "criticality_at_least"),
        ({"colour": "blue"}, "colour"),
        ({}, "criteria"),
        (["internet_facing"], "criteria"),
    ],
)
def test_bad_criteria_name_the_key(criteria, bad_key):
    with pytest.raises(ValidationError) as excinfo:
        selectors.systems_matching(criteria)
    assert bad_key in excinfo.value.message_dict
