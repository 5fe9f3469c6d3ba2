"""Reads of committees and meetings as a given person may see them."""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, Q, QuerySet

from actions.models import Action
from committee import policy
from committee.models import (
    AgendaItem,
    Attendance,
    CalendarFeed,
    Committee,
    Decision,
    Meeting,
    Minutes,
    MinutesCorrection,
)


def committees_for(user: Any) -> QuerySet[Committee]:
    return policy.visible_committees(user).select_related("chair_office")


def meetings_for(user: Any) -> QuerySet[Meeting]:
    return policy.visible_meetings(user).select_related("committee", "chair")


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
