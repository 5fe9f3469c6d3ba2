"""The agenda assembles itself from the data; the secretariat adds, reorders and removes items."""

from __future__ import annotations

import datetime as dt
import json
import logging
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, fields
from operator import attrgetter
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import (
    CharField,
    Count,
    Exists,
    F,
    Max,
    Model,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    Window,
)
from django.db.models.functions import Cast, Concat, RowNumber
from django.utils import timezone
from django.utils.translation import gettext as _
from simple_history.utils import bulk_update_with_history

from accounts.models import BusinessUnit, User
from actions.chasing import COMMITTEE_STAGE
from actions.models import Action, Directive
from audit import services as audit
from cases.models import Incident, Risk, Severity
from committee import policy, sayings
from committee.models import AgendaItem, Meeting
from committee.services.meetings import locked, refuse_if_locked
from config.sql import insert_history, insert_rows, the_rest
from config.text import fit, one_line
from quality.models import WITHDRAWN, QualityFlag, QualityReport
from systems.models import SuspensionOrder
from vulnerabilities.models import DiscoveredAsset, Finding
from vulnerabilities.models import Severity as VulnerabilitySeverity

log = logging.getLogger(__name__)

K = AgendaItem.Kind
EDITABLE = {Meeting.Status.SCHEDULED, Meeting.Status.PUBLISHED}
COMPUTED = [kind for kind in K if kind != K.OTHER]  # what the data puts on an agenda
# What an assembly reads, however big the data: the meeting (locked), its agenda's items and the
# ones among them to refresh, the previous meeting, and one query a computed kind. (Refreshing a
# flagged project's item reads its flag: one more, however many.) Its writes are the new items
# with their history, one statement on PostgreSQL, and the audit event.
ASSEMBLY_READS = 4 + len(COMPUTED)
NAMED = 3  # a unit's escalated actions item names its oldest few
NAMED_SYSTEMS = 5  # a unit's vulnerabilities item names its first few systems


@dataclass(frozen=True, slots=True)
class Proposed:
    """An item the data calls for, before it is on an agenda: what it says, and what it is
    about (the unit, and at most one record)."""

    kind: str
    source_key: str
    title: str
    summary: str
    said: dict[str, Any] | None = None  # the summary as data, said in each reader's language
    unit_id: int | None = None
    incident_id: int | None = None
    risk_id: int | None = None
    action_id: int | None = None
    suspension_id: int | None = None
    directive_id: int | None = None
    project_id: int | None = None

    def __post_init__(self) -> None:
        # Composed from names and titles that are each as long as their own columns allow:
        # made to fit the item's, whatever they hold.
        object.__setattr__(self, "title", fit(AgendaItem, "title", self.title))


WRITTEN = [f.name for f in fields(Proposed)]  # the AgendaItem columns a Proposed fills
_values = attrgetter(*WRITTEN)
_SAID = WRITTEN.index("said")


def written(item: Proposed) -> tuple[Any, ...]:
    """The row a Proposed writes through `insert_rows`. Its data goes as JSON text, which the
    database stores as the field would."""
    values = list(_values(item))
    if values[_SAID] is not None:
        values[_SAID] = json.dumps(values[_SAID])
    return tuple(values)


