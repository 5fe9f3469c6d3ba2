"""API for actions: lists with the filters units and CxOs use, transitions, updates with evidence.

Every write needs If-Match with the ETag last read (428 without it, 412 when stale).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action as route
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.models import BusinessUnit, Domain, User
from actions import selectors, services
from actions.filters import ActionFilter, DirectiveFilter
from actions.models import Action, ActionUpdate, Directive, Evidence, Notification
from config import dates
from config.api import StrictInput, actor_of, refuse_body
from config.api import read_only_slug as _slug
from config.idempotency import idempotent
from config.parsers import BoundedJSONParser
from config.schema import CONFLICT, IF_MATCH
from config.versioning import if_match
from config.viewsets import VersionedReadViewSet


class ActionOut(serializers.ModelSerializer):
    unit = _slug("code")
    assignee = _slug("username", allow_null=True)
    system = _slug("code", allow_null=True)
    issued_by = _slug("username")
    origin_incident = serializers.SerializerMethodField()
    overdue = serializers.BooleanField(source="is_overdue", read_only=True)

    class Meta:
        model = Action
        fields = [
            "id",
            "reference",
            "title",
            "description",
            "domain",
            "unit",
            "assignee",
            "due_on",
            "priority",
            "status",
            "overdue",
            "escalation_level",
            "percent_done",
            "system",
            "origin_incident",
            "issued_by",
            "issued_office",
            "submitted_at",
            "verified_at",
            "cancel_reason",
            "version",
            "updated_at",
        ]
        read_only_fields = fields

    def get_origin_incident(self, action: Action) -> int | None:
        return action.origin_incident_id


class ActionIn(StrictInput):
    title = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    domain = serializers.ChoiceField(Domain.choices, default=Domain.SECURITY)
    unit = serializers.SlugRelatedField(
        slug_field="code", queryset=BusinessUnit.objects.filter(is_active=True)
    )
    assignee = serializers.SlugRelatedField(
        slug_field="username",
        queryset=User.objects.filter(is_active=True),
        required=False,
        allow_null=True,
    )
    due_on = dates.ApiDayField()
    priority = serializers.ChoiceField(Action.Priority.choices, default=Action.Priority.NORMAL)


class TransitionIn(StrictInput):
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=4000)


class ReplanIn(StrictInput):
    reason = serializers.CharField(max_length=4000)
    due_on = dates.ApiDayField(required=False)
    unit = serializers.SlugRelatedField(
        slug_field="code", queryset=BusinessUnit.objects.filter(is_active=True), required=False
    )
    assignee = serializers.SlugRelatedField(
        slug_field="username", queryset=User.objects.filter(is_active=True), required=False
    )
    domain = serializers.ChoiceField(Domain.choices, required=False)


class AssignIn(StrictInput):
    # null hands the action back to the unit as a whole
    assignee = serializers.SlugRelatedField(
        slug_field="username", queryset=User.objects.filter(is_active=True), allow_null=True
    )


class EvidenceOut(serializers.ModelSerializer):
    class Meta:
        model = Evidence
        fields = ["id", "name", "size", "content_type", "sha256"]
        read_only_fields = fields


class UpdateOut(serializers.ModelSerializer):
    author = _slug("username")
    # Blank when the update moved no status (a note, a percentage, evidence).
    new_status = serializers.ChoiceField(Action.Status.choices, allow_blank=True, read_only=True)
    evidence = EvidenceOut(many=True, read_only=True)

    class Meta:
        model = ActionUpdate
        fields = ["id", "at", "author", "note", "percent_done", "new_status", "evidence"]
        read_only_fields = fields


class UpdateIn(StrictInput):
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=10000)
    percent_done = serializers.IntegerField(required=False, min_value=0, max_value=100)
    files = serializers.ListField(
        child=serializers.FileField(), required=False, default=list, max_length=10
    )


_DATE = serializers.DateField()
_MOMENT = serializers.DateTimeField()
_FINISHED = {Action.Status.VERIFIED, Action.Status.CANCELLED}


def _list_row(row: dict[str, Any], today: dt.date) -> dict[str, Any]:
    """One .values() row as ActionOut renders the action (same names, formats and order)."""
    out = {name: row[column] for name, column in selectors.LIST_ROW.items()}
    out["overdue"] = row["status"] not in _FINISHED and row["due_on"] < today
    out["due_on"] = _DATE.to_representation(row["due_on"])
    for name in ("submitted_at", "verified_at", "updated_at"):
        if out[name] is not None:
            out[name] = _MOMENT.to_representation(out[name])
    return {name: out[name] for name in ActionOut.Meta.fields}


def _with_etag(action: Action, code: int = 200) -> Response:
    return Response(ActionOut(action).data, status=code, headers={"ETag": services.etag(action)})


class ActionViewSet(VersionedReadViewSet):
    """Actions: a unit's own for its members, every unit's for oversight; others' are 404."""

    serializer_class = ActionOut
    filterset_class = ActionFilter
    ordering_fields = ["due_on", "priority", "escalation_level", "updated_at"]
    ordering = "due_on"

    def get_queryset(self) -> QuerySet[Action]:
        if self.action == "list":
            return selectors.action_rows_for(self.request.user)
        return selectors.actions_for(self.request.user)

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """A page of rows read with .values() and shaped like ActionOut."""
        rows: list[Any] = self.paginate_queryset(self.filter_queryset(self.get_queryset())) or []
        today = timezone.localdate()
        return self.get_paginated_response([_list_row(row, today) for row in rows])

    def etag(self, instance: Action) -> str:
        return services.etag(instance)

    @extend_schema(request=ActionIn, responses={201: ActionOut})
    def create(self, request: Request) -> Response:
        data = ActionIn(data=request.data)
        data.is_valid(raise_exception=True)
        action = services.create_action(actor=actor_of(request), **data.validated_data)
        return _with_etag(action, status.HTTP_201_CREATED)

    def _transition(self, request: Request, act: str) -> Response:
        action = self.get_object()
        expected = if_match(request)
        data = TransitionIn(data=request.data)
        data.is_valid(raise_exception=True)
        action = services.transition_action(
            actor=actor_of(request),
            action=action,
            act=act,
            expected_version=expected,
            note=data.validated_data["note"],
        )
        return _with_etag(action)

    @extend_schema(request=TransitionIn, responses=ActionOut, parameters=[IF_MATCH])
    @route(detail=True, methods=["post"])
    def start(self, request: Request, pk: str | None = None) -> Response:
        return self._transition(request, "start")

    @extend_schema(request=TransitionIn, responses=ActionOut, parameters=[IF_MATCH])
    @route(detail=True, methods=["post"])
    def submit(self, request: Request, pk: str | None = None) -> Response:
        return self._transition(request, "submit")

    @extend_schema(request=TransitionIn, responses=ActionOut, parameters=[IF_MATCH])
    @route(detail=True, methods=["post"])
    def verify(self, request: Request, pk: str | None = None) -> Response:
        return self._transition(request, "verify")

    @extend_schema(request=TransitionIn, responses=ActionOut, parameters=[IF_MATCH])
    @route(detail=True, methods=["post"], url_path="return")
    def return_(self, request: Request, pk: str | None = None) -> Response:
        return self._transition(request, "return")

    @extend_schema(request=TransitionIn, responses=ActionOut, parameters=[IF_MATCH])
    @route(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str | None = None) -> Response:
        return self._transition(request, "cancel")

    @extend_schema(request=ReplanIn, responses=ActionOut, parameters=[IF_MATCH])
    @route(detail=True, methods=["post"])
    def replan(self, request: Request, pk: str | None = None) -> Response:
        action = self.get_object()
        expected = if_match(request)
        data = ReplanIn(data=request.data)
        data.is_valid(raise_exception=True)
        action = services.replan_action(
            actor=actor_of(request), action=action, expected_version=expected, **data.validated_data
        )
        return _with_etag(action)

    @extend_schema(request=AssignIn, responses=ActionOut, parameters=[IF_MATCH])
    @route(detail=True, methods=["post"])
    def assign(self, request: Request, pk: str | None = None) -> Response:
        """The head of the owning unit names who in the unit does the action."""
        action = self.get_object()
        expected = if_match(request)
        data = AssignIn(data=request.data)
        data.is_valid(raise_exception=True)
        action = services.assign_action(
            actor=actor_of(request), action=action, expected_version=expected, **data.validated_data
        )
        return _with_etag(action)

    @extend_schema(methods=["GET"], responses=UpdateOut(many=True), filters=False)
    @extend_schema(
        methods=["POST"], request=UpdateIn, responses={201: UpdateOut}, parameters=[IF_MATCH]
    )
    @route(
        detail=True,
        methods=["get", "post"],
        parser_classes=[BoundedJSONParser, MultiPartParser, FormParser],
        pagination_class=None,  # the whole history, not paged
    )
    def updates(self, request: Request, pk: str | None = None) -> Response:
        if request.method == "GET":
            return Response(UpdateOut(selectors.updates_of(self.get_object()), many=True).data)
        if not str(pk).isdigit():
            raise Http404
        # Nothing read here: the service locks the action, asks about the grant in the same
        # statement, and answers 404 for an action the person may not see.
        action = Action(pk=int(str(pk)))
        expected = if_match(request)
        payload: Any = request.data
        if hasattr(payload, "getlist"):  # multipart: several files under one name
            payload = {**payload.dict(), "files": payload.getlist("files")}
            if "percent_done" in payload and payload["percent_done"] == "":
                payload.pop("percent_done")
        data = UpdateIn(data=payload)
        data.is_valid(raise_exception=True)
        update = services.add_update(
            actor=actor_of(request), action=action, expected_version=expected, **data.validated_data
        )
        return Response(
            UpdateOut(update).data,
            status=status.HTTP_201_CREATED,
            headers={"ETag": services.etag(update.action)},  # the version the update wrote
        )


