"""The only writer of the audit trail, the sealer that chains it, and the walk that verifies it."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.db import connection, models, transaction
from django.utils import timezone

from audit.models import GENESIS_HASH, AuditEvent, ChainHead, ReferenceCounter
from config.sql import insert_instance

logger = logging.getLogger(__name__)


def _clean_text(text: str) -> str:
    # PostgreSQL text and jsonb cannot hold NUL; keep the event rather than lose the change.
    return text.replace("\x00", "\ufffd")


def _stable(value: Any) -> Any:  # noqa: PLR0911 - one return per JSON type reads best
    """A value that survives SQLite JSON and PostgreSQL jsonb unchanged, so its hash does too:
    floats become their repr (jsonb rewrites 1e16 as an integer; NaN is not JSON at all)."""
    if isinstance(value, Mapping):
        return {_clean_text(str(k)): _stable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = sorted(value, key=repr) if isinstance(value, set | frozenset) else value
        return [_stable(v) for v in items]
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return value if abs(value) < 2**53 else str(value)  # beyond exact JSON numbers
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, str):
        return _clean_text(value)
    return _clean_text(str(value))


def _jsonable(details: Mapping[str, Any] | None) -> dict[str, Any]:
    stable: dict[str, Any] = _stable(dict(details or {}))
    return stable


def canonical(event: AuditEvent) -> bytes:
    """The bytes an event's hash covers: every field but the hash itself, in a fixed form."""
    payload = {
        "sequence": event.sequence,
        "occurred_at": event.occurred_at.astimezone(UTC).isoformat(timespec="microseconds"),
        "actor_id": event.actor_id,
        "actor_label": event.actor_label,
        "office": event.office,
        "verb": event.verb,
        "target_type": event.target_type,
        "target_id": event.target_id,
        "target_label": event.target_label,
        "details": event.details,
        "prev_hash": event.prev_hash,
    }
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def compute_hash(event: AuditEvent) -> str:
    return hashlib.sha256(event.prev_hash.encode() + canonical(event)).hexdigest()


def _locked_head() -> ChainHead:
    head = ChainHead.objects.select_for_update().filter(pk=1).first()
    if head is None:
        # The migration creates the head; this covers a flushed database (tests, restores).
        ChainHead.objects.get_or_create(pk=1)
        head = ChainHead.objects.select_for_update().get(pk=1)
    return head


def record(
    *,
    actor: Any | None,
    verb: str,
    target: models.Model | None = None,
    office: str | None = "",
    details: Mapping[str, Any] | None = None,
    target_label: str | None = None,
) -> AuditEvent:
    """Append one event, unsealed. Inside a caller's transaction it commits (or rolls back)
    with the change it describes. It takes no lock, so writers never wait for each other:
    `seal()` chains it seconds after it commits. An event that fails to append fails the change
    it describes."""
    if actor is not None and not getattr(actor, "is_authenticated", False):
        actor = None  # an anonymous request is recorded as no actor
    event = AuditEvent(
        occurred_at=timezone.now(),
        actor=actor,
        actor_label=actor.get_username() if actor is not None else "",
        office=office or "",
        verb=verb,
        target_type=target._meta.label_lower if target is not None else "",
        target_id=str(target.pk) if target is not None else "",
        target_label=_clean_text(target_label if target_label is not None else str(target or ""))[
            :300
        ],
        details=_jsonable(details),
    )
    return insert_instance(event)  # as save(force_insert=True), its statement made once


SEAL_BATCH = 2000

_SEAL = (
    "UPDATE audit_auditevent SET sequence = %s, prev_hash = %s, hash = %s "
    "WHERE id = %s AND sequence IS NULL"
)


def seal(*, batch: int = SEAL_BATCH) -> int:
    """Chain every committed event not chained yet, in the order they were written, and move
    the head past them; how many were sealed. Each batch is one short transaction under the
    head's lock (only sealers take it), so two sealers never fork the chain, and an event whose
    transaction commits meanwhile is sealed by the next run."""
    sealed = 0
    while True:
        with transaction.atomic():
            head = _locked_head()
            pending = list(AuditEvent.objects.filter(sequence__isnull=True).order_by("id")[:batch])
            if not pending:
                return sealed
            links = []
            for event in pending:
                event.sequence, event.prev_hash = head.sequence + 1, head.hash
                event.hash = compute_hash(event)
                head.sequence, head.hash = event.sequence, event.hash
                links.append((event.sequence, event.prev_hash, event.hash, event.pk))
            with connection.cursor() as cursor:
                cursor.executemany(_SEAL, links)
            head.save(update_fields=["sequence", "hash", "updated_at"])
        sealed += len(pending)
        logger.info("audit trail sealed to #%s %s", head.sequence, head.hash)
        if len(pending) < batch:
            return sealed


