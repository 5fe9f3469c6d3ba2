"""Every write to actions, directives and notifications; one module per kind of record."""

from actions.services.directives import (
    Reach,
    directive_reach,
    draft_directive,
    issue_directive,
    withdraw_directive,
)
from actions.services.notifications import mark_notification_read
from actions.services.work import (
    ACTION_FLOW,
    FINISHED,
    add_update,
    assign_action,
    create_action,
    etag,
    replan_action,
    transition_action,
)

__all__ = [
    "ACTION_FLOW",
    "FINISHED",
    "Reach",
    "add_update",
    "assign_action",
    "create_action",
    "directive_reach",
    "draft_directive",
    "etag",
    "issue_directive",
    "mark_notification_read",
    "replan_action",
    "transition_action",
    "withdraw_directive",
]
