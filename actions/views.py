"""Pages of actions and directives: lists, a page per action and directive, and their forms.

Thin: parse with actions.forms, read through actions.selectors, write through ONE service, and
ask actions.policy only to decide which buttons to show; a refused post is the service's word.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import formats
from django.utils.translation import gettext as _t
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from accounts import selectors as accounts_selectors
from accounts.models import Domain
from actions import charts, policy, selectors, services
from actions.filters import ActionListFilter, DirectiveListFilter
from actions.forms import (
    AssignForm,
    DirectiveForm,
    ReplanForm,
    TransitionForm,
    UpdateForm,
    WithdrawForm,
    put_errors,
)
from actions.models import Action, Directive
from config import text
from config.confirm import Confirmation, ask, confirmed
from config.errors import Conflict, PreconditionFailed, PreconditionRequired
from config.pages import Column, export, export_links, paginate, refused

REFUSALS = (PermissionDenied, Conflict, PreconditionFailed, PreconditionRequired, ValidationError)

# The buttons of an action's page, in the order they show; who may press each is policy's call.
ACTS: dict[str, dict[str, Any]] = {
    "start": {"label": _("Start work"), "style": "primary", "note": False},
    "submit": {"label": _("Submit for verification"), "style": "primary", "note": False},
    "verify": {"label": _("Verify"), "style": "success", "note": False},
    "return": {"label": _("Return for more work"), "style": "warning", "note": True},
    "cancel": {"label": _("Cancel the action"), "style": "danger", "note": True},
}
DONE = {
    "start": _("Work on the action has started."),
    "submit": _("The action is submitted for verification."),
    "verify": _("The action is verified."),
    "return": _("The action is returned to the unit."),
    "cancel": _("The action is cancelled."),
}
MAY = {
    "start": policy.can_progress,
    "submit": policy.can_progress,
    "verify": policy.can_verify,
    "return": policy.can_verify,
    "cancel": policy.can_cancel,
}
QUICK_VIEWS = [
    ("", _("All")),
    ("mine", _("Assigned to me")),
    ("my_unit", _("My unit")),
    ("overdue", _("Overdue")),
]
CRITERIA_LABELS = {
    "internet_facing": _("Internet-facing"),
    "handles_personal_data": _("Handles personal data"),
    "mfa_enforced": _("MFA enforced"),
    "environment": _("Environment"),
    "criticality": _("Criticality"),
    "criticality_at_least": _("Criticality at least"),
    "status": _("Status"),
    "registration": _("Registration"),
    "units": _("Business units"),
}


def _yes_no(value: bool) -> str:
    return _t("Yes") if value else _t("No")


ACTION_COLUMNS = [
    Column(_("Reference"), lambda a: a.reference),
    Column(_("Title"), lambda a: a.title),
    Column(_("Unit"), lambda a: a.unit.code),
    Column(_("Domain"), lambda a: a.get_domain_display()),
    Column(_("Status"), lambda a: a.get_status_display()),
    Column(_("Priority"), lambda a: a.get_priority_display()),
    Column(_("Due on"), lambda a: a.due_on),
    Column(_("Overdue"), lambda a: _yes_no(a.is_overdue)),
    Column(_("Escalation level"), lambda a: a.escalation_level),
    Column(_("Assignee"), lambda a: a.assignee.username if a.assignee else ""),
    Column(_("System"), lambda a: a.system.code if a.system else ""),
    Column(_("Percent done"), lambda a: a.percent_done),
]


def _addressed(directive: Directive) -> str:
    if directive.criteria:
        return _t("Systems matching criteria")
    if directive.all_units:
        return _t("Every business unit")
    return ", ".join(unit.code for unit in directive.units.all())


DIRECTIVE_COLUMNS = [
    Column(_("Reference"), lambda d: d.reference),
    Column(_("Title"), lambda d: d.title),
    Column(_("Domain"), lambda d: d.get_domain_display()),
    Column(_("Status"), lambda d: d.get_status_display()),
    Column(_("Deadline"), lambda d: d.deadline),
    Column(_("Addressed to"), _addressed),
    Column(_("Actions"), lambda d: d.action_count),
    Column(_("Verified"), lambda d: d.verified_count),
    Column(_("Issued by"), lambda d: d.issued_by.username if d.issued_by else ""),
    Column(_("Issued at"), lambda d: d.issued_at),
]


# --- Actions --------------------------------------------------------------------------------


@login_required
def action_list(request: HttpRequest) -> HttpResponse:
    """The reader's actions, with quick views, filters, export and the overdue trend."""
    filters = ActionListFilter(
        request.GET, queryset=selectors.actions_for(request.user), request=request
    )
    # A filter that does not parse (a date out of range) shows its error, no rows, and a 400.
    valid = filters.is_valid()
    rows = filters.qs if valid else filters.queryset.none()
    exported = export(request, name="actions", columns=ACTION_COLUMNS, rows=rows) if valid else None
    if exported is not None:
        return exported
    quick = next((key for key, _label in QUICK_VIEWS if key and request.GET.get(key)), "")
    return render(
        request,
        "actions/action_list.html",
        {
            "filter": filters,
            "page": paginate(request, selectors.as_listed(rows)),
            "exports": export_links(request),
            "quick_views": QUICK_VIEWS,
            "quick_filters": [key for key, _label in QUICK_VIEWS if key] + list(PERSON_FILTERS),
            "quick": quick,
            "narrowed": _narrowed_to_person(request, filters) if valid else None,
            "workload_units": _workload_units(request, filters if valid else None),
            "trend": charts.overdue_trend_svg(selectors.overdue_trend_shown(request.user)),
        },
        status=200 if valid else 400,
    )


