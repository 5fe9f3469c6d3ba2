"""Who may do what with an action: a truth table per role, own unit and another unit."""

from __future__ import annotations

import pytest

from actions import policy

pytestmark = pytest.mark.django_db

#                  sees own, sees other, creates for PUBSEC (security), progresses, verifies, re-plans
TABLE = {
    "chair": (True, True, True, False, True, True),
    "ciso": (True, True, True, False, True, True),
    "cqo": (True, True, False, False, False, False),
    "secretary": (True, True, False, False, False, False),
    "auditor": (True, True, False, False, False, False),
    "bu_head": (True, False, True, True, False, False),
    "bu_member": (True, False, True, True, False, False),
    "other_bu_member": (False, True, False, False, False, False),
}


@pytest.mark.parametrize("role", list(TABLE))
def test_truth_table(request, role, unit, action, other_action):
    user = request.getfixturevalue(role)
    sees_own, sees_other, creates, progresses, verifies, replans = TABLE[role]
    visible = set(policy.visible_actions(user))
    assert (action in visible) is sees_own
    assert (other_action in visible) is sees_other
    assert policy.can_create_action(user, unit, "security") is creates
    assert policy.can_progress(user, action) is progresses
    assert policy.can_verify(user, action) is verifies
    assert policy.can_replan(user, action) is replans


def test_quality_actions_are_the_cqos_to_verify(unit, cqo, ciso):
    from tests.actions.conftest import task

    quality = task(unit, cqo, domain="quality", title="Add regression tests to the print batch")
    assert policy.can_verify(cqo, quality)
    assert not policy.can_verify(ciso, quality)
