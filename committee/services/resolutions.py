"""Written resolutions: urgent matters the members vote on between meetings, recorded as decisions."""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.models import User
from audit import services as audit
from committee import policy
from committee.models import (
    Ballot,
    Committee,
    CommitteeMember,
    Decision,
    Meeting,
    WrittenResolution,
)
from committee.quorum import Tally
from committee.services.meetings import _acting_delegates
from config import dates
from config.errors import Conflict
from config.text import one_line
from outbox import relay as outbox
from systems import services as systems_services
from systems.models import SuspensionOrder

log = logging.getLogger(__name__)

S = WrittenResolution.Status
E = WrittenResolution.Effect
M = Meeting.Status
# A written vote is for what cannot wait for the next meeting: a month is what it replaces.
LONGEST_VOTE = dt.timedelta(days=14)
# The meetings a result can still be recorded at: not held, not cancelled.
AHEAD = (M.SCHEDULED, M.PUBLISHED)
OUTCOME: dict[str, str] = {
    S.CARRIED: Decision.Outcome.APPROVED,
    S.NOT_CARRIED: Decision.Outcome.REJECTED,
    S.LAPSED: Decision.Outcome.DEFERRED,
}
# How the result is recorded on the decision (Decision.recorded_capacity).
WRITTEN = "written"


def next_meeting(committee: Committee, *, now: dt.datetime) -> Meeting | None:
    """The meeting whose minutes record a result reached now: the committee's next one not yet
    over, held or cancelled."""
    return (
        Meeting.objects.filter(committee=committee, status__in=AHEAD, ends_at__gt=now)
        .order_by("starts_at", "pk")
        .first()
    )


def _freeze_ballots(resolution: WrittenResolution, at: dt.datetime) -> list[Ballot]:
    """One ballot per voting seat, the chair's first, each naming who fills it now (the office's
    holder, or its acting delegate when the office is vacant): the person told by mail. A seat
    nobody fills is no seat in this vote, as it is on a meeting's roster."""
    committee = resolution.committee
    seats = list(
        committee.members.filter(kind=CommitteeMember.Kind.VOTING).select_related(
            "office__holder", "person"
        )
    )
    chair_office = committee.chair_office
    offices = [chair_office, *(s.office for s in seats if s.office is not None)]
    acting = _acting_delegates([o.pk for o in offices if o.holder_id is None], at)
    ballots: dict[str, Ballot] = {}
    chair = chair_office.holder or acting.get(chair_office.pk)
    if chair is not None:
        ballots[chair_office.code] = Ballot(
            resolution=resolution,
            seat=chair_office.code,
            office=chair_office.code,
            is_chair=True,
            person=chair,
        )
    for seat in seats:
        if seat.office is not None:
            key, office = seat.office.code, seat.office.code
            person = seat.office.holder or acting.get(seat.office.pk)
        else:
            key, office, person = f"person:{seat.person_id}", "", seat.person
        if person is None or key in ballots:
            continue
        ballots[key] = Ballot(resolution=resolution, seat=key, office=office, person=person)
    return Ballot.objects.bulk_create(list(ballots.values()))


def _check_suspension(effect: str, suspension: SuspensionOrder | None) -> None:
    if effect not in E.values:
        raise ValidationError(
            {"effect": _("Choose one of %(choices)s.") % {"choices": ", ".join(E.values)}}
        )
    if effect == E.NONE:
        if suspension is not None:
            raise ValidationError(
                {"suspension": _("Name a suspension only to ratify or overturn it.")}
            )
        return
    if suspension is None:
        raise ValidationError(
            {"suspension": _("Name the suspension awaiting ratification that this settles.")}
        )
    if suspension.ratification != SuspensionOrder.Ratification.PENDING:
        raise Conflict(
            _("The committee has already settled this suspension: %(ratification)s.")
            % {"ratification": suspension.get_ratification_display()},
            code="already_settled",
        )
    open_one = WrittenResolution.objects.filter(suspension=suspension, status=S.OPEN).first()
    if open_one is not None:
        raise Conflict(
            _("Resolution %(reference)s on this suspension is already open for votes.")
            % {"reference": open_one.reference},
            code="already_open",
        )


