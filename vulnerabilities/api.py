"""API for advisories, findings, the morning-of exposure question and remediation deadlines.

Thin, as everywhere: reads through the selectors (a finding of a system a person may not see
is a 404), each write through one service. A decision on a finding needs If-Match with the
ETag last read (428 without it, 412 when stale); an acceptance, an import and a directive
from the exposure answer honour an Idempotency-Key.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.models import Domain
from actions import policy as actions_policy
from config import dates
from config.api import StrictInput, actor_of, refuse_body
from config.api import read_only_slug as _slug
from config.idempotency import idempotent
from config.parsers import BoundedJSONParser
from config.schema import CONFLICT, IF_MATCH
from config.versioning import etag_of, if_match
from config.viewsets import VersionedReadViewSet
from vulnerabilities import filters, policy, selectors
from vulnerabilities.models import (
    Advisory,
    AffectedRange,
    FeedImport,
    Finding,
    RemediationDeadline,
)
from vulnerabilities.services import advisories as advisory_services
from vulnerabilities.services import deadlines as deadline_services
from vulnerabilities.services import exposure as exposure_services
from vulnerabilities.services import findings as finding_services

# --- Advisories ---------------------------------------------------------------------------------


class RangeOut(serializers.ModelSerializer):
    class Meta:
        model = AffectedRange
        fields = ["package", "scheme", "vers", "fixed", "rule", "review_only", "platforms"]
        read_only_fields = fields


class AdvisoryOut(serializers.ModelSerializer):
    vulnerability = _slug("key")
    aliases = serializers.SerializerMethodField()
    severity = serializers.CharField(source="vulnerability.severity", read_only=True)
    cvss_score = serializers.DecimalField(
        source="vulnerability.cvss_score",
        max_digits=3,
        decimal_places=1,
        read_only=True,
        allow_null=True,
    )
    kev = serializers.BooleanField(source="vulnerability.kev", read_only=True)
    ranges = RangeOut(many=True, read_only=True)

    class Meta:
        model = Advisory
        fields = [
            "id",
            "source",
            "source_id",
            "vulnerability",
            "aliases",
            "summary",
            "severity",
            "cvss_score",
            "kev",
            "published_at",
            "modified_at",
            "withdrawn_at",
            "imported_at",
            "ranges",
        ]
        read_only_fields = fields

    def get_aliases(self, advisory: Advisory) -> list[str]:
        return [alias.name for alias in advisory.vulnerability.aliases.all()]


class FeedImportOut(serializers.ModelSerializer):
    started_by = _slug("username", allow_null=True)

    class Meta:
        model = FeedImport
        fields = [
            "id",
            "kind",
            "origin",
            "outcome",
            "sha256",
            "counts",
            "error",
            "started_by",
            "started_at",
            "finished_at",
        ]
        read_only_fields = fields


class ImportIn(StrictInput):
    kind = serializers.ChoiceField(FeedImport.Kind.choices)
    file = serializers.FileField(help_text="An OSV record (or list), an NVD CVE 2.0 feed, or KEV.")


class AdvisoryViewSet(viewsets.ReadOnlyModelViewSet):
    """Advisories as the feeds published them, with the ranges they say are affected: public
    knowledge, read by everyone signed in; loaded by the CISO's office."""

    serializer_class = AdvisoryOut
    filter_backends = [DjangoFilterBackend]
    filterset_class = filters.AdvisoryFilter
    ordering = "source_id"

    def get_queryset(self) -> QuerySet[Advisory]:
        return selectors.advisories_for(self.request.user).prefetch_related(
            "vulnerability__aliases", Prefetch("ranges", AffectedRange.objects.order_by("pk"))
        )

    @extend_schema(
        request={"multipart/form-data": ImportIn}, responses={201: FeedImportOut}, filters=False
    )
    @action(
        detail=False,
        methods=["post"],
        url_path="import",
        url_name="import",
        parser_classes=[MultiPartParser, FormParser, BoundedJSONParser],
        filter_backends=[],
        pagination_class=None,
    )
    @idempotent
    def import_feed(self, request: Request) -> Response:
        """Import an advisory file (multipart: `kind` osv, nvd or kev, and `file`): all or
        nothing; a malformed file is a 400 saying what was wrong and where."""
        if not policy.can_import_advisories(request.user):
            raise PermissionDenied(_("Only the CISO's office or an admin imports advisories."))
        data = ImportIn(data=request.data)
        data.is_valid(raise_exception=True)
        upload = data.validated_data["file"]
        feed_import = advisory_services.import_file(
            actor=actor_of(request),
            kind=data.validated_data["kind"],
            stream=upload,
            origin=f"upload:{upload.name or ''}",
        )
        return Response(FeedImportOut(feed_import).data, status=status.HTTP_201_CREATED)


# --- Findings -----------------------------------------------------------------------------------


