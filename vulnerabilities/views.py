"""Pages of vulnerabilities: the findings list and a finding's page with its decisions, the
morning-of question with its directive, and the CISO's remediation deadlines."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST

from accounts.models import Domain
from actions import policy as actions_policy
from config.api import actor_of
from config.confirm import Confirmation, ask, confirmed
from config.errors import Conflict, PreconditionFailed, PreconditionRequired
from config.pages import EXPORT_LIMIT, Column, export, export_links, paginate, refused
from systems.models import System
from vulnerabilities import policy, selectors
from vulnerabilities.forms import (
    AcceptRiskForm,
    ConfirmFindingForm,
    DeadlinesForm,
    ExposureDirectiveForm,
    ExposureForm,
    FalsePositiveForm,
    FindingListFilter,
    VersionedForm,
)
from vulnerabilities.models import Finding, RemediationDeadline
from vulnerabilities.services import deadlines as deadline_services
from vulnerabilities.services import exposure as exposure_services
from vulnerabilities.services import findings as finding_services

REFUSALS = (PermissionDenied, Conflict, PreconditionFailed, PreconditionRequired, ValidationError)


def _yes_no(value: bool) -> str:
    return _("Yes") if value else _("No")


# --- The list ---------------------------------------------------------------------------------


def finding_columns() -> list[Column]:
    """The findings export, headed in the reader's language."""
    return [
        Column(_("Vulnerability"), lambda f: f.vulnerability.key),
        Column(_("Business unit"), lambda f: f.system.unit.code),
        Column(_("System"), lambda f: f.system.code),
        Column(_("Package"), lambda f: f.package),
        Column(_("Version"), lambda f: f.version),
        Column(_("Fixed in"), lambda f: f.fixed_in),
        Column(_("Severity"), lambda f: f.get_severity_display()),
        Column(_("CVSS score"), lambda f: f.vulnerability.cvss_score),
        Column(_("Exploited (KEV)"), lambda f: _yes_no(f.vulnerability.kev)),
        Column(_("Priority"), lambda f: f.get_priority_display()),
        Column(_("State"), lambda f: f.get_state_display()),
        Column(_("Due"), lambda f: f.due_on),
        Column(_("First seen"), lambda f: f.first_seen_at),
        Column(_("Remediation action"), lambda f: f.action.reference if f.action_id else ""),
    ]


@login_required
def finding_list(request: HttpRequest) -> HttpResponse:
    """The findings the reader may see, open and to review unless asked otherwise; the same
    queries for one finding or a thousand."""
    findings = selectors.findings_for(request.user).order_by("due_on", "pk")
    filters = FindingListFilter(request.GET, queryset=findings, request=request)
    valid = filters.is_valid()
    rows = filters.qs if valid else findings.none()
    if valid:
        download = export(
            request, name="findings", columns=finding_columns(), rows=rows[:EXPORT_LIMIT]
        )
        if download is not None:
            return download
    return render(
        request,
        "vulnerabilities/finding_list.html",
        {
            "filter": filters,
            "page": paginate(request, rows),
            "exports": export_links(request),
            "today": timezone.localdate(),
        },
        status=200 if valid else 400,
    )


# --- A finding --------------------------------------------------------------------------------


def _visible_finding(request: HttpRequest, pk: int) -> Finding:
    """A finding the reader may see, or a 404 (its existence is not leaked)."""
    return get_object_or_404(
        selectors.findings_for(request.user).select_related(
            "component",
            "component__sbom",
            "affected_range",
            "affected_range__advisory",
            "decided_by",
        ),
        pk=pk,
    )


def _finding_page(
    request: HttpRequest,
    finding: Finding,
    *,
    bound: VersionedForm | None = None,
    status: int = 200,
) -> HttpResponse:
    """A finding's page with the decisions the reader may take on it (the buttons come from
    the policy; the services decide when pressed). `bound` is a form sent back with errors."""
    user = request.user
    live = finding.state in {Finding.State.OPEN, Finding.State.REVIEW}
    may_triage = live and policy.triage_office(user, finding) is not None
    forms: dict[str, VersionedForm | None] = {
        "fp_form": FalsePositiveForm.for_finding(finding) if may_triage else None,
        "confirm_form": (
            ConfirmFindingForm.for_finding(finding)
            if may_triage and finding.state == Finding.State.REVIEW
            else None
        ),
        "accept_form": (
            AcceptRiskForm.for_finding(finding)
            if finding.state == Finding.State.OPEN and policy.can_accept_risk(user)
            else None
        ),
    }
    if bound is not None:
        forms[f"{bound.prefix}_form"] = bound
    vulnerability = finding.vulnerability
    return render(
        request,
        "vulnerabilities/finding_detail.html",
        {
            "finding": finding,
            "vulnerability": vulnerability,
            "aliases": [a.name for a in vulnerability.aliases.all() if a.name != vulnerability.key],
            "advisories": vulnerability.advisories.order_by("source", "source_id"),
            # What saw it: each scan's sighting, newest first (one query; the last hundred).
            "sightings": finding.sightings.select_related("scan").order_by(
                "-scan__uploaded_at", "-scan_id"
            )[:100],
            **forms,
        },
        status=status,
    )


