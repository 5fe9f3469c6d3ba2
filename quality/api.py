"""API for quality control: projects, their monthly reports, reviews, release gates, thresholds.

Thin, as everywhere: reads through the selectors, each write through one service. Moving a
project on or correcting a report needs If-Match with the ETag last read (428 without it, 412
when stale); a release decision honours an Idempotency-Key.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db.models import Exists, QuerySet
from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.models import BusinessUnit
from actions.models import Action
from config import dates
from config.api import StrictInput, actor_of, refuse_body
from config.api import read_only_slug as _slug
from config.idempotency import idempotent
from config.schema import CONFLICT, IF_MATCH
from config.versioning import etag_of, if_match
from config.viewsets import VersionedReadViewSet
from quality import selectors, services
from quality.checklists import ANSWERS
from quality.filters import ProjectFilter, open_flags
from quality.models import Project, QualityReport, Rag, ReleaseDecision, Review, Threshold
from systems import selectors as systems_selectors
from systems.models import System

INT_MAX = 2_147_483_647  # what a PositiveIntegerField holds on every database we run on
RATED = [Rag.GREEN, Rag.AMBER, Rag.RED]


def _money(**kwargs: Any) -> serializers.DecimalField:
    """An amount in the group's currency, as the models hold it (MONEY)."""
    return serializers.DecimalField(max_digits=16, decimal_places=2, min_value=0, **kwargs)


def _count(**kwargs: Any) -> serializers.IntegerField:
    return serializers.IntegerField(min_value=0, max_value=INT_MAX, **kwargs)


# --- Projects -------------------------------------------------------------------------------


class ProjectOut(serializers.ModelSerializer):
    unit = _slug("code")
    system = _slug("code")
    flagged = serializers.SerializerMethodField(
        help_text="Brought to the CQO and the committee: red, or trending there, and not yet "
        "cleared by a healthy report."
    )

    class Meta:
        model = Project
        fields = [
            "id",
            "reference",
            "name",
            "unit",
            "system",
            "description",
            "phase",
            "handles_personal_data",
            "planned_budget",
            "planned_start",
            "planned_finish",
            "size_unit",
            "rag",
            "flagged",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_flagged(self, project: Project) -> bool:
        annotated = getattr(project, "flagged", None)  # lists annotate it: one query a page
        if annotated is not None:
            return bool(annotated)
        return selectors.open_flag(project) is not None  # a record a service just returned


class ProjectIn(StrictInput):
    name = serializers.CharField(max_length=200)
    unit = serializers.SlugRelatedField(
        slug_field="code", queryset=BusinessUnit.objects.filter(is_active=True)
    )
    system = serializers.SlugField(max_length=64, help_text="Code of a system on the register.")
    description = serializers.CharField(required=False, allow_blank=True, default="")
    handles_personal_data = serializers.BooleanField(
        default=False, help_text="Always true on a system that handles personal data."
    )
    planned_budget = _money()
    planned_start = dates.ApiDayField()
    planned_finish = dates.ApiDayField()
    size_unit = serializers.ChoiceField(Project.SizeUnit.choices, default=Project.SizeUnit.KLOC)


def _with_etag(project: Project, code: int = status.HTTP_200_OK) -> Response:
    return Response(ProjectOut(project).data, status=code, headers={"ETag": etag_of(project)})


# --- Reports --------------------------------------------------------------------------------


class ReportOut(serializers.ModelSerializer):
    submitted_by = _slug("username")
    corrected_by = _slug("username")
    ratings = serializers.DictField(
        child=serializers.ChoiceField(RATED),
        read_only=True,
        help_text="Indicator → green, amber or red, under the thresholds in force when "
        "submitted; an indicator without a value is left out.",
    )
    trending = serializers.ListField(
        child=serializers.CharField(),
        read_only=True,
        help_text="Indicators falling three periods running.",
    )

    class Meta:
        model = QualityReport
        fields = [
            "id",
            "period",
            "phase",
            *services.FIGURES,
            "schedule_variance",
            "cost_variance",
            "spi",
            "cpi",
            "estimate_at_completion",
            "estimate_to_complete",
            "test_density",
            "defect_detection_rate",
            "ratings",
            "rag",
            "trending",
            "submitted_by",
            "submitted_at",
            "corrected_by",
            "corrected_at",
        ]
        read_only_fields = fields


class ReportFiguresIn(StrictInput):
    """A month's figures; one left out is 0."""

    planned_value = _money()
    earned_value = _money()
    actual_cost = _money()
    percent_complete = serializers.IntegerField(min_value=0, max_value=100)
    tests_planned = _count(default=0)
    tests_run = _count(default=0)
    size = serializers.DecimalField(
        max_digits=12, decimal_places=2, min_value=0, default=Decimal(0)
    )
    defects_planning = _count(default=0)
    defects_design = _count(default=0)
    defects_build = _count(default=0)
    defects_test = _count(default=0)
    defects_release = _count(default=0, help_text="Found after release, in service.")


class ReportIn(ReportFiguresIn):
    period = dates.ApiDayField(
        input_formats=["iso-8601", "%Y-%m"],
        help_text="The month reported on: YYYY-MM, or any day of it as YYYY-MM-DD.",
    )


class ReportCorrectionIn(ReportFiguresIn):
    """The month's figures in full, as they should have been reported, and why."""

    reason = serializers.CharField(max_length=10_000, help_text="What was wrong with the figures.")


PERIOD = OpenApiParameter(
    "period",
    str,
    OpenApiParameter.PATH,
    description="The month of the report: YYYY-MM (anything else is a 404).",
)


def _report_with_etag(report: QualityReport) -> Response:
    return Response(ReportOut(report).data, headers={"ETag": etag_of(report)})


# --- Reviews and release decisions ----------------------------------------------------------


class WorkIn(StrictInput):
    """A finding of a review or a condition of a release: an action for the project's unit."""

    title = serializers.CharField(max_length=200)
    due_on = dates.ApiDayField()
    description = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=4000
    )


