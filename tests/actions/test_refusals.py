"""A refusal names the status it refuses on as the reader knows it ("Verified", "Issued"),
never by its stored code, in the reader's language."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from actions import services
from actions.models import Action
from config.errors import Conflict
from tests.actions.test_directives import draft

pytestmark = pytest.mark.django_db


def test_a_finished_action_takes_no_update_and_says_why(action, bu_member):
    Action.objects.filter(pk=action.pk).update(status=Action.Status.VERIFIED)
    with pytest.raises(ValidationError) as refused:
        services.add_update(actor=bu_member, action=action, note="one more thing")
    assert refused.value.message_dict["status"] == [
        "This action's status is “Verified”: it takes no more updates."
    ]


def test_a_finished_action_is_not_re_planned_and_says_why(action, ciso):
    Action.objects.filter(pk=action.pk).update(
        status=Action.Status.CANCELLED, cancel_reason="superseded"
    )
    with pytest.raises(ValidationError) as refused:
        services.replan_action(actor=ciso, action=action, reason="later")
    assert refused.value.message_dict["status"] == [
        "This action's status is “Cancelled”: it cannot be re-planned."
    ]


def test_a_directive_issued_twice_names_its_status(ciso, unit):
    directive = draft(ciso, units=[unit])
    services.issue_directive(actor=ciso, directive=directive)
    with pytest.raises(Conflict) as refused:
        services.issue_directive(actor=ciso, directive=directive)
    assert refused.value.message == "This directive's status is already “Issued”."
