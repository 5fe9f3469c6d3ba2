"""What each meeting waits for, on whom and by when, and the steps waiting on one person."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Exists, OuterRef
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from committee import policy
from committee.models import Meeting, Minutes
from config import dates

M = Meeting.Status
# The minutes follow the sitting: drafted within a week, approved within a fortnight, so the
# next month's meeting never starts on last month's unsettled record.
DRAFT_WITHIN = dt.timedelta(days=7)
APPROVE_WITHIN = dt.timedelta(days=14)
# How far ahead a person's dashboard shows an agenda they will have to publish or review.
LOOK_AHEAD = dt.timedelta(days=14)

SECRETARIAT, CHAIR, MEMBERS = "secretariat", "chair", "members"


@dataclass(frozen=True)
class Step:
    """The next thing a meeting needs: what, from whom (the secretariat, the chair, the
    members), and by when."""

    meeting: Meeting
    what: str
    on: str
    by: dt.datetime

    def is_late(self, now: dt.datetime | None = None) -> bool:
        return (now or timezone.now()) > self.by

    @property
    def sentence(self) -> str:
        """In the reader's language, on the committee's calendar."""
        day = formats.date_format(dates.local(self.by, self.meeting.committee.zone), "DATE_FORMAT")
        moment = formats.date_format(
            dates.local(self.by, self.meeting.committee.zone), "DATETIME_FORMAT"
        )
        sentences = {
            "publish": _("Agenda to be published by the secretariat by %(day)s."),
            "review": _("Agenda to be reviewed by the members before the meeting on %(day)s."),
            "hold": _(
                "Attendance and decisions to be recorded, and the meeting marked held, by the "
                "secretariat by %(moment)s."
            ),
            "draft": _("Minutes to be drafted by the secretariat by %(day)s."),
            "approve": _("Minutes to be approved by the chair by %(day)s."),
        }
        return sentences[self.what] % {"day": day, "moment": moment}


def next_step(
    meeting: Meeting, *, has_minutes: bool, now: dt.datetime | None = None
) -> Step | None:
    """What the meeting waits for now; None once its minutes are approved, or it is cancelled."""
    moment = now or timezone.now()
    try:
        return _step(meeting, has_minutes=has_minutes, now=moment)
    except OverflowError:
        return None  # a meeting stored at the edge of the calendar: no deadline to compute


def _step(meeting: Meeting, *, has_minutes: bool, now: dt.datetime) -> Step | None:
    moment = now
    if meeting.status == M.SCHEDULED:
        lead = dt.timedelta(days=meeting.committee.agenda_lead_days)
        return Step(meeting, "publish", SECRETARIAT, meeting.starts_at - lead)
    if meeting.status == M.PUBLISHED:
        if moment < meeting.starts_at:
            return Step(meeting, "review", MEMBERS, meeting.starts_at)
        return Step(meeting, "hold", SECRETARIAT, meeting.ends_at)
    if meeting.status == M.HELD:
        held = meeting.held_at or meeting.ends_at
        if not has_minutes:
            return Step(meeting, "draft", SECRETARIAT, held + DRAFT_WITHIN)
        return Step(meeting, "approve", CHAIR, held + APPROVE_WITHIN)
    return None


def with_minutes(meetings: Any) -> Any:
    """Annotate `has_minutes` (a draft with text), which the steps after the sitting turn on."""
    drafted = Minutes.objects.filter(meeting=OuterRef("pk")).exclude(body="")
    return meetings.annotate(has_minutes=Exists(drafted))


def waiting_for(user: Any, *, now: dt.datetime | None = None) -> list[Step]:
    """The meeting steps waiting on this person, soonest first: the secretariat's acts for
    those who run the meetings, the approval for the chair, the review for members. The
    chair also sees the secretariat's acts once they are late, since the chair may do them.
    A fixed number of queries per committee the person sits on (they sit on a few)."""
    moment = now or timezone.now()
    steps: list[Step] = []
    for committee in policy.committees_of(user):
        runs = policy.is_secretariat(user, committee)
        chairs = policy.chair_capacity(user, committee) is not None
        sits = chairs or policy.seats_of(user).filter(committee=committee).exists()
        meetings = with_minutes(
            Meeting.objects.filter(committee=committee)
            .filter(status__in=[M.SCHEDULED, M.PUBLISHED, M.HELD])
            .filter(
                starts_at__lte=moment + LOOK_AHEAD + dt.timedelta(days=committee.agenda_lead_days)
            )
            .select_related("committee")
        )
        for meeting in meetings:
            step = next_step(meeting, has_minutes=meeting.has_minutes, now=moment)
            if step is None:
                continue
            if step.what in {"publish", "review"} and step.by > moment + LOOK_AHEAD:
                continue  # not yet anyone's business
            if (
                (step.on == SECRETARIAT and (runs or (chairs and step.is_late(moment))))
                or (step.on == CHAIR and chairs)
                or (step.on == MEMBERS and sits)
            ):
                steps.append(step)
    return sorted(steps, key=lambda step: step.by)
