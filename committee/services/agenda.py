"""The agenda assembles itself from the data; the secretariat adds, reorders and removes items."""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Iterator, Sequence

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from accounts.models import BusinessUnit, User
from actions.models import Action, Directive
from audit import services as audit
from cases.models import Incident, Risk, Severity
from committee import policy
from committee.models import AgendaItem, Meeting
from committee.services.meetings import locked, refuse_if_locked
from systems.models import SuspensionOrder

log = logging.getLogger(__name__)

K = AgendaItem.Kind
EDITABLE = {Meeting.Status.SCHEDULED, Meeting.Status.PUBLISHED}
ESCALATED_TO_COMMITTEE = 3  # actions.chasing: level 3 is the committee stage


def previous_cutoff(meeting: Meeting) -> dt.datetime | None:
    """Where the previous agenda stopped looking: when it was published (its agenda froze
    then), or its start if it never was. What came after belongs to this meeting."""
    previous = (
        Meeting.objects.filter(committee=meeting.committee_id, starts_at__lt=meeting.starts_at)
        .exclude(status=Meeting.Status.CANCELLED)
        .order_by("-starts_at")
        .values("starts_at", "published_at")
        .first()
    )
    if previous is None:
        return None
    return previous["published_at"] or previous["starts_at"]


def _day(moment: dt.datetime | dt.date | None) -> str:
    if moment is None:
        return "—"
    if isinstance(moment, dt.datetime):
        moment = timezone.localtime(moment).date()
    return moment.isoformat()


def _suspensions() -> Iterator[AgendaItem]:
    orders = SuspensionOrder.objects.filter(
        ratification=SuspensionOrder.Ratification.PENDING
    ).select_related("system__unit", "case")
    for order in orders.order_by("issued_at", "pk"):
        system = order.system
        state = "still active" if order.status == SuspensionOrder.Status.ACTIVE else "lifted"
        yield AgendaItem(
            kind=K.SUSPENSION,
            source_key=f"suspension:{order.pk}",
            title=f"Ratify the suspension of {system.code} ({system.name})",
            summary=(
                f"Suspended by the {order.issued_office} on {_day(order.issued_at)} ({state}). "
                f"Reason: {order.reason}"
                + (f" Incident: {order.case.reference}." if order.case else "")
            ),
            unit=system.unit,
            suspension=order,
        )


def _incidents(since: dt.datetime | None, until: dt.datetime) -> Iterator[AgendaItem]:
    incidents = Incident.objects.filter(
        severity__in=[Severity.HIGH, Severity.CRITICAL], reported_at__lt=until
    ).select_related("unit")
    if since is not None:
        incidents = incidents.filter(reported_at__gte=since)
    for incident in incidents.order_by("reported_at", "pk"):
        yield AgendaItem(
            kind=K.INCIDENT,
            source_key=f"incident:{incident.pk}",
            title=f"{incident.reference} {incident.title}",
            summary=(
                f"{incident.get_severity_display()} {incident.get_category_display().lower()} in "
                f"{incident.unit.code}, reported {_day(incident.reported_at)}, now "
                f"{incident.get_status_display().lower()}."
                + (" Personal data involved." if incident.personal_data_involved else "")
            ),
            unit=incident.unit,
            incident=incident,
        )


def _escalated_actions(today: dt.date) -> Iterator[AgendaItem]:
    actions = (
        Action.objects.open()
        .filter(escalation_level__gte=ESCALATED_TO_COMMITTEE, origin_decision__isnull=True)
        .select_related("unit")
    )
    for action in actions.order_by("due_on", "pk"):
        late = (today - action.due_on).days
        yield AgendaItem(
            kind=K.ESCALATED_ACTION,
            source_key=f"action:{action.pk}",
            title=f"{action.reference} {action.title}",
            summary=(
                f"Owned by {action.unit.code}, due {_day(action.due_on)}, {late} days overdue, "
                f"{action.get_status_display().lower()}, {action.percent_done}% done."
            ),
            unit=action.unit,
            action=action,
        )


def _carried_actions(meeting: Meeting, today: dt.date) -> Iterator[AgendaItem]:
    """Actions decided at earlier meetings, carried forward until verified (or cancelled)."""
    actions = (
        Action.objects.open()
        .filter(
            origin_decision__isnull=False, origin_decision__meeting__starts_at__lt=meeting.starts_at
        )
        .filter(origin_decision__meeting__committee=meeting.committee_id)
        .select_related("unit", "origin_decision")
    )
    for action in actions.order_by("due_on", "pk"):
        decision = action.origin_decision
        assert decision is not None  # filtered above
        overdue = f", {(today - action.due_on).days} days overdue" if action.due_on < today else ""
        yield AgendaItem(
            kind=K.CARRIED_ACTION,
            source_key=f"carried:{action.pk}",
            title=f"{action.reference} {action.title}",
            summary=(
                f"Decided in {decision.reference}; owned by {action.unit.code}, "
                f"due {_day(action.due_on)}{overdue}, {action.get_status_display().lower()}."
            ),
            unit=action.unit,
            action=action,
        )


