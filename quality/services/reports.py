"""Monthly reports, derived and rated under the CQO's thresholds, and the flags they raise."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from audit import services as audit
from config import dates
from config.errors import Conflict
from config.versioning import check_version
from outbox import relay as outbox
from quality import evm, policy
from quality.models import Project, QualityFlag, QualityReport, Rag, Threshold
from quality.services.projects import FIGURES, locked
from quality.tasks import notify_flag


def _thresholds() -> dict[str, tuple[Decimal, Decimal]]:
    return {t.indicator: (t.green, t.red) for t in Threshold.objects.all()}


def _check_figures(figures: dict[str, Any]) -> None:
    unknown = set(figures) - set(FIGURES)
    if unknown:
        raise ValidationError({field: _("Not a figure of a report.") for field in unknown})


def _rate(report: QualityReport, project: Project, earlier: list[QualityReport]) -> None:
    """Check the report's figures against the project, derive its indicators and rate them
    under the CQO's thresholds now; `earlier` are the reports before it, newest first, for the
    trend."""
    budget = project.planned_budget
    for field in ("planned_value", "earned_value"):
        if Decimal(getattr(report, field)) > budget:
            raise ValidationError(
                {
                    field: _(
                        "Cannot exceed the budget at completion (%(budget)s): value is planned "
                        "and earned against the budget, never beyond it."
                    )
                    % {"budget": budget}
                }
            )
    if report.tests_planned and report.tests_run > report.tests_planned:
        raise ValidationError(
            {"tests_run": _("More tests run than planned: raise the tests planned first.")}
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
                {
                    DIVISOR_OF.get(field, "actual_cost"): _(
                        "These figures give indicators too large to record: check them."
                    )
                }
            )
        setattr(report, field, value)
    report.ratings = evm.rate_all(evm.rated_values(found, figures_of, report.phase), _thresholds())
    report.rag = evm.overall(report.ratings)
    history = _consecutive([*reversed(earlier), report])
    report.trending = [
        index for index in ("spi", "cpi") if evm.falling([getattr(r, index) for r in history])
    ]
    report.full_clean(validate_unique=False)


def _already_reported(period: dt.date) -> Conflict:
    return Conflict(
        _("%(period)s is already reported for this project.")
        % {"period": period.strftime("%Y-%m")},
        code="already_reported",
    )


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
    _check_figures(figures)
    project = locked(project)
    dates.require_in_window("period", period)
    period = evm.month_of(period)
    if period > evm.month_of(timezone.localdate()):
        raise ValidationError({"period": _("A month still to come cannot be reported.")})
    previous = list(project.reports.order_by("-period")[: evm.TREND_RUN])
    if previous and previous[0].period == period:
        raise _already_reported(period)
    if previous and previous[0].period > period:
        raise ValidationError(
            {
                "period": _("Reports come in order: the last one reported is %(period)s.")
                % {"period": previous[0].period.strftime("%Y-%m")}
            }
        )
    report = QualityReport(
        project=project,
        period=period,
        phase=project.phase,
        submitted_by=actor,
        submitted_at=timezone.now(),
        **{field: figures.get(field, 0) for field in FIGURES},
    )
    _rate(report, project, previous)
    try:
        with transaction.atomic():
            report.save()
    except IntegrityError:  # a concurrent submission of the same month won the race
        raise _already_reported(period) from None
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
    _flag_or_clear(actor=actor, project=project, report=report, at=report.submitted_at)
    return report


def not_correctable(report: QualityReport) -> str | None:
    """Why the report cannot be corrected, or None. Only the latest report can be, since the
    trend of every later month was read from it; and not one a release decision was taken on,
    since the decision stands on the figures it saw."""
    latest = report.project.reports.order_by("-period").values_list("pk", "period").first()
    if latest is not None and latest[0] != report.pk:
        return _(
            "Only the latest report (%(latest)s) can be corrected: the later months were rated "
            "on this one."
        ) % {"latest": latest[1].strftime("%Y-%m")}
    decided = (
        report.project.release_decisions.filter(decided_at__gte=report.submitted_at)
        .values_list("decided_at", flat=True)
        .first()
    )
    if decided is not None:
        return _(
            "A release decision was taken on this report (%(day)s): it stays as reported. "
            "Report the right figures next month."
        ) % {"day": timezone.localdate(decided).isoformat()}
    return None


@transaction.atomic
def correct_report(
    *,
    actor: User,
    report: QualityReport,
    reason: str,
    expected_version: str | None = None,
    **figures: Any,
) -> QualityReport:
    """The owning unit corrects its latest report: the figures given replace the month's (a
    figure left out is 0, as when reported), are derived and rated again under the thresholds
    in force now, and the project's rating and flag follow. Only the latest report: the
    trend of every later month was read from it. The history keeps what was first reported,
    the audit event says what changed and why. With `expected_version` (the ETag read), a
    correction over someone else's newer one is refused."""
    project = report.project
    if not policy.can_report(actor, project):
        raise PermissionDenied(_("Only the owning unit may correct its project's reports."))
    _check_figures(figures)
    if not reason.strip():
        raise ValidationError({"reason": _("Say what was wrong with the figures reported.")})
    project = locked(project)
    report = QualityReport.objects.select_for_update().get(pk=report.pk)
    check_version(report, expected_version)
    refusal = not_correctable(report)
    if refusal is not None:
        raise ValidationError({"period": refusal})
    previous = list(project.reports.order_by("-period")[: evm.TREND_RUN + 1])
    before = {field: _figure(report, field) for field in FIGURES}
    rag_before = report.rag
    for field in FIGURES:
        setattr(report, field, figures.get(field, 0))
    _rate(report, project, previous[1:])
    changed = {
        field: [before[field], _figure(report, field)]
        for field in FIGURES
        if before[field] != _figure(report, field)
    }
    if not changed:
        raise ValidationError({"__all__": _("These are the figures already reported.")})
    report.corrected_by = actor
    report.corrected_at = timezone.now()
    report.save(
        update_fields=[
            *FIGURES,
            *DERIVED,
            "ratings",
            "rag",
            "trending",
            "corrected_by",
            "corrected_at",
            "updated_at",
        ]
    )
    project.rag = report.rag
    project.save(update_fields=["rag", "updated_at"])
    audit.record(
        actor=actor,
        verb="project.report_corrected",
        target=project,
        details={
            "period": report.period.strftime("%Y-%m"),
            "reason": reason.strip(),
            "changed": changed,
            "rag": [rag_before, report.rag],
            "ratings": report.ratings,
            "trending": report.trending,
        },
    )
    _flag_or_clear(actor=actor, project=project, report=report, at=report.corrected_at)
    return report


