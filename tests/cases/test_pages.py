"""The incident and risk pages: scoping, the buttons each role gets, forms, exports, the heat
map's links, and query counts that do not grow with the rows."""

from __future__ import annotations

import html
import re
from datetime import timedelta
from typing import Any

import pytest
from django.http import QueryDict
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from accounts.models import User
from actions.models import Action, Directive
from audit.models import AuditEvent
from cases import charts, services
from cases.filters import RiskRegisterFilter
from cases.models import Incident, RecurrenceMeasure, Risk, RiskLevel, RiskMatrixCell
from config.versioning import etag_of
from tests.cases.conftest import report, risk
from tests.pages import assert_constant_queries, csv_rows, xlsx_rows
from tests.systems.conftest import register

pytestmark = pytest.mark.django_db

INCIDENTS = reverse("cases:incidents")
RISKS = reverse("cases:risks")
HEATMAP = reverse("cases:heatmap")


def text(response) -> str:
    return response.content.decode()


def references(response) -> set[str]:
    return set(re.findall(r'data-reference="([^"]+)"', text(response)))


def audited(verb: str, target: Incident | Risk) -> bool:
    return AuditEvent.objects.filter(verb=verb, target_id=str(target.pk)).exists()


def walk(incident: Incident, actor: User, *acts: str) -> Incident:
    for act in acts:
        incident = services.transition_incident(actor=actor, incident=incident, act=act)
    return incident


# --- Incident list --------------------------------------------------------------------------


def test_the_incident_list_needs_a_sign_in(client: Client, incident):
    response = client.get(INCIDENTS)
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_a_unit_member_lists_only_their_units_incidents(
    login_as, bu_member, incident, other_incident
):
    response = login_as(bu_member).get(INCIDENTS)
    assert response.status_code == 200
    assert references(response) == {incident.reference}
    # The unit filter offers only the units the reader has incidents of.
    assert 'value="PUBSEC"' in text(response)
    assert 'value="CLOUD"' not in text(response)


def test_oversight_lists_every_units_incidents(login_as, chair, incident, other_incident):
    response = login_as(chair).get(INCIDENTS)
    assert references(response) == {incident.reference, other_incident.reference}


def test_report_button_is_for_unit_members_only(login_as, bu_member, auditor, unit):
    assert 'data-testid="report-incident"' in text(login_as(bu_member).get(INCIDENTS))
    assert 'data-testid="report-incident"' not in text(login_as(auditor).get(INCIDENTS))


def test_incident_filters_and_exports(
    login_as, chair, unit, other_unit, bu_member, other_bu_member
):
    high = report(unit, bu_member, severity="high")
    low = report(unit, bu_member, severity="low", domain="quality")
    cloud = report(other_unit, other_bu_member, severity="high")
    walk(low, bu_member, "triage")
    client = login_as(chair)

    assert references(client.get(INCIDENTS, {"severity": "high"})) == {
        high.reference,
        cloud.reference,
    }
    assert references(client.get(INCIDENTS, {"severity": "high", "unit": "CLOUD"})) == {
        cloud.reference
    }
    assert references(client.get(INCIDENTS, {"status": "triaged"})) == {low.reference}
    assert references(client.get(INCIDENTS, {"domain": "quality"})) == {low.reference}
    today = timezone.localdate().isoformat()
    yesterday = (timezone.localdate() - timedelta(days=1)).isoformat()
    assert len(references(client.get(INCIDENTS, {"reported_after": today}))) == 3
    assert references(client.get(INCIDENTS, {"reported_before": yesterday})) == set()

    rows = csv_rows(client.get(INCIDENTS, {"severity": "high", "export": "csv"}).content)
    assert rows[0][:4] == ["Reference", "Title", "Status", "Severity"]
    assert {row[0] for row in rows[1:]} == {high.reference, cloud.reference}
    assert all(row[3] == "High" for row in rows[1:])

    sheet = xlsx_rows(client.get(INCIDENTS, {"unit": "PUBSEC", "export": "xlsx"}).content)
    assert {row[0] for row in sheet[1:]} == {high.reference, low.reference}


def test_a_bad_filter_shows_the_error_and_no_rows(login_as, chair, incident):
    response = login_as(chair).get(INCIDENTS, {"severity": "apocalyptic"})
    assert response.status_code == 400  # as any form with bad input
    assert references(response) == set()
    assert "invalid-feedback" in text(response)


