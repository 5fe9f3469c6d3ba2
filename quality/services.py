"""Every write of quality control: projects, reports and their flags, thresholds, reviews and
release decisions. Policy first, one transaction, an audit event, mail after commit."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import BusinessUnit, Domain, User
from accounts.services import grant_to_unit
from actions import services as actions_services
from actions.models import Action
from audit import services as audit
from config.errors import Conflict
from config.versioning import check_version
from outbox import relay as outbox
from quality import evm, policy
from quality.checklists import ANSWERS, checklist_for
from quality.models import (
    NEXT_PHASE,
    Phase,
    Project,
    QualityFlag,
    QualityReport,
    Rag,
    ReleaseDecision,
    Review,
    Threshold,
)
from quality.tasks import notify_flag
from systems import policy as systems_policy
from systems.models import System

FIGURES = (
    "planned_value",
    "earned_value",
    "actual_cost",
    "percent_complete",
    "tests_planned",
    "tests_run",
    "size",
    "defects_planning",
    "defects_design",
    "defects_build",
    "defects_test",
    "defects_release",
)


@dataclass(frozen=True)
class Work:
    """A finding of a review or a condition of a release: work for the project's unit."""

    title: str
    due_on: dt.date
    description: str = ""


@transaction.atomic
def register_project(
    *,
    actor: User,
    unit: BusinessUnit,
    system: System,
    name: str,
    planned_budget: Decimal,
    planned_start: dt.date,
    planned_finish: dt.date,
    description: str = "",
    handles_personal_data: bool = False,
    size_unit: str = Project.SizeUnit.KLOC,
) -> Project:
    """A unit registers a project that builds or changes a system it can see. A project on a
    system that handles personal data handles it too, whatever the form says: the independent
    review cannot be opted out of."""
    if not policy.can_register_project(actor, unit):
        raise PermissionDenied(
            _("Only members of %(unit)s may register its projects.") % {"unit": unit.code}
        )
    if not systems_policy.visible_systems(actor).filter(pk=system.pk).exists():
        raise ValidationError({"system": _("No such system on the register.")})
    project = Project(
        reference=audit.next_reference("PRJ"),
        name=name.strip(),
        unit=unit,
        system=system,
        description=description.strip(),
        handles_personal_data=handles_personal_data or system.handles_personal_data,
        planned_budget=planned_budget,
        planned_start=planned_start,
        planned_finish=planned_finish,
        size_unit=size_unit,
        registered_by=actor,
    )
    if planned_finish < planned_start:
        raise ValidationError({"planned_finish": _("The finish comes before the start.")})
    project.full_clean()
    project.save()
    grant_to_unit(obj=project, unit=unit)
    audit.record(
        actor=actor,
        verb="project.registered",
        target=project,
        details={
            "unit": unit.code,
            "system": system.code,
            "personal_data": project.handles_personal_data,
            "budget": str(planned_budget),
        },
    )
    return project


def _locked(project: Project) -> Project:
    # Only the project's row: its unit and system go on being reported and changed meanwhile.
    return (
        Project.objects.select_for_update(of=("self",))
        .select_related("unit", "system")
        .get(pk=project.pk)
    )


def latest_review(project: Project, phase: str) -> Review | None:
    return project.reviews.filter(phase=phase).order_by("-recorded_at", "-pk").first()


def _require_review(project: Project) -> None:
    """A project with personal data leaves a phase only after an independent review of it that
    passed (the planning-stage review at planning, a plan-conformance check after)."""
    if not (project.handles_personal_data or project.system.handles_personal_data):
        return  # the system's flag too: it may have started handling personal data since
    review = latest_review(project, project.phase)
    if review is not None and review.passed:
        return
    phase = project.get_phase_display().lower()
    if project.phase == Phase.PLANNING:
        message = _(
            "This project handles personal data: it cannot leave planning without an "
            "independent planning-stage review that passed."
        )
    else:
        message = _(
            "This project handles personal data: it cannot leave %(phase)s without an "
            "independent check, passed, that what was built follows the plan."
        ) % {"phase": phase}
    if review is not None:
        message += " " + _("The latest review failed.")
    raise ValidationError({"phase": message})


