"""Audit events, appended without a lock and sealed into a SHA-256 chain by the sealer."""

from __future__ import annotations

from typing import Any, NoReturn

from django.conf import settings
from django.db import models

GENESIS_HASH = "0" * 64


class AppendOnlyError(Exception):
    """Raised on any attempt to change or remove an audit event."""


class AuditEventQuerySet(models.QuerySet["AuditEvent"]):
    def update(self, **kwargs: Any) -> NoReturn:
        raise AppendOnlyError("Audit events are append-only: they cannot be updated.")

    def delete(self) -> NoReturn:
        raise AppendOnlyError("Audit events are append-only: they cannot be deleted.")


class AuditEvent(models.Model):
    """One thing that happened, who did it under which office. Written unsealed by the change it
    describes; `audit.services.seal` then gives it its place in the chain (sequence), the hash
    of the event before it and its own, once (docs/architecture.md, The audit trail)."""

    sequence = models.PositiveBigIntegerField(
        unique=True,
        null=True,
        blank=True,
        editable=False,
        help_text="Its place in the chain; empty until sealed, seconds after it commits.",
    )
    occurred_at = models.DateTimeField(editable=False, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        editable=False,
    )
    actor_label = models.CharField(max_length=150, blank=True, editable=False)
    office = models.CharField(
        max_length=16, blank=True, editable=False, help_text="Office the act was done under."
    )
    verb = models.CharField(max_length=64, db_index=True, editable=False)
    target_type = models.CharField(max_length=100, blank=True, editable=False)
    target_id = models.CharField(max_length=64, blank=True, editable=False)
    target_label = models.CharField(max_length=300, blank=True, editable=False)
    details = models.JSONField(default=dict, blank=True, editable=False)
    prev_hash = models.CharField(max_length=64, blank=True, editable=False)
    hash = models.CharField(max_length=64, unique=True, null=True, blank=True, editable=False)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-id"]
        constraints = [
            # Sealed whole or not at all: a place, a link and a hash together.
            models.CheckConstraint(
                condition=models.Q(sequence__isnull=True, hash__isnull=True, prev_hash="")
                | (models.Q(sequence__isnull=False, hash__isnull=False) & ~models.Q(prev_hash="")),
                name="audit_event_sealed_whole",
            )
        ]
        indexes = [
            models.Index(fields=["target_type", "target_id"], name="audit_target_idx"),
            # What the sealer reads: the few events not chained yet, in the order they came.
            models.Index(
                fields=["id"], condition=models.Q(sequence__isnull=True), name="audit_unsealed_idx"
            ),
        ]

    def __str__(self) -> str:
        place = f"#{self.sequence}" if self.sequence is not None else "(unsealed)"
        return f"{place} {self.verb} {self.target_label}".strip()

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AppendOnlyError("Audit events are append-only: they cannot be updated.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise AppendOnlyError("Audit events are append-only: they cannot be deleted.")

    @property
    def sealed(self) -> bool:
        return self.sequence is not None


class ChainHead(models.Model):
    """The last link of the chain (one row). The sealer locks it, so the chain never forks;
    verification compares it with the last sealed event, so a truncated tail is detected."""

    sequence = models.PositiveBigIntegerField(default=0)
    hash = models.CharField(max_length=64, default=GENESIS_HASH)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=models.Q(pk=1), name="chain_head_singleton")
        ]

    def __str__(self) -> str:
        return f"head #{self.sequence}"


class IdempotentRequest(models.Model):
    """The first response to a write sent with an Idempotency-Key, replayed when the same
    client retries it (docs/architecture.md, The API contract): a retried suspension suspends
    once."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=200)
    fingerprint = models.CharField(max_length=64, help_text="SHA-256 of method, path and body.")
    status_code = models.PositiveSmallIntegerField(help_text="0 while the first request runs.")
    body = models.JSONField(null=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="idempotency_key_once_per_user")
        ]

    def __str__(self) -> str:
        return f"{self.key} ({self.status_code})"


class ReferenceCounter(models.Model):
    """The last number handed out per prefix and year, so references read well (INC-2026-0001)
    and never repeat: numbers are taken under a row lock and never given back."""

    prefix = models.CharField(max_length=8)
    year = models.PositiveSmallIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["prefix", "year"], name="reference_counter_once")
        ]

    def __str__(self) -> str:
        return f"{self.prefix}-{self.year}: {self.last}"
