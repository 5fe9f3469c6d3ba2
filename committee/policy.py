"""Who may see committees and meetings, run them (the secretariat), decide (the chair) and read
which agenda items (members everything, a business unit only its own)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db.models import Q, QuerySet

from accounts import policy as accounts_policy
from accounts.models import Delegation
from committee.models import (
    AgendaItem,
    Ballot,
    Committee,
    CommitteeMember,
    Meeting,
    WrittenResolution,
)


def _signed_in(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.is_active)


def visible_committees(user: Any) -> QuerySet[Committee]:
    """That a committee exists and when it meets is not secret inside the group: anyone signed in
    sees committees and meetings; what is on an agenda is scoped below."""
    if not _signed_in(user):
        return Committee.objects.none()
    return Committee.objects.all()


def visible_meetings(user: Any) -> QuerySet[Meeting]:
    if not _signed_in(user):
        return Meeting.objects.none()
    return Meeting.objects.all()


def seats_of(user: Any) -> QuerySet[CommitteeMember]:
    """The seats a person fills now: their own, and those of offices they hold or act for."""
    offices = [h.code for h in accounts_policy.offices_held(user)]
    return CommitteeMember.objects.filter(Q(person=user) | Q(office__code__in=offices))


def committees_of(user: Any) -> QuerySet[Committee]:
    """Committees the person sits on, chairs or runs: the ones on their calendar."""
    if not _signed_in(user):
        return Committee.objects.none()
    offices = [h.code for h in accounts_policy.offices_held(user)]
    return Committee.objects.filter(
        Q(members__person=user)
        | Q(members__office__code__in=offices)
        | Q(chair_office__code__in=offices)
        | Q(secretariat_office__code__in=offices)
        | Q(secretariat=user)
    ).distinct()


def is_secretariat(user: Any, committee: Committee) -> bool:
    """The secretariat runs the meetings: its named people, whoever holds the committee's
    secretariat office or acts for it by delegation, and an administrator standing in."""
    if not _signed_in(user):
        return False
    if user.is_superuser or committee.secretariat.filter(pk=user.pk).exists():
        return True
    office = committee.secretariat_office
    return office is not None and accounts_policy.holds_office(user, office.code)


def chair_capacity(user: Any, committee: Committee) -> str | None:
    """'holder' or 'acting' if the person chairs the committee now, else None."""
    return accounts_policy.office_capacity(user, committee.chair_office.code)


def sees_whole_agenda(user: Any, committee: Committee) -> bool:
    """Members, the chair, the secretariat and oversight (CxOs, auditors) read every item."""
    if not _signed_in(user):
        return False
    if accounts_policy.reads_everything(user) or is_secretariat(user, committee):
        return True
    return seats_of(user).filter(committee=committee).exists()


def visible_items(user: Any, meeting: Meeting) -> QuerySet[AgendaItem]:
    """The agenda as this person may read it: whole, or only the items of their own units."""
    items = AgendaItem.objects.filter(meeting=meeting, removed_at__isnull=True)
    if sees_whole_agenda(user, meeting.committee):
        return items
    if not _signed_in(user):
        return items.none()
    return items.filter(unit__in=accounts_policy.units_of(user))


def runs_meetings(user: Any, committee: Committee) -> bool:
    """The secretariat runs a committee's meetings; the chair may do every one of its acts, so
    a meeting goes ahead when the secretariat is absent."""
    return is_secretariat(user, committee) or chair_capacity(user, committee) is not None


def can_run_meeting(user: Any, meeting: Meeting) -> bool:
    """Schedule, edit the agenda, publish, record attendance, mark held, draft minutes."""
    return runs_meetings(user, meeting.committee)


def can_schedule(user: Any, committee: Committee) -> bool:
    return runs_meetings(user, committee)


def decision_capacity(user: Any, meeting: Meeting) -> str | None:
    """Decisions are the chair's; the secretariat records them on the chair's behalf."""
    if chair_capacity(user, meeting.committee) is not None:
        return "chair"
    if is_secretariat(user, meeting.committee):
        return "secretariat"
    return None


def can_approve_minutes(user: Any, meeting: Meeting) -> bool:
    """Only the chair (or the chair's acting delegate) approves the minutes."""
    return chair_capacity(user, meeting.committee) is not None


def can_read_minutes(user: Any, meeting: Meeting) -> bool:
    return sees_whole_agenda(user, meeting.committee)


def may_represent(delegate: Any, office_code: str, *, at: Any = None) -> bool:
    """Someone represents an office's seat only as that office's acting delegate."""
    if not office_code:
        return True  # a personal seat: whoever the member sends
    return (
        Delegation.objects.active(at).filter(office__code=office_code, delegate=delegate).exists()
    )


# --- Written resolutions between meetings ------------------------------------------------------


def can_open_resolution(user: Any, committee: Committee) -> bool:
    """Only the chair (the holder, or the chair's acting delegate) puts an urgent matter to
    the members in writing."""
    return chair_capacity(user, committee) is not None


def chaired_committees(user: Any) -> QuerySet[Committee]:
    """The active committees the person chairs now: where they may open a written resolution."""
    if not _signed_in(user):
        return Committee.objects.none()
    offices = [h.code for h in accounts_policy.offices_held(user)]
    return Committee.objects.filter(chair_office__code__in=offices, is_active=True)


def visible_resolutions(user: Any) -> QuerySet[WrittenResolution]:
    """Written resolutions are the committee's business, as its whole agenda is: its members,
    chair and secretariat, and oversight, read them; a business unit does not."""
    if not _signed_in(user):
        return WrittenResolution.objects.none()
    if accounts_policy.reads_everything(user):
        return WrittenResolution.objects.all()
    return WrittenResolution.objects.filter(committee__in=committees_of(user))


def offices_of(user: Any) -> dict[str, str]:
    """The offices a person holds or acts for now, by code, with the capacity."""
    return {h.code: h.capacity for h in accounts_policy.offices_held(user)}


def seats_filled(
    user: Any, ballots: Iterable[Ballot], *, held: dict[str, str] | None = None
) -> dict[int, str]:
    """The ballots whose seat the person fills now, by id, with the capacity they fill it in:
    'holder' or 'acting' for an office's seat (whoever holds it at vote time, not who held it
    when the resolution opened), 'member' for their own personal seat. `held` is
    `offices_of(user)` when the caller has read it already."""
    if not _signed_in(user):
        return {}
    held = offices_of(user) if held is None else held
    filled: dict[int, str] = {}
    for ballot in ballots:
        if ballot.office:
            capacity = held.get(ballot.office)
        else:
            capacity = "member" if ballot.person_id == user.pk else None
        if capacity is not None:
            filled[ballot.pk] = capacity
    return filled
