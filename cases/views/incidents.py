"""Incident pages: the list with filters and export, the report form, a case page with its lifecycle, timeline, root cause and measures, and the roll-out of a measure."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from actions import policy as actions_policy
from actions import selectors as actions_selectors
from actions.models import Directive
from cases import policy, selectors, services
from cases.filters import IncidentListFilter
from cases.forms import (
    INCIDENT_ACTS,
    BootstrapForm,
    IncidentReportForm,
    MeasureForm,
    RolloutForm,
    RootCauseForm,
    SeverityForm,
    TimelineEntryForm,
    TransitionForm,
)
from cases.models import Incident, Severity, TimelineEntry
from cases.views.common import (
    ROLL_OUT_REFUSED,
    _refuse_form,
    _submit,
)
from config.api import actor_of
from config.pages import Column, export, export_links, paginate, refused
from config.versioning import etag_of
from systems.models import System

# --- Incidents ------------------------------------------------------------------------------


def incident_columns() -> list[Column]:
    """The incident export, headed in the reader's language."""
    return [
        Column(_("Reference"), lambda i: i.reference),
        Column(_("Title"), lambda i: i.title),
        Column(_("Status"), lambda i: i.get_status_display()),
        Column(_("Severity"), lambda i: i.get_severity_display()),
        Column(_("Category"), lambda i: i.get_category_display()),
        Column(_("Domain"), lambda i: i.get_domain_display()),
        Column(_("Unit"), lambda i: i.unit.code),
        Column(_("Reporter"), lambda i: i.reporter.username),
        Column(_("Occurred at"), lambda i: i.occurred_at),
        Column(_("Detected at"), lambda i: i.detected_at),
        Column(_("Reported at"), lambda i: i.reported_at),
        Column(_("Personal data involved"), lambda i: i.personal_data_involved),
        Column(
            _("Affected systems"),
            lambda i: ", ".join(s.code for s in i.affected_systems.all()),
        ),
        Column(_("Closed at"), lambda i: i.closed_at),
    ]


@login_required
def incidents(request: HttpRequest) -> HttpResponse:
    """Incidents the reader may see, filtered, paged, and exported as CSV or Excel."""
    filterset = IncidentListFilter(
        request.GET, queryset=selectors.incidents_for(request.user), request=request
    )
    # A filter that does not parse (a date out of range) shows its error, no rows, and a 400.
    valid = filterset.is_valid()
    rows = filterset.qs if valid else filterset.queryset.none()
    response = (
        export(request, name="incidents", columns=incident_columns(), rows=rows) if valid else None
    )
    if response is not None:
        return response
    return render(
        request,
        "cases/incident_list.html",
        {
            "filter": filterset,
            "page": paginate(request, rows),
            "exports": export_links(request),
            "can_report": policy.can_report_any_incident(request.user),
        },
        status=200 if valid else 400,
    )


@login_required
def incident_new(request: HttpRequest) -> HttpResponse:
    """A unit member reports an incident for one of their units."""
    form = IncidentReportForm(request.POST or None, user=request.user)
    unit_field: Any = form.fields["unit"]
    if not unit_field.queryset.exists():
        return refused(
            request,
            PermissionDenied(_("You belong to no business unit, so you cannot report incidents.")),
        )
    if request.method != "POST":
        return render(request, "cases/incident_form.html", {"form": form})
    return _submit(
        request,
        form,
        lambda data: services.report_incident(actor=actor_of(request), **data),
        invalid=lambda: render(request, "cases/incident_form.html", {"form": form}, status=400),
        done=lambda incident: (
            _("Incident %(reference)s reported.") % {"reference": incident.reference},
            redirect("cases:incident", pk=incident.pk),
        ),
    )


def _incident(request: HttpRequest, pk: int) -> Incident:
    """The incident if the reader may see it; otherwise a 404 (its existence is not leaked)."""
    return get_object_or_404(selectors.incidents_for(request.user), pk=pk)


def _label(choices: Any, value: str) -> str:
    return str(choices(value).label) if value in choices.values else value


