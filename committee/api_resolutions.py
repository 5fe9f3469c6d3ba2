"""API for written resolutions between meetings: read, opened by the chair, voted by the seats."""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from committee import policy, selectors, services
from committee.models import Ballot, Committee, WrittenResolution
from committee.quorum import Tally
from config import dates
from config.api import StrictInput, actor_of, read_only_slug
from config.idempotency import idempotent
from config.schema import CONFLICT
from config.viewsets import VersionedReadViewSet
from systems.models import SuspensionOrder


class BallotOut(serializers.ModelSerializer):
    person = read_only_slug("username")
    cast_by = read_only_slug("username", allow_null=True)
    voted = serializers.BooleanField(source="is_cast", read_only=True)
    # Null while the vote is sealed (see to_representation).
    conflict_declared = serializers.BooleanField(read_only=True, allow_null=True)
    conflict_note = serializers.CharField(read_only=True, allow_null=True)
    choice = serializers.SerializerMethodField(
        help_text="The vote: shown once the resolution closes, and to the seat's own voter."
    )

    class Meta:
        model = Ballot
        fields = [
            "seat",
            "office",
            "is_chair",
            "person",
            "voted",
            "cast_at",
            "cast_by",
            "choice",
            "conflict_declared",
            "conflict_note",
        ]
        read_only_fields = fields

    def get_choice(self, ballot: Ballot) -> str | None:
        shown = self.context.get("shown", set())
        return ballot.choice if ballot.is_cast and ballot.pk in shown else None

    def to_representation(self, instance: Ballot) -> dict[str, Any]:
        data = super().to_representation(instance)
        if instance.pk not in self.context.get("shown", set()):
            # How a seat voted, and why it abstained, stay sealed until the vote closes.
            data["conflict_declared"] = None
            data["conflict_note"] = None
        return data


class TallyOut(serializers.Serializer):
    voting = serializers.IntegerField()
    cast = serializers.IntegerField()
    counted = serializers.IntegerField(help_text="Votes cast without a declared conflict.")
    needed = serializers.IntegerField()
    chair_voted = serializers.BooleanField()
    quorate = serializers.BooleanField()
    votes_for = serializers.IntegerField(allow_null=True)
    votes_against = serializers.IntegerField(allow_null=True)
    abstentions = serializers.IntegerField(allow_null=True)
    conflicts = serializers.IntegerField(allow_null=True)


class ResolutionOut(serializers.ModelSerializer):
    committee = read_only_slug("slug")
    proposed_by = read_only_slug("username")
    decision = read_only_slug("reference", allow_null=True)
    deadline = dates.ApiMomentField(read_only=True)
    ballots = serializers.SerializerMethodField()
    tally = serializers.SerializerMethodField()

    class Meta:
        model = WrittenResolution
        fields = [
            "id",
            "reference",
            "committee",
            "title",
            "text",
            "effect",
            "suspension",
            "deadline",
            "status",
            "proposed_by",
            "proposed_office",
            "opened_at",
            "closed_at",
            "meeting",
            "decision",
            "tally",
            "ballots",
        ]
        read_only_fields = fields

    def _shown(self, resolution: WrittenResolution) -> set[int]:
        """The ballots whose vote the reader may read: all once closed, else their own seats."""
        ballots = list(resolution.ballots.all())
        if resolution.status != WrittenResolution.Status.OPEN:
            return {b.pk for b in ballots}
        request = self.context.get("request")
        user = getattr(request, "user", None)
        # The reader's offices, read once for a whole list (the viewset's context holds them).
        return set(policy.seats_filled(user, ballots, held=self.context.get("held")))

    @extend_schema_field(BallotOut(many=True))
    def get_ballots(self, resolution: WrittenResolution) -> list[dict[str, Any]]:
        context = {**self.context, "shown": self._shown(resolution)}
        return BallotOut(resolution.ballots.all(), many=True, context=context).data  # type: ignore[return-value]

    @extend_schema_field(TallyOut)
    def get_tally(self, resolution: WrittenResolution) -> dict[str, Any]:
        tally = Tally.of(resolution.committee, resolution.ballots.all())
        sealed = resolution.status == WrittenResolution.Status.OPEN
        return {
            "voting": tally.voting,
            "cast": tally.cast,
            "counted": tally.counted,
            "needed": tally.needed,
            "chair_voted": tally.chair_voted,
            "quorate": tally.quorate,
            "votes_for": None if sealed else tally.votes_for,
            "votes_against": None if sealed else tally.votes_against,
            "abstentions": None if sealed else tally.abstentions,
            "conflicts": None if sealed else tally.conflicts,
        }