def _write(
    meeting: Meeting, new: list[Proposed], *, after: int, when: dt.datetime, user_id: int | None
) -> None:
    """The new items, placed after position `after`, and their history rows (created by
    `user_id`, at `when`). On PostgreSQL one statement: the items go as one JSON document,
    which the server reads into rows of the item table (`json_populate_recordset`), and
    their history is made from the rows the insert returns. Sent as arrays a column instead,
    each value is quoted in Python, which cost more than the insert; the history read back
    from the table is one more statement. Elsewhere, the rows, then their history."""
    columns = ["meeting_id", "position", *WRITTEN]
    if connection.vendor != "postgresql":
        insert_rows(
            AgendaItem,
            columns,
            ((meeting.pk, position, *written(item)) for position, item in _placed(new, after)),
        )
        insert_history(
            AgendaItem.objects.filter(meeting=meeting, position__gt=after),
            when=when,
            user_id=user_id,
        )
        return
    # A row's keys are its columns; a link it does not have is left out (null).
    rows = [
        {
            "position": position,
            **{k: v for k, v in zip(WRITTEN, _values(item), strict=True) if v is not None},
        }
        for position, item in _placed(new, after)
    ]
    rest = {"meeting_id": meeting.pk, **the_rest(AgendaItem, columns)}
    by_column = {field.column: field for field in AgendaItem._meta.concrete_fields}
    same = [by_column[column].get_db_prep_save(value, connection) for column, value in rest.items()]
    history = AgendaItem.history.model
    tracked = ", ".join(
        _quote(str(field.column))
        for field in history._meta.concrete_fields
        if not field.name.startswith("history_")
    )
    given = [column for column in columns if column != "meeting_id"]
    statement = (
        f"WITH written AS (INSERT INTO {_quote(AgendaItem._meta.db_table)} "  # noqa: S608  # nosec B608 - names from models
        f"({', '.join(_quote(column) for column in [*given, *rest])}) "
        f"SELECT {', '.join(f'item.{_quote(column)}' for column in given)}"
        f"{''.join(', %s' for _ in rest)} "
        f"FROM json_populate_recordset(NULL::{_quote(AgendaItem._meta.db_table)}, %s) item "
        f"RETURNING {tracked}) "
        f"INSERT INTO {_quote(history._meta.db_table)} "
        f"({tracked}, history_date, history_type, history_user_id) "
        f"SELECT {tracked}, %s, '+', %s FROM written"
    )
    with connection.cursor() as cursor:
        cursor.execute(statement, [*same, json.dumps(rows, separators=(",", ":")), when, user_id])


def _placed(new: list[Proposed], after: int) -> Iterator[tuple[int, Proposed]]:
    return enumerate(new, start=after + 1)


def _quote(name: str) -> str:
    return str(connection.ops.quote_name(name))


class Labels:
    """Choice labels in the current language, each translated once an assembly: rendering a
    lazy label costs more than reading the row it describes."""

    def __init__(self) -> None:
        self._labels: dict[tuple[type[Model], str], dict[object, str]] = {}

    def __call__(self, model: type[Model], field: str, value: object) -> str:
        key = (model, field)
        if key not in self._labels:
            choices = model._meta.get_field(field).flatchoices  # type: ignore[union-attr]
            self._labels[key] = {value: str(label) for value, label in choices}
        return self._labels[key].get(value, str(value))


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


def _suspensions() -> Iterator[Proposed]:
    orders = SuspensionOrder.objects.filter(ratification=SuspensionOrder.Ratification.PENDING)
    rows = orders.order_by("issued_at", "pk").values(
        "pk", "status", "issued_office", "issued_at", "reason", "case__reference",
        "system__code", "system__name", "system__unit_id",
    )  # fmt: skip
    for order in rows:
        state = "still active" if order["status"] == SuspensionOrder.Status.ACTIVE else "lifted"
        case = order["case__reference"]
        yield Proposed(
            kind=K.SUSPENSION,
            source_key=f"suspension:{order['pk']}",
            title=f"Ratify the suspension of {order['system__code']} ({order['system__name']})",
            summary=(
                f"Suspended by the {order['issued_office']} on {_day(order['issued_at'])} "
                f"({state}). Reason: {order['reason']}" + (f" Incident: {case}." if case else "")
            ),
            unit_id=order["system__unit_id"],
            suspension_id=order["pk"],
        )


def _incidents(since: dt.datetime | None, until: dt.datetime, label: Labels) -> Iterator[Proposed]:
    incidents = Incident.objects.filter(
        severity__in=[Severity.HIGH, Severity.CRITICAL], reported_at__lt=until
    )
    if since is not None:
        incidents = incidents.filter(reported_at__gte=since)
    rows = incidents.order_by("reported_at", "pk").values(
        "pk", "reference", "title", "severity", "category", "status", "reported_at",
        "personal_data_involved", "unit_id", "unit__code",
    )  # fmt: skip
    for incident in rows:
        yield Proposed(
            kind=K.INCIDENT,
            source_key=f"incident:{incident['pk']}",
            title=f"{incident['reference']} {incident['title']}",
            summary=(
                f"{label(Incident, 'severity', incident['severity'])} "
                f"{label(Incident, 'category', incident['category']).lower()} in "
                f"{incident['unit__code']}, reported {_day(incident['reported_at'])}, now "
                f"{label(Incident, 'status', incident['status']).lower()}."
                + (" Personal data involved." if incident["personal_data_involved"] else "")
            ),
            unit_id=incident["unit_id"],
            incident_id=incident["pk"],
        )


