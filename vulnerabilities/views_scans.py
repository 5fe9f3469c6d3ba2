"""Pages of scanner reports and the attacker's view: the scans list with its upload form, a
scan's page (its progress while it is imported), the attack surface, and the discovered
assets with the CISO's office's and the units' triage forms."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Case, IntegerField, QuerySet, Value, When
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from config.api import actor_of
from config.errors import Conflict, PreconditionFailed, PreconditionRequired
from config.pages import EXPORT_LIMIT, Column, export, export_links, paginate, refused
from vulnerabilities import policy, selectors
from vulnerabilities.forms_scans import (
    AssetForm,
    AssetListFilter,
    AssignAssetForm,
    AttachAssetForm,
    DismissAssetForm,
    ScanListFilter,
    ScanUploadForm,
    attachable_systems,
    uploadable_systems,
)
from vulnerabilities.models import DiscoveredAsset, ExposedService, Scan, ScanHost, Sighting
from vulnerabilities.services import scans as scan_services
from vulnerabilities.services import surface as surface_services
from vulnerabilities.surface import risky

REFUSALS = (PermissionDenied, Conflict, PreconditionFailed, PreconditionRequired, ValidationError)
SHOWN = 200  # hosts of each kind on a scan's page; the export has them all
QUEUE_SHOWN = 50  # discovered assets on the attack-surface page; the list has them all
LIVE_SCAN = {Scan.State.QUEUED, Scan.State.RUNNING}
# What a scan found, in the order the page shows it, and which link lists those findings.
OUTCOMES = [
    Sighting.Outcome.NEW,
    Sighting.Outcome.REOPENED,
    Sighting.Outcome.STILL_OPEN,
    Sighting.Outcome.SET_ASIDE,
    Sighting.Outcome.NOT_AFFECTED,
]


def _yes_no(value: bool) -> str:
    return _("Yes") if value else _("No")


def may_see_surface(user: Any) -> bool:
    return policy.can_see_attack_surface(user)


def _may_upload(user: Any) -> bool:
    return policy.ciso_office(user) is not None or uploadable_systems(user).exists()


# --- The scans list ---------------------------------------------------------------------------


def scan_columns() -> list[Column]:
    """The scans export, headed in the reader's language."""
    return [
        Column(_("Scan"), lambda s: s.pk),
        Column(_("File"), lambda s: s.file_name),
        Column(_("Format"), lambda s: s.get_format_display()),
        Column(_("Tool"), lambda s: s.tool),
        Column(_("Scanned at"), lambda s: s.scanned_at),
        Column(_("System"), lambda s: s.system.code if s.system_id else ""),
        Column(_("State"), lambda s: s.get_state_display()),
        Column(_("Size (bytes)"), lambda s: s.size),
        Column(_("Uploaded by"), lambda s: s.uploaded_by.username),
        Column(_("Uploaded"), lambda s: s.uploaded_at),
        Column(pgettext("scan date", "Imported"), lambda s: s.imported_at),
        Column(_("Hosts"), lambda s: s.counts.get("hosts", 0)),
        Column(_("New findings"), lambda s: s.counts.get(Sighting.Outcome.NEW, 0)),
        Column(_("Closed findings"), lambda s: s.counts.get("closed", 0)),
        Column(_("Error"), lambda s: s.error),
    ]


def _as_read(user: Any, scans: Iterable[Scan]) -> Iterator[Scan]:
    """The scans as the reader may read them (policy.in_part), read only when iterated."""
    yield from policy.in_part(user, scans)


def _scans_page(
    request: HttpRequest, form: ScanUploadForm | None, *, status: int = 200
) -> HttpResponse:
    scans = selectors.scans_for(request.user).order_by("-uploaded_at", "-pk")
    filters = ScanListFilter(request.GET, queryset=scans, request=request)
    valid = filters.is_valid()
    rows = filters.qs if valid else scans.none()
    page = paginate(request, rows)
    page.object_list = policy.in_part(request.user, page.object_list)
    return render(
        request,
        "vulnerabilities/scans/scan_list.html",
        {
            "filter": filters,
            "page": page,
            "exports": export_links(request),
            "form": form,
            "surface": may_see_surface(request.user),
        },
        status=status if valid else 400,
    )