@pytest.mark.parametrize("role", ["bu_member", "ciso"])
def test_the_incident_list_costs_the_same_for_3_and_30(request, role, login_as, bu_member, unit):
    def grow(n: int) -> None:
        for _ in range(n):
            incident = report(unit, bu_member)
            incident.affected_systems.set([register(unit, f"sys-{Incident.objects.count()}")])

    assert_constant_queries(login_as(request.getfixturevalue(role)), INCIDENTS, grow)


# --- Reporting an incident ------------------------------------------------------------------


def a_report(**overrides: str) -> dict[str, str]:
    detected = timezone.localtime() - timedelta(hours=1)
    body = {
        "unit": "PUBSEC",
        "title": "Certificates printed for the wrong residents",
        "description": "Batch job mixed up resident IDs.",
        "category": "personal_data_misissue",
        "severity": "critical",
        "domain": "quality",
        "detected_at": detected.strftime("%Y-%m-%dT%H:%M"),
        "personal_data_involved": "on",
    }
    body.update(overrides)
    return body


def test_the_report_form_offers_the_reporters_own_units(login_as, bu_member, other_unit):
    response = login_as(bu_member).get(reverse("cases:incident-new"))
    assert response.status_code == 200
    assert 'value="PUBSEC"' in text(response)
    assert 'value="CLOUD"' not in text(response)


def test_a_unit_member_reports_an_incident(login_as, bu_member, unit):
    system = register(unit, "cert-issuance")
    response = login_as(bu_member).post(
        reverse("cases:incident-new"), a_report(affected_systems="cert-issuance")
    )
    incident = Incident.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("cases:incident", args=[incident.pk])
    assert (incident.unit, incident.reporter, incident.severity) == (unit, bu_member, "critical")
    assert incident.personal_data_involved
    assert list(incident.affected_systems.all()) == [system]
    assert audited("incident.reported", incident)


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"title": ""}, "title", "This field is required."),
        ({"severity": "apocalyptic"}, "severity", "Select a valid choice."),
        ({"unit": "CLOUD"}, "unit", "Select a valid choice."),
        (
            {"detected_at": (timezone.now() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")},
            "detected_at",
            "Cannot be in the future.",
        ),
    ],
)
def test_bad_report_input_shows_the_error_in_place(
    login_as, bu_member, unit, other_unit, overrides, field, message
):
    response = login_as(bu_member).post(reverse("cases:incident-new"), a_report(**overrides))
    assert response.status_code == 400
    assert f'data-testid="error-{field}"' in text(response)
    assert message in text(response)
    assert not Incident.objects.exists()


def test_someone_of_no_unit_may_not_report(login_as, auditor):
    client = login_as(auditor)
    assert client.get(reverse("cases:incident-new")).status_code == 403
    response = client.post(reverse("cases:incident-new"), a_report())
    assert response.status_code == 403
    assert "belong to no business unit" in text(response)
    assert not Incident.objects.exists()


# --- The incident's page --------------------------------------------------------------------


def page_of(incident: Incident) -> str:
    return reverse("cases:incident", args=[incident.pk])


def test_another_units_incident_is_a_404_everywhere(login_as, other_bu_member, incident):
    client = login_as(other_bu_member)
    assert client.get(page_of(incident)).status_code == 404
    for name in ("incident-transition", "incident-note", "incident-root-cause"):
        assert client.post(reverse(f"cases:{name}", args=[incident.pk]), {}).status_code == 404
    assert client.get(reverse("cases:measure-rollout", args=[incident.pk, 1])).status_code == 404


def test_the_owning_unit_gets_the_buttons_the_lifecycle_allows(login_as, bu_member, incident):
    page = text(login_as(bu_member).get(page_of(incident)))
    assert 'data-testid="act-triage"' in page
    assert 'data-testid="act-close"' not in page
    assert 'data-testid="note-form"' in page
    assert 'data-testid="root-cause-form"' in page
    assert 'data-testid="measure-form"' in page
    assert "Unauthorized access to the sharing tool" in page
    assert 'data-testid="timeline-entry"' in page


