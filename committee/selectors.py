"""Reads of committees and meetings as a given person may see them."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils import timezone

from accounts import policy as accounts_policy
from actions.models import Action
from committee import policy
from committee.models import (
    AgendaItem,
    Attendance,
    Ballot,
    CalendarFeed,
    Committee,
    Decision,
    Meeting,
    Minutes,
    MinutesCorrection,
    WrittenResolution,
)


def committees_for(user: Any) -> QuerySet[Committee]:
    return policy.visible_committees(user).select_related("chair_office")


def meetings_for(user: Any) -> QuerySet[Meeting]:
    return policy.visible_meetings(user).select_related("committee", "chair")


def seats_of_committee(committee: Committee) -> int:
    """How many seats an invitation goes to: the members' and the chair's."""
    return committee.members.count() + 1


def agenda_for(user: Any, meeting: Meeting) -> QuerySet[AgendaItem]:
    return policy.visible_items(user, meeting).select_related(
        "unit",
        "incident",
        "risk",
        "action",
        "suspension__system",
        "directive",
        "project",
        "added_by",
    )


def attendance_for(user: Any, meeting: Meeting) -> QuerySet[Attendance]:
    rows = meeting.attendance.select_related("person", "delegate")
    return rows if policy.sees_whole_agenda(user, meeting.committee) else rows.none()


def decisions_for(user: Any, meeting: Meeting) -> QuerySet[Decision]:
    """Every decision for those who read the whole agenda; a unit reads the decisions on its
    own items."""
    decisions = meeting.decisions.select_related(
        "chair", "recorded_by", "corrects"
    ).prefetch_related(
        Prefetch("actions", queryset=Action.objects.only("pk", "reference", "origin_decision_id"))
    )
    if policy.sees_whole_agenda(user, meeting.committee):
        return decisions
    return decisions.filter(item__in=policy.visible_items(user, meeting))


def minutes_for(user: Any, meeting: Meeting) -> Minutes | None:
    """The meeting's minutes with their corrections, for those who may read them (None when
    they may not, or when none are drafted yet)."""
    if not policy.can_read_minutes(user, meeting):
        return None
    return (
        Minutes.objects.filter(meeting=meeting)
        .select_related("drafted_by", "approved_by")
        .prefetch_related(
            Prefetch("corrections", queryset=MinutesCorrection.objects.select_related("made_by"))
        )
        .first()
    )


def calendar_feeds_of(user: Any) -> QuerySet[CalendarFeed]:
    """A person's own calendar subscriptions; nobody reads another's."""
    if not getattr(user, "is_authenticated", False):
        return CalendarFeed.objects.none()
    return CalendarFeed.objects.filter(user=user)


def calendar_meetings(user: Any) -> QuerySet[Meeting]:
    """The meetings on a person's calendar: their committees', and any they were invited to."""
    return (
        Meeting.objects.filter(
            Q(committee__in=policy.committees_of(user)) | Q(attendance__person=user)
        )
        .distinct()
        .select_related("committee")
        .order_by("starts_at", "pk")
    )


def resolutions_for(user: Any) -> QuerySet[WrittenResolution]:
    """Written resolutions as the person may read them, with their seats and votes counted (a
    list costs the same whatever its length)."""
    return (
        policy.visible_resolutions(user)
        .select_related("committee", "proposed_by", "meeting", "decision", "suspension__system")
        .annotate(
            seat_count=Count("ballots", distinct=True),
            votes_cast=Count("ballots", filter=Q(ballots__cast_at__isnull=False), distinct=True),
        )
    )


def ballots_of(resolution: WrittenResolution) -> QuerySet[Ballot]:
    """A resolution's seats in order, the chair's first, with who fills and who cast each."""
    return resolution.ballots.select_related("person", "cast_by")


def resolutions_waiting_for(user: Any) -> QuerySet[Ballot]:
    """The votes waiting for this person, soonest deadline first: open ballots, before their
    deadline, of a seat they fill now (an office they hold or act for, or their own seat)
    that nobody has cast yet."""
    if not getattr(user, "is_authenticated", False):
        return Ballot.objects.none()
    offices = [held.code for held in accounts_policy.offices_held(user)]
    return (
        Ballot.objects.filter(
            resolution__in=policy.visible_resolutions(user),
            resolution__status=WrittenResolution.Status.OPEN,
            resolution__deadline__gt=timezone.now(),
            cast_at__isnull=True,
        )
        .filter(Q(office__in=offices) | Q(office="", person=user))
        .select_related("resolution__committee", "person")
        .order_by("resolution__deadline", "pk")
    )
