"""A meeting's life: publish the agenda (freezing chair and roster), move, cancel, hold, record
attendance, and the invitations each of those sends once."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from accounts import policy as accounts_policy
from accounts.models import Delegation, User
from audit import services as audit
from committee import ical, policy
from committee.models import AgendaItem, Attendance, Committee, Meeting, MeetingNotice
from config import dates, mail
from config.errors import Conflict
from config.lifecycle import next_status
from config.text import fit, one_line
from outbox import relay as outbox

log = logging.getLogger(__name__)

M = Meeting.Status
# scheduled → agenda published → held → minutes approved; or cancelled. Declared once.
MEETING_FLOW: dict[str, dict[str, str]] = {
    "publish": {M.SCHEDULED: M.PUBLISHED},
    "hold": {M.PUBLISHED: M.HELD},
    "approve": {M.HELD: M.APPROVED},
    "cancel": {M.SCHEDULED: M.CANCELLED, M.PUBLISHED: M.CANCELLED},
}
IN_SESSION = {M.PUBLISHED, M.HELD}

# How far ahead the daily beat keeps each committee's meetings scheduled, and how far ahead the
# secretariat may plan an exception to its cadence (a skipped or moved meeting).
HORIZON = relativedelta(months=3)
EXCEPTION_REACH = relativedelta(years=1)


def locked(meeting: Meeting) -> Meeting:
    return Meeting.objects.select_for_update().select_related("committee").get(pk=meeting.pk)


def refuse_if_locked(meeting: Meeting) -> None:
    if meeting.is_locked:
        raise Conflict(
            _(
                "The minutes of this meeting are approved and its record is locked; record a "
                "correction instead."
            ),
            code="locked",
        )


def refuse_before_start(meeting: Meeting, field: str, refusal: str) -> None:
    """What happens at a meeting happens once it has started: `refusal` names the act and
    receives the start on the committee's clock as %(start)s."""
    if not meeting.has_started():
        start = dates.local(meeting.starts_at, meeting.committee.zone)
        raise ValidationError(
            {field: refusal % {"start": f"{start:%Y-%m-%d %H:%M} ({meeting.committee.time_zone})"}}
        )


def _authorize_secretariat(actor: User | None, meeting: Meeting, refusal: str) -> None:
    """`actor=None` is the scheduler acting on the committee's own rules (beat, exceptions);
    `refusal` is the whole sentence a refused actor hears."""
    if actor is not None and not policy.can_run_meeting(actor, meeting):
        raise PermissionDenied(refusal)


def _queue_notices(meeting: Meeting, recipients: Iterable[int], method: str) -> int:
    """Outbox rows, one per person for the meeting's current SEQUENCE, mailed after commit."""
    rows = [
        MeetingNotice(meeting=meeting, recipient_id=pk, sequence=meeting.sequence, method=method)
        for pk in set(recipients)
    ]
    MeetingNotice.objects.bulk_create(rows, ignore_conflicts=True)
    from committee.tasks import send_meeting_notices  # tasks import services: resolve late

    outbox.enqueue(send_meeting_notices, meeting.pk)
    return len(rows)


def _roster_people(meeting: Meeting) -> list[int]:
    return list(meeting.attendance.values_list("person_id", flat=True))


def _acting_delegates(office_ids: list[int], at: dt.datetime) -> dict[int, User]:
    acting: dict[int, User] = {}
    for delegation in (
        Delegation.objects.active(at).filter(office_id__in=office_ids).select_related("delegate")
    ):
        acting.setdefault(delegation.office_id, delegation.delegate)
    return acting


def _freeze_roster(meeting: Meeting, at: dt.datetime) -> list[Attendance]:
    """Resolve every seat to whoever fills it now: the office's holder, or its acting delegate
    when the office is vacant. The chair's seat comes first."""
    committee: Committee = meeting.committee
    seats = list(committee.members.select_related("office__holder", "person"))
    offices = [committee.chair_office, *(s.office for s in seats if s.office is not None)]
    acting = _acting_delegates([o.pk for o in offices if o.holder_id is None], at)

    def filled_by(office: object) -> User | None:
        return getattr(office, "holder", None) or acting.get(getattr(office, "pk", 0))

    rows: dict[int, Attendance] = {}
    chair = filled_by(committee.chair_office)
    if chair is not None:
        rows[chair.pk] = Attendance(
            meeting=meeting,
            person=chair,
            office=committee.chair_office.code,
            kind=Attendance.Kind.VOTING,
            is_chair=True,
        )
    for seat in seats:
        person = seat.person or filled_by(seat.office)
        if person is None or person.pk in rows:
            continue
        rows[person.pk] = Attendance(
            meeting=meeting,
            person=person,
            office=seat.office.code if seat.office else "",
            kind=seat.kind,
        )
    return bulk_create_with_history(list(rows.values()), Attendance)