# The unit workload page's links narrow the list to one person's share (or nobody's): no drop-
# down of everyone's names in the filter bar, but a line saying so, with the way back.
PERSON_FILTERS = ("assignee", "unassigned")


def _workload_units(request: HttpRequest, filters: ActionListFilter | None) -> list[str]:
    """The units whose workload the list links to: those the reader heads, and the unit the
    list is filtered to when the reader may see its workload (oversight)."""
    codes = selectors.workload_units(request.user)
    chosen = filters.form.cleaned_data.get("unit") if filters is not None else None
    if chosen is None or chosen.code in codes:
        return codes
    if policy.can_see_workload(request.user, chosen):
        codes.append(chosen.code)
    return codes


def _narrowed_to_person(request: HttpRequest, filters: ActionListFilter) -> dict[str, Any] | None:
    data = filters.form.cleaned_data
    assignee, unassigned = data.get("assignee"), data.get("unassigned")
    if assignee:
        said = _t("Only the actions assigned to %(person)s.") % {"person": assignee}
    elif unassigned is True:
        said = _t("Only the actions assigned to nobody in particular.")
    elif unassigned is False:
        said = _t("Only the actions assigned to someone.")
    else:
        return None
    everyone = request.GET.copy()
    for key in (*PERSON_FILTERS, "page"):
        everyone.pop(key, None)
    query = everyone.urlencode()
    return {"said": said, "everyone": reverse("actions:actions") + (f"?{query}" if query else "")}


def _acts(user: Any, action: Action) -> list[dict[str, Any]]:
    """The transitions the state allows now and the reader may press (policy decides)."""
    return [
        {"act": act, **ACTS[act]}
        for act in ACTS
        if action.status in services.ACTION_FLOW[act] and MAY[act](user, action)
    ]


def _action_page(
    request: HttpRequest,
    action: Action,
    *,
    status: int = 200,
    update_form: UpdateForm | None = None,
    replan_form: ReplanForm | None = None,
    act_forms: dict[str, TransitionForm] | None = None,
    assign_form: AssignForm | None = None,
) -> HttpResponse:
    user = request.user
    open_work = action.status not in services.FINISHED
    version = services.etag(action)
    acts = _acts(user, action)
    act_forms = act_forms or {}
    for act in acts:
        act["form"] = act_forms.get(act["act"]) or TransitionForm(initial={"version": version})
    can_update = open_work and policy.can_progress(user, action)
    can_replan = open_work and policy.can_replan(user, action)
    can_assign = open_work and policy.can_assign(user, action)
    return render(
        request,
        "actions/action_detail.html",
        {
            "action": action,
            "updates": selectors.updates_of(action),
            "acts": acts,
            "can_update": can_update,
            "update_form": update_form or UpdateForm(initial={"version": version}),
            "can_replan": can_replan,
            "replan_form": replan_form
            or (
                ReplanForm(initial={"version": version}, unit_group_id=action.unit.group_id)
                if can_replan
                else None
            ),
            "can_assign": can_assign,
            "assign_form": assign_form
            or (
                AssignForm(
                    initial={
                        "version": version,
                        "assignee": getattr(action.assignee, "username", None),
                    },
                    unit_group_id=action.unit.group_id,
                )
                if can_assign
                else None
            ),
        },
        status=status,
    )