# What a report derives from its figures, written again when it is corrected.
DERIVED = tuple(field.name for field in dataclasses.fields(evm.Indicators))

# The figure a derived value is divided by: the one to name when the result is out of range.
DIVISOR_OF = {
    "spi": "planned_value",
    "cpi": "actual_cost",
    "estimate_at_completion": "earned_value",
    "estimate_to_complete": "earned_value",
    "test_density": "size",
}


def _figure(report: QualityReport, field: str) -> str:
    """A figure as the database keeps it (money to the cent), for the audit trail."""
    column = QualityReport._meta.get_field(field)
    value = getattr(report, field)
    places = getattr(column, "decimal_places", None)
    return f"{Decimal(value):.{places}f}" if places is not None else str(int(value))


def _fits(model: type[Any], field: str, value: Decimal) -> bool:
    """Does a derived value fit its column (max_digits, decimal_places)?"""
    column = model._meta.get_field(field)
    return abs(value) < Decimal(10) ** (column.max_digits - column.decimal_places)


def _consecutive(reports: list[QualityReport]) -> list[QualityReport]:
    """The latest reports that follow each other month by month: a trend runs over periods in a
    row, and a gap in reporting starts it again."""
    run = reports[-1:]
    for earlier in reversed(reports[:-1]):
        if evm.months_between(earlier.period, run[0].period) != 1:
            break
        run.insert(0, earlier)
    return run


def _flag_or_clear(
    *, actor: User, project: Project, report: QualityReport, at: dt.datetime
) -> None:
    """Raise a flag on a troubled report when none is open; clear the open one on a healthy
    report. `at` is when the report was submitted or corrected.

    A corrected report settles what it did before. A flag it raised is restated, or withdrawn
    when the report turns out healthy: cleared by its own report, it comes to no agenda. A flag
    it cleared (or withdrew) is reopened when the report turns out troubled after all, rather
    than a second one raised: the project was in trouble all along."""
    red = sorted(k for k, rating in report.ratings.items() if rating == Rag.RED)
    troubled = bool(red or report.trending)
    flags = project.flags.select_for_update()
    open_flag = flags.filter(cleared_at__isnull=True).first()
    if troubled and open_flag is None:
        flag = flags.filter(cleared_by_report=report).first()
        if flag is not None:
            flag.cleared_at = flag.cleared_by_report = None
            _restate(flag, report, red)
            flag.save(update_fields=["cleared_at", "cleared_by_report", "red", "trending"])
            audit.record(
                actor=actor,
                verb="project.flag_reopened",
                target=project,
                details={"flag": flag.pk, "report": report.pk},
            )
            return
        flag = QualityFlag.objects.create(
            project=project,
            report=report,
            red=red,
            trending=report.trending,
            raised_at=at,
        )
        audit.record(
            actor=actor,
            verb="project.flagged",
            target=project,
            details={"red": red, "trending": report.trending, "report": report.pk},
        )
        outbox.enqueue(notify_flag, flag.pk)
    elif troubled and open_flag is not None and _restate(open_flag, report, red):
        open_flag.save(update_fields=["red", "trending"])
        audit.record(
            actor=actor,
            verb="project.flag_restated",
            target=project,
            details={"flag": open_flag.pk, "red": red, "trending": report.trending},
        )
    elif not troubled and open_flag is not None:
        withdrawn = open_flag.report_id == report.pk
        open_flag.cleared_at = at
        open_flag.cleared_by_report = report
        open_flag.save(update_fields=["cleared_at", "cleared_by_report"])
        audit.record(
            actor=actor,
            verb="project.flag_withdrawn" if withdrawn else "project.flag_cleared",
            target=project,
            details={"flag": open_flag.pk, "report": report.pk},
        )


def _restate(flag: QualityFlag, report: QualityReport, red: list[str]) -> bool:
    """A flag raised by this report says what the report, as corrected, says. Whether it
    changed."""
    if flag.report_id != report.pk or (flag.red, flag.trending) == (red, report.trending):
        return False
    flag.red, flag.trending = red, report.trending
    return True


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
