"""API for incidents and risks: thin; reads through selectors, every write through a service."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.models import BusinessUnit, Domain, User
from cases import selectors, services
from cases.filters import IncidentFilter, RiskFilter
from cases.models import Incident, RecurrenceMeasure, Risk, Severity, TimelineEntry
from config import dates
from config.api import StrictInput, actor_of, refuse_body
from config.api import read_only_slug as _slug
from config.idempotency import idempotent
from config.schema import CONFLICT, IF_MATCH
from config.versioning import etag_of, if_match
from config.viewsets import VersionedReadViewSet
from systems import selectors as systems_selectors

# --- Incidents ------------------------------------------------------------------------------


class IncidentOut(serializers.ModelSerializer):
    unit = _slug("code")
    reporter = _slug("username")
    affected_systems = _slug("code", many=True)

    class Meta:
        model = Incident
        fields = [
            "id",
            "reference",
            "title",
            "description",
            "category",
            "severity",
            "domain",
            "unit",
            "reporter",
            "occurred_at",
            "detected_at",
            "reported_at",
            "personal_data_involved",
            "affected_systems",
            "status",
            "root_cause",
            "closed_at",
            "updated_at",
        ]
        read_only_fields = fields


class IncidentIn(StrictInput):
    title = serializers.CharField(max_length=200)
    description = serializers.CharField()
    category = serializers.ChoiceField(Incident.Category.choices)
    severity = serializers.ChoiceField(Severity.choices)
    domain = serializers.ChoiceField(Domain.choices, default=Domain.SECURITY)
    unit = serializers.SlugRelatedField(
        slug_field="code", queryset=BusinessUnit.objects.filter(is_active=True)
    )
    detected_at = dates.ApiMomentField()
    occurred_at = dates.ApiMomentField(required=False, allow_null=True)
    personal_data_involved = serializers.BooleanField(default=False)
    affected_systems = serializers.ListField(
        child=serializers.SlugField(max_length=64),
        required=False,
        max_length=200,  # an incident names the systems it hit, not the register
        help_text="Codes of systems on the register (the incident's unit's, where codes repeat).",
    )

    def __init__(self, *args: Any, user: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        """Only systems the reporter may see resolve; another unit's reads as "does not exist".
        A code is unique within a unit, so the incident's unit's system of that code is meant."""
        if "affected_systems" not in attrs:
            return attrs
        named = systems_selectors.systems_named(
            self.user, attrs["affected_systems"], unit=attrs.get("unit")
        )
        problems = []
        if named.unknown:
            problems.append(
                _("Unknown systems: %(systems)s.") % {"systems": ", ".join(named.unknown)}
            )
        if named.ambiguous:
            problems.append(
                _("Systems of several other units have these codes: %(systems)s.")
                % {"systems": ", ".join(named.ambiguous)}
            )
        if problems:
            raise serializers.ValidationError({"affected_systems": problems})
        return {**attrs, "affected_systems": named.systems}


class IncidentPatch(StrictInput):
    title = serializers.CharField(max_length=200, required=False)
    description = serializers.CharField(required=False)
    category = serializers.ChoiceField(Incident.Category.choices, required=False)
    personal_data_involved = serializers.BooleanField(required=False)
    root_cause = serializers.CharField(required=False, allow_blank=True)


class IncidentTransitionIn(StrictInput):
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=4000)


class SeverityIn(StrictInput):
    severity = serializers.ChoiceField(Severity.choices)
    reason = serializers.CharField(max_length=4000)


class TimelineEntryOut(serializers.ModelSerializer):
    author = _slug("username", allow_null=True)

    class Meta:
        model = TimelineEntry
        fields = ["id", "at", "author", "kind", "text", "from_value", "to_value"]
        read_only_fields = fields


class TimelineEntryIn(StrictInput):
    text = serializers.CharField(max_length=10000)
    at = dates.ApiMomentField(required=False)


class MeasureOut(serializers.ModelSerializer):
    created_by = _slug("username")
    matching_systems = serializers.SerializerMethodField()

    class Meta:
        model = RecurrenceMeasure
        fields = ["id", "description", "criteria", "created_by", "created_at", "matching_systems"]
        read_only_fields = fields

    def get_matching_systems(self, measure: RecurrenceMeasure) -> list[str]:
        return self.context.get("matches", {}).get(measure.pk, [])


class MeasureIn(StrictInput):
    description = serializers.CharField(max_length=10000)
    criteria = serializers.JSONField(required=False, default=dict)


class RolloutIn(StrictInput):
    measure = serializers.IntegerField()
    deadline = dates.ApiDayField()
    title = serializers.CharField(max_length=200, required=False, default="")


class RolloutOut(serializers.Serializer):
    directive = serializers.CharField()
    actions = serializers.IntegerField()


class IncidentViewSet(VersionedReadViewSet):
    """Incidents: every unit's for oversight, a unit's own for its members; others' are 404."""

    serializer_class = IncidentOut
    filterset_class = IncidentFilter
    ordering_fields = ["reported_at", "severity", "reference"]
    ordering = "-reported_at"

    def get_queryset(self) -> QuerySet[Incident]:
        return selectors.incidents_for(self.request.user)

    @extend_schema(request=IncidentIn, responses={201: IncidentOut})
    def create(self, request: Request) -> Response:
        data = IncidentIn(data=request.data, user=request.user)
        data.is_valid(raise_exception=True)
        incident = services.report_incident(actor=actor_of(request), **data.validated_data)
        return Response(IncidentOut(incident).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=IncidentPatch, responses=IncidentOut, parameters=[IF_MATCH])
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        incident = self.get_object()
        expected = if_match(request)
        data = IncidentPatch(data=request.data)
        data.is_valid(raise_exception=True)
        incident = services.update_incident(
            actor=actor_of(request),
            incident=incident,
            expected_version=expected,
            **data.validated_data,
        )
        return Response(IncidentOut(incident).data, headers={"ETag": etag_of(incident)})

    def _transition(self, request: Request, act: str) -> Response:
        incident = self.get_object()
        data = IncidentTransitionIn(data=request.data)
        data.is_valid(raise_exception=True)
        incident = services.transition_incident(
            actor=actor_of(request), incident=incident, act=act, note=data.validated_data["note"]
        )
        return Response(IncidentOut(incident).data)

    @extend_schema(request=IncidentTransitionIn, responses=IncidentOut)
    @action(detail=True, methods=["post"])
    def triage(self, request: Request, pk: str | None = None) -> Response:
        return self._transition(request, "triage")

    @extend_schema(request=IncidentTransitionIn, responses=IncidentOut)
    @action(detail=True, methods=["post"])
    def investigate(self, request: Request, pk: str | None = None) -> Response:
        return self._transition(request, "investigate")

    @extend_schema(request=IncidentTransitionIn, responses=IncidentOut)
    @action(detail=True, methods=["post"])
    def contain(self, request: Request, pk: str | None = None) -> Response:
        return self._transition(request, "contain")

    @extend_schema(request=IncidentTransitionIn, responses=IncidentOut)
    @action(detail=True, methods=["post"])
    def resolve(self, request: Request, pk: str | None = None) -> Response:
        return self._transition(request, "resolve")

    @extend_schema(request=IncidentTransitionIn, responses=IncidentOut)
    @action(detail=True, methods=["post"])
    def close(self, request: Request, pk: str | None = None) -> Response:
        return self._transition(request, "close")

    @extend_schema(request=IncidentTransitionIn, responses=IncidentOut)
    @action(detail=True, methods=["post"])
    def reopen(self, request: Request, pk: str | None = None) -> Response:
        return self._transition(request, "reopen")

    @extend_schema(request=SeverityIn, responses=IncidentOut)
    @action(detail=True, methods=["post"])
    def severity(self, request: Request, pk: str | None = None) -> Response:
        incident = self.get_object()
        data = SeverityIn(data=request.data)
        data.is_valid(raise_exception=True)
        incident = services.change_severity(
            actor=actor_of(request), incident=incident, **data.validated_data
        )
        return Response(IncidentOut(incident).data)

    @extend_schema(methods=["GET"], responses=TimelineEntryOut(many=True), filters=False)
    @extend_schema(methods=["POST"], request=TimelineEntryIn, responses={201: TimelineEntryOut})
    @action(detail=True, methods=["get", "post"], pagination_class=None)
    def timeline(self, request: Request, pk: str | None = None) -> Response:
        incident = self.get_object()
        if request.method == "POST":
            data = TimelineEntryIn(data=request.data)
            data.is_valid(raise_exception=True)
            entry = services.add_timeline_entry(
                actor=actor_of(request), incident=incident, **data.validated_data
            )
            return Response(TimelineEntryOut(entry).data, status=status.HTTP_201_CREATED)
        return Response(TimelineEntryOut(selectors.timeline_of(incident), many=True).data)

    @extend_schema(methods=["GET"], responses=MeasureOut(many=True), filters=False)
    @extend_schema(methods=["POST"], request=MeasureIn, responses={201: MeasureOut})
    @action(detail=True, methods=["get", "post"], pagination_class=None)
    def measures(self, request: Request, pk: str | None = None) -> Response:
        incident = self.get_object()
        if request.method == "POST":
            data = MeasureIn(data=request.data)
            data.is_valid(raise_exception=True)
            measure = services.add_measure(
                actor=actor_of(request), incident=incident, **data.validated_data
            )
            codes = {measure.pk: selectors.matching_system_codes(measure, request.user)}
            return Response(
                MeasureOut(measure, context={"matches": codes}).data, status=status.HTTP_201_CREATED
            )
        pairs = selectors.measures_of(incident, request.user)
        codes = {m.pk: c for m, c in pairs}
        return Response(
            MeasureOut([m for m, _ in pairs], many=True, context={"matches": codes}).data
        )

    @extend_schema(request=RolloutIn, responses={201: RolloutOut, 409: CONFLICT})
    @action(detail=True, methods=["post"])
    @idempotent
    def rollout(self, request: Request, pk: str | None = None) -> Response:
        """Issue a directive over every system a measure's criteria match (horizontal roll-out)."""
        incident = self.get_object()
        data = RolloutIn(data=request.data)
        data.is_valid(raise_exception=True)
        measure = incident.measures.filter(pk=data.validated_data["measure"]).first()
        if measure is None:
            return Response({"measure": ["No such measure on this incident."]}, status=400)
        directive = services.roll_out_measure(
            actor=actor_of(request),
            measure=measure,
            deadline=data.validated_data["deadline"],
            title=data.validated_data["title"],
        )
        body = {"directive": directive.reference, "actions": directive.actions.count()}
        return Response(body, status=status.HTTP_201_CREATED)


