"""API for a system's software inventory, its SBOM uploads and its network identities."""

from __future__ import annotations

from typing import Any, NoReturn

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import APIException
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import Route, SimpleRouter

from config import dates
from config.api import StrictInput, actor_of
from config.api import read_only_slug as _slug
from config.idempotency import idempotent
from config.parsers import BoundedJSONParser
from config.schema import IF_MATCH
from config.versioning import if_match
from systems import inventory, policy, selectors
from systems.models import Component, NetworkIdentity, SbomUpload, System

SYSTEM_ID = OpenApiParameter(
    "system_id", OpenApiTypes.INT, OpenApiParameter.PATH, description="The system's id."
)
ALL = OpenApiParameter(
    "all",
    OpenApiTypes.BOOL,
    OpenApiParameter.QUERY,
    description="Include removed entries (the inventory's history), with their removed_at.",
)


ERROR = {"$ref": "#/components/schemas/Error"}
# A whole inventory is the one JSON body here that can outgrow the server's request limit.
BODY_TOO_LARGE = OpenApiResponse(
    ERROR, description="The body is larger than the server accepts: send the entries in parts."
)


class InventoryRouter(SimpleRouter):
    """SimpleRouter whose collection route also takes PUT, mapped to `replace`: a whole
    inventory replaced in one request lives at the inventory's own URL."""

    routes = [
        Route(
            url=r"^{prefix}{trailing_slash}$",
            mapping={"get": "list", "post": "create", "put": "replace"},
            name="{basename}-list",
            detail=False,
            initkwargs={"suffix": "List"},
        ),
        *SimpleRouter.routes[1:],
    ]


class OfSystem(viewsets.GenericViewSet):
    """A viewset nested under /systems/{system_id}/: the system is looked up among those the
    person may see (404 otherwise), once a request."""

    _system: System | None = None

    def get_system(self) -> System:
        if self._system is None:
            self._system = get_object_or_404(
                selectors.systems_for(self.request.user), pk=self.kwargs["system_id"]
            )
        return self._system

    def require_keeper(self) -> None:
        """Refuse, before the body is read, a person who sees the system but may not keep it."""
        if not policy.can_keep_inventory(self.request.user, self.get_system()):
            raise PermissionDenied(_("Only the owning unit keeps this system's inventory."))


# --- Components ---------------------------------------------------------------------------------


class ComponentOut(serializers.ModelSerializer):
    added_by = _slug("username", allow_null=True)

    class Meta:
        model = Component
        fields = [
            "id",
            "kind",
            "identifier",
            "package",
            "scheme",
            "name",
            "version",
            "source",
            "sbom",
            "added_by",
            "added_at",
            "removed_at",
        ]
        read_only_fields = fields


class EntryIn(StrictInput):
    kind = serializers.CharField(max_length=8, help_text="purl or cpe")
    identifier = serializers.CharField(max_length=1000, help_text="A Package URL or CPE 2.3 name.")
    version = serializers.CharField(
        max_length=100,
        required=False,
        allow_blank=True,
        default="",
        help_text="The version, when the identifier does not carry one.",
    )


class InventoryIn(StrictInput):
    components = serializers.ListField(child=EntryIn(), max_length=inventory.MAX_ENTRIES)


class ChangeOut(serializers.Serializer):
    added = serializers.IntegerField()
    removed = serializers.IntegerField()
    kept = serializers.IntegerField()
    unknown_ecosystems = serializers.DictField(
        child=serializers.IntegerField(),
        help_text="Entries kept but never matched: no rule compares their versions.",
    )


def _change(change: inventory.Change) -> dict[str, Any]:
    return {
        "added": change.added,
        "removed": change.removed,
        "kept": change.kept,
        "unknown_ecosystems": change.unknown_ecosystems,
    }


def _flag(request: Request, name: str) -> bool:
    """A yes/no query parameter (1, true, yes...); anything else is a 400 naming it."""
    if name not in request.query_params:
        return False
    try:
        return bool(serializers.BooleanField().run_validation(request.query_params[name]))
    except serializers.ValidationError as exc:
        raise serializers.ValidationError({name: exc.detail}) from None


def _entries(request: Request) -> list[inventory.Entry]:
    data = InventoryIn(data=request.data)
    data.is_valid(raise_exception=True)
    return [inventory.Entry(**entry) for entry in data.validated_data["components"]]


