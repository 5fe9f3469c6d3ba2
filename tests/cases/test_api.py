"""The cases API: reporting, lifecycle moves, timelines, measures, risks and the heat map."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cases.matrix import NIST_800_30_TABLE_I2
from cases.models import Incident, RiskMatrixCell
from tests.cases.conftest import report, risk
from tests.systems.conftest import register
from tests.unchanged import unchanged

pytestmark = pytest.mark.django_db


def post(client: Client, path: str, body: object):
    return client.post(path, body, content_type="application/json")


def a_report(**overrides: object) -> dict[str, object]:
    body: dict[str, object] = {
        "title": "Certificates printed for the wrong residents",
        "description": "Batch job mixed up resident IDs.",
        "category": "personal_data_misissue",
        "severity": "critical",
        "domain": "quality",
        "unit": "PUBSEC",
        "detected_at": (timezone.now() - timedelta(hours=1)).isoformat(),
        "personal_data_involved": True,
    }
    body.update(overrides)
    return body


def test_a_unit_member_reports_an_incident(login_as, bu_member, unit):
    system = register(unit, "cert-issuance")
    response = post(
        login_as(bu_member), "/api/v1/incidents/", a_report(affected_systems=[system.code])
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["reference"].startswith("INC-")
    assert body["status"] == "reported"
    assert body["affected_systems"] == ["cert-issuance"]
    assert body["reporter"] == "bu_member"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"title": ""}, "title"),
        ({"category": "alien-invasion"}, "category"),
        ({"severity": 7}, "severity"),
        ({"unit": "NOWHERE"}, "unit"),
        ({"detected_at": "yesterday-ish"}, "detected_at"),
        ({"personal_data_involved": "maybe"}, "personal_data_involved"),
        ({"affected_systems": ["no-such-system"]}, "affected_systems"),
        ({"affected_systems": "cert-issuance"}, "affected_systems"),
    ],
)
def test_bad_incident_input_is_a_400(login_as, bu_member, unit, overrides, field):
    response = post(login_as(bu_member), "/api/v1/incidents/", a_report(**overrides))
    assert response.status_code == 400
    assert field in response.json()
    assert not Incident.objects.exists()


def test_a_future_detection_is_a_400(login_as, bu_member, unit):
    future = (timezone.now() + timedelta(days=1)).isoformat()
    response = post(login_as(bu_member), "/api/v1/incidents/", a_report(detected_at=future))
    assert response.status_code == 400
    assert "detected_at" in response.json()


def test_reporting_for_another_unit_is_a_403(login_as, other_bu_member, unit):
    assert post(login_as(other_bu_member), "/api/v1/incidents/", a_report()).status_code == 403


def test_another_units_incident_is_a_404_everywhere(login_as, other_bu_member, incident):
    client = login_as(other_bu_member)
    base = f"/api/v1/incidents/{incident.pk}/"
    assert client.get(base).status_code == 404
    assert post(client, base + "triage/", {}).status_code == 404
    assert client.get(base + "timeline/").status_code == 404
    assert post(client, base + "measures/", {"description": "x"}).status_code == 404


def test_an_illegal_move_is_a_400_naming_the_allowed_ones(login_as, bu_member, incident):
    response = post(login_as(bu_member), f"/api/v1/incidents/{incident.pk}/close/", {})
    assert response.status_code == 400
    assert response.json()["status"] == [
        "Cannot close an incident that is reported. From reported you may: triage."
    ]


def test_closing_without_proof_is_a_400(login_as, bu_member, incident):
    client = login_as(bu_member)
    for step in ["triage", "investigate", "contain", "resolve"]:
        assert post(client, f"/api/v1/incidents/{incident.pk}/{step}/", {}).status_code == 200
    response = post(client, f"/api/v1/incidents/{incident.pk}/close/", {})
    assert response.status_code == 400
    assert set(response.json()) == {"root_cause", "measures"}


def test_timeline_and_measures(login_as, bu_member, auditor, incident, unit, other_unit):
    register(unit, "share-tool", internet_facing=True, mfa_enforced=False)
    register(other_unit, "cloud-console", internet_facing=True, mfa_enforced=False)
    register(unit, "intranet", internet_facing=False)
    client = login_as(bu_member)
    base = f"/api/v1/incidents/{incident.pk}/"
    note = post(client, base + "timeline/", {"text": "Blocked the attacker's IP range"})
    assert note.status_code == 201
    assert post(client, base + "timeline/", {}).status_code == 400
    measure = post(
        client,
        base + "measures/",
        {
            "description": "Enforce MFA on internet-facing systems",
            "criteria": {"internet_facing": True, "mfa_enforced": False},
        },
    )
    assert measure.status_code == 201, measure.json()
    # A unit sees the reach of the fix within its own systems only...
    assert measure.json()["matching_systems"] == ["share-tool"]
    bad = post(
        client, base + "measures/", {"description": "x", "criteria": {"internet_facing": "yes"}}
    )
    assert bad.status_code == 400
    assert "internet_facing" in bad.json()
    listed = client.get(base + "measures/").json()
    assert [m["matching_systems"] for m in listed] == [["share-tool"]]
    # ...oversight sees every similar system, in every unit: the fix must reach them all.
    client.logout()
    overseen = login_as(auditor).get(base + "measures/").json()
    assert [m["matching_systems"] for m in overseen] == [["cloud-console", "share-tool"]]
    assert [e["kind"] for e in client.get(base + "timeline/").json()] == ["status", "note"]


def test_severity_change_needs_a_reason(login_as, bu_member, incident):
    client = login_as(bu_member)
    url = f"/api/v1/incidents/{incident.pk}/severity/"
    assert post(client, url, {"severity": "critical"}).status_code == 400
    assert post(client, url, {"severity": "catastrophic", "reason": "x"}).status_code == 400
    assert (
        post(client, url, {"severity": "critical", "reason": "Data exfiltrated"}).json()["severity"]
        == "critical"
    )


def test_incident_patch_needs_if_match(login_as, bu_member, incident):
    client = login_as(bu_member)
    url = f"/api/v1/incidents/{incident.pk}/"
    etag = client.get(url)["ETag"]
    with unchanged(incident):
        blind = client.patch(url, {"root_cause": "x"}, content_type="application/json")
    assert blind.status_code == 428
    ok = client.patch(
        url,
        {"root_cause": "Phished credentials"},
        content_type="application/json",
        HTTP_IF_MATCH=etag,
    )
    assert ok.status_code == 200
    with unchanged(incident):
        stale = client.patch(
            url, {"root_cause": "Other"}, content_type="application/json", HTTP_IF_MATCH=etag
        )
    assert stale.status_code == 412


# --- Risks ----------------------------------------------------------------------------------


def test_registering_a_risk_scores_it(login_as, bu_member, unit, settings):
    settings.RISK_APPETITE_SCORE = 12
    response = post(
        login_as(bu_member),
        "/api/v1/risks/",
        {
            "title": "Shared admin accounts",
            "unit": "PUBSEC",
            "owner": "bu_member",
            "likelihood": 5,
            "impact": 5,
            "residual_likelihood": 3,
            "residual_impact": 3,
        },
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["inherent_score"], body["inherent_level"]) == (25, "very_high")
    assert (body["residual_score"], body["residual_level"]) == (9, "moderate")
    assert body["above_appetite"] is False
    assert body["next_review_on"] == str(timezone.localdate() + timedelta(days=180))


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"likelihood": 6}, "likelihood"),
        ({"impact": 0}, "impact"),
        ({"likelihood": "high"}, "likelihood"),
        ({"residual_impact": 9}, "residual_impact"),
        ({"unit": "NOWHERE"}, "unit"),
        ({"owner": "ghost"}, "owner"),
        ({"treatment": "pray"}, "treatment"),
        ({"title": None}, "title"),
    ],
)
def test_bad_risk_input_is_a_400(login_as, bu_member, unit, overrides, field):
    body = {"title": "x", "unit": "PUBSEC", "owner": "bu_member", "likelihood": 3, "impact": 3}
    body.update(overrides)
    response = post(login_as(bu_member), "/api/v1/risks/", body)
    assert response.status_code == 400
    assert field in response.json()


def test_reassessing_moves_it_above_appetite(login_as, bu_member, a_risk, settings):
    settings.RISK_APPETITE_SCORE = 12
    client = login_as(bu_member)
    url = f"/api/v1/risks/{a_risk.pk}/"
    etag = client.get(url)["ETag"]
    response = client.patch(
        url,
        {"residual_likelihood": 5, "residual_impact": 4},
        content_type="application/json",
        HTTP_IF_MATCH=etag,
    )
    assert response.status_code == 200
    assert response.json()["above_appetite"] is True
    assert response.json()["residual_level"] == "high"  # NIST Table I-2: L5 x I4
    with unchanged(a_risk):
        bad = client.patch(
            url, {"impact": 6}, content_type="application/json", HTTP_IF_MATCH=response["ETag"]
        )
    assert bad.status_code == 400


def test_risk_levels_for_all_25_cells_match_the_matrix_data(bu_member, unit):
    for likelihood in range(1, 6):
        for impact in range(1, 6):
            r = risk(unit, bu_member, likelihood=likelihood, impact=impact)
            expected = NIST_800_30_TABLE_I2[likelihood - 1][impact - 1]
            assert r.inherent_level == r.residual_level == expected, (likelihood, impact)
            assert (
                RiskMatrixCell.objects.get(likelihood=likelihood, impact=impact).level == expected
            )


def test_the_matrix_is_data_a_company_can_replace(bu_member, unit):
    RiskMatrixCell.objects.filter(likelihood=1, impact=1).update(level="very_high", review_days=7)
    r = risk(unit, bu_member, likelihood=1, impact=1)
    assert r.inherent_level == "very_high"
    assert r.next_review_on == timezone.localdate() + timedelta(days=7)


def test_heatmap_counts_what_the_reader_may_see(
    login_as, bu_member, auditor, unit, other_unit, other_bu_member
):
    risk(unit, bu_member, likelihood=4, impact=4, residual_likelihood=2, residual_impact=3)
    risk(unit, bu_member, likelihood=4, impact=4, residual_likelihood=2, residual_impact=3)
    risk(other_unit, other_bu_member, likelihood=5, impact=1)
    mine = login_as(bu_member).get("/api/v1/risks/heatmap/").json()
    assert mine["basis"] == "residual"
    assert mine["counts"][1][2] == 2
    assert sum(map(sum, mine["counts"])) == 2
    inherent = login_as(bu_member).get("/api/v1/risks/heatmap/?basis=inherent").json()["counts"]
    assert inherent[3][3] == 2
    assert login_as(bu_member).get("/api/v1/risks/heatmap/?basis=sideways").status_code == 400
    everything = login_as(auditor).get("/api/v1/risks/heatmap/?basis=inherent").json()["counts"]
    assert everything[4][0] == 1
    assert sum(map(sum, everything)) == 3


# --- Query counts ---------------------------------------------------------------------------


def _queries(client: Client, path: str) -> int:
    client.get(path)
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(path)
    assert response.status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize("role", ["auditor", "bu_member"])
def test_incident_list_runs_constant_queries(request, login_as, unit, bu_member, role):
    client = login_as(request.getfixturevalue(role))
    systems = [register(unit, f"s{n}") for n in range(3)]
    for _ in range(3):
        report(unit, bu_member, affected_systems=systems)
    few = _queries(client, "/api/v1/incidents/")
    for _ in range(27):
        report(unit, bu_member, affected_systems=systems[:2])
    assert _queries(client, "/api/v1/incidents/") == few
    assert len(client.get("/api/v1/incidents/?page_size=100").json()["results"]) == 30


@pytest.mark.parametrize("role", ["auditor", "bu_member"])
def test_risk_list_and_heatmap_run_constant_queries(request, login_as, unit, bu_member, role):
    client = login_as(request.getfixturevalue(role))
    for n in range(3):
        risk(unit, bu_member, likelihood=n + 1)
    few = _queries(client, "/api/v1/risks/")
    few_map = _queries(client, "/api/v1/risks/heatmap/")
    for n in range(27):
        risk(unit, bu_member, likelihood=n % 5 + 1, impact=(n * 3) % 5 + 1)
    assert _queries(client, "/api/v1/risks/") == few
    assert _queries(client, "/api/v1/risks/heatmap/") == few_map


def test_another_units_system_reads_as_unknown(login_as, bu_member, unit, other_unit):
    register(other_unit, "secret-vpn")
    hidden = post(
        login_as(bu_member), "/api/v1/incidents/", a_report(affected_systems=["secret-vpn"])
    )
    missing = post(login_as(bu_member), "/api/v1/incidents/", a_report(affected_systems=["nope"]))
    assert hidden.status_code == missing.status_code == 400
    assert (
        hidden.json()["affected_systems"][0].replace("secret-vpn", "nope")
        == missing.json()["affected_systems"][0]
    )


def test_unknown_fields_are_refused_not_ignored(login_as, bu_member, unit):
    response = post(login_as(bu_member), "/api/v1/incidents/", a_report(status="closed"))
    assert response.status_code == 400
    assert "status" in response.json()


@pytest.mark.parametrize("role", ["bu_member", "auditor", "other_bu_member"])
def test_both_maps_from_one_query_are_the_maps_counted_apart(
    request, unit, other_unit, bu_member, other_bu_member, role
):
    from cases import selectors
    from cases.models import Risk

    for n in range(12):
        risk(
            unit if n % 3 else other_unit,
            bu_member if n % 3 else other_bu_member,
            likelihood=n % 5 + 1,
            impact=(n * 2) % 5 + 1,
            residual_likelihood=(n * 3) % 5 + 1,
            residual_impact=n % 4 + 1,
        )
    Risk.objects.filter(pk=Risk.objects.order_by("pk").values("pk")[:1]).update(status="retired")
    reader = request.getfixturevalue(role)
    with CaptureQueriesContext(connection) as queries:
        both = selectors.heatmaps(reader)
    assert both == {
        basis: selectors.heatmap(reader, basis=basis) for basis in ("inherent", "residual")
    }
    assert len(queries) <= 2  # the reader's scope (one plain statement) and the counts
    assert sum(map(sum, both["inherent"])) == sum(map(sum, both["residual"])) > 0
