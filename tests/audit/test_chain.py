"""The audit chain: writers append without waiting for each other, the sealer chains what they
committed into one unbroken chain, and any tampering with a sealed event is found."""

from __future__ import annotations

import itertools
import threading
from datetime import timedelta
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from audit import services as audit
from audit.models import GENESIS_HASH, AppendOnlyError, AuditEvent, ChainHead
from tests.factories import UserFactory


def _tamper(sql: str, params: list[Any]) -> None:
    """What a person with database access might do: raw SQL with the trigger switched off."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no pending checks may block ALTER
            cursor.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER audit_event_append_only")
        cursor.execute(sql, params)
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE audit_auditevent ENABLE TRIGGER audit_event_append_only")


def _verify_fails_at(sequence: int) -> str:
    with pytest.raises(CommandError) as excinfo:
        call_command("verify_audit")
    message = str(excinfo.value)
    assert f"broken at event #{sequence}" in message
    return message


def _sealed(written: list[AuditEvent]) -> list[AuditEvent]:
    """The events as the sealer left them, in chain order."""
    assert all(event.sequence is None and event.hash is None for event in written)
    assert audit.seal() == len(written)
    return list(AuditEvent.objects.filter(pk__in=[e.pk for e in written]).order_by("sequence"))


@pytest.fixture
def chain(db):
    actor = UserFactory.create(username="writer")
    return _sealed(
        [
            audit.record(
                actor=actor, verb="test.event", target=actor, details={"n": n, "note": "ü"}
            )
            for n in range(5)
        ]
    )


def test_events_link_from_genesis(chain):
    assert [e.sequence for e in chain] == [1, 2, 3, 4, 5]
    assert chain[0].prev_hash == GENESIS_HASH
    for before, after in itertools.pairwise(chain):
        assert after.prev_hash == before.hash
    head = ChainHead.objects.get()
    assert (head.sequence, head.hash) == (5, chain[-1].hash)
    assert audit.verify_chain().ok


def test_verify_audit_command_reports_an_intact_chain(chain, capsys):
    call_command("verify_audit")
    assert "5 events verified" in capsys.readouterr().out


def test_event_records_actor_office_and_target(chain):
    event = AuditEvent.objects.get(sequence=1)
    assert event.actor_label == "writer"
    assert event.target_type == "accounts.user"
    assert event.details == {"n": 0, "note": "ü"}


def test_orm_refuses_update_and_delete(chain):
    event = AuditEvent.objects.get(sequence=2)
    event.verb = "rewritten"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(sequence=2).update(verb="rewritten")
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.all().delete()
    assert AuditEvent.objects.get(sequence=2).verb == "test.event"


def test_editing_a_field_is_detected(chain):
    _tamper("UPDATE audit_auditevent SET verb = %s WHERE sequence = %s", ["innocent", 3])
    _verify_fails_at(3)


def test_editing_details_is_detected(chain):
    _tamper(
        "UPDATE audit_auditevent SET details = %s WHERE sequence = %s",
        ['{"n": 99, "note": "ü"}', 2],
    )
    _verify_fails_at(2)


@pytest.fixture
def acts(db):
    """Events as the product writes them: a person acting under an office, on a target, with
    a reason; and one the system wrote with no actor."""
    ciso = UserFactory.create(username="ciso-holder")
    system = UserFactory.create(username="target-record")
    events = [
        audit.record(
            actor=ciso,
            verb="system.suspended",
            target=system,
            office="CISO",
            details={"reason": "Exposed admin console", "n": n},
        )
        for n in range(4)
    ]
    events.append(audit.record(actor=None, verb="chase.escalated", details={"count": 3}))
    return _sealed(events)


def _forged_time(event: AuditEvent) -> Any:
    moved = event.occurred_at - timedelta(hours=1)  # the act dated before the incident
    return connection.ops.adapt_datetimefield_value(moved)


# Every column an event's hash covers, each changed the way a forger would change it.
FORGERIES = {
    "actor_id": lambda event, other: other.pk,  # the act pinned on someone else
    "actor_label": lambda event, other: other.username,
    "office": lambda event, other: "CQO",  # done under another office's authority
    "occurred_at": lambda event, other: _forged_time(event),
    "verb": lambda event, other: "system.reinstated",
    "target_type": lambda event, other: "systems.system",
    "target_id": lambda event, other: str(int(event.target_id) + 1000),  # another record
    "target_label": lambda event, other: "Some other system",
    "details": lambda event, other: '{"reason": "Routine maintenance", "n": 2}',
    "prev_hash": lambda event, other: "f" * 64,
}


@pytest.mark.parametrize("column", sorted(FORGERIES))
def test_editing_each_hashed_field_is_detected(acts, column):
    other = UserFactory.create(username="scapegoat")
    event = acts[2]
    value = FORGERIES[column](event, other)
    _tamper(f"UPDATE audit_auditevent SET {column} = %s WHERE sequence = %s", [value, 3])
    stored = AuditEvent.objects.filter(sequence=3).values_list(column, flat=True).get()
    assert stored != getattr(event, column), "the forgery did not change the row"
    result = audit.verify_chain()
    assert (result.ok, result.broken_at) == (False, 3), result.problem
    _verify_fails_at(3)


def test_removing_the_actor_of_an_act_is_detected(acts):
    _tamper("UPDATE audit_auditevent SET actor_id = NULL, actor_label = '' WHERE sequence = 2", [])
    assert audit.verify_chain().broken_at == 2
    _verify_fails_at(2)


def test_giving_an_actor_to_an_event_the_system_wrote_is_detected(acts):
    other = UserFactory.create(username="scapegoat")
    _tamper(
        "UPDATE audit_auditevent SET actor_id = %s WHERE sequence = %s",
        [other.pk, acts[-1].sequence],
    )
    assert audit.verify_chain().broken_at == acts[-1].sequence
    _verify_fails_at(acts[-1].sequence)


def test_deleting_a_middle_row_is_detected(chain):
    _tamper("DELETE FROM audit_auditevent WHERE sequence = %s", [3])
    assert "event #3 is missing" in _verify_fails_at(3)


def test_deleting_the_last_row_is_detected(chain):
    _tamper("DELETE FROM audit_auditevent WHERE sequence = %s", [5])
    assert "missing from the end" in _verify_fails_at(5)


def test_reordering_rows_is_detected(chain):
    # Swap the sequence numbers of events 2 and 4 (through a spare number, for the unique index).
    _tamper("UPDATE audit_auditevent SET sequence = 1000 WHERE sequence = %s", [2])
    _tamper("UPDATE audit_auditevent SET sequence = 2 WHERE sequence = %s", [4])
    _tamper("UPDATE audit_auditevent SET sequence = 4 WHERE sequence = %s", [1000])
    _verify_fails_at(2)


def test_rehashing_one_row_still_breaks_the_next_link(chain):
    """A forger who edits a row and recomputes its hash breaks the link to the next event."""
    event = AuditEvent.objects.get(sequence=3)
    event.verb = "innocent"
    forged = audit.compute_hash(event)
    _tamper(
        "UPDATE audit_auditevent SET verb = %s, hash = %s WHERE sequence = %s",
        ["innocent", forged, 3],
    )
    assert "does not link" in _verify_fails_at(4)


@pytest.mark.postgres_only
def test_postgres_refuses_update_and_delete(chain):
    for sql in (
        "UPDATE audit_auditevent SET verb = 'x' WHERE sequence = 1",
        "DELETE FROM audit_auditevent WHERE sequence = 1",
    ):
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(sql)
    assert AuditEvent.objects.filter(sequence=1, verb="test.event").exists()


@pytest.mark.django_db(transaction=True)
def test_concurrent_appends_and_sealing_leave_one_unbroken_chain():
    """Eight writers append while a sealer runs beside them: every event ends in one chain, each
    writer's events in the order it committed them."""
    threads_count, per_thread = 8, 15
    actors = [UserFactory.create(username=f"writer{i}") for i in range(threads_count)]
    errors: list[BaseException] = []
    barrier = threading.Barrier(threads_count + 1)
    writing = threading.Event()
    writing.set()

    def append(actor):
        try:
            barrier.wait()
            for n in range(per_thread):
                with transaction.atomic():
                    audit.record(actor=actor, verb="test.concurrent", details={"n": n})
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    def sealer():
        try:
            barrier.wait()
            while writing.is_set():
                audit.seal(batch=7)  # small batches: many seals interleave with the writers
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    writers = [threading.Thread(target=append, args=(actor,)) for actor in actors]
    sealing = threading.Thread(target=sealer)
    for t in [*writers, sealing]:
        t.start()
    for t in writers:
        t.join(timeout=120)
    writing.clear()
    sealing.join(timeout=120)
    audit.seal()

    assert errors == []
    total = threads_count * per_thread
    chained = list(
        AuditEvent.objects.order_by("sequence").values_list("sequence", "actor_id", "details")
    )
    assert [sequence for sequence, _actor, _details in chained] == list(range(1, total + 1))
    for actor in actors:
        assert [d["n"] for _s, a, d in chained if a == actor.pk] == list(range(per_thread))
    result = audit.verify_chain()
    assert result.ok, result.problem
    assert (result.checked, result.unsealed) == (total, 0)


