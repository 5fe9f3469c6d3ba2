"""The forms that act on a project: a month's report, an independent review, the release gate."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from config.api import actor_of
from config.errors import Conflict, PreconditionFailed, PreconditionRequired
from config.pages import refused
from quality import charts, policy, selectors, services
from quality.forms import ReleaseForm, ReportCorrectionForm, ReportForm, ReviewForm, WorkFormSet
from quality.models import QualityReport
from quality.views.common import visible_project

# --- Reports ----------------------------------------------------------------------------------


def _rated(request: HttpRequest, report: QualityReport, said: str) -> HttpResponse:
    """Back to the project, saying the month and how it was rated."""
    messages.success(
        request,
        said
        % {"period": charts.month_label(report.period), "rag": report.get_rag_display().lower()},
    )
    return redirect("quality:project", pk=report.project_id)


@login_required
@require_http_methods(["GET", "POST"])
def report(request: HttpRequest, pk: int) -> HttpResponse:
    """The owning unit reports a month's figures; the service derives and rates them."""
    project = visible_project(request, pk)
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
            return _rated(
                request, submitted, _("The report for %(period)s is recorded and rated %(rag)s.")
            )
    return render(
        request, "quality/report_form.html", {"project": project, "form": form}, status=status
    )


@login_required
@require_http_methods(["GET", "POST"])
def correct_report(request: HttpRequest, pk: int, period: str) -> HttpResponse:
    """The owning unit corrects its latest report: the figures are replaced and rated again
    under today's thresholds, against the version read, with the reason why."""
    project = visible_project(request, pk)
    wrong = selectors.report_of(request.user, project, period)
    if wrong is None:
        raise Http404
    if not policy.can_report(request.user, project):
        return refused(
            request, PermissionDenied(_("Only the owning unit may correct its project's reports."))
        )
    refusal = services.not_correctable(wrong)
    if refusal is not None:  # asked again by the service; said now, before a form is filled in
        return refused(request, ValidationError(refusal))
    form = ReportCorrectionForm(request.POST or None, report=wrong)
    status = 400 if form.is_bound else 200
    if form.is_bound and "version" in form.errors:
        return refused(request, PreconditionRequired())  # never corrected blind
    if request.method == "POST" and form.is_valid():
        try:
            corrected = services.correct_report(
                actor=actor_of(request),
                report=wrong,
                reason=form.cleaned_data["reason"],
                expected_version=form.cleaned_data["version"],
                **form.figures(),
            )
        except ValidationError as exc:
            form.refusal_in_place(exc)
        except PreconditionFailed:
            form.add_error(
                None,
                _(
                    "Someone changed this report while you were reading it; nothing was saved. "
                    "Reload to see it as it is now."
                ),
            )
            status = 412
        except PermissionDenied as exc:
            return refused(request, exc)
        else:
            return _rated(
                request, corrected, _("The report for %(period)s is corrected and rated %(rag)s.")
            )
    return render(
        request,
        "quality/report_correct.html",
        {"project": project, "report": wrong, "form": form},
        status=status,
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
    project = visible_project(request, pk)
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
    project rated red or not on last month's figures is released only with an override reason."""
    project = visible_project(request, pk)
    if not policy.can_decide_release(request.user, project):
        return refused(
            request, PermissionDenied(_("Only the CQO (or the chair) decides a release."))
        )
    bound = request.method == "POST"
    caution = services.release_caution(project)
    form = ReleaseForm(request.POST if bound else None, caution=caution)
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
        {"project": project, "form": form, "conditions": conditions, "caution": caution},
        status=400 if bound else 200,
    )