def _work(items: list[dict[str, Any]]) -> list[services.Work]:
    return [services.Work(**item) for item in items]


class ActionMadeOut(serializers.ModelSerializer):
    """An action a review's finding or a release's condition became (at /api/v1/actions/{id}/
    for those who may open it)."""

    class Meta:
        model = Action
        fields = ["id", "reference", "title", "due_on", "status"]
        read_only_fields = fields


class ReviewOut(serializers.ModelSerializer):
    reviewer = _slug("username")
    checklist = serializers.DictField(
        child=serializers.ChoiceField(ANSWERS), read_only=True, help_text="Item → yes, no or n/a."
    )

    findings = ActionMadeOut(
        many=True, read_only=True, help_text="The actions its findings became, soonest due first."
    )

    class Meta:
        model = Review
        fields = [
            "id", "phase", "reviewer", "checklist", "verdict", "summary", "recorded_at", "findings",
        ]  # fmt: skip
        read_only_fields = fields


class ReviewIn(StrictInput):
    checklist = serializers.DictField(
        child=serializers.ChoiceField(ANSWERS),
        help_text="Every item of the phase's checklist → yes, no or n/a.",
    )
    verdict = serializers.ChoiceField(Review.Verdict.choices)
    summary = serializers.CharField(max_length=10000)
    findings = WorkIn(
        many=True,
        required=False,
        help_text="Each becomes an action for the project's unit (under /api/v1/actions/).",
    )


class ReleaseDecisionOut(serializers.ModelSerializer):
    project = _slug("reference")
    decided_by = _slug("username")
    conditions = ActionMadeOut(
        many=True, read_only=True, help_text="The actions its conditions became, soonest due first."
    )

    class Meta:
        model = ReleaseDecision
        fields = [
            "id",
            "project",
            "outcome",
            "reason",
            "override_reason",
            "rag_at_decision",
            "decided_by",
            "decided_office",
            "decided_at",
            "conditions",
        ]
        read_only_fields = fields