@login_required
@require_http_methods(["GET", "POST"])
def scan_list(request: HttpRequest) -> HttpResponse:
    """The scans the reader may see, with the upload form for those who may upload; an upload
    is imported at once when small (else queued) and the scan's page follows it."""
    user = request.user
    may_upload = _may_upload(user)
    if request.method == "POST":
        if not may_upload:
            return refused(
                request,
                PermissionDenied(_("Only a system's unit or the CISO's office uploads scans.")),
            )
        return _upload(request)
    scans = selectors.scans_for(user).order_by("-uploaded_at", "-pk")
    filters = ScanListFilter(request.GET, queryset=scans, request=request)
    if filters.is_valid():
        download = export(
            request,
            name="scans",
            columns=scan_columns(),
            rows=_as_read(user, filters.qs[:EXPORT_LIMIT]),
        )
        if download is not None:
            return download
    return _scans_page(request, ScanUploadForm(user=user) if may_upload else None)


def _to_scan(request: HttpRequest, scan: Scan | None) -> HttpResponse:
    """To the scan's page, or to the list when the reader may not see it (the same file as
    another unit's upload)."""
    if scan is not None and selectors.scans_for(request.user).filter(pk=scan.pk).exists():
        return redirect("vulnerabilities:scan", pk=scan.pk)
    return redirect("vulnerabilities:scans")


def _upload(request: HttpRequest) -> HttpResponse:
    """The upload form sent: received through the service; a refusal shows on the form."""
    form = ScanUploadForm(request.POST, request.FILES, user=request.user)
    if not form.is_valid():
        return _scans_page(request, form, status=400)
    try:
        scan = scan_services.receive(
            actor=actor_of(request),
            upload=form.cleaned_data["file"],
            system=form.cleaned_data["system"],
            format=form.cleaned_data["format"] or "",
        )
    except scan_services.DuplicateScan as exc:
        messages.warning(request, exc.message)
        return _to_scan(request, exc.scan)
    except ValidationError as exc:
        form.refusal_in_place(exc)
        return _scans_page(request, form, status=400)
    except REFUSALS as exc:
        return refused(request, exc)
    if scan.state == Scan.State.REFUSED:
        form.add_error(
            "file",
            _("The report was refused and nothing of it was imported: %(error)s (%(where)s).")
            % {"error": scan.error, "where": scan.error_where},
        )
        return _scans_page(request, form, status=400)
    if scan.state == Scan.State.DONE:
        messages.success(request, _("The report is imported."))
    else:
        messages.info(request, _("The report is queued; this page follows its import."))
    return redirect("vulnerabilities:scan", pk=scan.pk)


# --- A scan -----------------------------------------------------------------------------------


def host_columns() -> list[Column]:
    """A scan's hosts export, headed in the reader's language."""
    return [
        Column(_("Host"), lambda h: h.ref),
        Column(_("Target"), lambda h: h.target),
        Column(_("Addresses"), lambda h: " ".join(h.addresses)),
        Column(_("Host names"), lambda h: " ".join(h.hostnames)),
        Column(_("Up"), lambda h: _yes_no(h.up)),
        Column(_("Package types"), lambda h: " ".join(h.ecosystems)),
        Column(_("Ports scanned"), lambda h: _yes_no(h.ports_covered)),
        Column(_("System"), lambda h: h.system.code if h.system_id else ""),
        Column(_("Placed by"), lambda h: h.get_placed_by_display()),
        Column(_("Results"), lambda h: h.observations),
        Column(_("Open services"), lambda h: h.services),
        Column(_("Problems"), lambda h: " ".join(h.problems)),
    ]


def _visible_scan(request: HttpRequest, pk: int) -> Scan:
    """A scan the reader may see, as they may read it (policy.in_part), or a 404 (its
    existence is not leaked)."""
    scan = get_object_or_404(selectors.scans_for(request.user), pk=pk)
    return policy.in_part(request.user, [scan])[0]


def _progress(scan: Scan) -> dict[str, Any]:
    read = scan_services.progress(scan) if scan.state in LIVE_SCAN else None
    percent = min(100, round(100 * (read or 0) / scan.size)) if scan.size else 0
    return {"scan": scan, "read": read, "percent": percent, "live": scan.state in LIVE_SCAN}


