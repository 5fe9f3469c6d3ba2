"""What the committee's pages share: the reader's meeting and item, an agenda item's facts, the quorum, and the meeting page's context."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NamedTuple

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from accounts import selectors as accounts_selectors
from committee import policy, selectors
from committee.facts import Fact, is_overdue, shown, values_of
from committee.forms import (
    AgendaItemForm,
    RemoveItemForm,
)
from committee.headings import heading_of, is_units_escalated
from committee.models import AgendaItem, Attendance, Decision, Meeting, Minutes
from committee.quorum import Quorum, quorum_of
from committee.services.agenda import EDITABLE
from committee.services.meetings import IN_SESSION, MEETING_FLOW
from committee.waiting import next_step
from config import dates
from config.errors import Conflict, PreconditionFailed, PreconditionRequired

REFUSALS = (PermissionDenied, ValidationError, Conflict, PreconditionFailed, PreconditionRequired)


def _local(moment: dt.datetime, meeting: Meeting) -> dt.datetime:
    """On the committee's wall clock; a meeting stored with an absurd date still shows."""
    return dates.local(moment, meeting.committee.zone)


# --- A meeting: the agenda as the reader may read it ------------------------------------------


@dataclass
class AgendaRow:
    """One agenda item as the page and the agenda pack show it: the facts a member needs to
    decide, and the decision already recorded on it."""

    item: AgendaItem
    facts: list[Fact]
    decision: Decision | None
    overdue: bool = False
    heading: str = ""
    summary: str = ""
    remove_form: RemoveItemForm | None = None  # only the one whose removal was refused
    remove_reason: str = ""  # ... and what its form said
    remove_errors: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    move_url: str = ""
    remove_url: str = ""
    decide_url: str = ""
    link: Link | None = None  # to the record the item is about

    @classmethod
    def of(
        cls, item: AgendaItem, decision: Decision | None, today: dt.date, links: RecordLinks
    ) -> AgendaRow:
        facts, overdue = facts_of(item, today)
        heading, summary = heading_of(item)
        return cls(
            item=item,
            facts=facts,
            decision=decision,
            overdue=overdue,
            heading=heading,
            summary=summary,
            link=links(item),
        )


class Link(NamedTuple):
    href: str
    words: str


class RecordLinks:
    """Where the record an agenda item is about is read, and the words of the link: each address
    reversed and each phrase translated once for the whole agenda, not once an item."""

    def __init__(self) -> None:
        self._addresses: dict[str, Callable[[int], str]] = {}
        self._words: dict[str, str] = {}

    def _link(self, name: str, pk: int, words: Promise) -> Link:
        if name not in self._addresses:
            self._addresses[name] = _for_each_item(name)
        if name not in self._words:
            self._words[name] = str(words)
        return Link(self._addresses[name](pk), self._words[name])

    def __call__(self, item: AgendaItem) -> Link | None:
        """The link the item's facts end with, in the order the kinds are tried."""
        if (link := self._first(item, _CASES_AND_ACTIONS)) is not None:
            return link
        if item.kind == AgendaItem.Kind.ESCALATED_ACTION and item.unit is not None:
            if "escalated" not in self._words:
                self._words["escalated"] = _("Open the unit's escalated actions")
            wanted = urlencode(
                {"unit": item.unit.code, "escalation_level_min": "3", "overdue": "true"}
            )
            return Link(f"{reverse('actions:actions')}?{wanted}", self._words["escalated"])
        if item.suspension is not None:
            words = _lazy("Open the system and its suspension")
            return self._link("systems:system", item.suspension.system_id, words)
        return self._first(item, _PROJECTS_AND_DIRECTIVES)

    def _first(
        self, item: AgendaItem, records: tuple[tuple[str, str, Promise], ...]
    ) -> Link | None:
        for field_name, name, words in records:
            if pk := getattr(item, field_name):
                return self._link(name, pk, words)
        return None


