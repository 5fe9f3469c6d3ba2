"""The first draft of a meeting's minutes, made of its attendance, its agenda and its decisions,
for the secretariat to edit before the chair approves."""

from __future__ import annotations

from typing import Any

from django.template.loader import render_to_string

from committee import selectors
from committee.headings import heading_of
from committee.models import Meeting
from committee.quorum import quorum_of
from committee.services.resolutions import WRITTEN
from config import dates


def first_draft(user: Any, meeting: Meeting) -> str:
    """Plain text in the reader's language: who came, each item with its decision, the other
    decisions, and those made in writing between meetings. Read as the drafter may read the
    meeting (the whole agenda, as secretariat)."""
    attendance = list(selectors.attendance_for(user, meeting))
    items = list(selectors.agenda_for(user, meeting).order_by("position", "pk"))
    decisions = list(selectors.decisions_for(user, meeting))
    by_item = {decision.item_id: decision for decision in decisions if decision.item_id}
    zone = meeting.committee.zone
    return render_to_string(
        "committee/text/minutes_draft.txt",
        {
            "meeting": meeting,
            "starts": dates.local(meeting.starts_at, zone),
            "zone": zone.key,
            "attendance": attendance,
            "quorum": quorum_of(meeting.committee, attendance),
            "items": [(item, heading_of(item)[0], by_item.get(item.pk)) for item in items],
            "other_decisions": [
                decision
                for decision in decisions
                if decision.item_id is None and decision.recorded_capacity != WRITTEN
            ],
            # What the members resolved in writing since the last meeting, for this one's record.
            "written_decisions": [
                decision for decision in decisions if decision.recorded_capacity == WRITTEN
            ],
        },
    ).strip()