def _escalated_actions(today: dt.date) -> Iterator[Proposed]:
    """Actions chased up to the committee, one item a unit: the unit answers for them together,
    and a committee cannot take thousands one by one. Each item says how many and how late,
    and names the oldest few; units come in order of their oldest. One query, which reads only
    the named rows."""
    escalated = Action.objects.open().filter(
        chase_notices__stage=COMMITTEE_STAGE, origin_decision__isnull=True
    )
    rows = (
        escalated.annotate(
            escalated=Window(Count("pk"), partition_by=[F("unit_id")]),
            rank=Window(RowNumber(), partition_by=[F("unit_id")], order_by=[F("due_on"), F("pk")]),
        )
        .filter(rank__lte=NAMED)
        .order_by("due_on", "pk")
        .values("unit_id", "unit__code", "unit__name", "reference", "due_on", "escalated")
    )
    units: dict[int, list[Any]] = {}
    for row in rows:
        units.setdefault(row["unit_id"], []).append(row)
    for unit_id, named in units.items():
        oldest, count = named[0], named[0]["escalated"]
        said = sayings.escalated(
            count=count,
            oldest_due=_day(oldest["due_on"]),
            overdue_days=(today - oldest["due_on"]).days,
            references=[row["reference"] for row in named],
        )
        yield Proposed(
            kind=K.ESCALATED_ACTION,
            source_key=f"escalated:{unit_id}",
            title=f"{oldest['unit__code']} {oldest['unit__name']}: actions escalated to the "
            "committee",
            summary=sayings.in_english(sayings.say_escalated, said),
            said=said,
            unit_id=unit_id,
        )


def _vulnerabilities(today: dt.date) -> Iterator[Proposed]:
    """Units with open critical findings past their due date, or open findings of a
    vulnerability exploited in the wild (KEV), one item a unit: the unit answers for them
    together. Each says how many of each, on which systems; the units with most overdue
    criticals come first. One query, a row per affected system."""
    overdue_critical = Q(severity=VulnerabilitySeverity.CRITICAL, due_on__lt=today)
    exploited = Q(vulnerability__kev=True)
    rows = (
        Finding.objects.unresolved()
        .filter(overdue_critical | exploited)
        .order_by()
        .values("system__unit_id", "system__unit__code", "system__unit__name", "system__code")
        .annotate(critical=Count("pk", filter=overdue_critical), kev=Count("pk", filter=exploited))
        .order_by("system__unit__code", "system__code")
    )
    units: dict[int, list[Any]] = {}
    for row in rows:
        units.setdefault(row["system__unit_id"], []).append(row)

    def worst_first(unit: list[Any]) -> tuple[int, int, str]:
        return (
            -sum(r["critical"] for r in unit),
            -sum(r["kev"] for r in unit),
            unit[0]["system__unit__code"],
        )

    for systems in sorted(units.values(), key=worst_first):
        first = systems[0]
        said = sayings.vulnerable(
            overdue_critical=sum(row["critical"] for row in systems),
            kev=sum(row["kev"] for row in systems),
            systems=[row["system__code"] for row in systems[:NAMED_SYSTEMS]],
            system_count=len(systems),
        )
        yield Proposed(
            kind=K.VULNERABILITIES,
            source_key=f"vulnerabilities:{first['system__unit_id']}",
            title=f"{first['system__unit__code']} {first['system__unit__name']}: overdue "
            "critical and exploited vulnerabilities",
            summary=sayings.in_english(sayings.say_vulnerabilities, said),
            said=said,
            unit_id=first["system__unit_id"],
        )


