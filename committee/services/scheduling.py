"""Meetings from the cadence: an RFC 5545 rule read in the committee's time zone, with
exceptions, kept three months ahead by a daily beat."""

from __future__ import annotations

import datetime as dt
import logging

from dateutil.rrule import rrulestr
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.models import User
from audit import services as audit
from committee import policy
from committee.models import CadenceException, Committee, Meeting, compose_title
from committee.services.meetings import (
    EXCEPTION_REACH,
    HORIZON,
    cancel_meeting,
    latest_start,
    locked,
    move,
    start_refusal,
)
from config.dates import in_window, require_in_window
from config.errors import Conflict

log = logging.getLogger(__name__)


def occurrences(committee: Committee, start: dt.datetime, end: dt.datetime) -> list[dt.datetime]:
    """The cadence's meeting times in [start, end], as aware datetimes. The rule is expanded on
    the committee's local wall clock, so 10:00 stays 10:00 across a daylight-saving change."""
    zone = committee.zone
    local_start = start.astimezone(zone).replace(tzinfo=None)
    local_end = end.astimezone(zone).replace(tzinfo=None)
    # A fixed DTSTART: anchoring on the run's own day would shift which weeks an INTERVAL=2
    # rule means each time the daily beat runs, and fill in the weeks between.
    anchor = dt.datetime.combine(committee.cadence_start, dt.time.min)
    rule = rrulestr(committee.cadence.removeprefix("RRULE:"), dtstart=anchor)
    return [
        moment.replace(tzinfo=zone) for moment in rule.between(local_start, local_end, inc=True)
    ]


def meeting_title(committee: Committee, starts_at: dt.datetime) -> str:
    """The committee's name and the month, stored in English; each reader reads it in their
    own language (Meeting.shown_title)."""
    with translation.override("en"):
        return compose_title(committee.name, starts_at.astimezone(committee.zone))


def schedule_committee(committee: Committee, *, now: dt.datetime | None = None) -> tuple[int, int]:
    """Create the committee's meetings for the next three months; apply its exceptions to
    meetings already there. Returns (created, changed). Safe to run twice, or twice at once:
    the unique (committee, start) and (committee, occurrence) constraints keep one of each."""
    moment = now or timezone.now()
    planned = occurrences(committee, moment, moment + HORIZON)
    zone = committee.zone
    dates = [when.date() for when in planned]
    exceptions = {
        e.occurrence_date: e for e in committee.exceptions.filter(occurrence_date__in=dates)
    }
    existing = {m.cadence_date: m for m in committee.meetings.filter(cadence_date__in=dates)}
    duration = dt.timedelta(minutes=committee.duration_minutes)
    new: list[Meeting] = []
    changed = 0
    for when in planned:
        day = when.date()
        exception = exceptions.get(day)
        meeting = existing.get(day)
        if exception is not None and exception.kind == CadenceException.Kind.SKIP:
            if meeting is not None and meeting.status in {
                Meeting.Status.SCHEDULED,
                Meeting.Status.PUBLISHED,
            }:
                _apply(meeting, exception, now=moment)
                changed += 1
            continue
        moved_to = _moved_to(committee, exception, moment)
        starts_at = moved_to or when
        if meeting is not None:
            if (
                moved_to is not None
                and meeting.starts_at != starts_at
                and meeting.status
                in {
                    Meeting.Status.SCHEDULED,
                    Meeting.Status.PUBLISHED,
                }
            ):
                _apply(meeting, exception, now=moment)
                changed += 1
            continue
        new.append(
            Meeting(
                committee=committee,
                title=meeting_title(committee, starts_at.astimezone(zone)),
                starts_at=starts_at,
                ends_at=starts_at + duration,
                cadence_date=day,
                location=committee.location,
            )
        )
    changed += _cancel_dropped(committee, moment, dates)
    if not new:
        return 0, changed
    Meeting.objects.bulk_create(new, ignore_conflicts=True)
    # ignore_conflicts hides which rows a concurrent run won; count what is there now.
    added = committee.meetings.filter(cadence_date__in=dates).count() - len(existing)
    return added, changed


def _cancel_dropped(committee: Committee, moment: dt.datetime, dates: list[dt.date]) -> int:
    """A changed cadence: draft meetings on dates the rule no longer gives are cancelled (a
    published one stays; its agenda and invitations are out, so the secretariat decides)."""
    moved = committee.exceptions.filter(kind=CadenceException.Kind.MOVE).values("occurrence_date")
    dropped = (
        committee.meetings.filter(
            status=Meeting.Status.SCHEDULED,
            starts_at__gt=moment,
            cadence_date__gte=moment.astimezone(committee.zone).date(),
        )
        .exclude(cadence_date__in=dates)
        .exclude(cadence_date__in=moved)
    )
    count = 0
    for meeting in dropped:
        with transaction.atomic():
            current = locked(meeting)
            if current.status == Meeting.Status.SCHEDULED:
                cancel_meeting(
                    actor=None, meeting=current, reason="No longer in the committee's cadence."
                )
                count += 1
    return count


def _moved_to(
    committee: Committee, exception: CadenceException | None, now: dt.datetime
) -> dt.datetime | None:
    """Where an exception moves its meeting, if it moves it within the horizon. One written
    before that was checked (to 9999-12-31, say) moves nothing: the beat keeps the cadence's
    time and says so, rather than carrying the absurd date into the calendar."""
    if exception is None or exception.moved_to is None:
        return None
    moved_to = exception.moved_to
    if not in_window(moved_to) or moved_to > latest_start(
        committee, exception.occurrence_date, now
    ):
        log.warning(
            "Cadence exception %s not applied: it moves the meeting beyond the horizon",
            exception.pk,
        )
        return None
    return moved_to


