"""Reads of actions scoped to the reader, with the filters people ask for."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from actions import policy
from actions.models import Action, ActionUpdate


def actions_for(user: Any) -> QuerySet[Action]:
    return policy.visible_actions(user).select_related("unit", "assignee", "system", "issued_by")


def updates_of(action: Action) -> QuerySet[ActionUpdate]:
    return action.updates.select_related("author").prefetch_related("evidence")
