"""What the committee's pages share: the reader's meeting and item, an agenda item's facts, the quorum, and the meeting page's context."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts import selectors as accounts_selectors
from actions.models import Action
from committee import policy, selectors
from committee.forms import (
    AgendaItemForm,
    RemoveItemForm,
)
from committee.headings import heading_of, is_units_escalated
from committee.models import AgendaItem, Attendance, Decision, Meeting
from committee.quorum import Quorum, quorum_of
from committee.services.agenda import EDITABLE, NONE_LEFT
from committee.services.meetings import IN_SESSION, MEETING_FLOW
from config import dates
from config.errors import Conflict, PreconditionFailed, PreconditionRequired

CLOSED_ACTIONS = {Action.Status.VERIFIED, Action.Status.CANCELLED}
REFUSALS = (PermissionDenied, ValidationError, Conflict, PreconditionFailed, PreconditionRequired)
ESCALATION = {
    0: gettext_lazy("Not escalated"),
    1: gettext_lazy("Unit head"),
    2: gettext_lazy("Owning office"),
    3: gettext_lazy("Committee"),
}


def _local(moment: dt.datetime, meeting: Meeting) -> dt.datetime:
    """On the committee's wall clock; a meeting stored with an absurd date still shows."""
    return dates.local(moment, meeting.committee.zone)


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
    if is_units_escalated(item):
        overdue = item.summary != NONE_LEFT  # each one a month late or more
        assert item.unit is not None
        facts.append((_("Unit"), f"{item.unit.code} — {item.unit.name}"))
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
    if item.project is not None:
        project = item.project
        facts += [
            (_("Phase"), project.get_phase_display()),
            (_("Rating"), project.get_rag_display()),
            (_("Personal data"), _("Handled") if project.handles_personal_data else _("None")),
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
        "starts": _local(meeting.starts_at, meeting),
        "ends": _local(meeting.ends_at, meeting),
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


def _done(request: HttpRequest, meeting: Meeting, message: str, anchor: str = "") -> HttpResponse:
    messages.success(request, message)
    return redirect(reverse("committee:meeting", args=[meeting.pk]) + anchor)