def _check_deadline(committee: Committee, deadline: dt.datetime, now: dt.datetime) -> None:
    dates.require_in_window("deadline", deadline)
    if deadline <= now:
        raise dates.refuse("deadline", _("Set a deadline still ahead."))
    latest = now + LONGEST_VOTE
    if deadline > latest:
        local = dates.local(latest, committee.zone)
        raise dates.refuse(
            "deadline",
            _(
                "A written vote runs for 14 days at most: set the deadline no later than "
                "%(latest)s (%(zone)s)."
            )
            % {"latest": f"{local:%Y-%m-%d %H:%M}", "zone": committee.time_zone},
        )


@transaction.atomic
def open_resolution(
    *,
    actor: User,
    committee: Committee,
    title: str,
    text: str,
    deadline: dt.datetime,
    effect: str = E.NONE,
    suspension: SuspensionOrder | None = None,
) -> WrittenResolution:
    """The chair puts an urgent matter to the voting seats in writing: each seat's ballot is
    frozen now, and whoever fills it is told by mail once."""
    committee = Committee.objects.select_related("chair_office__holder").get(pk=committee.pk)
    if not policy.can_open_resolution(actor, committee):
        raise PermissionDenied(
            _(
                "Only the chair (or the chair's acting delegate) puts a matter to the members in writing."
            )
        )
    if not committee.is_active:
        raise Conflict(_("This committee no longer meets."), code="inactive")
    title, text = one_line(title).strip(), text.strip()
    if not title:
        raise ValidationError({"title": _("Give the resolution a title.")})
    if not text:
        raise ValidationError({"text": _("Word the resolution.")})
    now = timezone.now()
    _check_deadline(committee, deadline, now)
    if suspension is not None:
        suspension = SuspensionOrder.objects.select_for_update().get(pk=suspension.pk)
    _check_suspension(effect, suspension)
    meeting = next_meeting(committee, now=now)
    if meeting is None:
        raise Conflict(
            _(
                "The committee has no meeting ahead whose minutes could record the result: "
                "schedule its next meeting first."
            ),
            code="no_next_meeting",
        )
    resolution = WrittenResolution(
        reference=audit.next_reference("WR"),
        committee=committee,
        title=title,
        text=text,
        effect=effect,
        suspension=suspension,
        deadline=deadline,
        proposed_by=actor,
        proposed_office=committee.chair_office.code,
        opened_at=now,
        meeting=meeting,
    )
    resolution.full_clean(validate_constraints=False)  # one open per suspension: checked above
    resolution.save()
    ballots = _freeze_ballots(resolution, now)
    audit.record(
        actor=actor,
        office=resolution.proposed_office,
        verb="resolution.opened",
        target=resolution,
        details={
            "committee": committee.pk,
            "deadline": deadline.isoformat(),
            "effect": effect,
            "suspension": getattr(suspension, "pk", None),
            "meeting": meeting.pk,
            "seats": [ballot.seat for ballot in ballots],
        },
    )
    from committee.tasks import send_resolution_notices  # tasks import services: resolve late

    outbox.enqueue(send_resolution_notices, resolution.pk)
    return resolution


def _locked(resolution: WrittenResolution) -> WrittenResolution:
    return (
        WrittenResolution.objects.select_for_update(of=("self",))
        .select_related("committee", "proposed_by", "suspension")
        .get(pk=resolution.pk)
    )


def _ballot_to_cast(ballots: list[Ballot], filled: dict[int, str], seat: str) -> Ballot:
    """The ballot the voter means: the seat they name, or the one seat they fill."""
    mine = [ballot for ballot in ballots if ballot.pk in filled]
    if seat:
        chosen = next((ballot for ballot in mine if ballot.seat == seat), None)
        if chosen is None:
            raise ValidationError(
                {"seat": _("You do not fill the seat %(seat)s in this vote.") % {"seat": seat}}
            )
        return chosen
    uncast = [ballot for ballot in mine if not ballot.is_cast]
    if len(uncast) > 1:
        raise ValidationError(
            {
                "seat": _("You fill more than one seat: name the one you vote for (%(seats)s).")
                % {"seats": ", ".join(ballot.seat for ballot in uncast)}
            }
        )
    return uncast[0] if uncast else mine[0]


