"""Office and token services: policy first, validation, and an audit event under the right office."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from accounts import services
from accounts.models import Delegation
from audit.models import AuditEvent
from tests.factories import OfficeFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def deputy():
    return UserFactory.create(username="deputy")


def _window():
    start = timezone.now()
    return {"starts_at": start, "ends_at": start + timedelta(days=5)}


def test_ciso_delegates_own_office_and_it_is_audited(ciso, deputy):
    office = OfficeFactory.create(code="CISO")
    delegation = services.delegate_office(
        actor=ciso, office=office, delegate=deputy, reason="Overseas audit", **_window()
    )
    event = AuditEvent.objects.get(verb="office.delegated")
    assert event.actor == ciso
    assert event.office == "CISO"
    assert event.target_id == str(delegation.pk)
    assert event.details["delegate"] == "deputy"


def test_chair_delegates_under_the_ceo_office(chair, ciso, deputy):
    services.delegate_office(
        actor=chair,
        office=OfficeFactory.create(code="CISO"),
        delegate=deputy,
        reason="CISO ill",
        **_window(),
    )
    assert AuditEvent.objects.get(verb="office.delegated").office == "CEO"


@pytest.mark.parametrize("who", ["cqo", "auditor", "bu_member", "secretary"])
def test_others_may_not_delegate(request, ciso, deputy, who):
    with pytest.raises(PermissionDenied):
        services.delegate_office(
            actor=request.getfixturevalue(who),
            office=OfficeFactory.create(code="CISO"),
            delegate=deputy,
            reason="x",
            **_window(),
        )
    assert not Delegation.objects.exists()
    assert not AuditEvent.objects.filter(verb="office.delegated").exists()


def test_bad_windows_and_reasons_are_refused(ciso, deputy):
    office = OfficeFactory.create(code="CISO")
    start = timezone.now()
    with pytest.raises(ValidationError) as excinfo:
        services.delegate_office(
            actor=ciso, office=office, delegate=deputy, reason="x", starts_at=start, ends_at=start
        )
    assert "ends_at" in excinfo.value.message_dict
    with pytest.raises(ValidationError) as excinfo:
        services.delegate_office(
            actor=ciso, office=office, delegate=deputy, reason="  ", **_window()
        )
    assert "reason" in excinfo.value.message_dict
    assert not Delegation.objects.exists()


def test_revoking_keeps_the_row_and_is_audited(ciso, deputy):
    delegation = services.delegate_office(
        actor=ciso,
        office=OfficeFactory.create(code="CISO"),
        delegate=deputy,
        reason="Leave",
        **_window(),
    )
    services.revoke_delegation(actor=ciso, delegation=delegation, reason="Back early")
    delegation.refresh_from_db()
    assert delegation.revoked_at is not None
    assert AuditEvent.objects.filter(verb="office.delegation_revoked").count() == 1
    with pytest.raises(ValidationError):
        services.revoke_delegation(actor=ciso, delegation=delegation, reason="again")


def test_issue_api_token_is_audited_without_the_secret(bu_member):
    instance, token = services.issue_api_token(actor=None, user=bu_member, days=30)
    event = AuditEvent.objects.get(verb="api_token.issued")
    assert event.details["token_key"] == instance.token_key
    assert token not in str(event.details)
    assert instance.expiry is not None


def test_a_person_may_not_issue_tokens_for_someone_else(bu_member, other_bu_member):
    with pytest.raises(PermissionDenied):
        services.issue_api_token(actor=bu_member, user=other_bu_member)


def test_nobody_delegates_to_themselves(chair):
    with pytest.raises(ValidationError) as excinfo:
        services.delegate_office(
            actor=chair,
            office=OfficeFactory.create(code="CQO"),
            delegate=chair,
            reason="x",
            **_window(),
        )
    assert "delegate" in excinfo.value.message_dict


def test_revoking_needs_a_reason(ciso, deputy):
    delegation = services.delegate_office(
        actor=ciso,
        office=OfficeFactory.create(code="CISO"),
        delegate=deputy,
        reason="Leave",
        **_window(),
    )
    with pytest.raises(ValidationError):
        services.revoke_delegation(actor=ciso, delegation=delegation, reason=" ")


def test_every_token_expires(bu_member):
    instance, _ = services.issue_api_token(actor=None, user=bu_member)
    assert instance.expiry is not None
    assert (instance.expiry - timezone.now()).days in {89, 90}


def test_membership_changes_are_audited(unit):
    newcomer = UserFactory.create(username="newcomer")
    services.add_member(actor=None, unit=unit, user=newcomer)
    event = AuditEvent.objects.filter(verb="unit.access_changed").latest("pk")
    assert event.details == {"added": ["newcomer"], "removed": []}
    assert unit.group is not None
    assert unit.group.user_set.filter(pk=newcomer.pk).exists()
