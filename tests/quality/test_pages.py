"""Quality pages: the project list and its query count, a project's page with its EVM chart, and
the report, advance, review, release and threshold forms, with what each role may press."""

from __future__ import annotations

import datetime as dt
import itertools
import re
from decimal import Decimal
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from actions.models import Action
from audit.models import AuditEvent
from config.versioning import etag_of
from quality import charts, services
from quality.models import Project, QualityReport, ReleaseDecision, Review, Threshold
from tests.pages import csv_rows, queries_for
from tests.quality.conftest import (
    CHECKLIST_YES,
    CONFORMANCE_YES,
    make_project,
    month,
    report,
    to_test,
)
from tests.unchanged import unchanged

pytestmark = pytest.mark.django_db

LIST = "/projects/"
THRESHOLDS = "/quality/thresholds/"


def page(project: Project, tail: str = "") -> str:
    return f"/projects/{project.pk}/{tail}"


def html(response) -> str:
    return response.content.decode()


def count_testid(response, name: str) -> int:
    return html(response).count(f'data-testid="{name}"')


def count_testid_in(text: str, name: str) -> int:
    return text.count(f'data-testid="{name}"')


def version_on(text: str) -> str:
    """The version the page's advance form carries (what a browser posts back)."""
    found = re.search(r'name="version" value="([^"]+)"', text)
    assert found, "the page carries no version"
    return found.group(1).replace("&quot;", '"')


def row_refs(response) -> list[str]:
    return re.findall(r'data-testid="project-row" data-reference="([^"]+)"', html(response))


def badges(response) -> dict[str, str]:
    """Reference → the RAG badge on its row of the list."""
    rows = re.findall(
        r'data-testid="project-row" data-reference="([^"]+)".*?data-testid="rag" data-rag="(\w+)"',
        html(response),
        flags=re.S,
    )
    return dict(rows)


def work_rows(prefix: str, *rows: dict[str, Any]) -> dict[str, Any]:
    """A formset of five rows as the page posts it; rows not given are left blank."""
    data: dict[str, Any] = {
        f"{prefix}-TOTAL_FORMS": "5",
        f"{prefix}-INITIAL_FORMS": "0",
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "5",
    }
    for index in range(5):
        row = rows[index] if index < len(rows) else {}
        for field in ("title", "due_on", "description"):
            data[f"{prefix}-{index}-{field}"] = row.get(field, "")
    return data


def in_days(days: int) -> str:
    return (timezone.localdate() + dt.timedelta(days=days)).isoformat()


def checklist(answers: dict[str, str]) -> dict[str, str]:
    return {f"check_{key}": answer for key, answer in answers.items()}


def report_data(period: dt.date, **figures: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "period": period.strftime("%Y-%m"),
        "planned_value": "100000",
        "earned_value": "100000",
        "actual_cost": "100000",
        "percent_complete": "10",
    }
    data.update(figures)
    return data


# --- The list --------------------------------------------------------------------------------


def test_signed_out_readers_are_sent_to_sign_in(client, project):
    for path in (LIST, "/projects/new/", page(project), page(project, "report/"), THRESHOLDS):
        response = client.get(path)
        assert response.status_code == 302
        assert "/accounts/login/" in response["Location"]


def test_a_unit_sees_its_projects_and_oversight_and_reviewers_see_all(
    login_as, bu_member, other_bu_member, cqo, auditor, reviewer, project, other_project
):
    assert row_refs(login_as(bu_member).get(LIST)) == [project.reference]
    assert row_refs(login_as(other_bu_member).get(LIST)) == [other_project.reference]
    for user in (cqo, auditor, reviewer):
        assert row_refs(login_as(user).get(LIST)) == [project.reference, other_project.reference]


def test_the_list_shows_each_projects_rating_flag_and_personal_data(
    login_as, bu_member, cqo, project, plain_project
):
    report(project, bu_member, month(0), earned_value=Decimal("50000"))  # SPI 0.5: red
    report(plain_project, bu_member, month(0))
    response = login_as(cqo).get(LIST)
    assert badges(response) == {project.reference: "red", plain_project.reference: "green"}
    assert count_testid(response, "flagged") == 1  # the red one, brought to the CQO
    assert count_testid(response, "personal-data") == 1
    text = html(response)
    assert text.index('data-testid="flagged"') < text.index(plain_project.reference)


def test_a_project_not_yet_reported_is_not_rated(login_as, bu_member, project):
    assert badges(login_as(bu_member).get(LIST)) == {project.reference: "unrated"}