def _risks() -> Iterator[AgendaItem]:
    risks = (
        Risk.objects.filter(above_appetite=True, acceptance_decision__isnull=True)
        .exclude(status=Risk.Status.RETIRED)
        .select_related("unit")
    )
    for risk in risks.order_by("-residual_score", "pk"):
        yield AgendaItem(
            kind=K.RISK,
            source_key=f"risk:{risk.pk}",
            title=f"{risk.reference} {risk.title}",
            summary=(
                f"Residual {risk.residual_score} ({risk.get_residual_level_display().lower()}), "
                f"inherent {risk.inherent_score}; {risk.unit.code}, "
                f"{risk.get_treatment_display().lower()}, {risk.get_status_display().lower()}."
            ),
            unit=risk.unit,
            risk=risk,
        )


def _directives(since: dt.datetime | None, until: dt.datetime) -> Iterator[AgendaItem]:
    directives = Directive.objects.filter(
        status__in=[Directive.Status.ISSUED, Directive.Status.COMPLETED], issued_at__lt=until
    )
    if since is not None:
        directives = directives.filter(issued_at__gte=since)
    for directive in directives.order_by("issued_at", "pk"):
        yield AgendaItem(
            kind=K.DIRECTIVE,
            source_key=f"directive:{directive.pk}",
            title=f"{directive.reference} {directive.title}",
            summary=(
                f"{directive.get_domain_display()} directive from the {directive.issued_office}, "
                f"issued {_day(directive.issued_at)}, deadline {_day(directive.deadline)}, "
                f"{directive.get_status_display().lower()}."
            ),
            directive=directive,
        )


def computed_items(meeting: Meeting, *, now: dt.datetime | None = None) -> list[AgendaItem]:
    """What the data puts on this meeting's agenda, in the order a committee takes it: orders to
    ratify, new incidents, escalated and carried actions, risks, directives. One query a kind."""
    moment = now or timezone.now()
    today = timezone.localdate(moment)
    since = previous_cutoff(meeting)
    until = min(moment, meeting.starts_at)
    return [
        *_suspensions(),
        *_incidents(since, until),
        *_escalated_actions(today),
        *_carried_actions(meeting, today),
        *_risks(),
        *_directives(since, until),
    ]


def assemble_agenda(
    *, actor: User | None, meeting: Meeting, now: dt.datetime | None = None, _locked: bool = False
) -> int:
    """Add what the data says is new to a meeting's draft agenda, after the items already there.
    Items the secretariat removed stay removed; their order is kept. Returns how many were added."""
    with transaction.atomic():
        if not _locked:
            meeting = locked(meeting)
            if actor is not None and not policy.can_run_meeting(actor, meeting):
                raise PermissionDenied(
                    _("Only the committee's secretariat may assemble an agenda.")
                )
        if meeting.status != Meeting.Status.SCHEDULED:
            raise ValidationError(
                {"status": _("Only a draft agenda is assembled; this one is already published.")}
            )
        known = set(AgendaItem.objects.filter(meeting=meeting).values_list("source_key", flat=True))
        last = AgendaItem.objects.filter(meeting=meeting).aggregate(last=Max("position"))["last"]
        new = [item for item in computed_items(meeting, now=now) if item.source_key not in known]
        for position, item in enumerate(new, start=(last or 0) + 1):
            item.meeting = meeting
            item.position = position
        if new:
            bulk_create_with_history(new, AgendaItem)
        return len(new)


def assemble_next_agendas(*, now: dt.datetime | None = None) -> int:
    """Beat, hourly: keep each committee's next draft agenda current, so the secretariat always
    has one to curate before it is published."""
    moment = now or timezone.now()
    upcoming = Meeting.objects.filter(
        status=Meeting.Status.SCHEDULED, starts_at__gt=moment, committee__is_active=True
    ).order_by("committee_id", "starts_at")
    added = 0
    seen: set[int] = set()
    for meeting in upcoming.select_related("committee"):
        if meeting.committee_id in seen:
            continue
        seen.add(meeting.committee_id)
        try:
            added += assemble_agenda(actor=None, meeting=meeting, now=moment)
        except ValidationError:
            # Published meanwhile by another run; one committee must not hold back the rest.
            log.exception("Could not assemble the agenda of meeting %s", meeting.pk)
    return added


