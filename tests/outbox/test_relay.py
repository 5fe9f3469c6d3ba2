"""The outbox: a message exists exactly when its change commits, is published after the commit,
runs once however often it is delivered, and is published again when the broker lost it."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from celery import shared_task
from django.contrib.admin.sites import site
from django.core import mail
from django.db import transaction
from django.test import RequestFactory
from django.utils import timezone

from actions import services as actions_services
from outbox import relay
from outbox.admin import MessageAdmin
from outbox.models import Message
from outbox.tasks import deliver, relay_outbox
from systems import services as systems_services
from tests.actions.conftest import task
from tests.systems.conftest import register
from tests.threads import at_once


def _suspend(ciso, system):
    return systems_services.suspend_system(actor=ciso, system=system, reason="Data leaking")


@pytest.mark.django_db(transaction=True)
def test_a_message_is_written_with_its_change_and_published_after_commit(unit, ciso, bu_member):
    system = register(unit, "portal")
    order = _suspend(ciso, system)
    relay.drain()
    message = Message.objects.get()
    assert (message.task, message.args) == (
        "systems.tasks.notify_suspension",
        [order.pk, "suspended"],
    )
    assert message.published_at is not None and message.publish_count == 1
    assert message.done_at is None  # published, not yet run: no worker in this test


@pytest.mark.django_db(transaction=True)
def test_a_change_that_rolls_back_owes_nothing(unit, ciso):
    system = register(unit, "portal")
    with pytest.raises(RuntimeError), transaction.atomic():
        _suspend(ciso, system)
        raise RuntimeError("the request failed after the service")
    relay.drain()
    assert not Message.objects.exists()


@pytest.mark.django_db
def test_delivered_twice_it_runs_once(unit, ciso, bu_member, django_capture_on_commit_callbacks):
    system = register(unit, "portal")
    with django_capture_on_commit_callbacks():
        order = _suspend(ciso, system)
    message = Message.objects.get()
    assert deliver.apply(args=(message.pk,)).get() == "systems.tasks.notify_suspension: 1"
    assert deliver.apply(args=(message.pk,)).get() == "already done"  # a second copy
    message.refresh_from_db()
    assert message.done_at is not None and message.run_count == 1
    assert [m.subject for m in mail.outbox] == [f"[RCC] {order.system.code} suspended"]
    assert mail.outbox[0].to == [bu_member.email]


@pytest.mark.django_db
def test_a_failing_run_is_counted_kept_owed_and_retried(db):
    message = Message.objects.create(task="outbox.tests.no_such_task", args=[1])
    result = deliver.apply(args=(message.pk,))  # eagerly: the retries run at once
    assert result.state == "FAILURE"
    message.refresh_from_db()
    assert message.done_at is None  # still owed: the periodic relay publishes it again later
    assert message.run_count == (deliver.max_retries or 0) + 1  # the first run and each retry
    assert "no_such_task" in message.last_error


@pytest.mark.django_db
def test_the_relay_publishes_what_is_owed_and_again_what_the_broker_lost(db):
    now = timezone.now()
    never = Message.objects.create(task="t", args=[1])
    lost = Message.objects.create(
        task="t",
        published_at=now - relay.REPUBLISH_AFTER - dt.timedelta(minutes=1),
        publish_count=1,
    )
    recent = Message.objects.create(task="t", published_at=now, publish_count=1)
    done = Message.objects.create(task="t", published_at=now - dt.timedelta(days=1), done_at=now)
    stuck = Message.objects.create(
        task="t", published_at=now - dt.timedelta(days=1), publish_count=relay.MAX_PUBLISHES
    )
    assert relay_outbox.apply().get() == 2
    counts = dict(Message.objects.values_list("pk", "publish_count"))
    assert counts == {
        never.pk: 1,
        lost.pk: 2,
        recent.pk: 1,
        done.pk: 0,
        stuck.pk: relay.MAX_PUBLISHES,
    }
    assert relay_outbox.apply().get() == 0  # nothing owed now


@pytest.mark.django_db
def test_an_administrator_relays_a_stuck_message_again(admin_user):
    stuck = Message.objects.create(
        task="t", published_at=timezone.now(), publish_count=relay.MAX_PUBLISHES
    )
    request = RequestFactory().post("/admin/outbox/message/")
    request.user = admin_user
    request._messages = []  # type: ignore[attr-defined]
    model_admin = MessageAdmin(Message, site)
    model_admin.message_user = lambda *args, **kwargs: None  # type: ignore[method-assign]
    model_admin.relay_again(request, Message.objects.filter(pk=stuck.pk))
    stuck.refresh_from_db()
    assert stuck.publish_count == 1 and stuck.published_at is not None


@pytest.mark.django_db
def test_submitting_an_action_mails_the_verifying_office(
    unit, ciso, bu_member, django_capture_on_commit_callbacks
):
    action = task(unit, ciso)
    with django_capture_on_commit_callbacks():
        actions_services.transition_action(actor=bu_member, action=action, act="start")
        actions_services.transition_action(actor=bu_member, action=action, act="submit")
    message = Message.objects.get()
    assert message.task == "actions.tasks.notify_submitted"
    deliver.apply(args=(message.pk,)).get()
    assert len(mail.outbox) == 1
    sent = mail.outbox[0]
    assert sent.to == [ciso.email]
    assert sent.subject == f"[RCC] {action.reference} submitted for verification by PUBSEC"
    assert action.title in sent.body


@shared_task(name="tests.outbox.record_then_fail_once")
def record_then_fail_once(marker: str) -> str:
    """A task that records something, then fails on its first run."""
    Message.objects.create(task=marker)
    if Message.objects.filter(task=marker).count() == 1:
        raise RuntimeError("failed after recording")
    return "ran"


@pytest.mark.django_db
def test_what_a_failed_run_recorded_stays_and_the_retry_finishes_it(db):
    """The task runs outside the outbox's own transaction: a failure half-way does not undo
    what it already recorded (a notice marked sent before its mail), so a retry does not
    repeat it."""
    message = Message.objects.create(task=record_then_fail_once.name, args=["side-effect"])
    assert deliver.apply(args=(message.pk,)).get() == "tests.outbox.record_then_fail_once: 'ran'"
    assert Message.objects.filter(task="side-effect").count() == 2  # the first run's kept
    message.refresh_from_db()
    assert message.done_at is not None and message.run_count == 2 and message.claimed_at


@pytest.mark.django_db
def test_a_copy_that_finds_a_live_claim_leaves_it_and_an_expired_one_runs(db):
    claimed = Message.objects.create(
        task=record_then_fail_once.name, args=["x"], claimed_at=timezone.now()
    )
    assert deliver.apply(args=(claimed.pk,)).get() == "running elsewhere"
    Message.objects.filter(pk=claimed.pk).update(
        claimed_at=timezone.now() - relay.LEASE - dt.timedelta(seconds=1)  # that worker died
    )
    Message.objects.create(task="x")  # so the task does not fail
    assert deliver.apply(args=(claimed.pk,)).get().endswith("'ran'")


@shared_task(name="tests.outbox.slow_once")
def slow_once(marker: str) -> str:
    """A task that takes a second and leaves a mark each time it runs."""
    time.sleep(1)
    Message.objects.create(task=marker)
    return "ran"


@pytest.mark.django_db(transaction=True)
def test_two_copies_delivered_at_the_same_moment_run_the_task_once(db):
    """A message published twice (a sweep after a broker restart) reaches two workers at once:
    the second waits for the first's claim, finds it, and leaves the message alone."""
    message = Message.objects.create(task=slow_once.name, args=["slow-mark"])
    results = at_once(lambda: deliver.apply(args=(message.pk,)).get(), timeout=30)
    assert sorted(results) == sorted(["running elsewhere", "tests.outbox.slow_once: 'ran'"])
    assert Message.objects.filter(task="slow-mark").count() == 1
    message.refresh_from_db()
    assert message.done_at is not None and message.run_count == 1


@pytest.mark.django_db
def test_the_relay_publishes_batch_after_batch_until_nothing_is_owed(monkeypatch):
    monkeypatch.setattr(relay, "BATCH", 3)
    Message.objects.bulk_create([Message(task="t", args=[n]) for n in range(7)])
    assert relay_outbox.apply().get() == 7  # 3 + 3 + 1
    assert not Message.objects.filter(published_at__isnull=True).exists()
