"""The committee's pages: the meetings list with calendar links, the agenda review each reader
may read, the secretariat's agenda, attendance, decision and minutes views, and the agenda pack."""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import hashlib
import re
import zlib
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from actions import services as actions_services
from actions.models import Action
from audit.models import AuditEvent
from committee import services
from committee.models import AgendaItem, Attendance, CalendarFeed, Decision, Meeting, Minutes
from committee.services.minutes import etag
from systems import services as systems_services
from tests.actions.conftest import escalate_to_committee, task
from tests.cases.conftest import report, risk
from tests.committee.conftest import begin, make_meeting, mark_present
from tests.factories import UserFactory
from tests.pages import assert_constant_queries, csv_rows, xlsx_rows
from tests.unchanged import unchanged

JAPANESE_TITLE = "個人情報の誤交付"


def url(name: str, *args: Any) -> str:
    return reverse(f"committee:{name}", args=args)


def html(response) -> str:
    return response.content.decode()


# --- The agenda the tests review ---------------------------------------------------------------


def seed_agenda(unit, other_unit, bu_member, other_bu_member, ciso) -> dict[str, Any]:
    """One record of every kind the agenda is assembled from, split between the two units."""
    registrar = UserFactory.create(is_superuser=True, is_staff=True)
    incident = report(unit, bu_member, title=JAPANESE_TITLE, severity="critical")
    above = risk(unit, bu_member, title="Stale admin accounts", likelihood=5, impact=5)
    escalated = task(other_unit, ciso, title="Rotate cloud keys")
    escalate_to_committee(escalated, days_late=20)
    system = systems_services.register_system(
        actor=registrar, unit=other_unit, code="share-tool", name="Project sharing tool"
    )
    order = systems_services.suspend_system(actor=ciso, system=system, reason="Breach")
    directive = actions_services.draft_directive(
        actor=ciso,
        title="Enforce MFA everywhere",
        body="Every internet-facing system.",
        deadline=timezone.localdate() + dt.timedelta(days=30),
        units=[unit],
    )
    actions_services.issue_directive(actor=ciso, directive=directive)
    return {
        "incident": incident,
        "risk": above,
        "action": escalated,
        "system": system,
        "order": order,
        "directive": directive,
    }


@pytest.fixture
def records(unit, other_unit, bu_member, other_bu_member, ciso) -> dict[str, Any]:
    return seed_agenda(unit, other_unit, bu_member, other_bu_member, ciso)


@pytest.fixture
def agenda(committee, records, secretary) -> Meeting:
    """A published meeting whose agenda holds the seeded records."""
    meeting = make_meeting(committee)
    return services.publish_agenda(actor=secretary, meeting=meeting)


@pytest.fixture
def session(agenda, secretary, chair, ciso) -> Meeting:
    """The agenda's meeting, quorate: the chair and the CISO are present."""
    mark_present(agenda, secretary, chair, ciso)
    return agenda


def item_of(meeting: Meeting, **record: Any) -> AgendaItem:
    return AgendaItem.objects.get(meeting=meeting, **record)


# --- Meetings list, exports and calendar -------------------------------------------------------


def test_meetings_list_shows_upcoming_in_the_committees_local_time(login_as, committee, bu_member):
    starts = dt.datetime(2030, 1, 14, 1, 0, tzinfo=dt.UTC)  # 10:00 in Tokyo
    Meeting.objects.create(
        committee=committee,
        title="January RCC",
        starts_at=starts,
        ends_at=starts + dt.timedelta(hours=2),
    )
    make_meeting(committee, days=-40, title="Last autumn's RCC")
    client = login_as(bu_member)
    page = html(client.get(url("meetings")))
    assert "January RCC" in page
    assert "Last autumn" not in page  # the page opens on what is coming
    assert "01/14/2030 10 a.m." in page and "Asia/Tokyo" in page
    past = html(client.get(url("meetings"), {"when": "past"}))
    assert "Last autumn" in past and "January RCC" not in past
    both = html(client.get(url("meetings"), {"when": ""}))
    assert "Last autumn" in both and "January RCC" in both


def test_meetings_export_the_filtered_list(login_as, committee, bu_member):
    starts = dt.datetime(2030, 1, 14, 1, 0, tzinfo=dt.UTC)
    Meeting.objects.create(
        committee=committee,
        title="January RCC",
        starts_at=starts,
        ends_at=starts + dt.timedelta(hours=2),
    )
    make_meeting(committee, days=-40, title="Last autumn's RCC")
    client = login_as(bu_member)
    response = client.get(url("meetings"), {"when": "upcoming", "export": "csv"})
    assert response["Content-Type"].startswith("text/csv")
    rows = csv_rows(response.content)
    assert rows[0][:4] == ["Starts (local time)", "Ends (local time)", "Time zone", "Meeting"]
    assert [row[3] for row in rows[1:]] == ["January RCC"]
    assert rows[1][0] == "2030-01-14T10:00:00+09:00"
    sheet = xlsx_rows(client.get(url("meetings"), {"when": "past", "export": "xlsx"}).content)
    assert [row[3] for row in sheet[1:]] == ["Last autumn's RCC"]
    assert sheet[1][5] == "Scheduled"


