"""A scan a dead process left importing is refused, saying so; a long-queued one is sent again."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from django.db import transaction
from django.utils import timezone

from audit.models import AuditEvent
from tests.threads import held_by_another
from vulnerabilities import tasks
from vulnerabilities.models import Scan
from vulnerabilities.services import scans


def stored(user: Any, state: str, *, age: dt.timedelta, n: int) -> Scan:
    return Scan.objects.create(
        format=Scan.Format.TRIVY,
        file=f"scans/interrupted-{n}.json",
        file_name=f"interrupted-{n}.json",
        size=1,
        sha256=f"{n:064d}",
        state=state,
        uploaded_by=user,
        uploaded_at=timezone.now() - age,
    )


@pytest.mark.django_db
def test_an_import_left_running_is_refused_and_its_file_can_be_sent_again(
    ciso: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    sent: list[int] = []
    monkeypatch.setattr(tasks.import_scan, "delay", sent.append)
    dead = stored(ciso, Scan.State.RUNNING, age=dt.timedelta(hours=1), n=1)
    young = stored(ciso, Scan.State.RUNNING, age=dt.timedelta(minutes=1), n=2)
    waiting = stored(ciso, Scan.State.QUEUED, age=dt.timedelta(hours=2), n=3)
    fresh = stored(ciso, Scan.State.QUEUED, age=dt.timedelta(minutes=5), n=4)
    assert scans.take_back_interrupted() == {"refused": [dead.pk], "resent": [waiting.pk]}
    dead.refresh_from_db()
    assert dead.state == Scan.State.REFUSED and "stopped before it finished" in dead.error
    assert AuditEvent.objects.filter(verb="scan.refused", target_id=str(dead.pk)).exists()
    assert sent == [waiting.pk]
    young.refresh_from_db()
    fresh.refresh_from_db()
    assert young.state == Scan.State.RUNNING and fresh.state == Scan.State.QUEUED
    # Refused, its hash is free: the same file may be stored again.
    stored(ciso, Scan.State.QUEUED, age=dt.timedelta(0), n=1)


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_an_import_under_way_is_left_alone(ciso: Any) -> None:
    """An import holds its scan's row from start to end: a row held is an import running."""
    running = stored(ciso, Scan.State.RUNNING, age=dt.timedelta(hours=3), n=5)

    @contextmanager
    def importing() -> Iterator[None]:
        with transaction.atomic():
            Scan.objects.select_for_update().get(pk=running.pk)
            yield

    with held_by_another(importing):
        assert scans.take_back_interrupted()["refused"] == []
    running.refresh_from_db()
    assert running.state == Scan.State.RUNNING
    assert scans.take_back_interrupted()["refused"] == [running.pk]