def test_the_list_filters(login_as, bu_member, cqo, project, plain_project, other_project):
    report(project, bu_member, month(0), earned_value=Decimal("50000"))
    services.advance_phase(actor=bu_member, project=plain_project)
    client = login_as(cqo)
    assert row_refs(client.get(LIST, {"unit": "CLOUD"})) == [other_project.reference]
    assert row_refs(client.get(LIST, {"phase": "design"})) == [plain_project.reference]
    assert row_refs(client.get(LIST, {"rag": "red"})) == [project.reference]
    assert row_refs(client.get(LIST, {"rag": "unrated"})) == [
        plain_project.reference,
        other_project.reference,
    ]
    assert row_refs(client.get(LIST, {"flagged": "true"})) == [project.reference]
    bad = client.get(LIST, {"phase": "shipped"})
    assert bad.status_code == 400  # as on every list, and any form with bad input
    assert row_refs(bad) == []
    assert "shipped is not one of the available choices" in html(bad)


def test_the_list_exports_the_filtered_rows(login_as, cqo, project, other_project):
    rows = csv_rows(login_as(cqo).get(LIST, {"unit": "PUBSEC", "export": "csv"}).content)
    assert rows[0][:4] == ["Reference", "Name", "Business unit", "System"]
    assert [row[0] for row in rows[1:]] == [project.reference]
    assert rows[1][5:8] == ["Not rated", "Yes", "No"]  # status, personal data, flagged


@pytest.mark.parametrize("role", ["bu_member", "cqo"])
def test_the_list_costs_the_same_queries_for_2_and_12_projects(
    request, login_as, unit, bu_member, plain_system, role
):
    client = login_as(request.getfixturevalue(role))
    counter = itertools.count()

    def grow(n: int) -> None:
        for _ in range(n):
            i = next(counter)
            created = make_project(unit, bu_member, plain_system, name=f"Project {i}")
            if i % 2:  # half rated red and flagged, so the badges and markers are all read
                report(created, bu_member, month(0), earned_value=Decimal("50000"))

    grow(2)
    few = queries_for(client, LIST)
    grow(10)
    many = queries_for(client, LIST)
    assert few == many, f"{few} queries with 2 projects, {many} with 12"
    assert len(row_refs(client.get(LIST))) == 12


# --- Registering -----------------------------------------------------------------------------


@pytest.mark.parametrize(("role", "offered"), [("bu_member", True), ("cqo", False)])
def test_only_unit_people_are_offered_registration(request, login_as, unit, role, offered):
    client = login_as(request.getfixturevalue(role))
    assert (count_testid(client.get(LIST), "register-button") == 1) is offered
    assert client.get("/projects/new/").status_code == (200 if offered else 403)


def test_a_unit_member_registers_a_project(login_as, bu_member, unit, system, other_project):
    client = login_as(bu_member)
    form = html(client.get("/projects/new/"))
    assert "cert-issuance" in form
    assert "cloud-console" not in form  # another unit's system is not offered
    response = client.post(
        "/projects/new/",
        {
            "unit": unit.pk,
            "system": system.pk,
            "name": "Resident certificates v2",
            "planned_budget": "2500000",
            "planned_start": in_days(0),
            "planned_finish": in_days(300),
            "size_unit": "fp",
        },
    )
    created = Project.objects.get(name="Resident certificates v2")
    assert response.status_code == 302
    assert response["Location"] == page(created)
    # The system handles personal data, so the project does, though the box was not ticked.
    assert (created.unit, created.handles_personal_data, created.size_unit) == (unit, True, "fp")
    assert f"Project {created.reference} is registered." in html(client.get(page(created)))


def test_bad_registration_input_shows_the_errors_in_place(login_as, bu_member, unit, system):
    response = login_as(bu_member).post(
        "/projects/new/",
        {"unit": unit.pk, "system": system.pk, "name": "", "planned_budget": "-1"},
    )
    assert response.status_code == 400
    for field in ("name", "planned_budget", "planned_start"):
        assert count_testid(response, f"error-{field}") == 1
    assert not Project.objects.exists()


# --- A project's page ------------------------------------------------------------------------


def test_the_page_draws_the_chart_before_any_report(login_as, bu_member, project):
    response = login_as(bu_member).get(page(project))
    assert response.status_code == 200
    text = html(response)
    assert "<svg" in text
    assert 'data-testid="evm-chart" data-points="0"' in text
    assert 'data-series="bac"' in text  # the budget is known before any report
    assert "<polyline" not in text
    assert count_testid(response, "evm-empty") == 1
    assert count_testid(response, "no-reports") == 1


