"""Pages of a system's software inventory and network identities: the panel on the system's
page, the inventory's history, and the owning unit's forms (SBOM upload, one component, a
removal, a network identity and its end), each decided by systems.inventory."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from config import dates
from config.api import actor_of
from config.errors import PreconditionFailed
from config.pages import paginate, refused
from systems import inventory, policy, selectors
from systems.forms import PageForm
from systems.models import Component, NetworkIdentity, System

SHOWN = 50
DATE_INPUT = {"type": "date"}


class SbomForm(PageForm):
    """A CycloneDX JSON SBOM; its entries replace those of the previous SBOM of its subject."""

    file = forms.FileField(
        label=gettext_lazy("CycloneDX SBOM (JSON)"),
        help_text=gettext_lazy(
            "Its components replace those the previous SBOM of the same software supplied."
        ),
    )


class ComponentForm(PageForm):
    """One component typed by hand."""

    kind = forms.ChoiceField(label=gettext_lazy("Kind"), choices=Component.Kind.choices)
    identifier = forms.CharField(
        label=gettext_lazy("Identifier"),
        max_length=1000,
        help_text=gettext_lazy(
            "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1, or "
            "cpe:2.3:a:vendor:product:version:*:*:*:*:*:*:*"
        ),
    )
    version = forms.CharField(
        label=gettext_lazy("Version"),
        max_length=100,
        required=False,
        help_text=gettext_lazy("Only when the identifier does not carry it."),
    )


class NetworkIdentityForm(PageForm):
    """How the system is known on the network, from a date to a date."""

    kind = forms.ChoiceField(label=gettext_lazy("Kind"), choices=NetworkIdentity.Kind.choices)
    value = forms.CharField(label=gettext_lazy("Value"), max_length=300)
    valid_from = dates.DayField(
        label=gettext_lazy("From"),
        required=False,
        widget=forms.DateInput(attrs=DATE_INPUT, format="%Y-%m-%d"),
        help_text=gettext_lazy("Empty: today."),
    )
    valid_to = dates.DayField(
        label=gettext_lazy("To"),
        required=False,
        widget=forms.DateInput(attrs=DATE_INPUT, format="%Y-%m-%d"),
        help_text=gettext_lazy("Empty: until ended."),
    )


def _forms(may_keep: bool, **bound: forms.Form) -> dict[str, forms.Form | None]:
    """The owning unit's forms (fresh, or the one sent back with its errors); none for others."""
    if not may_keep:
        return {"sbom_form": None, "component_form": None, "network_form": None}
    return {
        "sbom_form": bound.get("sbom_form") or SbomForm(),
        "component_form": bound.get("component_form") or ComponentForm(),
        "network_form": bound.get("network_form") or NetworkIdentityForm(),
    }


def inventory_panel(user: Any, system: System) -> dict[str, Any]:
    """What the system's page shows of its inventory: the current components (the first
    ones; the history page has all), its network identities, and the unit's forms."""
    may_keep = policy.can_keep_inventory(user, system)
    current = Component.objects.current().filter(system=system).order_by("package", "version", "pk")
    shown = list(current[: SHOWN + 1])
    return {
        "components": shown[:SHOWN],
        "components_more": len(shown) > SHOWN,
        "components_total": len(shown) if len(shown) <= SHOWN else current.count(),
        "identities": system.network_identities.order_by("kind", "value", "pk"),
        "may_keep_inventory": may_keep,
        **_forms(may_keep),
    }


def _visible_system(request: HttpRequest, pk: int) -> System:
    return get_object_or_404(selectors.systems_for(request.user), pk=pk)


def _inventory_page(
    request: HttpRequest, system: System, *, status: int = 200, **bound: forms.Form
) -> HttpResponse:
    entries = (
        Component.objects.filter(system=system)
        .select_related("sbom", "added_by")
        .order_by("removed_at", "package", "version", "pk")
    )
    if request.GET.get("current") == "true":
        entries = entries.filter(removed_at__isnull=True)
    may_keep = policy.can_keep_inventory(request.user, system)
    return render(
        request,
        "systems/inventory.html",
        {
            "system": system,
            "page": paginate(request, entries),
            "sboms": system.sboms.select_related("uploaded_by")[:10],
            "identities": system.network_identities.order_by("kind", "value", "pk"),
            "may_keep_inventory": may_keep,
            **_forms(may_keep, **bound),
        },
        status=status,
    )


@login_required
def inventory_history(request: HttpRequest, pk: int) -> HttpResponse:
    """Every entry the system's inventory has had, removed ones with when."""
    return _inventory_page(request, _visible_system(request, pk))


def _refused_to_others(request: HttpRequest, system: System) -> HttpResponse | None:
    if policy.can_keep_inventory(request.user, system):
        return None
    return refused(
        request, PermissionDenied(_("Only the owning unit keeps this system's inventory."))
    )


