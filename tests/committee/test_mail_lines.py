"""What the invitations carry: an ORGANIZER that is a valid calendar address, and titles that stay
on their line in the subject and the body, whatever line breaks were typed into them."""

from __future__ import annotations

import email
from email.header import decode_header, make_header

import pytest
from django.core import mail
from django.test import Client
from icalendar import Calendar

from committee import services
from committee.models import AgendaItem, Meeting
from committee.services.meetings import send_notices
from tests.committee.conftest import make_meeting

pytestmark = pytest.mark.django_db

TYPED = "Budget overrun\r\nBcc: everyone@example.test"
STORED = "Budget overrun Bcc: everyone@example.test"


def organizer(ics: bytes) -> tuple[str, str]:
    [event] = Calendar.from_ical(ics).walk("VEVENT")
    found = event["ORGANIZER"]
    return str(found), str(found.params["CN"])


def invite_of(message: mail.EmailMessage) -> bytes:
    rendered = email.message_from_bytes(message.message().as_bytes())
    [part] = [p for p in rendered.walk() if p.get_filename() == "invite.ics"]
    payload = part.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload


@pytest.mark.parametrize(
    ("sender", "address", "name"),
    [
        ("Risk Compliance Committee <rcc@localhost>", "mailto:rcc@localhost", "Risk Compliance Committee"),
        ('"Risk, Compliance" <rcc@example.test>', "mailto:rcc@example.test", "Risk, Compliance"),
        ("rcc@example.test", "mailto:rcc@example.test", "Risk Compliance Committee"),
    ],
)  # fmt: skip
def test_the_organizer_is_the_senders_address_named_by_its_display_name(
    settings, login_as, committee, secretary, ciso, sender, address, name
):
    """The last case has no display name: the committee's own name (the fixture's) is the CN."""
    settings.DEFAULT_FROM_EMAIL = sender
    meeting = make_meeting(committee)
    services.publish_agenda(actor=secretary, meeting=meeting)
    downloaded = login_as(ciso).get(f"/api/v1/meetings/{meeting.pk}/ical/")
    assert downloaded.status_code == 200
    assert organizer(downloaded.content) == (address, name)
    assert send_notices(meeting.pk) == 3
    for message in mail.outbox:
        assert organizer(invite_of(message)) == (address, name)
        assert message.from_email == sender


def body_lines(message: mail.EmailMessage) -> list[str]:
    return message.body.splitlines()


def subject_as_sent(message: mail.EmailMessage) -> str:
    rendered = email.message_from_bytes(message.message().as_bytes())
    return str(make_header(decode_header(rendered["Subject"])))


def test_an_item_typed_with_line_breaks_stays_on_its_line(
    login_as, committee, secretary, chair, ciso, cqo
):
    meeting = make_meeting(committee)
    client: Client = login_as(secretary)
    added = client.post(
        f"/api/v1/meetings/{meeting.pk}/agenda/", {"title": TYPED}, content_type="application/json"
    )
    assert added.status_code == 201, added.json()
    assert added.json()["title"] == STORED
    on_page = client.post(f"/meetings/{meeting.pk}/items/", {"title": "Vendor\naudit\r\n"})
    assert on_page.status_code == 302
    assert set(AgendaItem.objects.values_list("title", flat=True)) == {STORED, "Vendor audit"}

    services.publish_agenda(actor=secretary, meeting=meeting)
    assert send_notices(meeting.pk) == 3
    for message in mail.outbox:
        assert "\n" not in subject_as_sent(message) and "\r" not in message.subject
        lines = body_lines(message)
        assert f"1. {STORED}" in lines
        assert "2. Vendor audit" in lines
        assert not any(line.startswith("Bcc:") for line in lines)


def test_a_meeting_title_holding_line_breaks_is_still_mailed_on_one_line(
    committee, secretary, chair, ciso, cqo
):
    """A title stored before input was made single-line: the mail goes, on one line each."""
    meeting = make_meeting(committee)
    Meeting.objects.filter(pk=meeting.pk).update(title="Risk Committee\r\nX-Injected: yes")
    services.publish_agenda(actor=secretary, meeting=meeting)
    assert send_notices(meeting.pk) == 3
    assert len(mail.outbox) == 3
    for message in mail.outbox:
        assert message.subject.startswith("[RCC] Invitation: Risk Committee X-Injected: yes, ")
        assert "X-Injected" not in message.message()  # no header of that name was made
        assert "Risk Committee X-Injected: yes" in body_lines(message)