def _found(scan: Scan) -> list[dict[str, Any]]:
    """What the scan made of what it saw, each with the link listing those findings."""
    findings = reverse("vulnerabilities:findings")
    rows = [
        {
            "key": outcome.value,
            "label": outcome.label,
            "count": scan.counts.get(outcome.value, 0),
            "url": f"{findings}?scan={scan.pk}&outcome={outcome.value}",
        }
        for outcome in OUTCOMES
    ]
    rows.append(
        {
            "key": "closed",
            "label": _("Closed (no longer seen where it looked)"),
            "count": scan.counts.get("closed", 0),
            "url": f"{findings}?closed_by_scan={scan.pk}",
        }
    )
    return rows


def _skipped(scan: Scan) -> list[tuple[str, int]]:
    """What the reader skipped, each said in the reader's language (kept as the English text
    the scanners' readers mark for translation; one not in the catalogue shows as it is)."""
    return sorted((_(what), count) for what, count in scan.skipped.items())


def _hosts(hosts: QuerySet[ScanHost], placed: bool) -> tuple[list[ScanHost], bool]:
    shown = list(hosts.filter(system__isnull=not placed)[: SHOWN + 1])
    return shown[:SHOWN], len(shown) > SHOWN


@login_required
@require_GET
def scan_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A scan: its file and who brought it, its progress while imported, why it was refused,
    or what it covered and found, and the hosts it could not place. A scan of the company's
    addresses that the reader sees in part shows the hosts on their systems, and what it found
    there, alone."""
    scan = _visible_scan(request, pk)
    whole = policy.sees_whole(request.user, scan)
    hosts = policy.visible_scan_hosts(request.user, scan, selectors.scan_hosts(scan))
    download = export(
        request, name=f"scan-{scan.pk}-hosts", columns=host_columns(), rows=hosts[:EXPORT_LIMIT]
    )
    if download is not None:
        return download
    context: dict[str, Any] = {
        "scan": scan,
        "whole": whole,
        "exports": export_links(request),
        "progress": _progress(scan),
    }
    if scan.state == Scan.State.DONE:
        unplaced, unplaced_more = _hosts(hosts, placed=False) if whole else ([], False)
        placed, placed_more = _hosts(hosts, placed=True)
        ecosystems = sorted(
            {
                name
                for names in hosts.order_by().values_list("ecosystems", flat=True).distinct()
                for name in names or ()
            }
        )
        counts = scan.counts
        context.update(
            {
                "found": _found(scan),
                "unplaced": unplaced,
                "unplaced_more": unplaced_more,
                "placed": placed,
                "placed_more": placed_more,
                "ecosystems": ecosystems,
                "covered": {
                    "hosts": counts.get("hosts", 0),
                    "hosts_down": counts.get("hosts_down", 0),
                    "placed": counts.get("placed", 0),
                    "unplaced": counts.get("unplaced", 0),
                },
                "surface_counts": {
                    "services": counts.get("services", 0),
                    "services_new": counts.get("services_new", 0),
                    "services_closed": counts.get("services_closed", 0),
                    "assets_new": counts.get("assets_new", 0),
                    "assets_back": counts.get("assets_back", 0),
                },
                "skipped": _skipped(scan),
            }
        )
    return render(request, "vulnerabilities/scans/scan_detail.html", context)


@login_required
@require_GET
def scan_progress(request: HttpRequest, pk: int) -> HttpResponse:
    """The progress bar (htmx polls it every second); once the import is over, the page is
    reloaded to show what it did."""
    scan = _visible_scan(request, pk)
    response = render(
        request, "vulnerabilities/scans/_progress.html", {"progress": _progress(scan)}
    )
    if scan.state not in LIVE_SCAN and request.headers.get("HX-Request"):
        response["HX-Refresh"] = "true"
    return response


# --- The attack surface -----------------------------------------------------------------------


def _queue(user: Any) -> QuerySet[DiscoveredAsset]:
    """Discovered assets not yet settled (new, or assigned and not attached): new first, then
    by deadline."""
    return (
        selectors.assets_for(user)
        .exclude(state=DiscoveredAsset.State.DISMISSED)
        .filter(system__isnull=True)
        .order_by(_new_first(), "due_on", "pk")
    )


def _new_first() -> Case:
    return Case(
        When(state=DiscoveredAsset.State.NEW, then=Value(0)),
        default=Value(1),
        output_field=IntegerField(),
    )


@login_required
@require_GET
def attack_surface(request: HttpRequest) -> HttpResponse:
    """The attacker's view: how much of what faces the internet the scans see, what was never
    scanned, what is open though registered as not internet-facing, risky open ports, and the
    queue of addresses nobody registered."""
    if not may_see_surface(request.user):
        return refused(
            request,
            PermissionDenied(_("The attack surface is for the CISO's office and oversight.")),
        )
    answer = selectors.coverage(request.user)
    queue = list(_queue(request.user)[: QUEUE_SHOWN + 1])
    return render(
        request,
        "vulnerabilities/scans/attack_surface.html",
        {
            "coverage": answer,
            "risky": [(service, risky(service.protocol, service.port)) for service in answer.risky],
            "queue": queue[:QUEUE_SHOWN],
            "queue_more": len(queue) > QUEUE_SHOWN,
            "today": timezone.localdate(),
        },
    )


# --- Discovered assets ------------------------------------------------------------------------


def _overdue(asset: DiscoveredAsset) -> bool:
    return asset.state == DiscoveredAsset.State.NEW and asset.due_on < timezone.localdate()


def asset_columns() -> list[Column]:
    """The discovered assets export, headed in the reader's language."""
    return [
        Column(_("Address"), lambda a: a.address),
        Column(_("Host names"), lambda a: " ".join(a.hostnames)),
        Column(_("State"), lambda a: a.get_state_display()),
        Column(_("Deadline"), lambda a: a.due_on),
        Column(_("Overdue"), lambda a: _yes_no(_overdue(a))),
        Column(_("Business unit"), lambda a: a.unit.code if a.unit_id else ""),
        Column(_("System"), lambda a: a.system.code if a.system_id else ""),
        Column(_("Open services"), lambda a: a.open_services),
        Column(_("First seen"), lambda a: a.first_seen_at),
        Column(_("Last seen"), lambda a: a.last_seen_at),
        Column(_("Reason"), lambda a: a.get_reason_display()),
        Column(_("Note"), lambda a: a.note),
    ]


