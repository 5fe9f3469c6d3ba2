"""Scheduling from the cadence: second Tuesdays at 10:00 Tokyo, exceptions, DST, idempotence."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
import time_machine

from committee import services
from committee.models import CadenceException, Meeting
from committee.services.scheduling import schedule_committee
from committee.tasks import schedule_meetings
from tests.committee.conftest import build_committee
from tests.threads import at_once

UTC = dt.UTC
TOKYO = zoneinfo.ZoneInfo("Asia/Tokyo")
NOW = dt.datetime(2026, 11, 26, 0, 0, tzinfo=UTC)


def starts(committee) -> list[dt.datetime]:
    return list(
        committee.meetings.exclude(status=Meeting.Status.CANCELLED)
        .order_by("starts_at")
        .values_list("starts_at", flat=True)
    )


def test_second_tuesday_ten_tokyo_for_the_next_three_months_stored_in_utc(committee):
    with time_machine.travel(NOW, tick=False):
        result = services.schedule_meetings()
    assert result == {"created": 3, "changed": 0}
    # 10:00 in Tokyo (UTC+9, no daylight saving) is 01:00 UTC.
    assert starts(committee) == [
        dt.datetime(2026, 12, 8, 1, 0, tzinfo=UTC),
        dt.datetime(2027, 1, 12, 1, 0, tzinfo=UTC),
        dt.datetime(2027, 2, 9, 1, 0, tzinfo=UTC),
    ]
    for meeting in committee.meetings.all():
        local = meeting.starts_at.astimezone(TOKYO)
        assert (local.weekday(), local.hour, local.minute) == (1, 10, 0)  # Tuesday 10:00
        assert 8 <= local.day <= 14  # the second one of its month
        assert meeting.ends_at - meeting.starts_at == dt.timedelta(minutes=120)
        assert meeting.status == Meeting.Status.SCHEDULED
    assert committee.meetings.first().title == "Risk Compliance Committee — December 2026"


def test_running_twice_creates_nothing_new(committee):
    with time_machine.travel(NOW, tick=False):
        schedule_meetings.apply()
        second = services.schedule_meetings()
    assert second == {"created": 0, "changed": 0}
    assert committee.meetings.count() == 3


def test_the_window_rolls_forward_a_month_later(committee):
    with time_machine.travel(NOW, tick=False):
        services.schedule_meetings()
    with time_machine.travel(NOW + dt.timedelta(days=31), tick=False):
        assert services.schedule_meetings()["created"] == 1
    assert starts(committee)[-1] == dt.datetime(2027, 3, 9, 1, 0, tzinfo=UTC)


@pytest.mark.django_db(transaction=True)
def test_two_processes_at_once_create_no_duplicate(chair, ciso, cqo, secretary):
    committee = build_committee(secretary)
    at_once(lambda: schedule_committee(committee, now=NOW), threads=4, timeout=60)
    assert committee.meetings.count() == 3
    assert len(set(starts(committee))) == 3


def test_an_exception_skips_one_meeting_and_moves_another(committee, secretary):
    services.add_cadence_exception(
        actor=secretary,
        committee=committee,
        occurrence_date=dt.date(2027, 1, 12),
        kind=CadenceException.Kind.SKIP,
        reason="New Year board offsite",
    )
    moved_to = dt.datetime(2027, 2, 10, 14, 0, tzinfo=TOKYO)
    services.add_cadence_exception(
        actor=secretary,
        committee=committee,
        occurrence_date=dt.date(2027, 2, 9),
        kind=CadenceException.Kind.MOVE,
        moved_to=moved_to,
        reason="The CEO is abroad",
    )
    with time_machine.travel(NOW, tick=False):
        services.schedule_meetings()
        assert services.schedule_meetings() == {"created": 0, "changed": 0}
    assert starts(committee) == [dt.datetime(2026, 12, 8, 1, 0, tzinfo=UTC), moved_to]
    assert committee.meetings.get(cadence_date=dt.date(2027, 2, 9)).starts_at == moved_to


def test_an_exception_for_a_meeting_already_scheduled_applies_at_once(committee, secretary):
    with time_machine.travel(NOW, tick=False):
        services.schedule_meetings()
        services.add_cadence_exception(
            actor=secretary,
            committee=committee,
            occurrence_date=dt.date(2026, 12, 8),
            kind=CadenceException.Kind.SKIP,
            reason="Merged with January",
        )
        january = committee.meetings.get(cadence_date=dt.date(2027, 1, 12))
        later = dt.datetime(2027, 1, 13, 10, 0, tzinfo=TOKYO)
        services.add_cadence_exception(
            actor=secretary,
            committee=committee,
            occurrence_date=dt.date(2027, 1, 12),
            kind=CadenceException.Kind.MOVE,
            moved_to=later,
            reason="Room taken",
        )
        assert services.schedule_meetings() == {"created": 0, "changed": 0}
    december = committee.meetings.get(cadence_date=dt.date(2026, 12, 8))
    assert december.status == Meeting.Status.CANCELLED
    assert december.cancel_reason == "Skipped: Merged with January"
    january.refresh_from_db()
    assert january.starts_at == later


def test_an_exception_must_name_a_date_of_the_cadence(committee, secretary):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError, match="no meeting on 2027-01-13"):
        services.add_cadence_exception(
            actor=secretary,
            committee=committee,
            occurrence_date=dt.date(2027, 1, 13),
            kind=CadenceException.Kind.SKIP,
            reason="Wrong day",
        )


def test_only_the_secretariat_changes_the_calendar(committee, ciso):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        services.add_cadence_exception(
            actor=ciso,
            committee=committee,
            occurrence_date=dt.date(2027, 1, 12),
            kind=CadenceException.Kind.SKIP,
            reason="Not mine to skip",
        )
    assert not committee.exceptions.exists()


def test_daylight_saving_keeps_ten_oclock_local(committee):
    committee.time_zone = "America/New_York"
    committee.save()
    with time_machine.travel(dt.datetime(2027, 2, 1, tzinfo=UTC), tick=False):
        services.schedule_meetings()
    new_york = zoneinfo.ZoneInfo("America/New_York")
    local = [s.astimezone(new_york) for s in starts(committee)]
    assert [(d.month, d.day, d.hour) for d in local] == [(2, 9, 10), (3, 9, 10), (4, 13, 10)]
    # Daylight saving starts on 14 March 2027: the same 10:00 is 15:00 UTC before, 14:00 after.
    assert [s.hour for s in starts(committee)] == [15, 15, 14]


def test_an_inactive_committee_is_not_scheduled(committee):
    committee.is_active = False
    committee.save()
    with time_machine.travel(NOW, tick=False):
        assert services.schedule_meetings() == {"created": 0, "changed": 0}
    assert not committee.meetings.exists()


def test_a_held_meeting_is_the_record_no_exception_moves_it(committee, secretary):
    from django.core.exceptions import ValidationError

    with time_machine.travel(NOW, tick=False):
        services.schedule_meetings()
    december = committee.meetings.get(cadence_date=dt.date(2026, 12, 8))
    Meeting.objects.filter(pk=december.pk).update(status=Meeting.Status.HELD)
    with pytest.raises(ValidationError, match="held"):
        services.add_cadence_exception(
            actor=secretary,
            committee=committee,
            occurrence_date=dt.date(2026, 12, 8),
            kind=CadenceException.Kind.MOVE,
            moved_to=dt.datetime(2026, 12, 9, 10, tzinfo=TOKYO),
            reason="Too late",
        )
    december.refresh_from_db()
    assert december.starts_at == dt.datetime(2026, 12, 8, 1, 0, tzinfo=UTC)


def test_moving_onto_another_meeting_is_a_conflict_not_a_crash(committee, secretary):
    from config.errors import Conflict

    with time_machine.travel(NOW, tick=False):
        services.schedule_meetings()
        with pytest.raises(Conflict):
            services.add_cadence_exception(
                actor=secretary,
                committee=committee,
                occurrence_date=dt.date(2027, 1, 12),
                kind=CadenceException.Kind.MOVE,
                moved_to=dt.datetime(2027, 2, 9, 10, tzinfo=TOKYO),  # February's meeting
                reason="Merge",
            )
    assert not committee.exceptions.exists()


def test_a_changed_cadence_cancels_the_draft_meetings_it_no_longer_has(committee):
    with time_machine.travel(NOW, tick=False):
        services.schedule_meetings()
        committee.cadence = "FREQ=MONTHLY;BYDAY=3TU;BYHOUR=10;BYMINUTE=0;BYSECOND=0"
        committee.save()
        result = services.schedule_meetings()
    assert result == {"created": 3, "changed": 3}
    days = [s.astimezone(TOKYO).day for s in starts(committee)]
    assert days == [15, 19, 16]  # third Tuesdays only
    cancelled = committee.meetings.filter(status=Meeting.Status.CANCELLED)
    assert {m.sequence for m in cancelled} == {1}  # calendars drop them


def test_a_cadence_faster_than_daily_is_refused(committee):
    from django.core.exceptions import ValidationError

    committee.cadence = "FREQ=HOURLY"
    with pytest.raises(ValidationError, match="daily at most"):
        committee.full_clean()
