"""Thin Celery entry points for the committee: scheduling, agendas, invitations, written votes."""

from __future__ import annotations

from celery import shared_task

from committee.services import agenda, meetings, resolution_mail, resolutions, scheduling


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


@shared_task
def close_due_resolutions() -> dict[str, int]:
    """Beat, hourly: close the written resolutions whose deadline came (each once)."""
    closed = resolutions.close_due_resolutions()
    for resolution_id in resolution_mail.pending_notice_resolutions():
        send_resolution_notices.delay(resolution_id)  # a sweep for mail that could not go out
    return {"closed": closed}


@shared_task(acks_late=True)
def send_resolution_notices(resolution_id: int) -> int:
    """After commit: tell each seat's person that a vote waits for them; each is claimed first."""
    return resolution_mail.send_notices(resolution_id)
