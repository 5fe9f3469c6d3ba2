"""Write a message with the change that owes it; hand owed messages to the broker afterwards.

A request never talks to the broker: `enqueue` adds a row to the caller's transaction, and once
that commits a background thread publishes it. If the broker is down the row stays owed, and
the periodic relay (`outbox.tasks.relay_outbox`) publishes it when the broker is back; a
message published but never run (a broker that restarted empty) is published again after
`REPUBLISH_AFTER`. The worker runs each message once (`outbox.tasks.deliver`)."""

from __future__ import annotations

import datetime as dt
import functools
import logging
import os
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import Any

from celery import current_app
from celery.app.task import Task
from django.db import connections, transaction
from django.db.models import F, Q
from django.utils import timezone

from outbox.models import Message

log = logging.getLogger(__name__)

DELIVER = "outbox.tasks.deliver"
# Published this long ago and still not run: the broker lost it (Redis keeps nothing on disk).
REPUBLISH_AFTER = dt.timedelta(minutes=10)
MAX_PUBLISHES = 20  # then it waits for an administrator ("Relay again" in the admin)
# How long a worker's claim on a message holds: a worker that died mid-run leaves the message
# to run again once the lease is out and the relay publishes it again.
LEASE = dt.timedelta(minutes=5)
# After the broker refused a publish, requests stop trying for this long and leave their
# messages to the periodic relay, so an outage does not pile work onto the relay thread.
BROKER_BACKOFF = 30.0  # seconds
BATCH = 500

_guard = threading.Lock()
_pools: dict[int, ThreadPoolExecutor] = {}  # by process id
_in_flight: set[Future[int]] = set()
_broker_refused_at = [float("-inf")]  # monotonic time of the last refusal, in this process


def enqueue(task: Task | str, *args: Any, **kwargs: Any) -> Message:
    """Owe `task(*args, **kwargs)`: a row in the caller's transaction (so it exists if and only
    if the change commits), published from a background thread after the commit."""
    name = task if isinstance(task, str) else task.name
    message = Message.objects.create(task=name, args=list(args), kwargs=kwargs)
    transaction.on_commit(functools.partial(publish_soon, message.pk), robust=True)
    return message


def _executor() -> ThreadPoolExecutor:
    """One relay thread per process, made anew in a forked child (threads do not survive fork)."""
    with _guard:
        pid = os.getpid()
        if pid not in _pools:
            _pools.clear()  # a parent's pool is of no use here
            _in_flight.clear()
            _pools[pid] = ThreadPoolExecutor(1, thread_name_prefix="outbox-relay")
        return _pools[pid]


def publish_soon(pk: int) -> None:
    """After commit: publish this message off the request's thread (unless the broker refused
    moments ago: then the periodic relay publishes it when the broker is back)."""
    if time.monotonic() - _broker_refused_at[0] < BROKER_BACKOFF:
        return
    future = _executor().submit(_publish_in_thread, [pk])
    with _guard:
        _in_flight.add(future)
    future.add_done_callback(_forget)


def _forget(future: Future[int]) -> None:
    with _guard:
        _in_flight.discard(future)


def _publish_in_thread(pks: list[int]) -> int:
    try:
        return publish(pks)
    except Exception:  # the periodic relay will try again; nothing is lost
        log.warning("Outbox: could not publish %s now; the relay will retry", pks, exc_info=True)
        return 0
    finally:
        connections.close_all()  # this thread's own connections


def drain(timeout: float = 10) -> None:
    """Wait for this process's background publishing to finish (tests, graceful shutdown)."""
    with _guard:
        pending = list(_in_flight)
    wait(pending, timeout=timeout)


def _owed(pks: list[int] | None) -> Any:
    owed = Message.objects.filter(done_at__isnull=True)
    if pks is not None:
        return owed.filter(pk__in=pks, published_at__isnull=True)
    cutoff = timezone.now() - REPUBLISH_AFTER
    return owed.filter(
        Q(published_at__isnull=True) | Q(published_at__lt=cutoff), publish_count__lt=MAX_PUBLISHES
    )


def publish(pks: list[int] | None = None, *, limit: int | None = None) -> int:
    """Hand owed messages (these, or all that are owed) to the broker, oldest first, and return
    how many went. A short transaction claims the batch (`skip_locked`, so two relays share the
    work) and the broker is called after it, so no lock is held while the broker is slow; the
    first broker error gives the rest of the batch back, still owed."""
    if not _owed(pks).exists():  # a plain read first: no write lock when nothing is owed
        return 0
    with transaction.atomic():
        claimed = list(
            _owed(pks)
            .select_for_update(skip_locked=True)
            .order_by("pk")
            .values_list("pk", flat=True)[: limit or BATCH]
        )
        Message.objects.filter(pk__in=claimed).update(
            published_at=timezone.now(), publish_count=F("publish_count") + 1
        )
    for sent, pk in enumerate(claimed):
        try:
            current_app.send_task(DELIVER, args=(pk,), retry=False)
        except Exception as error:
            Message.objects.filter(pk__in=claimed[sent:]).update(
                published_at=None,
                publish_count=F("publish_count") - 1,
                last_error=f"publish: {error!r}"[:2000],
            )
            _broker_refused_at[0] = time.monotonic()
            log.warning("Outbox: the broker refused message %s (%r); it stays owed", pk, error)
            return sent
    return len(claimed)


def release(pks: list[int]) -> int:
    """Give messages that used up their publishes a fresh start, and publish them now (admin)."""
    Message.objects.filter(pk__in=pks, done_at__isnull=True).update(
        publish_count=0, published_at=None
    )
    return publish(pks)
