"""Reads of actions scoped to the reader, with the filters people ask for."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, QuerySet

from actions import policy
from actions.models import Action, ActionUpdate, Directive, Notification


def actions_for(user: Any) -> QuerySet[Action]:
    return policy.visible_actions(user).select_related("unit", "assignee", "system", "issued_by")


def updates_of(action: Action) -> QuerySet[ActionUpdate]:
    return action.updates.select_related("author").prefetch_related("evidence")


def directives_for(user: Any) -> QuerySet[Directive]:
    return (
        policy.visible_directives(user)
        .select_related("issued_by")
        .prefetch_related("units")
        .annotate(action_count=Count("actions", distinct=True))
    )


def notifications_for(user: Any) -> QuerySet[Notification]:
    """A person's own notifications: nobody reads another's inbox."""
    if not getattr(user, "is_authenticated", False):
        return Notification.objects.none()
    return Notification.objects.filter(recipient=user).select_related("action")