def _apply(
    meeting: Meeting, exception: CadenceException | None, *, now: dt.datetime | None = None
) -> None:
    """Bring one existing meeting in line with its exception: cancel it, or move it. Only a
    meeting still ahead of its sitting changes; a held or approved one is the record."""
    if exception is None:
        return
    with transaction.atomic():
        current = locked(meeting)
        if current.status not in {Meeting.Status.SCHEDULED, Meeting.Status.PUBLISHED}:
            return
        moved_to = _moved_to(current.committee, exception, now or timezone.now())
        if exception.kind == CadenceException.Kind.SKIP:
            cancel_meeting(actor=None, meeting=current, reason=f"Skipped: {exception.reason}")
        elif moved_to and current.starts_at != moved_to:
            clash = Meeting.objects.filter(
                committee=current.committee_id, starts_at=moved_to
            ).exclude(pk=current.pk)
            if clash.exists():
                log.warning("Meeting %s not moved: the committee already meets then", current.pk)
                return
            move(current, starts_at=moved_to, actor=None, reason=exception.reason)


def schedule_meetings(*, now: dt.datetime | None = None) -> dict[str, int]:
    """Beat, daily: every active committee's meetings kept three months ahead."""
    totals = {"created": 0, "changed": 0}
    for committee in Committee.objects.filter(is_active=True):
        created, changed = schedule_committee(committee, now=now)
        totals["created"] += created
        totals["changed"] += changed
    return totals


def _check_reach(committee: Committee, occurrence_date: dt.date, now: dt.datetime) -> None:
    """An exception is planned at most a year ahead: the cadence is not a place for 2099."""
    require_in_window("occurrence_date", occurrence_date)
    reach = (now + EXCEPTION_REACH).astimezone(committee.zone).date()
    if occurrence_date > reach:
        raise ValidationError(
            {
                "occurrence_date": _("Plan an exception at most a year ahead, until %(reach)s.")
                % {"reach": reach.isoformat()}
            }
        )


@transaction.atomic
def add_cadence_exception(
    *,
    actor: User,
    committee: Committee,
    occurrence_date: dt.date,
    kind: str,
    reason: str,
    moved_to: dt.datetime | None = None,
) -> CadenceException:
    """Skip one meeting of the cadence, or move it; a meeting already scheduled follows at once."""
    if not policy.can_schedule(actor, committee):
        raise PermissionDenied(
            _("Only the committee's secretariat or its chair may change its calendar.")
        )
    if not reason.strip():
        raise ValidationError({"reason": _("Say why the meeting is skipped or moved.")})
    if kind == CadenceException.Kind.MOVE and moved_to is None:
        raise ValidationError({"moved_to": _("Say when the meeting moves to.")})
    if kind == CadenceException.Kind.SKIP:
        moved_to = None
    now = timezone.now()
    _check_reach(committee, occurrence_date, now)
    day_start = dt.datetime.combine(occurrence_date, dt.time.min, tzinfo=committee.zone)
    if not occurrences(committee, day_start, day_start + dt.timedelta(days=1, seconds=-1)):
        raise ValidationError(
            {
                "occurrence_date": _(
                    "The committee's cadence has no meeting on %(occurrence_date)s."
                )
                % {"occurrence_date": occurrence_date}
            }
        )
    meeting = committee.meetings.filter(cadence_date=occurrence_date).first()
    if meeting is not None and meeting.status not in {
        Meeting.Status.SCHEDULED,
        Meeting.Status.PUBLISHED,
    }:
        raise ValidationError(
            {
                "occurrence_date": _("The meeting of %(occurrence_date)s is %(status)s; it stays.")
                % {
                    "occurrence_date": occurrence_date,
                    "status": meeting.get_status_display().lower(),
                }
            }
        )
    if meeting is None and day_start < now:
        raise ValidationError({"occurrence_date": _("That date has passed.")})
    if moved_to is not None:
        clash = committee.meetings.filter(starts_at=moved_to).exclude(cadence_date=occurrence_date)
        refusal = start_refusal(committee, moved_to, day=occurrence_date, now=now)
        if refusal is not None:
            raise ValidationError({"moved_to": refusal})
        if clash.exists():
            raise Conflict(_("The committee already meets at that time."), code="duplicate_meeting")
    exception = CadenceException(
        committee=committee,
        occurrence_date=occurrence_date,
        kind=kind,
        moved_to=moved_to,
        reason=reason.strip(),
        created_by=actor,
    )
    exception.full_clean(validate_unique=False)
    try:
        with transaction.atomic():
            exception.save()
    except IntegrityError as exc:
        raise ValidationError(
            {
                "occurrence_date": _("%(occurrence_date)s already has an exception.")
                % {"occurrence_date": occurrence_date}
            }
        ) from exc
    audit.record(
        actor=actor,
        verb="committee.cadence_exception",
        target=committee,
        details={
            "date": occurrence_date.isoformat(),
            "kind": kind,
            "moved_to": moved_to.isoformat() if moved_to else None,
            "reason": exception.reason,
        },
    )
    if meeting is not None:
        _apply(meeting, exception, now=now)
    return exception
