"""The project list, registering a project, the project page with its Earned Value chart, and
moving a project on."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Exists
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import formats
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from accounts import selectors as accounts_selectors
from config.api import actor_of
from config.errors import PreconditionFailed, PreconditionRequired
from config.pages import EXPORT_LIMIT, Column, export, export_links, paginate, refused
from config.versioning import etag_of
from quality import charts, policy, selectors, services
from quality.checklists import checklist_for
from quality.filters import open_flags
from quality.forms import ANSWER_CHOICES, AdvanceForm, ProjectListFilter, RegisterProjectForm
from quality.models import NEXT_PHASE, Indicator, Phase, QualityReport, Rag, Review
from quality.views.common import (
    HUNDRED,
    RATING_CLASS,
    REFUSALS,
    indicator_label,
    visible_project,
    yes_no,
)
from systems import selectors as systems_selectors

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
        Column(_("Personal data"), lambda p: yes_no(p.handles_personal_data)),
        Column(_("Flagged"), lambda p: yes_no(p.flagged)),
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
    filters = ProjectListFilter(request.GET, queryset=projects, request=request)
    # A filter that does not parse shows its error, no rows, and a 400, as on every list.
    valid = filters.is_valid()
    rows = filters.qs if valid else projects.none()
    if valid:
        download = export(
            request, name="projects", columns=project_columns(), rows=rows[:EXPORT_LIMIT]
        )
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
        status=200 if valid else 400,
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


@login_required
def project_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A project's facts, status and flag, its Earned Value chart and reports, its reviews,
    release decisions and the actions it created, with the acts the reader may do here (the
    buttons come from the policy; the services decide when pressed)."""
    user = request.user
    project = visible_project(request, pk)
    record = selectors.project_record(user, project)
    reports, flag = record.reports, record.flag
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
            "flag_red": [indicator_label(k) for k in flag.red] if flag else [],
            "flag_trending": [indicator_label(k) for k in flag.trending] if flag else [],
            "chart": chart,
            "budget": charts.money(project.planned_budget),
            "latest_report": reports[-1] if reports else None,  # the only one to correct
            "report_rows": [
                ReportRow(
                    report=r,
                    cells=report_cells(r),
                    trending=[indicator_label(k) for k in r.trending],
                )
                for r in reversed(reports)  # the table reads newest first
            ],
            "review_rows": review_rows(record.reviews),
            "decisions": record.decisions,
            "created_actions": record.actions,
            "openable_actions": record.openable,
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
    project = visible_project(request, pk)
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
