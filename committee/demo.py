"""The demo's Risk Compliance Committee: its seats, its next three meetings scheduled by the same
service the daily beat calls, and the next agenda assembled by the same service the hourly one
calls, so a person trying the product sees a real agenda at once."""

from __future__ import annotations

from django.utils import timezone

from accounts.demo import SECRETARIAT_OFFICE
from accounts.models import Office, OfficeCode, User
from committee.models import Committee, CommitteeMember, Meeting
from committee.services.agenda import assemble_agenda
from committee.services.scheduling import schedule_committee

VOTING_OFFICES = [OfficeCode.CISO, OfficeCode.CQO, OfficeCode.CFO, OfficeCode.CHRO]


def seed_committee() -> Committee:
    """Idempotent: a second run schedules nothing new and adds no agenda item twice."""
    committee, created = Committee.objects.get_or_create(
        slug="rcc",
        defaults={
            "name": "Risk Compliance Committee",
            "chair_office": Office.objects.get(code=OfficeCode.CEO),
            "location": "Head office, 21F board room",
        },
    )
    if created:
        for office in Office.objects.filter(code__in=VOTING_OFFICES):
            CommitteeMember.objects.create(committee=committee, office=office)
        committee.secretariat.add(*User.objects.filter(username="secretary"))
    if committee.secretariat_office_id is None:
        committee.secretariat_office = Office.objects.filter(code=SECRETARIAT_OFFICE[0]).first()
        committee.save(update_fields=["secretariat_office", "updated_at"])
    schedule_committee(committee)
    upcoming = (
        committee.meetings.filter(status=Meeting.Status.SCHEDULED, starts_at__gt=timezone.now())
        .order_by("starts_at")
        .first()
    )
    if upcoming is not None:
        assemble_agenda(actor=None, meeting=upcoming)
    return committee