def test_an_auditor_reads_but_gets_no_buttons_and_posting_is_refused(login_as, auditor, incident):
    client = login_as(auditor)
    page = text(client.get(page_of(incident)))
    assert incident.reference in page
    for testid in ("transition-form", "note-form", "root-cause-form", "measure-form"):
        assert f'data-testid="{testid}"' not in page
    response = client.post(
        reverse("cases:incident-transition", args=[incident.pk]), {"act": "triage"}
    )
    assert response.status_code == 403
    assert "Only the owning unit" in text(response)
    incident.refresh_from_db()
    assert incident.status == Incident.Status.REPORTED
    response = client.post(reverse("cases:incident-note", args=[incident.pk]), {"text": "x"})
    assert response.status_code == 403
    assert incident.timeline.count() == 1


def test_a_transition_moves_the_incident_and_is_audited(login_as, bu_member, incident):
    client = login_as(bu_member)
    response = client.post(
        reverse("cases:incident-transition", args=[incident.pk]),
        {"act": "triage", "note": "Looks real."},
    )
    assert response.status_code == 302
    incident.refresh_from_db()
    assert incident.status == Incident.Status.TRIAGED
    assert audited("incident.triaged", incident)
    assert incident.timeline.last().text == "Looks real."
    page = text(client.get(page_of(incident)))
    assert "is now Triaged" in page
    assert 'data-testid="act-investigate"' in page
    assert 'data-testid="act-triage"' not in page


def test_a_refused_transition_says_why(login_as, bu_member, incident):
    incident = walk(incident, bu_member, "triage", "investigate", "contain", "resolve")
    client = login_as(bu_member)
    response = client.post(
        reverse("cases:incident-transition", args=[incident.pk]), {"act": "close"}
    )
    assert response.status_code == 400
    assert "Record the root cause before closing." in text(response)
    incident.refresh_from_db()
    assert incident.status == Incident.Status.RESOLVED
    illegal = client.post(
        reverse("cases:incident-transition", args=[incident.pk]), {"act": "triage"}
    )
    assert illegal.status_code == 400
    assert "Cannot triage an incident that is resolved" in text(illegal)


def test_a_timeline_entry_is_added_and_an_empty_one_shows_the_error(login_as, bu_member, incident):
    client = login_as(bu_member)
    url = reverse("cases:incident-note", args=[incident.pk])
    bad = client.post(url, {"text": ""})
    assert bad.status_code == 400
    assert 'data-testid="error-text"' in text(bad)
    assert client.post(url, {"text": "Blocked the IP range"}).status_code == 302
    assert incident.timeline.last().text == "Blocked the IP range"
    assert audited("incident.noted", incident)


def test_the_root_cause_is_saved_against_the_version_read(login_as, bu_member, incident):
    client = login_as(bu_member)
    url = reverse("cases:incident-root-cause", args=[incident.pk])
    version = etag_of(incident)
    ok = client.post(url, {"root_cause": "Phished credentials", "version": version})
    assert ok.status_code == 302
    incident.refresh_from_db()
    assert incident.root_cause == "Phished credentials"
    stale = client.post(url, {"root_cause": "Something else", "version": version})
    assert stale.status_code == 412
    assert "Someone changed this" in text(stale)
    incident.refresh_from_db()
    assert incident.root_cause == "Phished credentials"


def test_a_measure_is_recorded_with_criteria_and_shows_its_systems(
    login_as, bu_member, incident, unit
):
    register(unit, "share-tool", internet_facing=True, mfa_enforced=False)
    register(unit, "intranet", internet_facing=False)
    client = login_as(bu_member)
    url = reverse("cases:incident-measure", args=[incident.pk])
    bad = client.post(url, {"description": "", "internet_facing": "true"})
    assert bad.status_code == 400
    assert 'data-testid="error-description"' in text(bad)
    response = client.post(
        url,
        {"description": "Enforce MFA", "internet_facing": "true", "mfa_enforced": "false"},
    )
    assert response.status_code == 302
    measure = RecurrenceMeasure.objects.get()
    assert measure.criteria == {"internet_facing": True, "mfa_enforced": False}
    page = text(client.get(page_of(incident)))
    assert "Internet-facing: Yes" in page
    assert re.search(r'data-testid="matching-systems">[^<]*1 matching system', page)
    assert "share-tool" in page
    assert "intranet" not in page