@login_required
def finding_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _finding_page(request, _visible_finding(request, pk))


def _decide(
    request: HttpRequest, pk: int, form_class: type[VersionedForm], act: Any, done: str
) -> HttpResponse:
    """Parse a decision's form, hand it to its service, and come back to the finding."""
    finding = _visible_finding(request, pk)
    form = form_class(request.POST, prefix=form_class.prefix)
    if not form.is_valid():
        return _finding_page(request, finding, bound=form, status=400)
    arguments = dict(form.cleaned_data)
    version = arguments.pop("version")
    try:
        act(actor=actor_of(request), finding=finding, expected_version=version, **arguments)
    except ValidationError as exc:
        form.refusal_in_place(exc)
        return _finding_page(request, finding, bound=form, status=400)
    except REFUSALS as exc:
        return refused(request, exc)
    messages.success(request, done)
    return redirect("vulnerabilities:finding", pk=finding.pk)


@login_required
@require_POST
def mark_false_positive(request: HttpRequest, pk: int) -> HttpResponse:
    return _decide(
        request,
        pk,
        FalsePositiveForm,
        finding_services.mark_false_positive,
        _("The finding is marked a false positive."),
    )


@login_required
@require_POST
def confirm_finding(request: HttpRequest, pk: int) -> HttpResponse:
    return _decide(
        request,
        pk,
        ConfirmFindingForm,
        finding_services.confirm,
        _("The finding is confirmed and open, with a deadline."),
    )


@login_required
@require_POST
def accept_risk(request: HttpRequest, pk: int) -> HttpResponse:
    return _decide(
        request,
        pk,
        AcceptRiskForm,
        finding_services.accept_risk,
        _("The risk is accepted until the date given; the finding opens again after it."),
    )


# --- The morning-of question ------------------------------------------------------------------


def _may_direct(user: Any) -> bool:
    return actions_policy.can_issue_directive(user, Domain.SECURITY)


@login_required
def exposure(request: HttpRequest) -> HttpResponse:
    """Which of the systems the reader sees run an affected version of a package, with the
    count per unit; the CISO (or the chair) may send those systems a directive from here."""
    asked = "package" in request.GET
    form = ExposureForm(request.GET if asked else None)
    answer = None
    if asked and form.is_valid():
        try:
            answer = selectors.exposure(
                request.user,
                package=form.cleaned_data["package"],
                vers=form.cleaned_data["range"],
            )
        except ValidationError as exc:
            form.refusal_in_place(exc)
    directive_form = None
    if answer is not None and answer.rows and _may_direct(request.user):
        directive_form = ExposureDirectiveForm(
            initial={"package": form.cleaned_data["package"], "range": form.cleaned_data["range"]}
        )
    return _exposure_page(request, form, answer, directive_form, status=400 if form.errors else 200)


def _exposure_page(
    request: HttpRequest,
    form: ExposureForm,
    answer: Any,
    directive_form: ExposureDirectiveForm | None,
    *,
    status: int = 200,
) -> HttpResponse:
    if answer is not None:
        criticality, status_ = dict(System.Criticality.choices), dict(System.Status.choices)
        for row in answer.rows:
            row["criticality"] = criticality.get(row["system__criticality"], "")
            row["status"] = status_.get(row["system__status"], "")
    return render(
        request,
        "vulnerabilities/exposure.html",
        {
            "form": form,
            "answer": answer,
            "systems": len(answer.system_ids) if answer is not None else 0,
            "per_unit": sorted(answer.per_unit.items()) if answer is not None else [],
            "directive_form": directive_form,
        },
        status=status,
    )


@login_required
@require_POST
def exposure_directive(request: HttpRequest) -> HttpResponse:
    """A security directive to exactly the systems the answer named, drafted and issued in one
    step after the confirmation page (which lists the systems and carries their ids)."""
    if not _may_direct(request.user):
        return refused(
            request,
            PermissionDenied(_("Only the CISO (or the chair) issues security directives.")),
        )
    form = ExposureDirectiveForm(request.POST)
    question = ExposureForm(
        {"package": request.POST.get("package", ""), "range": request.POST.get("range", "")}
    )
    answer = None
    if question.is_valid():
        try:
            answer = selectors.exposure(
                request.user,
                package=question.cleaned_data["package"],
                vers=question.cleaned_data["range"],
            )
        except ValidationError as exc:
            question.refusal_in_place(exc)
    if answer is None or not form.is_valid():
        return _exposure_page(request, question, answer, form, status=400)
    if not confirmed(request):
        ids = answer.system_ids
        if not ids:
            form.add_error(
                None, _("No system runs an affected version: there is no one to direct.")
            )
            return _exposure_page(request, question, answer, form, status=400)
        return ask(request, _directive_confirmation(form, answer, ids))
    return _issue_to_systems(request, form, question, answer)