def test_meetings_list_costs_the_same_queries_for_3_and_30_meetings(login_as, committee, bu_member):
    client = login_as(bu_member)
    CalendarFeed.objects.create(user=bu_member, token_hash="x" * 64)
    made = [0]

    def grow(n: int) -> None:
        for _ in range(n):
            made[0] += 1
            make_meeting(committee, days=made[0], title=f"RCC {made[0]}")

    assert_constant_queries(client, url("meetings"), grow)
    assert html(client.get(url("meetings"))).count('data-testid="meeting-row"') == 30


def test_a_calendar_link_is_shown_once_and_works_until_revoked(
    login_as, committee, meeting, bu_member, other_bu_member
):
    client = login_as(bu_member)
    response = client.post(url("feed-create"))
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    link = re.search(r'data-testid="feed-url"', html(response))
    assert link
    address = re.search(r'value="(http[^"]+/calendar/([^"/]+)\.ics)"', html(response))
    assert address, html(response)
    token = address.group(2)
    feed = CalendarFeed.objects.get(user=bu_member)
    assert feed.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert not CalendarFeed.objects.filter(token_hash=token).exists()  # only its hash is kept
    assert AuditEvent.objects.filter(verb="calendar_feed.created").count() == 1
    listing = html(client.get(url("meetings")))
    assert token not in listing and 'data-testid="feed-row"' in listing
    assert client.get(f"/calendar/{token}.ics").status_code == 200

    # Another person cannot revoke it: to them it does not exist.
    other = UserFactory.create(username="stranger")
    login_as(other)
    assert client.post(url("feed-revoke", feed.pk)).status_code == 404
    feed.refresh_from_db()
    assert feed.revoked_at is None

    login_as(bu_member)
    response = client.post(url("feed-revoke", feed.pk))
    assert response.status_code == 302
    feed.refresh_from_db()
    assert feed.revoked_at is not None
    assert client.get(f"/calendar/{token}.ics").status_code == 404
    assert 'data-testid="feed-revoked"' in html(client.get(url("meetings")))


def test_a_meeting_downloads_as_ics(login_as, meeting, bu_member):
    client = login_as(bu_member)
    response = client.get(url("meeting-ical", meeting.pk))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    assert meeting.ical_uid in response.content.decode()
    assert html(client.get(url("meetings"))).count(url("meeting-ical", meeting.pk)) == 1


# --- Agenda review -----------------------------------------------------------------------------


def test_the_chair_reviews_every_item_with_its_facts_and_a_link_to_its_record(
    login_as, agenda, records, chair
):
    client = login_as(chair)
    response = client.get(url("meeting", agenda.pk))
    assert response.status_code == 200
    page = html(response)
    assert page.count('data-testid="agenda-item"') == 5
    for title in (
        JAPANESE_TITLE,
        "Stale admin accounts",
        f"{records['action'].unit.code} {records['action'].unit.name}: actions escalated",
        "Ratify the suspension of share-tool",
        "Enforce MFA everywhere",
    ):
        assert title in page
    assert 'data-testid="item-overdue"' in page  # the escalated action is 20 days late
    assert records["action"].reference in page  # named in its unit's item
    assert "Critical" in page and "25 (" in page  # incident severity, residual risk score
    for link in (
        reverse("cases:incident", args=[records["incident"].pk]),
        reverse("cases:risk", args=[records["risk"].pk]),
        reverse("actions:actions")
        + f"?unit={records['action'].unit.code}&amp;escalation_level_min=3&amp;overdue=true",
        reverse("systems:system", args=[records["system"].pk]),
        reverse("actions:directive", args=[records["directive"].pk]),
    ):
        assert f'href="{link}"' in page
    # Reading aids for every member. The chair may run the meeting too, but nothing that
    # happens at the meeting is offered before it begins: the page says what waits, on whom.
    assert "data-print" in page and url("meeting-pack", agenda.pk) in page
    for control in ("publish-form", "hold-form", "decide"):
        assert f'data-testid="{control}"' not in page
    assert 'data-testid="meeting-step" data-step="review" data-on="members"' in page
    assert "Agenda to be reviewed by the members before the meeting on" in page