@login_required
@require_GET
def asset_list(request: HttpRequest) -> HttpResponse:
    """The discovered assets the reader may see (all for oversight; a unit's own), new first."""
    assets = selectors.assets_for(request.user).order_by(_new_first(), "due_on", "pk")
    filters = AssetListFilter(request.GET, queryset=assets, request=request)
    valid = filters.is_valid()
    rows = filters.qs if valid else assets.none()
    if valid:
        download = export(
            request, name="discovered-assets", columns=asset_columns(), rows=rows[:EXPORT_LIMIT]
        )
        if download is not None:
            return download
    return render(
        request,
        "vulnerabilities/scans/asset_list.html",
        {
            "filter": filters,
            "page": paginate(request, rows),
            "exports": export_links(request),
            "today": timezone.localdate(),
        },
        status=200 if valid else 400,
    )


def _visible_asset(request: HttpRequest, pk: int) -> DiscoveredAsset:
    """An asset the reader may see, or a 404 (its existence is not leaked)."""
    return get_object_or_404(selectors.assets_for(request.user).select_related("first_scan"), pk=pk)


def _asset_page(
    request: HttpRequest,
    asset: DiscoveredAsset,
    *,
    bound: AssetForm | None = None,
    status: int = 200,
) -> HttpResponse:
    """An asset's page with the forms the reader may use (the services decide when sent);
    `bound` is a form sent back with its errors."""
    user = request.user
    # Only the acts that fit where the asset stands (surface.ASSET_FLOW: none once attached),
    # to those who may make them; the services decide again when a form is sent.
    triage = policy.can_triage_asset(user)
    forms: dict[str, AssetForm | None] = {
        "assign_form": (
            AssignAssetForm.for_asset(
                asset, initial={"unit": asset.unit.code if asset.unit is not None else None}
            )
            if triage and surface_services.may(asset, "assign")
            else None
        ),
        "dismiss_form": (
            DismissAssetForm.for_asset(asset)
            if triage and surface_services.may(asset, "dismiss")
            else None
        ),
        "attach_form": None,
    }
    if surface_services.may(asset, "attach"):
        systems = attachable_systems(user, asset)
        if systems.exists():
            forms["attach_form"] = AttachAssetForm.for_asset(asset, systems=systems)
    if bound is not None:
        forms[f"{bound.prefix}_form"] = bound
    services = [
        (service, risky(service.protocol, service.port))
        for service in ExposedService.objects.filter(asset=asset)
        .select_related("last_scan")
        .order_by("closed_at", "protocol", "port")
    ]
    # The scans it links to that the reader may open (a unit is not shown the CISO's office's
    # scan that found the address before it was on one of its systems).
    named = {asset.first_scan_id, asset.last_scan_id, *(s.last_scan_id for s, _n in services)}
    seen_scans = set(selectors.scans_for(user).filter(pk__in=named).values_list("pk", flat=True))
    return render(
        request,
        "vulnerabilities/scans/asset_detail.html",
        {
            "asset": asset,
            "seen_scans": seen_scans,
            "overdue": _overdue(asset),
            "services": services,
            "system_services": (
                ExposedService.objects.filter(system_id=asset.system_id, address=asset.address)
                .select_related("last_scan")
                .order_by("closed_at", "protocol", "port")
                if asset.system_id
                else []
            ),
            **forms,
        },
        status=status,
    )


