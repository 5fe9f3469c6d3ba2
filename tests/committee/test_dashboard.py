"""The dashboard by role: my and my units' work, the next meeting, incidents, suspended systems,
heat maps and the overdue trend, each scoped to the reader, in constant queries."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from django.utils import timezone

from actions.models import Action
from systems import services as systems_services
from tests.actions.conftest import task
from tests.cases.conftest import report, risk
from tests.committee.conftest import make_meeting
from tests.factories import UserFactory
from tests.pages import assert_constant_queries

pytestmark = pytest.mark.django_db
serial = itertools.count()


def overdue(action: Action, days: int = 3) -> None:
    Action.objects.filter(pk=action.pk).update(due_on=timezone.localdate() - dt.timedelta(days))


def test_a_unit_member_sees_their_work_and_their_units_cases_only(
    login_as, unit, other_unit, bu_member, other_bu_member, ciso, committee
):
    mine = task(unit, ciso, title="Rotate the certificate keys", assignee=bu_member)
    overdue(mine)
    task(unit, ciso, title="Unit-wide patching")
    task(other_unit, ciso, title="Cloud work", assignee=other_bu_member)
    report(unit, bu_member, title="Our breach", severity="critical")
    report(other_unit, other_bu_member, title="Their breach", severity="high")
    make_meeting(committee, days=5)
    page = login_as(bu_member).get("/").content.decode()
    assert "Rotate the certificate keys" in page and "Unit-wide patching" in page
    assert "Cloud work" not in page
    assert 'data-testid="overdue-count">1 overdue' in page
    # Open incidents by severity: their own unit's only.
    assert 'data-testid="severity-critical"' in page
    critical_row = page.split('data-testid="severity-critical"')[1].split("</tr>")[0]
    high_row = page.split('data-testid="severity-high"')[1].split("</tr>")[0]
    assert ">1</td>" in critical_row and ">0</td>" in high_row
    assert 'data-testid="next-meeting"' in page
    assert "<svg" in page.split('data-testid="panel-heatmap"')[1]
    assert "<svg" in page.split('data-testid="panel-trend"')[1]


def test_oversight_sees_every_unit_and_the_suspended_systems(
    login_as, unit, other_unit, bu_member, other_bu_member, ciso, chair
):
    registrar = UserFactory.create(is_superuser=True, is_staff=True)
    system = systems_services.register_system(
        actor=registrar, unit=other_unit, code="cloud-console", name="Cloud console"
    )
    systems_services.suspend_system(actor=ciso, system=system, reason="Breach")
    report(unit, bu_member, title="Our breach", severity="critical")
    report(other_unit, other_bu_member, title="Their breach", severity="critical")
    page = login_as(chair).get("/").content.decode()
    assert 'data-testid="suspended-system"' in page and "cloud-console" in page
    critical_row = page.split('data-testid="severity-critical"')[1].split("</tr>")[0]
    assert ">2</td>" in critical_row
    member_page = login_as(bu_member).get("/").content.decode()
    assert "cloud-console" not in member_page


def test_the_heat_map_cells_link_to_the_register(login_as, unit, bu_member):
    risk(unit, bu_member, title="Stale admin accounts", likelihood=5, impact=4)
    page = login_as(bu_member).get("/").content.decode()
    assert "basis=inherent&amp;likelihood=5&amp;impact=4" in page


@pytest.mark.parametrize("role", ["chair", "ciso", "bu_member"])
def test_the_dashboard_costs_the_same_queries_for_3_or_30_rows(
    request, role, login_as, unit, bu_member, ciso, committee, secretary
):
    from committee import services

    registrar = UserFactory.create(is_superuser=True, is_staff=True)
    meeting = make_meeting(committee, days=5)
    client = login_as(request.getfixturevalue(role))

    def grow(n: int) -> None:
        for _ in range(n):
            i = next(serial)
            overdue(task(unit, ciso, title=f"Work {i}", assignee=bu_member))
            report(unit, bu_member, title=f"Breach {i}", severity="high")
            risk(unit, bu_member, title=f"Risk {i}", likelihood=1 + i % 5, impact=1 + i % 3)
            system = systems_services.register_system(
                actor=registrar, unit=unit, code=f"sys-{i}", name=f"System {i}"
            )
            systems_services.suspend_system(actor=ciso, system=system, reason="Breach")
        services.assemble_agenda(actor=secretary, meeting=meeting)

    assert_constant_queries(client, "/", grow)


# --- The charts' panels -----------------------------------------------------------------------


def panel(page: str, name: str) -> str:
    return page.split(f'data-testid="panel-{name}"')[1].split("</section>", maxsplit=1)[0]


def test_the_heat_maps_link_only_the_cells_with_risks(login_as, unit, bu_member):
    risk(unit, bu_member, likelihood=5, impact=4, residual_likelihood=2, residual_impact=2)
    heat = panel(login_as(bu_member).get("/").content.decode(), "heatmap")
    assert heat.count('data-testid="heatmap-cell"') == 50  # two maps of 25 cells
    linked = heat.split("<a ")[1:]
    assert len(linked) == 2  # one cell on each map
    assert all('data-count="1"' in cell.split(">")[0] for cell in linked)
    assert heat.count('<g data-testid="heatmap-cell"') == 48
    assert "basis=residual&amp;likelihood=2&amp;impact=2" in heat


def test_empty_charts_are_sentences(login_as, bu_member):
    page = login_as(bu_member).get("/").content.decode()
    heat, trend = panel(page, "heatmap"), panel(page, "trend")
    assert "<svg" not in heat and "<svg" not in trend
    assert heat.count("There are no live risks (not retired) to map.") == 2
    assert 'data-testid="overdue-trend-empty"' in trend
    assert "No action was overdue in the last 12 weeks." in trend


def test_a_week_with_an_overdue_action_draws_the_trend(login_as, unit, bu_member, ciso):
    overdue(task(unit, ciso, assignee=bu_member))
    trend = panel(login_as(bu_member).get("/").content.decode(), "trend")
    assert "<svg" in trend and "overdue-trend-empty" not in trend
