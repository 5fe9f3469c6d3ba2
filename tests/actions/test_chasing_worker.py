"""Chasing on a real Celery worker against the configured broker (Redis in CI), killed mid-run."""

from __future__ import annotations

import os
import signal
import time
import uuid
from email import message_from_string
from pathlib import Path

import pytest
from django.conf import settings

from actions.models import ChaseNotice
from actions.tasks import chase_actions
from tests.actions.conftest import overdue
from tests.config.test_celery_worker import celery_worker
from tests.conftest import require_service, service_reachable

# Real processes: `--dist loadgroup` (make test) runs the group on one xdist worker, in turn.
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.xdist_group("processes")]


def _mails(folder: Path) -> list[tuple[str, str]]:
    """(recipient, subject) of every mail the worker wrote with the file backend."""
    found = []
    for path in folder.glob("*.log"):
        for chunk in path.read_text().split("-" * 79):
            if chunk.strip():
                message = message_from_string(chunk.strip())
                found.append((message["To"], message["Subject"]))
    return found


def _wait(predicate, worker, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        if worker.poll() is not None:
            pytest.fail(worker.stdout.read() if worker.stdout else "worker exited")
        time.sleep(0.2)
    pytest.fail("timed out waiting for the worker")


@pytest.fixture
def broker():
    url = settings.CELERY_BROKER_URL
    if not url.startswith("filesystem"):
        require_service("the Celery broker", service_reachable(url, 6379))
    return url


def test_worker_chases_each_stage_once_and_mails_one_digest(
    broker, tmp_path, unit, ciso, bu_member, bu_head
):
    overdue(unit, ciso, bu_member, 5, days=8)  # overdue + unit head
    queue = f"chase-{uuid.uuid4().hex[:8]}"
    mail_dir = tmp_path / "mail"
    with celery_worker(queue, broker, EMAIL_FILE_PATH=str(mail_dir)) as worker:
        chase_actions.apply_async(queue=queue)
        _wait(lambda: len(_mails(mail_dir)) >= 2, worker)
        chase_actions.apply_async(queue=queue)  # a second run, as beat would an hour later
        time.sleep(3)
    assert ChaseNotice.objects.count() == 10
    mails = sorted(_mails(mail_dir))
    assert mails == sorted(
        [
            (bu_member.email, "[RCC] 5 actions need your attention"),
            (bu_head.email, "[RCC] 5 actions need your attention"),
        ]
    )


def test_a_worker_killed_mid_run_leaves_every_stage_sent_exactly_once(
    broker, tmp_path, unit, ciso, bu_member, bu_head
):
    overdue(unit, ciso, bu_member, 400, days=8)
    queue = f"chase-{uuid.uuid4().hex[:8]}"
    mail_dir = tmp_path / "mail"
    env = {"EMAIL_FILE_PATH": str(mail_dir), "CHASE_BATCH_SIZE": "5"}
    with celery_worker(queue, broker, **env) as worker:
        chase_actions.apply_async(queue=queue)
        _wait(lambda: ChaseNotice.objects.count() >= 20, worker)
        os.kill(worker.pid, signal.SIGKILL)  # mid-run: some batches committed, most not
        worker.wait(timeout=20)
    claimed_at_kill = ChaseNotice.objects.count()
    assert 20 <= claimed_at_kill < 800
    with celery_worker(queue, broker, **env) as worker:
        chase_actions.apply_async(queue=queue)  # the next run (beat, hourly) finishes the work
        _wait(
            lambda: ChaseNotice.objects.count() == 800 and len(_mails(mail_dir)) >= 2,
            worker,
            timeout=180,
        )
        time.sleep(2)
    assert ChaseNotice.objects.count() == 800  # 400 actions x 2 stages, once each
    per_person = sorted(to for to, _ in _mails(mail_dir))
    assert per_person.count(bu_member.email) == 1
    assert per_person.count(bu_head.email) == 1
