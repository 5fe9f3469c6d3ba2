"""Who may see committees and meetings, run them (the secretariat), decide (the chair) and read
which agenda items (members everything, a business unit only its own)."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from accounts import policy as accounts_policy
from accounts.models import Delegation
from committee.models import AgendaItem, Committee, CommitteeMember, Meeting


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
        | Q(secretariat=user)
    ).distinct()


def is_secretariat(user: Any, committee: Committee) -> bool:
    """The secretariat runs the meetings; an administrator may stand in."""
    if not _signed_in(user):
        return False
    return bool(user.is_superuser) or committee.secretariat.filter(pk=user.pk).exists()


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


def can_run_meeting(user: Any, meeting: Meeting) -> bool:
    """Schedule, edit the agenda, publish, record attendance, draft minutes: the secretariat."""
    return is_secretariat(user, meeting.committee)


def can_schedule(user: Any, committee: Committee) -> bool:
    return is_secretariat(user, committee)


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