def test_the_page_draws_the_three_series_over_several_reports(login_as, bu_member, plain_project):
    for offset, (pv, ev, ac) in enumerate(
        [(100, 90, 95), (200, 170, 210), (300, 240, 330), (400, 300, 460)]
    ):
        report(
            plain_project,
            bu_member,
            month(offset - 3),
            planned_value=Decimal(pv * 1000),
            earned_value=Decimal(ev * 1000),
            actual_cost=Decimal(ac * 1000),
        )
    response = login_as(bu_member).get(page(plain_project))
    text = html(response)
    assert 'data-testid="evm-chart" data-points="4"' in text
    for series in ("pv", "ev", "ac"):
        group = re.search(rf'<g data-series="{series}">(.*?)</g>', text, flags=re.S)
        assert group, f"no {series} line"
        assert group.group(1).count("<circle") == 4
        points = re.search(r'points="([^"]+)"', group.group(1))
        assert points, f"no {series} polyline"
        assert len(points.group(1).split()) == 4
    assert 'data-series="bac"' in text
    assert '<title id="evm-chart-title">' in text
    assert 'aria-labelledby="evm-chart-title evm-chart-desc"' in text
    assert "Actual cost (AC)" in text and "Amount (thousands)" in text  # legend and axis
    assert count_testid(response, "report-row") == 4


def test_the_chart_of_a_single_report_is_a_point_not_nothing():
    svg = str(
        charts.evm_chart_svg(
            [charts.EvmPoint(month(0), Decimal(10), Decimal(8), Decimal(12))],
            budget=Decimal(100),
        )
    )
    assert svg.count("<circle") == 3  # one point per series, drawn although a line needs two
    assert 'data-points="1"' in svg
    assert "Budget at completion 100." in svg


def test_a_reported_month_shows_its_rated_indicators(login_as, bu_member, plain_project):
    client = login_as(bu_member)
    form = client.get(page(plain_project, "report/"))
    assert form.status_code == 200
    response = client.post(
        page(plain_project, "report/"),
        report_data(month(0), earned_value="80000", actual_cost="80000"),
    )
    assert response.status_code == 302
    saved = QualityReport.objects.get(project=plain_project)
    assert (saved.spi, saved.rag) == (Decimal("0.8000"), "red")
    shown = client.get(response["Location"])
    text = html(shown)
    assert "is recorded and rated red" in text
    assert f'data-testid="report-row" data-period="{month(0):%Y-%m}" data-rag="red"' in text
    assert 'class="text-end text-nowrap table-danger" data-testid="cell-spi" data-rating="red"' in (
        text
    )
    assert 'data-testid="cell-cpi" data-rating="green"' in text
    assert count_testid(shown, "open-flag") == 1
    assert "Schedule performance index (SPI)" in html(shown)


def test_bad_report_input_comes_back_into_the_form(login_as, bu_member, plain_project):
    client = login_as(bu_member)
    url = page(plain_project, "report/")
    with unchanged(QualityReport, plain_project):
        response = client.post(url, report_data(month(1)))
    assert response.status_code == 400
    assert count_testid(response, "error-period") == 1
    assert "A month still to come cannot be reported." in html(response)
    with unchanged(QualityReport, plain_project):
        response = client.post(url, report_data(month(0), tests_planned="5", tests_run="9"))
    assert response.status_code == 400
    assert count_testid(response, "error-tests_run") == 1
    assert "More tests run than planned" in html(response)
    first = report(plain_project, bu_member, month(0))
    with unchanged(QualityReport, first, plain_project):
        again = client.post(url, report_data(month(0)))
    assert again.status_code == 409
    assert count_testid(again, "error-period") == 1
    assert "is already reported for this project" in html(again)
    assert QualityReport.objects.count() == 1


@pytest.mark.parametrize("role", ["cqo", "reviewer", "auditor"])
def test_only_the_owning_unit_reports(request, login_as, plain_project, role):
    client = login_as(request.getfixturevalue(role))
    assert count_testid(client.get(page(plain_project)), "report-button") == 0
    assert client.get(page(plain_project, "report/")).status_code == 403
    response = client.post(page(plain_project, "report/"), report_data(month(0)))
    assert response.status_code == 403
    assert "Only the owning unit may report on its project." in html(response)
    assert not QualityReport.objects.exists()


def correction_data(version: str, **figures: Any) -> dict[str, Any]:
    """The correction form as posted: every figure (the healthy defaults), a reason, and the
    version the page was read at."""
    data = report_data(month(0), reason="Earned value was counted twice.", version=version)
    del data["period"]
    data.update(figures)
    return data


def correct_page(project: Project, period: dt.date) -> str:
    return page(project, f"reports/{period:%Y-%m}/correct/")


