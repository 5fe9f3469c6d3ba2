"""Quality control in Debian's chromium: an independent reviewer records a planning-stage
review whose finding becomes the unit's action, the CQO releases a red project only once an
override reason is given, and a unit corrects a mistyped report."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.utils import timezone

from actions.models import Action
from quality import services
from quality.models import Phase, QualityFlag, ReleaseDecision
from tests.browser.test_workflows import csp_violations, shot, signed_in
from tests.quality.conftest import CHECKLIST_YES, make_project, month, quality_hq, report, reviewer
from tests.systems.conftest import register

pytestmark = pytest.mark.django_db(transaction=True)
__all__ = ["quality_hq", "reviewer"]  # the quality suite's fixtures, used here too


def test_a_reviewer_records_a_planning_stage_review_with_a_finding(
    browser, live_server, unit, bu_member, reviewer
):
    system = register(unit, "resident-cert", handles_personal_data=True)
    project = make_project(unit, bu_member, system)
    page = signed_in(browser, live_server, reviewer)
    page.goto(f"/projects/{project.pk}/")
    page.get_by_test_id("review-button").click()
    page.get_by_test_id("review-form").wait_for()
    for key in CHECKLIST_YES:
        answer = "no" if key == "transaction_uniqueness" else "yes"
        page.check(f"input[name=check_{key}][value='{answer}']")
    page.check("input[name=verdict][value=passed_with_findings]")
    page.fill("textarea[name=summary]", "A retry can print another resident's certificate.")
    due = (timezone.localdate() + dt.timedelta(days=21)).isoformat()
    page.fill("input[name=findings-0-title]", "Bind each print job to one request")
    page.fill("input[name=findings-0-due_on]", due)
    shot(page, "quality-review-form")
    page.get_by_test_id("review-submit").click()
    page.wait_for_url(re.compile(rf"/projects/{project.pk}/$"))
    finding = Action.objects.get(origin_project=project)
    assert finding.title == "Bind each print job to one request"
    assert finding.unit == unit
    page.get_by_test_id("review").first.wait_for()
    assert finding.reference in page.get_by_test_id("project-actions").inner_text()
    assert csp_violations(page) == []


def test_the_cqo_releases_a_red_project_only_with_an_override_reason(
    browser, live_server, unit, bu_member, cqo
):
    system = register(unit, "intranet-wiki")
    project = make_project(unit, bu_member, system)
    while project.phase != Phase.TEST:
        project = services.advance_phase(actor=bu_member, project=project)
    report(project, bu_member, month(0), earned_value=Decimal("50000"))  # SPI 0.5: red
    page = signed_in(browser, live_server, cqo)
    page.goto(f"/projects/{project.pk}/")
    assert page.locator("[data-testid=evm] svg").count() == 1
    page.get_by_test_id("release-button").click()
    page.wait_for_url(re.compile(rf"/projects/{project.pk}/release/$"))
    shot(page, "quality-release-red")
    page.get_by_test_id("release-caution").wait_for()
    page.check("input[name=outcome][value=approved]")
    page.fill("textarea[name=reason]", "The statutory deadline.")
    page.get_by_test_id("release-submit").click()
    page.get_by_test_id("error-override_reason").wait_for()
    assert not ReleaseDecision.objects.exists()
    page.fill("textarea[name=override_reason]", "The law takes effect on the 1st.")
    shot(page, "quality-release-form")
    page.get_by_test_id("release-submit").click()
    page.wait_for_url(re.compile(rf"/projects/{project.pk}/$"))
    page.get_by_test_id("override-reason").wait_for()
    project.refresh_from_db()
    assert project.phase == Phase.RELEASE
    assert ReleaseDecision.objects.get().override_reason == "The law takes effect on the 1st."
    assert csp_violations(page) == []


def test_a_unit_corrects_a_mistyped_report_and_the_flag_it_raised_clears(
    browser, live_server, unit, bu_member
):
    system = register(unit, "intranet-wiki")
    project = make_project(unit, bu_member, system)
    for offset in (-3, -2, -1):  # on plan, then
        report(
            project,
            bu_member,
            month(offset),
            planned_value=Decimal(25000 * (offset + 4)),
            earned_value=Decimal(25000 * (offset + 4)),
            actual_cost=Decimal(24000 * (offset + 4)),
        )
    report(project, bu_member, month(0), earned_value=Decimal("10000"))  # a zero too few
    assert QualityFlag.objects.get().cleared_at is None
    page = signed_in(browser, live_server, bu_member)
    page.goto(f"/projects/{project.pk}/")
    page.get_by_test_id("correct-report").click()
    page.get_by_test_id("correct-form").wait_for()
    assert page.input_value("input[name=earned_value]") == "10000"  # the figures as reported
    page.fill("input[name=earned_value]", "100000")
    page.fill("textarea[name=reason]", "EV was typed with a zero too few.")
    shot(page, "quality-correct-report")
    page.get_by_test_id("correct-submit").click()
    page.wait_for_url(re.compile(rf"/projects/{project.pk}/$"))
    page.get_by_test_id("corrected").wait_for()
    row = page.locator("[data-testid=report-row]").first
    assert row.get_attribute("data-rag") == "green"
    assert QualityFlag.objects.get().cleared_at is not None
    assert page.locator("[data-testid=report-row]").count() == 4
    shot(page, "quality-project")
    assert csp_violations(page) == []
