"""Is the committee quorate? At a meeting, counted from the frozen roster and the attendance
recorded; in a written vote, from the seats' ballots."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from django.utils.translation import gettext as _

from committee.models import Attendance, Ballot, Committee, WrittenResolution

COUNTED = {Attendance.Status.PRESENT, Attendance.Status.REPRESENTED}


@dataclass(frozen=True)
class Quorum:
    voting: int
    present: int
    needed: int
    chair_present: bool
    chair_needed: bool

    @property
    def met(self) -> bool:
        return self.present >= self.needed and (self.chair_present or not self.chair_needed)

    def explain(self) -> str:
        """In the reader's language."""
        numbers = {"present": self.present, "voting": self.voting, "needed": self.needed}
        if self.chair_needed and not self.chair_present:
            return (
                _(
                    "%(present)s of %(voting)s voting members present, %(needed)s needed; the "
                    "chair (or the chair's acting delegate) is not present."
                )
                % numbers
            )
        return _("%(present)s of %(voting)s voting members present, %(needed)s needed.") % numbers


def seat_of(row: Attendance) -> str:
    """Votes belong to seats: an office's seat however many of its holders are on the roster
    (an old and a new CISO are one vote), a personal seat to its person."""
    return row.office or f"person:{row.person_id}"


def seats_needed(committee: Committee, voting: int) -> int:
    """The committee's rule over its voting seats (at a meeting, or in a written vote): a
    majority, or two thirds; never fewer than one."""
    if committee.quorum == Committee.Quorum.TWO_THIRDS:
        return max(math.ceil(2 * voting / 3), 1)
    return max(voting // 2 + 1, 1)


def quorum_of(committee: Committee, attendance: Iterable[Attendance]) -> Quorum:
    """Default rule: a majority of voting seats present, including the chair or the chair's
    acting delegate. A seat represented by its delegate counts as present."""
    rows = list(attendance)
    seats: dict[str, bool] = {}
    for row in rows:
        if row.kind == Attendance.Kind.VOTING:
            seats[seat_of(row)] = seats.get(seat_of(row), False) or row.status in COUNTED
    voting, present = len(seats), sum(seats.values())
    chair_seat = committee.chair_office.code
    return Quorum(
        voting=voting,
        present=present,
        needed=seats_needed(committee, voting),
        chair_present=any(
            (row.is_chair or row.office == chair_seat) and row.status in COUNTED for row in rows
        ),
        chair_needed=committee.quorum_needs_chair,
    )


@dataclass(frozen=True)
class Tally:
    """The votes on a resolution, counted by seat. A declared conflict is an abstention that
    does not count towards the quorum; the chair's seat must have voted (without a conflict)
    where the committee's quorum needs the chair."""

    voting: int
    cast: int
    counted: int
    votes_for: int
    votes_against: int
    abstentions: int
    conflicts: int
    needed: int
    chair_voted: bool
    chair_needed: bool

    @classmethod
    def of(cls, committee: Committee, ballots: Iterable[Ballot]) -> Tally:
        rows = list(ballots)
        cast = [b for b in rows if b.is_cast]
        counted = [b for b in cast if not b.conflict_declared]
        C = Ballot.Choice
        return cls(
            voting=len(rows),
            cast=len(cast),
            counted=len(counted),
            votes_for=sum(b.choice == C.FOR for b in counted),
            votes_against=sum(b.choice == C.AGAINST for b in counted),
            abstentions=sum(b.choice == C.ABSTAIN for b in counted),
            conflicts=len(cast) - len(counted),
            needed=seats_needed(committee, len(rows)),
            chair_voted=any(b.is_chair for b in counted),
            chair_needed=committee.quorum_needs_chair,
        )

    @property
    def quorate(self) -> bool:
        return self.counted >= self.needed and (self.chair_voted or not self.chair_needed)

    @property
    def outcome(self) -> str:
        """What the resolution comes to if it closes now."""
        if not self.quorate:
            return WrittenResolution.Status.LAPSED
        if self.votes_for > self.votes_against:
            return WrittenResolution.Status.CARRIED
        return WrittenResolution.Status.NOT_CARRIED

    @property
    def everyone_voted(self) -> bool:
        return self.cast == self.voting

    def explain(self) -> str:
        """The count in the reader's language, as the result is worded."""
        numbers = {
            "for": self.votes_for,
            "against": self.votes_against,
            "abstain": self.abstentions,
            "conflicts": self.conflicts,
            "counted": self.counted,
            "voting": self.voting,
            "needed": self.needed,
        }
        return (
            _(
                "%(for)s for, %(against)s against, %(abstain)s abstaining, %(conflicts)s "
                "abstaining for a conflict of interest; %(counted)s of %(voting)s voting seats "
                "counted, %(needed)s needed."
            )
            % numbers
        )

    def quorum_text(self) -> str:
        """Before the result: how far the votes counted so far are from a quorum."""
        numbers = {"counted": self.counted, "voting": self.voting, "needed": self.needed}
        if self.chair_needed and not self.chair_voted:
            return (
                _(
                    "%(counted)s of %(voting)s voting seats counted, %(needed)s needed; the "
                    "chair's seat has not voted yet."
                )
                % numbers
            )
        return _("%(counted)s of %(voting)s voting seats counted, %(needed)s needed.") % numbers