def test_the_incident_page_costs_the_same_for_3_and_30_timeline_entries(
    login_as, bu_member, incident, unit
):
    register(unit, "share-tool", internet_facing=True)
    services.add_measure(
        actor=bu_member, incident=incident, description="MFA", criteria={"internet_facing": True}
    )

    def grow(n: int) -> None:
        for i in range(n):
            services.add_timeline_entry(actor=bu_member, incident=incident, text=f"Step {i}")

    assert_constant_queries(login_as(bu_member), page_of(incident), grow)


# --- Rolling a measure out ------------------------------------------------------------------


@pytest.fixture
def measure(incident, bu_member, unit, other_unit) -> RecurrenceMeasure:
    register(unit, "share-tool", internet_facing=True, mfa_enforced=False)
    register(other_unit, "cloud-console", internet_facing=True, mfa_enforced=False)
    register(unit, "intranet", internet_facing=False)
    return services.add_measure(
        actor=bu_member,
        incident=incident,
        description="Enforce MFA on internet-facing systems",
        criteria={"internet_facing": True, "mfa_enforced": False},
    )


def rollout_url(measure: RecurrenceMeasure) -> str:
    return reverse("cases:measure-rollout", args=[measure.incident_id, measure.pk])


def a_deadline(days: int = 30) -> str:
    return (timezone.localdate() + timedelta(days=days)).isoformat()


def test_roll_out_is_absent_for_a_unit_member_and_refused_if_posted(login_as, bu_member, measure):
    client = login_as(bu_member)
    assert 'data-testid="roll-out"' not in text(client.get(page_of(measure.incident)))
    assert client.get(rollout_url(measure)).status_code == 403
    response = client.post(rollout_url(measure), {"deadline": a_deadline()})
    assert response.status_code == 403
    assert "rolls a fix out" in text(response)
    assert not Directive.objects.exists()
    assert not Action.objects.exists()


def test_roll_out_of_a_security_measure_is_the_cisos_not_the_cqos(
    login_as, cqo, ciso, chair, measure
):
    assert 'data-testid="roll-out"' not in text(login_as(cqo).get(page_of(measure.incident)))
    response = login_as(cqo).post(rollout_url(measure), {"deadline": a_deadline()})
    assert response.status_code == 403
    assert not Directive.objects.exists()
    assert 'data-testid="roll-out"' in text(login_as(ciso).get(page_of(measure.incident)))
    assert 'data-testid="roll-out"' in text(login_as(chair).get(page_of(measure.incident)))


def test_the_ciso_confirms_the_reach_then_rolls_the_measure_out(login_as, ciso, measure):
    client = login_as(ciso)
    confirm = client.get(rollout_url(measure))
    assert confirm.status_code == 200
    page = text(confirm)
    # The confirmation shows how many systems the directive will reach, in every unit.
    assert "for each of 2 systems" in page
    assert set(re.findall(r'data-testid="reach-system">([^<]+)<', page)) == {
        "share-tool",
        "cloud-console",
    }
    assert not Directive.objects.exists()  # nothing is issued by looking

    past = client.post(rollout_url(measure), {"deadline": a_deadline(-1)})
    assert past.status_code == 400
    assert 'data-testid="error-deadline"' in text(past)
    assert not Directive.objects.exists()

    response = client.post(rollout_url(measure), {"deadline": a_deadline()})
    assert response.status_code == 302
    directive = Directive.objects.get(origin_measure=measure)
    assert directive.status == Directive.Status.ISSUED
    assert {a.system.code for a in Action.objects.filter(directive=directive) if a.system} == {
        "share-tool",
        "cloud-console",
    }
    assert audited("incident.measure_rolled_out", measure.incident)
    after = text(client.get(page_of(measure.incident)))
    assert f"Rolled out as directive {directive.reference}" in after
    assert 'data-testid="roll-out"' not in after
    again = client.post(rollout_url(measure), {"deadline": a_deadline()})
    assert again.status_code == 409
    assert Directive.objects.count() == 1


# --- Risk register --------------------------------------------------------------------------


def test_a_unit_member_sees_only_their_units_risks(
    login_as, bu_member, other_bu_member, unit, other_unit
):
    mine = risk(unit, bu_member)
    theirs = risk(other_unit, other_bu_member)
    client = login_as(bu_member)
    assert references(client.get(RISKS)) == {mine.reference}
    assert client.get(reverse("cases:risk", args=[theirs.pk])).status_code == 404
    assert (
        client.post(
            reverse("cases:risk-transition", args=[theirs.pk]), {"act": "assess"}
        ).status_code
        == 404
    )
    assert 'data-testid="register-risk"' in text(client.get(RISKS))


