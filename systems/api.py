"""API for the system register and suspension orders: thin, reads through selectors, writes through services."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.models import BusinessUnit
from config.api import StrictInput, actor_of
from config.idempotency import idempotent
from config.schema import CONFLICT, IF_MATCH
from config.versioning import etag_of, if_match
from config.viewsets import VersionedReadViewSet
from systems import selectors, services
from systems.filters import SuspensionFilter, SystemFilter
from systems.models import SuspensionOrder, System


class SystemOut(serializers.ModelSerializer):
    unit: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="code", read_only=True
    )

    class Meta:
        model = System
        fields = [
            "id",
            "code",
            "name",
            "unit",
            "description",
            "environment",
            "internet_facing",
            "handles_personal_data",
            "mfa_enforced",
            "criticality",
            "status",
            "registration",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class SystemIn(StrictInput):
    code = serializers.SlugField(max_length=64)
    name = serializers.CharField(max_length=200)
    unit = serializers.SlugRelatedField(
        slug_field="code", queryset=BusinessUnit.objects.filter(is_active=True)
    )
    description = serializers.CharField(required=False, allow_blank=True, default="")
    environment = serializers.ChoiceField(System.Environment.choices, default="production")
    internet_facing = serializers.BooleanField(default=False)
    handles_personal_data = serializers.BooleanField(default=False)
    mfa_enforced = serializers.BooleanField(default=False)
    criticality = serializers.ChoiceField(System.Criticality.choices, default="medium")
    status = serializers.ChoiceField(
        [System.Status.PLANNED, System.Status.OPERATIONAL], default="operational"
    )
    registration = serializers.ChoiceField(System.Registration.choices, default="registered")


class SystemPatch(StrictInput):
    name = serializers.CharField(max_length=200, required=False)
    description = serializers.CharField(required=False, allow_blank=True)
    environment = serializers.ChoiceField(System.Environment.choices, required=False)
    internet_facing = serializers.BooleanField(required=False)
    handles_personal_data = serializers.BooleanField(required=False)
    mfa_enforced = serializers.BooleanField(required=False)
    criticality = serializers.ChoiceField(System.Criticality.choices, required=False)


class CriteriaIn(StrictInput):
    criteria = serializers.JSONField()


class SuspensionOut(serializers.ModelSerializer):
    system: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="code", read_only=True
    )
    case: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="reference", read_only=True, allow_null=True
    )
    issued_by: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="username", read_only=True
    )
    lifted_by: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )

    class Meta:
        model = SuspensionOrder
        fields = [
            "id",
            "system",
            "case",
            "reason",
            "status",
            "issued_by",
            "issued_office",
            "issued_at",
            "lifted_by",
            "lifted_office",
            "lifted_at",
            "lift_reason",
            "ratification",
        ]
        read_only_fields = fields


class SuspendIn(StrictInput):
    reason = serializers.CharField(max_length=4000)
    case = serializers.CharField(
        max_length=20,
        required=False,
        allow_null=True,
        help_text="Reference of the incident behind it.",
    )


class LiftIn(StrictInput):
    reason = serializers.CharField(max_length=4000)


class SystemViewSet(VersionedReadViewSet):
    """The IT-system register: every unit's systems for oversight, a unit's own for its members."""

    serializer_class = SystemOut
    filterset_class = SystemFilter
    ordering_fields = ["code", "name", "criticality", "updated_at"]
    ordering = "code"

    def get_queryset(self) -> QuerySet[System]:
        return selectors.systems_for(self.request.user)

    @extend_schema(request=SystemIn, responses={201: SystemOut})
    def create(self, request: Request) -> Response:
        data = SystemIn(data=request.data)
        data.is_valid(raise_exception=True)
        system = services.register_system(actor=actor_of(request), **data.validated_data)
        return Response(
            SystemOut(system).data,
            status=status.HTTP_201_CREATED,
            headers={"ETag": etag_of(system)},
        )

    @extend_schema(request=SystemPatch, responses=SystemOut, parameters=[IF_MATCH])
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        system = self.get_object()
        expected = if_match(request)
        data = SystemPatch(data=request.data)
        data.is_valid(raise_exception=True)
        system = services.update_system(
            actor=actor_of(request), system=system, expected_version=expected, **data.validated_data
        )
        return Response(SystemOut(system).data, headers={"ETag": etag_of(system)})

    @extend_schema(request=SuspendIn, responses={201: SuspensionOut, 409: CONFLICT})
    @action(detail=True, methods=["post"])
    @idempotent
    def suspend(self, request: Request, pk: str | None = None) -> Response:
        system = self.get_object()
        data = SuspendIn(data=request.data)
        data.is_valid(raise_exception=True)
        order = services.suspend_system(
            actor=actor_of(request),
            system=system,
            reason=data.validated_data["reason"],
            case_reference=data.validated_data.get("case"),
        )
        return Response(SuspensionOut(order).data, status=status.HTTP_201_CREATED)

    # Paged and ordered like the list, but not filtered: the criteria select.
    @extend_schema(
        request=CriteriaIn,
        responses=SystemOut(many=True),
        filters=False,
        parameters=[
            OpenApiParameter(
                "ordering",
                description="Which field to sort by: code, name, criticality, "
                "updated_at (`-` first for descending).",
            )
        ],
    )
    @action(detail=False, methods=["post"])
    def match(self, request: Request) -> Response:
        """The systems that criteria select today (of those you may see)."""
        data = CriteriaIn(data=request.data)
        data.is_valid(raise_exception=True)
        queryset = selectors.systems_matching(data.validated_data["criteria"], user=request.user)
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(SystemOut(page, many=True).data)


class SuspensionViewSet(viewsets.ReadOnlyModelViewSet):
    """Suspension orders, active and lifted, for the systems you may see."""

    serializer_class = SuspensionOut
    filterset_class = SuspensionFilter
    ordering = "-issued_at"

    def get_queryset(self) -> QuerySet[SuspensionOrder]:
        return selectors.suspensions_for(self.request.user).select_related("case")

    @extend_schema(request=LiftIn, responses={200: SuspensionOut, 409: CONFLICT})
    @action(detail=True, methods=["post"])
    @idempotent
    def lift(self, request: Request, pk: str | None = None) -> Response:
        order = self.get_object()
        data = LiftIn(data=request.data)
        data.is_valid(raise_exception=True)
        order = services.lift_suspension(
            actor=actor_of(request), order=order, **data.validated_data
        )
        return Response(SuspensionOut(order).data)