@pytest.mark.postgres_only  # SQLite lets one writer at a time: the product's dev database
@pytest.mark.django_db(transaction=True)
def test_a_writer_does_not_wait_for_another_and_the_sealer_takes_commit_order():
    """A change whose transaction is still open holds nothing another writer needs; the sealer
    chains only what has committed, so the later writer's event comes first."""
    early, late = UserFactory.create(username="early"), UserFactory.create(username="late")
    recorded, release = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def slow_change():
        try:
            with transaction.atomic():
                audit.record(actor=early, verb="test.slow")
                recorded.set()
                assert release.wait(30)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    slow = threading.Thread(target=slow_change)
    slow.start()
    assert recorded.wait(30)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET lock_timeout = '2s'")  # waiting on the slow one would fail here
        with transaction.atomic():
            quick = audit.record(actor=late, verb="test.quick")
        assert audit.seal() == 1  # the open transaction's event is not there to seal
        if connection.vendor == "postgresql":
            cursor.execute("SET lock_timeout = 0")
    release.set()
    slow.join(timeout=30)
    assert errors == []
    assert audit.seal() == 1
    chained = list(AuditEvent.objects.order_by("sequence").values_list("actor_label", "pk"))
    assert [label for label, _pk in chained] == ["late", "early"]
    assert chained[1][1] < quick.pk  # written first, committed last, chained last
    assert audit.verify_chain().ok