def _choice_of(choice: str, conflict_declared: bool, conflict_note: str) -> str:
    if conflict_declared:
        if choice not in {"", Ballot.Choice.ABSTAIN}:
            raise ValidationError(
                {
                    "choice": _(
                        "A member with a conflict of interest abstains; leave the vote empty."
                    )
                }
            )
        if not conflict_note.strip():
            raise ValidationError({"conflict_note": _("Say what the conflict of interest is.")})
        return Ballot.Choice.ABSTAIN
    if choice not in Ballot.Choice.values:
        raise ValidationError(
            {
                "choice": _("Choose one of %(choices)s.")
                % {"choices": ", ".join(Ballot.Choice.values)}
            }
        )
    if conflict_note.strip():
        raise ValidationError(
            {"conflict_note": _("A note is given only with a declared conflict of interest.")}
        )
    return choice


@transaction.atomic
def cast_vote(
    *,
    actor: User,
    resolution: WrittenResolution,
    choice: str = "",
    seat: str = "",
    conflict_declared: bool = False,
    conflict_note: str = "",
) -> Ballot:
    """Whoever fills a seat now votes for it, once; the vote is final. When the last seat has
    voted, the resolution closes at once."""
    resolution = _locked(resolution)
    ballots = list(resolution.ballots.all())
    filled = policy.seats_filled(actor, ballots)
    if not filled:
        raise PermissionDenied(
            _("Only a member who fills one of the resolution's voting seats votes on it.")
        )
    if resolution.status != S.OPEN:
        raise Conflict(
            _("Voting on this resolution has closed: %(status)s.")
            % {"status": resolution.get_status_display()},
            code="closed",
        )
    now = timezone.now()
    if resolution.deadline <= now:
        raise Conflict(
            _("The deadline for votes has passed; the result is being recorded."),
            code="deadline_passed",
        )
    ballot = _ballot_to_cast(ballots, filled, seat)
    if ballot.is_cast:
        raise Conflict(
            _("The %(seat)s seat has already voted, and a vote is final.")
            % {"seat": seat_label(ballot)},
            code="already_voted",
        )
    note = conflict_note.strip()
    if len(note) > 500:
        raise ValidationError({"conflict_note": _("Keep the note to 500 characters.")})
    chosen = _choice_of(choice, conflict_declared, note)
    capacity = filled[ballot.pk]
    # The claim: a vote that raced this one to the same seat finds it cast and is refused.
    claimed = Ballot.objects.filter(pk=ballot.pk, cast_at__isnull=True).update(
        choice=chosen,
        conflict_declared=conflict_declared,
        conflict_note=note,
        cast_by=actor,
        cast_capacity=capacity,
        cast_at=now,
    )
    if not claimed:
        raise Conflict(
            _("The %(seat)s seat has already voted, and a vote is final.")
            % {"seat": seat_label(ballot)},
            code="already_voted",
        )
    ballot.refresh_from_db()
    audit.record(
        actor=actor,
        office=ballot.office if capacity != "member" else "",
        verb="resolution.vote_cast",
        target=resolution,
        details={
            "seat": ballot.seat,
            "choice": chosen,
            "conflict": conflict_declared,
            "capacity": capacity,
        },
    )
    ballots = [ballot if b.pk == ballot.pk else b for b in ballots]
    if Tally.of(resolution.committee, ballots).everyone_voted:
        _close(resolution, actor=actor, now=now)
    return ballot


def _wording(resolution: WrittenResolution, tally: Tally, status: str, settled: bool) -> str:
    """The decision's text, in the site's language (it is stored, and read by everyone)."""
    with translation.override(settings.LANGUAGE_CODE):
        opened = dates.local(resolution.opened_at, resolution.committee.zone)
        head = _(
            "Written resolution %(reference)s, put to the members in writing on %(opened)s "
            "(%(zone)s): %(title)s"
        ) % {
            "reference": resolution.reference,
            "opened": f"{opened:%Y-%m-%d %H:%M}",
            "zone": resolution.committee.time_zone,
            "title": resolution.title,
        }
        results: dict[str, str] = {
            S.CARRIED: _("Carried between meetings."),
            S.NOT_CARRIED: _("Not carried."),
            S.LAPSED: _("Lapsed at its deadline without a quorum of votes."),
        }
        result = results[status]
        if status == S.LAPSED and tally.chair_needed and not tally.chair_voted:
            result = _("Lapsed at its deadline: the chair's seat did not vote.")
        lines = [head, "", resolution.text, "", f"{result} {tally.explain()}"]
        if settled:
            lines.append(
                _("The suspension had been settled before the vote closed; nothing more follows.")
            )
        return "\n".join(lines)


