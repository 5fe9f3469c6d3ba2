"""Pages of the committee: the dashboard every signed-in person lands on, the meetings list with
calendar subscriptions, and a meeting's agenda review, attendance, decisions and minutes."""

from committee.views.agenda import (
    add_item,
    assemble,
    hold,
    meeting,
    meeting_pack,
    move_item,
    publish,
    remove_item,
)
from committee.views.common import AgendaRow, agenda_rows, facts_of
from committee.views.home import calendar_feed, dashboard, waiting_count
from committee.views.meetings import create_feed, meeting_ical, meetings, revoke_feed
from committee.views.resolutions import resolution, resolution_new, resolutions, vote
from committee.views.session import (
    approve_minutes,
    attendance,
    decide,
    draft_minutes,
    minutes,
    quorum,
)

__all__ = [
    "AgendaRow",
    "add_item",
    "agenda_rows",
    "approve_minutes",
    "assemble",
    "attendance",
    "calendar_feed",
    "create_feed",
    "dashboard",
    "decide",
    "draft_minutes",
    "facts_of",
    "hold",
    "meeting",
    "meeting_ical",
    "meeting_pack",
    "meetings",
    "minutes",
    "move_item",
    "publish",
    "quorum",
    "remove_item",
    "resolution",
    "resolution_new",
    "resolutions",
    "revoke_feed",
    "vote",
    "waiting_count",
]