def test_a_units_escalated_actions_read_in_japanese(login_as, agenda, records, chair):
    client = login_as(chair)
    client.cookies["django_language"] = "ja"
    page = html(client.get(url("meeting", agenda.pk)))
    unit = records["action"].unit
    assert f"{unit.code} {unit.name}：委員会にエスカレーションされたアクション" in page  # noqa: RUF001
    assert "この部門のエスカレーションされたアクションを開く" in page


def test_a_unit_member_reads_only_their_units_items(login_as, agenda, records, bu_member):
    client = login_as(bu_member)
    page = html(client.get(url("meeting", agenda.pk)))
    assert JAPANESE_TITLE in page and "Stale admin accounts" in page
    assert records["action"].reference not in page and "share-tool" not in page
    assert "Enforce MFA everywhere" not in page  # a directive is no unit's item
    assert 'data-testid="unit-scope"' in page
    assert 'data-testid="attendance-link"' not in page and 'data-testid="minutes-link"' not in page
    other = item_of(agenda, kind=AgendaItem.Kind.ESCALATED_ACTION)
    assert client.get(url("decide", agenda.pk, other.pk)).status_code == 404
    assert client.get(url("attendance", agenda.pk)).status_code == 404
    assert client.get(url("minutes", agenda.pk)).status_code == 404
    assert client.get(url("quorum", agenda.pk)).status_code == 404


def test_a_unit_reads_the_decisions_on_its_own_items_only(
    login_as, session, records, secretary, bu_member
):
    mine = item_of(session, incident=records["incident"])
    theirs = item_of(session, kind=AgendaItem.Kind.ESCALATED_ACTION)
    for item, text in ((mine, "Contain within a week."), (theirs, "Cloud keys by Friday.")):
        services.record_decision(
            actor=secretary, meeting=session, item=item, outcome="approved", text=text
        )
    page = html(login_as(bu_member).get(url("meeting", session.pk)))
    assert "Contain within a week." in page
    assert "Cloud keys by Friday." not in page


def test_the_meeting_page_costs_the_same_queries_for_3_and_30_items(
    login_as, committee, secretary, chair, ciso, unit, other_unit, bu_member, other_bu_member
):
    meeting = services.publish_agenda(actor=secretary, meeting=make_meeting(committee))
    mark_present(meeting, secretary, chair, ciso)
    registrar = UserFactory.create(is_superuser=True, is_staff=True)
    made = [0]

    def grow(n: int) -> None:
        for _ in range(n):
            made[0] += 1
            i = made[0]
            owner = unit if i % 2 else other_unit
            fields: dict[str, Any] = {}
            kind = i % 5
            if kind == 0:
                fields["incident"] = report(unit, bu_member, title=f"Breach {i}")
            elif kind == 1:
                fields["risk"] = risk(unit, bu_member, title=f"Risk {i}", likelihood=5, impact=5)
            elif kind == 2:
                fields["action"] = task(owner, ciso, title=f"Task {i}")
            elif kind == 3:
                system = systems_services.register_system(
                    actor=registrar, unit=owner, code=f"sys-{i}", name=f"System {i}"
                )
                fields["suspension"] = systems_services.suspend_system(
                    actor=ciso, system=system, reason="Breach"
                )
            item = AgendaItem.objects.create(
                meeting=meeting,
                position=i,
                kind=AgendaItem.Kind.OTHER,
                source_key=f"test:{i}",
                title=f"Item {i}",
                unit=owner,
                **fields,
            )
            effect = "create_actions" if i % 3 == 0 else "none"
            actions = (
                [{"unit": owner.code, "title": f"Follow-up {i}", "due_on": "2031-01-01"}]
                if effect == "create_actions"
                else []
            )
            services.record_decision(
                actor=secretary,
                meeting=meeting,
                item=item,
                outcome="approved",
                text=f"Decided {i}.",
                effect=effect,
                actions=actions,
            )

    client = login_as(secretary)
    assert_constant_queries(client, url("meeting", meeting.pk), grow)
    page = html(client.get(url("meeting", meeting.pk)))
    assert page.count('data-testid="decision"') == 30
    assert page.count('data-testid="decision-action"') == 10
    assert page.count('data-testid="remove-form"') == 0  # decided items stay on the agenda


@pytest.mark.parametrize("reader", ["chair", "bu_member"])
def test_the_meeting_page_is_constant_for_every_reader(
    request, login_as, committee, secretary, chair, ciso, unit, bu_member, reader
):
    meeting = services.publish_agenda(actor=secretary, meeting=make_meeting(committee))
    made = [0]

    def grow(n: int) -> None:
        for _ in range(n):
            made[0] += 1
            AgendaItem.objects.create(
                meeting=meeting,
                position=made[0],
                kind=AgendaItem.Kind.ESCALATED_ACTION,
                source_key=f"test:{made[0]}",
                title=f"Item {made[0]}",
                unit=unit,
                action=task(unit, ciso, title=f"Task {made[0]}"),
            )

    client = login_as(request.getfixturevalue(reader))
    assert_constant_queries(client, url("meeting", meeting.pk), grow)
    assert html(client.get(url("meeting", meeting.pk))).count('data-testid="agenda-item"') == 30


