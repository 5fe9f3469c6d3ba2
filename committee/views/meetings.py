"""The meetings list, personal calendar feeds and each meeting's .ics."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from committee import ical, selectors, services
from committee.filters import MeetingListFilter
from committee.views.common import (
    REFUSALS,
    _local,
    _meeting,
)
from config.api import actor_of
from config.pages import Column, export, export_links, paginate, refused


def _meeting_columns() -> list[Column]:
    return [
        Column(_("Starts (local time)"), lambda m: _local(m.starts_at, m)),
        Column(_("Ends (local time)"), lambda m: _local(m.ends_at, m)),
        Column(_("Time zone"), lambda m: m.committee.time_zone),
        Column(_("Meeting"), lambda m: m.title),
        Column(_("Committee"), lambda m: m.committee.name),
        Column(_("Status"), lambda m: m.get_status_display()),
        Column(_("Location"), lambda m: m.location or m.committee.location),
    ]


@login_required
def meetings(request: HttpRequest) -> HttpResponse:
    """Upcoming and past meetings, in each committee's own time zone, and the reader's calendar
    subscriptions."""
    filterset = MeetingListFilter(
        request.GET, queryset=selectors.meetings_for(request.user), request=request
    )
    # A filter that does not parse (a date out of range) shows its error, no rows, and a 400.
    valid = filterset.is_valid()
    rows = filterset.qs if valid else filterset.queryset.none()
    if valid:
        exported = export(request, name="meetings", columns=_meeting_columns(), rows=rows)
        if exported is not None:
            return exported
    page = paginate(request, rows)
    for meeting in page:
        meeting.local_start = _local(meeting.starts_at, meeting)
    return render(
        request,
        "committee/meetings.html",
        {
            "filter": filterset,
            "page": page,
            "exports": export_links(request),
            "feeds": selectors.calendar_feeds_of(request.user),
        },
        status=200 if valid else 400,
    )


@login_required
@require_POST
def create_feed(request: HttpRequest) -> HttpResponse:
    """A new subscription. Its URL carries the only copy of the token, so it is shown on this
    response, once, and never stored or redirected through the session."""
    try:
        feed, token = services.create_calendar_feed(actor=actor_of(request))
    except REFUSALS as exc:
        return refused(request, exc)
    url = request.build_absolute_uri(reverse("calendar-feed", kwargs={"token": token}))
    response = render(request, "committee/feed_created.html", {"feed": feed, "url": url})
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_POST
def revoke_feed(request: HttpRequest, pk: int) -> HttpResponse:
    feed = get_object_or_404(selectors.calendar_feeds_of(request.user), pk=pk)
    try:
        services.revoke_calendar_feed(actor=actor_of(request), feed=feed)
    except REFUSALS as exc:
        return refused(request, exc)
    messages.success(request, _("The calendar subscription is revoked; its link no longer works."))
    return redirect("committee:meetings")


@login_required
def meeting_ical(request: HttpRequest, pk: int) -> HttpResponse:
    """One meeting as an .ics file, as the API serves it (stable UID, current SEQUENCE)."""
    meeting = _meeting(request, pk)
    rows = list(selectors.attendance_for(request.user, meeting))
    body = ical.invitation(meeting, rows, method="PUBLISH")
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="meeting-{meeting.pk}.ics"'
    return response
