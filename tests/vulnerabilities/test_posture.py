"""The vulnerability posture: its numbers on a fixed data set, scoped to the reader, in a
constant number of queries; its page and the dashboard's tile."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import BusinessUnit
from systems.models import System
from tests.systems.conftest import register
from tests.vulnerabilities.rows import finding, vulnerability
from vulnerabilities import charts, posture
from vulnerabilities.models import Finding, Priority, Severity

pytestmark = pytest.mark.django_db

F = Finding.State
URL = "/vulnerabilities/posture/"


@pytest.fixture
def systems(
    unit: BusinessUnit, other_unit: BusinessUnit, bu_member: Any, other_bu_member: Any
) -> tuple[System, System, System]:
    return (
        register(unit, "cert-issuance", internet_facing=True),
        register(unit, "payroll"),
        register(other_unit, "cloud-console"),
    )


@pytest.fixture
def data_set(systems) -> dict[str, Finding]:
    """Six open findings over two units, three fixed, one false positive, one to review."""
    a, b, c = systems
    crit, kev = vulnerability(Severity.CRITICAL), vulnerability(Severity.HIGH, kev=True)
    med, low = vulnerability(Severity.MEDIUM), vulnerability(Severity.LOW)
    return {
        "crit": finding(a, crit, priority=Priority.P1, due=-5, opened=20),
        "kev_a": finding(a, kev, priority=Priority.P1, due=3, opened=10),
        "med": finding(b, med, due=-1, opened=40),
        "none": finding(b, vulnerability(Severity.NONE), priority=Priority.P4, due=100, opened=5),
        "kev_c": finding(c, kev, priority=Priority.P2, due=-2, opened=60),
        "unknown": finding(c, vulnerability(Severity.UNKNOWN), due=50, opened=2),
        "late": finding(a, low, state=F.FIXED, due=-10, opened=30, fixed=5),
        "in_time": finding(c, low, state=F.FIXED, due=10, opened=20, fixed=3),
        "long_ago": finding(b, low, state=F.FIXED, due=-150, opened=200, fixed=120),
        "set_aside": finding(a, med, state=F.FALSE_POSITIVE, due=-3, opened=10),
        "to_review": finding(b, crit, state=F.REVIEW, due=-3, opened=10),
    }


def test_the_numbers_of_a_small_data_set(ciso, data_set) -> None:
    state = posture.posture_for(ciso)
    assert [unit.code for unit in state.units] == ["PUBSEC", "CLOUD"]  # most criticals first
    pubsec, cloud = state.units
    assert pubsec.by_severity == [
        ("critical", 1),
        ("high", 1),
        ("medium", 1),
        ("low", 1),  # the CVSS 0.0 finding counts with the lows
        ("unknown", 0),
    ]
    assert (pubsec.open, pubsec.kev, pubsec.overdue, pubsec.systems) == (4, 1, 2, 2)
    assert cloud.by_severity == [
        ("critical", 0),
        ("high", 1),
        ("medium", 0),
        ("low", 0),
        ("unknown", 1),
    ]
    assert (cloud.open, cloud.kev, cloud.overdue, cloud.systems) == (2, 1, 1, 1)
    assert (state.open, state.critical, state.overdue, state.systems) == (6, 1, 3, 3)
    assert state.kev_open == 2
    assert [k.pk for k in state.kev_oldest] == [data_set["kev_c"].pk, data_set["kev_a"].pk]
    oldest = state.kev_oldest[0]
    assert (oldest.system, oldest.unit, oldest.overdue) == ("cloud-console", "CLOUD", True)
    assert state.kev_oldest[1].overdue is False
    assert state.overdue_by_priority == [("p1", 1), ("p2", 1), ("p3", 1), ("p4", 0)]
    # Fixed in the last 90 days: one late, one in time; the one fixed 120 days ago is not counted.
    assert (state.fixed, state.fixed_in_time, state.fixed_in_time_share) == (2, 1, 0.5)


def test_the_trend_counts_what_was_open_at_the_end_of_each_week(ciso, data_set) -> None:
    trend = posture.posture_for(ciso).trend
    today = timezone.localdate()
    assert len(trend) == 12
    assert [p.day for p in trend] == [today - dt.timedelta(weeks=w) for w in range(11, -1, -1)]
    # Today: the six open findings, three of them overdue (the latest point is today's count).
    assert (trend[-1].open, trend[-1].overdue) == (6, 3)
    # A week ago: four of today's open (two opened since) and both findings fixed since; of
    # these only the one due ten days ago was already overdue.
    assert (trend[-2].open, trend[-2].overdue) == (6, 1)
    # Eleven weeks ago nothing was open: the oldest open finding is 60 days old, and the one
    # fixed 120 days ago was fixed by then.
    assert (trend[0].open, trend[0].overdue) == (0, 0)
    assert trend[3].open == 1  # eight weeks ago (56 days): the one opened 60 days ago


def test_no_fix_in_the_window_is_no_share(ciso, systems) -> None:
    finding(systems[0], vulnerability(), due=-150, opened=200, fixed=120, state=F.FIXED)
    state = posture.posture_for(ciso)
    assert (state.fixed, state.fixed_in_time_share) == (0, None)
    assert state.units == [] and state.open == 0


def test_a_unit_member_reads_their_own_units_numbers(
    bu_member, other_bu_member, auditor, data_set
) -> None:
    mine = posture.posture_for(bu_member)
    assert [unit.code for unit in mine.units] == ["PUBSEC"]
    assert (mine.open, mine.kev_open, mine.overdue) == (4, 1, 2)
    assert [k.pk for k in mine.kev_oldest] == [data_set["kev_a"].pk]
    assert (mine.fixed, mine.fixed_in_time) == (1, 0)
    theirs = posture.posture_for(other_bu_member)
    assert [unit.code for unit in theirs.units] == ["CLOUD"]
    assert (theirs.fixed, theirs.fixed_in_time) == (1, 1)
    assert posture.posture_for(auditor).open == 6  # auditors read everything


def queries_of(client: Any, path: str) -> int:
    client.get(path)  # the first request of a session does more
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(path).status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize("role", ["ciso", "bu_member"])
def test_the_page_costs_the_same_queries_for_1_or_20_findings(
    request, role, login_as, systems, django_assert_num_queries
) -> None:
    client = login_as(request.getfixturevalue(role))
    finding(systems[0], vulnerability(Severity.CRITICAL, kev=True), due=-3, opened=20)
    few = queries_of(client, URL)
    for index in range(19):
        kind = [Severity.CRITICAL, Severity.HIGH, Severity.LOW, Severity.UNKNOWN][index % 4]
        state = F.FIXED if index % 5 == 0 else F.OPEN
        finding(
            systems[index % 2],
            vulnerability(kind, kev=index % 3 == 0),
            state=state,
            due=index - 10,
            opened=index * 4 + 1,
            fixed=1 if state == F.FIXED else None,
        )
    client.get(URL)
    with django_assert_num_queries(few):
        response = client.get(URL)
    assert response.status_code == 200
    assert 'data-testid="kev-row"' in response.content.decode()


def test_the_page_shows_the_ciso_every_unit(login_as, ciso, data_set) -> None:
    response = login_as(ciso).get(URL)
    assert response.status_code == 200
    page = response.content.decode()
    assert (
        "Every business unit&#x27;s findings." in page or "Every business unit's findings." in page
    )
    assert page.count('data-testid="unit-row"') == 2
    assert page.count('data-testid="kev-row"') == 2
    assert 'data-testid="posture-kev"' in page
    assert page.split('data-testid="posture-fixed-share">')[1].startswith("50%")
    assert page.split('data-testid="posture-fixed-counts">')[1].startswith("1 of 2 fixed")
    trend = page.split('data-testid="posture-trend"')[1].split("</section>")[0]
    assert '<svg xmlns="http://www.w3.org/2000/svg"' in trend and "<title id=" in trend
    assert trend.count('data-testid="trend-row"') == 12
    units = page.split('data-testid="posture-units"')[1].split("</section>")[0]
    assert units.count('data-testid="exposure-by-unit-unit"') == 2
    assert 'data-severity="critical" data-count="1"' in units
    p1 = page.split('data-testid="overdue-p1"')[1].split("</tr>")[0]
    assert ">1</td>" in p1


def test_a_unit_member_reads_their_own_units_page(login_as, bu_member, data_set) -> None:
    page = login_as(bu_member).get(URL).content.decode()
    assert "The findings of your business units" in page
    assert 'data-unit="PUBSEC"' in page and 'data-unit="CLOUD"' not in page
    assert "cloud-console" not in page


def test_without_findings_the_charts_are_sentences(login_as, ciso) -> None:
    page = login_as(ciso).get(URL).content.decode()
    assert 'data-testid="vulnerability-trend-empty"' in page
    assert "No finding was open in the last 12 weeks." in page
    assert 'data-testid="exposure-by-unit-empty"' in page
    assert 'data-testid="no-kev"' in page
    assert page.split('data-testid="posture-fixed-share">')[1].startswith("—")


def test_the_page_is_for_signed_in_people_only(client) -> None:
    response = client.get(URL)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_the_units_chart_draws_at_most_twenty_units() -> None:
    units = [
        posture.UnitExposure(
            unit_id=i, code=f"U{i:02}", name=f"Unit {i}", open=30 - i, critical=30 - i,
            high=0, medium=0, low=0, unknown=0, kev=0, overdue=0, systems=1,
        )
        for i in range(25)
    ]  # fmt: skip
    svg = str(charts.units_svg(units))
    assert svg.count('data-testid="exposure-by-unit-unit"') == charts.MAX_UNITS
    assert "The 5 other units are in the table." in svg


# --- The dashboard's tile ---------------------------------------------------------------------


def test_the_dashboard_tile_counts_open_critical_kev_and_overdue(login_as, ciso, data_set) -> None:
    page = login_as(ciso).get("/").content.decode()
    tile = page.split('data-testid="panel-vulnerabilities"')[1].split("</section>")[0]
    critical = tile.split('data-testid="vulnerabilities-critical">')[1]
    kev = tile.split('data-testid="vulnerabilities-kev">')[1]
    overdue = tile.split('data-testid="vulnerabilities-overdue">')[1]
    assert critical.startswith('<span class="fs-4 fw-semibold">1</span>')
    assert kev.startswith('<span class="fs-4 fw-semibold">2</span>')
    assert overdue.startswith('<span class="fs-4 fw-semibold">3</span>')
    assert f'href="{URL}"' in tile


def test_the_tile_is_scoped_and_hidden_without_findings(
    login_as, bu_member, unit, other_unit, data_set
) -> None:
    Finding.objects.filter(system__unit=unit).delete()
    page = login_as(bu_member).get("/").content.decode()
    assert 'data-testid="panel-vulnerabilities"' not in page