# --- Agenda pack -------------------------------------------------------------------------------


def _unescape(literal: bytes) -> bytes:
    out = bytearray()
    i = 0
    simple = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f"}
    while i < len(literal):
        byte = literal[i : i + 1]
        if byte != b"\\":
            out += byte
            i += 1
            continue
        nxt = literal[i + 1 : i + 2]
        octal = re.match(rb"[0-7]{1,3}", literal[i + 1 : i + 4])
        if octal:
            out.append(int(octal.group(), 8) & 0xFF)
            i += 1 + len(octal.group())
        else:
            out += simple.get(nxt, nxt)
            i += 2
    return bytes(out)


def _subset_codes(content: bytes) -> dict[bytes, dict[int, str]]:
    """Each embedded TrueType subset's codes (one byte a glyph) → text, from its ToUnicode map."""
    found: dict[bytes, dict[int, str]] = {}
    fonts = rb"/Name /(F\d+\+\d+) /Subtype /TrueType\s+/ToUnicode (\d+) 0 R"
    for name, ref in re.findall(fonts, content):
        stream = re.search(rb"\b" + ref + rb" 0 obj.*?stream\r?\n(.*?)endstream", content, re.S)
        assert stream, f"no ToUnicode map {ref!r} for {name!r}"
        cmap = zlib.decompressobj().decompress(stream.group(1))  # what follows its end is ignored
        found[name] = {
            # UTF-16 as the spec says, or (as reportlab writes a character past U+FFFF) its
            # code point in hex
            int(code, 16): chr(int(text, 16))
            if len(text) <= 6
            else bytes.fromhex(text.decode()).decode("utf-16-be")
            for code, text in re.findall(rb"<([0-9A-F]{2})> <([0-9A-F]{4,})>", cmap)
        }
    return found


def pdf_text(content: bytes) -> str:
    """The text a reportlab PDF draws, line by line: Helvetica's strings are cp1252, an
    embedded TrueType subset's are codes its ToUnicode map names. (No PDF library in the
    project; reportlab writes a simple structure.)"""
    latin = set(
        re.findall(rb"/BaseFont /Helvetica[\w-]* /Encoding /WinAnsiEncoding /Name /(F\d+)", content)
    )
    subsets = _subset_codes(content)
    lines, line, font = [], "", b""
    token = re.compile(rb"/(F[\d+]+) [\d.]+ Tf|\(((?:\\.|[^\\)])*)\)\s*Tj|\bT\*|\bET\b", re.S)
    for raw in re.findall(rb"stream\r?\n(.*?)\s*endstream", content, re.S):
        data = raw.strip()
        if data.endswith(b"~>"):  # reportlab's /ASCII85Decode /FlateDecode page streams
            data = base64.a85decode(data[:-2].replace(b"\n", b""))
        with contextlib.suppress(zlib.error):
            data = zlib.decompress(data)
        for match in token.finditer(data):
            if match.group(1):
                font = match.group(1)
            elif match.group(2) is not None:
                text = _unescape(match.group(2))
                if font in subsets:
                    line += "".join(subsets[font].get(code, "\ufffd") for code in text)
                else:
                    line += text.decode(
                        "cp1252" if font in latin else "utf-16-be", errors="replace"
                    )
            else:
                lines.append(line)
                line = ""
    return "\n".join([*lines, line])


def test_the_agenda_pack_is_a_pdf_with_japanese_text(login_as, agenda, records, chair):
    response = login_as(chair).get(url("meeting-pack", agenda.pk))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    day = agenda.starts_at.astimezone(agenda.committee.zone).date().isoformat()
    assert response["Content-Disposition"] == f'attachment; filename="agenda-{day}.pdf"'
    assert response.content.startswith(b"%PDF")
    assert b"/FontFile2" in response.content  # Japanese in a font the PDF carries (test_pdf.py)
    text = pdf_text(response.content)
    assert JAPANESE_TITLE in text
    assert "actions escalated to the committee" in text and "Enforce MFA everywhere" in text
    assert records["action"].reference in text  # named in its unit's item


def test_a_unit_members_agenda_pack_holds_only_their_items(login_as, agenda, bu_member):
    response = login_as(bu_member).get(url("meeting-pack", agenda.pk))
    assert response.content.startswith(b"%PDF")
    text = pdf_text(response.content)
    assert JAPANESE_TITLE in text and "Stale admin accounts" in text
    assert "Rotate cloud keys" not in text and "share-tool" not in text
    assert "Enforce MFA everywhere" not in text


