"""iCalendar (RFC 5545) for meetings: invitations, cancellations and subscription feeds."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from email.utils import parseaddr

from django.conf import settings
from django.utils import timezone
from icalendar import Calendar, Event, vCalAddress, vText

from committee.models import Attendance, Meeting
from config import dates
from config.text import one_line

PRODID = "-//Risk Compliance Committee//RCC//EN"


def _address(email: str, name: str, role: str | None = None) -> vCalAddress:
    address = vCalAddress(f"mailto:{email}")
    address.params["cn"] = vText(one_line(name))
    if role:
        address.params["role"] = vText(role)
    return address


def organizer(meeting: Meeting) -> vCalAddress:
    """The sender of the invitations: DEFAULT_FROM_EMAIL is a mail header ("Name <address>"),
    whose address goes after mailto: and whose display name is the CN (the committee's name
    where it has none)."""
    name, email = parseaddr(settings.DEFAULT_FROM_EMAIL)
    return _address(email, name or meeting.committee.name)


def meeting_event(
    meeting: Meeting,
    attendance: Sequence[Attendance] = (),
    *,
    cancelled: bool = False,
    stamp: datetime | None = None,
) -> Event:
    """One VEVENT: its UID never changes and its SEQUENCE is the meeting's, so a calendar updates
    the event it already holds instead of adding a second one."""
    zone = meeting.committee.zone
    event = Event()
    event.add("uid", meeting.ical_uid)
    event.add("sequence", meeting.sequence)
    event.add("dtstamp", stamp or timezone.now())
    # Local time with TZID, so a reader sees 10:00 Tokyo even across a daylight-saving change.
    event.add("dtstart", dates.local(meeting.starts_at, zone))
    event.add("dtend", dates.local(meeting.ends_at, zone))
    event.add("summary", meeting.title)
    if meeting.location:
        event.add("location", meeting.location)
    event.add(
        "status",
        "CANCELLED" if cancelled or meeting.status == Meeting.Status.CANCELLED else "CONFIRMED",
    )
    event.add("organizer", organizer(meeting))
    for row in attendance:
        person = row.person
        if person.email:
            role = "REQ-PARTICIPANT" if row.kind == Attendance.Kind.VOTING else "OPT-PARTICIPANT"
            name = person.display_name or person.get_username()
            event.add("attendee", _address(person.email, name, role))
    return event


def _calendar(method: str | None, name: str | None = None) -> Calendar:
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    if method:
        calendar.add("method", method)
    if name:
        calendar.add("x-wr-calname", name)
    return calendar


def _finish(calendar: Calendar) -> bytes:
    calendar.add_missing_timezones()  # VTIMEZONE blocks for every TZID used
    return calendar.to_ical()


def invitation(meeting: Meeting, attendance: Sequence[Attendance], *, method: str) -> bytes:
    """METHOD:REQUEST for an invitation or an update, METHOD:CANCEL for a cancellation."""
    calendar = _calendar(method)
    calendar.add_component(meeting_event(meeting, attendance, cancelled=method == "CANCEL"))
    return _finish(calendar)


def feed(meetings: Iterable[Meeting], *, name: str) -> bytes:
    """A subscription feed (no METHOD): every meeting, cancelled ones marked so."""
    calendar = _calendar(None, name)
    stamp = timezone.now()
    for meeting in meetings:
        calendar.add_component(meeting_event(meeting, stamp=stamp))
    return _finish(calendar)