def _timeline(incident: Incident) -> list[dict[str, Any]]:
    """Entries with their values named in the reader's language. The text the service writes
    for a bare status change ("Reported.", "a → b.") repeats the values, so it is not shown."""
    rows = []
    for entry in selectors.timeline_of(incident):
        choices: Any = Incident.Status if entry.kind == TimelineEntry.Kind.STATUS else Severity
        generated = entry.kind == TimelineEntry.Kind.STATUS and entry.text in {
            "Reported.",
            f"{entry.from_value} → {entry.to_value}.",
        }
        rows.append(
            {
                "entry": entry,
                "from": _label(choices, entry.from_value) if entry.from_value else "",
                "to": _label(choices, entry.to_value) if entry.to_value else "",
                "text": "" if generated else entry.text,
            }
        )
    return rows


CRITERIA_NAMES = {
    "internet_facing": gettext_lazy("Internet-facing"),
    "handles_personal_data": gettext_lazy("Handles personal data"),
    "mfa_enforced": gettext_lazy("MFA enforced"),
    "environment": gettext_lazy("Environment"),
    "criticality": gettext_lazy("Criticality"),
    "criticality_at_least": gettext_lazy("Criticality at least"),
    "status": gettext_lazy("System status"),
    "registration": gettext_lazy("Registration"),
    "units": gettext_lazy("Only these units"),
}
CRITERIA_CHOICES: dict[str, Any] = {
    "environment": System.Environment,
    "criticality": System.Criticality,
    "criticality_at_least": System.Criticality,
    "status": System.Status,
    "registration": System.Registration,
}


def _criteria_lines(criteria: dict[str, Any]) -> list[str]:
    """A measure's criteria in the reader's words ("Internet-facing: Yes")."""
    lines = []
    for key, value in criteria.items():
        if isinstance(value, bool):
            shown = _("Yes") if value else _("No")
        else:
            values = value if isinstance(value, list) else [value]
            choices = CRITERIA_CHOICES.get(key)
            shown = ", ".join(_label(choices, v) if choices else str(v) for v in values)
        name = CRITERIA_NAMES.get(key, key)
        lines.append(_("%(criterion)s: %(value)s") % {"criterion": name, "value": shown})
    return lines


def _incident_page(
    request: HttpRequest, incident: Incident, *, status: int = 200, **forms: BootstrapForm
) -> HttpResponse:
    """The incident's page; a form that failed comes back in `forms` with its errors."""
    user = request.user
    can_change = policy.can_change_incident(user, incident)
    closed = incident.status == Incident.Status.CLOSED
    acts = [
        (act, INCIDENT_ACTS[act])
        for act, moves in services.INCIDENT_FLOW.items()
        if incident.status in moves
    ]
    measures = selectors.measures_of(incident, user)
    rolled_out: dict[int, list[Directive]] = {}
    if measures:
        for directive in (
            actions_selectors.directives_for(user)
            .filter(origin_measure__incident=incident)
            .exclude(status=Directive.Status.WITHDRAWN)
        ):
            rolled_out.setdefault(directive.origin_measure_id or 0, []).append(directive)
    context = {
        "incident": incident,
        "timeline": _timeline(incident),
        "measures": [
            {
                "measure": m,
                "criteria": _criteria_lines(m.criteria),
                "systems": codes,
                "directives": rolled_out.get(m.pk, []),
            }
            for m, codes in measures
        ],
        "can_change": can_change,
        "closed": closed,
        "acts": acts if can_change else [],
        "can_roll_out": actions_policy.can_issue_directive(user, incident.domain),
        "transition_form": forms.get("transition_form") or TransitionForm(),
        "note_form": forms.get("note_form") or TimelineEntryForm(),
        "severity_form": forms.get("severity_form")
        or SeverityForm(initial={"severity": incident.severity}),
        "root_cause_form": forms.get("root_cause_form")
        or RootCauseForm(initial={"root_cause": incident.root_cause, "version": etag_of(incident)}),
        "measure_form": forms.get("measure_form") or MeasureForm(),
    }
    return render(request, "cases/incident_detail.html", context, status=status)


@login_required
def incident(request: HttpRequest, pk: int) -> HttpResponse:
    return _incident_page(request, _incident(request, pk))


def _back_to(incident: Incident, notice: str) -> tuple[str, HttpResponse]:
    return notice, redirect("cases:incident", pk=incident.pk)