def _editable(actor: User, meeting: Meeting, refusal: str) -> Meeting:
    """The meeting, locked, if `actor` may edit its agenda; `refusal` says what they may not do."""
    meeting = locked(meeting)
    if not policy.can_run_meeting(actor, meeting):
        raise PermissionDenied(refusal)
    refuse_if_locked(meeting)
    if meeting.status not in EDITABLE:
        raise ValidationError(
            {
                "status": _("The agenda of a %(status)s meeting is closed.")
                % {"status": meeting.status}
            }
        )
    return meeting


@transaction.atomic
def add_agenda_item(
    *,
    actor: User,
    meeting: Meeting,
    title: str,
    summary: str = "",
    unit: BusinessUnit | None = None,
) -> AgendaItem:
    """The secretariat's own item (other business); after publication it is marked as added."""
    meeting = _editable(
        actor, meeting, _("Only the committee's secretariat may add to the agenda.")
    )
    if not title.strip():
        raise ValidationError({"title": _("Give the item a title.")})
    last = AgendaItem.objects.filter(meeting=meeting).aggregate(last=Max("position"))["last"]
    item = AgendaItem(
        meeting=meeting,
        position=(last or 0) + 1,
        kind=K.OTHER,
        source_key=f"other:{uuid.uuid4().hex}",
        title=title.strip(),
        summary=summary.strip(),
        unit=unit,
        added_by=actor,
        added_after_publication=meeting.status == Meeting.Status.PUBLISHED,
    )
    item.full_clean()
    item.save()
    audit.record(
        actor=actor,
        verb="agenda.item_added",
        target=meeting,
        details={
            "item": item.pk,
            "title": item.title,
            "after_publication": item.added_after_publication,
        },
    )
    return item


@transaction.atomic
def remove_agenda_item(
    *, actor: User, meeting: Meeting, item: AgendaItem, reason: str = ""
) -> AgendaItem:
    """Take an item off (kept, marked removed, so assembly does not bring it back)."""
    meeting = _editable(
        actor, meeting, _("Only the committee's secretariat may remove agenda items.")
    )
    item = AgendaItem.objects.select_for_update().get(pk=item.pk, meeting=meeting)
    if item.removed_at is not None:
        return item
    if item.decisions.exists():
        raise ValidationError({"item": _("An item with a decision stays on the agenda.")})
    item.removed_at = timezone.now()
    item.removed_by = actor
    item.save(update_fields=["removed_at", "removed_by"])
    audit.record(
        actor=actor,
        verb="agenda.item_removed",
        target=meeting,
        details={"item": item.pk, "title": item.title, "reason": reason.strip()},
    )
    return item


@transaction.atomic
def reorder_agenda(*, actor: User, meeting: Meeting, order: Sequence[int]) -> list[AgendaItem]:
    """Put the agenda's items in the given order (every current item, each once)."""
    meeting = _editable(
        actor, meeting, _("Only the committee's secretariat may reorder the agenda.")
    )
    items = {i.pk: i for i in meeting.items.filter(removed_at__isnull=True).select_for_update()}
    if sorted(order) != sorted(items) or len(set(order)) != len(order):
        raise ValidationError(
            {"order": _("List every item on the agenda exactly once (ids of items not removed).")}
        )
    changed = []
    for position, pk in enumerate(order, start=1):
        if items[pk].position != position:
            items[pk].position = position
            changed.append(items[pk])
    bulk_update_with_history(changed, AgendaItem, ["position"])
    audit.record(
        actor=actor, verb="agenda.reordered", target=meeting, details={"order": list(order)}
    )
    return [items[pk] for pk in order]


@transaction.atomic
def mark_discussed(*, actor: User, meeting: Meeting, item: AgendaItem) -> AgendaItem:
    meeting = locked(meeting)
    if not policy.can_run_meeting(actor, meeting):
        raise PermissionDenied(_("Only the committee's secretariat may mark items discussed."))
    refuse_if_locked(meeting)
    if meeting.status not in {Meeting.Status.PUBLISHED, Meeting.Status.HELD}:
        raise ValidationError({"status": _("Items are discussed once the agenda is published.")})
    item = AgendaItem.objects.select_for_update().get(pk=item.pk, meeting=meeting)
    if item.discussed_at is None:
        item.discussed_at = timezone.now()
        item.save(update_fields=["discussed_at"])
        audit.record(
            actor=actor, verb="agenda.item_discussed", target=meeting, details={"item": item.pk}
        )
    return item