# --- The secretariat's agenda ------------------------------------------------------------------


def test_the_secretariat_edits_the_draft_agenda(login_as, committee, meeting, secretary, unit):
    client = login_as(secretary)
    page = html(client.get(url("meeting", meeting.pk)))
    assert 'data-testid="assemble-form"' in page and 'data-testid="publish-form"' in page
    assert 'data-testid="add-item-form"' in page

    bad = client.post(url("item-add", meeting.pk), {"title": "", "summary": "x"})
    assert bad.status_code == 400
    assert 'data-field="title"' in html(bad)
    assert not AgendaItem.objects.filter(meeting=meeting).exists()

    for title in ("First business", "Second business"):
        response = client.post(url("item-add", meeting.pk), {"title": title, "unit": unit.pk})
        assert response.status_code == 302
    first, second = AgendaItem.objects.filter(meeting=meeting).order_by("position")
    assert first.unit == unit and first.added_by == secretary
    assert AuditEvent.objects.filter(verb="agenda.item_added").count() == 2

    client.post(url("item-move", meeting.pk, second.pk), {"direction": "up"})
    first.refresh_from_db()
    second.refresh_from_db()
    assert second.position < first.position

    missing = client.post(url("item-remove", meeting.pk, first.pk), {})
    assert missing.status_code == 400 and 'data-testid="remove-error"' in html(missing)
    first.refresh_from_db()
    assert first.removed_at is None
    client.post(
        url("item-remove", meeting.pk, first.pk), {f"remove-{first.pk}-reason": "Duplicate"}
    )
    first.refresh_from_db()
    assert first.removed_at is not None
    assert AuditEvent.objects.get(verb="agenda.item_removed").details["reason"] == "Duplicate"
    assert "First business" not in html(client.get(url("meeting", meeting.pk)))


def test_the_secretariat_assembles_and_publishes(login_as, meeting, records, secretary):
    client = login_as(secretary)
    client.post(url("assemble", meeting.pk))
    assert AgendaItem.objects.filter(meeting=meeting).count() == 5
    response = client.post(url("publish", meeting.pk), {"confirm": "yes"})
    assert response.status_code == 302
    meeting.refresh_from_db()
    assert meeting.status == Meeting.Status.PUBLISHED
    page = html(client.get(url("meeting", meeting.pk)))
    # Not held before it begins: no button, and a forged post is refused with the reason.
    assert 'data-testid="hold-form"' not in page and 'data-testid="publish-form"' not in page
    early = client.post(url("hold", meeting.pk))
    assert early.status_code == 400 and "mark it held once it has begun" in html(early)
    begin(meeting)
    page = html(client.get(url("meeting", meeting.pk)))
    assert 'data-testid="hold-form"' in page
    assert 'data-step="hold" data-on="secretariat"' in page
    assert client.post(url("hold", meeting.pk)).status_code == 302
    meeting.refresh_from_db()
    assert meeting.status == Meeting.Status.HELD
    # Publishing twice is refused with the reason, never a 500.
    with unchanged(meeting, AgendaItem, Attendance):
        again = client.post(url("publish", meeting.pk))
    assert again.status_code == 400 and 'data-testid="refusal"' in html(again)


@pytest.mark.parametrize("reader", ["ciso", "auditor"])
def test_secretariat_forms_are_absent_for_members_and_their_posts_refused(
    request, login_as, committee, meeting, secretary, unit, reader
):
    item = services.add_agenda_item(actor=secretary, meeting=meeting, title="AOB", unit=unit)
    client = login_as(request.getfixturevalue(reader))
    page = html(client.get(url("meeting", meeting.pk)))
    assert 'data-testid="agenda-item"' in page
    for control in ("secretariat-panel", "add-item-form", "remove-form", "move-up", "move-down"):
        assert f'data-testid="{control}"' not in page
    posts = [
        (url("assemble", meeting.pk), {}),
        (url("publish", meeting.pk), {}),
        (url("item-add", meeting.pk), {"title": "Sneaked in"}),
        (url("item-remove", meeting.pk, item.pk), {f"remove-{item.pk}-reason": "No"}),
        (url("item-move", meeting.pk, item.pk), {"direction": "down"}),
    ]
    for path, data in posts:
        response = client.post(path, data)
        assert response.status_code == 403, path
        assert "secretariat" in html(response)
    meeting.refresh_from_db()
    item.refresh_from_db()
    assert meeting.status == Meeting.Status.SCHEDULED and item.removed_at is None
    assert AgendaItem.objects.filter(meeting=meeting).count() == 1