# --- Directives -----------------------------------------------------------------------------


class DirectiveOut(serializers.ModelSerializer):
    units = _slug("code", many=True)
    issued_by = _slug("username", allow_null=True)
    actions = serializers.SerializerMethodField()

    class Meta:
        model = Directive
        fields = [
            "id",
            "reference",
            "title",
            "body",
            "domain",
            "deadline",
            "all_units",
            "units",
            "criteria",
            "status",
            "issued_by",
            "issued_office",
            "issued_at",
            "withdrawn_at",
            "withdraw_reason",
            "actions",
        ]
        read_only_fields = fields

    def get_actions(self, directive: Directive) -> int | None:
        return getattr(directive, "action_count", None)


class DirectiveIn(StrictInput):
    title = serializers.CharField(max_length=200)
    body = serializers.CharField()
    domain = serializers.ChoiceField(Domain.choices, default=Domain.SECURITY)
    deadline = dates.ApiDayField()
    units = serializers.SlugRelatedField(
        slug_field="code",
        queryset=BusinessUnit.objects.filter(is_active=True),
        many=True,
        required=False,
    )
    all_units = serializers.BooleanField(default=False)
    criteria = serializers.JSONField(required=False)


class WithdrawIn(StrictInput):
    reason = serializers.CharField(max_length=4000)