@transaction.atomic
def advance_phase(*, actor: User, project: Project, expected_version: str | None = None) -> Project:
    """The owning unit moves its project to the next phase: planning → design → build → test.
    Release is the CQO's gate (decide_release), not the unit's move."""
    if not policy.can_advance(actor, project):
        raise PermissionDenied(_("Only the owning unit may move its project on."))
    project = _locked(project)
    check_version(project, expected_version)
    if project.phase == Phase.RELEASE:
        raise ValidationError({"phase": _("The project is released; there is no next phase.")})
    if project.phase == Phase.TEST:
        raise ValidationError(
            {"phase": _("A project is released only by the CQO's release gate decision.")}
        )
    _require_review(project)
    before = project.phase
    project.phase = NEXT_PHASE[Phase(before)]
    project.save(update_fields=["phase", "updated_at"])
    audit.record(
        actor=actor,
        verb="project.phase_advanced",
        target=project,
        details={"from": before, "to": project.phase},
    )
    return project


def _month(period: dt.date) -> dt.date:
    return period.replace(day=1)


def _thresholds() -> dict[str, tuple[Decimal, Decimal]]:
    return {t.indicator: (t.green, t.red) for t in Threshold.objects.all()}


@transaction.atomic
def submit_report(
    *, actor: User, project: Project, period: dt.date, **figures: Any
) -> QualityReport:
    """The owning unit reports a month's figures. The indicators are derived and rated under
    the CQO's thresholds; a project turning red, or with SPI or CPI falling three periods
    running, is flagged to the CQO and so comes to the committee's next agenda, once: it stays
    flagged, and is not raised again, until a healthy report clears it."""
    if not policy.can_report(actor, project):
        raise PermissionDenied(_("Only the owning unit may report on its project."))
    unknown = set(figures) - set(FIGURES)
    if unknown:
        raise ValidationError({field: _("Not a figure of a report.") for field in unknown})
    project = _locked(project)
    period = _month(period)
    if period > _month(timezone.localdate()):
        raise ValidationError({"period": _("A month still to come cannot be reported.")})
    previous = list(project.reports.order_by("-period")[: evm.TREND_RUN])
    if previous and previous[0].period == period:
        raise Conflict(
            _("%(period)s is already reported for this project.")
            % {"period": period.strftime("%Y-%m")},
            code="already_reported",
        )
    if previous and previous[0].period > period:
        raise ValidationError(
            {
                "period": _("Reports come in order: the last one reported is %(period)s.")
                % {"period": previous[0].period.strftime("%Y-%m")}
            }
        )
    budget = project.planned_budget
    for field in ("planned_value", "earned_value"):
        if Decimal(figures.get(field, 0)) > budget:
            raise ValidationError(
                {
                    field: _(
                        "Cannot exceed the budget at completion (%(budget)s): value is planned "
                        "and earned against the budget, never beyond it."
                    )
                    % {"budget": budget}
                }
            )
    planned, run = figures.get("tests_planned", 0), figures.get("tests_run", 0)
    if planned and run > planned:
        raise ValidationError(
            {"tests_run": _("More tests run than planned: raise the tests planned first.")}
        )
    report = QualityReport(
        project=project,
        period=period,
        phase=project.phase,
        submitted_by=actor,
        submitted_at=timezone.now(),
        **{field: figures.get(field, 0) for field in FIGURES},
    )
    figures_of = evm.Figures(
        budget_at_completion=project.planned_budget,
        planned_value=Decimal(report.planned_value),
        earned_value=Decimal(report.earned_value),
        actual_cost=Decimal(report.actual_cost),
        tests_run=int(report.tests_run),
        size=Decimal(report.size),
        defects_before_release=sum(
            int(getattr(report, f"defects_{phase}")) for phase in evm.PRE_RELEASE
        ),
        defects_after_release=int(report.defects_release),
    )
    found = evm.indicators(figures_of)
    for field, value in vars(found).items():
        if value is not None and not _fits(QualityReport, field, value):
            raise ValidationError(
                {"actual_cost": _("These figures give indicators too large to record: check them.")}
            )
        setattr(report, field, value)
    report.ratings = evm.rate_all(evm.rated_values(found, figures_of, project.phase), _thresholds())
    report.rag = evm.overall(report.ratings)
    history = _consecutive([*reversed(previous), report])
    report.trending = [
        index for index in ("spi", "cpi") if evm.falling([getattr(r, index) for r in history])
    ]
    report.full_clean(validate_unique=False)
    try:
        with transaction.atomic():
            report.save()
    except IntegrityError:  # a concurrent submission of the same month won the race
        raise Conflict(
            _("%(period)s is already reported for this project.")
            % {"period": period.strftime("%Y-%m")},
            code="already_reported",
        ) from None
    project.rag = report.rag
    project.save(update_fields=["rag", "updated_at"])
    audit.record(
        actor=actor,
        verb="project.reported",
        target=project,
        details={
            "period": period.strftime("%Y-%m"),
            "rag": report.rag,
            "ratings": report.ratings,
            "trending": report.trending,
        },
    )
    _flag_or_clear(actor=actor, project=project, report=report)
    return report


