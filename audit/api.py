"""Read-only API over the audit trail for auditors and the offices that may read it."""

from __future__ import annotations

from django.db.models import QuerySet
from rest_framework import serializers, viewsets

from audit import selectors, sentences
from audit.filters import AuditEventFilter
from audit.models import AuditEvent


class AuditEventOut(serializers.ModelSerializer):
    actor = serializers.CharField(source="actor_label", read_only=True)
    sentence = serializers.SerializerMethodField(
        help_text="What happened, in one sentence in the language the request asks for "
        "(Accept-Language). Composed when read; the other fields are the record."
    )

    class Meta:
        model = AuditEvent
        fields = [
            "id",
            "sequence",
            "occurred_at",
            "actor",
            "office",
            "verb",
            "target_type",
            "target_id",
            "target_label",
            "details",
            "prev_hash",
            "hash",
            "sentence",
        ]

    def get_sentence(self, event: AuditEvent) -> str:
        return sentences.sentence(event)


class AuditEventViewSet(viewsets.ReadOnlyModelViewSet):
    """The audit trail, newest first. Readers who may not read it see an empty list."""

    serializer_class = AuditEventOut
    filterset_class = AuditEventFilter
    ordering = "-id"

    def get_queryset(self) -> QuerySet[AuditEvent]:
        return selectors.events_for(self.request.user)