def _visible_action(request: HttpRequest, pk: int) -> Action:
    return get_object_or_404(selectors.action_details_for(request.user), pk=pk)


@login_required
def action_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _action_page(request, _visible_action(request, pk))


@login_required
@require_POST
def action_act(request: HttpRequest, pk: int, act: str) -> HttpResponse:
    """Start, submit, verify, return or cancel, against the version the reader saw."""
    if act not in services.ACTION_FLOW:
        raise Http404
    action = _visible_action(request, pk)
    form = TransitionForm(request.POST)
    if not form.is_valid():
        if "version" in form.errors:
            return refused(request, PreconditionRequired())
        return _action_page(request, action, status=400, act_forms={act: form})
    try:
        services.transition_action(
            actor=request.user,  # type: ignore[arg-type]
            action=action,
            act=act,
            expected_version=form.cleaned_data["version"],
            note=form.cleaned_data["note"],
        )
    except ValidationError as exc:
        if hasattr(exc, "error_dict") and "note" in exc.error_dict:
            put_errors(form, exc)
            return _action_page(request, action, status=400, act_forms={act: form})
        return refused(request, exc)
    except REFUSALS as exc:
        return refused(request, exc)
    messages.success(request, DONE[act])
    return redirect("actions:action", pk=action.pk)


@login_required
@require_POST
def action_update(request: HttpRequest, pk: int) -> HttpResponse:
    """The owning unit reports progress with a note, a percentage and evidence files."""
    action = _visible_action(request, pk)
    form = UpdateForm(request.POST, request.FILES)
    if not form.is_valid():
        if "version" in form.errors:
            return refused(request, PreconditionRequired())
        return _action_page(request, action, status=400, update_form=form)
    data = form.cleaned_data
    try:
        services.add_update(
            actor=request.user,  # type: ignore[arg-type]
            action=action,
            expected_version=data["version"],
            note=data["note"],
            percent_done=data["percent_done"],
            files=data["evidence"],
        )
    except ValidationError as exc:
        if hasattr(exc, "error_dict") and set(exc.error_dict) & {"note", "percent_done", "files"}:
            put_errors(form, exc, aliases={"files": "evidence"})
            return _action_page(request, action, status=400, update_form=form)
        return refused(request, exc)
    except REFUSALS as exc:
        return refused(request, exc)
    messages.success(request, _t("Your update was recorded."))
    return redirect("actions:action", pk=action.pk)


@login_required
@require_POST
def action_replan(request: HttpRequest, pk: int) -> HttpResponse:
    """The issuing office (or the chair) moves the due date, the owner or the domain."""
    action = _visible_action(request, pk)
    form = ReplanForm(request.POST, unit_group_id=action.unit.group_id)
    if not form.is_valid():
        if "version" in form.errors:
            return refused(request, PreconditionRequired())
        return _action_page(request, action, status=400, replan_form=form)
    try:
        services.replan_action(
            actor=request.user,  # type: ignore[arg-type]
            action=action,
            reason=form.cleaned_data["reason"],
            expected_version=form.cleaned_data["version"],
            **form.changes(),
        )
    except ValidationError as exc:
        if hasattr(exc, "error_dict") and "status" not in exc.error_dict:
            put_errors(form, exc)
            return _action_page(request, action, status=400, replan_form=form)
        return refused(request, exc)
    except REFUSALS as exc:
        return refused(request, exc)
    messages.success(request, _t("The action was re-planned."))
    return redirect("actions:action", pk=action.pk)


@login_required
@require_POST
def action_assign(request: HttpRequest, pk: int) -> HttpResponse:
    """The head of the owning unit hands the action to one of the unit's people."""
    action = _visible_action(request, pk)
    form = AssignForm(request.POST, unit_group_id=action.unit.group_id)
    if not form.is_valid():
        if "version" in form.errors:
            return refused(request, PreconditionRequired())
        return _action_page(request, action, status=400, assign_form=form)
    assignee = form.cleaned_data["assignee"]
    try:
        services.assign_action(
            actor=request.user,  # type: ignore[arg-type]
            action=action,
            assignee=assignee,
            expected_version=form.cleaned_data["version"],
        )
    except ValidationError as exc:
        if hasattr(exc, "error_dict") and "assignee" in exc.error_dict:
            put_errors(form, exc)
            return _action_page(request, action, status=400, assign_form=form)
        return refused(request, exc)
    except REFUSALS as exc:
        return refused(request, exc)
    if assignee is None:
        messages.success(request, _t("The action is now the whole unit's."))
    else:
        messages.success(
            request, _t("The action is assigned to %(person)s.") % {"person": str(assignee)}
        )
    return redirect("actions:action", pk=action.pk)