def test_unsealed_events_are_counted_not_verified(chain):
    audit.record(actor=None, verb="test.waiting")
    result = audit.verify_chain()
    assert (result.ok, result.checked, result.unsealed) == (True, 5, 1)
    call_command("verify_audit")  # the command seals first
    assert (audit.verify_chain().checked, audit.verify_chain().unsealed) == (6, 0)


def test_sealing_twice_changes_nothing(chain):
    before = list(AuditEvent.objects.values_list("sequence", "prev_hash", "hash"))
    assert audit.seal() == 0
    assert list(AuditEvent.objects.values_list("sequence", "prev_hash", "hash")) == before


def test_unsealing_an_event_is_detected(chain):
    _tamper(
        "UPDATE audit_auditevent SET sequence = NULL, hash = NULL, prev_hash = '' "
        "WHERE sequence = %s",
        [3],
    )
    assert "event #3 is missing" in _verify_fails_at(3)


def test_inserting_a_forged_event_into_the_chain_is_detected(chain):
    """A forger who makes room in the middle of the chain and inserts a well-formed event,
    hash and link included, still breaks the link of the event after it."""
    for sequence in (5, 4, 3):
        _tamper(
            "UPDATE audit_auditevent SET sequence = sequence + 1 WHERE sequence = %s", [sequence]
        )
    forged = AuditEvent(
        sequence=3,
        occurred_at=chain[2].occurred_at,
        actor=None,
        verb="system.reinstated",
        target_label="forged",
        details={},
        prev_hash=chain[1].hash,
    )
    forged.hash = audit.compute_hash(forged)
    _tamper(  # written as a forger would: the trigger refuses an event that arrives sealed
        "INSERT INTO audit_auditevent (sequence, occurred_at, actor_label, office, verb, "
        "target_type, target_id, target_label, details, prev_hash, hash) "
        "VALUES (%s, %s, '', '', %s, '', '', %s, '{}', %s, %s)",
        [3, forged.occurred_at, forged.verb, forged.target_label, forged.prev_hash, forged.hash],
    )
    assert "does not link" in _verify_fails_at(4)


