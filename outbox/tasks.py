"""The worker's side of the outbox: run a message once, and relay what is still owed."""

from __future__ import annotations

import logging

from celery import Task, shared_task
from django.db import transaction
from django.utils import timezone

from outbox import relay
from outbox.models import Message

log = logging.getLogger(__name__)


@shared_task(bind=True, max_retries=5)
def deliver(self: Task, message_id: int) -> str:
    """Claim the message, run its task, mark it done. The claim is a short transaction on the
    row (so a second copy waits, then sees the claim or the done mark and leaves it); the task
    runs outside any transaction, so what it records as it goes (a notice marked sent before
    its mail) stays recorded even if it fails half-way. A failure releases the claim, counts
    the attempt and retries with a growing delay."""
    now = timezone.now()
    with transaction.atomic():
        message = Message.objects.select_for_update().filter(pk=message_id).first()
        if message is None:
            return "no such message"
        if message.done_at is not None:
            return "already done"
        if message.claimed_at is not None and message.claimed_at > now - relay.LEASE:
            return "running elsewhere"  # the relay publishes it again if that worker died
        message.claimed_at = now
        message.run_count += 1
        message.save(update_fields=["claimed_at", "run_count"])
    try:
        result = self.app.tasks[message.task](*message.args, **message.kwargs)
    except Exception as error:
        Message.objects.filter(pk=message_id).update(
            claimed_at=None, last_error=f"run: {error!r}"[:2000]
        )
        raise self.retry(exc=error, countdown=min(600, 15 * 2**self.request.retries)) from error
    Message.objects.filter(pk=message_id).update(done_at=timezone.now(), last_error="")
    return f"{message.task}: {result!r}"  # for the worker's log


@shared_task(autoretry_for=())  # the next minute's run is the retry
def relay_outbox() -> int:
    """Periodic: publish every message still owed (the broker was down, or lost it), batch by
    batch until a batch comes back short (or the broker refuses)."""
    sent = total = relay.publish()
    while sent == relay.BATCH:
        sent = relay.publish()
        total += sent
    return total
