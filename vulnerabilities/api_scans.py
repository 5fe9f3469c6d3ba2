"""API for scanner reports, the services open on the company's addresses and the discovered
assets nobody registered.

An upload small enough is imported while the request waits (201, or a 400 saying what was
wrong and where: nothing of it is written); a bigger one is queued for a worker: 202 with the
scan's URL in Location, to read until its state is imported or refused. The same file twice
is a 409 naming the import it was. Triage needs If-Match with the asset's last ETag.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse

from accounts.models import BusinessUnit
from config import dates
from config.api import StrictInput, actor_of
from config.api import read_only_slug as _slug
from config.idempotency import idempotent
from config.parsers import BoundedJSONParser
from config.schema import CONFLICT, IF_MATCH
from config.versioning import etag_of, if_match
from config.viewsets import VersionedReadViewSet
from systems import policy as systems_policy
from vulnerabilities import filters, policy, selectors
from vulnerabilities.models import DiscoveredAsset, ExposedService, Scan, ScanHost
from vulnerabilities.services import scans as scan_services
from vulnerabilities.services import surface as surface_services
from vulnerabilities.surface import risky

ERROR = {"$ref": "#/components/schemas/Error"}
MULTIPART_OVERHEAD = 64 * 1024

# --- Scans --------------------------------------------------------------------------------------


class ScanOut(serializers.ModelSerializer):
    system_code = serializers.CharField(source="system.code", read_only=True, allow_null=True)
    uploaded_by = _slug("username")
    progress = serializers.SerializerMethodField(
        help_text="Bytes of the file read so far while it is imported (null: not known)."
    )
    hosts_url = serializers.SerializerMethodField()
    whole = serializers.BooleanField(
        source="seen_whole",
        read_only=True,
        help_text="False: a scan of the company's addresses that covered more than the systems "
        "you see. Its counts and hosts are then of the hosts placed on your systems alone; its "
        "file name (empty) and what the reader skipped ({}) are not shown.",
    )
    skipped = serializers.DictField(
        child=serializers.IntegerField(),
        read_only=True,
        help_text="What the reader skipped without refusing the file, and how many: keyed by "
        "the reader's English wording, the same in every language (the pages translate it).",
    )

    class Meta:
        model = Scan
        fields = [
            "id", "format", "tool", "file_name", "size", "sha256", "system", "system_code",
            "state", "progress", "error", "error_where", "counts", "skipped", "ports_scanned",
            "scanned_from", "scanned_to", "scanned_at", "uploaded_by", "uploaded_office", "uploaded_at",
            "imported_at", "whole", "hosts_url",
        ]  # fmt: skip
        read_only_fields = fields

    def get_progress(self, scan: Scan) -> int | None:
        if scan.state in {Scan.State.QUEUED, Scan.State.RUNNING}:
            return scan_services.progress(scan)
        return scan.size if scan.state == Scan.State.DONE else None

    def get_hosts_url(self, scan: Scan) -> str:
        return reverse("scan-hosts", args=[scan.pk], request=self.context.get("request"))


class ScanHostOut(serializers.ModelSerializer):
    system_code = serializers.CharField(source="system.code", read_only=True, allow_null=True)

    class Meta:
        model = ScanHost
        fields = [
            "id", "ref", "target", "address", "addresses", "hostnames", "image_digests", "up",
            "ecosystems", "ports_covered", "problems", "system", "system_code", "placed_by",
            "observations", "services",
        ]  # fmt: skip
        read_only_fields = fields


class ScanIn(StrictInput):
    file = serializers.FileField(
        help_text="Trivy or Grype JSON, a .nessus file, a Greenbone/OpenVAS XML report, SARIF "
        "2.1.0, CycloneDX JSON with vulnerabilities, nmap XML or masscan JSON."
    )
    system = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=2**31 - 1,
        help_text="The system the report is of. Without it, each host is placed on the system "
        "whose network identities name it (the CISO's office only).",
    )
    format = serializers.ChoiceField(
        Scan.Format.choices, required=False, help_text="Checked against what the file is."
    )


class ScanSystemIn(serializers.Serializer):
    system = serializers.IntegerField(min_value=1, max_value=2**31 - 1)


class CoverageOut(serializers.Serializer):
    days = serializers.IntegerField()
    internet_facing = serializers.IntegerField()
    scanned_recently = serializers.IntegerField()
    share = serializers.IntegerField(allow_null=True, help_text="Percent.")
    never_scanned = serializers.ListField(child=serializers.CharField())
    not_registered_facing = serializers.ListField(child=serializers.CharField())
    risky_services = serializers.ListField(child=serializers.DictField())
    assets_new = serializers.IntegerField()
    assets_overdue = serializers.IntegerField()


class ScanTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "too_large"


class ScanViewSet(VersionedReadViewSet):
    """Scanner reports the person may see: uploads of their systems, and the scans of the
    company's addresses that placed hosts on them (in part: `whole` false); all for oversight."""

    serializer_class = ScanOut
    parser_classes = [MultiPartParser, FormParser, BoundedJSONParser]
    filter_backends = [DjangoFilterBackend]
    filterset_class = filters.ScanFilter
    ordering = "-uploaded_at"

    def get_queryset(self) -> QuerySet[Scan]:
        return selectors.scans_for(self.request.user)

    def get_object(self) -> Scan:
        """The scan as the reader may read it (policy.in_part)."""
        return policy.in_part(self.request.user, [super().get_object()])[0]

    def paginate_queryset(self, queryset: Any) -> list[Any] | None:
        """A page of scans as the reader may read them (policy.in_part: three queries at most
        for the page, none when each is seen whole); other lists (a scan's hosts) as they are."""
        page = super().paginate_queryset(queryset)
        if page is None or queryset.model is not Scan:
            return page
        return policy.in_part(self.request.user, page)

    def etag(self, instance: Any) -> str:
        """A scan changes only as its import moves on."""
        return f'"{instance.pk}-{instance.state}-{instance.imported_at or ""}"'

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        """A body larger than a report may be is refused before it is read (413)."""
        if request.method == "POST":
            try:
                length = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = 0
            if length > settings.SCAN_MAX_BYTES + MULTIPART_OVERHEAD:
                raise ScanTooLarge(
                    _("The report is larger than %(limit)d MB.")
                    % {"limit": settings.SCAN_MAX_BYTES >> 20}
                )
        super().initial(request, *args, **kwargs)

    @extend_schema(
        request={"multipart/form-data": ScanIn},
        responses={
            201: ScanOut,
            202: OpenApiResponse(ScanOut, description="Queued for a worker: read Location."),
            409: CONFLICT,
            413: OpenApiResponse(ERROR, description="Larger than the server accepts."),
        },
    )
    @idempotent
    def create(self, request: Request) -> Response:
        """Upload a report (multipart `file`, optional `system` and `format`). Who may is
        settled before the file is looked at: a system the person does not see is a 404, an
        upload they may not make a 403."""
        system = None
        raw = request.data.get("system") if isinstance(request.data, dict) else None
        if raw not in (None, ""):
            named = ScanSystemIn(data={"system": raw})
            named.is_valid(raise_exception=True)
            # A system named in the body that the person does not see is no system of theirs:
            # a 400 on the field, as for any other reference in a body.
            system = (
                systems_policy.visible_systems(request.user)
                .filter(pk=named.validated_data["system"])
                .first()
            )
            if system is None:
                raise ValidationError({"system": [_("No such system on the register.")]})
        if policy.scan_office(request.user, system) is None:
            raise PermissionDenied(
                _("Only the system's unit or the CISO's office uploads its scans.")
                if system is not None
                else _("Only the CISO's office uploads a scan placed by network identities.")
            )
        data = ScanIn(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            scan = scan_services.receive(
                actor=actor_of(request),
                upload=data.validated_data["file"],
                system=system,
                format=data.validated_data.get("format", ""),
            )
        except scan_services.DuplicateScan as exc:
            return Response(
                {
                    "detail": exc.message,
                    "code": exc.code,
                    **({"scan": exc.scan.pk} if exc.scan is not None else {}),
                },
                status=status.HTTP_409_CONFLICT,
            )
        scan = policy.in_part(request.user, [self.get_queryset().get(pk=scan.pk)])[0]
        body = ScanOut(scan, context=self.get_serializer_context()).data
        if scan.state == Scan.State.REFUSED:
            return Response(
                {
                    "detail": scan.error,
                    "where": scan.error_where,
                    "code": "scan_refused",
                    "scan": reverse("scan-detail", args=[scan.pk], request=request),
                },
                status=status.HTTP_400_BAD_REQUEST,
            )
        location = reverse("scan-detail", args=[scan.pk], request=request)
        code = (
            status.HTTP_201_CREATED if scan.state == Scan.State.DONE else status.HTTP_202_ACCEPTED
        )
        return Response(body, status=code, headers={"Location": location})

    @extend_schema(
        responses=ScanHostOut(many=True),
        filters=False,
        parameters=[
            OpenApiParameter(
                "placed",
                OpenApiTypes.BOOL,
                OpenApiParameter.QUERY,
                description="false: only the hosts the import could not place on a system.",
            )
        ],
    )
    @action(detail=True, methods=["get"], filter_backends=[], ordering="pk")
    def hosts(self, request: Request, pk: str | None = None) -> Response:
        """The hosts the scan reported on and where each was placed (of a scan seen in part,
        those placed on the systems the reader sees)."""
        scan = self.get_object()
        hosts = policy.visible_scan_hosts(request.user, scan).select_related("system")
        placed = request.query_params.get("placed", "").strip().lower()
        if placed in {"false", "0", "no"}:
            hosts = hosts.filter(system__isnull=True)
        elif placed in {"true", "1", "yes"}:
            hosts = hosts.filter(system__isnull=False)
        elif placed:
            raise ValidationError({"placed": [_("Say true or false.")]})
        page = self.paginate_queryset(hosts)
        return self.get_paginated_response(ScanHostOut(page, many=True).data)

    @extend_schema(responses=CoverageOut, filters=False)
    @action(detail=False, methods=["get"], filter_backends=[], pagination_class=None)
    def coverage(self, request: Request) -> Response:
        """How much of what faces the internet the scans see (last 30 days), what was never
        scanned, what is open on the internet though registered as not, and risky ports."""
        answer = selectors.coverage(request.user)
        return Response(
            CoverageOut(
                {
                    "days": answer.days,
                    "internet_facing": answer.internet_facing,
                    "scanned_recently": answer.scanned_recently,
                    "share": answer.share,
                    "never_scanned": [s.code for s in answer.never_scanned],
                    "not_registered_facing": [s.code for s in answer.not_registered_facing],
                    "risky_services": [
                        {
                            "address": s.address,
                            "protocol": s.protocol,
                            "port": s.port,
                            "service": risky(s.protocol, s.port),
                            "system": s.system.code if s.system else None,
                        }
                        for s in answer.risky
                    ],
                    "assets_new": answer.assets_new,
                    "assets_overdue": answer.assets_overdue,
                }
            ).data
        )


# --- The attack surface -------------------------------------------------------------------------


class ExposedServiceOut(serializers.ModelSerializer):
    system_code = serializers.CharField(source="system.code", read_only=True, allow_null=True)
    asset: serializers.PrimaryKeyRelatedField[DiscoveredAsset] = serializers.PrimaryKeyRelatedField(
        read_only=True, allow_null=True
    )
    risky = serializers.SerializerMethodField(help_text="The risky service's name, or empty.")

    class Meta:
        model = ExposedService
        fields = [
            "id", "address", "protocol", "port", "name", "product", "risky", "system",
            "system_code", "asset", "first_seen_at", "last_seen_at", "last_scan", "closed_at",
        ]  # fmt: skip
        read_only_fields = fields

    def get_risky(self, service: ExposedService) -> str:
        return risky(service.protocol, service.port)


class ExposedServiceViewSet(VersionedReadViewSet):
    """Ports found open on the company's addresses, on the systems a person sees."""

    serializer_class = ExposedServiceOut
    filter_backends = [DjangoFilterBackend]
    filterset_class = filters.ExposedServiceFilter
    ordering = "address"

    def get_queryset(self) -> QuerySet[ExposedService]:
        return selectors.exposed_services_for(self.request.user)

    def etag(self, instance: Any) -> str:
        """A service changes when a scan sees it again or finds it shut."""
        return f'"{instance.pk}-{instance.last_seen_at.timestamp():.6f}-{instance.closed_at or ""}"'


class AssetOut(serializers.ModelSerializer):
    unit = _slug("code", allow_null=True)
    reason = serializers.ChoiceField(
        DiscoveredAsset.Reason.choices, allow_blank=True, read_only=True
    )
    system_code = serializers.CharField(source="system.code", read_only=True, allow_null=True)
    decided_by = _slug("username", allow_null=True)
    services = ExposedServiceOut(many=True, read_only=True)
    overdue = serializers.SerializerMethodField()

    class Meta:
        model = DiscoveredAsset
        fields = [
            "id", "address", "hostnames", "state", "due_on", "overdue", "unit", "system",
            "system_code", "reason", "note", "first_seen_at", "last_seen_at", "first_scan",
            "last_scan", "decided_by", "decided_office", "decided_at", "services", "updated_at",
        ]  # fmt: skip
        read_only_fields = fields

    def get_overdue(self, asset: DiscoveredAsset) -> bool:
        return asset.state == DiscoveredAsset.State.NEW and asset.due_on < timezone.localdate()


class AssetAssignIn(StrictInput):
    unit = serializers.SlugRelatedField(
        slug_field="code", queryset=BusinessUnit.objects.filter(is_active=True)
    )
    due_on = dates.ApiDayField(required=False, help_text="A new deadline (not in the past).")
    note = serializers.CharField(max_length=4000, required=False, allow_blank=True)


class AssetDismissIn(StrictInput):
    reason = serializers.ChoiceField(DiscoveredAsset.Reason.choices)
    note = serializers.CharField(max_length=4000)


class AssetAttachIn(StrictInput):
    system = serializers.IntegerField(min_value=1, max_value=2**31 - 1)


class AssetViewSet(VersionedReadViewSet):
    """Internet-facing addresses no registered system claims: the CISO's office assigns each
    to a unit or dismisses it with a reason; the unit attaches it to one of its systems."""

    serializer_class = AssetOut
    filter_backends = [DjangoFilterBackend]
    filterset_class = filters.AssetFilter
    ordering = "due_on"

    def get_queryset(self) -> QuerySet[DiscoveredAsset]:
        return selectors.assets_for(self.request.user).prefetch_related(
            Prefetch(
                "services",
                ExposedService.objects.select_related("system").order_by("protocol", "port"),
            )
        )

    def _answer(self, asset: DiscoveredAsset) -> Response:
        asset = self.get_queryset().get(pk=asset.pk)
        return Response(AssetOut(asset).data, headers={"ETag": etag_of(asset)})

    @extend_schema(
        request=AssetAssignIn, responses={200: AssetOut, 409: CONFLICT}, parameters=[IF_MATCH]
    )
    @action(detail=True, methods=["post"])
    def assign(self, request: Request, pk: str | None = None) -> Response:
        """The CISO's office gives it to a unit (with a new deadline, if it says one)."""
        asset = self.get_object()
        expected = if_match(request)
        data = AssetAssignIn(data=request.data)
        data.is_valid(raise_exception=True)
        asset = surface_services.assign(
            actor=actor_of(request), asset=asset, expected_version=expected, **data.validated_data
        )
        return self._answer(asset)

    @extend_schema(
        request=AssetDismissIn, responses={200: AssetOut, 409: CONFLICT}, parameters=[IF_MATCH]
    )
    @action(detail=True, methods=["post"])
    def dismiss(self, request: Request, pk: str | None = None) -> Response:
        """Not ours, or decommissioned (the CISO's office), with a note saying how it knows."""
        asset = self.get_object()
        expected = if_match(request)
        data = AssetDismissIn(data=request.data)
        data.is_valid(raise_exception=True)
        asset = surface_services.dismiss(
            actor=actor_of(request), asset=asset, expected_version=expected, **data.validated_data
        )
        return self._answer(asset)

    @extend_schema(
        request=AssetAttachIn, responses={200: AssetOut, 409: CONFLICT}, parameters=[IF_MATCH]
    )
    @action(detail=True, methods=["post"])
    def attach(self, request: Request, pk: str | None = None) -> Response:
        """The address is this system's (one of the unit's, registered or already there)."""
        asset = self.get_object()
        expected = if_match(request)
        data = AssetAttachIn(data=request.data)
        data.is_valid(raise_exception=True)
        system = get_object_or_404(
            systems_policy.visible_systems(request.user), pk=data.validated_data["system"]
        )
        asset = surface_services.attach(
            actor=actor_of(request), asset=asset, system=system, expected_version=expected
        )
        return self._answer(asset)
