"""Two `celery beat` processes on one database schedule (a second beat started by mistake, or
an old one left running in a deploy) and two workers: every task is sent twice as often, run
concurrently, and still nothing is scheduled, published, chased or mailed twice."""

from __future__ import annotations

import re
import subprocess
import threading
import time
import uuid
from collections import Counter
from contextlib import ExitStack
from pathlib import Path

import pytest
from django.utils import timezone

from actions.models import Action, ChaseNotice, Digest, Notification
from audit.models import AuditEvent
from committee.models import AgendaItem, Meeting, MeetingNotice
from committee.services.scheduling import HORIZON, occurrences
from config.celery import app
from tests.actions import test_chasing_worker as chasing
from tests.actions.conftest import overdue
from tests.cases.conftest import report
from tests.committee import conftest as committee_fixtures
from tests.committee import test_beat_worker as beat_worker
from tests.config.test_celery_worker import celery_worker

# Real processes: `--dist loadgroup` (make test) runs the group on one xdist worker, in turn.
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.xdist_group("processes")]

broker = chasing.broker  # the configured broker, skipped (or failed in CI) if down
committee = committee_fixtures.committee

TICK = beat_worker.TICK
CHASE = {"Chase actions": "actions.tasks.chase_actions"}  # the name migration 0004 gives it
TASKS = {**beat_worker.BEAT_TASKS, **CHASE}
OVERDUE_ACTIONS = 5
RUN_ON = 6 * TICK  # seconds both beats keep ticking once everything was done once


def _read_aloud(worker: subprocess.Popen[str]) -> tuple[list[str], threading.Thread]:
    """The worker's output, read as it comes: with two beats it logs faster than a pipe holds,
    and a worker blocked on a full pipe stops taking tasks. Join the thread once it exited."""
    lines: list[str] = []
    stdout = worker.stdout
    assert stdout is not None
    reader = threading.Thread(target=lambda: lines.extend(iter(stdout.readline, "")), daemon=True)
    reader.start()
    return lines, reader


def _sent(beat_log: Path) -> Counter[str]:
    """How many times a beat sent each task, from its own log."""
    return Counter(re.findall(r"Scheduler: Sending due task .* \(([\w.]+)\)", beat_log.read_text()))


def _results(log: str, task: str) -> list[str]:
    return beat_worker._tasks_done(log, task)