def test_the_unit_corrects_its_latest_report(login_as, bu_member, plain_project):
    report(plain_project, bu_member, month(-1))
    latest = report(plain_project, bu_member, month(0))
    client = login_as(bu_member)
    shown = client.get(page(plain_project))
    assert count_testid(shown, "correct-report") == 1
    assert count_testid(shown, "corrected") == 0
    assert f'href="{correct_page(plain_project, month(0))}"' in html(shown)
    form = client.get(correct_page(plain_project, month(0)))
    assert form.status_code == 200
    assert count_testid(form, "correct-form") == 1
    assert count_testid(form, "correct-submit") == 1
    assert charts.month_label(month(0)) in html(form)
    assert 'name="earned_value" value="100000"' in html(form)  # the figures as reported
    response = client.post(
        correct_page(plain_project, month(0)),
        correction_data(version_on(html(form)), earned_value="80000", actual_cost="80000"),
    )
    assert response.status_code == 302
    assert response["Location"] == page(plain_project)
    latest.refresh_from_db()
    assert (latest.earned_value, latest.spi, latest.rag) == (
        Decimal("80000"),
        Decimal("0.8000"),
        "red",
    )
    assert latest.corrected_by == bu_member
    plain_project.refresh_from_db()
    assert plain_project.rag == "red"
    after = client.get(response["Location"])
    text = html(after)
    assert "is corrected and rated red" in text
    assert f'data-testid="report-row" data-period="{month(0):%Y-%m}" data-rag="red"' in text
    assert count_testid(after, "corrected") == 1
    marker = re.search(r'data-testid="corrected">([^<]*)<', text)
    assert marker and marker.group(1).startswith("Corrected ")
    assert marker.group(1).endswith(f" by {bu_member}")
    event = AuditEvent.objects.get(verb="project.report_corrected")
    assert event.details["reason"] == "Earned value was counted twice."
    assert [Decimal(v) for v in event.details["changed"]["earned_value"]] == [100000, 80000]


def test_only_the_latest_report_is_corrected(login_as, bu_member, plain_project):
    earlier = report(plain_project, bu_member, month(-1))
    report(plain_project, bu_member, month(0))
    client = login_as(bu_member)
    shown = html(client.get(page(plain_project)))
    assert count_testid_in(shown, "correct-report") == 1
    assert correct_page(plain_project, month(-1)) not in shown
    refused = client.get(correct_page(plain_project, month(-1)))
    assert refused.status_code == 400
    assert f"Only the latest report ({month(0):%Y-%m}) can be corrected" in html(refused)
    posted = client.post(
        correct_page(plain_project, month(-1)),
        correction_data(etag_of(earlier), earned_value="80000"),
    )
    assert posted.status_code == 400
    earlier.refresh_from_db()
    assert (earlier.earned_value, earlier.corrected_at) == (Decimal("100000"), None)
    for period in ("2024-13", "last-month", f"{month(-5):%Y-%m}"):
        assert client.get(page(plain_project, f"reports/{period}/correct/")).status_code == 404
    assert not AuditEvent.objects.filter(verb="project.report_corrected").exists()


@pytest.mark.parametrize("role", ["cqo", "reviewer"])
def test_only_the_owning_unit_corrects(request, login_as, bu_member, plain_project, role):
    """The CQO and a reviewer of Quality HQ (another unit) see the project, not correct it."""
    latest = report(plain_project, bu_member, month(0))
    client = login_as(request.getfixturevalue(role))
    assert count_testid(client.get(page(plain_project)), "correct-report") == 0
    assert client.get(correct_page(plain_project, month(0))).status_code == 403
    response = client.post(
        correct_page(plain_project, month(0)), correction_data(etag_of(latest), earned_value="1")
    )
    assert response.status_code == 403
    assert count_testid(response, "refusal") == 1
    assert "Only the owning unit may correct its project&#x27;s reports." in html(response)
    latest.refresh_from_db()
    assert (latest.earned_value, latest.corrected_at) == (Decimal("100000"), None)
    assert not AuditEvent.objects.filter(verb="project.report_corrected").exists()


def test_another_unit_that_cannot_see_the_project_finds_no_correction_page(
    login_as, bu_member, other_bu_member, plain_project
):
    latest = report(plain_project, bu_member, month(0))
    client = login_as(other_bu_member)
    assert client.get(correct_page(plain_project, month(0))).status_code == 404
    response = client.post(correct_page(plain_project, month(0)), correction_data(etag_of(latest)))
    assert response.status_code == 404
    latest.refresh_from_db()
    assert latest.corrected_at is None


def test_a_correction_over_a_newer_one_is_refused(login_as, bu_member, bu_head, plain_project):
    latest = report(plain_project, bu_member, month(0))
    client = login_as(bu_member)
    stale = version_on(html(client.get(correct_page(plain_project, month(0)))))
    services.correct_report(
        actor=bu_head,
        report=latest,
        reason="Actual cost left out the licences.",
        planned_value=Decimal("100000"),
        earned_value=Decimal("100000"),
        actual_cost=Decimal("120000"),
        percent_complete=10,
    )
    response = client.post(
        correct_page(plain_project, month(0)), correction_data(stale, earned_value="80000")
    )
    assert response.status_code == 412
    assert count_testid(response, "form-errors") == 1
    assert "Someone changed this report while you were reading it" in html(response)
    blind = client.post(correct_page(plain_project, month(0)), correction_data(""))
    assert blind.status_code == 412  # no version read: refused, never applied blind
    latest.refresh_from_db()
    assert (latest.earned_value, latest.actual_cost) == (Decimal("100000"), Decimal("120000"))
    assert latest.corrected_by == bu_head
    assert AuditEvent.objects.filter(verb="project.report_corrected").count() == 1