def _freeze_facts(meeting: Meeting) -> None:
    """Keep with each item the facts the committee is asked to decide on, as they are now:
    a held meeting shows what it saw, not what became true later. Set-based: the items with
    their records in one read, their facts in one bulk update."""
    from committee.facts import is_overdue, values_of  # facts reads the other apps' models

    day = dates.local(meeting.starts_at, meeting.committee.zone).date()
    items = list(
        AgendaItem.objects.filter(meeting=meeting, removed_at__isnull=True).select_related(
            "unit", "incident", "risk", "action", "suspension__system", "directive", "project"
        )
    )
    for item in items:
        values = values_of(item)
        item.facts_frozen = {**values, "overdue": is_overdue(values, day)}
    AgendaItem.objects.bulk_update(items, ["facts_frozen"], batch_size=1000)


@transaction.atomic
def publish_agenda(*, actor: User | None, meeting: Meeting) -> Meeting:
    """Publish the agenda: assembled one last time, the chair and the roster frozen, and every
    attendee sent an invitation (iCalendar REQUEST) once."""
    from committee.services.agenda import assemble_agenda  # agenda imports this module

    meeting = locked(meeting)
    _authorize_secretariat(
        actor, meeting, _("Only the committee's secretariat or its chair may publish an agenda.")
    )
    published = next_status(meeting.status, "publish", MEETING_FLOW, "a meeting")
    assemble_agenda(actor=actor, meeting=meeting, _locked=True)
    meeting.status = published
    now = timezone.now()
    roster = _freeze_roster(meeting, now)
    chair = next((row for row in roster if row.is_chair), None)
    meeting.chair = chair.person if chair else None
    if chair is not None:
        vacant = meeting.committee.chair_office.holder_id is None
        meeting.chair_capacity = "acting" if vacant else "holder"
    _freeze_facts(meeting)
    meeting.published_at = now
    meeting.published_by = actor
    meeting.save(
        update_fields=[
            "status",
            "chair",
            "chair_capacity",
            "published_at",
            "published_by",
            "updated_at",
        ]
    )
    audit.record(
        actor=actor,
        verb="meeting.agenda_published",
        target=meeting,
        details={
            "starts_at": meeting.starts_at.isoformat(),
            "items": meeting.items.filter(removed_at__isnull=True).count(),
            "chair": meeting.chair_id,
            "attendees": sorted(row.person_id for row in roster),
        },
    )
    _queue_notices(meeting, (row.person_id for row in roster), MeetingNotice.Method.REQUEST)
    return meeting


def publish_due_agendas(*, now: dt.datetime | None = None) -> int:
    """Beat, hourly: publish every agenda whose lead time has come. A meeting another run has
    published already is skipped, so a second beat (or a retry) publishes nothing twice."""
    moment = now or timezone.now()
    due = [
        meeting
        for meeting in Meeting.objects.filter(
            status=M.SCHEDULED,
            committee__is_active=True,
            starts_at__gt=moment,
            starts_at__lte=moment + dt.timedelta(days=366),
        ).select_related("committee")
        if meeting.starts_at - dt.timedelta(days=meeting.committee.agenda_lead_days) <= moment
    ]
    published = 0
    for meeting in due:
        try:
            with transaction.atomic():
                current = locked(meeting)
                if current.status != M.SCHEDULED:
                    continue
                publish_agenda(actor=None, meeting=current)
                published += 1
        except (ValidationError, Conflict):
            # One meeting that cannot be published must not hold back the others'.
            log.exception("Could not publish the agenda of meeting %s", meeting.pk)
    return published


