"""Pages of the committee: the dashboard every signed-in person lands on, the meetings list with
calendar subscriptions, and a meeting's agenda review, attendance, decisions and minutes."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from accounts import selectors as accounts_selectors
from accounts.models import User
from actions.models import Action
from committee import ical, pdf, policy, selectors, services
from committee.dashboard import dashboard_for
from committee.filters import MeetingListFilter
from committee.forms import (
    ActionFormSet,
    AgendaItemForm,
    ApproveMinutesForm,
    AttendanceForm,
    DecisionForm,
    MinutesForm,
    MoveItemForm,
    RemoveItemForm,
)
from committee.headings import heading_of
from committee.models import AgendaItem, Attendance, Decision, Meeting, Minutes
from committee.quorum import Quorum, quorum_of
from committee.services.agenda import EDITABLE
from committee.services.meetings import IN_SESSION, MEETING_FLOW
from committee.services.minutes import etag as minutes_etag
from config.errors import Conflict, PreconditionFailed, PreconditionRequired
from config.pages import Column, export, export_links, paginate, refused

CLOSED_ACTIONS = {Action.Status.VERIFIED, Action.Status.CANCELLED}
REFUSALS = (PermissionDenied, ValidationError, Conflict, PreconditionFailed, PreconditionRequired)
ESCALATION = {
    0: gettext_lazy("Not escalated"),
    1: gettext_lazy("Unit head"),
    2: gettext_lazy("Owning office"),
    3: gettext_lazy("Committee"),
}


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    """The landing page, by role: my and my units' work, the next meeting and its agenda, open
    incidents, suspended systems, the risk heat maps and the overdue trend."""
    board = dashboard_for(request.user)
    local_start = (
        board.next_meeting.starts_at.astimezone(board.next_meeting.committee.zone)
        if board.next_meeting
        else None
    )
    return render(request, "committee/dashboard.html", {"board": board, "local_start": local_start})


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


# --- Meetings list and calendar subscriptions -------------------------------------------------


def _actor(request: HttpRequest) -> User:
    return cast(User, request.user)  # every page that writes is behind login_required


def _local(moment: dt.datetime, meeting: Meeting) -> dt.datetime:
    return moment.astimezone(meeting.committee.zone)


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
    rows = filterset.qs
    exported = export(request, name="meetings", columns=_meeting_columns(), rows=rows)
    if exported is not None:
        return exported
    return render(
        request,
        "committee/meetings.html",
        {
            "filter": filterset,
            "page": paginate(request, rows),
            "exports": export_links(request),
            "feeds": selectors.calendar_feeds_of(request.user),
        },
    )


@login_required
@require_POST
def create_feed(request: HttpRequest) -> HttpResponse:
    """A new subscription. Its URL carries the only copy of the token, so it is shown on this
    response, once, and never stored or redirected through the session."""
    try:
        feed, token = services.create_calendar_feed(actor=_actor(request))
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
        services.revoke_calendar_feed(actor=_actor(request), feed=feed)
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


# --- A meeting: the agenda as the reader may read it ------------------------------------------


@dataclass
class AgendaRow:
    """One agenda item as the page and the agenda pack show it: the facts a member needs to
    decide, and the decision already recorded on it."""

    item: AgendaItem
    facts: list[tuple[str, str]]
    decision: Decision | None
    overdue: bool = False
    heading: str = ""
    summary: str = ""
    remove_form: RemoveItemForm | None = None
    errors: list[str] = field(default_factory=list)


def _date(value: dt.date | dt.datetime | None) -> str:
    if value is None:
        return "—"
    if isinstance(value, dt.datetime):
        value = timezone.localtime(value).date()
    return formats.date_format(value, "SHORT_DATE_FORMAT")


def _score(score: int, level: str) -> str:
    return _("%(score)s (%(level)s)") % {"score": score, "level": level}


def facts_of(item: AgendaItem, today: dt.date) -> tuple[list[tuple[str, str]], bool]:
    """The key fields of the record an item is about (all loaded with the agenda: no query),
    and whether it is an overdue action."""
    facts: list[tuple[str, str]] = []
    overdue = False
    if item.incident is not None:
        incident = item.incident
        facts += [
            (_("Severity"), incident.get_severity_display()),
            (_("Status"), incident.get_status_display()),
            (_("Reported"), _date(incident.reported_at)),
        ]
        if incident.personal_data_involved:
            facts.append((_("Personal data"), _("Involved")))
    if item.risk is not None:
        risk = item.risk
        facts += [
            (_("Inherent score"), _score(risk.inherent_score, risk.get_inherent_level_display())),
            (_("Residual score"), _score(risk.residual_score, risk.get_residual_level_display())),
            (_("Treatment"), risk.get_treatment_display()),
            (_("Status"), risk.get_status_display()),
        ]
    if item.action is not None:
        action = item.action
        overdue = action.due_on < today and action.status not in CLOSED_ACTIONS
        facts += [
            (_("Due"), _date(action.due_on)),
            (_("Status"), action.get_status_display()),
            (
                _("Escalation"),
                str(ESCALATION.get(action.escalation_level, action.escalation_level)),
            ),
            (_("Done"), f"{formats.localize(action.percent_done)}%"),
        ]
    if item.suspension is not None:
        order = item.suspension
        system = order.system
        facts += [
            (_("System"), f"{system.code} — {system.name}"),
            (_("System status"), system.get_status_display()),
            (_("Order"), order.get_status_display()),
            (_("Ordered by"), order.issued_office),
            (_("Ordered on"), _date(order.issued_at)),
        ]
    if item.directive is not None:
        directive = item.directive
        facts += [
            (_("Deadline"), _date(directive.deadline)),
            (_("Status"), directive.get_status_display()),
            (_("Domain"), directive.get_domain_display()),
            (_("Issued by"), directive.issued_office or "—"),
        ]
    return facts, overdue


def agenda_rows(request: HttpRequest, meeting: Meeting) -> tuple[list[AgendaRow], list[Decision]]:
    """The agenda in order with each item's decision, and the decisions on no item; both as
    the reader may read them (a unit: its own items and the decisions on them)."""
    items = list(selectors.agenda_for(request.user, meeting).order_by("position", "pk"))
    decisions = list(selectors.decisions_for(request.user, meeting))
    by_item = {d.item_id: d for d in decisions if d.item_id is not None}
    today = timezone.localdate()
    rows = []
    for item in items:
        facts, overdue = facts_of(item, today)
        heading, summary = heading_of(item)
        rows.append(
            AgendaRow(
                item=item,
                facts=facts,
                decision=by_item.get(item.pk),
                overdue=overdue,
                heading=heading,
                summary=summary,
            )
        )
    return rows, [d for d in decisions if d.item_id is None]


def _meeting(request: HttpRequest, pk: int) -> Meeting:
    return get_object_or_404(selectors.meetings_for(request.user), pk=pk)


def _item(request: HttpRequest, meeting: Meeting, item_pk: int) -> AgendaItem:
    """An item the reader may not see is a 404, like any record."""
    return get_object_or_404(selectors.agenda_for(request.user, meeting), pk=item_pk)


def _quorum(request: HttpRequest, meeting: Meeting) -> tuple[list[Attendance], Quorum | None]:
    """The roster and the quorum it makes, for those who read the roster."""
    if not policy.sees_whole_agenda(request.user, meeting.committee):
        return [], None
    rows = list(selectors.attendance_for(request.user, meeting))
    return rows, quorum_of(meeting.committee, rows)


def _meeting_page(
    request: HttpRequest,
    meeting: Meeting,
    *,
    add_form: AgendaItemForm | None = None,
    failed: tuple[int, RemoveItemForm] | None = None,
    status: int = 200,
) -> HttpResponse:
    user = request.user
    rows, general = agenda_rows(request, meeting)
    can_run = policy.can_run_meeting(user, meeting)
    editable = can_run and meeting.status in EDITABLE and not meeting.is_locked
    if editable:
        for row in rows:
            row.remove_form = RemoveItemForm(prefix=f"remove-{row.item.pk}")
            if failed is not None and failed[0] == row.item.pk:
                row.remove_form = failed[1]
        if add_form is None:
            add_form = AgendaItemForm(units=accounts_selectors.business_units_for(user))
    quorum = _quorum(request, meeting)[1]
    in_session = meeting.status in IN_SESSION and not meeting.is_locked
    context = {
        "meeting": meeting,
        "rows": rows,
        "general_decisions": general,
        "sees_whole_agenda": policy.sees_whole_agenda(user, meeting.committee),
        "can_run": can_run,
        "editable": editable,
        "add_form": add_form,
        "can_assemble": can_run and meeting.status == Meeting.Status.SCHEDULED,
        "can_publish": can_run and meeting.status in MEETING_FLOW["publish"],
        "can_hold": can_run and meeting.status in MEETING_FLOW["hold"],
        "can_decide": in_session and policy.decision_capacity(user, meeting) is not None,
        "can_read_minutes": policy.can_read_minutes(user, meeting),
        "in_session": in_session,
        "quorum": quorum,
    }
    return render(request, "committee/meeting.html", context, status=status)


@login_required
def meeting(request: HttpRequest, pk: int) -> HttpResponse:
    """The agenda review: every item in order with the facts to decide on and a link to its
    record; the secretariat's draft-agenda controls; the decisions already recorded."""
    return _meeting_page(request, _meeting(request, pk))