def test_a_correction_without_a_reason_or_a_change_comes_back_into_the_form(
    login_as, bu_member, plain_project
):
    latest = report(plain_project, bu_member, month(0))
    client = login_as(bu_member)
    url = correct_page(plain_project, month(0))
    blank = client.post(url, correction_data(etag_of(latest), earned_value="80000", reason=" "))
    assert blank.status_code == 400
    assert count_testid(blank, "error-reason") == 1
    unchanged = client.post(url, correction_data(etag_of(latest)))
    assert unchanged.status_code == 400
    assert "These are the figures already reported." in html(unchanged)
    latest.refresh_from_db()
    assert (latest.earned_value, latest.corrected_at) == (Decimal("100000"), None)
    assert not AuditEvent.objects.filter(verb="project.report_corrected").exists()


BUTTONS = {
    # role: (report, advance, review, release) on a project in planning
    "bu_member": (True, True, False, False),
    "bu_head": (True, True, False, False),
    "reviewer": (False, False, True, False),
    "own_unit_reviewer": (True, True, False, False),  # a member of the unit, never its reviewer
    "cqo": (False, False, False, False),
    "auditor": (False, False, False, False),
}


@pytest.mark.parametrize("role", list(BUTTONS))
def test_each_role_sees_only_the_buttons_it_may_press(request, login_as, project, role):
    response = login_as(request.getfixturevalue(role)).get(page(project))
    assert response.status_code == 200
    shown = tuple(
        count_testid(response, f"{name}-button") == 1
        for name in ("report", "advance", "review", "release")
    )
    assert shown == BUTTONS[role]


def test_the_release_gate_is_offered_to_the_cqo_only_in_test(
    login_as, bu_member, cqo, plain_project
):
    client = login_as(cqo)
    assert count_testid(client.get(page(plain_project)), "release-button") == 0
    to_test(plain_project, bu_member)
    assert count_testid(client.get(page(plain_project)), "release-button") == 1


def test_another_units_project_is_a_404(login_as, other_bu_member, project):
    client = login_as(other_bu_member)
    for tail in ("", "report/", "review/", "release/"):
        assert client.get(page(project, tail)).status_code == 404
    assert client.post(page(project, "advance/"), {"version": etag_of(project)}).status_code == 404
    assert client.post(page(project, "report/"), report_data(month(0))).status_code == 404
    assert not QualityReport.objects.exists()


def test_the_project_page_costs_the_same_queries_for_2_and_8_reports(
    login_as, bu_member, reviewer, plain_project
):
    def reviewed(findings: int) -> None:
        services.record_review(
            actor=reviewer,
            project=plain_project,
            checklist={**CHECKLIST_YES, "test_plan": "no"},
            verdict="passed_with_findings",
            summary="Test plan misses concurrency.",
            findings=[
                services.Work(title=f"Add concurrency tests {n}", due_on=month(2))
                for n in range(findings)
            ],
        )

    client = login_as(bu_member)
    for offset in (-9, -8):
        report(plain_project, bu_member, month(offset))
    reviewed(1)
    few = queries_for(client, page(plain_project))
    for offset in range(-7, -1):
        latest = report(plain_project, bu_member, month(offset), earned_value=Decimal("50000"))
    services.correct_report(  # a corrected row names who corrected it
        actor=bu_member,
        report=latest,
        reason="EV was understated.",
        planned_value=Decimal("100000"),
        earned_value=Decimal("60000"),
        actual_cost=Decimal("100000"),
        percent_complete=10,
    )
    reviewed(3)
    reviewed(2)
    many = queries_for(client, page(plain_project))
    assert few == many, f"{few} queries with 2 reports and a review, {many} with 8 and three"
    assert many <= 25  # one check of who sees the project serves every read of its records


# --- Moving on -------------------------------------------------------------------------------


def test_a_personal_data_project_without_a_review_is_refused_and_stays(
    login_as, bu_member, project
):
    client = login_as(bu_member)
    shown = html(client.get(page(project)))
    assert "An independent review of this phase must have passed first." in shown
    response = client.post(page(project, "advance/"), {"version": etag_of(project)})
    assert response.status_code == 400
    assert count_testid(response, "refusal") == 1
    assert "cannot leave planning without an independent planning-stage review" in html(response)
    project.refresh_from_db()
    assert project.phase == "planning"