def test_risk_filters_and_exports(
    login_as, chair, unit, other_unit, bu_member, other_bu_member, settings
):
    settings.RISK_APPETITE_SCORE = 12
    severe = risk(unit, bu_member, title="Severe", likelihood=5, impact=5)
    mild = risk(unit, bu_member, title="Mild", likelihood=1, impact=2, treatment="accept")
    cloud = risk(other_unit, other_bu_member, title="Cloud", likelihood=3, impact=3)
    services.transition_risk(actor=bu_member, risk=mild, act="assess")
    client = login_as(chair)
    assert references(client.get(RISKS, {"above_appetite": "true"})) == {severe.reference}
    assert references(client.get(RISKS, {"unit": "CLOUD"})) == {cloud.reference}
    assert references(client.get(RISKS, {"status": "assessed"})) == {mild.reference}
    assert references(client.get(RISKS, {"treatment": "accept"})) == {mild.reference}
    assert references(client.get(RISKS, {"residual_level": "moderate"})) == {cloud.reference}
    assert 'data-testid="register-risk"' not in text(client.get(RISKS))

    rows = csv_rows(client.get(RISKS, {"unit": "PUBSEC", "export": "csv"}).content)
    assert rows[0][0] == "Reference"
    assert {row[0] for row in rows[1:]} == {severe.reference, mild.reference}
    sheet = xlsx_rows(client.get(RISKS, {"above_appetite": "true", "export": "xlsx"}).content)
    assert [row[0] for row in sheet[1:]] == [severe.reference]
    assert sheet[1][sheet[0].index("Residual score")] == 25


@pytest.mark.parametrize("role", ["bu_member", "ciso"])
def test_the_risk_register_costs_the_same_for_3_and_30(request, role, login_as, bu_member, unit):
    def grow(n: int) -> None:
        for _ in range(n):
            risk(unit, bu_member)

    assert_constant_queries(login_as(request.getfixturevalue(role)), RISKS, grow)