def _unclaimed_assets(today: dt.date) -> Iterator[Proposed]:
    """Internet-facing addresses nobody has claimed past the CISO's deadline to triage them:
    one item, naming the first few, the oldest first. One query."""
    rows = list(
        DiscoveredAsset.objects.filter(state=DiscoveredAsset.State.NEW, due_on__lt=today)
        .order_by("due_on", "address")
        .values_list("address", "due_on")
    )
    if not rows:
        return
    said = sayings.unclaimed(
        count=len(rows),
        addresses=[address for address, _due in rows[:NAMED_SYSTEMS]],
        oldest_due=_day(rows[0][1]),
    )
    yield Proposed(
        kind=K.UNCLAIMED_ASSETS,
        source_key="unclaimed-assets",
        title="Internet-facing assets unclaimed past the CISO's deadline",
        summary=sayings.in_english(sayings.say_unclaimed, said),
        said=said,
    )


def _carried_actions(meeting: Meeting, today: dt.date, label: Labels) -> Iterator[Proposed]:
    """Actions decided at earlier meetings, carried forward until verified (or cancelled)."""
    actions = (
        Action.objects.open()
        .filter(
            origin_decision__isnull=False, origin_decision__meeting__starts_at__lt=meeting.starts_at
        )
        .filter(origin_decision__meeting__committee=meeting.committee_id)
    )
    rows = actions.order_by("due_on", "pk").values(
        "pk", "reference", "title", "due_on", "status", "unit_id", "unit__code",
        "origin_decision__reference",
    )  # fmt: skip
    for action in rows:
        due = action["due_on"]
        overdue = f", {(today - due).days} days overdue" if due < today else ""
        yield Proposed(
            kind=K.CARRIED_ACTION,
            source_key=f"carried:{action['pk']}",
            title=f"{action['reference']} {action['title']}",
            summary=(
                f"Decided in {action['origin_decision__reference']}; owned by "
                f"{action['unit__code']}, due {_day(due)}{overdue}, "
                f"{label(Action, 'status', action['status']).lower()}."
            ),
            unit_id=action["unit_id"],
            action_id=action["pk"],
        )


def _risks(label: Labels) -> Iterator[Proposed]:
    risks = Risk.objects.filter(above_appetite=True, acceptance_decision__isnull=True).exclude(
        status=Risk.Status.RETIRED
    )
    rows = risks.order_by("-residual_score", "pk").values(
        "pk", "reference", "title", "residual_score", "residual_level", "inherent_score",
        "treatment", "status", "unit_id", "unit__code",
    )  # fmt: skip
    for risk in rows:
        yield Proposed(
            kind=K.RISK,
            source_key=f"risk:{risk['pk']}",
            title=f"{risk['reference']} {risk['title']}",
            summary=(
                f"Residual {risk['residual_score']} "
                f"({label(Risk, 'residual_level', risk['residual_level']).lower()}), "
                f"inherent {risk['inherent_score']}; {risk['unit__code']}, "
                f"{label(Risk, 'treatment', risk['treatment']).lower()}, "
                f"{label(Risk, 'status', risk['status']).lower()}."
            ),
            unit_id=risk["unit_id"],
            risk_id=risk["pk"],
        )


def _directives(since: dt.datetime | None, until: dt.datetime, label: Labels) -> Iterator[Proposed]:
    directives = Directive.objects.filter(
        status__in=[Directive.Status.ISSUED, Directive.Status.COMPLETED], issued_at__lt=until
    )
    if since is not None:
        directives = directives.filter(issued_at__gte=since)
    rows = directives.order_by("issued_at", "pk").values(
        "pk", "reference", "title", "domain", "issued_office", "issued_at", "deadline", "status"
    )
    for directive in rows:
        yield Proposed(
            kind=K.DIRECTIVE,
            source_key=f"directive:{directive['pk']}",
            title=f"{directive['reference']} {directive['title']}",
            summary=(
                f"{label(Directive, 'domain', directive['domain'])} directive from the "
                f"{directive['issued_office']}, issued {_day(directive['issued_at'])}, "
                f"deadline {_day(directive['deadline'])}, "
                f"{label(Directive, 'status', directive['status']).lower()}."
            ),
            directive_id=directive["pk"],
        )