def _fits(model: type[Any], field: str, value: Decimal) -> bool:
    """Does a derived value fit its column (max_digits, decimal_places)?"""
    column = model._meta.get_field(field)
    return abs(value) < Decimal(10) ** (column.max_digits - column.decimal_places)


def _consecutive(reports: list[QualityReport]) -> list[QualityReport]:
    """The latest reports that follow each other month by month: a trend runs over periods in a
    row, and a gap in reporting starts it again."""
    run = reports[-1:]
    for earlier in reversed(reports[:-1]):
        later = run[0].period
        if (later.year * 12 + later.month) - (earlier.period.year * 12 + earlier.period.month) != 1:
            break
        run.insert(0, earlier)
    return run


def _flag_or_clear(*, actor: User, project: Project, report: QualityReport) -> None:
    red = sorted(k for k, rating in report.ratings.items() if rating == Rag.RED)
    troubled = bool(red or report.trending)
    open_flag = project.flags.filter(cleared_at__isnull=True).select_for_update().first()
    if troubled and open_flag is None:
        flag = QualityFlag.objects.create(
            project=project,
            report=report,
            red=red,
            trending=report.trending,
            raised_at=report.submitted_at,
        )
        audit.record(
            actor=actor,
            verb="project.flagged",
            target=project,
            details={"red": red, "trending": report.trending, "report": report.pk},
        )
        outbox.enqueue(notify_flag, flag.pk)
    elif not troubled and open_flag is not None:
        open_flag.cleared_at = report.submitted_at
        open_flag.cleared_by_report = report
        open_flag.save(update_fields=["cleared_at", "cleared_by_report"])
        audit.record(
            actor=actor,
            verb="project.flag_cleared",
            target=project,
            details={"flag": open_flag.pk, "report": report.pk},
        )


