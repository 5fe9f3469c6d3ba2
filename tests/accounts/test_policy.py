"""Offices and delegations: an acting delegate holds the office inside the window, not outside it."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.utils import timezone

from accounts import policy
from accounts.models import Role
from systems.models import System
from tests.factories import DelegationFactory, OfficeFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def deputy():
    return UserFactory.create(username="deputy")


@pytest.fixture
def window(ciso, deputy):
    start = timezone.now() + timedelta(days=1)
    return DelegationFactory.create(
        office=OfficeFactory.create(code="CISO"),
        delegate=deputy,
        starts_at=start,
        ends_at=start + timedelta(days=7),
    )


def test_holder_holds_the_office(ciso):
    assert policy.holds_office(ciso, "CISO")
    assert policy.office_capacity(ciso, "CISO") == "holder"
    assert not policy.holds_office(ciso, "CQO")


def test_acting_delegate_holds_the_office_only_inside_the_window(window, deputy):
    before = window.starts_at - timedelta(seconds=1)
    inside = window.starts_at + timedelta(days=3)
    after = window.ends_at
    assert not policy.holds_office(deputy, "CISO", at=before)
    assert policy.office_capacity(deputy, "CISO", at=inside) == "acting"
    assert not policy.holds_office(deputy, "CISO", at=after)  # the end is exclusive
    with time_machine.travel(inside, tick=False):
        assert policy.holds_office(deputy, "CISO")
        assert [h.code for h in policy.offices_held(deputy)] == ["CISO"]
        assert policy.offices_held(deputy)[0].capacity == "acting"
    with time_machine.travel(after + timedelta(hours=1), tick=False):
        assert not policy.holds_office(deputy, "CISO")
        assert policy.offices_held(deputy) == []


def test_the_holder_keeps_the_office_while_a_delegate_acts(window, ciso):
    assert policy.holds_office(ciso, "CISO", at=window.starts_at + timedelta(days=1))


def test_a_revoked_delegation_ends_at_revocation(window, deputy):
    inside = window.starts_at + timedelta(days=2)
    window.revoked_at = inside
    window.save()
    assert policy.holds_office(deputy, "CISO", at=inside - timedelta(minutes=1))
    assert not policy.holds_office(deputy, "CISO", at=inside + timedelta(minutes=1))


def test_a_deactivated_person_holds_nothing(ciso):
    ciso.is_active = False
    ciso.save()
    assert not policy.holds_office(ciso, "CISO")
    assert policy.offices_held(ciso) == []


def test_acting_office_names_the_first_held(chair, ciso):
    assert policy.acting_office(ciso, "CEO", "CISO") == "CISO"
    assert policy.acting_office(chair, "CEO", "CISO") == "CEO"
    assert policy.acting_office(UserFactory.create(), "CEO", "CISO") is None


@pytest.mark.parametrize(
    ("who", "may_read"),
    [
        ("chair", True),
        ("ciso", True),
        ("cqo", True),
        ("auditor", True),
        ("secretary", False),
        ("bu_head", False),
        ("bu_member", False),
        ("other_bu_member", False),
    ],
)
def test_who_may_read_the_audit_trail(request, who, may_read):
    assert policy.can_read_audit_trail(request.getfixturevalue(who)) is may_read


@pytest.mark.parametrize(
    ("who", "may_delegate_ciso"),
    [
        ("chair", True),
        ("ciso", True),
        ("cqo", False),
        ("auditor", False),
        ("secretary", False),
        ("bu_member", False),
    ],
)
def test_who_may_delegate_the_ciso_office(request, ciso, who, may_delegate_ciso):
    office = OfficeFactory.create(code="CISO")
    assert policy.can_delegate(request.getfixturevalue(who), office) is may_delegate_ciso


def test_an_acting_delegate_may_not_delegate_further(window, deputy):
    with time_machine.travel(window.starts_at + timedelta(days=1), tick=False):
        assert policy.holds_office(deputy, "CISO")
        assert not policy.can_delegate(deputy, window.office)


def test_units_of_counts_membership_and_headship(bu_head, bu_member, unit, other_unit):
    assert list(policy.units_of(bu_member)) == [unit]
    assert list(policy.units_of(bu_head)) == [unit]


def test_an_acting_ceo_may_not_delegate_or_extend_the_ceo_office(chair):
    deputy = UserFactory.create(username="acting-ceo")
    ceo = OfficeFactory.create(code="CEO")
    DelegationFactory.create(office=ceo, delegate=deputy)
    assert policy.holds_office(deputy, "CEO")
    assert not policy.can_delegate(deputy, ceo)
    assert not policy.can_delegate(deputy, OfficeFactory.create(code="CQO"))
    assert policy.can_delegate(chair, OfficeFactory.create(code="CQO"))


def test_offices_held_reports_the_latest_end_of_overlapping_delegations(ciso):
    deputy = UserFactory.create(username="deputy2")
    office = OfficeFactory.create(code="CISO")
    now = timezone.now()
    late = DelegationFactory.create(
        office=office,
        delegate=deputy,
        starts_at=now - timedelta(days=3),
        ends_at=now + timedelta(days=9),
    )
    DelegationFactory.create(
        office=office,
        delegate=deputy,
        starts_at=now - timedelta(days=1),
        ends_at=now + timedelta(days=2),
    )
    [held] = policy.offices_held(deputy)
    assert held.until == late.ends_at


ROLE_OF = {
    "auditor": Role.AUDITOR,
    "secretary": Role.SECRETARY,
    "cxo": Role.CXO,
    "member": Role.BU_MEMBER,
}
WINDOW = {  # delegation of the CISO office: start, end, revoked, in days from now
    "acting": (-1, 1, None),
    "expired": (-3, -1, None),
    "revoked": (-1, 1, -0.1),
    "future": (1, 3, None),
}


@pytest.mark.parametrize("setup", ["nothing", *ROLE_OF, "holder", "cfo", *WINDOW])
def test_reads_everything_says_what_roles_offices_and_delegations_say(setup):
    """reads_everything is one plain statement; it must agree with the roles, the offices held
    and DelegationQuerySet.active in every case."""
    person = UserFactory.create(username=f"p-{setup}")
    now = timezone.now()
    ciso, cfo = OfficeFactory.create(code="CISO"), OfficeFactory.create(code="CFO")
    if setup in ROLE_OF:
        person.groups.add(Group.objects.get_or_create(name=ROLE_OF[setup])[0])
    elif setup in {"holder", "cfo"}:
        office = ciso if setup == "holder" else cfo
        office.holder = person
        office.save()
    elif setup in WINDOW:
        starts, ends, revoked = WINDOW[setup]
        DelegationFactory.create(
            office=ciso,
            delegate=person,
            starts_at=now + timedelta(days=starts),
            ends_at=now + timedelta(days=ends),
            revoked_at=None if revoked is None else now + timedelta(days=revoked),
        )
    expected = bool(
        set(person.groups.values_list("name", flat=True)) & set(policy.OVERSIGHT_ROLES)
        or policy.acting_office(person, "CEO", "CISO", "CQO")
    )
    assert policy.reads_everything(person) is expected
    assert expected is (setup in {"auditor", "secretary", "cxo", "holder", "acting"})
    # visible() asks the same question in the statement that finds the person's units
    everything = not policy.visible(person, System).query.where  # no filter at all
    assert everything is expected


def test_a_locked_read_carries_the_grant_and_the_record_as_the_orm_reads_it(
    unit, ciso, bu_member, other_bu_member
):
    from django.db import transaction

    from actions.models import Action
    from tests.actions.conftest import task

    action = task(unit, ciso)
    with transaction.atomic():
        mine = policy.lock_with_grant(Action, action.pk, bu_member)
        theirs = policy.lock_with_grant(Action, action.pk, other_bu_member)
        missing = policy.lock_with_grant(Action, action.pk + 1000, bu_member)
    assert missing is None
    assert mine is not None and theirs is not None
    assert policy.holds_grant(bu_member, mine) is True
    assert policy.holds_grant(other_bu_member, theirs) is False
    # The answer rides on the record only for the person it was read for.
    assert policy.holds_grant(other_bu_member, mine) is False
    read = Action.objects.get(pk=action.pk)
    for field in Action._meta.concrete_fields:
        assert getattr(mine, field.attname) == getattr(read, field.attname), field.name
    assert mine.updated_at.tzinfo is not None and not mine._state.adding
