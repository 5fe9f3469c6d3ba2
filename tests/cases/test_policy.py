"""Who may do what with incidents and risks: every role, own unit and another unit."""

from __future__ import annotations

import pytest

from cases import policy

pytestmark = pytest.mark.django_db

ROLES = ["chair", "ciso", "cqo", "secretary", "auditor", "bu_head", "bu_member", "other_bu_member"]
#                        sees own-unit case, sees other-unit case, reports/registers for PUBSEC,
#                        changes PUBSEC security case, changes PUBSEC quality case
TABLE = {
    "chair": (True, True, False, True, True),
    "ciso": (True, True, False, True, False),
    "cqo": (True, True, False, False, True),
    "secretary": (True, True, False, False, False),
    "auditor": (True, True, False, False, False),
    "bu_head": (True, False, True, True, True),
    "bu_member": (True, False, True, True, True),
    "other_bu_member": (False, True, False, False, False),
}


@pytest.mark.parametrize("role", ROLES)
def test_incident_truth_table(request, role, unit, incident, other_incident):
    from tests.cases.conftest import report

    user = request.getfixturevalue(role)
    quality_case = report(
        unit, request.getfixturevalue("bu_member"), domain="quality", category="quality_defect"
    )
    sees_own, sees_other, reports, changes_security, changes_quality = TABLE[role]
    visible = set(policy.visible_incidents(user))
    assert (incident in visible) is sees_own
    assert (other_incident in visible) is sees_other
    assert policy.can_report_incident(user, unit) is reports
    assert policy.can_change_incident(user, incident) is changes_security
    assert policy.can_change_incident(user, quality_case) is changes_quality


@pytest.mark.parametrize("role", ROLES)
def test_risk_truth_table(request, role, unit, other_unit, a_risk, other_bu_member):
    from tests.cases.conftest import risk

    other_risk = risk(other_unit, other_bu_member)
    user = request.getfixturevalue(role)
    sees_own, sees_other, registers, changes_security, _ = TABLE[role]
    visible = set(policy.visible_risks(user))
    assert (a_risk in visible) is sees_own
    assert (other_risk in visible) is sees_other
    assert policy.can_register_risk(user, unit) is registers
    assert policy.can_change_risk(user, a_risk) is changes_security
