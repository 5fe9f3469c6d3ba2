"""The landing page, the navigation's count of what waits for the reader, and the calendar
subscription feed."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from actions import selectors as actions_selectors
from committee import ical, selectors, services
from committee.dashboard import dashboard_for
from committee.waiting import waiting_for
from config import dates


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    """The landing page, by role: my and my units' work, the next meeting and its agenda, open
    incidents, suspended systems, the risk heat maps and the overdue trend."""
    board = dashboard_for(request.user)
    local_start = (
        dates.local(board.next_meeting.starts_at, board.next_meeting.committee.zone)
        if board.next_meeting
        else None
    )
    return render(request, "committee/dashboard.html", {"board": board, "local_start": local_start})


@login_required
def waiting_count(request: HttpRequest) -> HttpResponse:
    """The navigation's badge: how many meeting steps and submitted actions wait on the reader
    (the dashboard's "Waiting for you" panel). Every page asks for it with htmx once it has
    loaded, so no page pays for it in its own queries."""
    user = request.user
    count = len(waiting_for(user)) + actions_selectors.awaiting_verification(user).count()
    return render(request, "committee/_waiting_count.html", {"count": count})


def calendar_feed(request: HttpRequest, token: str) -> HttpResponse:
    """A person's meetings as an iCalendar subscription; the token in the URL is the credential
    (calendar apps send no cookies), so an unknown or revoked one is a plain 404."""
    feed = services.open_calendar_feed(token)
    if feed is None:
        raise Http404("No such calendar feed.")
    meetings = selectors.calendar_meetings(feed.user)
    body = ical.feed(meetings, name="Risk Compliance Committee")
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Cache-Control"] = "private, max-age=300"
    return response