def test_the_secretariats_in_session_forms_are_refused_to_a_cxo(login_as, session, ciso, chair):
    client = login_as(ciso)
    response = client.post(url("attendance", session.pk), {"person": chair.pk, "status": "absent"})
    assert response.status_code == 403
    assert session.attendance.get(person=chair).status == Attendance.Status.PRESENT
    assert client.post(url("hold", session.pk)).status_code == 403
    assert client.post(url("minutes-draft", session.pk), {"body": "Draft"}).status_code == 403
    assert not Minutes.objects.exists()
    session.refresh_from_db()
    assert session.status == Meeting.Status.PUBLISHED


# --- Attendance --------------------------------------------------------------------------------


def sheet(meeting: Meeting, **lines: dict[str, str]) -> dict[str, str]:
    """The attendance sheet as the page posts it: every roster line, changed or not."""
    data: dict[str, str] = {}
    for row in meeting.attendance.select_related("person", "delegate"):
        line = lines.get(row.person.username, {})
        prefix = f"p{row.person_id}"
        data[f"{prefix}-status"] = line.get("status", row.status)
        data[f"{prefix}-delegate"] = line.get(
            "delegate", row.delegate.username if row.delegate else ""
        )
        data[f"{prefix}-note"] = line.get("note", row.note)
    return data


def test_the_secretariat_records_attendance_in_one_form_and_sees_the_quorum(
    login_as, agenda, secretary, chair, ciso, cqo
):
    client = login_as(secretary)
    page = html(client.get(url("attendance", agenda.pk)))
    assert page.count('data-testid="attendance-form"') == 1
    assert page.count('data-testid="attendance-line"') == 3
    assert page.count('data-testid="save-attendance"') == 1
    assert 'data-met="no"' in page and 'data-testid="not-begun"' in page
    # Before the meeting begins, apologies only: nobody is present yet, and nothing is saved.
    with unchanged(agenda, Attendance):
        early = client.post(
            url("attendance", agenda.pk),
            sheet(agenda, chair={"status": "present"}, cqo={"status": "absent"}),
        )
    assert early.status_code == 400 and "The meeting has not begun" in html(early)
    apology = client.post(url("attendance", agenda.pk), sheet(agenda, cqo={"status": "absent"}))
    assert apology.status_code == 302
    assert agenda.attendance.get(person=cqo).status == Attendance.Status.ABSENT

    begin(agenda)
    response = client.post(
        url("attendance", agenda.pk),
        sheet(agenda, chair={"status": "present"}, ciso={"status": "present", "note": "Late"}),
    )
    assert response.status_code == 302
    assert agenda.attendance.get(person=ciso).status == Attendance.Status.PRESENT
    assert agenda.attendance.get(person=ciso).note == "Late"
    assert agenda.attendance.get(person=cqo).status == Attendance.Status.ABSENT
    # One save, one event on the record naming both changes.
    event = AuditEvent.objects.filter(verb="meeting.attendance_recorded").latest("pk")
    assert {mark["person"] for mark in event.details["marks"]} == {chair.pk, ciso.pk}
    page = html(client.get(url("attendance", agenda.pk)))
    assert 'data-met="yes"' in page and "2 of 3 voting members present, 2 needed." in page
    assert 'data-met="yes"' in html(client.get(url("quorum", agenda.pk)))

    # One wrong line saves nothing, and its error shows on its own line.
    with unchanged(agenda, Attendance):
        bad = client.post(
            url("attendance", agenda.pk),
            sheet(agenda, ciso={"status": "represented"}, cqo={"status": "present"}),
        )
    assert bad.status_code == 400
    assert 'data-field="delegate"' in html(bad) and "Name who represents them." in html(bad)
    unknown = client.post(
        url("attendance", agenda.pk),
        sheet(agenda, ciso={"status": "represented", "delegate": "nobody"}),
    )
    assert unknown.status_code == 400 and "No one has the user name nobody." in html(unknown)
    assert agenda.attendance.get(person=ciso).status == Attendance.Status.PRESENT


def test_the_chair_records_attendance_when_the_secretariat_is_away(login_as, agenda, chair, ciso):
    begin(agenda)
    client = login_as(chair)
    assert 'data-testid="attendance-form"' in html(client.get(url("attendance", agenda.pk)))
    response = client.post(
        url("attendance", agenda.pk),
        sheet(agenda, chair={"status": "present"}, ciso={"status": "present"}),
    )
    assert response.status_code == 302
    assert agenda.attendance.filter(status=Attendance.Status.PRESENT).count() == 2


def test_members_read_the_roster_without_forms(login_as, session, ciso):
    page = html(login_as(ciso).get(url("attendance", session.pk)))
    assert page.count('data-testid="roster-row"') == 3
    assert 'data-testid="attendance-form"' not in page and 'data-met="yes"' in page