def latest_start(committee: Committee, day: dt.date, now: dt.datetime) -> dt.datetime:
    """The latest a meeting of the cadence's `day` may move to: the scheduling horizon past that
    day, or past now once the day has come. A day beyond the exceptions' reach counts as at
    that reach, so a meeting stored with an absurd date (before this was checked) is not a
    licence to move it anywhere."""
    reach = (now + EXCEPTION_REACH).astimezone(committee.zone).date()
    anchor = dt.datetime.combine(min(day, reach), dt.time.min, tzinfo=committee.zone)
    return max(now, anchor) + HORIZON


def start_refusal(
    committee: Committee, starts_at: dt.datetime, *, day: dt.date, now: dt.datetime
) -> str | None:
    """Why a meeting of the cadence's `day` cannot move to `starts_at`, or None: it moves to a
    time still ahead, within the horizon the committee is scheduled to."""
    if not dates.in_window(starts_at):
        return dates.window_message()
    if starts_at <= now:
        return _("Move the meeting to a time still ahead.")
    latest = latest_start(committee, day, now)
    if starts_at > latest:
        return _(
            "Move the meeting no later than %(latest)s (%(zone)s), three months past its date."
        ) % {
            "latest": latest.astimezone(committee.zone).strftime("%Y-%m-%d %H:%M"),
            "zone": committee.time_zone,
        }
    return None


def day_of(meeting: Meeting) -> dt.date:
    """The day a meeting stands for: its cadence date, or its own for an extraordinary one."""
    return meeting.cadence_date or dates.local(meeting.starts_at, meeting.committee.zone).date()


def move(meeting: Meeting, *, starts_at: dt.datetime, actor: User | None, reason: str) -> Meeting:
    """Move a (locked) meeting; once its agenda is out, the attendees get an updated invitation."""
    previous = meeting.starts_at
    duration = meeting.ends_at - meeting.starts_at
    meeting.starts_at = starts_at
    meeting.ends_at = starts_at + duration
    # Where it first stood stays, so every page can say "moved from"; the latest reason with it.
    meeting.rescheduled_from = meeting.rescheduled_from or previous
    meeting.reschedule_reason = fit(Meeting, "reschedule_reason", one_line(reason))
    # RFC 5545: a new DTSTART is a new SEQUENCE, mailed or not (feeds and downloads show it).
    meeting.sequence += 1
    meeting.save(
        update_fields=[
            "starts_at",
            "ends_at",
            "rescheduled_from",
            "reschedule_reason",
            "sequence",
            "updated_at",
        ]
    )
    audit.record(
        actor=actor,
        verb="meeting.rescheduled",
        target=meeting,
        details={"from": previous.isoformat(), "to": starts_at.isoformat(), "reason": reason},
    )
    if meeting.status == M.PUBLISHED:
        _queue_notices(meeting, _roster_people(meeting), MeetingNotice.Method.REQUEST)
    return meeting


@transaction.atomic
def reschedule_meeting(
    *, actor: User | None, meeting: Meeting, starts_at: dt.datetime, reason: str
) -> Meeting:
    meeting = locked(meeting)
    _authorize_secretariat(
        actor, meeting, _("Only the committee's secretariat or its chair may move a meeting.")
    )
    if meeting.status not in {M.SCHEDULED, M.PUBLISHED}:
        raise ValidationError(
            {
                "starts_at": _("A meeting that is %(status)s cannot move.")
                % {"status": meeting.get_status_display().lower()}
            }
        )
    if not reason.strip():
        raise ValidationError({"reason": _("Say why the meeting moves.")})
    if starts_at == meeting.starts_at:
        return meeting
    refusal = start_refusal(meeting.committee, starts_at, day=day_of(meeting), now=timezone.now())
    if refusal is not None:
        raise ValidationError({"starts_at": refusal})
    clash = Meeting.objects.filter(committee=meeting.committee_id, starts_at=starts_at)
    if clash.exclude(pk=meeting.pk).exists():
        raise Conflict(_("The committee already meets at that time."), code="duplicate_meeting")
    return move(meeting, starts_at=starts_at, actor=actor, reason=reason.strip())


