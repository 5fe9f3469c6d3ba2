"""The quality API: scoping, registering, moving on with If-Match, reports, reviews, the release
gate with Idempotency-Key, thresholds, and a project list that costs the same at any length."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from actions.models import Action
from audit.models import AuditEvent
from quality import services
from quality.models import Phase, Project, QualityReport, ReleaseDecision, Review, Threshold
from tests.quality.conftest import (
    CHECKLIST_YES,
    CONFORMANCE_YES,
    make_project,
    month,
    report,
    to_test,
)
from tests.systems.conftest import register

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
SOON = (TODAY + dt.timedelta(days=30)).isoformat()
RED = {"earned_value": Decimal("80000")}  # SPI and CPI 0.8: red under the default thresholds


def post(client: Client, path: str, body: Any = None, **headers: Any):
    return client.post(
        path, body if body is not None else {}, content_type="application/json", **headers
    )


def put(client: Client, path: str, body: Any, **headers: Any):
    """A PUT with If-Match: the ETag of the record as read just before (none if unreadable)."""
    read = client.get(path)
    headers.setdefault("HTTP_IF_MATCH", read.headers.get("ETag", '"none"'))
    return client.put(path, body, content_type="application/json", **headers)


def url(project: Project, what: str = "") -> str:
    return f"/api/v1/projects/{project.pk}/" + (f"{what}/" if what else "")


def references(client: Client, query: str = "") -> list[str]:
    response = client.get(f"/api/v1/projects/?{query}")
    assert response.status_code == 200, response.json()
    return [p["reference"] for p in response.json()["results"]]


@pytest.fixture
def in_test(plain_project, bu_member) -> Project:
    return to_test(plain_project, bu_member)


# --- Who sees what --------------------------------------------------------------------------


def test_a_unit_member_sees_only_the_units_projects(login_as, bu_member, project, other_project):
    client = login_as(bu_member)
    assert references(client) == [project.reference]


@pytest.mark.parametrize("role", ["cqo", "chair", "auditor", "reviewer"])
def test_oversight_and_reviewers_see_every_units_projects(
    request, login_as, project, other_project, role
):
    client = login_as(request.getfixturevalue(role))
    assert sorted(references(client)) == sorted([project.reference, other_project.reference])


def test_another_units_project_is_a_404_everywhere(login_as, other_bu_member, project):
    client = login_as(other_bu_member)
    assert client.get(url(project)).status_code == 404
    for what in ("reports", "reviews", "release-decisions"):
        assert client.get(url(project, what)).status_code == 404, what
    assert post(client, url(project, "advance"), HTTP_IF_MATCH="*").status_code == 404
    assert post(client, url(project, "reports"), {"period": "2020-01"}).status_code == 404
    project.refresh_from_db()
    assert project.phase == Phase.PLANNING


def test_a_project_reads_with_its_etag_and_fields(login_as, bu_member, project):
    response = login_as(bu_member).get(url(project))
    assert response.status_code == 200
    assert response["ETag"]
    body = response.json()
    assert body["reference"] == project.reference
    assert (body["unit"], body["system"], body["phase"]) == ("PUBSEC", "cert-issuance", "planning")
    assert body["handles_personal_data"] is True
    assert body["planned_budget"] == "1000000.00"
    assert body["rag"] == ""
    assert body["flagged"] is False


# --- Registering ----------------------------------------------------------------------------


def registration(**fields: Any) -> dict[str, Any]:
    body = {
        "name": "Intranet search",
        "unit": "PUBSEC",
        "system": "intranet-wiki",
        "planned_budget": "250000.00",
        "planned_start": TODAY.isoformat(),
        "planned_finish": (TODAY + dt.timedelta(days=180)).isoformat(),
    }
    body.update(fields)
    return {k: v for k, v in body.items() if v is not None}


def test_a_unit_member_registers_a_project(login_as, bu_member, plain_system):
    response = post(login_as(bu_member), "/api/v1/projects/", registration(size_unit="fp"))
    assert response.status_code == 201, response.json()
    body = response.json()
    assert response["ETag"]
    assert (body["unit"], body["system"], body["size_unit"]) == ("PUBSEC", "intranet-wiki", "fp")
    assert (body["phase"], body["flagged"], body["handles_personal_data"]) == (
        "planning",
        False,
        False,
    )
    project = Project.objects.get(pk=body["id"])
    assert project.reference == body["reference"]
    assert AuditEvent.objects.filter(verb="project.registered", actor=bu_member).exists()


def test_a_project_on_a_system_with_personal_data_handles_it_whatever_is_said(
    login_as, bu_member, system
):
    response = post(
        login_as(bu_member),
        "/api/v1/projects/",
        registration(system="cert-issuance", handles_personal_data=False),
    )
    assert response.status_code == 201, response.json()
    assert response.json()["handles_personal_data"] is True


@pytest.mark.parametrize("system_code", ["intranet-wiki", "no-such-system"])
def test_registering_for_another_unit_is_a_403_whether_or_not_the_system_exists(
    login_as, other_bu_member, plain_system, system_code
):
    response = post(
        login_as(other_bu_member), "/api/v1/projects/", registration(system=system_code)
    )
    assert response.status_code == 403
    assert not Project.objects.exists()


@pytest.mark.parametrize("system_code", ["cloud-console", "no-such-system"])
def test_a_system_one_cannot_see_reads_as_no_such_system(
    login_as, bu_member, other_project, system_code
):
    response = post(login_as(bu_member), "/api/v1/projects/", registration(system=system_code))
    assert response.status_code == 400
    assert response.json() == {"system": ["No such system on the register."]}
    assert Project.objects.count() == 1  # other_project only


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"planned_budget": None}, "planned_budget"),
        ({"planned_budget": "-1"}, "planned_budget"),
        ({"planned_budget": "lots"}, "planned_budget"),
        ({"planned_budget": "1" * 20}, "planned_budget"),
        ({"name": None}, "name"),
        ({"unit": "NOPE"}, "unit"),
        ({"planned_start": "2026-02-30"}, "planned_start"),
        ({"size_unit": "bytes"}, "size_unit"),
        ({"phase": "test"}, "phase"),  # not settable: said, not ignored
        ({"system": None}, "system"),
    ],
)
def test_bad_registrations_are_a_400_naming_the_field(
    login_as, bu_member, plain_system, fields, field
):
    response = post(login_as(bu_member), "/api/v1/projects/", registration(**fields))
    assert response.status_code == 400
    assert field in response.json()
    assert not Project.objects.exists()


def test_a_finish_before_the_start_is_a_400_naming_the_field(login_as, bu_member, plain_system):
    response = post(
        login_as(bu_member),
        "/api/v1/projects/",
        registration(
            planned_start=TODAY.isoformat(),
            planned_finish=(TODAY - dt.timedelta(days=1)).isoformat(),
        ),
    )
    assert response.status_code == 400
    assert response.json() == {"planned_finish": ["The finish comes before the start."]}
    assert not Project.objects.exists()


# --- Filters --------------------------------------------------------------------------------


def test_filters(login_as, auditor, bu_member, project, plain_project, other_project):
    report(plain_project, bu_member, month(0), **RED)
    client = login_as(auditor)
    assert references(client, "unit=CLOUD") == [other_project.reference]
    assert references(client, "system=intranet-wiki") == [plain_project.reference]
    assert references(client, "handles_personal_data=true") == [project.reference]
    assert references(client, "rag=red") == [plain_project.reference]
    assert sorted(references(client, "rag=unrated")) == sorted(
        [project.reference, other_project.reference]
    )
    assert references(client, "flagged=true") == [plain_project.reference]
    assert references(client, "q=wiki") == [plain_project.reference]
    assert references(client, f"q={other_project.reference.lower()}") == [other_project.reference]
    assert references(client, "phase=design") == []
    assert len(references(client, "phase=planning")) == 3


@pytest.mark.parametrize("query", ["phase=shipping", "rag=purple"])
def test_a_bad_filter_is_a_400(login_as, auditor, project, query):
    response = login_as(auditor).get(f"/api/v1/projects/?{query}")
    assert response.status_code == 400
    assert query.split("=")[0] in response.json()


# --- Moving on ------------------------------------------------------------------------------


def test_advancing_needs_if_match_and_a_current_version(login_as, bu_member, plain_project):
    client = login_as(bu_member)
    etag = client.get(url(plain_project))["ETag"]
    missing = post(client, url(plain_project, "advance"))
    assert missing.status_code == 428
    assert missing.json()["code"] == "if_match_required"
    moved = post(client, url(plain_project, "advance"), HTTP_IF_MATCH=etag)
    assert moved.status_code == 200, moved.json()
    assert moved.json()["phase"] == "design"
    assert moved["ETag"] and moved["ETag"] != etag
    stale = post(client, url(plain_project, "advance"), HTTP_IF_MATCH=etag)
    assert stale.status_code == 412
    assert stale.json()["code"] == "stale"
    plain_project.refresh_from_db()
    assert plain_project.phase == Phase.DESIGN
    assert (
        post(client, url(plain_project, "advance"), HTTP_IF_MATCH=moved["ETag"]).status_code == 200
    )
    event = AuditEvent.objects.filter(verb="project.phase_advanced").order_by("pk").first()
    assert event is not None and event.details == {"from": "planning", "to": "design"}


def test_a_project_with_personal_data_stays_without_a_review(login_as, bu_member, project):
    client = login_as(bu_member)
    etag = client.get(url(project))["ETag"]
    response = post(client, url(project, "advance"), HTTP_IF_MATCH=etag)
    assert response.status_code == 400
    [message] = response.json()["phase"]
    assert "independent planning-stage review" in message
    project.refresh_from_db()
    assert project.phase == Phase.PLANNING


def test_only_the_owning_unit_moves_a_project_on(login_as, cqo, plain_project):
    client = login_as(cqo)
    etag = client.get(url(plain_project))["ETag"]
    assert post(client, url(plain_project, "advance"), HTTP_IF_MATCH=etag).status_code == 403
    plain_project.refresh_from_db()
    assert plain_project.phase == Phase.PLANNING


def test_test_goes_to_release_only_through_the_gate(login_as, bu_member, in_test):
    client = login_as(bu_member)
    etag = client.get(url(in_test))["ETag"]
    response = post(client, url(in_test, "advance"), HTTP_IF_MATCH=etag)
    assert response.status_code == 400
    assert "phase" in response.json()


def test_advancing_takes_no_body(login_as, bu_member, plain_project):
    client = login_as(bu_member)
    etag = client.get(url(plain_project))["ETag"]
    response = post(client, url(plain_project, "advance"), {"phase": "test"}, HTTP_IF_MATCH=etag)
    assert response.status_code == 400
    assert "phase" in response.json()
    plain_project.refresh_from_db()
    assert plain_project.phase == Phase.PLANNING


# --- Reports --------------------------------------------------------------------------------


def figures(period: str, **more: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "period": period,
        "planned_value": "100000",
        "earned_value": "80000",
        "actual_cost": "100000",
        "percent_complete": 8,
    }
    body.update(more)
    return body


def test_a_report_is_derived_rated_and_flags_the_project(login_as, bu_member, plain_project):
    client = login_as(bu_member)
    period = month(-1)
    response = post(client, url(plain_project, "reports"), figures(period.strftime("%Y-%m")))
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["period"] == period.isoformat()
    assert body["phase"] == "planning"
    assert (body["spi"], body["cpi"]) == ("0.8000", "0.8000")
    assert (body["schedule_variance"], body["cost_variance"]) == ("-20000.00", "-20000.00")
    assert body["estimate_at_completion"] == "1250000.00"
    assert body["estimate_to_complete"] == "1150000.00"
    assert body["ratings"] == {"spi": "red", "cpi": "red", "sv": "red", "cv": "red", "eac": "red"}
    assert (body["rag"], body["trending"]) == ("red", [])
    assert body["submitted_by"] == "bu_member"
    project = client.get(url(plain_project)).json()
    assert (project["rag"], project["flagged"]) == ("red", True)
    assert [p["flagged"] for p in client.get("/api/v1/projects/").json()["results"]] == [True]


def test_reports_list_oldest_first_and_take_a_day_of_the_month(login_as, bu_member, plain_project):
    client = login_as(bu_member)
    earlier, later = month(-2), month(-1)
    first = post(client, url(plain_project, "reports"), figures(later.replace(day=15).isoformat()))
    assert first.status_code == 201, first.json()
    # Reports come in order: an earlier month after a later one is refused.
    refused = post(client, url(plain_project, "reports"), figures(earlier.strftime("%Y-%m")))
    assert refused.status_code == 400
    assert "period" in refused.json()
    listed = client.get(url(plain_project, "reports"))
    assert listed.status_code == 200
    assert [r["period"] for r in listed.json()] == [later.isoformat()]
    assert (
        post(client, url(plain_project, "reports"), figures(month(0).isoformat())).status_code
        == 201
    )
    periods = [r["period"] for r in client.get(url(plain_project, "reports")).json()]
    assert periods == [later.isoformat(), month(0).isoformat()]


def test_a_month_reported_twice_is_a_409(login_as, bu_member, plain_project):
    client = login_as(bu_member)
    first = post(client, url(plain_project, "reports"), figures(month(-1).strftime("%Y-%m")))
    assert first.status_code == 201
    again = post(client, url(plain_project, "reports"), figures(month(-1).isoformat()))
    assert again.status_code == 409
    assert again.json()["code"] == "already_reported"
    assert QualityReport.objects.filter(project=plain_project).count() == 1


@pytest.mark.parametrize(
    ("more", "field"),
    [
        ({"percent_complete": 101}, "percent_complete"),
        ({"period": "2026-13"}, "period"),
        ({"period": "last month"}, "period"),
        ({"actual_cost": "-5"}, "actual_cost"),
        ({"tests_run": -1}, "tests_run"),
        ({"tests_run": 10**12}, "tests_run"),
        ({"tests_planned": 5, "tests_run": 6}, "tests_run"),
        ({"rag": "green"}, "rag"),
        ({"period": month(2).isoformat()}, "period"),  # a month still to come
    ],
)
def test_bad_reports_are_a_400_naming_the_field(login_as, bu_member, plain_project, more, field):
    response = post(
        login_as(bu_member), url(plain_project, "reports"), figures(**{"period": "2020-01", **more})
    )
    assert response.status_code == 400
    assert field in response.json()
    assert not QualityReport.objects.exists()


def test_only_the_owning_unit_reports(login_as, cqo, plain_project):
    response = post(login_as(cqo), url(plain_project, "reports"), figures(month(0).isoformat()))
    assert response.status_code == 403
    assert not QualityReport.objects.exists()


def test_the_unit_corrects_its_latest_report_with_if_match(login_as, bu_member, plain_project):
    report(plain_project, bu_member, month(-1))
    report(plain_project, bu_member, month(0), **RED)
    client = login_as(bu_member)
    path = url(plain_project, f"reports/{month(0):%Y-%m}")
    read = client.get(path)
    assert read.status_code == 200
    assert (read.json()["rag"], read.json()["corrected_by"]) == ("red", None)
    body = {**figures("", earned_value="100000"), "reason": "EV was typed as 80,000."}
    del body["period"]
    assert client.put(path, body, content_type="application/json").status_code == 428
    stale = {"HTTP_IF_MATCH": read.headers["ETag"]}
    response = client.put(path, body, content_type="application/json", **stale)
    assert response.status_code == 200, response.json()
    assert (response.json()["rag"], response.json()["earned_value"]) == ("green", "100000.00")
    assert response.json()["corrected_by"] == bu_member.username
    assert response.headers["ETag"] != read.headers["ETag"]
    again = client.put(path, {**body, "tests_planned": 5}, content_type="application/json", **stale)
    assert again.status_code == 412
    earlier = put(client, url(plain_project, f"reports/{month(-1):%Y-%m}"), body)
    assert earlier.status_code == 400
    assert "period" in earlier.json()
    assert client.get(url(plain_project, "reports/2026-13")).status_code == 404
    assert client.get(url(plain_project, f"reports/{month(1):%Y-%m}")).status_code == 404
    plain_project.refresh_from_db()
    assert plain_project.rag == "green"


def test_a_correction_needs_its_reason_and_every_figure_is_checked(
    login_as, bu_member, plain_project
):
    report(plain_project, bu_member, month(0))
    path = url(plain_project, f"reports/{month(0):%Y-%m}")
    body = figures("")
    del body["period"]
    client = login_as(bu_member)
    assert set(put(client, path, body).json()) == {"reason"}
    for wrong, field in (({"earned_value": "-1"}, "earned_value"), ({"extra": 1}, "extra")):
        response = put(client, path, {**body, "reason": "x", **wrong})
        assert (response.status_code, set(response.json())) == (400, {field})
    assert QualityReport.objects.get().corrected_at is None


# --- Reviews --------------------------------------------------------------------------------


def review_body(**more: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "checklist": CHECKLIST_YES,
        "verdict": "passed",
        "summary": "Plan covers personal data, fail-safe design and uniqueness.",
    }
    body.update(more)
    return body


def test_a_reviewer_of_the_projects_own_unit_is_refused(login_as, own_unit_reviewer, project):
    response = post(login_as(own_unit_reviewer), url(project, "reviews"), review_body())
    assert response.status_code == 403
    assert not Review.objects.exists()


def test_a_unit_member_cannot_review(login_as, bu_member, project):
    assert post(login_as(bu_member), url(project, "reviews"), review_body()).status_code == 403


def test_a_review_with_findings_creates_actions_for_the_unit(
    login_as, reviewer, bu_member, project
):
    findings = [
        {"title": "Add a concurrency test plan", "due_on": SOON},
        {"title": "Name the data owner", "due_on": SOON, "description": "For each data set."},
    ]
    response = post(
        login_as(reviewer),
        url(project, "reviews"),
        review_body(
            checklist={**CHECKLIST_YES, "test_plan": "no"},
            verdict="passed_with_findings",
            findings=findings,
        ),
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["phase"], body["verdict"], body["reviewer"]) == (
        "planning",
        "passed_with_findings",
        "reviewer",
    )
    assert body["checklist"]["test_plan"] == "no"
    actions = Action.objects.filter(origin_project=project).order_by("title")
    assert [a.title for a in actions] == ["Add a concurrency test plan", "Name the data owner"]
    assert {(a.unit.code, a.domain, str(a.due_on)) for a in actions} == {
        ("PUBSEC", "quality", SOON)
    }
    listed = login_as(bu_member).get(url(project, "reviews"))
    assert [r["id"] for r in listed.json()] == [body["id"]]
    made = [(a["id"], a["reference"], a["status"]) for a in body["findings"]]
    assert made == [(a.pk, a.reference, "open") for a in actions.order_by("due_on", "pk")]
    assert listed.json()[0]["findings"] == body["findings"]
    # A review that passed (with findings) lets the project leave planning.
    client = login_as(bu_member)
    etag = client.get(url(project))["ETag"]
    moved = post(client, url(project, "advance"), HTTP_IF_MATCH=etag)
    assert moved.status_code == 200, moved.json()
    assert moved.json()["phase"] == "design"


@pytest.mark.parametrize(
    ("more", "field"),
    [
        ({"checklist": {"fail_safe_design": "yes"}}, "checklist"),
        ({"checklist": {**CHECKLIST_YES, "access_control": "perhaps"}}, "checklist"),
        ({"verdict": "splendid"}, "verdict"),
        ({"summary": "   "}, "summary"),
        ({"checklist": {**CHECKLIST_YES, "test_plan": "no"}}, "verdict"),  # "no" cannot pass
        ({"verdict": "passed_with_findings"}, "findings"),
        ({"verdict": "failed", "findings": [{"title": "x"}]}, "findings"),
        (
            {"verdict": "failed", "findings": [{"title": "x", "due_on": "2000-01-01"}]},
            "findings",
        ),
        (
            {"verdict": "failed", "findings": [{"title": "x", "due_on": SOON, "unit": "X"}]},
            "findings",
        ),
    ],
)
def test_bad_reviews_are_a_400_naming_the_field(login_as, reviewer, project, more, field):
    response = post(login_as(reviewer), url(project, "reviews"), review_body(**more))
    assert response.status_code == 400
    assert field in response.json(), response.json()
    assert not Review.objects.exists()
    assert not Action.objects.exists()


# --- The release gate -----------------------------------------------------------------------


def release(client: Client, project: Project, **body: Any):
    headers = {k: v for k, v in body.items() if k.startswith("HTTP_")}
    payload = {"outcome": "approved", "reason": "Tests passed; indicators green."}
    payload.update({k: v for k, v in body.items() if not k.startswith("HTTP_")})
    return post(client, url(project, "release"), payload, **headers)


@pytest.mark.parametrize("role", ["bu_member", "ciso", "reviewer"])
def test_only_the_cqo_or_the_chair_decides_a_release(request, login_as, in_test, role):
    response = release(login_as(request.getfixturevalue(role)), in_test)
    assert response.status_code == 403
    in_test.refresh_from_db()
    assert in_test.phase == Phase.TEST
    assert not ReleaseDecision.objects.exists()


@pytest.mark.parametrize(("role", "office"), [("cqo", "CQO"), ("chair", "CEO")])
def test_approving_releases_the_project(request, login_as, in_test, role, office):
    client = login_as(request.getfixturevalue(role))
    response = release(client, in_test)
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["project"], body["outcome"], body["decided_office"]) == (
        in_test.reference,
        "approved",
        office,
    )
    in_test.refresh_from_db()
    assert in_test.phase == Phase.RELEASE
    assert client.get(url(in_test)).json()["phase"] == "release"
    assert [d["id"] for d in client.get(url(in_test, "release-decisions")).json()] == [body["id"]]


def test_a_red_project_is_released_only_with_an_override_reason(login_as, cqo, bu_member, in_test):
    report(in_test, bu_member, month(0), **RED)
    client = login_as(cqo)
    refused = release(client, in_test)
    assert refused.status_code == 400
    assert "override_reason" in refused.json()
    in_test.refresh_from_db()
    assert in_test.phase == Phase.TEST
    held = release(client, in_test, outcome="held", reason="Red: fix the schedule first.")
    assert held.status_code == 201
    in_test.refresh_from_db()
    assert in_test.phase == Phase.TEST
    approved = release(client, in_test, override_reason="Statutory deadline; CEO informed.")
    assert approved.status_code == 201, approved.json()
    assert approved.json()["rag_at_decision"] == "red"
    in_test.refresh_from_db()
    assert in_test.phase == Phase.RELEASE
    outcomes = [d["outcome"] for d in client.get(url(in_test, "release-decisions")).json()]
    assert outcomes == ["held", "approved"]


def test_conditions_become_actions(login_as, cqo, in_test):
    response = release(
        login_as(cqo),
        in_test,
        outcome="approved_with_conditions",
        conditions=[{"title": "Load test the search", "due_on": SOON}],
    )
    assert response.status_code == 201, response.json()
    [action] = Action.objects.filter(origin_project=in_test)
    assert (action.title, action.unit.code) == ("Load test the search", "PUBSEC")
    assert [(a["id"], a["reference"]) for a in response.json()["conditions"]] == [
        (action.pk, action.reference)
    ]
    listed = login_as(cqo).get(url(in_test, "release-decisions"))
    assert listed.json()[0]["conditions"] == response.json()["conditions"]


def test_a_project_not_in_test_does_not_come_to_the_gate(login_as, cqo, plain_project):
    response = release(login_as(cqo), plain_project)
    assert response.status_code == 400
    assert "phase" in response.json()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"outcome": "maybe"}, "outcome"),
        ({"reason": ""}, "reason"),
        ({"outcome": "approved_with_conditions"}, "conditions"),
        ({"conditions": [{"title": "x", "due_on": SOON}]}, "conditions"),
        ({"conditions": "all of them"}, "conditions"),
    ],
)
def test_bad_release_decisions_are_a_400(login_as, cqo, in_test, body, field):
    response = release(login_as(cqo), in_test, **body)
    assert response.status_code == 400
    assert field in response.json(), response.json()
    assert not ReleaseDecision.objects.exists()


def test_a_retried_release_decision_is_made_once(login_as, cqo, in_test):
    client = login_as(cqo)
    first = release(client, in_test, HTTP_IDEMPOTENCY_KEY="gate-1")
    again = release(client, in_test, HTTP_IDEMPOTENCY_KEY="gate-1")
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert ReleaseDecision.objects.filter(project=in_test).count() == 1
    assert AuditEvent.objects.filter(verb="project.release_decided").count() == 1
    other = release(client, in_test, reason="Another reason", HTTP_IDEMPOTENCY_KEY="gate-1")
    assert other.status_code == 422
    # Without the key, a second approval finds the project released already.
    assert release(client, in_test).status_code == 400


# --- Thresholds -----------------------------------------------------------------------------


def test_everyone_signed_in_reads_the_thresholds(login_as, bu_member):
    response = login_as(bu_member).get("/api/v1/quality-thresholds/")
    assert response.status_code == 200
    rows = {row["indicator"]: row for row in response.json()}
    assert set(rows) == {"spi", "cpi", "sv", "cv", "eac", "test_density", "defect_detection"}
    assert (rows["spi"]["green"], rows["spi"]["red"]) == ("0.9500", "0.8500")
    assert rows["eac"]["lower_is_better"] is True


def test_the_cqo_sets_a_threshold_and_new_reports_are_rated_under_it(
    login_as, cqo, bu_member, plain_project
):
    response = put(login_as(cqo), "/api/v1/quality-thresholds/spi/", {"green": "0.8", "red": "0.7"})
    assert response.status_code == 200, response.json()
    assert (response.json()["green"], response.json()["updated_by"]) == ("0.8000", "cqo")
    assert Threshold.objects.get(indicator="spi").red == Decimal("0.7")
    assert AuditEvent.objects.filter(verb="quality.threshold_set", office="CQO").exists()
    assert report(plain_project, bu_member, month(0), **RED).ratings["spi"] == "green"


@pytest.mark.parametrize("role", ["bu_member", "ciso", "auditor"])
def test_others_cannot_set_thresholds(request, login_as, role):
    client = login_as(request.getfixturevalue(role))
    response = put(client, "/api/v1/quality-thresholds/spi/", {"green": "0.1", "red": "0.05"})
    assert response.status_code == 403
    assert Threshold.objects.get(indicator="spi").green == Decimal("0.95")


def test_a_threshold_is_set_over_the_version_read_only(login_as, cqo, chair):
    path = "/api/v1/quality-thresholds/spi/"
    read = login_as(cqo).get(path)
    body = {"green": "0.9", "red": "0.8"}
    missing = login_as(cqo).put(path, body, content_type="application/json")
    assert missing.status_code == 428
    assert put(login_as(chair), path, {"green": "0.97", "red": "0.9"}).status_code == 200
    stale = login_as(cqo).put(
        path, body, content_type="application/json", HTTP_IF_MATCH=read.headers["ETag"]
    )
    assert stale.status_code == 412
    assert Threshold.objects.get(indicator="spi").green == Decimal("0.97")  # the chair's stands


@pytest.mark.parametrize(
    ("path", "body", "code", "field"),
    [
        ("spi", {"green": "0.8", "red": "0.9"}, 400, "green"),  # better higher: green above red
        ("eac", {"green": "20", "red": "10"}, 400, "green"),  # better lower: green below red
        ("spi", {"green": "0.9"}, 400, "red"),
        ("spi", {"green": "high", "red": "0.8"}, 400, "green"),
        ("spi", {"green": "0.9", "red": "0.8", "indicator": "cpi"}, 400, "indicator"),
        ("velocity", {"green": "1", "red": "0"}, 404, None),
    ],
)
def test_bad_thresholds(login_as, cqo, path, body, code, field):
    response = put(login_as(cqo), f"/api/v1/quality-thresholds/{path}/", body)
    assert response.status_code == code
    if field:
        assert field in response.json()
    assert Threshold.objects.get(indicator="spi").green == Decimal("0.95")


# --- Query counts ---------------------------------------------------------------------------


def _queries(client: Client, path: str) -> int:
    client.get(path)
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(path)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def _projects(unit, bu_member, count: int, start: int) -> None:
    for n in range(start, start + count):
        project = make_project(unit, bu_member, register(unit, f"sys-{n}"), name=f"Project {n}")
        if n % 2:  # half of them red, so flagged
            report(project, bu_member, month(0), **RED)


@pytest.mark.parametrize("role", ["auditor", "bu_member"])
def test_project_list_runs_constant_queries(request, login_as, unit, bu_member, role):
    client = login_as(request.getfixturevalue(role))
    _projects(unit, bu_member, 2, 0)
    few = _queries(client, "/api/v1/projects/")
    _projects(unit, bu_member, 10, 2)
    assert _queries(client, "/api/v1/projects/") == few
    results = client.get("/api/v1/projects/?page_size=100").json()["results"]
    assert len(results) == 12
    assert sum(p["flagged"] for p in results) == 6


def test_a_projects_histories_run_constant_queries(
    login_as, auditor, bu_member, reviewer, cqo, plain_project
):
    in_test = plain_project  # moved on unreported: the history starts a year back
    for _ in range(3):
        in_test = services.advance_phase(actor=bu_member, project=in_test)

    def add(count: int, start: int) -> None:
        for n in range(start, start + count):
            report(in_test, bu_member, month(n - 12))
            services.record_review(  # each with findings: the actions they became are listed
                actor=reviewer,
                project=in_test,
                checklist=CONFORMANCE_YES,
                verdict="passed_with_findings",
                summary=f"Check {n}",
                findings=[
                    services.Work(title=f"Follow up {n}.{k}", due_on=TODAY + dt.timedelta(days=30))
                    for k in range(2)
                ],
            )
            services.decide_release(actor=cqo, project=in_test, outcome="held", reason="Not yet")

    client = login_as(auditor)
    histories = ("reports", "reviews", "release-decisions")
    add(2, 0)
    few = {what: _queries(client, url(in_test, what)) for what in histories}
    add(5, 2)
    assert {what: _queries(client, url(in_test, what)) for what in histories} == few
    assert [len(client.get(url(in_test, what)).json()) for what in histories] == [7, 7, 7]
    assert {len(r["findings"]) for r in client.get(url(in_test, "reviews")).json()} == {2}