class DirectiveViewSet(viewsets.ReadOnlyModelViewSet):
    """Directives: drafted, then issued (fanning out actions) or withdrawn (cancelling them)."""

    serializer_class = DirectiveOut
    filterset_class = DirectiveFilter
    ordering = "-created_at"

    def get_queryset(self) -> QuerySet[Directive]:
        return selectors.directives_for(self.request.user)

    @extend_schema(request=DirectiveIn, responses={201: DirectiveOut})
    def create(self, request: Request) -> Response:
        data = DirectiveIn(data=request.data)
        data.is_valid(raise_exception=True)
        directive = services.draft_directive(actor=actor_of(request), **data.validated_data)
        return Response(DirectiveOut(directive).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={200: DirectiveOut, 409: CONFLICT})
    @route(detail=True, methods=["post"])
    @idempotent
    def issue(self, request: Request, pk: str | None = None) -> Response:
        refuse_body(request)
        directive = services.issue_directive(actor=actor_of(request), directive=self.get_object())
        return Response(
            DirectiveOut(selectors.directives_for(request.user).get(pk=directive.pk)).data
        )

    @extend_schema(request=WithdrawIn, responses={200: DirectiveOut, 409: CONFLICT})
    @route(detail=True, methods=["post"])
    def withdraw(self, request: Request, pk: str | None = None) -> Response:
        directive = self.get_object()
        data = WithdrawIn(data=request.data)
        data.is_valid(raise_exception=True)
        directive = services.withdraw_directive(
            actor=actor_of(request), directive=directive, **data.validated_data
        )
        return Response(
            DirectiveOut(selectors.directives_for(request.user).get(pk=directive.pk)).data
        )


# --- Notifications --------------------------------------------------------------------------


class NotificationOut(serializers.ModelSerializer):
    action = _slug("reference")

    class Meta:
        model = Notification
        fields = ["id", "action", "stage", "message", "created_at", "read_at"]
        read_only_fields = fields


class NotificationViewSet(viewsets.ReadOnlyModelViewSet):
    """Your own in-app messages from chasing: the same items your digest mails carry."""

    serializer_class = NotificationOut
    filterset_fields = ["stage"]
    ordering = "-created_at"

    def get_queryset(self) -> QuerySet[Notification]:
        return selectors.notifications_for(self.request.user)

    @extend_schema(request=None, responses=NotificationOut)
    @route(detail=True, methods=["post"])
    def read(self, request: Request, pk: str | None = None) -> Response:
        refuse_body(request)
        notification = services.mark_notification_read(
            actor=actor_of(request), notification=self.get_object()
        )
        return Response(NotificationOut(notification).data)