def _quality_flags(meeting: Meeting, until: dt.datetime, label: Labels) -> Iterator[Proposed]:
    """Projects quality control flagged that no agenda of this committee has taken yet (a
    cancelled meeting's does not count): each flag comes to exactly one agenda, whenever its
    report committed, even while the previous agenda was being published. A project stays
    flagged, and is not raised again, until a healthy report clears it."""
    taken = AgendaItem.objects.filter(
        meeting__committee=meeting.committee_id,
        kind=K.QUALITY_FLAG,
        source_key=Concat(Value("quality:"), Cast(OuterRef("pk"), CharField())),
    ).exclude(meeting__status=Meeting.Status.CANCELLED)
    flags = (
        QualityFlag.objects.filter(raised_at__lt=until).exclude(WITHDRAWN).exclude(Exists(taken))
    )
    for flag in _facts(flags.order_by("raised_at", "pk")):
        yield Proposed(
            kind=K.QUALITY_FLAG,
            source_key=f"quality:{flag['pk']}",
            title=f"{flag['project__reference']} {flag['project__name']}: flagged by quality "
            "control",
            summary=sayings.in_english(sayings.say_flag, said := sayings.flagged(flag)),
            said=said,
            unit_id=flag["project__unit_id"],
            project_id=flag["project_id"],
        )


FLAG_FACTS = (
    "pk", "red", "trending", "project_id", "project__reference", "project__name",
    "project__phase", "project__unit_id", "project__unit__code", "report_id", "report__period",
    "report__spi", "report__cpi", "cleared_by_report_id", "cleared_by_report__period",
)  # fmt: skip


def _facts(flags: QuerySet[QualityFlag]) -> QuerySet[QualityFlag, dict[str, Any]]:
    """What a flag's item says, read in one query however many flags: with the project's latest
    report, which a flag still open after later months is judged at."""
    latest = QualityReport.objects.filter(project=OuterRef("project_id")).order_by("-period")
    return flags.annotate(
        latest_period=Subquery(latest.values("period")[:1]),
        latest_rag=Subquery(latest.values("rag")[:1]),
    ).values(*FLAG_FACTS, "latest_period", "latest_rag")


def _refresh_quality_flags(items: list[AgendaItem]) -> None:
    """A flagged project's item says what is true of its flag now, until the agenda is
    published: a correction may have restated the flag or withdrawn it (the secretariat then
    removes the item, or keeps it to note the mistake), a healthy report may have cleared it."""
    if not items:
        return
    keys = {item.source_key.removeprefix("quality:") for item in items}
    flags = QualityFlag.objects.filter(pk__in=[int(key) for key in keys if key.isdigit()])
    _resay(
        items,
        {f"quality:{flag['pk']}": sayings.flagged(flag) for flag in _facts(flags)},
        say=sayings.say_flag,
    )


def computed_items(meeting: Meeting, *, now: dt.datetime | None = None) -> list[Proposed]:
    """What the data puts on this meeting's agenda, in the order a committee takes it: orders to
    ratify, new incidents, escalated and carried actions, risks, units' overdue critical and
    exploited vulnerabilities, flagged projects, directives. One query a kind,
    rows read as values: thousands of items cost milliseconds, not model instances."""
    moment = now or timezone.now()
    today = timezone.localdate(moment)
    since = previous_cutoff(meeting)
    until = min(moment, meeting.starts_at)
    label = Labels()
    return [
        *_suspensions(),
        *_incidents(since, until, label),
        *_escalated_actions(today),
        *_carried_actions(meeting, today, label),
        *_risks(label),
        *_vulnerabilities(today),
        *_unclaimed_assets(today),
        *_quality_flags(meeting, until, label),
        *_directives(since, until, label),
    ]


