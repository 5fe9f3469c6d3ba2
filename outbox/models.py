"""A task to run once: written in the transaction that caused it, relayed to the broker after."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone


class Message(models.Model):
    """One side effect (a mail, a task) owed by a committed change. The relay hands it to the
    broker; a worker claims it (a lease taken under a row lock), runs it outside any
    transaction and marks it done, so a message published twice (a retry, a sweep after a broker
    restart) runs once. Only a worker that dies between the side effect and marking it done
    leaves it to run again when the lease runs out: at least once, never lost."""

    task = models.CharField(max_length=200, help_text="The Celery task to run, by name.")
    args = models.JSONField(default=list, blank=True)
    kwargs = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    published_at = models.DateTimeField(
        null=True, blank=True, help_text="When the relay last handed it to the broker."
    )
    publish_count = models.PositiveIntegerField(default=0)
    run_count = models.PositiveIntegerField(default=0, help_text="Attempts by a worker.")
    claimed_at = models.DateTimeField(
        null=True, blank=True, help_text="When a worker took it to run (a lease, not a lock)."
    )
    done_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["pk"]
        indexes = [
            # The relay's only question: what is owed and not yet done.
            models.Index(fields=["id"], condition=Q(done_at__isnull=True), name="outbox_owed_idx")
        ]

    def __str__(self) -> str:
        return f"{self.task}{tuple(self.args)}"
