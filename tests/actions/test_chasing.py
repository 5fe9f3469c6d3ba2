"""Chasing: each stage reaches each action once, digests are one mail per person per run."""

from __future__ import annotations

import re
import threading
import time
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.db import connection, transaction
from django.utils import timezone

from actions import chasing
from actions.models import Action, ChaseNotice, Digest, Notification
from config.sql import hold_lock
from tests.actions.conftest import overdue, task
from tests.threads import at_once, held_elsewhere

pytestmark = pytest.mark.django_db


def due_in(days: int, **fields):
    """An action whose due date is `days` from today (negative: overdue)."""
    action = fields.pop("make")()
    Action.objects.filter(pk=action.pk).update(
        due_on=timezone.localdate() + timedelta(days=days), **fields
    )
    return Action.objects.get(pk=action.pk)


@pytest.fixture
def make(unit, ciso, bu_member):
    return lambda **kw: task(unit, ciso, assignee=bu_member, **kw)


@pytest.mark.parametrize(
    ("days", "stages", "level"),
    [
        (10, [], 0),
        (7, ["reminder_7d"], 0),
        (1, ["reminder_1d", "reminder_7d"], 0),
        (0, ["reminder_1d", "reminder_7d"], 0),
        (-1, ["overdue"], 0),
        (-7, ["overdue", "unit_head"], 1),
        (-14, ["overdue", "owning_office", "unit_head"], 2),
        (-30, ["committee", "overdue", "owning_office", "unit_head"], 3),
    ],
)
def test_each_stage_is_reached_at_its_offset(
    make, days, stages, level, bu_head, ciso, chair, secretary
):
    action = due_in(days, make=make)
    chasing.chase_actions()
    assert (
        sorted(ChaseNotice.objects.filter(action=action).values_list("stage", flat=True)) == stages
    )
    action.refresh_from_db()
    assert action.escalation_level == level


def test_who_hears_of_each_stage(make, bu_member, bu_head, ciso, chair, secretary):
    action = due_in(-30, make=make)
    chasing.chase_actions()
    heard = {
        stage: sorted(
            Notification.objects.filter(action=action, stage=stage).values_list(
                "recipient__username", flat=True
            )
        )
        for stage in ["overdue", "unit_head", "owning_office", "committee"]
    }
    assert heard == {
        "overdue": ["bu_member"],
        "unit_head": ["bu_head"],
        "owning_office": ["ciso"],
        "committee": ["chair", "secretary"],
    }


def test_running_twice_sends_nothing_twice(make, bu_member):
    for days in (7, 1, -1, -8):
        due_in(days, make=make)
    first = chasing.chase_actions()
    sent = len(mail.outbox)
    second = chasing.chase_actions()
    assert sum(first.stages.values()) > 0
    assert sum(second.stages.values()) == 0
    assert second.digests == 0
    assert len(mail.outbox) == sent
    assert ChaseNotice.objects.count() == sum(first.stages.values())


def test_a_person_with_40_items_gets_one_mail(make, bu_member):
    for _ in range(40):
        due_in(-2, make=make)
    chasing.chase_actions()
    mine = [m for m in mail.outbox if m.to == [bu_member.email]]
    assert len(mine) == 1
    assert mine[0].subject == "[RCC] 40 actions need your attention"
    assert mine[0].body.count("overdue") >= 40


def test_notifications_join_the_digest_waiting_for_their_recipient(make, bu_member, settings):
    settings.CHASE_BATCH_SIZE = 3  # several batches, one digest a person
    for _ in range(7):
        due_in(-2, make=make)
    chasing.chase_stages(today=timezone.localdate())
    told = Notification.objects.filter(recipient=bu_member)
    assert told.count() == 7
    assert told.filter(digest__isnull=True).count() == 0  # none left to link later
    assert len({n.digest_id for n in told}) == 1
    waiting = Digest.objects.get(notifications=told[0])
    assert waiting.sent_at is None
    # Mailed, the digest takes nothing more: the next stage's items open a new one.
    assert chasing.send_digests() == 1
    later = due_in(-8, make=make)  # overdue and a week late
    chasing.chase_stages(today=timezone.localdate())
    new = Notification.objects.filter(recipient=bu_member, action=later, stage="overdue").get()
    assert new.digest_id != waiting.pk
    assert Digest.objects.get(notifications=new).sent_at is None


def test_finished_actions_are_not_chased(make, ciso, bu_member):
    action = due_in(-3, make=make)
    Action.objects.filter(pk=action.pk).update(status="verified")
    assert sum(chasing.chase_actions().stages.values()) == 0


def test_the_next_stage_comes_when_its_day_does(make):
    action = due_in(3, make=make)
    chasing.chase_actions()
    assert list(action.chase_notices.values_list("stage", flat=True)) == ["reminder_7d"]
    with time_machine.travel(timezone.now() + timedelta(days=3)):
        chasing.chase_actions()
    assert sorted(action.chase_notices.values_list("stage", flat=True)) == [
        "reminder_1d",
        "reminder_7d",
    ]


