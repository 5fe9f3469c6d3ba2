"""Pages of quality control: the project list, a project's page with its Earned Value chart, and
the forms that report, move a project on, review it, decide its release and set thresholds."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Exists
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import formats
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from accounts import selectors as accounts_selectors
from config.api import actor_of
from config.errors import Conflict, PreconditionFailed, PreconditionRequired
from config.pages import EXPORT_LIMIT, Column, export, export_links, paginate, refused
from config.versioning import etag_of
from quality import charts, policy, selectors, services
from quality.checklists import checklist_for
from quality.filters import open_flags
from quality.forms import (
    ANSWER_CHOICES,
    AdvanceForm,
    ProjectListFilter,
    RegisterProjectForm,
    ReleaseForm,
    ReportForm,
    ReviewForm,
    ThresholdsForm,
    WorkFormSet,
    plain,
)
from quality.models import (
    LOWER_IS_BETTER,
    NEXT_PHASE,
    Indicator,
    Phase,
    Project,
    QualityReport,
    Rag,
    Review,
)
from systems import selectors as systems_selectors

REFUSALS = (PermissionDenied, Conflict, PreconditionFailed, PreconditionRequired, ValidationError)
RATING_CLASS = {Rag.GREEN: "table-success", Rag.AMBER: "table-warning", Rag.RED: "table-danger"}
HUNDRED = Decimal(100)


def _yes_no(value: bool) -> str:
    return _("Yes") if value else _("No")


def _indicator_label(key: str) -> str:
    return str(Indicator(key).label) if key in Indicator.values else key


# --- The list ---------------------------------------------------------------------------------


def project_columns() -> list[Column]:
    """The list's export, headed in the reader's language."""
    return [
        Column(_("Reference"), lambda p: p.reference),
        Column(_("Name"), lambda p: p.name),
        Column(_("Business unit"), lambda p: p.unit.code),
        Column(_("System"), lambda p: p.system.code),
        Column(_("Phase"), lambda p: p.get_phase_display()),
        Column(_("Status"), lambda p: p.get_rag_display()),
        Column(_("Personal data"), lambda p: _yes_no(p.handles_personal_data)),
        Column(_("Flagged"), lambda p: _yes_no(p.flagged)),
        Column(_("Planned finish"), lambda p: p.planned_finish),
        Column(_("Last changed"), lambda p: p.updated_at),
    ]


@login_required
def project_list(request: HttpRequest) -> HttpResponse:
    """The reader's projects with their status; the same queries for 2 projects or 2,000."""
    projects = (
        selectors.projects_for(request.user)
        .annotate(flagged=Exists(open_flags()))
        .order_by("reference")
    )
    filters = ProjectListFilter(request.GET, queryset=projects, user=request.user)
    rows = filters.qs if filters.is_valid() else projects.none()
    download = export(request, name="projects", columns=project_columns(), rows=rows[:EXPORT_LIMIT])
    if download is not None:
        return download
    return render(
        request,
        "quality/project_list.html",
        {
            "filter": filters,
            "page": paginate(request, rows),
            "exports": export_links(request),
            "may_register": policy.registrable_units(request.user).exists(),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def register(request: HttpRequest) -> HttpResponse:
    """A unit member registers a project of their unit on a system they can see."""
    offered = policy.registrable_units(request.user).order_by("code")
    if request.method == "GET" and not offered.exists():
        return refused(
            request,
            PermissionDenied(_("Only members of a business unit may register its projects.")),
        )
    form = RegisterProjectForm(
        request.POST or None,
        offered=offered,
        accepted=accounts_selectors.business_units_for(request.user),
        systems=systems_selectors.systems_for(request.user).order_by("code"),
    )
    if request.method == "POST" and form.is_valid():
        try:
            project = services.register_project(actor=actor_of(request), **form.cleaned_data)
        except ValidationError as exc:
            form.refusal_in_place(exc)
        except PermissionDenied as exc:
            return refused(request, exc)
        else:
            messages.success(
                request,
                _("Project %(reference)s is registered.") % {"reference": project.reference},
            )
            return redirect("quality:project", pk=project.pk)
    status = 400 if form.is_bound else 200
    return render(request, "quality/project_register.html", {"form": form}, status=status)


# --- A project's page -------------------------------------------------------------------------


@dataclass(frozen=True)
class Cell:
    """One figure of a report's row, coloured by its rating where it has one."""

    key: str
    text: str
    rating: str = ""

    @property
    def css(self) -> str:
        return RATING_CLASS.get(Rag(self.rating), "") if self.rating in Rag.values else ""

    @property
    def rating_label(self) -> str:
        return str(Rag(self.rating).label) if self.rating in Rag.values and self.rating else ""


def _ratio(value: Decimal | None) -> str:
    return "" if value is None else str(formats.number_format(value, decimal_pos=2))


def _percent(value: Decimal | None) -> str:
    if value is None:
        return ""
    return _("%(value)s%%") % {"value": formats.number_format(value, decimal_pos=1)}


def _variance(amount: Decimal, of: Decimal) -> str:
    """A variance with its share of what it is a variance of (what the threshold judges)."""
    if of == 0:
        return charts.money(amount)
    return _("%(amount)s (%(share)s)") % {
        "amount": charts.money(amount),
        "share": _percent(amount * HUNDRED / of),
    }


def report_cells(report: QualityReport) -> list[Cell]:
    """The derived indicators of one report, in the table's order, each with its rating."""
    rated: Mapping[str, str] = report.ratings or {}
    return [
        Cell(Indicator.SPI, _ratio(report.spi), rated.get(Indicator.SPI, "")),
        Cell(Indicator.CPI, _ratio(report.cpi), rated.get(Indicator.CPI, "")),
        Cell(
            Indicator.SV,
            _variance(report.schedule_variance, report.planned_value),
            rated.get(Indicator.SV, ""),
        ),
        Cell(
            Indicator.CV,
            _variance(report.cost_variance, report.earned_value),
            rated.get(Indicator.CV, ""),
        ),
        Cell(
            Indicator.EAC, charts.money(report.estimate_at_completion), rated.get(Indicator.EAC, "")
        ),
        Cell("etc", charts.money(report.estimate_to_complete)),
        Cell(
            Indicator.TEST_DENSITY,
            _ratio(report.test_density),
            rated.get(Indicator.TEST_DENSITY, ""),
        ),
        Cell(
            Indicator.DEFECT_DETECTION,
            _percent(report.defect_detection_rate),
            rated.get(Indicator.DEFECT_DETECTION, ""),
        ),
    ]


@dataclass(frozen=True)
class ReportRow:
    report: QualityReport
    cells: list[Cell]
    trending: list[str]


@dataclass(frozen=True)
class ReviewRow:
    review: Review
    answers: list[tuple[str, str, str]]  # (item, answer, answer's label)


def review_rows(reviews: list[Review]) -> list[ReviewRow]:
    answer_labels = dict(ANSWER_CHOICES)
    rows = []
    for review in reviews:
        items = dict(checklist_for(review.phase))
        rows.append(
            ReviewRow(
                review=review,
                answers=[
                    (str(items.get(key, key)), answer, str(answer_labels.get(answer, answer)))
                    for key, answer in review.checklist.items()
                ],
            )
        )
    return rows


def _visible(request: HttpRequest, pk: int) -> Project:
    """A project the reader may see, or a 404 (its existence is not leaked)."""
    return get_object_or_404(selectors.projects_for(request.user), pk=pk)


@login_required
def project_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A project's facts, status and flag, its Earned Value chart and reports, its reviews,
    release decisions and the actions it created, with the acts the reader may do here (the
    buttons come from the policy; the services decide when pressed)."""
    user = request.user
    project = _visible(request, pk)
    reports = list(selectors.reports_for(user, project).order_by("period"))
    reviews = list(selectors.reviews_for(user, project).order_by("-recorded_at", "-pk"))
    decisions = selectors.release_decisions_for(user, project).order_by("-decided_at", "-pk")
    created, openable = selectors.project_actions(user, project)
    flag = selectors.open_flag(project)
    phase = project.phase
    may_advance = phase in NEXT_PHASE and phase != Phase.TEST and policy.can_advance(user, project)
    chart = charts.evm_chart_svg(
        [
            charts.EvmPoint(r.period, r.planned_value, r.earned_value, r.actual_cost)
            for r in reports
        ],
        budget=project.planned_budget,
    )
    return render(
        request,
        "quality/project_detail.html",
        {
            "project": project,
            "phases": [(p.value, p.label) for p in Phase],
            "next_phase": NEXT_PHASE.get(Phase(phase)),
            "flag": flag,
            "flag_red": [_indicator_label(k) for k in flag.red] if flag else [],
            "flag_trending": [_indicator_label(k) for k in flag.trending] if flag else [],
            "chart": chart,
            "budget": charts.money(project.planned_budget),
            "report_rows": [
                ReportRow(
                    report=r,
                    cells=report_cells(r),
                    trending=[_indicator_label(k) for k in r.trending],
                )
                for r in reversed(reports)  # the table reads newest first
            ],
            "review_rows": review_rows(reviews),
            "decisions": decisions,
            "created_actions": created,
            "openable_actions": openable,
            "advance_form": AdvanceForm(initial={"version": etag_of(project)})
            if may_advance
            else None,
            "may_report": policy.can_report(user, project),
            "may_review": phase != Phase.RELEASE and policy.can_review(user, project),
            "may_decide": phase == Phase.TEST and policy.can_decide_release(user, project),
        },
    )


@login_required
@require_POST
def advance(request: HttpRequest, pk: int) -> HttpResponse:
    """The owning unit moves its project on, against the version it read: a page read before
    someone else's move is told so, not moved twice."""
    project = _visible(request, pk)
    form = AdvanceForm(request.POST)
    if not form.is_valid():
        return refused(request, PreconditionRequired())
    try:
        moved = services.advance_phase(
            actor=actor_of(request), project=project, expected_version=form.cleaned_data["version"]
        )
    except PreconditionFailed:
        messages.warning(
            request,
            _(
                "Someone changed this project while you were reading it; it is shown as it is "
                "now. Move it on again if it still should."
            ),
        )
        return redirect("quality:project", pk=project.pk)
    except REFUSALS as exc:
        return refused(request, exc)
    messages.success(
        request,
        _("%(reference)s moved on to %(phase)s.")
        % {"reference": moved.reference, "phase": moved.get_phase_display().lower()},
    )
    return redirect("quality:project", pk=project.pk)


# --- Reports ----------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def report(request: HttpRequest, pk: int) -> HttpResponse:
    """The owning unit reports a month's figures; the service derives and rates them."""
    project = _visible(request, pk)
    if not policy.can_report(request.user, project):
        return refused(
            request, PermissionDenied(_("Only the owning unit may report on its project."))
        )
    form = ReportForm(request.POST or None)
    status = 400 if form.is_bound else 200
    if request.method == "POST" and form.is_valid():
        try:
            submitted = services.submit_report(
                actor=actor_of(request),
                project=project,
                period=form.cleaned_data["period"],
                **form.figures(),
            )
        except ValidationError as exc:
            form.refusal_in_place(exc)
        except Conflict as exc:
            form.add_error("period", exc.message)
            status = 409
        except PermissionDenied as exc:
            return refused(request, exc)
        else:
            messages.success(
                request,
                _("The report for %(period)s is recorded and rated %(rag)s.")
                % {
                    "period": charts.month_label(submitted.period),
                    "rag": submitted.get_rag_display().lower(),
                },
            )
            return redirect("quality:project", pk=project.pk)
    return render(
        request, "quality/report_form.html", {"project": project, "form": form}, status=status
    )


# --- Reviews ----------------------------------------------------------------------------------


def _put_work_errors(form: Any, exc: ValidationError, field: str) -> ValidationError | None:
    """The service's errors on the findings or conditions go above their rows; the rest are
    returned for the form."""
    if not hasattr(exc, "error_dict") or field not in exc.error_dict:
        return exc
    form.work_errors = ValidationError(exc.error_dict[field]).messages
    rest = {name: errors for name, errors in exc.error_dict.items() if name != field}
    return ValidationError(rest) if rest else None


@login_required
@require_http_methods(["GET", "POST"])
def review(request: HttpRequest, pk: int) -> HttpResponse:
    """A quality reviewer from another unit records a review of the project's current phase;
    each finding becomes an action for the project's unit."""
    project = _visible(request, pk)
    if not policy.can_review(request.user, project):
        return refused(
            request,
            PermissionDenied(
                _(
                    "Only a quality reviewer from a unit other than %(unit)s may review this "
                    "project."
                )
                % {"unit": project.unit.code}
            ),
        )
    bound = request.method == "POST"
    form = ReviewForm(request.POST if bound else None, phase=project.phase)
    findings = WorkFormSet(request.POST if bound else None, prefix="findings")
    if bound and form.is_valid() and findings.is_valid():
        try:
            recorded = services.record_review(
                actor=actor_of(request),
                project=project,
                checklist=form.checklist(),
                verdict=form.cleaned_data["verdict"],
                summary=form.cleaned_data["summary"],
                findings=findings.works(),
            )
        except ValidationError as exc:
            rest = _put_work_errors(findings, exc, "findings")
            if rest is not None:
                form.refusal_in_place(rest)
        except PermissionDenied as exc:
            return refused(request, exc)
        else:
            messages.success(
                request,
                _("The %(phase)s review is recorded: %(verdict)s.")
                % {
                    "phase": recorded.get_phase_display().lower(),
                    "verdict": recorded.get_verdict_display().lower(),
                },
            )
            return redirect("quality:project", pk=project.pk)
    return render(
        request,
        "quality/review_form.html",
        {"project": project, "form": form, "findings": findings},
        status=400 if bound else 200,
    )


# --- The release gate -------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def release(request: HttpRequest, pk: int) -> HttpResponse:
    """The CQO's (or the chair's) release gate: approve, hold, or approve with conditions; a
    project rated red is released only with an override reason."""
    project = _visible(request, pk)
    if not policy.can_decide_release(request.user, project):
        return refused(
            request, PermissionDenied(_("Only the CQO (or the chair) decides a release."))
        )
    bound = request.method == "POST"
    red = project.rag == Rag.RED
    form = ReleaseForm(request.POST if bound else None, red=red)
    conditions = WorkFormSet(request.POST if bound else None, prefix="conditions")
    if bound and form.is_valid() and conditions.is_valid():
        try:
            decision = services.decide_release(
                actor=actor_of(request),
                project=project,
                conditions=conditions.works(),
                **form.cleaned_data,
            )
        except ValidationError as exc:
            rest = _put_work_errors(conditions, exc, "conditions")
            if rest is not None:
                form.refusal_in_place(rest)
        except PermissionDenied as exc:
            return refused(request, exc)
        else:
            messages.success(
                request,
                _("The release decision on %(reference)s is recorded: %(outcome)s.")
                % {
                    "reference": project.reference,
                    "outcome": decision.get_outcome_display().lower(),
                },
            )
            return redirect("quality:project", pk=project.pk)
    return render(
        request,
        "quality/release_form.html",
        {"project": project, "form": form, "conditions": conditions, "red": red},
        status=400 if bound else 200,
    )


# --- Thresholds -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ThresholdRow:
    indicator: str
    label: str
    green: str
    red: str
    meaning: str
    updated: Any


def threshold_rows(thresholds: Mapping[str, Any]) -> list[ThresholdRow]:
    rows = []
    for indicator in Indicator:
        threshold = thresholds.get(indicator)
        if threshold is None:
            rows.append(
                ThresholdRow(indicator, str(indicator.label), "", "", _("Not rated."), None)
            )
            continue
        green, red = str(plain(threshold.green)), str(plain(threshold.red))
        if indicator in LOWER_IS_BETTER:
            meaning = _("Lower is better: green at %(green)s or below, red above %(red)s.")
        else:
            meaning = _("Higher is better: green at %(green)s or above, red below %(red)s.")
        rows.append(
            ThresholdRow(
                indicator,
                str(indicator.label),
                green,
                red,
                meaning % {"green": green, "red": red},
                threshold,
            )
        )
    return rows


def _threshold_table(
    rows: list[ThresholdRow], form: ThresholdsForm | None
) -> list[tuple[ThresholdRow, tuple[Any, ...]]]:
    """Each row with its green and red inputs when the reader may change them."""
    fields = {str(i): (green, red) for i, green, red in form.rows()} if form else {}
    return [(row, fields.get(row.indicator, ())) for row in rows]


@login_required
@require_http_methods(["GET", "POST"])
def thresholds(request: HttpRequest) -> HttpResponse:
    """How projects are rated, for everyone signed in; the CQO (or the chair) changes it. The
    rows changed are saved together or not at all, so the table never holds half an edit."""
    current = {t.indicator: t for t in selectors.thresholds()}
    office = policy.threshold_office(request.user)
    if request.method == "POST" and office is None:
        return refused(
            request, PermissionDenied(_("Only the CQO (or the chair) sets quality thresholds."))
        )
    form = ThresholdsForm(request.POST or None, thresholds=current) if office else None
    status = 200
    if form is not None and form.is_bound:
        status = 400
        if form.is_valid():
            changed = form.changed_rows()
            try:
                with transaction.atomic():
                    failed = False
                    for indicator, green, red, version in changed:
                        try:
                            services.set_threshold(
                                actor=actor_of(request),
                                indicator=indicator,
                                green=green,
                                red=red,
                                expected_version=version,
                            )
                        except ValidationError as exc:
                            form.refusal_in_row(indicator, exc)
                            failed = True
                        except PreconditionFailed:
                            form.add_error(
                                None,
                                _(
                                    "Someone changed the thresholds while you were reading "
                                    "them; nothing was saved. Reload to see them as they are now."
                                ),
                            )
                            failed = True
                            break
                    if failed:
                        transaction.set_rollback(True)
            except PermissionDenied as exc:
                return refused(request, exc)
            if not failed:
                if changed:
                    messages.success(
                        request,
                        _(
                            "Thresholds changed: %(indicators)s. Reports already rated keep "
                            "their ratings."
                        )
                        % {
                            "indicators": ", ".join(
                                _indicator_label(i) for i, _g, _r, _v in changed
                            )
                        },
                    )
                else:
                    messages.info(request, _("Nothing was changed."))
                return redirect("quality:thresholds")
    return render(
        request,
        "quality/thresholds.html",
        {"table": _threshold_table(threshold_rows(current), form), "form": form, "office": office},
        status=status,
    )