@login_required
@require_GET
def asset_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _asset_page(request, _visible_asset(request, pk))


def _triage(
    request: HttpRequest, asset: DiscoveredAsset, form: AssetForm, act: Any, done: str
) -> HttpResponse:
    """Parse a triage form, hand it to its service, and come back to the asset. An act that
    does not fit where the asset stands is refused before its form is read (409)."""
    try:
        surface_services.target(asset, str(form.prefix))
    except Conflict as exc:
        return refused(request, exc)
    if not form.is_valid():
        return _asset_page(request, asset, bound=form, status=400)
    arguments = dict(form.cleaned_data)
    version = arguments.pop("version")
    try:
        act(actor=actor_of(request), asset=asset, expected_version=version, **arguments)
    except ValidationError as exc:
        form.refusal_in_place(exc)
        return _asset_page(request, asset, bound=form, status=400)
    except REFUSALS as exc:
        return refused(request, exc)
    messages.success(request, done)
    return redirect("vulnerabilities:discovered-asset", pk=asset.pk)


def _not_triage(request: HttpRequest) -> HttpResponse | None:
    if policy.can_triage_asset(request.user):
        return None
    return refused(
        request, PermissionDenied(_("Only the CISO's office triages discovered assets."))
    )


@login_required
@require_POST
def asset_assign(request: HttpRequest, pk: int) -> HttpResponse:
    asset = _visible_asset(request, pk)
    if (refusal := _not_triage(request)) is not None:
        return refusal
    return _triage(
        request,
        asset,
        AssignAssetForm(request.POST, prefix=AssignAssetForm.prefix),
        surface_services.assign,
        _("The asset is assigned to the unit."),
    )


@login_required
@require_POST
def asset_dismiss(request: HttpRequest, pk: int) -> HttpResponse:
    asset = _visible_asset(request, pk)
    if (refusal := _not_triage(request)) is not None:
        return refusal
    return _triage(
        request,
        asset,
        DismissAssetForm(request.POST, prefix=DismissAssetForm.prefix),
        surface_services.dismiss,
        _("The asset is dismissed."),
    )


@login_required
@require_POST
def asset_attach(request: HttpRequest, pk: int) -> HttpResponse:
    asset = _visible_asset(request, pk)
    systems = attachable_systems(request.user, asset)
    if not systems.exists():
        return refused(
            request,
            PermissionDenied(
                _("Only the unit the asset was assigned to attaches it, to one of its systems.")
            ),
        )
    return _triage(
        request,
        asset,
        AttachAssetForm(request.POST, prefix=AttachAssetForm.prefix, systems=systems),
        surface_services.attach,
        _("The asset is attached to the system; the next scan places it there."),
    )