@pytest.mark.django_db(transaction=True)
def test_two_runs_at_once_send_nothing_twice(unit, ciso, bu_member, bu_head):
    overdue(unit, ciso, bu_member, 30, days=8)  # overdue + unit head
    results = at_once(chasing.chase_actions)
    total = sum(sum(r.stages.values()) for r in results)
    assert total == 60  # 30 actions x (overdue, unit_head), once each
    assert ChaseNotice.objects.count() == 60
    assert len([m for m in mail.outbox if m.to == [bu_member.email]]) == 1
    assert len([m for m in mail.outbox if m.to == [bu_head.email]]) == 1


def test_a_hung_chase_is_stopped_before_the_next_hours_run():
    """A run holds the chase alone, so one that hangs must end (and let go) within the hour."""
    from actions.tasks import chase_actions as hourly

    assert hourly.soft_time_limit is not None and hourly.time_limit is not None
    assert hourly.soft_time_limit < hourly.time_limit < 60 * 60


@pytest.mark.django_db(transaction=True)
def test_two_overlapping_chases_of_the_stages_claim_nothing_twice(unit, ciso, bu_member, bu_head):
    """Below the one-run-at-a-time lock, batches claim: two at once still tell nobody twice."""
    overdue(unit, ciso, bu_member, 30, days=8)  # overdue + unit head
    reached = at_once(lambda: chasing.chase_stages(today=timezone.localdate()))
    assert sum(sum(r.values()) for r in reached) == 60
    told = Notification.objects.values_list("recipient", "action", "stage")
    assert len(told) == len(set(told)) == 60
    chasing.send_digests()
    mailed = "".join(str(m.body) for m in mail.outbox if m.to == [bu_member.email])
    for action in Action.objects.all():
        assert len(re.findall(rf"\b{re.escape(action.reference)}\b", mailed)) == 1


@pytest.mark.django_db(transaction=True)
def test_a_run_that_finds_another_under_way_leaves_the_chase_to_it(make, bu_member):
    action = due_in(-8, make=make)
    with held_elsewhere(chasing.CHASING):
        result = chasing.chase_actions()
    assert (result.skipped, sum(result.stages.values()), result.digests) == (True, 0, 0)
    assert not action.chase_notices.exists()
    assert mail.outbox == []
    result = chasing.chase_actions()  # the other run has ended: this one chases
    assert sorted(action.chase_notices.values_list("stage", flat=True)) == ["overdue", "unit_head"]
    assert result.digests == len(mail.outbox) >= 1
    assert [bu_member.email] in [m.to for m in mail.outbox]


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_a_digest_is_not_claimed_while_a_batch_still_writes_into_it(make, bu_member):
    """Without the lock the mail would be read before the batch's item committed, and the item
    would sit in a sent digest for good."""
    first = due_in(-2, make=make)
    chasing.chase_stages(today=timezone.localdate())  # a digest waits for bu_member
    second = due_in(-2, make=make)
    writing = threading.Event()
    sent: list[int] = []

    def batch() -> None:
        try:
            with transaction.atomic():
                hold_lock(chasing.DIGESTS_FILLING, shared=True)
                Notification.objects.create(
                    recipient=bu_member,
                    action=second,
                    stage="overdue",
                    message=f"{second.reference} the second item",
                    digest=Digest.objects.get(recipient=bu_member, sent_at__isnull=True),
                )
                writing.set()
                time.sleep(1.5)  # still writing when the send comes
        finally:
            connection.close()

    def send() -> None:
        try:
            writing.wait(10)
            sent.append(chasing.send_digests())
        finally:
            connection.close()

    threads = [threading.Thread(target=batch), threading.Thread(target=send)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sent == [1]
    (mine,) = [m for m in mail.outbox if m.to == [bu_member.email]]
    assert first.reference in mine.body and second.reference in mine.body


def test_notifications_api_shows_only_mine(login_as, make, bu_member, bu_head):
    due_in(-8, make=make)
    chasing.chase_actions()
    client = login_as(bu_member)
    mine = client.get("/api/v1/notifications/").json()["results"]
    assert [n["stage"] for n in mine] == ["overdue"]
    read = client.post(f"/api/v1/notifications/{mine[0]['id']}/read/")
    assert read.status_code == 200
    assert read.json()["read_at"] is not None
    theirs = Notification.objects.get(recipient=bu_head)
    assert client.get(f"/api/v1/notifications/{theirs.pk}/").status_code == 404


def test_escalation_level_is_filterable(login_as, auditor, make):
    due_in(-15, make=make)
    due_in(5, make=make)
    chasing.chase_actions()
    client = login_as(auditor)
    escalated = client.get("/api/v1/actions/?escalation_level_min=2").json()["results"]
    assert [a["escalation_level"] for a in escalated] == [2]
