"""iCalendar for meetings: mailed invitations, the meeting's .ics, and the per-person feed."""

from __future__ import annotations

import datetime as dt
import email
from collections.abc import Iterable
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from icalendar import Calendar, Component

from accounts.models import Office, User
from committee import services
from committee.models import CalendarFeed, Committee, Meeting
from committee.services.meetings import send_notices
from config import mail as composer  # where every mail is rendered, in its reader's language
from outbox.models import Message
from outbox.tasks import deliver
from tests.factories import UserFactory

UTC = dt.UTC
NEXT_YEAR = timezone.now().year + 1


# --- helpers ----------------------------------------------------------------------------------


def meeting_at(committee: Committee, starts_at: dt.datetime, title: str = "RCC") -> Meeting:
    return Meeting.objects.create(
        committee=committee,
        title=title,
        starts_at=starts_at,
        ends_at=starts_at + dt.timedelta(hours=2),
    )


def the_event(calendar: Calendar) -> Component:
    [event] = calendar.walk("VEVENT")
    return event


def attendees(event: Component) -> set[str]:
    found = event.get("attendee", [])
    found = found if isinstance(found, list) else [found]
    return {str(address).lower() for address in found}


def mailto(*people: User) -> set[str]:
    return {f"mailto:{person.email}".lower() for person in people}


def timezone_ids(calendar: Calendar) -> set[str]:
    return {str(zone["TZID"]) for zone in calendar.walk("VTIMEZONE")}


def local_start(event: Component) -> tuple[str, dt.datetime]:
    """DTSTART as the calendar holds it: its TZID, and the wall-clock time in that zone."""
    start = event["dtstart"]
    return str(start.params["TZID"]), event.decoded("dtstart").replace(tzinfo=None)


def invites(messages: Iterable[mail.EmailMessage]) -> dict[str, tuple[str, Calendar]]:
    """Per recipient: the Content-Type of the invite.ics part as sent, and the calendar in it."""
    return {
        to: (kind, Calendar.from_ical(raw)) for to, (kind, raw) in raw_invites(messages).items()
    }


def raw_invites(messages: Iterable[mail.EmailMessage]) -> dict[str, tuple[str, bytes]]:
    found: dict[str, tuple[str, bytes]] = {}
    for message in messages:
        [recipient] = message.to
        assert recipient not in found, f"{recipient} was mailed twice"
        rendered = email.message_from_bytes(message.message().as_bytes())
        [part] = [p for p in rendered.walk() if p.get_filename() == "invite.ics"]
        payload = part.get_payload(decode=True)
        assert isinstance(payload, bytes)
        found[recipient] = (str(part["Content-Type"]), payload)
    return found


def emails(people: Iterable[User]) -> list[str]:
    return sorted(person.email for person in people)


@pytest.fixture
def tokyo_meeting(committee) -> Meeting:
    """01:00 UTC is 10:00 in Tokyo, the committee's zone (no daylight saving there)."""
    return meeting_at(committee, dt.datetime(NEXT_YEAR, 3, 10, 1, 0, tzinfo=UTC))


@pytest.fixture
def finance_chair(db) -> User:
    """Holds the CFO office. (Offices are seeded by a migration, so the holder is set on the
    existing row: OfficeFactory's get_or_create would find it and ignore `holder=`.)"""
    user = UserFactory.create(username="finance_chair", roles=["cxo"])
    Office.objects.filter(code="CFO").update(holder=user)
    return user


@pytest.fixture
def other_committee(finance_chair) -> Committee:
    """Chaired by the CFO alone: the CISO and CQO neither sit on it nor run it."""
    return Committee.objects.create(
        name="Finance Committee", slug="finance", chair_office=Office.objects.get(code="CFO")
    )


def feed_path(client: Client) -> str:
    response = client.post("/api/v1/calendar-feeds/")
    assert response.status_code == 201, response.content
    url = response.json()["url"]
    assert url.endswith(".ics")
    return urlsplit(url).path