class FindingOut(serializers.ModelSerializer):
    system_code = serializers.CharField(source="system.code", read_only=True)
    unit = serializers.CharField(source="system.unit.code", read_only=True)
    vulnerability = _slug("key")
    summary = serializers.CharField(source="vulnerability.summary", read_only=True)
    kev = serializers.BooleanField(source="vulnerability.kev", read_only=True)
    overdue = serializers.SerializerMethodField()
    decided_by = _slug("username", allow_null=True)
    action = _slug("reference", allow_null=True)

    class Meta:
        model = Finding
        fields = [
            "id",
            "system",
            "system_code",
            "unit",
            "vulnerability",
            "summary",
            "kev",
            "package",
            "version",
            "fixed_in",
            "why",
            "state",
            "severity",
            "priority",
            "due_on",
            "overdue",
            "first_seen_at",
            "opened_at",
            "fixed_at",
            "reopened",
            "reason",
            "decided_by",
            "decided_office",
            "accepted_until",
            "action",
            "updated_at",
        ]
        read_only_fields = fields

    def get_overdue(self, finding: Finding) -> bool:
        today = self.context.get("today") or timezone.localdate()
        return bool(
            finding.state == Finding.State.OPEN
            and finding.due_on is not None
            and finding.due_on < today
        )


class FalsePositiveIn(StrictInput):
    reason = serializers.CharField(max_length=4000)


class AcceptIn(StrictInput):
    until = dates.ApiDayField(help_text="The last day the risk is accepted (after today).")
    reason = serializers.CharField(max_length=4000)


class FindingViewSet(VersionedReadViewSet):
    """Findings on the systems a person sees: a unit's own, all for oversight. Set aside by the
    unit's security officer or the CISO's office; accepted until a date by the CISO."""

    serializer_class = FindingOut
    filter_backends = [DjangoFilterBackend, filters.FindingOrdering]
    filterset_class = filters.FindingFilter
    ordering_fields = ["due_on", "priority", "severity"]
    ordering = "due_on"

    def get_queryset(self) -> QuerySet[Finding]:
        return filters.with_sort_keys(
            selectors.findings_for(self.request.user).select_related("decided_by")
        )

    def get_serializer_context(self) -> dict[str, Any]:
        return {**super().get_serializer_context(), "today": timezone.localdate()}

    def _answer(self, finding: Finding) -> Response:
        finding = self.get_queryset().get(pk=finding.pk)
        return Response(
            FindingOut(finding, context=self.get_serializer_context()).data,
            headers={"ETag": etag_of(finding)},
        )

    @extend_schema(
        request=FalsePositiveIn, responses={200: FindingOut, 409: CONFLICT}, parameters=[IF_MATCH]
    )
    @action(detail=True, methods=["post"], url_path="false-positive", url_name="false-positive")
    def false_positive(self, request: Request, pk: str | None = None) -> Response:
        """Not real (the unit's security officer or the CISO's office); stays set aside while
        it matches."""
        finding = self.get_object()
        expected = if_match(request)
        data = FalsePositiveIn(data=request.data)
        data.is_valid(raise_exception=True)
        finding = finding_services.mark_false_positive(
            actor=actor_of(request),
            finding=finding,
            reason=data.validated_data["reason"],
            expected_version=expected,
        )
        return self._answer(finding)

    @extend_schema(request=None, responses={200: FindingOut, 409: CONFLICT}, parameters=[IF_MATCH])
    @action(detail=True, methods=["post"])
    def confirm(self, request: Request, pk: str | None = None) -> Response:
        """An item to review is real: it opens, with a deadline."""
        finding = self.get_object()
        expected = if_match(request)
        refuse_body(request)
        finding = finding_services.confirm(
            actor=actor_of(request), finding=finding, expected_version=expected
        )
        return self._answer(finding)

    @extend_schema(
        request=AcceptIn, responses={200: FindingOut, 409: CONFLICT}, parameters=[IF_MATCH]
    )
    @action(detail=True, methods=["post"])
    @idempotent
    def accept(self, request: Request, pk: str | None = None) -> Response:
        """The CISO accepts the risk until a date; the finding reopens when it passes."""
        finding = self.get_object()
        expected = if_match(request)
        data = AcceptIn(data=request.data)
        data.is_valid(raise_exception=True)
        finding = finding_services.accept_risk(
            actor=actor_of(request),
            finding=finding,
            expected_version=expected,
            **data.validated_data,
        )
        return self._answer(finding)


# --- The morning-of question --------------------------------------------------------------------


class ExposureQuery(serializers.Serializer):
    package = serializers.CharField(
        max_length=1000, help_text="A Package URL or CPE 2.3 name (any version in it ignored)."
    )
    range = serializers.CharField(
        max_length=4000,
        required=False,
        allow_blank=True,
        default="",
        help_text="A univers range (vers:maven/>=2.0|<2.17.1) or its constraints (>=2.0|<2.17.1).",
    )