@transaction.atomic
def set_threshold(
    *,
    actor: User,
    indicator: str,
    green: Decimal,
    red: Decimal,
    expected_version: str | None = None,
) -> Threshold:
    """The CQO sets where an indicator turns amber and red. Reports already rated keep their
    ratings (they say what was true under the thresholds of their day). With
    `expected_version` (the ETag read), a change over someone else's newer one is refused."""
    office = policy.threshold_office(actor)
    if office is None:
        raise PermissionDenied(_("Only the CQO (or the chair) sets quality thresholds."))
    threshold = Threshold.objects.select_for_update().filter(indicator=indicator).first()
    if threshold is None:
        threshold = Threshold(indicator=indicator, green=green, red=red)
        before = None
    else:
        check_version(threshold, expected_version)
        before = {"green": str(threshold.green), "red": str(threshold.red)}
        threshold.green, threshold.red = green, red
    threshold.full_clean(validate_unique=False)
    if threshold.lower_is_better and green > red:
        raise ValidationError(
            {"green": _("For this indicator lower is better: green must not be above red.")}
        )
    if not threshold.lower_is_better and green < red:
        raise ValidationError(
            {"green": _("For this indicator higher is better: green must not be below red.")}
        )
    threshold.updated_by = actor
    threshold.save()
    audit.record(
        actor=actor,
        office=office,
        verb="quality.threshold_set",
        target=threshold,
        details={
            "indicator": indicator,
            "from": before,
            "to": {"green": str(green), "red": str(red)},
        },
    )
    return threshold


def _create_work(*, actor: User, project: Project, work: Sequence[Work], why: str) -> list[Action]:
    return [
        actions_services.create_action(
            actor=actor,
            unit=project.unit,
            title=item.title.strip(),
            description=(item.description.strip() + "\n\n" + why).strip(),
            due_on=item.due_on,
            domain=Domain.QUALITY,
            system=project.system,
            origin_project=project,
        )
        for item in work
    ]


MAX_WORK = 20  # findings or conditions at once: more is a plan, not a list


def _check_work(work: Sequence[Work], field: str) -> None:
    if len(work) > MAX_WORK:
        raise ValidationError({field: _("At most %(n)s at once.") % {"n": MAX_WORK}})
    today = timezone.localdate()
    errors = []
    for index, item in enumerate(work, start=1):
        if not item.title.strip():
            errors.append(_("Item %(n)s has no title.") % {"n": index})
        elif item.due_on < today:
            errors.append(_("Item %(n)s is due in the past.") % {"n": index})
    if errors:
        raise ValidationError({field: errors})


@transaction.atomic
def record_review(
    *,
    actor: User,
    project: Project,
    checklist: Mapping[str, str],
    verdict: str,
    summary: str,
    findings: Sequence[Work] = (),
) -> Review:
    """A quality reviewer from another unit reviews the project in its current phase: the
    planning-stage review at planning, a plan-conformance check later. Every checklist item is
    answered; an item answered "no" is a finding, so such a review cannot simply pass; each
    finding becomes an action for the project's unit, verified by the CQO."""
    if not policy.is_quality_reviewer(actor):
        raise PermissionDenied(_("Only a quality reviewer (Quality HQ) may review a project."))
    if not policy.can_review(actor, project):
        raise PermissionDenied(
            _("A review must be independent: a reviewer from %(unit)s may not review its project.")
            % {"unit": project.unit.code}
        )
    project = _locked(project)
    if project.phase == Phase.RELEASE:
        raise ValidationError({"phase": _("A released project has no phase left to review.")})
    items = checklist_for(project.phase)
    errors: dict[str, Any] = {}
    missing = [key for key, _label in items if key not in checklist]
    extra = sorted(set(checklist) - {key for key, _label in items})
    wrong = [key for key, answer in checklist.items() if answer not in ANSWERS]
    if missing:
        errors["checklist"] = _("Answer every item: %(items)s.") % {"items": ", ".join(missing)}
    elif extra:
        errors["checklist"] = _("Not items of this checklist: %(items)s.") % {
            "items": ", ".join(extra)
        }
    elif wrong:
        errors["checklist"] = _("Answer yes, no or n/a: %(items)s.") % {"items": ", ".join(wrong)}
    if verdict not in Review.Verdict.values:
        errors["verdict"] = _("Choose passed, passed with findings or failed.")
    if not summary.strip():
        errors["summary"] = _("Summarise what was reviewed and found.")
    if errors:
        raise ValidationError(errors)
    if verdict == Review.Verdict.PASSED and "no" in checklist.values():
        raise ValidationError(
            {
                "verdict": _(
                    "An item answered no is a finding: pass with findings, or fail the review."
                )
            }
        )
    if verdict == Review.Verdict.PASSED and findings:
        raise ValidationError({"verdict": _("A review with findings passes with findings.")})
    if verdict == Review.Verdict.PASSED_WITH_FINDINGS and not findings:
        raise ValidationError({"findings": _("Record the findings the project must act on.")})
    _check_work(findings, "findings")
    review = Review.objects.create(
        project=project,
        phase=project.phase,
        reviewer=actor,
        checklist={key: checklist[key] for key, _label in items},
        verdict=verdict,
        summary=summary.strip(),
        recorded_at=timezone.now(),
    )
    created = _create_work(
        actor=actor,
        project=project,
        work=findings,
        why=_("Finding of the %(phase)s review of %(project)s.")
        % {"phase": project.get_phase_display().lower(), "project": project.reference},
    )
    audit.record(
        actor=actor,
        verb="project.reviewed",
        target=project,
        details={
            "review": review.pk,
            "phase": review.phase,
            "verdict": verdict,
            "findings": [a.reference for a in created],
        },
    )
    return review