def read_feed(path: str) -> Calendar:
    response = Client().get(path)  # a calendar app: no session, no cookies
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/calendar")
    return Calendar.from_ical(response.content)


# --- invitations by mail -----------------------------------------------------------------------


def test_publishing_mails_each_attendee_one_invitation(tokyo_meeting, secretary, chair, ciso, cqo):
    services.publish_agenda(actor=secretary, meeting=tokyo_meeting)
    assert mail.outbox == []  # nothing leaves before commit

    assert send_notices(tokyo_meeting.pk) == 3

    sent = invites(mail.outbox)
    assert sorted(sent) == emails([chair, ciso, cqo])  # the secretary is not on the roster
    for content_type, calendar in sent.values():
        assert content_type.split(";")[0].strip() == "text/calendar"
        assert "method=REQUEST" in content_type.replace('"', "").replace(" ", "")
        assert calendar["METHOD"] == "REQUEST"
        event = the_event(calendar)
        assert str(event["UID"]) == tokyo_meeting.ical_uid
        assert event["SEQUENCE"] == 0
        assert str(event["STATUS"]) == "CONFIRMED"
        assert local_start(event) == ("Asia/Tokyo", dt.datetime(NEXT_YEAR, 3, 10, 10, 0))
        assert event.decoded("dtstart") == tokyo_meeting.starts_at
        assert timezone_ids(calendar) == {"Asia/Tokyo"}
        assert attendees(event) == mailto(chair, ciso, cqo)
    assert all(m.subject.startswith("[RCC] Invitation:") for m in mail.outbox)
    for _, raw in raw_invites(mail.outbox).values():
        assert b"DTSTART;TZID=Asia/Tokyo:%d0310T100000" % NEXT_YEAR in raw


def test_moving_then_cancelling_updates_the_same_event(tokyo_meeting, secretary, chair, ciso, cqo):
    services.publish_agenda(actor=secretary, meeting=tokyo_meeting)
    send_notices(tokyo_meeting.pk)
    mail.outbox.clear()

    later = dt.datetime(NEXT_YEAR, 3, 11, 5, 30, tzinfo=UTC)  # 14:30 in Tokyo
    services.reschedule_meeting(
        actor=secretary, meeting=tokyo_meeting, starts_at=later, reason="CEO travelling"
    )
    tokyo_meeting.refresh_from_db()
    assert tokyo_meeting.sequence == 1
    assert send_notices(tokyo_meeting.pk) == 3
    updated = invites(mail.outbox)
    assert sorted(updated) == emails([chair, ciso, cqo])
    for content_type, calendar in updated.values():
        assert "method=REQUEST" in content_type.replace('"', "").replace(" ", "")
        assert calendar["METHOD"] == "REQUEST"
        event = the_event(calendar)
        assert str(event["UID"]) == tokyo_meeting.ical_uid
        assert event["SEQUENCE"] == 1
        assert local_start(event) == ("Asia/Tokyo", dt.datetime(NEXT_YEAR, 3, 11, 14, 30))
    assert all(m.subject.startswith("[RCC] Updated:") for m in mail.outbox)
    mail.outbox.clear()

    services.cancel_meeting(actor=secretary, meeting=tokyo_meeting, reason="No quorum")
    tokyo_meeting.refresh_from_db()
    assert tokyo_meeting.sequence == 2
    assert send_notices(tokyo_meeting.pk) == 3
    cancelled = invites(mail.outbox)
    assert sorted(cancelled) == emails([chair, ciso, cqo])
    for content_type, calendar in cancelled.values():
        assert "method=CANCEL" in content_type.replace('"', "").replace(" ", "")
        assert calendar["METHOD"] == "CANCEL"
        event = the_event(calendar)
        assert str(event["UID"]) == tokyo_meeting.ical_uid
        assert event["SEQUENCE"] == 2
        assert str(event["STATUS"]) == "CANCELLED"
    assert all(m.subject.startswith("[RCC] Cancelled:") for m in mail.outbox)

    sent = len(mail.outbox)
    assert send_notices(tokyo_meeting.pk) == 0  # a redelivered task sends nothing twice
    assert len(mail.outbox) == sent


