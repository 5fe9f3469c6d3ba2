"""A real beat and worker on the configured broker schedule meetings and publish and mail one agenda once."""

from __future__ import annotations

import datetime as dt
import itertools
import os
import re
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from email import message_from_string, policy
from email.message import Message
from pathlib import Path

import pytest
import time_machine
from django.utils import timezone
from django_celery_beat.models import IntervalSchedule, PeriodicTask, PeriodicTasks
from icalendar import Calendar

from committee.models import AgendaItem, Committee, Meeting, MeetingNotice
from committee.services.scheduling import HORIZON, occurrences
from committee.tasks import schedule_meetings
from config.celery import app
from tests.actions import test_chasing_worker as chasing
from tests.cases.conftest import report
from tests.config.test_celery_worker import ROOT, celery_worker
from tests.conftest import database_url_for_subprocess, stop

# Real processes: `--dist loadgroup` (make test) runs the group on one xdist worker, in turn.
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.xdist_group("processes")]

TICK = 1  # seconds: beat's "day" and "hour" for this test
# The schedules migration 0002 creates; a transactional test may have flushed them.
BEAT_TASKS = {
    "Schedule committee meetings": "committee.tasks.schedule_meetings",
    "Prepare and publish agendas": "committee.tasks.prepare_agendas",
}
WEEKDAYS = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]
broker = chasing.broker  # the fixture: the configured broker, skipped (or failed in CI) if down


@contextmanager
def celery_beat(broker_url: str, folder: Path) -> Iterator[tuple[subprocess.Popen[str], Path]]:
    """`celery beat` on the database scheduler, its log in a file (a pipe nobody reads fills)."""
    log = folder / "beat.log"
    env = {
        **os.environ,
        "DATABASE_URL": database_url_for_subprocess(),
        "CELERY_BROKER_URL": broker_url,
    }
    with log.open("w") as out:
        beat = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "beat",
                "--scheduler",
                "config.beat:ResilientDatabaseScheduler",
                "--schedule",
                str(folder / "beat-schedule"),
                "--max-interval",
                str(TICK),
                "--loglevel",
                "INFO",
            ],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            yield beat, log
        finally:
            stop(beat)


def _every_tick_on(queue: str, tasks: dict[str, str] = BEAT_TASKS) -> None:
    """These beat entries (the committee's two unless told), due every TICK on the test's
    queue; nothing else runs."""
    tick, _ = IntervalSchedule.objects.get_or_create(every=TICK, period=IntervalSchedule.SECONDS)
    for name, task in tasks.items():
        PeriodicTask.objects.update_or_create(
            name=name,
            defaults={
                "task": task,
                "interval": tick,
                "crontab": None,
                "queue": queue,
                "enabled": True,
                "last_run_at": None,
                "total_run_count": 0,
            },
        )
    PeriodicTask.objects.exclude(name__in=tasks).update(enabled=False)
    PeriodicTasks.update_changed()


def _messages(folder: Path) -> list[Message]:
    """Every mail the worker wrote with the file backend, whole (attachments included)."""
    return [
        message_from_string(chunk.strip(), policy=policy.default)
        for path in sorted(folder.glob("*.log"))
        for chunk in path.read_text().split("-" * 79)
        if chunk.strip()
    ]


def _invite(message: Message) -> tuple[str, Calendar]:
    """The mail's text body and its invite.ics attachment, parsed."""
    body, invites = "", []
    for part in message.walk():
        payload = part.get_payload(decode=True)
        if not isinstance(payload, bytes):
            continue  # a multipart container
        if part.get_filename() == "invite.ics":
            invites.append(Calendar.from_ical(payload))
        elif part.get_content_type() == "text/plain" and not part.get_filename():
            body = payload.decode()
    assert len(invites) == 1, message.as_string()
    return body, invites[0]


def _weekly_three_days_ahead(committee: Committee) -> dt.date:
    """Weekly, on the weekday three days from now, twelve hours away from the wall clock: one
    meeting falls inside the five-day lead, and no occurrence crosses the three-month horizon
    while the test runs. Returns the first meeting's date."""
    local = timezone.now().astimezone(committee.zone)
    first = local.date() + dt.timedelta(days=3)
    committee.cadence = (
        f"FREQ=WEEKLY;BYDAY={WEEKDAYS[first.weekday()]};"
        f"BYHOUR={(local.hour + 12) % 24};BYMINUTE=0;BYSECOND=0"
    )
    committee.agenda_lead_days = 5
    committee.full_clean()
    committee.save()
    return first


def _tasks_done(log: str, task: str) -> list[str]:
    """The return values of every run of `task` the worker logged, in order."""
    return re.findall(rf"Task {re.escape(task)}\[[^\]]+\] succeeded in [^:]+: (.*)", log)


