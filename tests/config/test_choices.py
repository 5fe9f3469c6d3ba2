"""Choice labels come from a table made once per field and language, in the reader's language."""

from __future__ import annotations

import pytest
from django.utils import translation

from actions.models import Action
from cases.models import Incident

pytestmark = pytest.mark.django_db


def test_a_label_is_in_the_language_active_when_shown() -> None:
    action = Action(status=Action.Status.IN_PROGRESS, domain="security")
    with translation.override("en"):
        assert action.get_status_display() == "In progress"
    with translation.override("ja"):
        assert action.get_status_display() == "対応中"
    with translation.override("en"):
        assert action.get_status_display() == "In progress"


def test_a_value_without_a_choice_shows_as_it_is() -> None:
    assert Incident(severity="unheard-of").get_severity_display() == "unheard-of"
    assert Action(status=Action.Status.OPEN).get_status_display() == str(Action.Status.OPEN.label)
