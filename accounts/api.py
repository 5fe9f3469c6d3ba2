"""API for who people are: /me/, the business-unit directory and the offices."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, viewsets
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import selectors
from accounts.models import BusinessUnit, Delegation, Office


class UnitRoleOut(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    role = serializers.CharField()


class HeldOfficeOut(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    capacity = serializers.ChoiceField(choices=["holder", "acting"])
    until = serializers.DateTimeField(allow_null=True)


class MeOut(serializers.Serializer):
    username = serializers.CharField()
    display_name = serializers.CharField()
    email = serializers.EmailField(allow_blank=True)
    # The language the caller's mail is written in; blank: the site's default. Picked on the site.
    language = serializers.CharField(allow_blank=True)
    units = UnitRoleOut(many=True)
    offices = HeldOfficeOut(many=True)
    roles = serializers.ListField(child=serializers.CharField())
    mfa_enrolled = serializers.BooleanField()


class MeView(APIView):
    """The caller: their business units, the offices they hold or act for, and their roles."""

    @extend_schema(responses=MeOut)
    def get(self, request: Request) -> Response:
        return Response(MeOut(selectors.profile_of(request.user)).data)


class BusinessUnitOut(serializers.ModelSerializer):
    parent: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(  # type: ignore[assignment]
        slug_field="code", read_only=True, allow_null=True
    )
    head: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )

    class Meta:
        model = BusinessUnit
        fields = ["id", "code", "name", "parent", "head"]


class BusinessUnitViewSet(viewsets.ReadOnlyModelViewSet):
    """The organisation's business units."""

    serializer_class = BusinessUnitOut
    filterset_fields = ["code", "parent"]
    ordering = "code"

    def get_queryset(self) -> QuerySet[BusinessUnit]:
        return selectors.business_units_for(self.request.user)


class DelegationOut(serializers.ModelSerializer):
    delegate: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="username", read_only=True
    )

    class Meta:
        model = Delegation
        fields = ["delegate", "starts_at", "ends_at", "reason"]


class OfficeOut(serializers.ModelSerializer):
    holder: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )
    acting = DelegationOut(source="active_delegations", many=True, read_only=True)

    class Meta:
        model = Office
        fields = ["id", "code", "name", "domain", "holder", "acting"]


class OfficeViewSet(viewsets.ReadOnlyModelViewSet):
    """The offices of authority, who holds each, and who acts for it now."""

    serializer_class = OfficeOut
    ordering = "code"

    def get_queryset(self) -> QuerySet[Office]:
        return selectors.offices_for(self.request.user)
