"""The worker's side of the outbox: run a message once, and relay what is still owed."""

from __future__ import annotations

import logging

from celery import Task, shared_task
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from outbox import relay
from outbox.models import Message

log = logging.getLogger(__name__)


@shared_task(bind=True, max_retries=5)
def deliver(self: Task, message_id: int) -> str:
    """Run the message's task under a lock on its row and mark it done in the same transaction:
    a second copy (published again, or redelivered) waits for the first and then finds it done.
    A failure rolls back, counts the attempt and retries with a growing delay."""
    try:
        with transaction.atomic():
            message = Message.objects.select_for_update().filter(pk=message_id).first()
            if message is None:
                return "no such message"
            if message.done_at is not None:
                return "already done"
            result = self.app.tasks[message.task](*message.args, **message.kwargs)
            message.done_at = timezone.now()
            message.run_count += 1
            message.last_error = ""
            message.save(update_fields=["done_at", "run_count", "last_error"])
    except Exception as error:
        Message.objects.filter(pk=message_id).update(
            run_count=F("run_count") + 1, last_error=f"run: {error!r}"[:2000]
        )
        raise self.retry(exc=error, countdown=min(600, 15 * 2**self.request.retries)) from error
    return f"{message.task}: {result!r}"  # for the worker's log


@shared_task
def relay_outbox() -> int:
    """Periodic: publish every message still owed (the broker was down, or lost it)."""
    return relay.publish()
