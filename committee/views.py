"""Pages of the committee, starting with the dashboard every signed-in person lands on."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from accounts import selectors as accounts_selectors
from committee import ical, selectors, services


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    """The landing page: who you are and where to go. Its panels arrive with the domain issues."""
    return render(
        request, "committee/dashboard.html", {"me": accounts_selectors.profile_of(request.user)}
    )


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