@pytest.mark.postgres_only
def test_postgres_lets_an_event_be_sealed_once_and_nothing_else(db):
    event = audit.record(actor=None, verb="test.once")
    changes = [
        # sealing while changing what happened
        "UPDATE audit_auditevent SET sequence = 1, prev_hash = 'a', hash = 'b', verb = 'x' "
        "WHERE id = %s",
        # a hash with no place, or a place with no hash
        "UPDATE audit_auditevent SET hash = 'b' WHERE id = %s",
        "UPDATE audit_auditevent SET sequence = 1 WHERE id = %s",
    ]
    for sql in changes:
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(sql, [event.pk])
    assert audit.seal() == 1
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(
            "UPDATE audit_auditevent SET sequence = 7, prev_hash = 'a', hash = 'c' WHERE id = %s",
            [event.pk],
        )
    assert AuditEvent.objects.get(pk=event.pk).sequence == 1
    assert audit.verify_chain().ok


def test_awkward_details_survive_the_database_and_keep_the_chain(db):
    """Values a JSON column changes on the way back (big floats, NaN, NUL) are stored stably."""
    event = audit.record(
        actor=None,
        verb="test.awkward",
        target_label="nul\x00here",
        details={
            "big": 1e16,
            "nan": float("nan"),
            "huge": 2**64,
            "text": "a\x00b",
            "when": timezone.now(),
            "tags": {"b", "a"},
            "nested": {"z": [1.5, None, True]},
        },
    )
    stored = AuditEvent.objects.get(pk=event.pk)
    assert stored.details["big"] == "1e+16"
    assert stored.details["nan"] == "nan"
    assert stored.details["huge"] == str(2**64)
    assert stored.details["text"] == "a\ufffdb"
    assert stored.details["tags"] == ["a", "b"]
    assert stored.target_label == "nul\ufffdhere"
    assert audit.seal() == 1  # hashed as read back from the database
    assert audit.verify_chain().checked == 1


def test_beat_runs_the_sealer_every_five_seconds(db):
    import importlib

    from django.apps import apps
    from django_celery_beat.models import PeriodicTask

    from audit import tasks

    # What the migrations write (run again here: a transactional test before this one may have
    # flushed the rows they made; both steps are idempotent).
    importlib.import_module("audit.migrations.0006_sealed_chain").schedule(apps, None)
    importlib.import_module("audit.migrations.0007_sealed_whole").expire(apps, None)
    schedule = PeriodicTask.objects.get(name="Seal the audit trail")
    assert schedule.expire_seconds == 5  # a late run is dropped, not queued
    assert schedule.task == "audit.tasks.seal_audit_trail" and schedule.enabled
    assert (schedule.interval.every, schedule.interval.period) == (5, "seconds")
    audit.record(actor=None, verb="test.beat")
    assert tasks.seal_audit_trail.apply().get() == 1
    assert audit.verify_chain().checked == 1


@pytest.mark.postgres_only
def test_postgres_refuses_an_event_that_arrives_sealed_or_half_sealed(db):
    sealed = (
        "INSERT INTO audit_auditevent (sequence, occurred_at, actor_label, office, verb, "
        "target_type, target_id, target_label, details, prev_hash, hash) "
        "VALUES (%s, now(), '', '', 'forged', '', '', '', '{}', %s, %s)"
    )
    with (
        pytest.raises(DatabaseError, match="sealed by the sealer"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sealed, [1, GENESIS_HASH, "a" * 64])
    # With the trigger off, the table's own check still refuses a row sealed by halves.
    with pytest.raises(DatabaseError, match="audit_event_sealed_whole"), transaction.atomic():
        _tamper(sealed, [None, "", "b" * 64])
    assert not AuditEvent.objects.exists()


def test_a_sealer_that_fails_is_recorded_as_a_broken_trail(chain, monkeypatch):
    from audit import tasks

    def cannot_seal(**kwargs: Any) -> int:
        raise DatabaseError("duplicate key value violates unique constraint")

    monkeypatch.setattr(audit, "seal", cannot_seal)
    assert tasks.verify_audit_chain() == {"ok": False, "checked": 0, "broken_at": 6}
    broken = AuditEvent.objects.get(verb="audit.broken")
    assert broken.details["problem"].startswith("sealing failed: duplicate key")
