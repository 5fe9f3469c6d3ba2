"""Is the committee quorate? Counted from the frozen roster and the attendance recorded."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from committee.models import Attendance, Committee

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
        text = f"{self.present} of {self.voting} voting members present, {self.needed} needed"
        if self.chair_needed and not self.chair_present:
            text += "; the chair (or the chair's acting delegate) is not present"
        return text + "."


def seat_of(row: Attendance) -> str:
    """Votes belong to seats: an office's seat however many of its holders are on the roster
    (an old and a new CISO are one vote), a personal seat to its person."""
    return row.office or f"person:{row.person_id}"


def quorum_of(committee: Committee, attendance: Iterable[Attendance]) -> Quorum:
    """Default rule: a majority of voting seats present, including the chair or the chair's
    acting delegate. A seat represented by its delegate counts as present."""
    rows = list(attendance)
    seats: dict[str, bool] = {}
    for row in rows:
        if row.kind == Attendance.Kind.VOTING:
            seats[seat_of(row)] = seats.get(seat_of(row), False) or row.status in COUNTED
    voting, present = len(seats), sum(seats.values())
    if committee.quorum == Committee.Quorum.TWO_THIRDS:
        needed = math.ceil(2 * voting / 3)
    else:
        needed = voting // 2 + 1
    chair_seat = committee.chair_office.code
    return Quorum(
        voting=voting,
        present=present,
        needed=max(needed, 1),
        chair_present=any(
            (row.is_chair or row.office == chair_seat) and row.status in COUNTED for row in rows
        ),
        chair_needed=committee.quorum_needs_chair,
    )
