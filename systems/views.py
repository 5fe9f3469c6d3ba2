"""Pages of the system register: the list, registering and correcting a system, and the CISO's
suspension and lifting orders, each shown back for confirmation before it is given."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from accounts import selectors as accounts_selectors
from config.api import actor_of
from config.errors import Conflict, PreconditionFailed
from config.pages import EXPORT_LIMIT, Column, export, export_links, paginate, refused
from config.versioning import etag_of
from systems import policy, selectors, services, views_inventory
from systems.filters import SystemRegisterFilter
from systems.forms import EditSystemForm, LiftForm, RegisterSystemForm, SuspendForm
from systems.models import SuspensionOrder, System


def _yes_no(value: bool) -> str:
    return _("Yes") if value else _("No")


def register_columns() -> list[Column]:
    """The register's export, headed in the reader's language."""
    return [
        Column(_("Code"), lambda s: s.code),
        Column(_("Name"), lambda s: s.name),
        Column(_("Business unit"), lambda s: s.unit.code),
        Column(_("Status"), lambda s: s.get_status_display()),
        Column(_("Environment"), lambda s: s.get_environment_display()),
        Column(_("Criticality"), lambda s: s.get_criticality_display()),
        Column(_("Internet-facing"), lambda s: _yes_no(s.internet_facing)),
        Column(_("Personal data"), lambda s: _yes_no(s.handles_personal_data)),
        Column(_("MFA enforced"), lambda s: _yes_no(s.mfa_enforced)),
        Column(_("Registration"), lambda s: s.get_registration_display()),
        Column(_("Last changed"), lambda s: s.updated_at),
    ]


@login_required
def system_list(request: HttpRequest) -> HttpResponse:
    """The register, filtered; a filter that does not parse shows its error, no rows, and a
    400."""
    systems = selectors.systems_for(request.user).order_by("code")
    filters = SystemRegisterFilter(request.GET, queryset=systems, request=request)
    valid = filters.is_valid()
    rows = filters.qs if valid else systems.none()
    if valid:
        download = export(
            request, name="systems", columns=register_columns(), rows=rows[:EXPORT_LIMIT]
        )
        if download is not None:
            return download
    return render(
        request,
        "systems/system_list.html",
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
    """A unit member registers one of their unit's systems."""
    offered = policy.registrable_units(request.user).order_by("code")
    accepted = accounts_selectors.business_units_for(request.user)
    if request.method == "GET" and not offered.exists():
        return refused(
            request,
            PermissionDenied(_("Only members of a business unit may register its systems.")),
        )
    form = RegisterSystemForm(request.POST or None, offered=offered, accepted=accepted)
    if request.method == "POST" and form.is_valid():
        try:
            system = services.register_system(actor=actor_of(request), **form.cleaned_data)
        except ValidationError as exc:
            form.refusal_in_place(exc)
        except PermissionDenied as exc:
            return refused(request, exc)
        else:
            messages.success(request, _("%(code)s is on the register.") % {"code": system.code})
            return redirect("systems:system", pk=system.pk)
    status = 400 if form.is_bound else 200
    return render(request, "systems/system_register.html", {"form": form}, status=status)