def assemble_agenda(
    *, actor: User | None, meeting: Meeting, now: dt.datetime | None = None, _locked: bool = False
) -> int:
    """Add what the data says is new to a meeting's draft agenda, after the items already there,
    and bring each unit's escalated actions item up to date. Items the secretariat removed stay
    removed; their order is kept. Items about escalated actions and flagged projects say what is
    true of them now. Returns how many were added."""
    with transaction.atomic():
        if not _locked:
            meeting = locked(meeting)
            if actor is not None and not policy.can_run_meeting(actor, meeting):
                raise PermissionDenied(
                    _("Only the committee's secretariat or its chair may assemble an agenda.")
                )
        if meeting.status != Meeting.Status.SCHEDULED:
            raise ValidationError(
                {"status": _("Only a draft agenda is assembled; this one is already published.")}
            )
        present = AgendaItem.objects.filter(meeting=meeting)
        placed = dict(present.values_list("source_key", "position"))
        last = max(placed.values(), default=0)
        computed = computed_items(meeting, now=now)
        _refresh(present, computed)
        new = [item for item in computed if item.source_key not in placed]
        if new:
            _write(
                meeting,
                new,
                after=last,
                when=timezone.now(),
                user_id=actor.pk if actor is not None else None,
            )
        if actor is not None or new:
            # A person's assembly is on the record even when it found nothing new; the hourly
            # run only when it changed the agenda, so the trail is not an hourly heartbeat.
            audit.record(
                actor=actor,
                verb="agenda.assembled",
                target=meeting,
                details={"added": len(new), "items": [item.source_key for item in new[:100]]},
            )
        return len(new)


# The items assembly words anew until the agenda is published: how each is worded, and what it
# says once the data no longer calls for it.
RESAID: dict[str, tuple[Callable[[dict[str, Any]], str], dict[str, Any]]] = {
    K.ESCALATED_ACTION: (sayings.say_escalated, sayings.NONE_LEFT),
    K.VULNERABILITIES: (sayings.say_vulnerabilities, sayings.NO_VULNERABILITIES_LEFT),
    K.UNCLAIMED_ASSETS: (sayings.say_unclaimed, sayings.NO_UNCLAIMED_LEFT),
}


def _refresh(present: QuerySet[AgendaItem], computed: list[Proposed]) -> None:
    """Each draft item that says what is true now gets what the data says of it now, the items
    read in one query: a unit's escalated actions (more may have been escalated, or some
    finished, since it was added) and its vulnerabilities (findings fixed, or fallen due), the
    unclaimed assets, a flagged project (`_refresh_quality_flags`)."""
    items: dict[str, list[AgendaItem]] = {kind: [] for kind in [*RESAID, K.QUALITY_FLAG]}
    current = present.filter(kind__in=list(items), removed_at__isnull=True)
    # An escalated action's own item, as agendas had before one item a unit, stays as it was.
    for item in current.exclude(kind=K.ESCALATED_ACTION, action__isnull=False):
        items[item.kind].append(item)
    for kind, (say, missing) in RESAID.items():
        said = {item.source_key: item.said for item in computed if item.kind == kind}
        _resay(items[kind], said, say=say, missing=missing)
    _refresh_quality_flags(items[K.QUALITY_FLAG])


def _resay(
    items: Iterable[AgendaItem],
    said: Mapping[str, dict[str, Any] | None],
    *,
    say: Callable[[dict[str, Any]], str],
    missing: dict[str, Any] | None = None,
) -> None:
    """Give each draft item what the data says of it now, by its source key (`missing` for one
    the data no longer calls for, or as it was): kept as data for every reader's language, and
    in English as the stored summary; the changed ones in one statement."""
    changed = []
    for item in items:
        now = said.get(item.source_key, missing)
        if now is not None and item.said != now:
            item.said = now
            item.summary = sayings.in_english(say, now)
            changed.append(item)
    if changed:
        bulk_update_with_history(changed, AgendaItem, ["said", "summary"])


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
                % {"status": meeting.get_status_display().lower()}
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
        actor, meeting, _("Only the committee's secretariat or its chair may add to the agenda.")
    )
    title = one_line(title)
    if not title:
        raise ValidationError({"title": _("Give the item a title.")})
    last = AgendaItem.objects.filter(meeting=meeting).aggregate(last=Max("position"))["last"]
    item = AgendaItem(
        meeting=meeting,
        position=(last or 0) + 1,
        kind=K.OTHER,
        source_key=f"other:{uuid.uuid4().hex}",
        title=title,
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
        actor, meeting, _("Only the committee's secretariat or its chair may remove agenda items.")
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
        actor, meeting, _("Only the committee's secretariat or its chair may reorder the agenda.")
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
        raise PermissionDenied(
            _("Only the committee's secretariat or its chair may mark items discussed.")
        )
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