class ResolutionIn(StrictInput):
    committee = serializers.SlugRelatedField(slug_field="slug", queryset=Committee.objects.all())
    title = serializers.CharField(max_length=200)
    text = serializers.CharField(max_length=10000)
    deadline = dates.ApiMomentField()
    effect = serializers.ChoiceField(
        WrittenResolution.Effect.choices, default=WrittenResolution.Effect.NONE
    )
    suspension = serializers.PrimaryKeyRelatedField(
        queryset=SuspensionOrder.objects.all(),
        required=False,
        allow_null=True,
        default=None,
        help_text="The suspension order awaiting ratification, to ratify or overturn it.",
    )


class VoteIn(StrictInput):
    choice = serializers.ChoiceField(
        Ballot.Choice.choices,
        required=False,
        allow_blank=True,
        default="",
        help_text="Leave empty with a declared conflict (it is recorded as an abstention).",
    )
    seat = serializers.CharField(
        max_length=40,
        required=False,
        allow_blank=True,
        default="",
        help_text="Only for a person who fills more than one seat: the seat voted for.",
    )
    conflict_declared = serializers.BooleanField(required=False, default=False)
    conflict_note = serializers.CharField(
        max_length=500, required=False, allow_blank=True, default=""
    )


class ResolutionViewSet(VersionedReadViewSet):
    """Written resolutions: urgent matters the chair puts to the members between meetings.
    Each voting seat votes once before the deadline; the result is a decision for the next
    meeting's minutes. How each seat voted is sealed until the vote closes."""

    serializer_class = ResolutionOut
    ordering_fields = ["opened_at", "deadline", "reference"]
    ordering = "-opened_at"

    def get_queryset(self) -> QuerySet[WrittenResolution]:
        return selectors.resolutions_for(self.request.user).prefetch_related(
            Prefetch("ballots", queryset=Ballot.objects.select_related("person", "cast_by"))
        )

    def get_serializer_context(self) -> dict[str, Any]:
        return {**super().get_serializer_context(), "held": policy.offices_of(self.request.user)}

    def etag(self, instance: Any) -> str:
        # Nothing of a resolution is edited: it changes only as its seats vote and it closes.
        return f'"{instance.pk}-{instance.status}-{instance.votes_cast}"'

    def _answer(self, resolution: WrittenResolution, code: int) -> Response:
        resolution = self.get_queryset().get(pk=resolution.pk)
        data = ResolutionOut(resolution, context=self.get_serializer_context()).data
        return Response(data, status=code, headers={"ETag": self.etag(resolution)})

    @extend_schema(request=ResolutionIn, responses={201: ResolutionOut, 409: CONFLICT})
    @idempotent
    def create(self, request: Request) -> Response:
        """Put an urgent matter to the voting seats in writing (the chair); honours
        Idempotency-Key."""
        data = ResolutionIn(data=request.data)
        data.is_valid(raise_exception=True)
        resolution = services.open_resolution(actor=actor_of(request), **data.validated_data)
        return self._answer(resolution, status.HTTP_201_CREATED)

    @extend_schema(request=VoteIn, responses={200: ResolutionOut, 409: CONFLICT})
    @action(detail=True, methods=["post"])
    @idempotent
    def vote(self, request: Request, pk: str | None = None) -> Response:
        """Cast the vote of a seat you fill now; it is final (a second vote is a 409). Honours
        Idempotency-Key."""
        resolution = self.get_object()
        data = VoteIn(data=request.data)
        data.is_valid(raise_exception=True)
        services.cast_vote(actor=actor_of(request), resolution=resolution, **data.validated_data)
        return self._answer(resolution, status.HTTP_200_OK)
