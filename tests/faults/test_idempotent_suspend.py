"""Twenty copies of one suspension, sent at once with one Idempotency-Key (a client that retried
on a timeout, a proxy that replayed, an impatient CISO): the system is suspended once, and every
copy gets the first copy's answer, replayed, never a 409 "still running"."""

from __future__ import annotations

import sys
import threading
import time
from typing import Any

import pytest
from django.db import IntegrityError, connection
from django.test import Client
from rest_framework.request import Request
from rest_framework.response import Response

from audit.models import AuditEvent, IdempotentRequest
from config import idempotency
from outbox.models import Message
from systems import services
from systems.models import SuspensionOrder, System
from systems.tasks import notify_suspension
from tests.conftest import enrol_totp, sign_in
from tests.systems.conftest import register
from tests.systems.test_api import suspend

pytestmark = pytest.mark.django_db(transaction=True)

COPIES = 20
KEY = "suspend-portal-once"


def test_twenty_concurrent_copies_with_one_key_suspend_once_and_all_get_the_same_answer(
    monkeypatch, unit, bu_member, ciso
):
    system = register(unit, "portal")
    enrol_totp(ciso)

    # Every copy reaches the claim while the first still holds it: the first, once its order is
    # made (its claim row still uncommitted), waits until all twenty have read "no such key yet"
    # and gone on to claim it, so the other nineteen queue behind its unique row (PostgreSQL) or
    # its write lock (SQLite), then find the key taken and replay.
    lock = threading.Lock()
    arrived: list[int] = []
    all_arrived = threading.Event()
    real_fingerprint = idempotency._fingerprint

    def arriving(request: Request) -> str:
        with lock:
            arrived.append(threading.get_ident())
            if len(arrived) == COPIES:
                all_arrived.set()
        return real_fingerprint(request)

    real_suspend = services.suspend_system

    def suspend_then_hold(**kwargs: Any) -> SuspensionOrder:
        order = real_suspend(**kwargs)
        all_arrived.wait(timeout=30)
        time.sleep(1)  # from "no such key" to the blocked claim is a read and a BEGIN away
        return order

    # How each replay came about: from the claim lost to the first copy (an IntegrityError being
    # handled), or from a committed key read before claiming.
    replays: list[bool] = []
    real_replay = idempotency._replay

    def replaying(stored: IdempotentRequest, fingerprint: str) -> Response:
        replays.append(isinstance(sys.exc_info()[1], IntegrityError))
        return real_replay(stored, fingerprint)

    monkeypatch.setattr(idempotency, "_fingerprint", arriving)
    monkeypatch.setattr(idempotency, "_replay", replaying)
    monkeypatch.setattr(services, "suspend_system", suspend_then_hold)

    responses: list[tuple[int, dict[str, Any], str | None]] = []
    errors: list[BaseException] = []

    def attempt() -> None:
        try:
            client = sign_in(Client(), ciso)
            barrier.wait()
            response = suspend(client, system, HTTP_IDEMPOTENCY_KEY=KEY)
            responses.append(
                (response.status_code, response.json(), response.get("Idempotent-Replayed"))
            )
        except BaseException as error:  # reported below, not lost in the thread
            errors.append(error)
        finally:
            connection.close()

    barrier = threading.Barrier(COPIES, timeout=60)
    threads = [threading.Thread(target=attempt) for _ in range(COPIES)]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=90)
    elapsed = time.monotonic() - started
    assert not [t for t in threads if t.is_alive()], "a request never came back"
    assert not errors, errors

    # Twenty answers, all the first one's: same status, same body, nineteen marked as replays.
    assert len(responses) == COPIES
    assert {status for status, _, _ in responses} == {201}, responses
    first = responses[0][1]
    assert all(body == first for _, body, _ in responses), responses
    assert sorted((replayed or "") for _, _, replayed in responses) == [""] + ["true"] * (
        COPIES - 1
    )
    # Each of the nineteen waited on the first copy's claim and replayed once it committed:
    # none saw the key half-done (which would have been a 409 "still running").
    # (Most, if not all, waited on the first copy's claim and replayed once it committed; one
    # that came late may have read the committed key before claiming: the same answer.)
    assert len(replays) == COPIES - 1 and any(replays), replays
    assert elapsed < 60

    # Done once: one order, one audit event, one key, one suspension mail owed.
    order = SuspensionOrder.objects.get()
    assert first["id"] == order.pk and first["status"] == "active"
    system.refresh_from_db()
    assert system.status == System.Status.SUSPENDED
    assert AuditEvent.objects.filter(verb="system.suspended").count() == 1
    stored = IdempotentRequest.objects.get()
    assert (stored.key, stored.status_code, stored.body) == (KEY, 201, first)
    assert Message.objects.filter(task=notify_suspension.name).count() == 1