@transaction.atomic
def decide_release(
    *,
    actor: User,
    project: Project,
    outcome: str,
    reason: str,
    override_reason: str = "",
    conditions: Sequence[Work] = (),
) -> ReleaseDecision:
    """The release gate, the CQO's (or the chair's): approve, hold, or approve with
    conditions, which become actions for the unit. A red project is released only with a
    recorded override reason; approving releases the project."""
    office = policy.gate_office(actor)
    if office is None:
        raise PermissionDenied(_("Only the CQO (or the chair) decides a release."))
    project = _locked(project)
    errors: dict[str, Any] = {}
    if outcome not in ReleaseDecision.Outcome.values:
        errors["outcome"] = _("Choose approved, held or approved with conditions.")
    if not reason.strip():
        errors["reason"] = _("Say why.")
    if errors:
        raise ValidationError(errors)
    if project.phase != Phase.TEST:
        raise ValidationError(
            {
                "phase": _(
                    "Only a project in test comes to the release gate; this one is in %(phase)s."
                )
                % {"phase": project.get_phase_display().lower()}
            }
        )
    releases = outcome != ReleaseDecision.Outcome.HELD
    if releases and project.rag == Rag.RED and not override_reason.strip():
        raise ValidationError(
            {
                "override_reason": _(
                    "The project is rated red: record why it is released all the same."
                )
            }
        )
    if outcome == ReleaseDecision.Outcome.APPROVED_WITH_CONDITIONS and not conditions:
        raise ValidationError({"conditions": _("Give the conditions of the release.")})
    if outcome != ReleaseDecision.Outcome.APPROVED_WITH_CONDITIONS and conditions:
        raise ValidationError(
            {"conditions": _("Conditions come only with an approval with conditions.")}
        )
    _check_work(conditions, "conditions")
    if releases:
        _require_review(project)
    decision = ReleaseDecision.objects.create(
        project=project,
        outcome=outcome,
        reason=reason.strip(),
        override_reason=override_reason.strip() if releases else "",
        rag_at_decision=project.rag,
        decided_by=actor,
        decided_office=office,
        decided_at=timezone.now(),
    )
    created = _create_work(
        actor=actor,
        project=project,
        work=conditions,
        why=_("Condition of the release of %(project)s.") % {"project": project.reference},
    )
    if releases:
        project.phase = Phase.RELEASE
        project.save(update_fields=["phase", "updated_at"])
    audit.record(
        actor=actor,
        office=office,
        verb="project.release_decided",
        target=project,
        details={
            "decision": decision.pk,
            "outcome": outcome,
            "rag": decision.rag_at_decision,
            "override_reason": decision.override_reason,
            "conditions": [a.reference for a in created],
        },
    )
    return decision
