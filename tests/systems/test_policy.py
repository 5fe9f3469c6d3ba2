"""Who may do what to a system: a truth table per role, for their own unit and another."""

from __future__ import annotations

import pytest

from systems import policy
from systems.models import SuspensionOrder

ROLES = ["chair", "ciso", "cqo", "secretary", "auditor", "bu_head", "bu_member", "other_bu_member"]

SEES_PUBSEC_SYSTEM = {
    "chair": True,
    "ciso": True,
    "cqo": True,
    "secretary": True,
    "auditor": True,
    "bu_head": True,
    "bu_member": True,
    "other_bu_member": False,
}
SEES_CLOUD_SYSTEM = {
    "chair": True,
    "ciso": True,
    "cqo": True,
    "secretary": True,
    "auditor": True,
    "bu_head": False,
    "bu_member": False,
    "other_bu_member": True,
}
REGISTERS_FOR_PUBSEC = {
    "chair": False,
    "ciso": False,
    "cqo": False,
    "secretary": False,
    "auditor": False,
    "bu_head": True,
    "bu_member": True,
    "other_bu_member": False,
}
CHANGES_PUBSEC_SYSTEM = REGISTERS_FOR_PUBSEC
SUSPENDS = {
    "chair": True,
    "ciso": True,
    "cqo": False,
    "secretary": False,
    "auditor": False,
    "bu_head": False,
    "bu_member": False,
    "other_bu_member": False,
}

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("role", ROLES)
def test_truth_table(request, role, system, unit, other_system):
    user = request.getfixturevalue(role)
    visible = set(policy.visible_systems(user))
    assert (system in visible) is SEES_PUBSEC_SYSTEM[role]
    assert (other_system in visible) is SEES_CLOUD_SYSTEM[role]
    assert policy.can_register_system(user, unit) is REGISTERS_FOR_PUBSEC[role]
    assert policy.can_change_system(user, system) is CHANGES_PUBSEC_SYSTEM[role]
    assert policy.can_suspend(user, system) is SUSPENDS[role]
    order = SuspensionOrder(system=system)
    assert policy.can_lift(user, order) is SUSPENDS[role]


def test_an_acting_ciso_may_suspend(system):
    from tests.factories import DelegationFactory, OfficeFactory, UserFactory

    deputy = UserFactory.create(username="deputy-ciso")
    assert not policy.can_suspend(deputy, system)
    DelegationFactory.create(office=OfficeFactory.create(code="CISO"), delegate=deputy)
    assert policy.can_suspend(deputy, system)
    assert policy.suspending_office(deputy) == "CISO"


def test_a_person_granted_one_system_sees_only_it(system, other_system, bu_member):
    from guardian.shortcuts import assign_perm

    assign_perm("systems.view_system", bu_member, other_system)
    assert set(policy.visible_systems(bu_member)) == {system, other_system}