def test_beat_and_worker_schedule_meetings_and_publish_and_mail_one_agenda_once(
    broker, tmp_path, committee, chair, ciso, cqo, secretary, unit, bu_member
):
    incident = report(unit, bu_member)  # high severity: the agenda assembles it
    first = _weekly_three_days_ahead(committee)
    now = timezone.now()
    planned = occurrences(committee, now, now + HORIZON)
    assert len(planned) >= 12 and planned[0].date() == first
    queue = f"beat-{uuid.uuid4().hex[:8]}"
    _every_tick_on(queue)
    mail_dir = tmp_path / "mail"
    # send_meeting_notices leaves on commit with .delay(): the default queue, consumed too.
    queues = f"{queue},{app.conf.task_default_queue}"

    def published() -> Meeting | None:
        return Meeting.objects.filter(status=Meeting.Status.PUBLISHED).first()

    def done() -> bool:
        if beat.poll() is not None:
            pytest.fail(f"beat exited early:\n{beat_log.read_text()}")
        meeting = published()
        return (
            Meeting.objects.count() == len(planned)
            and meeting is not None
            and not MeetingNotice.objects.filter(meeting=meeting, sent_at__isnull=True).exists()
            and len(chasing._mails(mail_dir)) >= 3
        )

    with (
        celery_worker(queues, broker, EMAIL_FILE_PATH=str(mail_dir)) as worker,
        celery_beat(broker, tmp_path) as (beat, beat_log),
    ):
        chasing._wait(done, worker, timeout=120)
        time.sleep(5 * TICK)  # beat keeps ticking: each task runs several times more
    worker_log = worker.stdout.read() if worker.stdout else ""

    # The cadence, three months ahead, once: one meeting per occurrence, no duplicates.
    meetings = list(Meeting.objects.order_by("starts_at"))
    assert [(m.starts_at, m.cadence_date) for m in meetings] == [
        (when, when.date()) for when in planned
    ]
    # One agenda published (the one inside its lead time), by the scheduler, chair frozen.
    meeting = meetings[0]
    assert [m.status for m in meetings] == [Meeting.Status.PUBLISHED] + [
        Meeting.Status.SCHEDULED
    ] * (len(meetings) - 1)
    assert meeting.published_by is None and meeting.chair == chair and meeting.sequence == 0
    assert list(meeting.items.values_list("kind", "incident")) == [
        (AgendaItem.Kind.INCIDENT, incident.pk)
    ]
    assert sorted(meeting.attendance.values_list("person__username", flat=True)) == [
        "chair",
        "ciso",
        "cqo",
    ]
    # One invitation per attendee, claimed and mailed once, with the meeting's iCalendar event.
    notices = MeetingNotice.objects.filter(meeting=meeting)
    assert sorted(notices.values_list("recipient__username", flat=True)) == ["chair", "ciso", "cqo"]
    assert not notices.filter(sent_at__isnull=True).exists()
    assert not MeetingNotice.objects.exclude(meeting=meeting).exists()
    messages = _messages(mail_dir)
    assert sorted(m["To"] for m in messages) == sorted([chair.email, ciso.email, cqo.email])
    for message in messages:
        assert message["Subject"].strip().startswith(f"[RCC] Invitation: {meeting.title}, ")
        body, invite = _invite(message)
        assert incident.title in body
        assert str(invite["METHOD"]) == "REQUEST"
        [event] = invite.walk("VEVENT")
        assert str(event["UID"]) == meeting.ical_uid
        assert event.decoded("DTSTART") == meeting.starts_at
        attendees = event.get("ATTENDEE")
        attendees = attendees if isinstance(attendees, list) else [attendees]
        assert f"mailto:{message['To']}" in [str(a) for a in attendees]

    # Beat went on ticking after the publication, and the worker ran both tasks again: nothing
    # was published, scheduled or mailed a second time.
    prepared = _tasks_done(worker_log, "committee.tasks.prepare_agendas")
    assert sum("'published': 1" in result for result in prepared) == 1, worker_log
    after = prepared[next(i for i, r in enumerate(prepared) if "'published': 1" in r) + 1 :]
    assert len(after) >= 2 and all("'published': 0" in r for r in after), worker_log
    scheduled = _tasks_done(worker_log, "committee.tasks.schedule_meetings")
    assert len(scheduled) >= 3 and all("'created': 0" in r for r in scheduled[1:]), worker_log
    # The notices went through the outbox: one message, run once, mailing three people.
    # (The suite's shared folder broker may hand this worker other tests' leftovers too.)
    delivered = _tasks_done(worker_log, "outbox.tasks.deliver")
    assert [r for r in delivered if "send_meeting_notices" in r] == [
        "'committee.tasks.send_meeting_notices: 3'"
    ], worker_log


def test_a_fortnightly_cadence_keeps_its_fortnights_whichever_day_the_daily_beat_runs(committee):
    """The rule's DTSTART must not move with the day the beat runs, or INTERVAL drifts: run on a
    Monday, the rule counts fortnights from that week; run a week later, from the other one."""
    committee.cadence = "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU;BYHOUR=10;BYMINUTE=0;BYSECOND=0"
    committee.full_clean()
    committee.save()
    start = dt.datetime(2027, 1, 4, 3, 0, tzinfo=dt.UTC)  # a Monday, 12:00 in Tokyo
    for day in range(14):  # two weeks of the daily beat
        with time_machine.travel(start + dt.timedelta(days=day), tick=False):
            schedule_meetings()  # the beat's entry point, run in process
    dates = sorted(committee.meetings.values_list("cadence_date", flat=True))
    assert {(later - earlier).days for earlier, later in itertools.pairwise(dates)} == {14}, dates
