"""Titles the committee composes (a meeting's from the committee's name and month, an agenda item's
from the records it is about) fit their columns on one line, whatever those records hold. SQLite
does not enforce max_length, so the tests assert the lengths themselves."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from accounts.models import Office
from committee import services
from committee.models import AgendaItem, Committee, Meeting
from committee.services.agenda import Proposed
from committee.services.scheduling import meeting_title
from config.text import ELLIPSIS, max_length
from systems import services as systems_services
from tests.cases.conftest import report, risk
from tests.committee.conftest import make_meeting
from tests.factories import BusinessUnitFactory, MembershipFactory, UserFactory
from tests.systems.conftest import register

pytestmark = pytest.mark.django_db

MEETING_MAX = max_length(Meeting, "title")
ITEM_MAX = max_length(AgendaItem, "title")
NOW = dt.datetime(2026, 11, 26, 0, 0, tzinfo=dt.UTC)


def test_a_meeting_of_a_committee_with_the_longest_name_is_titled_within_its_column(chair):
    name = "Group Risk, Security and Quality Compliance Committee of the Board " * 3
    committee = Committee.objects.create(
        name=name[:200], slug="long", chair_office=Office.objects.get(code="CEO")
    )
    with time_machine.travel(NOW, tick=False):
        services.schedule_meetings()
    titles = list(committee.meetings.order_by("starts_at").values_list("title", flat=True))
    assert len(titles) == 3
    for title in titles:
        assert len(title) <= MEETING_MAX
        assert ELLIPSIS + " — " in title  # the name gave way; the month is whole
    assert titles[0].endswith(" — December 2026")
    for meeting in committee.meetings.all():
        meeting.full_clean()


def test_a_meeting_title_is_one_line_whatever_the_name_holds(chair):
    committee = Committee(name="Risk\r\nCompliance", chair_office=Office.objects.get(code="CEO"))
    title = meeting_title(committee, dt.datetime(2027, 1, 12, 1, 0, tzinfo=dt.UTC))
    assert title == "Risk Compliance — January 2027"


def test_a_proposed_item_fits_its_column():
    item = Proposed(kind="other", source_key="other:1", title="line\n" + "x" * 400, summary="")
    assert len(item.title) == ITEM_MAX
    assert item.title.startswith("line xxx") and item.title.endswith(ELLIPSIS)


def test_items_about_the_longest_records_fit(committee, ciso, secretary):
    unit = BusinessUnitFactory.create(code="u" * 32, name="N" * 200)
    member = UserFactory.create(username="long_member", roles=["bu_member"])
    MembershipFactory.create(user=member, unit=unit)
    system = register(unit, "c" * 64, internet_facing=True)
    systems_services.update_system(actor=member, system=system, name="S" * 200)
    systems_services.suspend_system(actor=ciso, system=system, reason="Breach\r\nat night")
    report(unit, member, title="I" * 200, severity="critical")
    risk(unit, member, title="R" * 200, likelihood=5, impact=5)
    meeting = make_meeting(committee)
    assert services.assemble_agenda(actor=secretary, meeting=meeting) == 3
    titles = dict(meeting.items.values_list("kind", "title"))
    assert set(titles) == {"suspension", "incident", "risk"}
    assert all(len(title) <= ITEM_MAX for title in titles.values())
    assert titles["suspension"] == f"Ratify the suspension of {'c' * 64} ({'S' * 200})"
    for item in meeting.items.all():
        item.full_clean()