@login_required
@require_POST
def incident_transition(request: HttpRequest, pk: int) -> HttpResponse:
    """Press one of the lifecycle's buttons; the service refuses what the rules forbid."""
    incident = _incident(request, pk)
    form = TransitionForm(request.POST)
    return _submit(
        request,
        form,
        lambda data: services.transition_incident(
            actor=actor_of(request), incident=incident, **data
        ),
        invalid=lambda: _refuse_form(request, form),
        done=lambda moved: _back_to(
            moved,
            _("%(reference)s is now %(status)s.")
            % {"reference": moved.reference, "status": moved.get_status_display()},
        ),
    )


@login_required
@require_POST
def incident_note(request: HttpRequest, pk: int) -> HttpResponse:
    incident = _incident(request, pk)
    form = TimelineEntryForm(request.POST)
    return _submit(
        request,
        form,
        lambda data: services.add_timeline_entry(
            actor=actor_of(request), incident=incident, **data
        ),
        invalid=lambda: _incident_page(request, incident, status=400, note_form=form),
        done=lambda entry: _back_to(incident, _("Added to the timeline.")),
    )


@login_required
@require_POST
def incident_severity(request: HttpRequest, pk: int) -> HttpResponse:
    incident = _incident(request, pk)
    form = SeverityForm(request.POST)
    return _submit(
        request,
        form,
        lambda data: services.change_severity(actor=actor_of(request), incident=incident, **data),
        invalid=lambda: _incident_page(request, incident, status=400, severity_form=form),
        done=lambda changed: _back_to(
            changed,
            _("The severity is now %(severity)s.") % {"severity": changed.get_severity_display()},
        ),
    )


@login_required
@require_POST
def incident_root_cause(request: HttpRequest, pk: int) -> HttpResponse:
    """Record the root cause against the version read, so a stale page cannot overwrite."""
    incident = _incident(request, pk)
    form = RootCauseForm(request.POST)
    return _submit(
        request,
        form,
        lambda data: services.update_incident(
            actor=actor_of(request),
            incident=incident,
            expected_version=data["version"],
            root_cause=data["root_cause"],
        ),
        invalid=lambda: _incident_page(request, incident, status=400, root_cause_form=form),
        done=lambda changed: _back_to(changed, _("Root cause saved.")),
    )


@login_required
@require_POST
def incident_measure(request: HttpRequest, pk: int) -> HttpResponse:
    incident = _incident(request, pk)
    form = MeasureForm(request.POST)
    return _submit(
        request,
        form,
        lambda data: services.add_measure(
            actor=actor_of(request),
            incident=incident,
            description=data["description"],
            criteria=form.criteria(),
        ),
        invalid=lambda: _incident_page(request, incident, status=400, measure_form=form),
        done=lambda measure: _back_to(incident, _("Recurrence-prevention measure recorded.")),
    )


@login_required
def measure_rollout(request: HttpRequest, pk: int, measure: int) -> HttpResponse:
    """Roll a measure out to every system its criteria match: first a confirmation showing
    how many systems the directive will reach, then (POST) the directive is issued."""
    incident = _incident(request, pk)
    chosen = get_object_or_404(incident.measures.select_related("created_by"), pk=measure)
    may = actions_policy.can_issue_directive(request.user, incident.domain)
    form = RolloutForm(request.POST or None)

    def page(status: int = 200) -> HttpResponse:
        if not may:
            return refused(request, PermissionDenied(ROLL_OUT_REFUSED))
        systems = selectors.matching_system_codes(chosen, request.user)
        directives = (
            actions_selectors.directives_for(request.user)
            .filter(origin_measure=chosen)
            .exclude(status=Directive.Status.WITHDRAWN)
        )
        context = {
            "incident": incident,
            "measure": chosen,
            "criteria": _criteria_lines(chosen.criteria),
            "systems": systems,
            "directives": list(directives),
            "form": form,
        }
        return render(request, "cases/measure_rollout.html", context, status=status)

    if request.method != "POST":
        return page()
    return _submit(
        request,
        form,
        lambda data: services.roll_out_measure(actor=actor_of(request), measure=chosen, **data),
        invalid=lambda: page(status=400),
        done=lambda directive: _back_to(
            incident,
            _("Directive %(reference)s issued: %(count)s actions, one per matching system.")
            % {"reference": directive.reference, "count": directive.actions.count()},
        ),
    )