@login_required
def system_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A system's facts, its active order and its suspension history, with the acts the reader
    may do here (the buttons come from the policy; the services decide when pressed)."""
    system = get_object_or_404(selectors.systems_for(request.user), pk=pk)
    orders = (
        selectors.suspensions_for(request.user)
        .filter(system=system)
        .select_related("case")
        .order_by("-issued_at", "-pk")
    )
    active = orders.filter(status=SuspensionOrder.Status.ACTIVE).first()
    may_suspend = (
        active is None
        and system.status != System.Status.RETIRED
        and policy.can_suspend(request.user, system)
    )
    may_lift = active is not None and policy.can_lift(request.user, active)
    return render(
        request,
        "systems/system_detail.html",
        {
            "system": system,
            "active": active,
            "history": paginate(request, orders),
            "may_change": policy.can_change_system(request.user, system),
            "suspend_form": SuspendForm() if may_suspend else None,
            "lift_form": LiftForm() if may_lift else None,
            **views_inventory.inventory_panel(request.user, system),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def edit(request: HttpRequest, pk: int) -> HttpResponse:
    """The owning unit corrects the register; a form read before someone else's change is
    refused (412) rather than overwriting it."""
    system = get_object_or_404(selectors.systems_for(request.user), pk=pk)
    if not policy.can_change_system(request.user, system):
        return refused(request, PermissionDenied(_("Only the owning unit may change this system.")))
    if request.method == "GET":
        form = EditSystemForm(
            initial={
                **{field: getattr(system, field) for field in services.CHANGEABLE_FIELDS},
                "version": etag_of(system),
            }
        )
        return render(request, "systems/system_edit.html", {"system": system, "form": form})
    form = EditSystemForm(request.POST)
    if form.is_valid():
        changes: dict[str, Any] = dict(form.cleaned_data)
        version = changes.pop("version")
        try:
            services.update_system(
                actor=actor_of(request), system=system, expected_version=version, **changes
            )
        except ValidationError as exc:
            form.refusal_in_place(exc)
        except (PermissionDenied, PreconditionFailed) as exc:
            return refused(request, exc)
        else:
            messages.success(
                request, _("The register entry of %(code)s is updated.") % {"code": system.code}
            )
            return redirect("systems:system", pk=system.pk)
    return render(request, "systems/system_edit.html", {"system": system, "form": form}, status=400)


@login_required
@require_http_methods(["GET", "POST"])
def suspend(request: HttpRequest, pk: int) -> HttpResponse:
    """The suspension order in two steps: the order is shown back with what it does, and only
    the confirmed second POST gives it. A repeated confirmation meets the service's 409."""
    system = get_object_or_404(selectors.systems_for(request.user), pk=pk)
    # A link mailed to the CISO may carry the reason, written: the form is filled, the CISO
    # still decides.
    form = SuspendForm(
        request.POST or None, initial={"reason": request.GET.get("reason", "")[:4000]}
    )
    if request.method == "POST" and form.is_valid() and form.confirmed:
        try:
            services.suspend_system(
                actor=actor_of(request),
                system=system,
                reason=form.cleaned_data["reason"],
                case_reference=form.cleaned_data["case"] or None,
            )
        except ValidationError as exc:
            form.refusal_in_place(exc)
            return _suspend_form(request, system, form)
        except (PermissionDenied, Conflict) as exc:
            return refused(request, exc)
        messages.success(
            request,
            _(
                "%(code)s is suspended and out of service. The committee will ratify the order "
                "at its next meeting."
            )
            % {"code": system.code},
        )
        return redirect("systems:system", pk=system.pk)
    if not policy.can_suspend(request.user, system):
        return refused(
            request,
            PermissionDenied(
                _("Only the CISO (or an acting delegate) or the chair may suspend a system.")
            ),
        )
    if request.method == "POST" and form.is_valid():
        return render(request, "systems/suspend_confirm.html", {"system": system, "form": form})
    return _suspend_form(request, system, form)


def _suspend_form(request: HttpRequest, system: System, form: SuspendForm) -> HttpResponse:
    status = 400 if form.is_bound else 200
    context = {"system": system, "form": form}
    return render(request, "systems/suspend_form.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def lift(request: HttpRequest, pk: int) -> HttpResponse:
    """Lifting an order, in the same two steps as suspending."""
    order = get_object_or_404(selectors.suspensions_for(request.user), pk=pk)
    form = LiftForm(request.POST or None)
    if request.method == "POST" and form.is_valid() and form.confirmed:
        try:
            services.lift_suspension(
                actor=actor_of(request), order=order, reason=form.cleaned_data["reason"]
            )
        except ValidationError as exc:
            form.refusal_in_place(exc)
            return _lift_form(request, order, form)
        except (PermissionDenied, Conflict) as exc:
            return refused(request, exc)
        messages.success(
            request, _("The suspension of %(code)s is lifted.") % {"code": order.system.code}
        )
        return redirect("systems:system", pk=order.system_id)
    if not policy.can_lift(request.user, order):
        return refused(
            request,
            PermissionDenied(
                _("Only the CISO (or an acting delegate) or the chair may lift a suspension.")
            ),
        )
    if request.method == "POST" and form.is_valid():
        return render(request, "systems/lift_confirm.html", {"order": order, "form": form})
    return _lift_form(request, order, form)


def _lift_form(request: HttpRequest, order: SuspensionOrder, form: LiftForm) -> HttpResponse:
    status = 400 if form.is_bound else 200
    return render(request, "systems/lift_form.html", {"order": order, "form": form}, status=status)
