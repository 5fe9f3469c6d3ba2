"""API for committees, meetings, agendas, attendance, decisions, minutes and calendars: thin,
reads through selectors, writes through services."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db.models import QuerySet
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse

from accounts.models import BusinessUnit, Domain, User
from actions.models import Action
from committee import ical, policy, selectors, services
from committee.filters import MeetingFilter
from committee.models import (
    AgendaItem,
    Attendance,
    CadenceException,
    CalendarFeed,
    Committee,
    CommitteeMember,
    Decision,
    Meeting,
    Minutes,
)
from committee.quorum import quorum_of
from committee.services.minutes import etag as minutes_etag
from config import dates
from config.api import StrictInput, actor_of, read_only_slug, refuse_body
from config.idempotency import idempotent
from config.schema import CONFLICT, IF_MATCH
from config.versioning import if_match
from config.viewsets import VersionedReadViewSet


class ICalendarRenderer(BaseRenderer):
    """Lets a calendar client ask for text/calendar; errors still answer in JSON."""

    media_type = "text/calendar"
    format = "ics"
    charset = "utf-8"

    def render(
        self,
        data: Any,
        accepted_media_type: str | None = None,
        renderer_context: Mapping[str, Any] | None = None,
    ) -> bytes:
        if isinstance(data, bytes):
            return data
        # An error, negotiated as a calendar: its JSON must not be labelled text/calendar.
        response = (renderer_context or {}).get("response")
        if response is not None:
            response["Content-Type"] = "application/json"
        return JSONRenderer().render(data)


# ---- committees -------------------------------------------------------------------------


class CommitteeMemberOut(serializers.ModelSerializer):
    office = read_only_slug("code", allow_null=True)
    person = read_only_slug("username", allow_null=True)

    class Meta:
        model = CommitteeMember
        fields = ["office", "person", "kind"]
        read_only_fields = fields


class CommitteeOut(serializers.ModelSerializer):
    chair_office = read_only_slug("code")
    members = CommitteeMemberOut(many=True, read_only=True)

    class Meta:
        model = Committee
        fields = [
            "id",
            "name",
            "slug",
            "chair_office",
            "members",
            "quorum",
            "quorum_needs_chair",
            "time_zone",
            "cadence",
            "duration_minutes",
            "agenda_lead_days",
            "location",
            "is_active",
        ]
        read_only_fields = fields


class CadenceExceptionIn(StrictInput):
    occurrence_date = dates.ApiDayField()
    kind = serializers.ChoiceField(CadenceException.Kind.choices)
    moved_to = dates.ApiMomentField(required=False, allow_null=True, default=None)
    reason = serializers.CharField(max_length=500)


class CadenceExceptionOut(serializers.ModelSerializer):
    moved_to = dates.ApiMomentField(read_only=True)

    class Meta:
        model = CadenceException
        fields = ["id", "occurrence_date", "kind", "moved_to", "reason", "created_at"]
        read_only_fields = fields


class CommitteeViewSet(VersionedReadViewSet):
    """The committees, their seats, quorum rule and cadence."""

    serializer_class = CommitteeOut
    ordering_fields = ["name"]
    ordering = "name"

    def get_queryset(self) -> QuerySet[Committee]:
        return selectors.committees_for(self.request.user).prefetch_related(
            "members__office", "members__person"
        )

    @extend_schema(request=CadenceExceptionIn, responses={201: CadenceExceptionOut, 409: CONFLICT})
    @action(detail=True, methods=["post"])
    def exceptions(self, request: Request, pk: str | None = None) -> Response:
        """Skip one meeting of the cadence, or move it (secretariat)."""
        committee = self.get_object()
        data = CadenceExceptionIn(data=request.data)
        data.is_valid(raise_exception=True)
        exception = services.add_cadence_exception(
            actor=actor_of(request), committee=committee, **data.validated_data
        )
        return Response(CadenceExceptionOut(exception).data, status=status.HTTP_201_CREATED)


# ---- meetings ---------------------------------------------------------------------------


class MeetingOut(serializers.ModelSerializer):
    committee = read_only_slug("slug")
    chair = read_only_slug("username", allow_null=True)
    # A meeting stored with an absurd date (before dates were checked) is shown in UTC rather
    # than failing the whole list.
    starts_at = dates.ApiMomentField(read_only=True)
    ends_at = dates.ApiMomentField(read_only=True)
    time_zone = serializers.CharField(source="committee.time_zone", read_only=True)
    local_start = serializers.SerializerMethodField()

    class Meta:
        model = Meeting
        fields = [
            "id",
            "committee",
            "title",
            "starts_at",
            "ends_at",
            "time_zone",
            "local_start",
            "location",
            "status",
            "sequence",
            "ical_uid",
            "chair",
            "published_at",
            "held_at",
            "cancelled_at",
            "cancel_reason",
        ]
        read_only_fields = fields

    def get_local_start(self, meeting: Meeting) -> str:
        return dates.local(meeting.starts_at, meeting.committee.zone).isoformat()


class AgendaItemOut(serializers.ModelSerializer):
    unit = read_only_slug("code", allow_null=True)
    incident = read_only_slug("reference", allow_null=True)
    risk = read_only_slug("reference", allow_null=True)
    action = read_only_slug("reference", allow_null=True)
    directive = read_only_slug("reference", allow_null=True)
    project = read_only_slug("reference", allow_null=True)
    added_by = read_only_slug("username", allow_null=True)

    class Meta:
        model = AgendaItem
        fields = [
            "id",
            "position",
            "kind",
            "title",
            "summary",
            "unit",
            "incident",
            "risk",
            "action",
            "suspension",
            "directive",
            "project",
            "added_by",
            "added_after_publication",
            "discussed_at",
        ]
        read_only_fields = fields


class AgendaItemIn(StrictInput):
    title = serializers.CharField(max_length=300)
    summary = serializers.CharField(required=False, allow_blank=True, default="")
    unit = serializers.SlugRelatedField(
        slug_field="code", queryset=BusinessUnit.objects.all(), required=False, allow_null=True
    )


class ReorderIn(StrictInput):
    order = serializers.ListField(child=serializers.IntegerField(), allow_empty=False)


class RemoveIn(StrictInput):
    reason = serializers.CharField(required=False, allow_blank=True, default="")


class AttendanceOut(serializers.ModelSerializer):
    person = read_only_slug("username")
    delegate = read_only_slug("username", allow_null=True)

    class Meta:
        model = Attendance
        fields = [
            "id",
            "person",
            "office",
            "kind",
            "is_chair",
            "status",
            "delegate",
            "added_after_publication",
            "note",
        ]
        read_only_fields = fields


class QuorumOut(serializers.Serializer):
    voting = serializers.IntegerField()
    present = serializers.IntegerField()
    needed = serializers.IntegerField()
    chair_present = serializers.BooleanField()
    met = serializers.BooleanField()
    explanation = serializers.CharField()


class RosterOut(serializers.Serializer):
    quorum = QuorumOut()
    attendance = AttendanceOut(many=True)


class AttendanceIn(StrictInput):
    person = serializers.SlugRelatedField(slug_field="username", queryset=User.objects.all())
    status = serializers.ChoiceField(Attendance.Status.choices)
    delegate = serializers.SlugRelatedField(
        slug_field="username", queryset=User.objects.all(), required=False, allow_null=True
    )
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=500)


class AttendeeIn(StrictInput):
    person = serializers.SlugRelatedField(slug_field="username", queryset=User.objects.all())
    kind = serializers.ChoiceField(Attendance.Kind.choices, default=Attendance.Kind.OBSERVER)
    reason = serializers.CharField(max_length=500)


class ActionSpecIn(StrictInput):
    unit = serializers.CharField(max_length=32, help_text="The owning unit's code.")
    title = serializers.CharField(max_length=200)
    due_on = dates.ApiDayField()
    domain = serializers.ChoiceField(Domain.choices, default=Domain.SECURITY)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    priority = serializers.ChoiceField(Action.Priority.choices, default=Action.Priority.NORMAL)


class DecisionIn(StrictInput):
    item = serializers.IntegerField(required=False, allow_null=True, default=None)
    outcome = serializers.ChoiceField(Decision.Outcome.choices)
    text = serializers.CharField(max_length=10000)
    effect = serializers.ChoiceField(Decision.Effect.choices, default=Decision.Effect.NONE)
    actions = ActionSpecIn(many=True, required=False, default=list)
    corrects = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        help_text="Reference of the decision corrected.",
    )


class DecisionOut(serializers.ModelSerializer):
    chair = read_only_slug("username")
    recorded_by = read_only_slug("username")
    corrects = read_only_slug("reference", allow_null=True)
    actions = read_only_slug("reference", many=True)

    class Meta:
        model = Decision
        fields = [
            "id",
            "reference",
            "meeting",
            "item",
            "outcome",
            "effect",
            "text",
            "chair",
            "recorded_by",
            "recorded_capacity",
            "recorded_at",
            "corrects",
            "actions",
        ]
        read_only_fields = fields


class MinutesOut(serializers.ModelSerializer):
    drafted_by = read_only_slug("username")
    approved_by = read_only_slug("username", allow_null=True)
    corrections = serializers.SerializerMethodField()

    class Meta:
        model = Minutes
        fields = [
            "body",
            "status",
            "version",
            "drafted_by",
            "approved_by",
            "approved_office",
            "approved_at",
            "updated_at",
            "corrections",
        ]
        read_only_fields = fields

    def get_corrections(self, minutes: Minutes) -> list[dict[str, Any]]:
        return [
            {"text": c.text, "made_by": c.made_by.get_username(), "made_at": c.made_at}
            for c in minutes.corrections.select_related("made_by")
        ]


class MinutesIn(StrictInput):
    body = serializers.CharField(allow_blank=False, max_length=200_000)


class CorrectionIn(StrictInput):
    text = serializers.CharField(max_length=10000)


class ReasonIn(StrictInput):
    reason = serializers.CharField(max_length=4000)


class RescheduleIn(StrictInput):
    starts_at = dates.ApiMomentField()
    reason = serializers.CharField(max_length=4000)


# The first draft needs none; a rewrite names the version it read.
IF_MATCH_TO_REWRITE = OpenApiParameter(
    "If-Match",
    str,
    OpenApiParameter.HEADER,
    description="To rewrite an existing draft: the ETag you read (428 without it, 412 when the "
    "minutes have changed since).",
)


def _quorum_data(meeting: Meeting, rows: list[Attendance]) -> dict[str, Any]:
    quorum = quorum_of(meeting.committee, rows)
    return {
        "voting": quorum.voting,
        "present": quorum.present,
        "needed": quorum.needed,
        "chair_present": quorum.chair_present,
        "met": quorum.met,
        "explanation": quorum.explain(),
    }


class MeetingViewSet(VersionedReadViewSet):
    """Meetings: their agendas (whole for members, a unit's own items for a unit), attendance,
    decisions, minutes and iCalendar invitations."""

    serializer_class = MeetingOut
    filterset_class = MeetingFilter
    ordering_fields = ["starts_at"]
    ordering = "starts_at"

    def get_queryset(self) -> QuerySet[Meeting]:
        return selectors.meetings_for(self.request.user)

    def _answer(self, meeting: Meeting, code: int = status.HTTP_200_OK) -> Response:
        meeting = self.get_queryset().get(pk=meeting.pk)
        return Response(MeetingOut(meeting).data, status=code, headers={"ETag": self.etag(meeting)})

    def _item(self, meeting: Meeting, item_id: str) -> AgendaItem:
        """An item the person may not see is a 404, like any record."""
        item = selectors.agenda_for(self.request.user, meeting).filter(pk=item_id).first()
        if item is None:
            raise NotFound("No such item on this agenda.")
        return item

    # -- lifecycle --

    @extend_schema(request=None, responses=MeetingOut)
    @action(detail=True, methods=["post"])
    def publish(self, request: Request, pk: str | None = None) -> Response:
        refuse_body(request)
        meeting = services.publish_agenda(actor=actor_of(request), meeting=self.get_object())
        return self._answer(meeting)

    @extend_schema(request=None, responses=MeetingOut)
    @action(detail=True, methods=["post"])
    def hold(self, request: Request, pk: str | None = None) -> Response:
        refuse_body(request)
        meeting = services.hold_meeting(actor=actor_of(request), meeting=self.get_object())
        return self._answer(meeting)

    @extend_schema(request=ReasonIn, responses=MeetingOut)
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str | None = None) -> Response:
        data = ReasonIn(data=request.data)
        data.is_valid(raise_exception=True)
        meeting = services.cancel_meeting(
            actor=actor_of(request), meeting=self.get_object(), **data.validated_data
        )
        return self._answer(meeting)

    @extend_schema(request=RescheduleIn, responses={200: MeetingOut, 409: CONFLICT})
    @action(detail=True, methods=["post"])
    def reschedule(self, request: Request, pk: str | None = None) -> Response:
        data = RescheduleIn(data=request.data)
        data.is_valid(raise_exception=True)
        meeting = services.reschedule_meeting(
            actor=actor_of(request), meeting=self.get_object(), **data.validated_data
        )
        return self._answer(meeting)

    # -- agenda --

    @extend_schema(responses=AgendaItemOut(many=True), filters=False)
    @action(detail=True, methods=["get"], pagination_class=None)
    def agenda(self, request: Request, pk: str | None = None) -> Response:
        """The agenda in order: every item for members, a unit's own items for a unit."""
        items = selectors.agenda_for(request.user, self.get_object())
        return Response(AgendaItemOut(items, many=True).data)

    @extend_schema(request=AgendaItemIn, responses={201: AgendaItemOut, 409: CONFLICT})
    @agenda.mapping.post
    def add_item(self, request: Request, pk: str | None = None) -> Response:
        data = AgendaItemIn(data=request.data)
        data.is_valid(raise_exception=True)
        item = services.add_agenda_item(
            actor=actor_of(request), meeting=self.get_object(), **data.validated_data
        )
        return Response(AgendaItemOut(item).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={200: OpenApiResponse(description="Items added")})
    @action(detail=True, methods=["post"], url_path="agenda/assemble")
    def assemble(self, request: Request, pk: str | None = None) -> Response:
        refuse_body(request)
        """Bring the draft agenda up to date with the data now (secretariat)."""
        added = services.assemble_agenda(actor=actor_of(request), meeting=self.get_object())
        return Response({"added": added})

    @extend_schema(
        request=ReorderIn,
        responses={200: AgendaItemOut(many=True), 409: CONFLICT},
        filters=False,
    )
    @action(detail=True, methods=["post"], url_path="agenda/reorder", pagination_class=None)
    def reorder(self, request: Request, pk: str | None = None) -> Response:
        data = ReorderIn(data=request.data)
        data.is_valid(raise_exception=True)
        items = services.reorder_agenda(
            actor=actor_of(request), meeting=self.get_object(), order=data.validated_data["order"]
        )
        return Response(AgendaItemOut(items, many=True).data)

    @extend_schema(request=RemoveIn, responses={200: AgendaItemOut, 409: CONFLICT})
    @action(detail=True, methods=["post"], url_path=r"agenda/(?P<item_id>[0-9]+)/remove")
    def remove_item(self, request: Request, pk: str | None = None, item_id: str = "") -> Response:
        meeting = self.get_object()
        data = RemoveIn(data=request.data)
        data.is_valid(raise_exception=True)
        item = services.remove_agenda_item(
            actor=actor_of(request),
            meeting=meeting,
            item=self._item(meeting, item_id),
            **data.validated_data,
        )
        return Response(AgendaItemOut(item).data)

    @extend_schema(request=None, responses={200: AgendaItemOut, 409: CONFLICT})
    @action(detail=True, methods=["post"], url_path=r"agenda/(?P<item_id>[0-9]+)/discussed")
    def discussed(self, request: Request, pk: str | None = None, item_id: str = "") -> Response:
        refuse_body(request)
        meeting = self.get_object()
        item = services.mark_discussed(
            actor=actor_of(request), meeting=meeting, item=self._item(meeting, item_id)
        )
        return Response(AgendaItemOut(item).data)

    # -- attendance --

    @extend_schema(responses=RosterOut)
    @action(detail=True, methods=["get"])
    def attendance(self, request: Request, pk: str | None = None) -> Response:
        """The frozen roster, who came, and whether the meeting is quorate."""
        meeting = self.get_object()
        if not policy.sees_whole_agenda(request.user, meeting.committee):
            raise NotFound("Only the committee and oversight read the roster.")
        rows = list(selectors.attendance_for(request.user, meeting))
        return Response(
            {
                "quorum": _quorum_data(meeting, rows),
                "attendance": AttendanceOut(rows, many=True).data,
            }
        )

    @extend_schema(request=AttendanceIn, responses={200: AttendanceOut, 409: CONFLICT})
    @attendance.mapping.post
    def record_attendance(self, request: Request, pk: str | None = None) -> Response:
        data = AttendanceIn(data=request.data)
        data.is_valid(raise_exception=True)
        row = services.record_attendance(
            actor=actor_of(request), meeting=self.get_object(), **data.validated_data
        )
        return Response(AttendanceOut(row).data)

    @extend_schema(request=AttendeeIn, responses={201: AttendanceOut, 409: CONFLICT})
    @action(detail=True, methods=["post"], url_path="attendance/add")
    def add_attendee(self, request: Request, pk: str | None = None) -> Response:
        """Change the roster after publication (recorded, with a reason)."""
        data = AttendeeIn(data=request.data)
        data.is_valid(raise_exception=True)
        row = services.add_attendee(
            actor=actor_of(request), meeting=self.get_object(), **data.validated_data
        )
        return Response(AttendanceOut(row).data, status=status.HTTP_201_CREATED)

    # -- decisions --

    @extend_schema(responses=DecisionOut(many=True), filters=False)
    @action(detail=True, methods=["get"], pagination_class=None)
    def decisions(self, request: Request, pk: str | None = None) -> Response:
        decisions = selectors.decisions_for(request.user, self.get_object())
        return Response(DecisionOut(decisions, many=True).data)

    @extend_schema(request=DecisionIn, responses={201: DecisionOut, 409: CONFLICT})
    @decisions.mapping.post
    @idempotent
    def record_decision(self, request: Request, pk: str | None = None) -> Response:
        """Record a decision (chair, or secretariat on the chair's behalf); honours
        Idempotency-Key."""
        meeting = self.get_object()
        data = DecisionIn(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        item_id = values.pop("item")
        item = self._item(meeting, str(item_id)) if item_id is not None else None
        reference = values.pop("corrects")
        corrects = None
        if reference:
            corrects = Decision.objects.filter(
                reference=reference, meeting__in=selectors.meetings_for(request.user)
            ).first()
            if corrects is None:
                raise serializers.ValidationError({"corrects": [f"No decision {reference}."]})
        decision = services.record_decision(
            actor=actor_of(request), meeting=meeting, item=item, corrects=corrects, **values
        )
        decision = selectors.decisions_for(request.user, meeting).get(pk=decision.pk)
        return Response(DecisionOut(decision).data, status=status.HTTP_201_CREATED)

    # -- minutes --

    def _minutes(self, meeting: Meeting) -> Minutes:
        if not policy.can_read_minutes(self.request.user, meeting):
            raise NotFound("Only the committee and oversight read the minutes.")
        minutes = (
            Minutes.objects.filter(meeting=meeting)
            .select_related("drafted_by", "approved_by")
            .first()
        )
        if minutes is None:
            raise NotFound("No minutes have been drafted yet.")
        return minutes

    @extend_schema(responses=MinutesOut)
    @action(detail=True, methods=["get"])
    def minutes(self, request: Request, pk: str | None = None) -> Response:
        minutes = self._minutes(self.get_object())
        return Response(MinutesOut(minutes).data, headers={"ETag": minutes_etag(minutes)})

    @extend_schema(
        request=MinutesIn,
        responses={200: MinutesOut, 409: CONFLICT},
        parameters=[IF_MATCH_TO_REWRITE],
    )
    @minutes.mapping.put
    def draft_minutes(self, request: Request, pk: str | None = None) -> Response:
        """Write the draft; rewriting an existing draft needs If-Match with its ETag."""
        meeting = self.get_object()
        data = MinutesIn(data=request.data)
        data.is_valid(raise_exception=True)
        minutes = services.draft_minutes(
            actor=actor_of(request),
            meeting=meeting,
            body=data.validated_data["body"],
            expected_version=request.headers.get("If-Match"),
        )
        return Response(MinutesOut(minutes).data, headers={"ETag": minutes_etag(minutes)})

    @extend_schema(request=None, responses={200: MinutesOut, 409: CONFLICT}, parameters=[IF_MATCH])
    @action(detail=True, methods=["post"], url_path="minutes/approve")
    def approve_minutes(self, request: Request, pk: str | None = None) -> Response:
        refuse_body(request)
        """Approve the minutes as read: If-Match with their ETag."""
        minutes = services.approve_minutes(
            actor=actor_of(request), meeting=self.get_object(), expected_version=if_match(request)
        )
        return Response(MinutesOut(minutes).data, headers={"ETag": minutes_etag(minutes)})

    @extend_schema(request=CorrectionIn, responses={201: MinutesOut, 409: CONFLICT})
    @action(detail=True, methods=["post"], url_path="minutes/corrections")
    def correct_minutes(self, request: Request, pk: str | None = None) -> Response:
        meeting = self.get_object()
        data = CorrectionIn(data=request.data)
        data.is_valid(raise_exception=True)
        services.correct_minutes(actor=actor_of(request), meeting=meeting, **data.validated_data)
        return Response(MinutesOut(self._minutes(meeting)).data, status=status.HTTP_201_CREATED)

    # -- calendar --

    @extend_schema(responses={(200, "text/calendar"): OpenApiTypes.BINARY})
    @action(detail=True, methods=["get"], renderer_classes=[JSONRenderer, ICalendarRenderer])
    def ical(self, request: Request, pk: str | None = None) -> HttpResponse:
        """The meeting as an iCalendar event (stable UID, current SEQUENCE)."""
        meeting = self.get_object()
        rows = list(selectors.attendance_for(request.user, meeting))
        body = ical.invitation(meeting, rows, method="PUBLISH")
        response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="meeting-{meeting.pk}.ics"'
        return response


# ---- calendar feeds ---------------------------------------------------------------------


class CalendarFeedOut(serializers.ModelSerializer):
    class Meta:
        model = CalendarFeed
        fields = ["id", "created_at", "revoked_at", "last_used_at"]
        read_only_fields = fields


class CalendarFeedCreated(CalendarFeedOut):
    url = serializers.CharField(read_only=True)

    class Meta(CalendarFeedOut.Meta):
        fields = [*CalendarFeedOut.Meta.fields, "url"]
        read_only_fields = fields


class CalendarFeedViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Your calendar subscriptions. The URL (with its secret token) is shown once, at creation."""

    serializer_class = CalendarFeedOut
    ordering = "-created_at"

    queryset = CalendarFeed.objects.none()  # the schema's model; requests use get_queryset

    def get_queryset(self) -> QuerySet[CalendarFeed]:
        if getattr(self, "swagger_fake_view", False):
            return CalendarFeed.objects.none()
        return CalendarFeed.objects.filter(user=actor_of(self.request))

    @extend_schema(request=None, responses={201: CalendarFeedCreated})
    def create(self, request: Request) -> Response:
        refuse_body(request)
        feed, token = services.create_calendar_feed(actor=actor_of(request))
        url = reverse("calendar-feed", kwargs={"token": token}, request=request)
        data = {**CalendarFeedOut(feed).data, "url": url}
        return Response(data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=CalendarFeedOut)
    @action(detail=True, methods=["post"])
    def revoke(self, request: Request, pk: str | None = None) -> Response:
        refuse_body(request)
        feed = services.revoke_calendar_feed(actor=actor_of(request), feed=self.get_object())
        return Response(CalendarFeedOut(feed).data)