@transaction.atomic
def cancel_meeting(*, actor: User | None, meeting: Meeting, reason: str) -> Meeting:
    """Cancel a meeting; if its agenda was out, every attendee gets a METHOD:CANCEL."""
    meeting = locked(meeting)
    _authorize_secretariat(
        actor, meeting, _("Only the committee's secretariat or its chair may cancel a meeting.")
    )
    if not reason.strip():
        raise ValidationError({"reason": _("Say why the meeting is cancelled.")})
    was_published = meeting.status == M.PUBLISHED
    meeting.status = next_status(meeting.status, "cancel", MEETING_FLOW, "a meeting")
    meeting.cancelled_at = timezone.now()
    meeting.cancel_reason = reason.strip()
    meeting.sequence += 1
    meeting.save(
        update_fields=["status", "cancelled_at", "cancel_reason", "sequence", "updated_at"]
    )
    audit.record(
        actor=actor, verb="meeting.cancelled", target=meeting, details={"reason": reason.strip()}
    )
    if was_published:
        _queue_notices(meeting, _roster_people(meeting), MeetingNotice.Method.CANCEL)
    return meeting


@transaction.atomic
def hold_meeting(*, actor: User, meeting: Meeting) -> Meeting:
    """Close the sitting: the meeting is held, and its minutes can be approved."""
    meeting = locked(meeting)
    _authorize_secretariat(
        actor, meeting, _("Only the committee's secretariat or its chair may close a meeting.")
    )
    meeting.status = next_status(meeting.status, "hold", MEETING_FLOW, "a meeting")
    refuse_before_start(
        meeting, "status", _("The meeting starts at %(start)s; mark it held once it has begun.")
    )
    meeting.held_at = timezone.now()
    meeting.save(update_fields=["status", "held_at", "updated_at"])
    audit.record(actor=actor, verb="meeting.held", target=meeting)
    return meeting


@dataclass(frozen=True)
class Mark:
    """One line of the attendance sheet: a person on the roster and what the secretariat says."""

    person: User
    status: str
    delegate: User | None = None
    note: str = ""


# Before the meeting begins only apologies can be known; who came is recorded once it has.
SAID_IN_ADVANCE = {Attendance.Status.EXPECTED, Attendance.Status.ABSENT}


def _mark_refusal(meeting: Meeting, row: Attendance | None, mark: Mark) -> dict[str, str]:
    """What is wrong with one line, by field (empty when it may be recorded)."""
    if row is None:
        return {
            "person": _("%(person)s is not on this meeting's roster.") % {"person": mark.person}
        }
    if mark.status not in Attendance.Status.values:
        return {
            "status": _("Choose one of %(choices)s.")
            % {"choices": ", ".join(Attendance.Status.values)}
        }
    if mark.status not in SAID_IN_ADVANCE and not meeting.has_started():
        return {
            "status": _(
                "The meeting has not begun: record apologies now, and who came once it has."
            )
        }
    return _delegate_refusal(row, mark)


def _delegate_refusal(row: Attendance, mark: Mark) -> dict[str, str]:
    """A represented seat names its office's acting delegate; no other line names anyone."""
    if mark.status != Attendance.Status.REPRESENTED:
        if mark.delegate is None:
            return {}
        return {"delegate": _("A delegate is named only for a represented seat.")}
    if mark.delegate is None:
        return {"delegate": _("Name who represents them.")}
    if not policy.may_represent(mark.delegate, row.office):
        return {
            "delegate": _("Only an acting delegate of the %(office)s may represent this seat.")
            % {"office": row.office}
        }
    return {}


def _open_roster(actor: User, meeting: Meeting) -> Meeting:
    meeting = locked(meeting)
    _authorize_secretariat(
        actor, meeting, _("Only the committee's secretariat or its chair may record attendance.")
    )
    refuse_if_locked(meeting)
    if meeting.status not in IN_SESSION:
        raise ValidationError({"status": _("Attendance is recorded once the agenda is published.")})
    return meeting


def _write_marks(
    actor: User, meeting: Meeting, marks: Sequence[Mark], rows: dict[int, Attendance]
) -> list[Attendance]:
    """Save the lines that change anything, and put them on the record in one event."""
    changed: list[Attendance] = []
    record: list[dict[str, Any]] = []
    for mark in marks:
        row = rows[mark.person.pk]
        note = fit(Attendance, "note", mark.note.strip())
        if (row.status, row.delegate_id, row.note) == (
            mark.status,
            getattr(mark.delegate, "pk", None),
            note,
        ):
            continue
        record.append(
            {
                "person": mark.person.pk,
                "from": row.status,
                "to": mark.status,
                "delegate": getattr(mark.delegate, "pk", None),
            }
        )
        row.status, row.delegate, row.note = mark.status, mark.delegate, note
        row.full_clean()
        changed.append(row)
    if changed:
        bulk_update_with_history(changed, Attendance, ["status", "delegate", "note"])
        details: dict[str, Any] = record[0] if len(record) == 1 else {"marks": record}
        audit.record(
            actor=actor, verb="meeting.attendance_recorded", target=meeting, details=details
        )
    return changed