def test_two_beats_and_two_workers_schedule_publish_chase_and_mail_everything_once(
    broker,
    monkeypatch,
    tmp_path,
    committee,
    chair,
    ciso,
    cqo,
    secretary,
    unit,
    bu_member,
    bu_head,
):
    incident = report(unit, bu_member)  # high severity: the agenda assembles it
    first = beat_worker._weekly_three_days_ahead(committee)
    now = timezone.now()
    planned = occurrences(committee, now, now + HORIZON)
    assert len(planned) >= 12 and planned[0].date() == first
    # A week overdue: the owner's "overdue" and the unit head's "unit_head" stage for each.
    overdue(unit, ciso, bu_member, OVERDUE_ACTIONS, days=8)
    queue = f"beats-{uuid.uuid4().hex[:8]}"
    beat_worker._every_tick_on(queue, TASKS)
    mail_dir = tmp_path / "mail"
    # Invitations leave after commit on the default queue: both workers consume it too. A broker
    # folder of this test's own (when the broker is the filesystem), so no other test's leftovers
    # reach these workers and none of theirs outlive it.
    monkeypatch.setenv("CELERY_BROKER_DIR", str(tmp_path / "broker"))
    default = app.conf.task_default_queue
    beat_dirs = [tmp_path / "beat-a", tmp_path / "beat-b"]
    for folder in beat_dirs:
        folder.mkdir()

    def mails() -> list[tuple[str, str]]:
        """(recipient, subject) of every mail the workers wrote, subjects decoded."""
        return sorted(
            (str(m["To"]), str(m["Subject"]).strip()) for m in beat_worker._messages(mail_dir)
        )

    def done() -> bool:
        for beat, log in beats:
            if beat.poll() is not None:
                pytest.fail(f"a beat exited early:\n{log.read_text()}")
        for worker, lines in workers[1:]:
            if worker.poll() is not None:
                pytest.fail(f"a worker exited early:\n{''.join(lines)}")
        meeting = Meeting.objects.filter(status=Meeting.Status.PUBLISHED).first()
        return (
            Meeting.objects.count() == len(planned)
            and meeting is not None
            and not MeetingNotice.objects.filter(sent_at__isnull=True).exists()
            and ChaseNotice.objects.count() == 2 * OVERDUE_ACTIONS
            and len(mails()) >= 3 + 2  # three invitations, two digests
        )

    workers: list[tuple[subprocess.Popen[str], list[str]]] = []
    readers: list[threading.Thread] = []
    with ExitStack() as running:
        # Two workers on the same queues; the order of the queues differs only so that their
        # node names (made from it) differ.
        for queues in (f"{queue},{default}", f"{default},{queue}"):
            worker = running.enter_context(
                celery_worker(queues, broker, EMAIL_FILE_PATH=str(mail_dir))
            )
            lines, reader = _read_aloud(worker)
            workers.append((worker, lines))
            readers.append(reader)
        # Both workers ready before the first tick, so the first copies (the only ones with work
        # to do) can run on both at once. (On the filesystem broker an idle worker looks once a
        # second, so whether they overlap is luck; on Redis both take messages at once.)
        chasing._wait(
            lambda: all(any(" ready." in line for line in lines) for _, lines in workers),
            workers[1][0],
            timeout=60,
        )
        with ExitStack() as beating:
            beats = [beating.enter_context(beat_worker.celery_beat(broker, d)) for d in beat_dirs]
            try:
                chasing._wait(done, workers[0][0], timeout=90)
            except pytest.fail.Exception as failure:
                logs = [log.read_text() for _, log in beats] + ["".join(w) for _, w in workers]
                pytest.fail(f"{failure.msg}\n" + "\n=====\n".join(logs))
            time.sleep(RUN_ON)  # both beats keep sending every task, every TICK
        time.sleep(2 * TICK)  # the beats stopped; the workers take what they sent last
    for reader in readers:
        reader.join(timeout=30)  # the workers exited: their pipes are closed
    worker_log = "\n".join("".join(lines) for _, lines in workers)
    (tmp_path / "workers.log").write_text(worker_log)  # beside the beats' logs, for a post-mortem
    sent = [_sent(log) for _, log in beats]

    # Both beats sent every task, each many times, and the workers ran more of each than either
    # beat alone had sent: the second beat is real, not a beat that lost a lock and sat idle.
    for task in TASKS.values():
        per_beat = [s[task] for s in sent]
        ran = len(_results(worker_log, task))
        assert min(per_beat) >= 3, (task, per_beat)
        assert max(per_beat) < ran <= sum(per_beat), (task, per_beat, ran)
        # None of them failed. (Leftovers of other tests on a shared broker's default queue may.)
        assert not re.search(rf"Task {re.escape(task)}\[[^\]]+\] raised", worker_log), worker_log
    # And the two workers shared them.
    for _, lines in workers:
        assert any(_results("".join(lines), task) for task in TASKS.values()), "".join(lines)

    # One meeting per occurrence of the cadence, three months ahead: no duplicates.
    meetings = list(Meeting.objects.order_by("starts_at"))
    assert [(m.starts_at, m.cadence_date) for m in meetings] == [
        (when, when.date()) for when in planned
    ]
    # One agenda published (the one inside its lead time), its item on it once.
    meeting = meetings[0]
    assert [m.status for m in meetings] == [Meeting.Status.PUBLISHED] + [
        Meeting.Status.SCHEDULED
    ] * (len(meetings) - 1)
    assert list(AgendaItem.objects.values_list("meeting", "kind", "incident")) == [
        (meeting.pk, AgendaItem.Kind.INCIDENT, incident.pk)
    ]
    assert AuditEvent.objects.filter(verb="meeting.agenda_published").count() == 1
    prepared = _results(worker_log, "committee.tasks.prepare_agendas")
    assert sum("'published': 1" in r for r in prepared) == 1, prepared
    # One invitation per attendee, claimed and mailed once.
    notices = MeetingNotice.objects.all()
    assert sorted(notices.values_list("meeting", "recipient__username")) == [
        (meeting.pk, "chair"),
        (meeting.pk, "ciso"),
        (meeting.pk, "cqo"),
    ]
    invitations = [(to, subject) for to, subject in mails() if "Invitation:" in subject]
    assert sorted(to for to, _ in invitations) == sorted([chair.email, ciso.email, cqo.email])

    # Each stage reached each action once, and each person had one digest mail for it.
    actions = set(Action.objects.values_list("pk", flat=True))
    assert sorted(ChaseNotice.objects.values_list("action", "stage")) == sorted(
        (pk, stage) for pk in actions for stage in ("overdue", "unit_head")
    )
    assert sorted(Notification.objects.values_list("recipient__username", "stage")) == sorted(
        [("bu_member", "overdue"), ("bu_head", "unit_head")] * OVERDUE_ACTIONS
    )
    assert not Notification.objects.filter(digest__isnull=True).exists()
    # (Two runs do not overlap: one that finds another under way leaves the chase to it. Even
    # so, the digests that carry items are one a person: an empty one is never mailed.)
    carrying = Digest.objects.filter(pk__in=Notification.objects.values("digest"))
    assert sorted(carrying.values_list("recipient__username", flat=True)) == [
        "bu_head",
        "bu_member",
    ]
    assert not Digest.objects.filter(sent_at__isnull=True).exists()
    subject = f"[RCC] {OVERDUE_ACTIONS} actions need your attention"
    digests = [(to, s) for to, s in mails() if "need your attention" in s]
    assert sorted(digests) == sorted([(bu_member.email, subject), (bu_head.email, subject)])
    chased = _results(worker_log, "actions.tasks.chase_actions")
    assert sum(int(m) for r in chased for m in re.findall(r"'digests': (\d+)", r)) == 2, chased
    assert len(mails()) == 3 + 2, mails()