def _close(resolution: WrittenResolution, *, actor: User | None, now: dt.datetime) -> bool:
    """Count the votes and record the result as a decision on the next meeting, acting on it
    as the meeting would (a carried ratification settles the suspension). The resolution is
    claimed by a conditional update, so a second beat or a vote racing the deadline closes it
    no second time. Returns whether this call closed it."""
    ballots = list(resolution.ballots.all())
    tally = Tally.of(resolution.committee, ballots)
    status = tally.outcome
    claimed = WrittenResolution.objects.filter(pk=resolution.pk, status=S.OPEN).update(
        status=status, closed_at=now
    )
    if not claimed:
        return False
    meeting = next_meeting(resolution.committee, now=now) or resolution.meeting
    order = resolution.suspension
    acts = status == S.CARRIED and resolution.effect != E.NONE and order is not None
    settled = False
    if acts:
        assert order is not None
        order.refresh_from_db(fields=["ratification"])
        # Settled meanwhile at a meeting: the result stands, and changes nothing more.
        settled = order.ratification != SuspensionOrder.Ratification.PENDING
        acts = not settled
    decision = Decision(
        reference=audit.next_reference("DEC"),
        meeting=meeting,
        item=None,
        outcome=OUTCOME[status],
        effect=resolution.effect if acts else Decision.Effect.NONE,
        text=_wording(resolution, tally, status, settled),
        chair=resolution.proposed_by,
        recorded_by=resolution.proposed_by,
        recorded_capacity=WRITTEN,
        recorded_at=now,
    )
    decision.full_clean(validate_constraints=False)
    decision.save()
    if acts:
        assert order is not None
        # The chair's resolution, under the chair's office, as a meeting's decision would be.
        systems_services.settle_ratification(
            actor=resolution.proposed_by,
            order=order,
            ratify=resolution.effect == E.RATIFY_SUSPENSION,
            decision=decision,
            office=resolution.proposed_office,
        )
    resolution.status, resolution.closed_at = status, now
    resolution.decision, resolution.meeting = decision, meeting
    resolution.save(update_fields=["status", "closed_at", "decision", "meeting"])
    counts = {
        "for": tally.votes_for,
        "against": tally.votes_against,
        "abstain": tally.abstentions,
        "conflicts": tally.conflicts,
        "voting": tally.voting,
        "needed": tally.needed,
    }
    audit.record(
        actor=actor,
        verb="resolution.closed",
        target=resolution,
        details={
            "outcome": status,
            "votes": counts,
            "decision": decision.reference,
            "meeting": meeting.pk,
        },
    )
    audit.record(
        actor=actor,
        office=resolution.proposed_office,
        verb="decision.recorded",
        target=decision,
        details={
            "meeting": meeting.pk,
            "item": None,
            "outcome": decision.outcome,
            "effect": decision.effect,
            "capacity": WRITTEN,
            "chair": decision.chair_id,
            "resolution": resolution.reference,
        },
    )
    return True


def close_due_resolutions(*, now: dt.datetime | None = None) -> int:
    """Beat, hourly: close every open resolution whose deadline has come. Each is claimed
    before it is closed, so a second beat (or a retry) closes nothing twice; one that cannot
    be closed does not hold back the others."""
    moment = now or timezone.now()
    due = list(
        WrittenResolution.objects.filter(status=S.OPEN, deadline__lte=moment).values_list(
            "pk", flat=True
        )
    )
    closed = 0
    for pk in due:
        try:
            with transaction.atomic():
                resolution = _locked(WrittenResolution(pk=pk))
                if resolution.status == S.OPEN and _close(resolution, actor=None, now=moment):
                    closed += 1
        except (ValidationError, Conflict, PermissionDenied):
            log.exception("Could not close written resolution %s", pk)
    return closed


def seat_label(ballot: Ballot) -> str:
    """A seat as people name it: the office's code, or the member who holds it in person."""
    return ballot.office or str(ballot.person)
