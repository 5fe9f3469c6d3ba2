"""Every write to committees and meetings; one module per part of the committee's month."""

from committee.services.agenda import (
    add_agenda_item,
    assemble_agenda,
    mark_discussed,
    remove_agenda_item,
    reorder_agenda,
)
from committee.services.calendar_feeds import (
    create_calendar_feed,
    open_calendar_feed,
    revoke_calendar_feed,
)
from committee.services.decisions import record_decision
from committee.services.meetings import (
    Mark,
    add_attendee,
    cancel_meeting,
    hold_meeting,
    publish_agenda,
    publish_due_agendas,
    record_attendance,
    record_attendance_sheet,
    reschedule_meeting,
)
from committee.services.minutes import approve_minutes, correct_minutes, draft_minutes
from committee.services.resolutions import cast_vote, close_due_resolutions, open_resolution
from committee.services.scheduling import add_cadence_exception, schedule_meetings

__all__ = [
    "Mark",
    "add_agenda_item",
    "add_attendee",
    "add_cadence_exception",
    "approve_minutes",
    "assemble_agenda",
    "cancel_meeting",
    "cast_vote",
    "close_due_resolutions",
    "correct_minutes",
    "create_calendar_feed",
    "draft_minutes",
    "hold_meeting",
    "mark_discussed",
    "open_calendar_feed",
    "open_resolution",
    "publish_agenda",
    "publish_due_agendas",
    "record_attendance",
    "record_attendance_sheet",
    "record_decision",
    "remove_agenda_item",
    "reorder_agenda",
    "reschedule_meeting",
    "revoke_calendar_feed",
    "schedule_meetings",
]
