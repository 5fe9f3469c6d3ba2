"""A real Celery worker (not eager mode), started by the test, runs a task that writes to the database."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.conf import settings
from kombu import Connection

from audit.models import AuditEvent
from audit.tasks import verify_audit_chain
from tests.conftest import (
    database_url_for_subprocess,
    require_service,
    service_reachable,
    stop,
)
from tests.factories import UserFactory

ROOT = Path(__file__).resolve().parents[2]
# Real processes: `--dist loadgroup` (make test) runs the group on one xdist worker, in turn.
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.xdist_group("processes")]


@contextmanager
def celery_worker(queue: str, broker_url: str, **extra_env: str) -> Iterator[subprocess.Popen[str]]:
    env = {
        **os.environ,
        "DATABASE_URL": database_url_for_subprocess(),
        "CELERY_BROKER_URL": broker_url,
    }
    env.update(extra_env)
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--pool",
            "solo",
            "--queues",
            queue,
            "--loglevel",
            "INFO",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "--hostname",
            f"test-{queue}@%h",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        yield worker
    finally:
        stop(worker)


def wait_for_event(verb: str, worker: subprocess.Popen[str], timeout: float = 60) -> AuditEvent:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        event = AuditEvent.objects.filter(verb=verb).first()
        if event is not None:
            return event
        if worker.poll() is not None:
            output = worker.stdout.read() if worker.stdout else ""
            pytest.fail(f"the worker exited early:\n{output}")
        time.sleep(0.2)
    worker.terminate()
    output = worker.communicate(timeout=20)[0]
    pytest.fail(f"no {verb} event within {timeout}s; worker said:\n{output}")


def test_worker_on_the_configured_broker_writes_to_the_database():
    broker = settings.CELERY_BROKER_URL
    if not broker.startswith("filesystem"):
        require_service("the Celery broker", service_reachable(broker, 6379))
    UserFactory.create(username="someone")  # the chain has something to verify
    queue = f"test-{uuid.uuid4().hex[:8]}"
    with celery_worker(queue, broker) as worker:
        verify_audit_chain.apply_async(queue=queue)
        event = wait_for_event("audit.verified", worker)
    assert event.details["broken_at"] is None
    assert event.actor is None


def test_worker_on_the_filesystem_broker_writes_to_the_database(tmp_path):
    """The zero-setup broker of the quick start: no server, a shared folder."""
    queue = f"test-{uuid.uuid4().hex[:8]}"
    folder = tmp_path / "broker"
    (folder / "queue").mkdir(parents=True)
    (folder / "processed").mkdir()
    options = {
        "data_folder_in": str(folder / "queue"),
        "data_folder_out": str(folder / "queue"),
        "processed_folder": str(folder / "processed"),
    }
    with celery_worker(queue, "filesystem://", CELERY_BROKER_DIR=str(folder)) as worker:
        with Connection("filesystem://", transport_options=options) as conn:
            verify_audit_chain.apply_async(queue=queue, connection=conn)  # type: ignore[call-arg]
        event = wait_for_event("audit.verified", worker)
    assert event.details["checked"] == 0
