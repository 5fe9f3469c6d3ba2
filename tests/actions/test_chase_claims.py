"""Chasing's claim of a stage: each (action, stage) is claimed once, by a unique row and an
insert that skips what another claim holds, not by the luck of timing.

The chase runs one at a time (a run-alone lock), so these tests call its claiming step
(`chase_stages`) directly, below that lock, as two overlapping batches would meet.
"""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from django.core import mail
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from actions import chasing
from actions.models import Action, ChaseNotice, Notification
from tests.actions.conftest import task

pytestmark = pytest.mark.django_db


def overdue_by(days: int, unit, ciso, assignee) -> Action:
    action = task(unit, ciso, assignee=assignee)
    Action.objects.filter(pk=action.pk).update(due_on=timezone.localdate() - timedelta(days=days))
    return Action.objects.get(pk=action.pk)


def test_the_database_refuses_a_second_row_for_a_stage_of_an_action(unit, ciso, bu_member):
    """The constraint itself: whatever writes a claim, a stage reaches an action once."""
    action = overdue_by(2, unit, ciso, bu_member)
    ChaseNotice.objects.create(action=action, stage="overdue")
    with pytest.raises(IntegrityError), transaction.atomic():
        ChaseNotice.objects.create(action=action, stage="overdue")
    ChaseNotice.objects.create(action=action, stage="unit_head")  # another stage: its own row
    assert sorted(action.chase_notices.values_list("stage", flat=True)) == [
        "overdue",
        "unit_head",
    ]


def test_a_stage_claimed_by_an_earlier_run_is_not_claimed_again(unit, ciso, bu_member):
    action = overdue_by(2, unit, ciso, bu_member)
    ChaseNotice.objects.create(action=action, stage="overdue")  # an earlier run's claim
    reached = chasing.chase_stages(today=timezone.localdate())
    assert reached["overdue"] == 0
    assert action.chase_notices.filter(stage="overdue").count() == 1
    assert not Notification.objects.filter(action=action).exists()


def _blocked_by_me() -> bool:
    """Whether another session waits on this one's transaction (PostgreSQL)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT EXISTS (SELECT 1 FROM pg_stat_activity "
            "WHERE pg_backend_pid() = ANY(pg_blocking_pids(pid)))"
        )
        return bool(cursor.fetchone()[0])


@pytest.mark.django_db(transaction=True)
def test_a_claim_made_while_the_chase_runs_is_skipped_not_doubled(unit, ciso, bu_member):
    """Another batch claims a stage of an action after this chase read its candidates, and
    commits while this chase inserts its claims: this chase skips that action (the other one
    tells its people) and claims the rest, with no error and nothing twice.

    A real overlapping batch holds the action row locked while its claim is uncommitted, so it
    meets this chase only in the instant between its commit and this chase's read of the row.
    The test opens that instant wide: the other claim is written with PostgreSQL's
    foreign-key check (which would lock the action row at commit) switched off for its
    session, and committed once this chase is seen waiting on it. On SQLite a transaction
    takes the write lock at its start, so the chase waits before it reads anything: the same
    outcome, by serialization."""
    taken = overdue_by(2, unit, ciso, bu_member)  # the other batch claims its overdue stage
    left = overdue_by(2, unit, ciso, bu_member)
    claimed, chased = threading.Event(), threading.Event()
    errors: list[BaseException] = []
    waited: list[bool] = []

    def other_batch() -> None:
        try:
            with transaction.atomic():
                if connection.vendor == "postgresql":
                    with connection.cursor() as cursor:
                        cursor.execute("SET LOCAL session_replication_role = replica")
                ChaseNotice.objects.create(action_id=taken.pk, stage="overdue")
                claimed.set()
                give_up = time.monotonic() + 20
                while time.monotonic() < give_up and not chased.is_set():
                    if connection.vendor == "postgresql" and _blocked_by_me():
                        waited.append(True)
                        break
                    if connection.vendor != "postgresql":
                        time.sleep(0.5)  # the chase is queued behind this transaction
                        break
                    time.sleep(0.02)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    other = threading.Thread(target=other_batch)
    other.start()
    try:
        assert claimed.wait(20)
        reached = chasing.chase_stages(today=timezone.localdate())
    finally:
        chased.set()
        other.join(30)
    assert errors == []
    rows = list(ChaseNotice.objects.values_list("action_id", "stage"))
    assert sorted(rows) == sorted([(taken.pk, "overdue"), (left.pk, "overdue")])
    if connection.vendor == "postgresql":
        assert waited == [True], "the chase never met the other claim: the test proves nothing"
    assert reached["overdue"] == 1  # `left` only: `taken` is the other batch's
    told = list(Notification.objects.values_list("recipient", "action", "stage"))
    assert told == [(bu_member.pk, left.pk, "overdue")]
    assert chasing.send_digests() == 1
    (mine,) = [m for m in mail.outbox if m.to == [bu_member.email]]
    assert left.reference in mine.body
    assert taken.reference not in mine.body
