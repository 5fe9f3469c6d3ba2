"""Risk pages: the register with filters and export, the register form, a risk's page with reassessment and lifecycle, and the heat map."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from cases import charts, policy, selectors, services
from cases.filters import RiskRegisterFilter
from cases.forms import (
    RISK_ACTS,
    ReassessForm,
    RiskForm,
    RiskTransitionForm,
)
from cases.models import Risk
from cases.views.common import (
    _refuse_form,
    _submit,
)
from config.api import actor_of
from config.pages import Column, export, export_links, paginate, refused
from config.versioning import etag_of

# --- Risks ----------------------------------------------------------------------------------


def risk_columns() -> list[Column]:
    """The risk export, headed in the reader's language."""
    return [
        Column(_("Reference"), lambda r: r.reference),
        Column(_("Title"), lambda r: r.title),
        Column(_("Unit"), lambda r: r.unit.code),
        Column(_("Domain"), lambda r: r.get_domain_display()),
        Column(_("Owner"), lambda r: r.owner.username),
        Column(_("Status"), lambda r: r.get_status_display()),
        Column(_("Treatment"), lambda r: r.get_treatment_display()),
        Column(_("Likelihood (inherent)"), lambda r: r.likelihood),
        Column(_("Impact (inherent)"), lambda r: r.impact),
        Column(_("Inherent score"), lambda r: r.inherent_score),
        Column(_("Inherent level"), lambda r: r.get_inherent_level_display()),
        Column(_("Likelihood (residual)"), lambda r: r.residual_likelihood),
        Column(_("Impact (residual)"), lambda r: r.residual_impact),
        Column(_("Residual score"), lambda r: r.residual_score),
        Column(_("Residual level"), lambda r: r.get_residual_level_display()),
        Column(_("Above appetite"), lambda r: r.above_appetite),
        Column(_("Next review"), lambda r: r.next_review_on),
    ]


@login_required
def risks(request: HttpRequest) -> HttpResponse:
    """The risk register the reader may see, filtered (a heat-map cell too), paged, exported."""
    filterset = RiskRegisterFilter(
        request.GET, queryset=selectors.risks_for(request.user), request=request
    )
    # A filter that does not parse shows its error, no rows, and a 400, as on every list.
    valid = filterset.is_valid()
    rows = filterset.qs if valid else filterset.queryset.none()
    response = export(request, name="risks", columns=risk_columns(), rows=rows) if valid else None
    if response is not None:
        return response
    return render(
        request,
        "cases/risk_list.html",
        {
            "filter": filterset,
            "page": paginate(request, rows),
            "exports": export_links(request),
            "can_register": policy.can_register_any_risk(request.user),
        },
        status=200 if valid else 400,
    )


@login_required
def risk_new(request: HttpRequest) -> HttpResponse:
    form = RiskForm(request.POST or None, user=request.user)
    unit_field: Any = form.fields["unit"]
    if not unit_field.queryset.exists():
        return refused(
            request,
            PermissionDenied(_("You belong to no business unit, so you cannot register risks.")),
        )
    if request.method != "POST":
        return render(request, "cases/risk_form.html", {"form": form})
    return _submit(
        request,
        form,
        lambda data: services.register_risk(actor=actor_of(request), **data),
        invalid=lambda: render(request, "cases/risk_form.html", {"form": form}, status=400),
        done=lambda risk: (
            _("Risk %(reference)s registered.") % {"reference": risk.reference},
            redirect("cases:risk", pk=risk.pk),
        ),
    )


def _risk(request: HttpRequest, pk: int) -> Risk:
    return get_object_or_404(
        selectors.risks_for(request.user).select_related("acceptance_decision", "accepted_by"),
        pk=pk,
    )


def _risk_page(
    request: HttpRequest, risk: Risk, *, status: int = 200, form: ReassessForm | None = None
) -> HttpResponse:
    can_change = policy.can_change_risk(request.user, risk)
    acts = [
        (act, RISK_ACTS[act]) for act, moves in services.RISK_FLOW.items() if risk.status in moves
    ]
    initial = {
        field: getattr(risk, field)
        for field in ("title", "description", "treatment", *services.SCORE_FIELDS)
    }
    context = {
        "risk": risk,
        "can_change": can_change,
        "retired": risk.status == Risk.Status.RETIRED,
        "acts": acts if can_change else [],
        "form": form or ReassessForm(initial={**initial, "version": etag_of(risk)}),
        "transition_form": RiskTransitionForm(),
    }
    return render(request, "cases/risk_detail.html", context, status=status)


@login_required
def risk(request: HttpRequest, pk: int) -> HttpResponse:
    return _risk_page(request, _risk(request, pk))


@login_required
@require_POST
def risk_reassess(request: HttpRequest, pk: int) -> HttpResponse:
    """Re-score a risk against the version read (a stale form is refused, 412)."""
    current = _risk(request, pk)
    form = ReassessForm(request.POST)
    return _submit(
        request,
        form,
        lambda data: services.reassess_risk(
            actor=actor_of(request),
            risk=current,
            expected_version=data["version"],
            **form.changes(),
        ),
        invalid=lambda: _risk_page(request, current, status=400, form=form),
        done=lambda changed: (
            _("Risk %(reference)s reassessed.") % {"reference": changed.reference},
            redirect("cases:risk", pk=changed.pk),
        ),
    )


@login_required
@require_POST
def risk_transition(request: HttpRequest, pk: int) -> HttpResponse:
    current = _risk(request, pk)
    form = RiskTransitionForm(request.POST)
    return _submit(
        request,
        form,
        lambda data: services.transition_risk(actor=actor_of(request), risk=current, **data),
        invalid=lambda: _refuse_form(request, form),
        done=lambda moved: (
            _("%(reference)s is now %(status)s.")
            % {"reference": moved.reference, "status": moved.get_status_display()},
            redirect("cases:risk", pk=moved.pk),
        ),
    )


@login_required
def heatmap(request: HttpRequest) -> HttpResponse:
    """Inherent and residual heat maps side by side; each cell opens the register at that cell."""
    maps = []
    for basis, grid in selectors.heatmaps(request.user).items():
        maps.append(
            {
                "basis": basis,
                "svg": charts.heatmap_svg(grid, basis=basis, link=charts.register_cell_link(basis)),
                "total": sum(map(sum, grid)),
            }
        )
    return render(request, "cases/heatmap.html", {"maps": maps})
