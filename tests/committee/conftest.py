"""Committee fixtures: the committee as the demo builds it, and meetings moved along through the
services, as the product moves them."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from accounts.models import Office, User
from committee import services
from committee.models import Attendance, Committee, CommitteeMember, Meeting
from tests.factories import OfficeFactory


@pytest.fixture
def committee(chair, ciso, cqo, secretary) -> Committee:
    """Chaired by the CEO; CISO and CQO vote; the secretariat runs it. Three voting seats."""
    return build_committee(secretary)


def build_committee(secretary: User) -> Committee:
    committee = Committee.objects.create(
        name="Risk Compliance Committee",
        slug="rcc",
        chair_office=Office.objects.get(code="CEO"),
        location="21F board room",
    )
    for code in ("CISO", "CQO"):
        CommitteeMember.objects.create(committee=committee, office=Office.objects.get(code=code))
    committee.secretariat.add(secretary)
    return committee


@pytest.fixture
def cfo(db) -> User:
    from tests.factories import UserFactory

    user = UserFactory.create(username="cfo", roles=["cxo"])
    office = OfficeFactory.create(code="CFO", name="CFO")  # the migration's row, if there
    office.holder = user
    office.save()
    return user


def make_meeting(committee: Committee, *, days: float = 3, **fields: Any) -> Meeting:
    starts_at = timezone.now() + dt.timedelta(days=days)
    return Meeting.objects.create(
        committee=committee,
        title=str(fields.pop("title", "Risk Compliance Committee — test")),
        starts_at=starts_at,
        ends_at=starts_at + dt.timedelta(hours=2),
        **fields,
    )


@pytest.fixture
def meeting(committee) -> Meeting:
    return make_meeting(committee)


@pytest.fixture
def published(meeting, secretary) -> Meeting:
    return services.publish_agenda(actor=secretary, meeting=meeting)


def begin(meeting: Meeting, *, minutes_ago: float = 5) -> Meeting:
    """Time passes: the meeting has begun (its start moved into the recent past, its length
    kept), so what happens at a meeting (who came, decisions, closing it) may be recorded."""
    length = meeting.ends_at - meeting.starts_at
    starts_at = timezone.now() - dt.timedelta(minutes=minutes_ago)
    Meeting.objects.filter(pk=meeting.pk).update(starts_at=starts_at, ends_at=starts_at + length)
    meeting.refresh_from_db()
    return meeting


def mark_present(meeting: Meeting, secretary: User, *people: User) -> None:
    """The meeting begins, and these people are there."""
    if not meeting.has_started():
        begin(meeting)
    for person in people:
        services.record_attendance(
            actor=secretary, meeting=meeting, person=person, status=Attendance.Status.PRESENT
        )


@pytest.fixture
def quorate(published, secretary, chair, ciso) -> Meeting:
    """Published, with the chair and the CISO present: 2 of 3 voting seats."""
    mark_present(published, secretary, chair, ciso)
    return published