@pytest.mark.parametrize("role", ["bu_member", "ciso"])
def test_the_heat_map_page_costs_the_same_for_3_and_30(request, role, login_as, bu_member, unit):
    def grow(n: int) -> None:
        for i in range(n):
            risk(unit, bu_member, likelihood=1 + i % 5, impact=1 + (i // 5) % 5)

    client = login_as(request.getfixturevalue(role))
    assert_constant_queries(client, reverse("cases:heatmap"), grow)


# --- Heat map -------------------------------------------------------------------------------


def cell_links(page: str, basis: str) -> dict[tuple[int, int], tuple[str, int]]:
    """Each linked cell of one heat map: (likelihood, impact) -> (link, count shown)."""
    cells = re.findall(
        r'<a href="([^"]+)" data-testid="heatmap-cell" data-basis="'
        + basis
        + r'" data-likelihood="(\d)" data-impact="(\d)" data-count="(\d+)"',
        page,
    )
    return {(int(lk), int(im)): (html.unescape(href), int(n)) for href, lk, im, n in cells}


def heat_cells(page: str, basis: str) -> dict[tuple[int, int], tuple[str, int]]:
    """Every cell of one heat map: (likelihood, impact) -> (the element it is, count)."""
    cells = re.findall(
        r'<(a|g)\b[^>]*data-testid="heatmap-cell" data-basis="'
        + basis
        + r'" data-likelihood="(\d)" data-impact="(\d)" data-count="(\d+)"',
        page,
    )
    return {(int(lk), int(im)): (tag, int(n)) for tag, lk, im, n in cells}


def test_heat_map_cells_lead_to_exactly_their_risks(
    login_as, chair, unit, bu_member, other_unit, other_bu_member
):
    a = risk(unit, bu_member, likelihood=4, impact=5, residual_likelihood=2, residual_impact=3)
    b = risk(
        other_unit,
        other_bu_member,
        likelihood=4,
        impact=5,
        residual_likelihood=2,
        residual_impact=3,
    )
    c = risk(unit, bu_member, likelihood=5, impact=4, residual_likelihood=2, residual_impact=3)
    retired = risk(
        unit, bu_member, likelihood=4, impact=5, residual_likelihood=2, residual_impact=3
    )
    for act in ("assess", "treat", "monitor", "retire"):
        services.transition_risk(actor=chair, risk=retired, act=act)
    client = login_as(chair)
    page = text(client.get(HEATMAP))

    inherent = cell_links(page, "inherent")
    residual = cell_links(page, "residual")
    assert len(heat_cells(page, "inherent")) == len(heat_cells(page, "residual")) == 25
    # Only the cells with risks are links: an empty one has nothing to open.
    assert set(inherent) == {(4, 5), (5, 4)}
    assert set(residual) == {(2, 3)}
    assert inherent[(4, 5)][1] == 2
    assert inherent[(5, 4)][1] == 1
    assert residual[(2, 3)][1] == 3
    assert references(client.get(inherent[(4, 5)][0])) == {a.reference, b.reference}
    assert references(client.get(inherent[(5, 4)][0])) == {c.reference}
    assert references(client.get(residual[(2, 3)][0])) == {a.reference, b.reference, c.reference}
    assert heat_cells(page, "residual")[(4, 5)] == ("g", 0)
    # Every cell's count is the number of risks its link lists.
    for basis, cells in (("inherent", inherent), ("residual", residual)):
        for link, count in cells.values():
            if count:
                assert len(references(client.get(link))) == count, (basis, link)


def test_a_unit_members_heat_map_counts_their_units_risks(
    login_as, bu_member, unit, other_unit, other_bu_member
):
    risk(unit, bu_member, likelihood=4, impact=5)
    risk(other_unit, other_bu_member, likelihood=4, impact=5)
    page = text(login_as(bu_member).get(HEATMAP))
    assert cell_links(page, "inherent")[(4, 5)][1] == 1


def test_heatmap_svg_draws_likelihood_top_down_and_colours_by_the_matrix(db):
    grid = [[0] * 5 for _ in range(5)]
    grid[4][0] = 7  # likelihood 5, impact 1
    svg = str(charts.heatmap_svg(grid, basis="residual", link=lambda lk, im: f"/r?l={lk}&i={im}"))
    cells = re.findall(
        r'data-likelihood="(\d)" data-impact="(\d)" data-count="(\d+)" data-level="(\w+)"', svg
    )
    assert len(cells) == 25
    assert cells[0] == ("5", "1", "7", "very_low")  # top-left: likelihood 5, impact 1
    assert cells[-1] == ("1", "5", "0", "low")  # bottom-right: likelihood 1, impact 5
    assert 'href="/r?l=5&amp;i=1"' in svg  # links are escaped
    assert "<title>Likelihood 5, impact 1 (Very low): 7 risks</title>" in svg
    assert "<title>Likelihood 5, impact 5 (Very high): 0 risks</title>" in svg
    assert ">Impact<" in svg and ">Likelihood<" in svg
    assert "<script" not in svg

    RiskMatrixCell.objects.filter(likelihood=5, impact=1).update(level="very_high")
    recoloured = str(charts.heatmap_svg(grid, basis="residual", link=lambda lk, im: "#"))
    assert re.search(
        r'data-likelihood="5" data-impact="1" data-count="7" data-level="very_high"', recoloured
    )
    assert (
        charts.COLOURS["very_high"]
        in recoloured.split('data-impact="1"')[1].split("</a>", maxsplit=1)[0]
    )


def test_a_heat_maps_empty_cells_are_not_links_and_show_no_count(db):
    grid = [[0] * 5 for _ in range(5)]
    grid[2][3] = 4  # likelihood 3, impact 4
    svg = str(charts.heatmap_svg(grid, basis="inherent", link=lambda lk, im: f"/r?l={lk}&i={im}"))
    assert svg.count("<a ") == svg.count("</a>") == 1
    assert re.search(r'<a href="/r\?l=3&amp;i=4" data-testid="heatmap-cell"', svg)
    empty = re.findall(r'<g data-testid="heatmap-cell"[^>]*data-count="(\d+)"', svg)
    assert empty == ["0"] * 24
    # A cell shows a count only where there are risks: the one <text> inside a cell is its 4.
    counts = re.findall(r'font-weight="700"[^>]*>([^<]*)</text>', svg)
    assert counts == ["4"]


@pytest.mark.parametrize("basis", ["inherent", "residual"])
def test_a_heat_map_with_no_risk_is_a_sentence(db, basis):
    empty = [[0] * 5 for _ in range(5)]
    shown = str(charts.heatmap_svg(empty, basis=basis, link=lambda lk, im: "#"))
    assert "<svg" not in shown and "heatmap-cell" not in shown
    assert f'data-testid="heatmap-{basis}-empty"' in shown
    assert "There are no live risks (not retired) to map." in shown


def test_the_heat_map_page_with_no_live_risk_says_so(login_as, bu_member):
    page = text(login_as(bu_member).get(HEATMAP))
    assert 'data-testid="heatmap-inherent-empty"' in page
    assert 'data-testid="heatmap-residual-empty"' in page
    assert "<svg" not in page


@pytest.mark.parametrize("language", ["en", "ja"])
def test_the_legend_names_the_levels_as_everywhere_else(db, language):
    """One set of level names: the legend, a risk's level (its badge) and the register's level
    filter read the same words."""
    grid = [[1] * 5 for _ in range(5)]
    with translation.override(language):
        svg = str(charts.heatmap_svg(grid, basis="residual", link=lambda lk, im: "#"))
        legend = re.findall(r'data-testid="heatmap-legend">([^<]+)<', svg)
        names = [str(label) for _value, label in reversed(RiskLevel.choices)]
        assert legend == names
        assert str(Risk(residual_level="high").get_residual_level_display()) == names[1]
        form = RiskRegisterFilter(QueryDict(), queryset=Risk.objects.none()).form
        levels: Any = form.fields["residual_level"]
        offered = [str(label) for _value, label in levels.choices]
        assert offered == names[::-1]


def test_the_japanese_level_names_are_one_set(db):
    """The five levels in one grammatical form (adjectives), not 高 beside 非常に高い: they have
    a message context of their own, apart from a severity's or a priority's "High"."""
    with translation.override("ja"):
        names = [str(label) for _value, label in RiskLevel.choices]
    assert names == ["非常に低い", "低い", "中程度", "高い", "非常に高い"]


# --- Registering and reassessing risks ------------------------------------------------------


def a_risk_form(**overrides: str) -> dict[str, str]:
    body = {
        "unit": "PUBSEC",
        "title": "Shared admin accounts",
        "description": "",
        "domain": "security",
        "owner": "bu_member",
        "likelihood": "5",
        "impact": "5",
        "residual_likelihood": "3",
        "residual_impact": "3",
        "treatment": "mitigate",
    }
    body.update(overrides)
    return body


def test_a_unit_member_registers_a_risk(login_as, bu_member, unit, settings):
    settings.RISK_APPETITE_SCORE = 12
    client = login_as(bu_member)
    assert client.get(reverse("cases:risk-new")).status_code == 200
    response = client.post(reverse("cases:risk-new"), a_risk_form())
    registered = Risk.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("cases:risk", args=[registered.pk])
    assert (registered.inherent_score, registered.residual_score) == (25, 9)
    assert registered.owner == bu_member
    assert audited("risk.registered", registered)
    same = client.post(
        reverse("cases:risk-new"),
        a_risk_form(title="Same as inherent", residual_likelihood="", residual_impact=""),
    )
    assert same.status_code == 302
    assert Risk.objects.get(title="Same as inherent").residual_score == 25


def test_bad_risk_input_shows_the_error_in_place(login_as, bu_member, unit):
    response = login_as(bu_member).post(
        reverse("cases:risk-new"), a_risk_form(title="", likelihood="9")
    )
    assert response.status_code == 400
    assert 'data-testid="error-title"' in text(response)
    assert 'data-testid="error-likelihood"' in text(response)
    assert not Risk.objects.exists()


def test_someone_of_no_unit_may_not_register_a_risk(login_as, auditor):
    client = login_as(auditor)
    assert client.get(reverse("cases:risk-new")).status_code == 403
    assert client.post(reverse("cases:risk-new"), a_risk_form()).status_code == 403
    assert not Risk.objects.exists()


def test_the_risk_page_buttons_by_role(login_as, bu_member, auditor, a_risk):
    url = reverse("cases:risk", args=[a_risk.pk])
    mine = text(login_as(bu_member).get(url))
    assert 'data-testid="act-assess"' in mine
    assert 'data-testid="reassess-form"' in mine
    assert 'data-testid="act-retire"' not in mine
    client = login_as(auditor)
    theirs = text(client.get(url))
    assert a_risk.reference in theirs
    assert 'data-testid="transition-form"' not in theirs
    assert 'data-testid="reassess-form"' not in theirs
    response = client.post(reverse("cases:risk-transition", args=[a_risk.pk]), {"act": "assess"})
    assert response.status_code == 403
    a_risk.refresh_from_db()
    assert a_risk.status == Risk.Status.IDENTIFIED


def test_a_risk_moves_on_its_lifecycle(login_as, bu_member, a_risk):
    response = login_as(bu_member).post(
        reverse("cases:risk-transition", args=[a_risk.pk]), {"act": "assess"}
    )
    assert response.status_code == 302
    a_risk.refresh_from_db()
    assert a_risk.status == Risk.Status.ASSESSED
    assert audited("risk.assessed", a_risk)


def reassess(a_risk: Risk, **overrides: str) -> dict[str, str]:
    body = {
        "title": a_risk.title,
        "description": a_risk.description,
        "treatment": a_risk.treatment,
        "likelihood": str(a_risk.likelihood),
        "impact": str(a_risk.impact),
        "residual_likelihood": str(a_risk.residual_likelihood),
        "residual_impact": str(a_risk.residual_impact),
        "version": etag_of(a_risk),
    }
    body.update(overrides)
    return body


def test_reassessing_uses_the_version_read(login_as, bu_member, unit, settings):
    settings.RISK_APPETITE_SCORE = 20
    a_risk = risk(unit, bu_member, likelihood=3, impact=3)
    client = login_as(bu_member)
    url = reverse("cases:risk-reassess", args=[a_risk.pk])
    read = reassess(a_risk)
    assert client.post(url, {**read, "residual_likelihood": "2"}).status_code == 302
    a_risk.refresh_from_db()
    assert (a_risk.residual_likelihood, a_risk.residual_score) == (2, 6)
    assert audited("risk.reassessed", a_risk)
    stale = client.post(url, {**read, "residual_likelihood": "1"})
    assert stale.status_code == 412
    a_risk.refresh_from_db()
    assert a_risk.residual_likelihood == 2
    bad = client.post(url, reassess(a_risk, impact="0"))
    assert bad.status_code == 400
    assert 'data-testid="error-impact"' in text(bad)


def test_a_unit_may_not_score_down_a_risk_above_appetite(login_as, bu_member, ciso, unit, settings):
    settings.RISK_APPETITE_SCORE = 12
    a_risk = risk(unit, bu_member, likelihood=5, impact=5)
    url = reverse("cases:risk-reassess", args=[a_risk.pk])
    response = login_as(bu_member).post(url, reassess(a_risk, residual_likelihood="1"))
    assert response.status_code == 403
    assert "above appetite" in text(response)
    a_risk.refresh_from_db()
    assert a_risk.residual_score == 25
    assert login_as(ciso).post(url, reassess(a_risk, residual_likelihood="1")).status_code == 302
    a_risk.refresh_from_db()
    assert a_risk.residual_score == 5


def test_heat_map_and_risk_pages_need_a_sign_in(client: Client, a_risk):
    for url in (RISKS, HEATMAP, reverse("cases:risk", args=[a_risk.pk])):
        assert client.get(url).status_code == 302


def test_the_pages_render_in_japanese(login_as, ciso, bu_member, unit, measure):
    """Dates, numbers and choices go through the locale: no page breaks in another language."""
    risk(unit, bu_member)
    client = login_as(ciso)
    client.cookies["django_language"] = "ja"
    incident = measure.incident
    for url in (
        INCIDENTS,
        page_of(incident),
        rollout_url(measure),
        RISKS,
        HEATMAP,
        reverse("cases:risk", args=[Risk.objects.get().pk]),
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        assert '<html lang="ja">' in text(response), url


def test_the_lists_badges_are_the_includes_rendered_once_a_kind():
    from django.template.loader import render_to_string
    from django.utils import translation

    from cases.models import RiskLevel, Severity
    from cases.templatetags import case_badges

    for language in ("en", "ja"):
        with translation.override(language):
            for value, label in [*Severity.choices, ("", "")]:
                assert str(case_badges.severity_badge(value, label)) == render_to_string(
                    "cases/_severity.html", {"value": value, "label": label}
                )
            for value, label in RiskLevel.choices:
                drawn = case_badges.level_badge(value, label)
                assert str(drawn) == render_to_string(
                    "cases/_level.html", {"value": value, "label": label}
                )
                assert str(label) in drawn