@transaction.atomic
def record_attendance(
    *,
    actor: User,
    meeting: Meeting,
    person: User,
    status: str,
    delegate: User | None = None,
    note: str = "",
) -> Attendance:
    """Present, absent, or represented by a delegate (an office's seat only by that office's
    acting delegate): one person's line, as the API sends it."""
    meeting = _open_roster(actor, meeting)
    mark = Mark(person=person, status=status, delegate=delegate, note=note)
    row = Attendance.objects.select_for_update().filter(meeting=meeting, person=person).first()
    refusal = _mark_refusal(meeting, row, mark)
    if refusal:
        raise ValidationError(refusal)
    assert row is not None
    _write_marks(actor, meeting, [mark], {person.pk: row})
    return row


@transaction.atomic
def record_attendance_sheet(
    *, actor: User, meeting: Meeting, marks: Sequence[Mark]
) -> list[Attendance]:
    """The whole roster in one save, as the secretariat fills it in at the door: every line is
    checked first, and one wrong line saves nothing (its error is named by person)."""
    meeting = _open_roster(actor, meeting)
    rows = {
        row.person_id: row for row in Attendance.objects.select_for_update().filter(meeting=meeting)
    }
    errors: dict[str, str] = {}
    for mark in marks:
        refusal = _mark_refusal(meeting, rows.get(mark.person.pk), mark)
        for field, message in refusal.items():
            errors[f"{mark.person.get_username()}.{field}"] = message
    if errors:
        raise ValidationError(errors)
    return _write_marks(actor, meeting, marks, rows)


def _voting_seat_filled_by(committee: Committee, person: User) -> str | None:
    """The voting seat a person fills now: an office they hold or act for (the chair's
    included), or a personal seat; '' for a personal seat, None for none."""
    held = {h.code for h in accounts_policy.offices_held(person)}
    if committee.chair_office.code in held:
        return committee.chair_office.code
    for seat in committee.members.filter(kind=Attendance.Kind.VOTING).select_related("office"):
        if seat.person_id == person.pk:
            return ""
        if seat.office is not None and seat.office.code in held:
            return seat.office.code
    return None


@transaction.atomic
def add_attendee(
    *, actor: User, meeting: Meeting, person: User, kind: str, reason: str
) -> Attendance:
    """Change the frozen roster after publication: recorded, with a reason, never silent."""
    meeting = locked(meeting)
    _authorize_secretariat(
        actor, meeting, _("Only the committee's secretariat or its chair may change the roster.")
    )
    refuse_if_locked(meeting)
    if meeting.status not in IN_SESSION:
        raise ValidationError({"person": _("The roster is frozen at publication; publish first.")})
    if not reason.strip():
        raise ValidationError({"reason": _("Say why the roster changes after publication.")})
    if kind not in Attendance.Kind.values:
        raise ValidationError(
            {
                "kind": _("Choose one of %(choices)s.")
                % {"choices": ", ".join(Attendance.Kind.values)}
            }
        )
    if Attendance.objects.filter(meeting=meeting, person=person).exists():
        raise Conflict(
            _("%(person)s is already on the roster.") % {"person": person}, code="already_on_roster"
        )
    seat = ""
    if kind == Attendance.Kind.VOTING:
        seat_found = _voting_seat_filled_by(meeting.committee, person)
        if seat_found is None:
            raise ValidationError(
                {
                    "kind": _(
                        "%(person)s fills no voting seat on this committee; add them as an observer."
                    )
                    % {"person": person}
                }
            )
        seat = seat_found
    row = Attendance.objects.create(
        meeting=meeting,
        person=person,
        office=seat,
        kind=kind,
        added_after_publication=True,
        note=reason.strip(),
    )
    meeting.sequence += 1
    meeting.save(update_fields=["sequence", "updated_at"])
    audit.record(
        actor=actor,
        verb="meeting.roster_amended",
        target=meeting,
        details={"added": person.pk, "kind": kind, "reason": reason.strip()},
    )
    if meeting.status == M.PUBLISHED:
        # The ATTENDEE list changed: everyone's calendar gets the new SEQUENCE.
        _queue_notices(meeting, _roster_people(meeting), MeetingNotice.Method.REQUEST)
    return row


