"""Thin Celery entry points for the committee: scheduling, agendas, invitations."""

from __future__ import annotations

from celery import shared_task

from committee.services import agenda, meetings, scheduling


@shared_task
def schedule_meetings() -> dict[str, int]:
    """Beat, daily: every active committee's meetings kept three months ahead (idempotent)."""
    return scheduling.schedule_meetings()


@shared_task
def prepare_agendas() -> dict[str, int]:
    """Beat, hourly: keep each next draft agenda current, and publish those whose lead time came."""
    assembled = agenda.assemble_next_agendas()
    published = meetings.publish_due_agendas()
    for meeting_id in meetings.pending_notice_meetings():
        send_meeting_notices.delay(meeting_id)  # a sweep for mail that could not go out
    return {"items_added": assembled, "published": published}


@shared_task(acks_late=True)
def send_meeting_notices(meeting_id: int) -> int:
    """After commit: mail the meeting's pending invitations; each is claimed before it is sent."""
    return meetings.send_notices(meeting_id)