def _component_errors(form: ComponentForm, exc: ValidationError) -> None:
    """The service names a bad entry by its index ("components[0]"): it is the identifier."""
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc)
        return
    for name, errors in exc.error_dict.items():
        form.add_error("identifier" if name.startswith("components") else None, errors)


@login_required
@require_POST
def upload_sbom(request: HttpRequest, pk: int) -> HttpResponse:
    """The owning unit uploads a CycloneDX SBOM; a file that is refused changes nothing."""
    system = _visible_system(request, pk)
    if (refusal := _refused_to_others(request, system)) is not None:
        return refusal
    form = SbomForm(request.POST, request.FILES)
    if not form.is_valid():
        return _inventory_page(request, system, status=400, sbom_form=form)
    upload = form.cleaned_data["file"]
    try:
        _upload, change = inventory.upload_sbom(
            actor=actor_of(request),
            system=system,
            stream=upload,
            filename=upload.name or "",
            size=upload.size,
        )
    except ValidationError as exc:
        form.refusal_in_place(exc)
        return _inventory_page(request, system, status=400, sbom_form=form)
    except PermissionDenied as exc:
        return refused(request, exc)
    messages.success(
        request,
        _(
            "The SBOM is read: %(added)s component(s) added, %(removed)s removed, "
            "%(kept)s unchanged."
        )
        % {"added": change.added, "removed": change.removed, "kept": change.kept},
    )
    if change.unknown_ecosystems:
        messages.warning(
            request,
            _("No advisory feed covers these kinds of package, so they are not matched: %(kinds)s.")
            % {"kinds": ", ".join(sorted(change.unknown_ecosystems))},
        )
    return redirect("systems:system", pk=system.pk)


@login_required
@require_POST
def add_component(request: HttpRequest, pk: int) -> HttpResponse:
    system = _visible_system(request, pk)
    if (refusal := _refused_to_others(request, system)) is not None:
        return refusal
    form = ComponentForm(request.POST)
    if not form.is_valid():
        return _inventory_page(request, system, status=400, component_form=form)
    try:
        change = inventory.add_components(
            actor=actor_of(request),
            system=system,
            entries=[inventory.Entry(**form.cleaned_data)],
        )
    except ValidationError as exc:
        _component_errors(form, exc)
        return _inventory_page(request, system, status=400, component_form=form)
    except PermissionDenied as exc:
        return refused(request, exc)
    if change.added:
        messages.success(request, _("The component is on the inventory."))
    else:
        messages.info(request, _("The component was already on the inventory."))
    return redirect("systems:system", pk=system.pk)


@login_required
@require_POST
def remove_component(request: HttpRequest, pk: int) -> HttpResponse:
    component = get_object_or_404(
        Component.objects.filter(system__in=policy.visible_systems(request.user)).select_related(
            "system"
        ),
        pk=pk,
    )
    try:
        inventory.remove_component(actor=actor_of(request), component=component)
    except PermissionDenied as exc:
        return refused(request, exc)
    messages.success(
        request,
        _("%(name)s %(version)s is off the inventory (kept in its history).")
        % {"name": component.name, "version": component.version},
    )
    return redirect("systems:system", pk=component.system_id)


@login_required
@require_POST
def add_network_identity(request: HttpRequest, pk: int) -> HttpResponse:
    system = _visible_system(request, pk)
    if (refusal := _refused_to_others(request, system)) is not None:
        return refusal
    form = NetworkIdentityForm(request.POST)
    if not form.is_valid():
        return _inventory_page(request, system, status=400, network_form=form)
    try:
        identity = inventory.add_network_identity(
            actor=actor_of(request), system=system, **form.cleaned_data
        )
    except ValidationError as exc:
        form.refusal_in_place(exc)
        return _inventory_page(request, system, status=400, network_form=form)
    except PermissionDenied as exc:
        return refused(request, exc)
    messages.success(
        request, _("%(value)s is recorded for this system.") % {"value": identity.value}
    )
    return redirect("systems:system", pk=system.pk)


@login_required
@require_POST
def end_network_identity(request: HttpRequest, pk: int) -> HttpResponse:
    identity = get_object_or_404(
        NetworkIdentity.objects.filter(
            system__in=policy.visible_systems(request.user)
        ).select_related("system"),
        pk=pk,
    )
    try:
        inventory.end_network_identity(actor=actor_of(request), identity=identity)
    except (PermissionDenied, PreconditionFailed, ValidationError) as exc:
        return refused(request, exc)
    messages.success(
        request,
        _("%(value)s no longer names this system from today.") % {"value": identity.value},
    )
    return redirect("systems:system", pk=identity.system_id)