@login_required
def meeting_pack(request: HttpRequest, pk: int) -> HttpResponse:
    """The agenda pack as a PDF: the same items, facts and decisions as the page."""
    meeting = _meeting(request, pk)
    rows, general = agenda_rows(request, meeting)
    body = pdf.agenda_pack(
        meeting,
        rows,
        general,
        whole=policy.sees_whole_agenda(request.user, meeting.committee),
    )
    day = _local(meeting.starts_at, meeting).date().isoformat()
    response = HttpResponse(body, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="agenda-{day}.pdf"'
    return response


def _done(request: HttpRequest, meeting: Meeting, message: str, anchor: str = "") -> HttpResponse:
    messages.success(request, message)
    return redirect(reverse("committee:meeting", args=[meeting.pk]) + anchor)


@login_required
@require_POST
def assemble(request: HttpRequest, pk: int) -> HttpResponse:
    meeting = _meeting(request, pk)
    try:
        added = services.assemble_agenda(actor=_actor(request), meeting=meeting)
    except REFUSALS as exc:
        return refused(request, exc)
    return _done(
        request,
        meeting,
        _("%(count)s new items were added to the draft agenda.")
        % {"count": formats.localize(added)},
    )


@login_required
@require_POST
def publish(request: HttpRequest, pk: int) -> HttpResponse:
    meeting = _meeting(request, pk)
    try:
        services.publish_agenda(actor=_actor(request), meeting=meeting)
    except REFUSALS as exc:
        return refused(request, exc)
    return _done(request, meeting, _("The agenda is published and the attendees are invited."))


@login_required
@require_POST
def hold(request: HttpRequest, pk: int) -> HttpResponse:
    meeting = _meeting(request, pk)
    try:
        services.hold_meeting(actor=_actor(request), meeting=meeting)
    except REFUSALS as exc:
        return refused(request, exc)
    return _done(request, meeting, _("The meeting is marked as held; the minutes can follow."))


@login_required
@require_POST
def add_item(request: HttpRequest, pk: int) -> HttpResponse:
    meeting = _meeting(request, pk)
    form = AgendaItemForm(request.POST, units=accounts_selectors.business_units_for(request.user))
    if not form.is_valid():
        return _meeting_page(request, meeting, add_form=form, status=400)
    try:
        item = services.add_agenda_item(actor=_actor(request), meeting=meeting, **form.cleaned_data)
    except ValidationError as exc:
        form.refusal_in_place(exc)
        return _meeting_page(request, meeting, add_form=form, status=400)
    except REFUSALS as exc:
        return refused(request, exc)
    return _done(request, meeting, _("The item is on the agenda."), f"#item-{item.pk}")


@login_required
@require_POST
def remove_item(request: HttpRequest, pk: int, item_pk: int) -> HttpResponse:
    meeting = _meeting(request, pk)
    item = _item(request, meeting, item_pk)
    form = RemoveItemForm(request.POST, prefix=f"remove-{item.pk}")
    if not form.is_valid():
        return _meeting_page(request, meeting, failed=(item.pk, form), status=400)
    try:
        services.remove_agenda_item(
            actor=_actor(request), meeting=meeting, item=item, reason=form.cleaned_data["reason"]
        )
    except REFUSALS as exc:
        return refused(request, exc)
    return _done(request, meeting, _("The item is taken off the agenda."), "#agenda")


@login_required
@require_POST
def move_item(request: HttpRequest, pk: int, item_pk: int) -> HttpResponse:
    meeting = _meeting(request, pk)
    items = list(selectors.agenda_for(request.user, meeting).order_by("position", "pk"))
    item = next((i for i in items if i.pk == item_pk), None)
    if item is None:
        raise Http404("No such item on this agenda.")
    form = MoveItemForm(request.POST)
    if not form.is_valid():
        return refused(request, ValidationError(_("Move an item up or down.")))
    try:
        services.reorder_agenda(
            actor=_actor(request), meeting=meeting, order=form.order(items, item)
        )
    except REFUSALS as exc:
        return refused(request, exc)
    return redirect(reverse("committee:meeting", args=[meeting.pk]) + f"#item-{item.pk}")


# --- Decisions --------------------------------------------------------------------------------


@login_required
def decide(request: HttpRequest, pk: int, item_pk: int) -> HttpResponse:
    """Record the committee's decision on one item, with the actions it creates. The chair's
    decision, recorded by the chair or by the secretariat; refused without quorum."""
    meeting = _meeting(request, pk)
    item = _item(request, meeting, item_pk)
    units = accounts_selectors.business_units_for(request.user).order_by("code")
    status = 200
    if request.method == "POST":
        status = 400
        form = DecisionForm(request.POST, item=item)
        formset = ActionFormSet(request.POST, prefix="actions", form_kwargs={"units": units})
        if form.is_valid() and formset.is_valid():
            try:
                decision = services.record_decision(
                    actor=_actor(request),
                    meeting=meeting,
                    item=item,
                    actions=formset.specs(),
                    **form.cleaned_data,
                )
            except ValidationError as exc:
                form.refusal_in_place(exc)
            except Conflict as exc:
                # Not quorate, or decided meanwhile: say why above the form, keeping the wording.
                form.add_error(None, exc.message)
                status = 409
            except REFUSALS as exc:
                return refused(request, exc)
            else:
                return _done(
                    request,
                    meeting,
                    _("Decision %(reference)s is recorded.") % {"reference": decision.reference},
                    f"#item-{item.pk}",
                )
    else:
        form = DecisionForm(item=item)
        formset = ActionFormSet(prefix="actions", form_kwargs={"units": units})
    facts, overdue = facts_of(item, timezone.localdate())
    heading, summary = heading_of(item)
    quorum = _quorum(request, meeting)[1]
    recorded = selectors.decisions_for(request.user, meeting).filter(item=item).first()
    return render(
        request,
        "committee/decide.html",
        {
            "meeting": meeting,
            "row": AgendaRow(
                item=item,
                facts=facts,
                decision=recorded,
                overdue=overdue,
                heading=heading,
                summary=summary,
            ),
            "form": form,
            "formset": formset,
            "quorum": quorum,
            "can_decide": meeting.status in IN_SESSION
            and not meeting.is_locked
            and policy.decision_capacity(request.user, meeting) is not None,
        },
        status=status,
    )


# --- Attendance -------------------------------------------------------------------------------


def _roster(request: HttpRequest, pk: int) -> Meeting:
    """The roster is the committee's and oversight's to read; to a unit it is a 404."""
    meeting = _meeting(request, pk)
    if not policy.sees_whole_agenda(request.user, meeting.committee):
        raise Http404("Only the committee and oversight read the roster.")
    return meeting


@login_required
def attendance(request: HttpRequest, pk: int) -> HttpResponse:
    """The frozen roster, who came (present, absent, represented by a delegate) and whether the
    meeting is quorate; the secretariat records each person's attendance here."""
    meeting = _roster(request, pk)
    failed: AttendanceForm | None = None
    if request.method == "POST":
        form = AttendanceForm(request.POST)
        if form.is_valid():
            try:
                row = services.record_attendance(
                    actor=_actor(request), meeting=meeting, **form.cleaned_data
                )
            except ValidationError as exc:
                form.refusal_in_place(exc)
            except REFUSALS as exc:
                return refused(request, exc)
            else:
                messages.success(
                    request,
                    _("Attendance of %(person)s: %(status)s.")
                    % {"person": row.person, "status": row.get_status_display()},
                )
                return redirect(reverse("committee:attendance", args=[meeting.pk]))
        failed = form
    roster, quorum = _quorum(request, meeting)
    can_record = (
        policy.can_run_meeting(request.user, meeting)
        and meeting.status in IN_SESSION
        and not meeting.is_locked
    )
    forms_by_person = {}
    if can_record:
        for row in roster:
            initial = {
                "person": row.person_id,
                "status": row.status,
                "delegate": row.delegate.get_username() if row.delegate else "",
                "note": row.note,
            }
            forms_by_person[row.person_id] = AttendanceForm(initial=initial)
        if failed is not None:
            # The row that was sent shows its errors in place; the others their current state.
            key = _int(failed.data.get("person"))
            if key in forms_by_person:
                forms_by_person[key] = failed
    lines = [(row, forms_by_person.get(row.person_id)) for row in roster]
    return render(
        request,
        "committee/attendance.html",
        {
            "meeting": meeting,
            "lines": lines,
            "quorum": quorum,
            "can_record": can_record,
            "poll": meeting.status in IN_SESSION and not meeting.is_locked,
            "errors": failed.non_field_errors() if failed is not None else [],
        },
        status=400 if failed is not None else 200,
    )


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


@login_required
def quorum(request: HttpRequest, pk: int) -> HttpResponse:
    """The quorum panel alone, which the meeting and attendance pages poll while in session."""
    meeting = _roster(request, pk)
    state = _quorum(request, meeting)[1]
    poll = meeting.status in IN_SESSION and not meeting.is_locked
    return render(
        request, "committee/_quorum.html", {"meeting": meeting, "quorum": state, "poll": poll}
    )


# --- Minutes ----------------------------------------------------------------------------------


def _minutes_page(
    request: HttpRequest,
    meeting: Meeting,
    *,
    draft_form: MinutesForm | None = None,
    status: int = 200,
) -> HttpResponse:
    if not policy.can_read_minutes(request.user, meeting):
        raise Http404("Only the committee and oversight read the minutes.")
    minutes: Minutes | None = selectors.minutes_for(request.user, meeting)
    version = minutes_etag(minutes) if minutes is not None else ""
    can_draft = (
        policy.can_run_meeting(request.user, meeting)
        and meeting.status in IN_SESSION
        and not meeting.is_locked
    )
    if can_draft and draft_form is None:
        draft_form = MinutesForm(
            initial={"body": minutes.body if minutes else "", "version": version}
        )
    can_approve = (
        policy.can_approve_minutes(request.user, meeting)
        and meeting.status in MEETING_FLOW["approve"]
        and minutes is not None
        and bool(minutes.body.strip())
    )
    return render(
        request,
        "committee/minutes.html",
        {
            "meeting": meeting,
            "minutes": minutes,
            "draft_form": draft_form if can_draft else None,
            "approve_form": ApproveMinutesForm(initial={"version": version})
            if can_approve
            else None,
        },
        status=status,
    )


@login_required
def minutes(request: HttpRequest, pk: int) -> HttpResponse:
    """The minutes: the secretariat drafts them against the version it read; the chair approves
    them, and so locks the meeting's record."""
    return _minutes_page(request, _meeting(request, pk))


@login_required
@require_POST
def draft_minutes(request: HttpRequest, pk: int) -> HttpResponse:
    meeting = _meeting(request, pk)
    form = MinutesForm(request.POST)
    if not form.is_valid():
        return _minutes_page(request, meeting, draft_form=form, status=400)
    try:
        services.draft_minutes(
            actor=_actor(request),
            meeting=meeting,
            body=form.cleaned_data["body"],
            expected_version=form.cleaned_data["version"] or None,
        )
    except REFUSALS as exc:
        return refused(request, exc)
    messages.success(request, _("The draft minutes are saved."))
    return redirect("committee:minutes", pk=meeting.pk)


@login_required
@require_POST
def approve_minutes(request: HttpRequest, pk: int) -> HttpResponse:
    meeting = _meeting(request, pk)
    form = ApproveMinutesForm(request.POST)
    if not form.is_valid():
        return refused(request, ValidationError(_("Approve the minutes from their page.")))
    try:
        services.approve_minutes(
            actor=_actor(request), meeting=meeting, expected_version=form.cleaned_data["version"]
        )
    except REFUSALS as exc:
        return refused(request, exc)
    messages.success(request, _("The minutes are approved; the meeting's record is locked."))
    return redirect("committee:minutes", pk=meeting.pk)