def test_after_a_passed_review_the_unit_moves_it_on(login_as, bu_member, reviewer, project):
    services.record_review(
        actor=reviewer, project=project, checklist=CHECKLIST_YES, verdict="passed", summary="OK"
    )
    client = login_as(bu_member)
    shown = html(client.get(page(project)))
    assert count_testid_in(shown, "advance-button") == 1
    response = client.post(page(project, "advance/"), {"version": version_on(shown)})
    assert response.status_code == 302
    project.refresh_from_db()
    assert project.phase == "design"
    assert "moved on to design" in html(client.get(page(project)))
    assert AuditEvent.objects.filter(verb="project.phase_advanced").count() == 1


def test_a_stale_page_is_told_and_does_not_move_the_project_twice(
    login_as, bu_member, bu_head, plain_project
):
    stale = etag_of(plain_project)
    services.advance_phase(actor=bu_head, project=plain_project)  # someone else moved it
    client = login_as(bu_member)
    response = client.post(page(plain_project, "advance/"), {"version": stale})
    assert response.status_code == 302
    plain_project.refresh_from_db()
    assert plain_project.phase == "design"
    assert "Someone changed this project while you were reading it" in html(
        client.get(response["Location"])
    )
    missing = client.post(page(plain_project, "advance/"), {})
    assert missing.status_code == 412  # no version read: refused, never applied blind
    plain_project.refresh_from_db()
    assert plain_project.phase == "design"


def test_only_the_owning_unit_moves_it_on(login_as, cqo, plain_project):
    response = login_as(cqo).post(
        page(plain_project, "advance/"), {"version": etag_of(plain_project)}
    )
    assert response.status_code == 403
    assert "Only the owning unit may move its project on." in html(response)
    plain_project.refresh_from_db()
    assert plain_project.phase == "planning"


# --- Reviews ---------------------------------------------------------------------------------


def test_a_reviewer_records_a_review_whose_finding_becomes_an_action(
    login_as, reviewer, bu_member, unit, project
):
    client = login_as(reviewer)
    form = client.get(page(project, "review/"))
    assert form.status_code == 200
    assert count_testid(form, "checklist-item") == len(CHECKLIST_YES)
    assert count_testid(form, "work-row") == 5
    response = client.post(
        page(project, "review/"),
        {
            **checklist({**CHECKLIST_YES, "transaction_uniqueness": "no"}),
            "verdict": "passed_with_findings",
            "summary": "Retries may issue a second certificate.",
            **work_rows(
                "findings",
                {
                    "title": "Bind each request to one resident",
                    "due_on": in_days(30),
                    "description": "Idempotency key per request.",
                },
            ),
        },
    )
    assert response.status_code == 302
    recorded = Review.objects.get()
    assert (recorded.reviewer, recorded.verdict) == (reviewer, "passed_with_findings")
    assert recorded.checklist["transaction_uniqueness"] == "no"
    action = Action.objects.get()  # the four blank rows were ignored
    assert (action.origin_project, action.unit, action.domain) == (project, unit, "quality")
    assert action.title == "Bind each request to one resident"
    shown = login_as(bu_member).get(page(project))
    assert f'data-testid="action-row" data-reference="{action.reference}"' in html(shown)
    # The review says which action its finding became, linked for the unit that does it.
    became = html(shown).split('data-testid="findings-became"')[1].split("</p>")[0]
    assert f'data-reference="{action.reference}"><a href="/actions/{action.pk}/"' in became
    assert 'data-testid="review" data-phase="planning" data-verdict="passed_with_findings"' in (
        html(shown)
    )
    assert count_testid(shown, "answer") == len(CHECKLIST_YES)


def test_the_services_refusals_of_a_review_come_back_into_the_form(login_as, reviewer, project):
    client = login_as(reviewer)
    base = {**checklist({**CHECKLIST_YES, "test_plan": "no"}), "summary": "Gaps."}
    response = client.post(
        page(project, "review/"), {**base, "verdict": "passed", **work_rows("findings")}
    )
    assert response.status_code == 400
    assert count_testid(response, "error-verdict") == 1
    assert "An item answered no is a finding" in html(response)
    response = client.post(
        page(project, "review/"),
        {**base, "verdict": "passed_with_findings", **work_rows("findings")},
    )
    assert response.status_code == 400
    assert count_testid(response, "error-findings") == 1
    response = client.post(
        page(project, "review/"),
        {
            **base,
            "verdict": "passed_with_findings",
            **work_rows("findings", {"title": "Late", "due_on": in_days(-1)}),
        },
    )
    assert response.status_code == 400
    assert "Item 1 is due in the past." in html(response)
    unanswered = client.post(
        page(project, "review/"),
        {"verdict": "passed", "summary": "x", **work_rows("findings")},
    )
    assert unanswered.status_code == 400
    assert count_testid(unanswered, "error-check_fail_safe_design") == 1
    assert not Review.objects.exists()
    assert not Action.objects.exists()


def test_a_conformance_check_after_planning_asks_the_conformance_items(
    login_as, reviewer, bu_member, plain_project
):
    services.advance_phase(actor=bu_member, project=plain_project)
    response = login_as(reviewer).get(page(plain_project, "review/"))
    assert count_testid(response, "checklist-item") == len(CONFORMANCE_YES)
    assert 'data-item="check_follows_plan"' in html(response)