class ReleaseIn(StrictInput):
    outcome = serializers.ChoiceField(ReleaseDecision.Outcome.choices)
    reason = serializers.CharField(max_length=4000)
    override_reason = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=4000,
        help_text="Why a project rated red is released all the same (required then).",
    )
    conditions = WorkIn(
        many=True,
        required=False,
        help_text="With an approval with conditions: each becomes an action for the unit.",
    )


# --- The viewsets ---------------------------------------------------------------------------


class ProjectViewSet(VersionedReadViewSet):
    """Development projects: a unit's own for its members; every unit's for oversight and for
    the quality reviewers. Others' are 404."""

    serializer_class = ProjectOut
    filterset_class = ProjectFilter
    ordering_fields = ["reference", "name", "phase", "rag", "planned_finish", "updated_at"]
    ordering = "reference"

    def get_queryset(self) -> QuerySet[Project]:
        return selectors.projects_for(self.request.user).annotate(flagged=Exists(open_flags()))

    @extend_schema(request=ProjectIn, responses={201: ProjectOut})
    def create(self, request: Request) -> Response:
        data = ProjectIn(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        code = values.pop("system")
        # Looked up among the systems the person sees, as an incident's affected systems are:
        # codes are unique within a unit, so the project's unit's system of that code is the
        # one meant. A code that names none of them goes on as an unsaved system, which the
        # service answers exactly as another unit's system (403 to one who may not register
        # for the unit, else 400 "no such system"), so the answer never tells which codes exist.
        named = systems_selectors.systems_named(actor_of(request), [code], unit=values["unit"])
        system = named.systems[0] if named.systems else System(code=code)
        project = services.register_project(actor=actor_of(request), system=system, **values)
        return _with_etag(project, status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=ProjectOut, parameters=[IF_MATCH])
    @action(detail=True, methods=["post"])
    def advance(self, request: Request, pk: str | None = None) -> Response:
        """The owning unit moves its project to the next phase (up to test; release is the
        CQO's gate)."""
        project = self.get_object()
        expected = if_match(request)
        refuse_body(request)
        project = services.advance_phase(
            actor=actor_of(request), project=project, expected_version=expected
        )
        return _with_etag(project)

    @extend_schema(responses=ReportOut(many=True), filters=False)
    @action(detail=True, methods=["get"], pagination_class=None)
    def reports(self, request: Request, pk: str | None = None) -> Response:
        """The project's monthly reports, oldest first, with what was derived and rated."""
        reports = selectors.reports_for(request.user, self.get_object())
        return Response(ReportOut(reports, many=True).data)

    @extend_schema(request=ReportIn, responses={201: ReportOut, 409: CONFLICT})
    @reports.mapping.post
    def submit_report(self, request: Request, pk: str | None = None) -> Response:
        """The owning unit reports a month's figures (409 when the month is already in)."""
        project = self.get_object()
        data = ReportIn(data=request.data)
        data.is_valid(raise_exception=True)
        report = services.submit_report(
            actor=actor_of(request), project=project, **data.validated_data
        )
        return Response(ReportOut(report).data, status=status.HTTP_201_CREATED)

    def _report(self, request: Request, period: str) -> QualityReport:
        report = selectors.report_of(request.user, self.get_object(), period)
        if report is None:
            raise Http404
        return report

    @extend_schema(responses=ReportOut, filters=False, parameters=[PERIOD])
    @action(
        detail=True,
        methods=["get"],
        # Any segment, so that a request without credentials is a 401 whatever it names; a
        # period that is no month is a 404.
        url_path=r"reports/(?P<period>[^/.]+)",
        pagination_class=None,
    )
    def report(self, request: Request, pk: str | None = None, period: str = "") -> Response:
        """One month's report (YYYY-MM), with its ETag for a correction."""
        return _report_with_etag(self._report(request, period))

    @extend_schema(
        request=ReportCorrectionIn, responses={200: ReportOut}, parameters=[PERIOD, IF_MATCH]
    )
    @report.mapping.put
    def correct_report(self, request: Request, pk: str | None = None, period: str = "") -> Response:
        """The owning unit corrects its latest report with If-Match (428 without it, 412 when
        stale): the figures in full and why; they are rated again, the history keeps the
        first."""
        report = self._report(request, period)
        expected = if_match(request)
        data = ReportCorrectionIn(data=request.data)
        data.is_valid(raise_exception=True)
        report = services.correct_report(
            actor=actor_of(request), report=report, expected_version=expected, **data.validated_data
        )
        return _report_with_etag(report)

    @extend_schema(responses=ReviewOut(many=True), filters=False)
    @action(detail=True, methods=["get"], pagination_class=None)
    def reviews(self, request: Request, pk: str | None = None) -> Response:
        """The project's independent reviews, oldest first."""
        reviews = selectors.reviews_for(request.user, self.get_object())
        return Response(ReviewOut(reviews, many=True).data)

    @extend_schema(request=ReviewIn, responses={201: ReviewOut})
    @reviews.mapping.post
    def record_review(self, request: Request, pk: str | None = None) -> Response:
        """A quality reviewer from another unit reviews the project in its current phase; each
        finding becomes an action for the project's unit."""
        project = self.get_object()
        data = ReviewIn(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        review = services.record_review(
            actor=actor_of(request),
            project=project,
            findings=_work(values.pop("findings", [])),
            **values,
        )
        return Response(ReviewOut(review).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=ReleaseIn, responses={201: ReleaseDecisionOut})
    @action(detail=True, methods=["post"])
    @idempotent
    def release(self, request: Request, pk: str | None = None) -> Response:
        """The release gate (CQO, or the chair): approve, hold, or approve with conditions."""
        project = self.get_object()
        data = ReleaseIn(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        decision = services.decide_release(
            actor=actor_of(request),
            project=project,
            conditions=_work(values.pop("conditions", [])),
            **values,
        )
        return Response(ReleaseDecisionOut(decision).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses=ReleaseDecisionOut(many=True), filters=False)
    @action(detail=True, methods=["get"], url_path="release-decisions", pagination_class=None)
    def release_decisions(self, request: Request, pk: str | None = None) -> Response:
        """The project's release decisions, oldest first."""
        project = self.get_object()
        decisions = selectors.release_decisions_for(request.user, project).select_related("project")
        return Response(ReleaseDecisionOut(decisions, many=True).data)


# --- Thresholds -----------------------------------------------------------------------------


class ThresholdOut(serializers.ModelSerializer):
    name = serializers.CharField(source="get_indicator_display", read_only=True)
    lower_is_better = serializers.BooleanField(read_only=True)
    updated_by = _slug("username", allow_null=True)

    class Meta:
        model = Threshold
        fields = [
            "indicator",
            "name",
            "green",
            "red",
            "lower_is_better",
            "updated_by",
            "updated_at",
        ]
        read_only_fields = fields


class ThresholdIn(StrictInput):
    green = serializers.DecimalField(max_digits=12, decimal_places=4)
    red = serializers.DecimalField(max_digits=12, decimal_places=4)


class QualityThresholdViewSet(VersionedReadViewSet):
    """Where each indicator turns amber and red: read by everyone signed in, set by the CQO
    (or the chair). One row an indicator, so the list is the whole set, not paged."""

    serializer_class = ThresholdOut
    lookup_field = "indicator"
    pagination_class = None
    filter_backends: list[Any] = []

    def get_queryset(self) -> QuerySet[Threshold]:
        return selectors.thresholds()

    @extend_schema(request=ThresholdIn, responses=ThresholdOut, parameters=[IF_MATCH])
    def update(self, request: Request, indicator: str | None = None) -> Response:
        """Set where the indicator turns amber and red (with the ETag read as If-Match).
        Reports already rated keep their ratings."""
        threshold = self.get_object()
        expected = if_match(request)
        data = ThresholdIn(data=request.data)
        data.is_valid(raise_exception=True)
        threshold = services.set_threshold(
            actor=actor_of(request),
            indicator=threshold.indicator,
            expected_version=expected,
            **data.validated_data,
        )
        return Response(ThresholdOut(threshold).data, headers={"ETag": etag_of(threshold)})