@login_required
def unit_workload(request: HttpRequest, code: str) -> HttpResponse:
    """A unit's unfinished actions per person, for its head and for oversight."""
    unit = get_object_or_404(accounts_selectors.business_units_for(request.user), code=code)
    if not policy.can_see_workload(request.user, unit):
        return refused(
            request,
            PermissionDenied(_t("Only the unit's head and oversight see a unit's workload.")),
        )
    loads = selectors.unit_workload(request.user, unit)
    statuses = [(status, Action.Status(status).label) for status in selectors.UNFINISHED]
    totals = {status: sum(load.counts[status] for load in loads) for status in selectors.UNFINISHED}
    return render(
        request,
        "actions/unit_workload.html",
        {
            "unit": unit,
            "loads": loads,
            "statuses": statuses,
            "totals": [totals[status] for status in selectors.UNFINISHED],
            "total_overdue": sum(load.overdue for load in loads),
            "total": sum(totals.values()),
        },
    )


@login_required
def evidence_file(request: HttpRequest, pk: int, evidence_pk: int) -> FileResponse:
    """An evidence file, for those who may see its action (others get a 404)."""
    evidence = get_object_or_404(
        selectors.evidence_for(request.user), pk=evidence_pk, update__action_id=pk
    )
    try:
        handle = evidence.file.open("rb")
    except FileNotFoundError as exc:
        raise Http404 from exc
    # Files kept before types were read from the content carry what the client declared:
    # those go out as bare bytes, never as a type a browser might render.
    known = evidence.content_type in settings.EVIDENCE_CONTENT_TYPES
    return FileResponse(
        handle,
        as_attachment=True,
        filename=text.one_line(evidence.name) or "evidence",
        content_type=evidence.content_type if known else "application/octet-stream",
    )


# --- Directives -----------------------------------------------------------------------------


def _issuable_domains(user: Any) -> list[str]:
    return [domain for domain in Domain.values if policy.can_issue_directive(user, domain)]


@login_required
def directive_list(request: HttpRequest) -> HttpResponse:
    filters = DirectiveListFilter(
        request.GET, queryset=selectors.directives_for(request.user), request=request
    )
    # A filter that does not parse shows its error, no rows, and a 400, as on every list.
    valid = filters.is_valid()
    rows = filters.qs if valid else filters.queryset.none()
    exported = (
        export(request, name="directives", columns=DIRECTIVE_COLUMNS, rows=rows) if valid else None
    )
    if exported is not None:
        return exported
    return render(
        request,
        "actions/directive_list.html",
        {
            "filter": filters,
            "page": paginate(request, rows),
            "exports": export_links(request),
            "can_issue": bool(_issuable_domains(request.user)),
        },
        status=200 if valid else 400,
    )


@login_required
def directive_new(request: HttpRequest) -> HttpResponse:
    """Draft a directive; its page then previews how far it reaches before it is issued."""
    offered = _issuable_domains(request.user)
    if request.method != "POST":
        if not offered:
            return refused(
                request,
                PermissionDenied(_t("Only the CISO, the CQO or the chair issues directives.")),
            )
        form = DirectiveForm(offered_domains=offered)
        return render(request, "actions/directive_form.html", {"form": form})
    form = DirectiveForm(request.POST, offered_domains=offered)
    if form.is_valid():
        try:
            directive = services.draft_directive(
                actor=request.user,  # type: ignore[arg-type]
                **form.draft_arguments(),
            )
        except ValidationError as exc:
            put_errors(form, exc)
        except REFUSALS as exc:
            return refused(request, exc)
        else:
            messages.success(
                request, _t("The draft is saved. Check how far it reaches, then issue it.")
            )
            return redirect("actions:directive", pk=directive.pk)
    return render(request, "actions/directive_form.html", {"form": form}, status=400)


