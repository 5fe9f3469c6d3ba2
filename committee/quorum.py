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


def quorum_of(committee: Committee, attendance: Iterable[Attendance]) -> Quorum:
    """Default rule: a majority of voting members present, including the chair or the chair's
    acting delegate. A seat represented by its delegate counts as present."""
    rows = list(attendance)
    voting = [row for row in rows if row.kind == Attendance.Kind.VOTING]
    present = sum(1 for row in voting if row.status in COUNTED)
    if committee.quorum == Committee.Quorum.TWO_THIRDS:
        needed = math.ceil(2 * len(voting) / 3)
    else:
        needed = len(voting) // 2 + 1
    return Quorum(
        voting=len(voting),
        present=present,
        needed=max(needed, 1),
        chair_present=any(row.is_chair and row.status in COUNTED for row in rows),
        chair_needed=committee.quorum_needs_chair,
    )