# --- Risks ----------------------------------------------------------------------------------


class RiskOut(serializers.ModelSerializer):
    unit = _slug("code")
    owner = _slug("username")

    class Meta:
        model = Risk
        fields = [
            "id",
            "reference",
            "title",
            "description",
            "unit",
            "domain",
            "owner",
            "likelihood",
            "impact",
            "inherent_score",
            "inherent_level",
            "residual_likelihood",
            "residual_impact",
            "residual_score",
            "residual_level",
            "above_appetite",
            "treatment",
            "status",
            "next_review_on",
            "updated_at",
        ]
        read_only_fields = fields


class RiskIn(StrictInput):
    title = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    unit = serializers.SlugRelatedField(
        slug_field="code", queryset=BusinessUnit.objects.filter(is_active=True)
    )
    domain = serializers.ChoiceField(Domain.choices, default=Domain.SECURITY)
    owner = serializers.SlugRelatedField(
        slug_field="username", queryset=User.objects.filter(is_active=True)
    )
    likelihood = serializers.IntegerField(min_value=1, max_value=5)
    impact = serializers.IntegerField(min_value=1, max_value=5)
    residual_likelihood = serializers.IntegerField(min_value=1, max_value=5, required=False)
    residual_impact = serializers.IntegerField(min_value=1, max_value=5, required=False)
    treatment = serializers.ChoiceField(Risk.Treatment.choices, default=Risk.Treatment.MITIGATE)