# --- Decisions ---------------------------------------------------------------------------------


def test_the_secretariat_records_a_decision_that_creates_an_action(
    login_as, session, records, secretary, other_unit
):
    item = item_of(session, kind=AgendaItem.Kind.ESCALATED_ACTION)
    client = login_as(secretary)
    page = html(client.get(url("meeting", session.pk)))
    assert url("decide", session.pk, item.pk) in page
    form = html(client.get(url("decide", session.pk, item.pk)))
    assert 'data-testid="decision-form"' in form and 'data-met="yes"' in form
    response = client.post(
        url("decide", session.pk, item.pk),
        {
            "outcome": "approved",
            "text": "Rotate every cloud key by the end of the month.",
            "effect": "create_actions",
            "actions-TOTAL_FORMS": "3",
            "actions-INITIAL_FORMS": "0",
            "actions-MIN_NUM_FORMS": "0",
            "actions-MAX_NUM_FORMS": "20",
            "actions-0-unit": other_unit.code,
            "actions-0-title": "Rotate the cloud keys",
            "actions-0-due_on": "2031-01-31",
            "actions-0-domain": "security",
            "actions-1-domain": "security",
            "actions-2-domain": "security",
        },
    )
    assert response.status_code == 302, html(response)
    decision = Decision.objects.get(item=item)
    assert decision.recorded_by == secretary and decision.recorded_capacity == "secretariat"
    action = Action.objects.get(origin_decision=decision)
    assert action.unit == other_unit and action.title == "Rotate the cloud keys"
    assert action.due_on == dt.date(2031, 1, 31)
    event = AuditEvent.objects.get(verb="decision.recorded")
    assert event.details["actions"] == [action.reference]
    page = html(client.get(url("meeting", session.pk)))
    assert decision.reference in page and action.reference in page
    assert f'href="{reverse("actions:action", args=[action.pk])}"' in page


def test_a_decision_form_with_bad_input_shows_the_errors_in_place(
    login_as, session, records, secretary
):
    item = item_of(session, incident=records["incident"])
    client = login_as(secretary)
    management = {  # as a browser sends the empty rows: each with its default domain
        "actions-TOTAL_FORMS": "3",
        "actions-INITIAL_FORMS": "0",
        **{f"actions-{n}-domain": "security" for n in range(3)},
    }
    with unchanged(item, Decision, Action):
        blank = client.post(
            url("decide", session.pk, item.pk), {"outcome": "approved", **management}
        )
    assert blank.status_code == 400 and 'data-field="text"' in html(blank)
    # Create actions, but none named: the service's reason, above the form.
    none = client.post(
        url("decide", session.pk, item.pk),
        {"outcome": "approved", "text": "Act.", "effect": "create_actions", **management},
    )
    assert none.status_code == 400
    assert "Name at least one action" in html(none)
    assert not Decision.objects.exists()