class ExposureRowOut(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()
    unit = serializers.CharField()
    version = serializers.CharField()
    internet_facing = serializers.BooleanField()
    handles_personal_data = serializers.BooleanField()
    criticality = serializers.CharField()
    status = serializers.CharField()


class ExposureOut(serializers.Serializer):
    package = serializers.CharField(help_text="The package key asked about.")
    range = serializers.CharField(help_text="The range as read (empty: any version).")
    systems = ExposureRowOut(many=True, help_text="One row a system and version.")
    per_unit = serializers.DictField(
        child=serializers.IntegerField(), help_text="How many systems each unit has among them."
    )
    total = serializers.IntegerField(help_text="How many systems in all.")


class ExposureDirectiveIn(StrictInput):
    package = serializers.CharField(max_length=1000)
    range = serializers.CharField(max_length=4000, required=False, allow_blank=True, default="")
    title = serializers.CharField(max_length=200)
    body = serializers.CharField()
    deadline = dates.ApiDayField()


class ExposureDirectiveOut(serializers.Serializer):
    id = serializers.IntegerField()
    reference = serializers.CharField()
    actions = serializers.IntegerField(help_text="One action a system.")
    systems = serializers.ListField(child=serializers.IntegerField())


def _exposure(answer: selectors.Exposure) -> dict[str, Any]:
    rows = [
        {
            "id": row["system_id"],
            "code": row["system__code"],
            "name": row["system__name"],
            "unit": row["system__unit__code"],
            "version": row["version"],
            "internet_facing": row["system__internet_facing"],
            "handles_personal_data": row["system__handles_personal_data"],
            "criticality": row["system__criticality"],
            "status": row["system__status"],
        }
        for row in answer.rows
    ]
    return {
        "package": answer.package,
        "range": answer.vers,
        "systems": rows,
        "per_unit": dict(sorted(answer.per_unit.items())),
        "total": len(answer.system_ids),
    }


class ExposureViewSet(viewsets.ViewSet):
    """Which of the systems you may see run an affected version of a package, and a security
    directive to exactly those systems in one step."""

    @extend_schema(
        parameters=[
            OpenApiParameter("package", str, required=True, description="pkg:… or cpe:2.3:…"),
            OpenApiParameter("range", str, description="e.g. >=2.0|<2.17.1"),
        ],
        responses=ExposureOut,
    )
    def list(self, request: Request) -> Response:
        query = ExposureQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        answer = selectors.exposure(
            request.user,
            package=query.validated_data["package"],
            vers=query.validated_data["range"],
        )
        return Response(_exposure(answer))

    @extend_schema(request=ExposureDirectiveIn, responses={201: ExposureDirectiveOut})
    @action(detail=False, methods=["post"])
    @idempotent
    def directive(self, request: Request) -> Response:
        """Draft and issue a security directive to the systems the answer names now: one
        action a system (the CISO or the chair)."""
        if not actions_policy.can_issue_directive(request.user, Domain.SECURITY):
            raise PermissionDenied(
                _("Only the office owning %(domain)s, or the chair, issues these directives.")
                % {"domain": Domain.SECURITY}
            )
        data = ExposureDirectiveIn(data=request.data)
        data.is_valid(raise_exception=True)
        given = data.validated_data
        directive = exposure_services.direct_exposed(
            actor=actor_of(request),
            package=given["package"],
            vers=given["range"],
            title=given["title"],
            body=given["body"],
            deadline=given["deadline"],
        )
        count = directive.actions.count()
        system_ids = sorted(directive.criteria["systems"])
        body = {
            "id": directive.pk,
            "reference": directive.reference,
            "actions": count,
            "systems": system_ids,
        }
        return Response(body, status=status.HTTP_201_CREATED)


# --- Remediation deadlines ----------------------------------------------------------------------


class DeadlineOut(serializers.ModelSerializer):
    updated_by = _slug("username", allow_null=True)

    class Meta:
        model = RemediationDeadline
        fields = ["priority", "days", "updated_by", "updated_at"]
        read_only_fields = fields


class DeadlineIn(StrictInput):
    days = serializers.IntegerField(min_value=1, max_value=deadline_services.MAX_DAYS)


class RemediationDeadlineViewSet(VersionedReadViewSet):
    """Days to fix a finding of each priority: read by everyone signed in, set by the CISO.
    One row a priority, so the list is the whole set, not paged."""

    serializer_class = DeadlineOut
    lookup_field = "priority"
    pagination_class = None
    filter_backends: list[Any] = []

    def get_queryset(self) -> QuerySet[RemediationDeadline]:
        # Not user-dependent: the deadlines are the company's rule, known to everyone.
        return RemediationDeadline.objects.select_related("updated_by")

    @extend_schema(request=DeadlineIn, responses=DeadlineOut, parameters=[IF_MATCH])
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Set the days (with the ETag read as If-Match). Findings already open keep their
        due dates; new ones get this."""
        deadline = self.get_object()
        expected = if_match(request)
        data = DeadlineIn(data=request.data)
        data.is_valid(raise_exception=True)
        deadline = deadline_services.set_deadline(
            actor=actor_of(request),
            deadline=deadline,
            days=data.validated_data["days"],
            expected_version=expected,
        )
        deadline = self.get_queryset().get(pk=deadline.pk)
        return Response(DeadlineOut(deadline).data, headers={"ETag": etag_of(deadline)})