@pytest.mark.parametrize("role", ["own_unit_reviewer", "bu_member", "cqo"])
def test_a_review_from_the_projects_own_unit_or_a_non_reviewer_is_refused(
    request, login_as, project, role
):
    client = login_as(request.getfixturevalue(role))
    assert client.get(page(project, "review/")).status_code == 403
    response = client.post(
        page(project, "review/"),
        {
            **checklist(CHECKLIST_YES),
            "verdict": "passed",
            "summary": "Looks fine to me.",
            **work_rows("findings"),
        },
    )
    assert response.status_code == 403
    assert count_testid(response, "refusal") == 1
    assert "Only a quality reviewer from a unit other than PUBSEC" in html(response)
    assert not Review.objects.exists()


# --- The release gate ------------------------------------------------------------------------


def test_a_red_project_is_released_only_with_an_override_reason(
    login_as, cqo, bu_member, plain_project
):
    to_test(plain_project, bu_member)
    report(plain_project, bu_member, month(0), earned_value=Decimal("50000"))
    client = login_as(cqo)
    form = client.get(page(plain_project, "release/"))
    assert form.status_code == 200
    assert count_testid(form, "release-caution") == 1
    assert "Required to release this project" in html(form)
    assert "The project is rated red: record why it is released all the same." in html(form)
    decision = {"outcome": "approved", "reason": "Fixes verified in staging."}
    response = client.post(page(plain_project, "release/"), {**decision, **work_rows("conditions")})
    assert response.status_code == 400
    assert count_testid(response, "error-override_reason") == 1
    assert "The project is rated red: record why it is released all the same." in html(response)
    plain_project.refresh_from_db()
    assert plain_project.phase == "test"
    assert not ReleaseDecision.objects.exists()

    response = client.post(
        page(plain_project, "release/"),
        {**decision, "override_reason": "Legal deadline.", **work_rows("conditions")},
    )
    assert response.status_code == 302
    plain_project.refresh_from_db()
    assert plain_project.phase == "release"
    made = ReleaseDecision.objects.get()
    assert (made.decided_by, made.decided_office, made.rag_at_decision) == (cqo, "CQO", "red")
    shown = client.get(page(plain_project))
    assert 'data-testid="release-decision" data-outcome="approved"' in html(shown)
    assert count_testid(shown, "override-reason") == 1
    assert count_testid(shown, "release-button") == 0  # released: the gate is behind it


def test_the_gate_asks_an_override_reason_of_a_project_never_reported(
    login_as, cqo, bu_member, plain_project
):
    for _ in range(3):
        services.advance_phase(actor=bu_member, project=plain_project)
    client = login_as(cqo)
    form = client.get(page(plain_project, "release/"))
    assert count_testid(form, "release-caution") == 1
    assert "The project has no quality report" in html(form)
    response = client.post(
        page(plain_project, "release/"),
        {"outcome": "approved", "reason": "Hotfix.", **work_rows("conditions")},
    )
    assert response.status_code == 400
    assert count_testid(response, "error-override_reason") == 1
    assert not ReleaseDecision.objects.exists()


def test_conditions_of_a_release_become_actions(login_as, cqo, bu_member, plain_project):
    to_test(plain_project, bu_member)
    client = login_as(cqo)
    url = page(plain_project, "release/")
    decision = {"outcome": "approved_with_conditions", "reason": "Good enough."}
    with unchanged(ReleaseDecision, Action, plain_project):
        missing = client.post(url, {**decision, **work_rows("conditions")})
    assert missing.status_code == 400
    assert count_testid(missing, "error-conditions") == 1
    assert "Give the conditions of the release." in html(missing)
    response = client.post(
        url,
        {
            **decision,
            **work_rows(
                "conditions",
                {"title": "Monitor error rates", "due_on": in_days(14)},
                {},
                {"title": "Load test at peak", "due_on": in_days(30)},
            ),
        },
    )
    assert response.status_code == 302
    assert sorted(
        Action.objects.filter(origin_project=plain_project).values_list("title", flat=True)
    ) == [
        "Load test at peak",
        "Monitor error rates",
    ]
    shown = html(client.get(page(plain_project)))
    became = shown.split('data-testid="conditions-became"')[1].split("</div>")[0]
    made = Action.objects.filter(origin_project=plain_project).order_by("due_on", "pk")
    assert re.findall(r'data-reference="([^"]+)"', became) == [a.reference for a in made]