def test_a_decision_without_quorum_is_refused_with_the_reason(
    login_as, agenda, records, secretary, chair
):
    mark_present(agenda, secretary, chair)
    item = item_of(agenda, incident=records["incident"])
    client = login_as(secretary)
    assert 'data-met="no"' in html(client.get(url("decide", agenda.pk, item.pk)))
    response = client.post(
        url("decide", agenda.pk, item.pk),
        {
            "outcome": "noted",
            "text": "Noted.",
            "effect": "none",
            "actions-TOTAL_FORMS": "0",
            "actions-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 409
    assert "not quorate" in html(response) and "1 of 3 voting members present" in html(response)
    assert 'data-testid="decision-form"' in html(response)  # kept, with what was typed
    assert "Noted.</textarea>" in html(response)
    assert not Decision.objects.exists()


def test_a_cxo_sees_no_decision_form_and_cannot_post_one(login_as, session, records, ciso):
    item = item_of(session, incident=records["incident"])
    client = login_as(ciso)
    assert url("decide", session.pk, item.pk) not in html(client.get(url("meeting", session.pk)))
    assert 'data-testid="decision-form"' not in html(client.get(url("decide", session.pk, item.pk)))
    response = client.post(
        url("decide", session.pk, item.pk),
        {
            "outcome": "noted",
            "text": "Noted.",
            "effect": "none",
            "actions-TOTAL_FORMS": "0",
            "actions-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 403 and "chair" in html(response)
    assert not Decision.objects.exists()


def test_the_chair_may_record_a_decision_as_policy_allows(login_as, session, records, chair):
    """Decisions are the chair's (DESIGN 3): the chair is offered the form, the secretariat
    records on the chair's behalf."""
    item = item_of(session, risk=records["risk"])
    client = login_as(chair)
    assert url("decide", session.pk, item.pk) in html(client.get(url("meeting", session.pk)))
    form = html(client.get(url("decide", session.pk, item.pk)))
    assert 'value="accept_risk"' in form and 'value="ratify_suspension"' not in form


# --- Minutes -----------------------------------------------------------------------------------


def test_the_secretariat_drafts_minutes_against_the_version_read(login_as, session, secretary):
    client = login_as(secretary)
    page = html(client.get(url("minutes", session.pk)))
    assert 'data-testid="draft-form"' in page and 'data-testid="approve-form"' not in page
    bad = client.post(url("minutes-draft", session.pk), {"body": "", "version": ""})
    assert bad.status_code == 400 and 'data-field="body"' in html(bad)

    client.post(url("minutes-draft", session.pk), {"body": "First draft.", "version": ""})
    minutes = Minutes.objects.get(meeting=session)
    read = etag(minutes)
    assert f'value="{escape(read)}"' in html(client.get(url("minutes", session.pk)))
    client.post(url("minutes-draft", session.pk), {"body": "Second draft.", "version": read})
    minutes.refresh_from_db()
    assert minutes.body == "Second draft." and minutes.version == 2

    stale = client.post(url("minutes-draft", session.pk), {"body": "Overwrite!", "version": read})
    assert stale.status_code == 412 and 'data-testid="refusal"' in html(stale)
    minutes.refresh_from_db()
    assert minutes.body == "Second draft."
    with unchanged(minutes, session):
        blind = client.post(url("minutes-draft", session.pk), {"body": "Overwrite!", "version": ""})
    assert blind.status_code == 412


def test_only_the_chair_approves_the_minutes(login_as, session, secretary, chair, ciso):
    services.draft_minutes(actor=secretary, meeting=session, body="Decided things.")
    services.hold_meeting(actor=secretary, meeting=session)
    minutes = Minutes.objects.get(meeting=session)
    version = etag(minutes)

    for reader in (secretary, ciso):
        client = login_as(reader)
        page = html(client.get(url("minutes", session.pk)))
        assert "Decided things." in page and 'data-testid="approve-form"' not in page
        response = client.post(url("minutes-approve", session.pk), {"version": version})
        assert response.status_code == 403
    minutes.refresh_from_db()
    assert minutes.status == Minutes.Status.DRAFT

    client = login_as(chair)
    page = html(client.get(url("minutes", session.pk)))
    assert 'data-testid="approve-form"' in page
    assert "Approve minutes" in page
    stale = client.post(url("minutes-approve", session.pk), {"version": '"m0-v9"'})
    assert stale.status_code == 412
    response = client.post(
        url("minutes-approve", session.pk), {"version": version, "confirm": "yes"}
    )
    assert response.status_code == 302
    minutes.refresh_from_db()
    session.refresh_from_db()
    assert minutes.status == Minutes.Status.APPROVED and minutes.approved_by == chair
    assert session.status == Meeting.Status.APPROVED
    assert AuditEvent.objects.filter(verb="minutes.approved").count() == 1
    page = html(client.get(url("minutes", session.pk)))
    assert 'data-testid="approve-form"' not in page


def test_a_meeting_another_cannot_see_is_a_404(login_as, bu_member):
    client = login_as(bu_member)
    assert client.get(url("meeting", 999999)).status_code == 404
    assert client.get(url("meeting-pack", 999999)).status_code == 404


def test_signed_out_readers_are_sent_to_sign_in(client, meeting):
    response = client.get(url("meeting", meeting.pk))
    assert response.status_code == 302 and "login" in response["Location"]


def test_the_roster_costs_the_same_queries_for_3_and_30_attendees(login_as, agenda, secretary):
    made = [0]

    def grow(n: int) -> None:
        for _ in range(n):
            made[0] += 1
            services.add_attendee(
                actor=secretary,
                meeting=agenda,
                person=UserFactory.create(username=f"observer-{made[0]}"),
                kind=Attendance.Kind.OBSERVER,
                reason="Presents an item",
            )

    client = login_as(secretary)
    assert_constant_queries(client, url("attendance", agenda.pk), grow)
    assert html(client.get(url("attendance", agenda.pk))).count('data-testid="roster-row"') == 33


def test_the_minutes_cost_the_same_queries_for_3_and_30_corrections(
    login_as, session, secretary, chair
):
    services.draft_minutes(actor=secretary, meeting=session, body="Decided things.")
    services.hold_meeting(actor=secretary, meeting=session)
    services.approve_minutes(actor=chair, meeting=session)

    def grow(n: int) -> None:
        for i in range(n):
            services.correct_minutes(actor=secretary, meeting=session, text=f"Typo {i}.")

    client = login_as(chair)
    assert_constant_queries(client, url("minutes", session.pk), grow)
    assert "Typo 26." in html(client.get(url("minutes", session.pk)))
