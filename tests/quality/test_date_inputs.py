"""Project plans, report months and finding due dates out of range: every door refuses them with
a 400 naming the field and writes nothing; a plan lies within ten years of today."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone

from config import dates
from quality import services
from quality.models import Project, QualityReport, Review
from tests.dates import Door, assert_refused, post_json
from tests.quality.conftest import CHECKLIST_YES, month, report

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()


def _plain() -> Project:
    return Project.objects.get(name="Wiki upgrade")


def _with_data() -> Project:
    return Project.objects.get(name="Certificate issuance renewal")


def _registration(**fields: str) -> dict[str, str]:
    return {
        "name": "Intranet search",
        "unit": "PUBSEC",
        "system": "intranet-wiki",
        "planned_budget": "250000.00",
        "planned_start": TODAY.isoformat(),
        "planned_finish": (TODAY + dt.timedelta(days=180)).isoformat(),
        **fields,
    }


def _registration_page(**fields: str) -> dict[str, Any]:
    project = _plain()
    return {
        **_registration(**fields),
        "unit": project.unit_id,
        "system": project.system_id,
        "size_unit": "fp",
    }


def _figures(period: str) -> dict[str, str]:
    return {
        "period": period,
        "planned_value": "100000",
        "earned_value": "100000",
        "actual_cost": "100000",
        "percent_complete": "10",
    }


def _review_page(due_on: str) -> dict[str, str]:
    data = {
        **{f"check_{key}": answer for key, answer in CHECKLIST_YES.items()},
        "verdict": "passed_with_findings",
        "summary": "Gaps.",
        "findings-TOTAL_FORMS": "1",
        "findings-INITIAL_FORMS": "0",
        "findings-MIN_NUM_FORMS": "0",
        "findings-MAX_NUM_FORMS": "5",
        "findings-0-title": "Write the test plan",
        "findings-0-due_on": due_on,
        "findings-0-description": "",
    }
    return data


def doors() -> list[Door]:
    projects = Project.objects.count
    reports = QualityReport.objects.count
    reviews = Review.objects.count

    def register_api(field: str) -> Door:
        return Door(
            f"api register {field}",
            "api",
            "bu_member",
            field,
            lambda c, v: post_json(c, "/api/v1/projects/", _registration(**{field: v})),
            state=projects,
        )

    def register_page(field: str) -> Door:
        return Door(
            f"page register {field}",
            "page",
            "bu_member",
            field,
            lambda c, v: c.post("/projects/new/", _registration_page(**{field: v})),
            state=projects,
        )

    return [
        register_api("planned_start"),
        register_api("planned_finish"),
        register_page("planned_start"),
        register_page("planned_finish"),
        Door(
            "api report period",
            "api",
            "bu_member",
            "period",
            lambda c, v: post_json(c, f"/api/v1/projects/{_plain().pk}/reports/", _figures(v)),
            state=reports,
        ),
        Door(
            "page report period",
            "page",
            "bu_member",
            "period",
            lambda c, v: c.post(f"/projects/{_plain().pk}/report/", _figures(v)),
            state=reports,
        ),
        Door(
            "api review finding due_on",
            "api",
            "reviewer",
            "due_on",
            lambda c, v: post_json(
                c,
                f"/api/v1/projects/{_with_data().pk}/reviews/",
                {
                    "checklist": CHECKLIST_YES,
                    "verdict": "passed_with_findings",
                    "summary": "Gaps.",
                    "findings": [{"title": "Write the test plan", "due_on": v}],
                },
            ),
            state=reviews,
            path="findings.0.due_on",
        ),
        Door(
            "page review finding due_on",
            "page",
            "reviewer",
            "due_on",
            lambda c, v: c.post(f"/projects/{_with_data().pk}/review/", _review_page(v)),
            state=reviews,
        ),
    ]


@pytest.mark.parametrize("door", doors(), ids=str)
def test_a_date_out_of_range_is_a_400_naming_the_field(
    door, project, plain_project, request, login_as
):
    client: Client = login_as(request.getfixturevalue(door.who))
    for value in door.values:
        assert_refused(door, client, value)


# --- The services' windows --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"planned_start": dates.years_after(TODAY, -11)}, "planned_start"),
        ({"planned_finish": dates.years_after(TODAY, 11)}, "planned_finish"),
        ({"planned_start": dt.date(1, 1, 1)}, "planned_start"),
    ],
)
def test_a_project_is_planned_within_ten_years_of_today(
    unit, bu_member, plain_system, fields, field
):
    values: dict[str, Any] = {
        "name": "Far off",
        "planned_budget": Decimal("1000"),
        "planned_start": TODAY,
        "planned_finish": TODAY + dt.timedelta(days=30),
        **fields,
    }
    with pytest.raises(ValidationError) as refused:
        services.register_project(actor=bu_member, unit=unit, system=plain_system, **values)
    assert list(refused.value.message_dict) == [field]
    assert not Project.objects.exists()


def test_a_plan_eleven_years_out_through_the_api_is_a_400(login_as, bu_member, plain_system):
    far = dates.years_after(TODAY, 11).isoformat()
    response = post_json(
        login_as(bu_member), "/api/v1/projects/", _registration(planned_finish=far)
    )
    assert response.status_code == 400
    assert "Plan within 10 years of today" in response.json()["planned_finish"][0]
    assert not Project.objects.exists()


def test_a_report_month_off_the_window_is_refused_by_the_service(bu_member, plain_project):
    with pytest.raises(ValidationError) as refused:
        report(plain_project, bu_member, dt.date(1999, 12, 1))
    assert list(refused.value.message_dict) == ["period"]
    report(plain_project, bu_member, month(-1))  # an ordinary month still goes in
    assert plain_project.reports.count() == 1


def test_a_finding_due_after_the_window_is_refused_by_the_service(reviewer, project):
    with pytest.raises(ValidationError) as refused:
        services.record_review(
            actor=reviewer,
            project=project,
            checklist=CHECKLIST_YES,
            verdict="passed_with_findings",
            summary="Gaps.",
            findings=[services.Work(title="Later", due_on=dt.date(2101, 1, 1))],
        )
    assert refused.value.message_dict == {"findings": ["Item 1 is due after 2100-12-31."]}
    assert not Review.objects.exists()