def send_notices(meeting_id: int) -> int:
    """Mail every notice of a meeting not yet sent. Each row is claimed by a conditional update
    before its mail goes, so a retried or redelivered task never sends one twice."""
    meeting = Meeting.objects.select_related("committee").get(pk=meeting_id)
    attendance = list(meeting.attendance.select_related("person"))
    pending = MeetingNotice.objects.filter(meeting=meeting, sent_at__isnull=True).select_related(
        "recipient"
    )
    # Only notices of the current SEQUENCE go out (older ones are stale): who had one before?
    invited_before = set(
        MeetingNotice.objects.filter(meeting=meeting, sequence__lt=meeting.sequence).values_list(
            "recipient_id", flat=True
        )
    )
    sent = 0
    for notice in pending:
        claimed = MeetingNotice.objects.filter(pk=notice.pk, sent_at__isnull=True).update(
            sent_at=timezone.now()
        )
        if not claimed or not notice.recipient.email:
            continue
        stale = notice.sequence != meeting.sequence
        if stale:
            continue  # a later change superseded it; its own notice carries the news
        try:
            _mail_notice(meeting, notice, attendance, invited_before)
        except Exception:
            # Not sent after all (a template, the mail server, the database): release the
            # claim so the hourly sweep tries again; the others still go.
            MeetingNotice.objects.filter(pk=notice.pk).update(sent_at=None)
            log.exception("Could not mail notice %s of meeting %s", notice.pk, meeting.pk)
            continue
        sent += 1
    return sent


def _mail_notice(
    meeting: Meeting, notice: MeetingNotice, attendance: list[Attendance], invited_before: set[int]
) -> None:
    """One person's invitation (or cancellation) with its iCalendar attachment, in their
    language and linking to the meeting's page."""
    cancel = notice.method == MeetingNotice.Method.CANCEL
    # The mail lists the agenda as the recipient may read it: an observer from a unit sees
    # their unit's items only, as in the API.
    items = list(policy.visible_items(notice.recipient, meeting).order_by("position", "pk"))
    zone = meeting.committee.zone
    when = dates.local(meeting.starts_at, zone)
    updated = notice.recipient_id in invited_before  # this mail updates an earlier one
    # One line whatever the title holds: a line break in a subject is refused outright, and in
    # the body it would split the line that names the meeting.
    title = one_line(meeting.title)
    context = {
        "updated": updated,
        "meeting": meeting,
        "title": title,
        "recipient": notice.recipient,
        "items": items,
        "when": when,  # shown on the committee's clock, in the reader's date format
        "zone": zone,
        "link": mail.link("committee:meeting", meeting.pk),
    }
    # The subject's date is in figures, which read the same in every language.
    facts = {"title": title, "when": f"{when:%Y-%m-%d %H:%M} ({zone.key})"}

    def subject() -> str:
        if cancel:
            return _("[RCC] Cancelled: %(title)s, %(when)s") % facts
        if updated:
            return _("[RCC] Updated: %(title)s, %(when)s") % facts
        return _("[RCC] Invitation: %(title)s, %(when)s") % facts

    subject_line, body = mail.compose(
        "committee/mail/cancellation.txt" if cancel else "committee/mail/invitation.txt",
        context,
        language=mail.language_of(notice.recipient),
        subject=subject,
    )
    message = EmailMultiAlternatives(
        subject=subject_line,
        body=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[notice.recipient.email],
    )
    message.attach(
        "invite.ics",
        ical.invitation(meeting, attendance, method=notice.method),
        f"text/calendar; method={notice.method}",  # Django adds the charset
    )
    message.send()


def pending_notice_meetings(*, older_than: dt.timedelta = dt.timedelta(minutes=10)) -> list[int]:
    """Meetings with notices still unsent a while after they were queued (a mail server that
    was down, a lost task): the hourly sweep sends them."""
    cutoff = timezone.now() - older_than
    return list(
        MeetingNotice.objects.filter(sent_at__isnull=True, created_at__lt=cutoff)
        .values_list("meeting_id", flat=True)
        .distinct()
    )