def _issue_to_systems(
    request: HttpRequest, form: ExposureDirectiveForm, question: ExposureForm, answer: Any
) -> HttpResponse:
    """The confirmed second post: draft and issue together, so no draft is left behind when
    issuing is refused."""
    # The systems the confirmation page listed, as far as they still run an affected version
    # and the reader still sees them: the directive goes to those, not to whatever the
    # question would answer later.
    try:
        directive = exposure_services.direct_exposed(
            actor=actor_of(request),
            package=question.cleaned_data["package"],
            vers=question.cleaned_data.get("range") or "",
            title=form.cleaned_data["title"],
            body=form.cleaned_data["body"],
            deadline=form.cleaned_data["deadline"],
            system_ids=form.system_ids(),
        )
    except ValidationError as exc:
        form.refusal_in_place(exc)
        return _exposure_page(request, question, answer, form, status=400)
    except REFUSALS as exc:
        return refused(request, exc)
    messages.success(
        request,
        ngettext(
            "The directive is issued to %(count)s system; its action is created.",
            "The directive is issued to %(count)s systems; their actions are created.",
            directive.actions.count(),
        )
        % {"count": directive.actions.count()},
    )
    return redirect("actions:directive", pk=directive.pk)


def _directive_confirmation(
    form: ExposureDirectiveForm, answer: Any, ids: list[int]
) -> Confirmation:
    codes = sorted({f"{row['system__unit__code']}/{row['system__code']}" for row in answer.rows})
    data = form.cleaned_data
    return Confirmation(
        title=_("Issue a security directive"),
        message=_("You are about to issue “%(title)s” to the systems that run %(package)s.")
        % {"title": data["title"], "package": answer.package},
        consequences=[
            ngettext(
                "%(count)s action is created now, one per system, due %(deadline)s:",
                "%(count)s actions are created now, one per system, due %(deadline)s:",
                len(ids),
            )
            % {
                "count": len(ids),
                "deadline": formats.date_format(data["deadline"], "SHORT_DATE_FORMAT"),
            },
            ", ".join(codes[:200]) + (" …" if len(codes) > 200 else ""),
            _("Each unit is told, and the actions are chased until they are verified."),
        ],
        action=reverse("vulnerabilities:exposure-directive"),
        button=_("Issue now"),
        back=reverse("vulnerabilities:exposure")
        + "?"
        + urlencode({"package": data["package"], "range": data["range"] or ""}),
        fields=[
            ("title", data["title"]),
            ("body", data["body"]),
            ("deadline", data["deadline"].isoformat()),
            ("package", data["package"]),
            ("range", data["range"] or ""),
            ("systems", ",".join(map(str, ids))),
        ],
        tone="danger",
    )


# --- The CISO's deadlines ---------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def deadlines(request: HttpRequest) -> HttpResponse:
    """Days to fix per priority, for everyone signed in; the CISO changes them, the changed
    rows together or not at all."""
    current = list(RemediationDeadline.objects.select_related("updated_by").order_by("priority"))
    may_set = policy.can_set_deadlines(request.user)
    if request.method == "POST" and not may_set:
        return refused(request, PermissionDenied(_("Only the CISO sets remediation deadlines.")))
    form = DeadlinesForm(request.POST or None, deadlines=current) if may_set else None
    status = 200
    if form is not None and form.is_bound:
        status = 400
        if form.is_valid():
            changed = form.changed_rows()
            failed = False
            try:
                with transaction.atomic():
                    for deadline, days, version in changed:
                        try:
                            deadline_services.set_deadline(
                                actor=actor_of(request),
                                deadline=deadline,
                                days=days,
                                expected_version=version or None,
                            )
                        except ValidationError as exc:
                            form.add_error(f"{deadline.priority}_days", exc.messages)
                            failed = True
                        except PreconditionFailed:
                            form.add_error(
                                None,
                                _(
                                    "Someone changed the deadlines while you were reading "
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
                            "Deadlines changed. Findings already open keep their due dates; "
                            "new ones get these."
                        ),
                    )
                else:
                    messages.info(request, _("Nothing was changed."))
                return redirect("vulnerabilities:deadlines")
    return render(
        request,
        "vulnerabilities/deadlines.html",
        {
            "rows": form.rows() if form is not None else [(d, None) for d in current],
            "form": form,
        },
        status=status,
    )