class RiskPatch(StrictInput):
    title = serializers.CharField(max_length=200, required=False)
    description = serializers.CharField(required=False, allow_blank=True)
    treatment = serializers.ChoiceField(Risk.Treatment.choices, required=False)
    likelihood = serializers.IntegerField(min_value=1, max_value=5, required=False)
    impact = serializers.IntegerField(min_value=1, max_value=5, required=False)
    residual_likelihood = serializers.IntegerField(min_value=1, max_value=5, required=False)
    residual_impact = serializers.IntegerField(min_value=1, max_value=5, required=False)


class HeatmapOut(serializers.Serializer):
    basis = serializers.ChoiceField(["inherent", "residual"])
    rows = serializers.CharField(help_text="Rows are likelihood 1..5, columns impact 1..5.")
    counts = serializers.ListField(child=serializers.ListField(child=serializers.IntegerField()))


class RiskViewSet(VersionedReadViewSet):
    """The risk register, scored on the matrix in force; the heat map counts what you may see."""

    serializer_class = RiskOut
    filterset_class = RiskFilter
    ordering_fields = ["residual_score", "inherent_score", "reference", "next_review_on"]
    ordering = "-residual_score"

    def get_queryset(self) -> QuerySet[Risk]:
        return selectors.risks_for(self.request.user)

    @extend_schema(request=RiskIn, responses={201: RiskOut})
    def create(self, request: Request) -> Response:
        data = RiskIn(data=request.data)
        data.is_valid(raise_exception=True)
        risk = services.register_risk(actor=actor_of(request), **data.validated_data)
        return Response(RiskOut(risk).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=RiskPatch, responses=RiskOut, parameters=[IF_MATCH])
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        risk = self.get_object()
        expected = if_match(request)
        data = RiskPatch(data=request.data)
        data.is_valid(raise_exception=True)
        risk = services.reassess_risk(
            actor=actor_of(request), risk=risk, expected_version=expected, **data.validated_data
        )
        return Response(RiskOut(risk).data, headers={"ETag": etag_of(risk)})

    def _transition(self, request: Request, name: str) -> Response:
        risk = services.transition_risk(actor=actor_of(request), risk=self.get_object(), act=name)
        return Response(RiskOut(risk).data)

    @extend_schema(request=None, responses=RiskOut)
    @action(detail=True, methods=["post"])
    def assess(self, request: Request, pk: str | None = None) -> Response:
        refuse_body(request)
        return self._transition(request, "assess")

    @extend_schema(request=None, responses=RiskOut)
    @action(detail=True, methods=["post"])
    def treat(self, request: Request, pk: str | None = None) -> Response:
        refuse_body(request)
        return self._transition(request, "treat")

    @extend_schema(request=None, responses=RiskOut)
    @action(detail=True, methods=["post"])
    def monitor(self, request: Request, pk: str | None = None) -> Response:
        refuse_body(request)
        return self._transition(request, "monitor")

    @extend_schema(request=None, responses=RiskOut)
    @action(detail=True, methods=["post"])
    def retire(self, request: Request, pk: str | None = None) -> Response:
        refuse_body(request)
        return self._transition(request, "retire")

    @extend_schema(
        parameters=[OpenApiParameter("basis", enum=["inherent", "residual"], required=False)],
        responses=HeatmapOut,
    )
    @action(detail=False, methods=["get"])
    def heatmap(self, request: Request) -> Response:
        basis = request.query_params.get("basis", "residual")
        if basis not in {"inherent", "residual"}:
            return Response({"basis": ["Must be 'inherent' or 'residual'."]}, status=400)
        return Response(
            {
                "basis": basis,
                "rows": "likelihood 1..5 (rows) x impact 1..5 (columns)",
                "counts": selectors.heatmap(request.user, basis=basis),
            }
        )