def test_a_change_before_the_mail_goes_sends_only_the_latest(tokyo_meeting, secretary):
    services.publish_agenda(actor=secretary, meeting=tokyo_meeting)
    services.reschedule_meeting(
        actor=secretary,
        meeting=tokyo_meeting,
        starts_at=tokyo_meeting.starts_at + dt.timedelta(hours=1),
        reason="Room taken",
    )
    assert send_notices(tokyo_meeting.pk) == 3
    assert {the_event(c)["SEQUENCE"] for _, c in invites(mail.outbox).values()} == {1}


def test_the_invitation_part_names_its_charset_once(tokyo_meeting, secretary):
    """Django adds the charset of a text attachment itself; a second one is ambiguous MIME."""
    services.publish_agenda(actor=secretary, meeting=tokyo_meeting)
    send_notices(tokyo_meeting.pk)
    for content_type, _ in raw_invites(mail.outbox).values():
        assert content_type.lower().count("charset=") == 1, content_type


# --- the meeting's .ics ------------------------------------------------------------------------


def test_a_member_downloads_the_meeting_as_ics(
    login_as, ciso, tokyo_meeting, secretary, chair, cqo
):
    services.publish_agenda(actor=secretary, meeting=tokyo_meeting)
    response = login_as(ciso).get(f"/api/v1/meetings/{tokyo_meeting.pk}/ical/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    calendar = Calendar.from_ical(response.content)
    event = the_event(calendar)
    assert str(event["UID"]) == tokyo_meeting.ical_uid
    assert event["SEQUENCE"] == 0
    assert local_start(event) == ("Asia/Tokyo", dt.datetime(NEXT_YEAR, 3, 10, 10, 0))
    assert timezone_ids(calendar) == {"Asia/Tokyo"}
    assert attendees(event) == mailto(chair, ciso, cqo)


def test_the_ics_follows_the_meetings_sequence(login_as, ciso, tokyo_meeting, secretary):
    services.publish_agenda(actor=secretary, meeting=tokyo_meeting)
    services.cancel_meeting(actor=secretary, meeting=tokyo_meeting, reason="No quorum")
    response = login_as(ciso).get(f"/api/v1/meetings/{tokyo_meeting.pk}/ical/")
    event = the_event(Calendar.from_ical(response.content))
    assert (str(event["UID"]), event["SEQUENCE"]) == (tokyo_meeting.ical_uid, 1)
    assert str(event["STATUS"]) == "CANCELLED"


def test_a_calendar_client_asking_for_text_calendar_gets_it(login_as, ciso, tokyo_meeting):
    response = login_as(ciso).get(
        f"/api/v1/meetings/{tokyo_meeting.pk}/ical/", HTTP_ACCEPT="text/calendar"
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")


def test_a_unit_reads_when_but_not_who(login_as, bu_member, tokyo_meeting, secretary):
    services.publish_agenda(actor=secretary, meeting=tokyo_meeting)
    response = login_as(bu_member).get(f"/api/v1/meetings/{tokyo_meeting.pk}/ical/")
    assert response.status_code == 200
    event = the_event(Calendar.from_ical(response.content))
    assert str(event["UID"]) == tokyo_meeting.ical_uid
    assert attendees(event) == set()


def test_anonymous_gets_no_ics(tokyo_meeting):
    response = Client().get(f"/api/v1/meetings/{tokyo_meeting.pk}/ical/")
    assert response.status_code in {401, 403}
    assert b"VCALENDAR" not in response.content


@pytest.mark.parametrize("zone", ["Europe/Berlin", "America/New_York"])
def test_ten_oclock_stays_ten_oclock_across_daylight_saving(
    zone, committee, login_as, ciso, secretary
):
    committee.time_zone = zone
    committee.save(update_fields=["time_zone"])
    local = ZoneInfo(zone)
    winter = meeting_at(committee, dt.datetime(NEXT_YEAR, 1, 14, 10, tzinfo=local), "Winter")
    summer = meeting_at(committee, dt.datetime(NEXT_YEAR, 7, 15, 10, tzinfo=local), "Summer")
    assert winter.starts_at.utcoffset() != summer.starts_at.utcoffset()
    client = login_as(ciso)

    for meeting, month, day in ((winter, 1, 14), (summer, 7, 15)):
        response = client.get(f"/api/v1/meetings/{meeting.pk}/ical/")
        assert response.status_code == 200
        calendar = Calendar.from_ical(response.content)
        event = the_event(calendar)
        assert local_start(event) == (zone, dt.datetime(NEXT_YEAR, month, day, 10, 0))
        assert event.decoded("dtstart") == meeting.starts_at
        assert b"DTSTART;TZID=%s:%d%02d%02dT100000" % (
            zone.encode(),
            NEXT_YEAR,
            month,
            day,
        ) in response.content.replace(b"\r\n ", b"")
        [vtimezone] = calendar.walk("VTIMEZONE")
        assert str(vtimezone["TZID"]) == zone
        # Both rules, so a reader resolves 10:00 to the right instant in either season.
        assert {c.name for c in vtimezone.subcomponents} >= {"STANDARD", "DAYLIGHT"}

    services.publish_agenda(actor=secretary, meeting=summer)
    send_notices(summer.pk)
    for _, calendar in invites(mail.outbox).values():
        assert local_start(the_event(calendar)) == (zone, dt.datetime(NEXT_YEAR, 7, 15, 10, 0))


# --- the subscription feed ---------------------------------------------------------------------


def test_the_feed_lists_my_committees_meetings_and_only_those(
    login_as, ciso, committee, other_committee, secretary
):
    first = meeting_at(committee, dt.datetime(NEXT_YEAR, 3, 10, 1, tzinfo=UTC), "First")
    called_off = meeting_at(committee, dt.datetime(NEXT_YEAR, 4, 14, 1, tzinfo=UTC), "Called off")
    services.cancel_meeting(actor=None, meeting=called_off, reason="No quorum")
    elsewhere = meeting_at(other_committee, dt.datetime(NEXT_YEAR, 3, 10, 1, tzinfo=UTC), "CFO")

    calendar = read_feed(feed_path(login_as(ciso)))

    assert "METHOD" not in calendar
    events = {str(e["UID"]): e for e in calendar.walk("VEVENT")}
    assert set(events) == {first.ical_uid, called_off.ical_uid}
    assert elsewhere.ical_uid not in events
    assert str(events[first.ical_uid]["STATUS"]) == "CONFIRMED"
    assert str(events[called_off.ical_uid]["STATUS"]) == "CANCELLED"
    assert local_start(events[first.ical_uid]) == (
        "Asia/Tokyo",
        dt.datetime(NEXT_YEAR, 3, 10, 10, 0),
    )
    assert timezone_ids(calendar) == {"Asia/Tokyo"}


def uids_in_feed_of(login_as, person: User) -> set[str]:
    return {str(e["UID"]) for e in read_feed(feed_path(login_as(person))).walk("VEVENT")}


def test_the_secretary_and_another_chair_see_their_own_committees(
    login_as, secretary, committee, other_committee, finance_chair
):
    ours = meeting_at(committee, dt.datetime(NEXT_YEAR, 3, 10, 1, tzinfo=UTC))
    theirs = meeting_at(other_committee, dt.datetime(NEXT_YEAR, 3, 12, 1, tzinfo=UTC))
    assert uids_in_feed_of(login_as, secretary) == {ours.ical_uid}
    assert uids_in_feed_of(login_as, finance_chair) == {theirs.ical_uid}


def test_a_guest_sees_only_the_meeting_they_were_invited_to(
    login_as, secretary, committee, bu_member
):
    invited = meeting_at(committee, dt.datetime(NEXT_YEAR, 3, 10, 1, tzinfo=UTC))
    meeting_at(committee, dt.datetime(NEXT_YEAR, 4, 14, 1, tzinfo=UTC))
    services.publish_agenda(actor=secretary, meeting=invited)
    services.add_attendee(
        actor=secretary, meeting=invited, person=bu_member, kind="observer", reason="Item 3"
    )
    assert uids_in_feed_of(login_as, bu_member) == {invited.ical_uid}


def test_the_token_is_shown_once_and_never_listed(login_as, ciso):
    client = login_as(ciso)
    path = feed_path(client)
    token = path.rsplit("/", 1)[-1].removesuffix(".ics")
    assert len(token) >= 32
    feed = CalendarFeed.objects.get(user=ciso)
    assert token not in feed.token_hash  # only a hash is kept

    listing = client.get("/api/v1/calendar-feeds/")
    assert listing.status_code == 200
    assert token.encode() not in listing.content
    assert feed.token_hash.encode() not in listing.content
    [row] = listing.json()["results"]
    assert row["id"] == feed.pk
    assert "url" not in row

    detail = client.get(f"/api/v1/calendar-feeds/{feed.pk}/")
    assert detail.status_code == 200
    assert token.encode() not in detail.content


def test_a_revoked_or_unknown_token_is_a_404(login_as, ciso, committee):
    meeting_at(committee, dt.datetime(NEXT_YEAR, 3, 10, 1, tzinfo=UTC))
    client = login_as(ciso)
    path = feed_path(client)
    read_feed(path)
    feed = CalendarFeed.objects.get(user=ciso)
    assert feed.last_used_at is not None

    response = client.post(f"/api/v1/calendar-feeds/{feed.pk}/revoke/")
    assert response.status_code == 200
    assert response.json()["revoked_at"] is not None

    assert Client().get(path).status_code == 404
    assert Client().get("/calendar/not-a-real-token.ics").status_code == 404


def test_a_feed_of_a_person_who_left_is_a_404(login_as, ciso, committee):
    path = feed_path(login_as(ciso))
    ciso.is_active = False
    ciso.save(update_fields=["is_active"])
    assert Client().get(path).status_code == 404


def test_one_cannot_revoke_anothers_feed(login_as, ciso, cqo, committee):
    meeting_at(committee, dt.datetime(NEXT_YEAR, 3, 10, 1, tzinfo=UTC))
    path = feed_path(login_as(ciso))
    feed = CalendarFeed.objects.get(user=ciso)

    intruder = login_as(cqo)
    assert intruder.get(f"/api/v1/calendar-feeds/{feed.pk}/").status_code == 404
    assert intruder.post(f"/api/v1/calendar-feeds/{feed.pk}/revoke/").status_code == 404
    assert intruder.get("/api/v1/calendar-feeds/").json()["results"] == []

    feed.refresh_from_db()
    assert feed.revoked_at is None
    assert len(read_feed(path).walk("VEVENT")) == 1


def test_anonymous_cannot_create_a_feed(db):
    response = Client().post("/api/v1/calendar-feeds/")
    assert response.status_code in {401, 403}
    assert not CalendarFeed.objects.exists()


def test_the_feed_costs_the_same_queries_for_3_or_30_meetings(login_as, ciso, committee):
    path = feed_path(login_as(ciso))
    start = dt.datetime(NEXT_YEAR, 1, 6, 1, tzinfo=UTC)

    def add(first: int, last: int) -> None:
        for week in range(first, last):
            meeting_at(committee, start + dt.timedelta(weeks=week), f"Week {week}")

    add(0, 3)
    with CaptureQueriesContext(connection) as few:
        assert len(read_feed(path).walk("VEVENT")) == 3
    add(3, 30)
    with CaptureQueriesContext(connection) as many:
        assert len(read_feed(path).walk("VEVENT")) == 30
    assert len(many) == len(few), [q["sql"] for q in many.captured_queries]
    assert len(few) <= 6


# --- the roster, what a mail may show, and mail that fails -----------------------------------


def test_a_roster_change_sends_everyone_the_new_sequence(
    tokyo_meeting, secretary, chair, ciso, cqo, cfo
):
    services.publish_agenda(actor=secretary, meeting=tokyo_meeting)
    services.add_attendee(
        actor=secretary, meeting=tokyo_meeting, person=cfo, kind="observer", reason="Budget item"
    )
    assert send_notices(tokyo_meeting.pk) == 4  # the first invitations were superseded
    found = invites(mail.outbox)
    assert sorted(found) == emails([chair, ciso, cqo, cfo])
    assert {str(the_event(cal)["SEQUENCE"]) for _, cal in found.values()} == {"1"}
    assert mailto(cfo) <= attendees(the_event(found[chair.email][1]))


def test_an_observer_from_a_unit_is_mailed_only_their_units_items(
    tokyo_meeting, secretary, bu_head, unit, other_unit, bu_member, other_bu_member
):
    from tests.cases.conftest import report

    report(unit, bu_member, title="PUBSEC breach", severity="critical")
    report(other_unit, other_bu_member, title="CLOUD breach", severity="critical")
    services.publish_agenda(actor=secretary, meeting=tokyo_meeting)
    services.add_attendee(
        actor=secretary, meeting=tokyo_meeting, person=bu_head, kind="observer", reason="Item 1"
    )
    send_notices(tokyo_meeting.pk)
    bodies = {m.to[0]: m.body for m in mail.outbox}
    assert "PUBSEC breach" in bodies[bu_head.email]
    assert "CLOUD breach" not in bodies[bu_head.email]
    chair_mail = bodies[User.objects.get(username="chair").email]
    assert "PUBSEC breach" in chair_mail and "CLOUD breach" in chair_mail


def test_a_mail_that_fails_is_released_and_swept_up_later(tokyo_meeting, secretary, settings):
    import socket

    from committee.models import MeetingNotice
    from committee.services.meetings import pending_notice_meetings

    services.publish_agenda(actor=secretary, meeting=tokyo_meeting)
    with socket.socket() as probe:  # a real SMTP connection to a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    locmem = settings.EMAIL_BACKEND
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", closed_port
    assert send_notices(tokyo_meeting.pk) == 0
    assert MeetingNotice.objects.filter(sent_at__isnull=True).count() == 3
    MeetingNotice.objects.update(created_at=timezone.now() - dt.timedelta(hours=1))
    assert pending_notice_meetings() == [tokyo_meeting.pk]
    settings.EMAIL_BACKEND = locmem  # the mail server is back
    assert send_notices(tokyo_meeting.pk) == 3
    assert pending_notice_meetings() == []
    assert len(mail.outbox) == 3


def test_a_notice_that_fails_half_way_is_released_and_the_sweep_sends_it_alone(
    published, chair, ciso, cqo, monkeypatch
):
    """A failure after a notice was claimed (here its template, on the second mail) releases
    that notice, the others still go, and the hourly sweep mails only the one that failed:
    nobody gets the invitation twice, nobody never."""
    message = Message.objects.get(task="committee.tasks.send_meeting_notices")
    real_render = composer.render_to_string
    calls: list[str] = []

    def render_failing_once(template: str, context: dict) -> str:
        calls.append(template)
        if len(calls) == 2:
            raise RuntimeError("the template failed")
        return real_render(template, context)

    monkeypatch.setattr(composer, "render_to_string", render_failing_once)
    assert deliver.apply(args=(message.pk,)).get() == "committee.tasks.send_meeting_notices: 2"
    assert len(mail.outbox) == 2
    assert send_notices(published.pk) == 1  # the sweep: the released one, alone
    assert sorted(m.to[0] for m in mail.outbox) == sorted([chair.email, ciso.email, cqo.email])
