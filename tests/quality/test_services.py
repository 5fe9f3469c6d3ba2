"""Quality services: segregation of reviews and gates, phases, reports, ratings and flags."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import Domain
from actions.models import Action
from audit import services as audit
from audit.models import AuditEvent
from config.errors import Conflict, PreconditionFailed
from config.versioning import etag_of
from outbox.models import Message
from quality import services
from quality.models import Phase, Project, QualityFlag, Rag, ReleaseDecision, Review, Threshold
from quality.services import Work
from quality.tasks import notify_flag
from tests.quality.conftest import (
    CHECKLIST_YES,
    CONFORMANCE_YES,
    make_project,
    month,
    report,
    to_test,
)

pytestmark = pytest.mark.django_db

IN_A_MONTH = timezone.localdate() + dt.timedelta(days=30)


# --- Registering ----------------------------------------------------------------------------


def test_a_project_on_a_system_with_personal_data_handles_it_whatever_it_says(project, system):
    assert system.handles_personal_data
    assert project.handles_personal_data
    assert project.phase == Phase.PLANNING
    assert project.reference.startswith("PRJ-")
    assert AuditEvent.objects.filter(verb="project.registered").exists()


def test_another_unit_may_not_register_a_project_for_a_unit(unit, other_bu_member, system):
    with pytest.raises(PermissionDenied):
        make_project(unit, other_bu_member, system)


def test_a_project_needs_a_system_its_unit_can_see(other_unit, other_bu_member, system):
    with pytest.raises(ValidationError) as refused:
        make_project(other_unit, other_bu_member, system)
    assert "system" in refused.value.message_dict


def test_a_project_finishes_after_it_starts(unit, bu_member, plain_system):
    today = timezone.localdate()
    with pytest.raises(ValidationError):
        make_project(
            unit,
            bu_member,
            plain_system,
            planned_start=today,
            planned_finish=today - dt.timedelta(days=1),
        )


# --- Phases and the independent review ----------------------------------------------------


def test_a_project_with_personal_data_cannot_leave_planning_unreviewed(project, bu_member):
    with pytest.raises(ValidationError) as refused:
        services.advance_phase(actor=bu_member, project=project)
    assert "planning-stage review" in str(refused.value)
    project.refresh_from_db()
    assert project.phase == Phase.PLANNING


def test_a_failed_review_does_not_let_it_leave(project, bu_member, reviewer):
    services.record_review(
        actor=reviewer,
        project=project,
        checklist={**CHECKLIST_YES, "transaction_uniqueness": "no"},
        verdict="failed",
        summary="Certificates are issued without binding the request to one resident.",
    )
    with pytest.raises(ValidationError) as refused:
        services.advance_phase(actor=bu_member, project=project)
    assert "latest review failed" in str(refused.value)


def test_a_passed_planning_review_lets_it_into_design_and_design_needs_its_own_check(
    project, bu_member, reviewer
):
    services.record_review(
        actor=reviewer, project=project, checklist=CHECKLIST_YES, verdict="passed", summary="ok"
    )
    project = services.advance_phase(actor=bu_member, project=project)
    assert project.phase == Phase.DESIGN
    with pytest.raises(ValidationError) as refused:
        services.advance_phase(actor=bu_member, project=project)
    assert "follows the plan" in str(refused.value)
    services.record_review(
        actor=reviewer, project=project, checklist=CONFORMANCE_YES, verdict="passed", summary="ok"
    )
    assert services.advance_phase(actor=bu_member, project=project).phase == Phase.BUILD
    event = AuditEvent.objects.filter(verb="project.phase_advanced").latest("pk")
    assert event.details == {"from": "design", "to": "build"}


def test_a_project_without_personal_data_moves_freely_but_not_into_release(
    plain_project, bu_member
):
    project = to_test(plain_project, bu_member)
    assert project.phase == Phase.TEST
    with pytest.raises(ValidationError) as refused:
        services.advance_phase(actor=bu_member, project=project)
    assert "release gate" in str(refused.value)


def test_only_the_owning_unit_moves_a_project(plain_project, other_bu_member, cqo):
    for outsider in (other_bu_member, cqo):
        with pytest.raises(PermissionDenied):
            services.advance_phase(actor=outsider, project=plain_project)


def test_a_stale_version_is_refused(plain_project, bu_member):
    stale = etag_of(plain_project)
    services.advance_phase(actor=bu_member, project=plain_project)
    with pytest.raises(PreconditionFailed):
        services.advance_phase(actor=bu_member, project=plain_project, expected_version=stale)


def test_a_reviewer_from_the_projects_own_unit_is_refused(project, own_unit_reviewer):
    with pytest.raises(PermissionDenied) as refused:
        services.record_review(
            actor=own_unit_reviewer,
            project=project,
            checklist=CHECKLIST_YES,
            verdict="passed",
            summary="ok",
        )
    assert "independent" in str(refused.value)
    assert not Review.objects.exists()


@pytest.mark.parametrize("who", ["cqo", "bu_member", "other_bu_member", "auditor"])
def test_only_quality_reviewers_review(request, project, who):
    with pytest.raises(PermissionDenied):
        services.record_review(
            actor=request.getfixturevalue(who),
            project=project,
            checklist=CHECKLIST_YES,
            verdict="passed",
            summary="ok",
        )


def test_every_checklist_item_is_answered(project, reviewer):
    answers = dict(CHECKLIST_YES)
    del answers["fail_safe_design"]
    with pytest.raises(ValidationError) as refused:
        services.record_review(
            actor=reviewer, project=project, checklist=answers, verdict="passed", summary="ok"
        )
    assert "fail_safe_design" in str(refused.value.message_dict["checklist"])


def test_an_item_answered_no_cannot_simply_pass(project, reviewer):
    with pytest.raises(ValidationError) as refused:
        services.record_review(
            actor=reviewer,
            project=project,
            checklist={**CHECKLIST_YES, "fail_safe_design": "no"},
            verdict="passed",
            summary="ok",
        )
    assert "verdict" in refused.value.message_dict


def test_findings_become_quality_actions_for_the_projects_unit(project, reviewer, unit, cqo):
    review = services.record_review(
        actor=reviewer,
        project=project,
        checklist={**CHECKLIST_YES, "fail_safe_design": "no"},
        verdict="passed_with_findings",
        summary="Issuing continues when the resident lookup fails.",
        findings=[Work(title="Stop issuing when the resident lookup fails", due_on=IN_A_MONTH)],
    )
    [action] = Action.objects.filter(origin_project=project)
    assert action.unit == unit
    assert action.domain == Domain.QUALITY  # the CQO verifies it
    assert action.system_id == project.system_id
    assert action.issued_by == reviewer
    event = AuditEvent.objects.get(verb="project.reviewed")
    assert event.details["verdict"] == "passed_with_findings"
    assert event.details["findings"] == [action.reference]
    assert review.phase == Phase.PLANNING
    assert list(review.findings.all()) == [action]  # the review names what it became


def test_passing_with_findings_needs_findings(project, reviewer):
    with pytest.raises(ValidationError) as refused:
        services.record_review(
            actor=reviewer,
            project=project,
            checklist=CHECKLIST_YES,
            verdict="passed_with_findings",
            summary="ok",
        )
    assert "findings" in refused.value.message_dict


# --- The release gate ------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["bu_member", "bu_head", "ciso", "reviewer", "auditor"])
def test_a_release_is_decided_by_the_cqo_or_chair_only(request, plain_project, bu_member, who):
    project = to_test(plain_project, bu_member)
    with pytest.raises(PermissionDenied):
        services.decide_release(
            actor=request.getfixturevalue(who), project=project, outcome="approved", reason="ok"
        )
    project.refresh_from_db()
    assert project.phase == Phase.TEST
    assert not ReleaseDecision.objects.exists()


def test_the_cqo_holds_and_then_approves(plain_project, bu_member, cqo):
    project = to_test(plain_project, bu_member)
    held = services.decide_release(actor=cqo, project=project, outcome="held", reason="Not yet")
    project.refresh_from_db()
    assert project.phase == Phase.TEST
    assert held.decided_office == "CQO"
    services.decide_release(actor=cqo, project=project, outcome="approved", reason="Ready")
    project.refresh_from_db()
    assert project.phase == Phase.RELEASE
    events = AuditEvent.objects.filter(verb="project.release_decided").order_by("pk")
    assert [e.details["outcome"] for e in events] == ["held", "approved"]
    assert {e.office for e in events} == {"CQO"}


def test_the_chair_may_decide_a_release(plain_project, bu_member, chair):
    project = to_test(plain_project, bu_member)
    decision = services.decide_release(
        actor=chair, project=project, outcome="approved", reason="ok"
    )
    assert decision.decided_office == "CEO"


def test_only_a_project_in_test_comes_to_the_gate(plain_project, cqo):
    with pytest.raises(ValidationError) as refused:
        services.decide_release(actor=cqo, project=plain_project, outcome="approved", reason="ok")
    assert "phase" in refused.value.message_dict


def test_a_red_project_is_released_only_with_an_override_reason(plain_project, bu_member, cqo):
    project = to_test(plain_project, bu_member)
    report(project, bu_member, month(0), earned_value=Decimal("50000"))  # SPI 0.5: red
    project.refresh_from_db()
    assert project.rag == Rag.RED
    with pytest.raises(ValidationError) as refused:
        services.decide_release(actor=cqo, project=project, outcome="approved", reason="ok")
    assert "override_reason" in refused.value.message_dict
    services.decide_release(actor=cqo, project=project, outcome="held", reason="Red")  # no reason
    decision = services.decide_release(
        actor=cqo,
        project=project,
        outcome="approved",
        reason="Statutory deadline",
        override_reason="The law takes effect on the 1st; the late scope is off by default.",
    )
    assert decision.rag_at_decision == Rag.RED
    assert decision.override_reason.startswith("The law")
    event = AuditEvent.objects.filter(verb="project.release_decided").latest("pk")
    assert event.details["override_reason"] == decision.override_reason


@pytest.mark.parametrize(
    ("reported", "why"),
    [
        ([], "no quality report"),
        ([-3, -2], f"latest quality report is for {month(-2):%Y-%m}"),
    ],
    ids=["never-reported", "reported-two-months-ago"],
)
def test_a_project_not_rated_on_last_months_figures_is_released_only_with_an_override_reason(
    plain_project, bu_member, cqo, reported, why
):
    project = plain_project
    while project.phase != Phase.TEST:
        project = services.advance_phase(actor=bu_member, project=project)
    for offset in reported:
        report(project, bu_member, month(offset))  # green, but old
    project.refresh_from_db()
    assert services.release_caution(project) is not None
    with pytest.raises(ValidationError) as refused:
        services.decide_release(actor=cqo, project=project, outcome="approved", reason="ok")
    assert why in refused.value.message_dict["override_reason"][0]
    services.decide_release(actor=cqo, project=project, outcome="held", reason="Report first")
    decision = services.decide_release(
        actor=cqo,
        project=project,
        outcome="approved",
        reason="Emergency fix",
        override_reason="The fix closes an exposed endpoint; figures follow next month.",
    )
    assert decision.rag_at_decision == project.rag
    project.refresh_from_db()
    assert project.phase == Phase.RELEASE


def test_a_release_without_a_rating_and_no_override_reason_cannot_be_stored(plain_project, cqo):
    with pytest.raises(IntegrityError), transaction.atomic():
        ReleaseDecision.objects.create(
            project=plain_project,
            outcome="approved",
            reason="ok",
            rag_at_decision=Rag.UNRATED,
            decided_by=cqo,
            decided_office="CQO",
            decided_at=timezone.now(),
        )


def test_a_project_rated_green_on_last_months_report_needs_no_override(plain_project, bu_member):
    project = to_test(plain_project, bu_member)
    assert services.release_caution(project) is None


def test_conditions_become_actions(plain_project, bu_member, cqo, unit):
    project = to_test(plain_project, bu_member)
    decision = services.decide_release(
        actor=cqo,
        project=project,
        outcome="approved_with_conditions",
        reason="Ship with a watch",
        conditions=[
            Work(title="Daily reconciliation of issued certificates", due_on=IN_A_MONTH),
            Work(title="Re-run the load test after the first week", due_on=IN_A_MONTH),
        ],
    )
    actions = Action.objects.filter(origin_project=project).order_by("pk")
    assert [a.title for a in actions] == [
        "Daily reconciliation of issued certificates",
        "Re-run the load test after the first week",
    ]
    assert {a.unit_id for a in actions} == {unit.pk}
    assert {a.issued_office for a in actions} == {"CQO"}
    assert list(decision.conditions.order_by("pk")) == list(actions)


def test_conditions_need_the_outcome_that_has_them(plain_project, bu_member, cqo):
    project = to_test(plain_project, bu_member)
    with pytest.raises(ValidationError):
        services.decide_release(
            actor=cqo, project=project, outcome="approved_with_conditions", reason="ok"
        )
    with pytest.raises(ValidationError):
        services.decide_release(
            actor=cqo,
            project=project,
            outcome="approved",
            reason="ok",
            conditions=[Work(title="x", due_on=IN_A_MONTH)],
        )


def test_a_project_with_personal_data_is_released_only_after_its_test_check(
    project, bu_member, reviewer, cqo
):
    project = to_test(project, bu_member, reviewer=reviewer)
    with pytest.raises(ValidationError):
        services.decide_release(actor=cqo, project=project, outcome="approved", reason="ok")
    services.record_review(
        actor=reviewer, project=project, checklist=CONFORMANCE_YES, verdict="passed", summary="ok"
    )
    services.decide_release(actor=cqo, project=project, outcome="approved", reason="ok")
    project.refresh_from_db()
    assert project.phase == Phase.RELEASE


# --- Reports, ratings and flags --------------------------------------------------------------


def test_a_report_is_derived_and_rated_under_the_thresholds(plain_project, bu_member):
    made = report(
        plain_project,
        bu_member,
        month(0),
        planned_value=Decimal("100000"),
        earned_value=Decimal("90000"),
        actual_cost=Decimal("100000"),
    )
    assert made.spi == Decimal("0.9000")
    assert made.cpi == Decimal("0.9000")
    assert made.ratings["spi"] == Rag.AMBER
    assert made.ratings["cpi"] == Rag.AMBER
    assert made.rag == Rag.AMBER
    plain_project.refresh_from_db()
    assert plain_project.rag == Rag.AMBER


def test_the_cqo_sets_the_thresholds_and_new_reports_follow_them(plain_project, bu_member, cqo):
    services.set_threshold(actor=cqo, indicator="spi", green=Decimal("0.9"), red=Decimal("0.8"))
    made = report(plain_project, bu_member, month(0), earned_value=Decimal("90000"))
    assert made.ratings["spi"] == Rag.GREEN
    assert AuditEvent.objects.get(verb="quality.threshold_set").office == "CQO"


def test_thresholds_are_the_cqos(bu_member, ciso):
    for who in (bu_member, ciso):
        with pytest.raises(PermissionDenied):
            services.set_threshold(actor=who, indicator="spi", green=Decimal("1"), red=Decimal("0"))


def test_thresholds_run_the_right_way(cqo):
    with pytest.raises(ValidationError):
        services.set_threshold(actor=cqo, indicator="spi", green=Decimal("0.8"), red=Decimal("0.9"))
    with pytest.raises(ValidationError):
        services.set_threshold(actor=cqo, indicator="eac", green=Decimal("20"), red=Decimal("10"))
    assert Threshold.objects.get(indicator="eac").green == Decimal("5")


def test_a_month_is_reported_once_and_in_order(plain_project, bu_member):
    report(plain_project, bu_member, month(-1))
    with pytest.raises(Conflict):
        report(plain_project, bu_member, month(-1) + dt.timedelta(days=5))  # the same month
    with pytest.raises(ValidationError):
        report(plain_project, bu_member, month(-2))
    with pytest.raises(ValidationError):
        report(plain_project, bu_member, month(1))


def test_only_the_owning_unit_reports(plain_project, other_bu_member, cqo):
    for outsider in (other_bu_member, cqo):
        with pytest.raises(PermissionDenied):
            report(plain_project, outsider, month(0))


def test_a_red_project_is_flagged_once_until_a_healthy_report_clears_it(
    plain_project, bu_member, cqo
):
    report(plain_project, bu_member, month(-3), earned_value=Decimal("50000"))
    [flag] = QualityFlag.objects.all()
    assert flag.red == ["cpi", "cv", "eac", "spi", "sv"]  # half the work for the full cost
    assert Message.objects.filter(task=notify_flag.name, args=[flag.pk]).exists()
    report(plain_project, bu_member, month(-2), earned_value=Decimal("50000"))
    assert QualityFlag.objects.count() == 1  # still red: not raised again
    report(plain_project, bu_member, month(-1))  # healthy
    flag.refresh_from_db()
    assert flag.cleared_at is not None
    report(plain_project, bu_member, month(0), earned_value=Decimal("50000"))
    assert QualityFlag.objects.count() == 2  # in trouble again: a new flag
    assert AuditEvent.objects.filter(verb="project.flagged").count() == 2
    assert AuditEvent.objects.filter(verb="project.flag_cleared").count() == 1


# --- Correcting a report ----------------------------------------------------------------------

HEALTHY: dict[str, Any] = {
    "planned_value": Decimal("100000"),
    "earned_value": Decimal("100000"),
    "actual_cost": Decimal("100000"),
    "percent_complete": 10,
}


def test_the_unit_corrects_its_latest_report_and_the_flag_it_raised_clears(
    plain_project, bu_member
):
    wrong = report(plain_project, bu_member, month(0), earned_value=Decimal("50000"))  # a typo
    [flag] = QualityFlag.objects.all()
    corrected = services.correct_report(
        actor=bu_member,
        report=wrong,
        reason="EV was typed as 50,000 instead of 100,000.",
        expected_version=etag_of(wrong),
        **HEALTHY,
    )
    assert (corrected.pk, corrected.earned_value, corrected.rag) == (
        wrong.pk,
        Decimal("100000"),
        Rag.GREEN,
    )
    assert corrected.spi == Decimal("1.0000")
    assert (corrected.corrected_by, corrected.submitted_by) == (bu_member, bu_member)
    plain_project.refresh_from_db()
    assert plain_project.rag == Rag.GREEN
    flag.refresh_from_db()
    assert (flag.cleared_at, flag.cleared_by_report) == (corrected.corrected_at, corrected)
    event = AuditEvent.objects.get(verb="project.report_corrected")
    assert event.details["changed"] == {"earned_value": ["50000.00", "100000.00"]}
    assert event.details["rag"] == [Rag.RED, Rag.GREEN]
    assert event.details["reason"].startswith("EV was typed")
    first = corrected.history.earliest()
    assert first.earned_value == Decimal("50000")  # what was first reported is kept


def test_a_correction_that_turns_a_report_red_flags_the_project(plain_project, bu_member):
    made = report(plain_project, bu_member, month(0))
    assert not QualityFlag.objects.exists()
    services.correct_report(
        actor=bu_member,
        report=made,
        reason="Cost was under-reported.",
        **HEALTHY | {"actual_cost": Decimal("200000")},
    )
    [flag] = QualityFlag.objects.all()
    assert flag.report_id == made.pk
    assert "cpi" in flag.red
    assert Message.objects.filter(task=notify_flag.name, args=[flag.pk]).exists()


def test_only_the_latest_report_is_corrected(plain_project, bu_member):
    earlier = report(plain_project, bu_member, month(-1))
    report(plain_project, bu_member, month(0))
    with pytest.raises(ValidationError) as refused:
        services.correct_report(actor=bu_member, report=earlier, reason="x", **HEALTHY)
    assert f"latest report ({month(0):%Y-%m})" in refused.value.message_dict["period"][0]


def test_a_correction_is_the_units_with_a_reason_a_change_and_the_current_version(
    plain_project, bu_member, other_bu_member, cqo
):
    made = report(plain_project, bu_member, month(0))
    for outsider in (other_bu_member, cqo):
        with pytest.raises(PermissionDenied):
            services.correct_report(actor=outsider, report=made, reason="x", **HEALTHY)
    with pytest.raises(ValidationError) as refused:
        services.correct_report(actor=bu_member, report=made, reason=" ", **HEALTHY)
    assert "reason" in refused.value.message_dict
    with pytest.raises(ValidationError) as refused:
        services.correct_report(actor=bu_member, report=made, reason="Same", **HEALTHY)
    assert "__all__" in refused.value.message_dict
    stale = etag_of(made)
    services.correct_report(
        actor=bu_member,
        report=made,
        reason="Tests",
        expected_version=stale,
        **HEALTHY | {"tests_planned": 10},
    )
    with pytest.raises(PreconditionFailed):
        services.correct_report(
            actor=bu_member, report=made, reason="Again", expected_version=stale, **HEALTHY
        )
    made.refresh_from_db()
    assert made.tests_planned == 10
    assert AuditEvent.objects.filter(verb="project.report_corrected").count() == 1


def test_a_correction_to_red_of_the_report_that_cleared_a_flag_reopens_it(plain_project, bu_member):
    report(plain_project, bu_member, month(-1), earned_value=Decimal("50000"))
    healthy = report(plain_project, bu_member, month(0))
    [flag] = QualityFlag.objects.all()
    assert flag.cleared_by_report == healthy
    mails = Message.objects.filter(task=notify_flag.name).count()
    services.correct_report(
        actor=bu_member,
        report=healthy,
        reason="Cost was missed.",
        **HEALTHY | {"actual_cost": Decimal("200000")},
    )
    [flag] = QualityFlag.objects.all()  # the same flag, not a second one
    assert (flag.cleared_at, flag.cleared_by_report) == (None, None)
    assert Message.objects.filter(task=notify_flag.name).count() == mails  # no second mail
    assert AuditEvent.objects.filter(verb="project.flag_reopened").count() == 1


def test_a_flag_raised_by_a_corrected_report_says_what_it_says_now(plain_project, bu_member):
    made = report(plain_project, bu_member, month(0), earned_value=Decimal("50000"))
    [flag] = QualityFlag.objects.all()
    assert flag.red == ["cpi", "cv", "eac", "spi", "sv"]
    services.correct_report(
        actor=bu_member,
        report=made,
        reason="EV was right; PV was not.",
        **HEALTHY | {"planned_value": Decimal("200000"), "actual_cost": Decimal("100000")},
    )
    flag.refresh_from_db()
    assert flag.red == ["spi", "sv"]  # on schedule's side only now
    assert flag.cleared_at is None
    assert AuditEvent.objects.filter(verb="project.flag_restated").count() == 1


def test_a_report_a_release_decision_was_taken_on_stays_as_reported(plain_project, bu_member, cqo):
    project = to_test(plain_project, bu_member)
    latest = project.reports.get()
    services.decide_release(actor=cqo, project=project, outcome="held", reason="Wait")
    assert "release decision was taken" in (services.not_correctable(latest) or "")
    with pytest.raises(ValidationError) as refused:
        services.correct_report(actor=bu_member, report=latest, reason="x", **HEALTHY)
    assert "period" in refused.value.message_dict


def test_a_project_whose_latest_report_rates_nothing_needs_an_override_to_release(
    plain_project, bu_member
):
    project = to_test(plain_project, bu_member)
    Project.objects.filter(pk=project.pk).update(rag=Rag.UNRATED)  # no threshold rated it
    project.refresh_from_db()
    assert "rates nothing" in (services.release_caution(project) or "")


def test_a_corrected_report_is_rated_on_the_same_trend(plain_project, bu_member):
    for offset, earned in zip(range(-4, -1), ["100000", "99000", "98000"], strict=True):
        report(plain_project, bu_member, month(offset), earned_value=Decimal(earned))
    last = report(plain_project, bu_member, month(-1), earned_value=Decimal("99500"))
    assert last.trending == []
    corrected = services.correct_report(
        actor=bu_member, report=last, reason="EV", **HEALTHY | {"earned_value": Decimal("97000")}
    )
    assert corrected.trending == ["spi", "cpi"]
    assert QualityFlag.objects.get().trending == ["spi", "cpi"]


def test_a_project_trending_red_is_flagged_before_it_is_red(plain_project, bu_member):
    for offset, earned in zip(range(-4, 0), ["100000", "99000", "98000", "97000"], strict=True):
        made = report(plain_project, bu_member, month(offset), earned_value=Decimal(earned))
    assert made.rag == Rag.GREEN  # still green
    assert made.trending == ["spi", "cpi"]
    [flag] = QualityFlag.objects.all()
    assert flag.trending == ["spi", "cpi"]
    assert flag.red == []


def test_the_cqo_is_mailed_about_a_flag(plain_project, bu_member, cqo):
    report(plain_project, bu_member, month(0), earned_value=Decimal("50000"))
    flag = QualityFlag.objects.get()
    assert notify_flag(flag.pk) == 1
    [message] = mail.outbox
    assert message.to == [cqo.email]
    assert message.subject == f"[RCC] {plain_project.reference} flagged: rated red"
    assert "next agenda" in message.body


def test_bad_figures_are_named_by_field(plain_project, bu_member, unit, plain_system):
    with pytest.raises(ValidationError) as refused:
        report(plain_project, bu_member, month(0), tests_planned=5, tests_run=9)
    assert "tests_run" in refused.value.message_dict
    today = timezone.localdate()
    with pytest.raises(ValidationError) as refused:
        make_project(
            unit,
            bu_member,
            plain_system,
            planned_start=today,
            planned_finish=today - dt.timedelta(days=1),
        )
    assert "planned_finish" in refused.value.message_dict


def test_figures_near_the_limits_are_refused_by_field_not_crashed(plain_project, bu_member):
    with pytest.raises(ValidationError) as refused:
        report(
            plain_project,
            bu_member,
            month(0),
            planned_value=Decimal("1000000"),
            earned_value=Decimal("0.01"),
            actual_cost=Decimal("99999999999999.99"),
        )
    assert "earned_value" in refused.value.message_dict  # EAC = BAC * AC / EV, past 10^14
    with pytest.raises(ValidationError) as refused:
        report(
            plain_project,
            bu_member,
            month(0),
            tests_planned=2_000_000_000,
            tests_run=2_000_000_000,
            size=Decimal("0.01"),
        )
    assert "size" in refused.value.message_dict  # tests per KLOC past what a ratio holds
    with pytest.raises(ValidationError) as refused:
        report(plain_project, bu_member, month(0), earned_value=Decimal("1000000.01"))
    assert "earned_value" in refused.value.message_dict  # above the budget at completion


def test_a_trend_runs_over_consecutive_months_only(plain_project, bu_member):
    for offset, earned in zip([-6, -5, -2, -1], [100000, 99000, 98000, 97000], strict=True):
        made = report(plain_project, bu_member, month(offset), earned_value=Decimal(earned))
    assert made.trending == []  # a gap of two months: the run starts again
    assert not QualityFlag.objects.exists()


def test_a_system_that_came_to_hold_personal_data_holds_its_project_in_planning(
    plain_project, bu_member, plain_system
):
    from systems import services as systems_services

    assert not plain_project.handles_personal_data
    systems_services.update_system(actor=bu_member, system=plain_system, handles_personal_data=True)
    with pytest.raises(ValidationError):
        services.advance_phase(actor=bu_member, project=plain_project)


def test_a_reviewer_from_a_unit_above_the_projects_is_not_independent(project, reviewer, unit):
    from tests.factories import BusinessUnitFactory, MembershipFactory, UserFactory

    group = BusinessUnitFactory.create(code="PUBGRP", name="Public sector group")
    unit.parent = group
    unit.save()
    above = UserFactory.create(username="group_reviewer", roles=["quality_reviewer"])
    MembershipFactory.create(user=above, unit=group)
    with pytest.raises(PermissionDenied):
        services.record_review(
            actor=above, project=project, checklist=CHECKLIST_YES, verdict="passed", summary="ok"
        )


def test_who_registered_a_project_may_not_review_it(unit, system):
    from tests.factories import UserFactory

    admin_reviewer = UserFactory.create(
        username="admin_reviewer", roles=["quality_reviewer"], is_superuser=True
    )
    project = make_project(unit, admin_reviewer, system)
    with pytest.raises(PermissionDenied):
        services.record_review(
            actor=admin_reviewer,
            project=project,
            checklist=CHECKLIST_YES,
            verdict="passed",
            summary="ok",
        )


def test_findings_come_a_reasonable_number_at_a_time(project, reviewer):
    many = [Work(title=f"Finding {n}", due_on=IN_A_MONTH) for n in range(services.MAX_WORK + 1)]
    with pytest.raises(ValidationError) as refused:
        services.record_review(
            actor=reviewer,
            project=project,
            checklist=CHECKLIST_YES,
            verdict="passed_with_findings",
            summary="ok",
            findings=many,
        )
    assert "findings" in refused.value.message_dict
    assert not Action.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_releases_made_unrated_before_the_gate_asked_a_reason_are_noted_by_the_migration(
    plain_project, cqo
):
    with migrated_to("0003_flag_history") as apps:
        old = apps.get_model("quality", "ReleaseDecision")
        fields = {"project_id": plain_project.pk, "reason": "ok", "decided_by_id": cqo.pk}
        fields |= {"decided_office": "CQO", "decided_at": timezone.now()}
        unrated = old.objects.create(outcome="approved", rag_at_decision="", **fields)
        held = old.objects.create(outcome="held", rag_at_decision="", **fields)
        green = old.objects.create(outcome="approved", rag_at_decision="green", **fields)
    reasons = dict(ReleaseDecision.objects.values_list("pk", "override_reason"))
    assert reasons[unrated.pk].startswith("Released unrated before the gate asked")
    assert (reasons[held.pk], reasons[green.pk]) == ("", "")


@pytest.mark.django_db(transaction=True)
def test_reviews_and_decisions_made_before_the_links_get_them_from_the_audit_trail(
    project, plain_project, reviewer, bu_member, cqo
):
    """Migration 0005 links the actions each earlier review and release created, by the
    references their audit events name."""
    review = services.record_review(
        actor=reviewer,
        project=project,
        checklist={**CHECKLIST_YES, "fail_safe_design": "no"},
        verdict="passed_with_findings",
        summary="Fails open.",
        findings=[Work(title="Fail closed", due_on=IN_A_MONTH)],
    )
    in_test = to_test(plain_project, bu_member)
    decision = services.decide_release(
        actor=cqo,
        project=in_test,
        outcome="approved_with_conditions",
        reason="Ship with a watch",
        conditions=[Work(title="Reconcile daily", due_on=IN_A_MONTH)],
    )
    made = {a.title: a for a in Action.objects.filter(origin_project__isnull=False)}
    fail_closed = made["Fail closed"].reference
    # Events the migration must get past: one naming no review, one naming the review's action
    # twice, again, beside an action that never existed.
    audit.record(actor=reviewer, verb="project.reviewed", target=project, details={})
    audit.record(
        actor=reviewer,
        verb="project.reviewed",
        target=project,
        details={"review": review.pk, "findings": [fail_closed, fail_closed, "ACT-1999-0001"]},
    )
    with migrated_to("0004_current_ratings_and_corrections"):
        pass  # the links are gone with their tables; coming back, 0005 writes them again
    assert list(Review.objects.get(pk=review.pk).findings.all()) == [made["Fail closed"]]
    assert list(ReleaseDecision.objects.get(pk=decision.pk).conditions.all()) == [
        made["Reconcile daily"]
    ]


@contextmanager
def migrated_to(target: str) -> Iterator[Any]:
    """The database with quality at `target` (its apps at that point), brought back to the
    latest migrations afterwards whatever happens, for the tests after this one."""
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    try:
        executor.migrate([("quality", target)])
        yield executor.loader.project_state([("quality", target)]).apps
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