@extend_schema(parameters=[SYSTEM_ID])
class ComponentViewSet(OfSystem):
    """The software a system runs: read by whoever sees the system, kept by its unit. The
    list's ETag is the inventory's version, for If-Match on a whole replacement."""

    serializer_class = ComponentOut
    lookup_url_kwarg = "component_id"
    lookup_value_regex = "[0-9]+"
    filter_backends: list[Any] = []
    ordering = "package"

    def get_queryset(self) -> QuerySet[Component]:
        return Component.objects.filter(system=self.get_system()).select_related("added_by")

    def get_object(self) -> Any:
        """An entry by its id; on the collection's URL, what a PUT replaces: the system's
        inventory (DRF's OPTIONS asks for it to check the person may PUT)."""
        if self.lookup_url_kwarg not in self.kwargs:
            self.require_keeper()
            return self.get_system()
        return super().get_object()

    @extend_schema(parameters=[ALL], responses=ComponentOut(many=True))
    def list(self, request: Request, system_id: str) -> Response:
        """The current inventory (with `?all=1`, removed entries too)."""
        queryset = self.get_queryset()
        if not _flag(request, "all"):
            queryset = queryset.filter(removed_at__isnull=True)
        page = self.paginate_queryset(queryset)
        response = self.get_paginated_response(ComponentOut(page, many=True).data)
        response["ETag"] = inventory.inventory_etag(self.get_system())
        return response

    @extend_schema(request=InventoryIn, responses={201: ChangeOut, 413: BODY_TOO_LARGE})
    def create(self, request: Request, system_id: str) -> Response:
        """Add entries; those already there are left as they are."""
        system = self.get_system()
        change = inventory.add_components(
            actor=actor_of(request), system=system, entries=_entries(request)
        )
        return Response(
            _change(change),
            status=status.HTTP_201_CREATED,
            headers={"ETag": inventory.inventory_etag(system)},
        )

    @extend_schema(
        request=InventoryIn, responses={200: ChangeOut, 413: BODY_TOO_LARGE}, parameters=[IF_MATCH]
    )
    def replace(self, request: Request, system_id: str) -> Response:
        """The whole inventory becomes these entries (If-Match: the list's ETag)."""
        system = self.get_system()
        expected = if_match(request)
        change = inventory.replace_inventory(
            actor=actor_of(request),
            system=system,
            entries=_entries(request),
            expected_version=None if expected == "*" else expected,
        )
        return Response(_change(change), headers={"ETag": inventory.inventory_etag(system)})

    @extend_schema(
        parameters=[OpenApiParameter("component_id", OpenApiTypes.INT, OpenApiParameter.PATH)],
        responses={204: None},
    )
    def destroy(self, request: Request, system_id: str, component_id: str) -> Response:
        """Take an entry off the inventory; it stays in the history (`?all=1`)."""
        inventory.remove_component(actor=actor_of(request), component=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- SBOM uploads -------------------------------------------------------------------------------


class SbomIn(StrictInput):
    file = serializers.FileField(help_text="A CycloneDX JSON SBOM.")


class SbomOut(serializers.ModelSerializer):
    uploaded_by = _slug("username")
    added = serializers.IntegerField(read_only=True)
    removed = serializers.IntegerField(read_only=True)
    kept = serializers.IntegerField(read_only=True)
    unknown_ecosystems = serializers.DictField(child=serializers.IntegerField(), read_only=True)

    class Meta:
        model = SbomUpload
        fields = [
            "id",
            "subject",
            "spec_version",
            "serial_number",
            "bom_version",
            "filename",
            "sha256",
            "entries",
            "skipped",
            "uploaded_by",
            "uploaded_at",
            "added",
            "removed",
            "kept",
            "unknown_ecosystems",
        ]
        read_only_fields = fields


TOO_LARGE = OpenApiResponse(
    ERROR,
    description="The SBOM is larger than the server accepts (refused before it is read).",
)


class SbomTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "too_large"


# What a multipart body carries besides the file itself: its boundaries and part headers.
MULTIPART_OVERHEAD = 64 * 1024


@extend_schema(parameters=[SYSTEM_ID])
class SbomViewSet(OfSystem):
    """A unit uploads a system's SBOM: its entries replace those the previous SBOM of the same
    subject supplied."""

    serializer_class = SbomOut
    parser_classes = [MultiPartParser, FormParser, BoundedJSONParser]
    pagination_class = None
    filter_backends: list[Any] = []

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        """Refuse what must be refused before the body is read: a body larger than an SBOM may
        be (413; first, since signing in with a session reads a form for its CSRF token), a
        system the person does not see (404) or does not keep (403)."""
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > settings.SBOM_MAX_BYTES + MULTIPART_OVERHEAD:
            self._too_large()
        super().initial(request, *args, **kwargs)
        self.require_keeper()

    def _too_large(self) -> NoReturn:
        raise SbomTooLarge(
            _("The SBOM is larger than %(limit)s.")
            % {"limit": filesizeformat(settings.SBOM_MAX_BYTES)}
        )

    @extend_schema(
        request={"multipart/form-data": SbomIn}, responses={201: SbomOut, 413: TOO_LARGE}
    )
    @idempotent
    def create(self, request: Request, system_id: str) -> Response:
        """Upload a CycloneDX JSON SBOM (multipart, `file`); a file that is not one changes
        nothing and is a 400 naming `file`."""
        data = SbomIn(data=request.data)
        data.is_valid(raise_exception=True)
        upload_file = data.validated_data["file"]
        upload, change = inventory.upload_sbom(
            actor=actor_of(request),
            system=self.get_system(),
            stream=upload_file,
            filename=upload_file.name or "",
            size=upload_file.size,
        )
        for name, value in _change(change).items():
            setattr(upload, name, value)
        return Response(SbomOut(upload).data, status=status.HTTP_201_CREATED)


# --- Network identities -------------------------------------------------------------------------


class NetworkIdentityOut(serializers.ModelSerializer):
    added_by = _slug("username")

    class Meta:
        model = NetworkIdentity
        fields = ["id", "kind", "value", "valid_from", "valid_to", "added_by"]
        read_only_fields = fields


class NetworkIdentityIn(StrictInput):
    kind = serializers.ChoiceField(NetworkIdentity.Kind.choices)
    value = serializers.CharField(max_length=300)
    valid_from = dates.ApiDayField(required=False, allow_null=True, default=None)
    valid_to = dates.ApiDayField(required=False, allow_null=True, default=None)


class EndIn(StrictInput):
    valid_to = dates.ApiDayField(
        required=False, allow_null=True, default=None, help_text="The last day (today if none)."
    )


@extend_schema(parameters=[SYSTEM_ID])
class NetworkIdentityViewSet(OfSystem):
    """How a system is known on the network, with the dates each name held."""

    serializer_class = NetworkIdentityOut
    lookup_url_kwarg = "identity_id"
    lookup_value_regex = "[0-9]+"
    filter_backends: list[Any] = []
    ordering = "pk"

    def get_queryset(self) -> QuerySet[NetworkIdentity]:
        return NetworkIdentity.objects.filter(system=self.get_system()).select_related("added_by")

    def list(self, request: Request, system_id: str) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(NetworkIdentityOut(page, many=True).data)

    @extend_schema(request=NetworkIdentityIn, responses={201: NetworkIdentityOut})
    def create(self, request: Request, system_id: str) -> Response:
        data = NetworkIdentityIn(data=request.data)
        data.is_valid(raise_exception=True)
        identity = inventory.add_network_identity(
            actor=actor_of(request), system=self.get_system(), **data.validated_data
        )
        return Response(NetworkIdentityOut(identity).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=EndIn,
        responses=NetworkIdentityOut,
        parameters=[OpenApiParameter("identity_id", OpenApiTypes.INT, OpenApiParameter.PATH)],
    )
    @action(detail=True, methods=["post"])
    def end(self, request: Request, system_id: str, identity_id: str) -> Response:
        """The system is no longer known by it from a date (today): kept, with its end."""
        identity = get_object_or_404(self.get_queryset(), pk=identity_id)
        data = EndIn(data=request.data)
        data.is_valid(raise_exception=True)
        identity = inventory.end_network_identity(
            actor=actor_of(request), identity=identity, **data.validated_data
        )
        return Response(NetworkIdentityOut(identity).data)