@pytest.mark.parametrize("role", ["bu_member", "reviewer", "ciso"])
def test_only_the_cqo_or_chair_reaches_the_gate(request, login_as, bu_member, plain_project, role):
    to_test(plain_project, bu_member)
    client = login_as(request.getfixturevalue(role))
    assert client.get(page(plain_project, "release/")).status_code == 403
    response = client.post(
        page(plain_project, "release/"),
        {"outcome": "approved", "reason": "Ship it.", **work_rows("conditions")},
    )
    assert response.status_code == 403
    assert "Only the CQO (or the chair) decides a release." in html(response)
    plain_project.refresh_from_db()
    assert plain_project.phase == "test"


# --- Thresholds ------------------------------------------------------------------------------


def threshold_data(**changes: str) -> dict[str, str]:
    """The whole table as read, with some cells changed."""
    data = {}
    for threshold in Threshold.objects.all():
        data[f"{threshold.indicator}_green"] = str(threshold.green)
        data[f"{threshold.indicator}_red"] = str(threshold.red)
        data[f"{threshold.indicator}_version"] = etag_of(threshold)
    data.update(changes)
    return data


def test_everyone_signed_in_reads_the_thresholds_but_only_the_cqo_edits(login_as, bu_member, cqo):
    read = login_as(bu_member).get(THRESHOLDS)
    assert read.status_code == 200
    assert count_testid(read, "threshold-row") == 7
    assert count_testid(read, "thresholds-form") == 0
    assert "Higher is better: green at 0.95 or above, red below 0.85." in html(read)
    edit = login_as(cqo).get(THRESHOLDS)
    assert count_testid(edit, "thresholds-form") == 1
    assert 'name="spi_green" value="0.95"' in html(edit)


def test_the_cqo_changes_a_threshold(login_as, cqo):
    client = login_as(cqo)
    response = client.post(THRESHOLDS, threshold_data(spi_green="0.9", spi_red="0.8"))
    assert response.status_code == 302
    spi = Threshold.objects.get(indicator="spi")
    assert (spi.green, spi.red, spi.updated_by) == (Decimal("0.9"), Decimal("0.8"), cqo)
    assert AuditEvent.objects.filter(verb="quality.threshold_set").count() == 1  # that row only
    assert "Thresholds changed: Schedule performance index (SPI)." in html(
        client.get(response["Location"])
    )


def test_a_bad_row_saves_nothing_and_says_where(login_as, cqo):
    response = login_as(cqo).post(
        THRESHOLDS, threshold_data(cpi_green="0.9", spi_green="0.5", spi_red="0.8")
    )
    assert response.status_code == 400
    assert count_testid(response, "error-spi_green") == 1
    assert "higher is better: green must not be below red" in html(response)
    assert Threshold.objects.get(indicator="cpi").green == Decimal("0.95")  # rolled back too
    assert not AuditEvent.objects.filter(verb="quality.threshold_set").exists()


def test_a_threshold_changed_meanwhile_is_not_overwritten(login_as, cqo, chair):
    read = threshold_data(spi_green="0.9", spi_red="0.8")  # the CQO's table, as read
    services.set_threshold(actor=chair, indicator="spi", green=Decimal("0.97"), red=Decimal("0.9"))
    response = login_as(cqo).post(THRESHOLDS, read)
    assert response.status_code == 400
    assert "Someone changed the thresholds while you were reading them" in html(response)
    assert Threshold.objects.get(indicator="spi").green == Decimal("0.97")  # the chair's stands


def test_a_unit_member_may_not_set_thresholds(login_as, bu_member):
    response = login_as(bu_member).post(THRESHOLDS, threshold_data(spi_green="0.1", spi_red="0"))
    assert response.status_code == 403
    assert "Only the CQO (or the chair) sets quality thresholds." in html(response)
    assert Threshold.objects.get(indicator="spi").green == Decimal("0.95")


def test_the_agenda_links_to_the_project_page(login_as, cqo, project):
    """The committee agenda's link resolves to this page (quality:project takes one pk)."""
    assert reverse("quality:project", args=[project.pk]) == page(project)
    assert login_as(cqo).get(page(project)).status_code == 200


def test_the_reviewer_follows_up_their_findings_on_the_project_page(
    login_as, reviewer, project, bu_member
):
    services.record_review(
        actor=reviewer,
        project=project,
        checklist={**CHECKLIST_YES, "fail_safe_design": "no"},
        verdict="passed_with_findings",
        summary="Issuing goes on when the lookup fails.",
        findings=[
            services.Work(
                title="Stop issuing when the lookup fails",
                due_on=timezone.localdate() + dt.timedelta(days=30),
            )
        ],
    )
    finding = Action.objects.get(origin_project=project)
    seen = html(login_as(reviewer).get(page(project)))
    assert f'data-reference="{finding.reference}"' in seen
    # Listed for the reviewer, who sees every project, but not opened: the unit's action.
    assert reverse("actions:action", args=[finding.pk]) not in seen
    member_sees = html(login_as(bu_member).get(page(project)))
    assert reverse("actions:action", args=[finding.pk]) in member_sees