# The records an item may be about: its field, where the record is read, the link's words.
_CASES_AND_ACTIONS: tuple[tuple[str, str, Promise], ...] = (
    ("incident_id", "cases:incident", _lazy("Open the incident")),
    ("risk_id", "cases:risk", _lazy("Open the risk")),
    ("action_id", "actions:action", _lazy("Open the action")),
)
_PROJECTS_AND_DIRECTIVES: tuple[tuple[str, str, Promise], ...] = (
    ("project_id", "quality:project", _lazy("Open the project")),
    ("directive_id", "actions:directive", _lazy("Open the directive")),
)


def facts_of(item: AgendaItem, today: dt.date) -> tuple[list[Fact], bool]:
    """The facts of the record an item is about (all loaded with the agenda: no query): once
    the agenda is published, as the committee saw them with "now" beside what changed since;
    and whether the item is an overdue action (as it stood then, once frozen)."""
    current = values_of(item)
    frozen = item.facts_frozen
    facts = shown(frozen, current)
    overdue = bool(frozen["overdue"]) if frozen else is_overdue(current, today)
    if is_units_escalated(item):
        # Each one a month late or more, unless none is left.
        overdue = (item.said or {}).get("count", 1) != 0
    return facts, overdue


def agenda_rows(request: HttpRequest, meeting: Meeting) -> tuple[list[AgendaRow], list[Decision]]:
    """The agenda in order with each item's decision, and the decisions on no item; both as
    the reader may read them (a unit: its own items and the decisions on them)."""
    items = list(selectors.agenda_for(request.user, meeting).order_by("position", "pk"))
    decisions = list(selectors.decisions_for(request.user, meeting))
    by_item = {d.item_id: d for d in decisions if d.item_id is not None}
    today, links = timezone.localdate(), RecordLinks()
    rows = [AgendaRow.of(item, by_item.get(item.pk), today, links) for item in items]
    return rows, [d for d in decisions if d.item_id is None]


_STAND_IN = 9_876_543_210  # an id no record has, replaced by each record's own


def _for_each_item(name: str, *fixed: object) -> Callable[[int], str]:
    """The address under `name` of each record, by its id (after the `fixed` arguments, a
    meeting's id for its items), reversed once for the whole agenda: a long agenda's page would
    otherwise spend most of its time in reverse(), several times an item."""
    before, _stand_in, after = reverse(name, args=[*fixed, _STAND_IN]).rpartition(str(_STAND_IN))
    return lambda pk: f"{before}{pk}{after}"


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
        move, remove = (
            _for_each_item("committee:item-move", meeting.pk),
            _for_each_item("committee:item-remove", meeting.pk),
        )
        for row in rows:
            row.move_url, row.remove_url = move(row.item.pk), remove(row.item.pk)
            if failed is not None and failed[0] == row.item.pk:
                row.remove_form = reason = failed[1]
                row.remove_reason = reason["reason"].value() or ""
                row.remove_errors = [str(error) for error in reason["reason"].errors]
        if add_form is None:
            add_form = AgendaItemForm(units=accounts_selectors.business_units_for(user))
    quorum = _quorum(request, meeting)[1]
    in_session = meeting.status in IN_SESSION and not meeting.is_locked
    started = meeting.has_started()
    can_decide = in_session and started and policy.decision_capacity(user, meeting) is not None
    if can_decide:
        decide = _for_each_item("committee:decide", meeting.pk)
        for row in rows:
            row.decide_url = decide(row.item.pk)
    drafted = Minutes.objects.filter(meeting=meeting).exclude(body="").exists()
    context = {
        "step": next_step(meeting, has_minutes=drafted),
        "moved_from": _local(meeting.rescheduled_from, meeting)
        if meeting.rescheduled_from
        else None,
        "started": started,
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
        "can_hold": can_run and meeting.status in MEETING_FLOW["hold"] and started,
        "can_decide": can_decide,
        "can_read_minutes": policy.can_read_minutes(user, meeting),
        "in_session": in_session,
        "quorum": quorum,
    }
    return render(request, "committee/meeting.html", context, status=status)


def _done(request: HttpRequest, meeting: Meeting, message: str, anchor: str = "") -> HttpResponse:
    messages.success(request, message)
    return redirect(reverse("committee:meeting", args=[meeting.pk]) + anchor)