@dataclass(frozen=True)
class Verification:
    """What a walk of the chain found: how many links it checked, the first broken one, and
    how many events wait to be sealed (written since the sealer last ran)."""

    checked: int
    broken_at: int | None = None
    problem: str = ""
    unsealed: int = 0
    oldest_unsealed: datetime | None = None

    @property
    def ok(self) -> bool:
        return self.broken_at is None


def verify_chain(*, chunk_size: int = 2000) -> Verification:
    """Walk every sealed event in chain order; name the first link that does not hold. The walk,
    the head and the count of unsealed events are read in one snapshot, so a sealer committing
    meanwhile (beat runs one every 5 seconds) cannot look like a missing tail."""
    with transaction.atomic():
        if connection.vendor == "postgresql" and not _inside_a_transaction_already():
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        return _walk(chunk_size)


def _inside_a_transaction_already() -> bool:
    # transaction.atomic() just opened the outermost block unless it nests in another one; a
    # transaction's isolation can be set only before its first statement.
    return len(connection.atomic_blocks) > 1


def _walk(chunk_size: int) -> Verification:
    waiting = AuditEvent.objects.filter(sequence__isnull=True).aggregate(
        n=models.Count("pk"), oldest=models.Min("occurred_at")
    )
    unsealed, oldest = waiting["n"], waiting["oldest"]
    expected_sequence = 1
    prev_hash = GENESIS_HASH
    checked = 0
    sealed = AuditEvent.objects.filter(sequence__isnull=False).order_by("sequence")
    for event in sealed.iterator(chunk_size=chunk_size):
        if event.sequence != expected_sequence:
            return Verification(
                checked,
                expected_sequence,
                f"event #{expected_sequence} is missing (found #{event.sequence} next)",
                unsealed,
                oldest,
            )
        if event.prev_hash != prev_hash:
            return Verification(
                checked,
                event.sequence,
                f"event #{event.sequence} does not link to its predecessor",
                unsealed,
                oldest,
            )
        if compute_hash(event) != event.hash:
            return Verification(
                checked,
                event.sequence,
                f"event #{event.sequence} was altered after it was written",
                unsealed,
                oldest,
            )
        prev_hash = event.hash
        expected_sequence += 1
        checked += 1
    head = ChainHead.objects.filter(pk=1).first()
    head_sequence, head_hash = (head.sequence, head.hash) if head else (0, GENESIS_HASH)
    if (head_sequence, head_hash) != (checked, prev_hash):
        if head_sequence > checked:
            return Verification(
                checked,
                checked + 1,
                f"events #{checked + 1} to #{head_sequence} are missing from the end of the chain",
                unsealed,
                oldest,
            )
        return Verification(
            checked, checked, "the chain head does not match the last event", unsealed, oldest
        )
    return Verification(checked, unsealed=unsealed, oldest_unsealed=oldest)


def next_reference(prefix: str, *, year: int | None = None) -> str:
    """The next reference for a prefix, e.g. INC-2026-0001. Call it inside the transaction that
    creates the record; the counter row stays locked until that commits."""
    year = year or timezone.localdate().year
    with transaction.atomic():
        counter, _ = ReferenceCounter.objects.select_for_update().get_or_create(
            prefix=prefix, year=year
        )
        counter.last += 1
        counter.save(update_fields=["last"])
    return f"{prefix}-{year}-{counter.last:04d}"


def reserve_block(prefix: str, count: int, *, year: int | None = None) -> int:
    """Move the counter past `count` consecutive numbers in one locked update, and return the
    first: for writes that number their rows themselves (SQL fan-out, generated data)."""
    year = year or timezone.localdate().year
    with transaction.atomic():
        counter, _ = ReferenceCounter.objects.select_for_update().get_or_create(
            prefix=prefix, year=year
        )
        first = counter.last + 1
        counter.last += count
        counter.save(update_fields=["last"])
    return first


def reserve_references(prefix: str, count: int, *, year: int | None = None) -> list[str]:
    """A block of `count` consecutive references in one locked update (for set-based fan-out)."""
    if count < 1:
        return []
    year = year or timezone.localdate().year
    first = reserve_block(prefix, count, year=year)
    return [f"{prefix}-{year}-{n:04d}" for n in range(first, first + count)]
