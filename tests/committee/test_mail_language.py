"""Meeting invitations and cancellations are written in each member's language, show the time on
the committee's clock in the reader's date format, and link to the meeting's page."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.utils import formats, timezone, translation

from accounts.models import User
from committee import services
from committee.models import Committee, Meeting
from committee.services.meetings import send_notices
from tests.mails import SITE_URL, links, opens, said

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")
STARTS = dt.datetime(timezone.now().year + 1, 1, 10, 10, 0, tzinfo=dt.UTC)  # 10:00 in London


@pytest.fixture(autouse=True)
def _site_url(settings):
    settings.SITE_URL = SITE_URL


@pytest.fixture
def london_meeting(committee: Committee) -> Meeting:
    """A committee on London's clock, far from the site's (Tokyo, 19:00 then)."""
    Committee.objects.filter(pk=committee.pk).update(time_zone="Europe/London")
    return Meeting.objects.create(
        committee=Committee.objects.get(pk=committee.pk),
        title="RCC & friends",
        starts_at=STARTS,
        ends_at=STARTS + dt.timedelta(hours=2),
        location="21F board room",
    )


def shown(language: str, fmt: str) -> str:
    """The meeting's start on London's clock, as a reader of `language` reads dates."""
    with translation.override(language):
        return formats.date_format(STARTS.astimezone(LONDON), fmt)


def mailed(person: User) -> mail.EmailMessage:
    [message] = [m for m in mail.outbox if m.to == [person.email]]
    return message


def test_the_invitation_links_the_meeting_in_english(
    login_as, london_meeting, secretary, chair, ciso, cqo
):
    services.publish_agenda(actor=secretary, meeting=london_meeting)
    assert send_notices(london_meeting.pk) == 3
    message = mailed(ciso)
    assert message.subject == "[RCC] Invitation: RCC & friends, " + (
        f"{STARTS.year}-01-10 10:00 (Europe/London)"
    )
    lines = message.body.splitlines()
    assert lines[0] == f"Dear {ciso.display_name},"
    weekday, when = shown("en", "l"), shown("en", "DATETIME_FORMAT")
    assert f"When: {weekday}, {when} (Europe/London)" in lines
    assert "10 a.m." in when  # the committee's clock, not the site's (19:00 in Tokyo)
    assert "Where: 21F board room" in lines
    assert links(message.body) == [f"{SITE_URL}/meetings/{london_meeting.pk}/"]
    opens(login_as(ciso), links(message.body)[0], "committee:meeting", london_meeting.pk)


def test_each_member_is_invited_in_their_own_language(
    login_as, london_meeting, secretary, chair, ciso, cqo
):
    User.objects.filter(pk=chair.pk).update(language="ja")
    services.publish_agenda(actor=secretary, meeting=london_meeting)
    assert send_notices(london_meeting.pk) == 3
    assert mailed(ciso).subject.startswith("[RCC] Invitation: ")
    message = mailed(chair)
    assert message.subject == said(
        "ja",
        "[RCC] Invitation: %(title)s, %(when)s",
        title="RCC & friends",
        when=f"{STARTS.year}-01-10 10:00 (Europe/London)",
    )
    lines = message.body.splitlines()
    assert lines[0] == said("ja", "Dear %(name)s,", name=chair.display_name)
    assert (
        said(
            "ja",
            "When: %(weekday)s, %(when)s (%(zone)s)",
            weekday=shown("ja", "l"),
            when=shown("ja", "DATETIME_FORMAT"),
            zone="Europe/London",
        )
        in lines
    )
    assert "年" in shown("ja", "DATETIME_FORMAT")
    assert said("ja", "Where: %(location)s", location="21F board room") in lines
    assert said("ja", "Agenda") in lines
    assert "When:" not in message.body and "Dear" not in message.body
    assert links(message.body) == [f"{SITE_URL}/meetings/{london_meeting.pk}/"]
    opens(login_as(chair), links(message.body)[0], "committee:meeting", london_meeting.pk)


def test_a_moved_meeting_is_announced_in_the_readers_language(
    london_meeting, secretary, chair, ciso, cqo
):
    User.objects.filter(pk=cqo.pk).update(language="ja")
    services.publish_agenda(actor=secretary, meeting=london_meeting)
    send_notices(london_meeting.pk)
    mail.outbox.clear()
    services.reschedule_meeting(
        actor=secretary,
        meeting=london_meeting,
        starts_at=STARTS + dt.timedelta(hours=1),
        reason="CEO travelling",
    )
    assert send_notices(london_meeting.pk) == 3
    assert mailed(ciso).subject.startswith("[RCC] Updated: RCC & friends, ")
    message = mailed(cqo)
    assert message.subject == said(
        "ja",
        "[RCC] Updated: %(title)s, %(when)s",
        title="RCC & friends",
        when=f"{STARTS.year}-01-10 11:00 (Europe/London)",
    )
    assert (
        said(
            "ja",
            "The meeting below has changed; your calendar entry is updated by the attached "
            "invitation.",
        )
        in message.body
    )
    assert links(message.body) == [f"{SITE_URL}/meetings/{london_meeting.pk}/"]


def test_a_cancellation_is_written_in_the_readers_language(
    london_meeting, secretary, chair, ciso, cqo
):
    User.objects.filter(pk=ciso.pk).update(language="ja")
    services.publish_agenda(actor=secretary, meeting=london_meeting)
    send_notices(london_meeting.pk)
    mail.outbox.clear()
    services.cancel_meeting(actor=secretary, meeting=london_meeting, reason="No quorum")
    assert send_notices(london_meeting.pk) == 3
    english = mailed(chair)
    assert english.subject.startswith("[RCC] Cancelled: RCC & friends, ")
    assert "Reason: No quorum" in english.body.splitlines()
    message = mailed(ciso)
    assert message.subject == said(
        "ja",
        "[RCC] Cancelled: %(title)s, %(when)s",
        title="RCC & friends",
        when=f"{STARTS.year}-01-10 10:00 (Europe/London)",
    )
    lines = message.body.splitlines()
    assert (
        said(
            "ja",
            "Was due: %(weekday)s, %(when)s (%(zone)s)",
            weekday=shown("ja", "l"),
            when=shown("ja", "DATETIME_FORMAT"),
            zone="Europe/London",
        )
        in lines
    )
    assert said("ja", "Reason: %(reason)s", reason="No quorum") in lines
    for mailed_to in (english, message):
        assert links(mailed_to.body) == [f"{SITE_URL}/meetings/{london_meeting.pk}/"]
