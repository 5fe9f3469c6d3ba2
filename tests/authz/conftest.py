"""The world the authorization tests start from: two units, every role, a committee."""

from __future__ import annotations

import pytest

from accounts.models import Office
from committee.models import CommitteeMember
from tests.authz.matrix import World
from tests.committee.conftest import build_committee
from tests.factories import BusinessUnitFactory, MembershipFactory, OfficeFactory, UserFactory

NAMED = ["member", "head", "other", "secretary", "ciso", "cqo", "chair", "auditor"]
FIXTURE = {"member": "bu_member", "head": "bu_head", "other": "other_bu_member"}


@pytest.fixture
def world(request, unit, other_unit) -> World:
    users = {role: request.getfixturevalue(FIXTURE.get(role, role)) for role in NAMED}
    cfo = UserFactory.create(username="cfo", roles=["cxo"])
    office = OfficeFactory.create(code="CFO", name="CFO")
    office.holder = cfo
    office.save()
    users["cfo"] = cfo
    users["admin"] = UserFactory.create(username="admin", is_superuser=True, is_staff=True)
    # Quality HQ is a unit of its own: its reviewers belong to neither unit the matrix uses.
    users["reviewer"] = UserFactory.create(username="reviewer", roles=["quality_reviewer"])
    MembershipFactory.create(
        user=users["reviewer"], unit=BusinessUnitFactory.create(code="QHQ", name="Quality HQ")
    )
    committee = build_committee(users["secretary"])
    CommitteeMember.objects.create(committee=committee, office=Office.objects.get(code="CFO"))
    return World(users=users, unit=unit, other_unit=other_unit, committee=committee)