def _criteria_rows(criteria: dict[str, Any]) -> list[tuple[str, str]]:
    rows = []
    for key, value in criteria.items():
        if isinstance(value, bool):
            shown = _yes_no(value)
        elif isinstance(value, list):
            shown = ", ".join(str(v) for v in value)
        else:
            shown = str(value)
        rows.append((str(CRITERIA_LABELS.get(key, key)), shown))
    return rows


def _directive_page(
    request: HttpRequest,
    directive: Directive,
    *,
    status: int = 200,
    withdraw_form: WithdrawForm | None = None,
) -> HttpResponse:
    user = request.user
    draft = directive.status == Directive.Status.DRAFT
    running = directive.status in {Directive.Status.DRAFT, Directive.Status.ISSUED}
    total = directive.action_count  # type: ignore[attr-defined]
    verified = directive.verified_count  # type: ignore[attr-defined]
    return render(
        request,
        "actions/directive_detail.html",
        {
            "directive": directive,
            "criteria": _criteria_rows(directive.criteria),
            "reach": services.directive_reach(directive) if draft else None,
            "page": paginate(request, selectors.actions_of_directive(user, directive)),
            "completion": round(100 * verified / total) if total else 0,
            "can_issue": draft and policy.can_issue_directive(user, directive.domain),
            "can_withdraw": running and policy.can_withdraw_directive(user, directive),
            "withdraw_form": withdraw_form or WithdrawForm(),
        },
        status=status,
    )


def _visible_directive(request: HttpRequest, pk: int) -> Directive:
    return get_object_or_404(selectors.directives_for(request.user), pk=pk)


@login_required
def directive_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _directive_page(request, _visible_directive(request, pk))


@login_required
@require_POST
def directive_issue(request: HttpRequest, pk: int) -> HttpResponse:
    """Issuing creates an action for every addressed unit or matching system: asked first."""
    directive = _visible_directive(request, pk)
    # A draft is asked about first; anything else goes straight to the service, which says
    # why it cannot be issued (already issued: 409).
    if not confirmed(request) and directive.status == Directive.Status.DRAFT:
        if not policy.can_issue_directive(request.user, directive.domain):
            return refused(
                request,
                PermissionDenied(
                    _t("Only the office owning this domain, or the chair, issues it.")
                ),
            )
        reach = services.directive_reach(directive)
        actions, units = reach.actions, reach.units
        return ask(
            request,
            Confirmation(
                title=_t("Issue the directive"),
                message=_t("You are about to issue %(reference)s %(title)s.")
                % {"reference": directive.reference, "title": directive.title},
                consequences=[
                    ngettext(
                        "%(actions)s action is created now, owned by %(units)s business unit, "
                        "due %(deadline)s.",
                        "%(actions)s actions are created now, owned by %(units)s business units, "
                        "due %(deadline)s.",
                        actions,
                    )
                    % {
                        "actions": actions,
                        "units": units,
                        "deadline": formats.date_format(directive.deadline, "SHORT_DATE_FORMAT"),
                    },
                    _t("Each unit is told, and the actions are chased until they are verified."),
                    _t(
                        "An issued directive is not edited; it can only be withdrawn, with a reason."
                    ),
                ],
                action=reverse("actions:directive-issue", args=[directive.pk]),
                button=_t("Issue now"),
                back=reverse("actions:directive", args=[directive.pk]),
                tone="danger",
            ),
        )
    try:
        services.issue_directive(actor=request.user, directive=directive)  # type: ignore[arg-type]
    except REFUSALS as exc:
        return refused(request, exc)
    messages.success(request, _t("The directive is issued and its actions are created."))
    return redirect("actions:directive", pk=directive.pk)


@login_required
@require_POST
def directive_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    directive = _visible_directive(request, pk)
    form = WithdrawForm(request.POST)
    if not form.is_valid():
        return _directive_page(request, directive, status=400, withdraw_form=form)
    try:
        services.withdraw_directive(
            actor=request.user,  # type: ignore[arg-type]
            directive=directive,
            reason=form.cleaned_data["reason"],
        )
    except ValidationError as exc:
        put_errors(form, exc)
        return _directive_page(request, directive, status=400, withdraw_form=form)
    except REFUSALS as exc:
        return refused(request, exc)
    messages.success(request, _t("The directive is withdrawn; its open actions are cancelled."))
    return redirect("actions:directive", pk=directive.pk)
