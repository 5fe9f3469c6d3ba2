"""What a refused request must leave as it was: its records, the row counts, and the audit trail
(but for the record of the refusal itself)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from django.db.models import Model

from audit.models import AuditEvent

# A 403 on a page or the API leaves a trace of who tried what (accounts.services.record_refusal):
# the one audit event a refused act may write.
REFUSAL_VERBS = frozenset({"authz.refused"})

Watched = Model | type[Model] | Callable[[], Any]


def _state(watched: Watched) -> Any:
    """A record: its whole row as the database holds it (gone: None); a model: its row count;
    a callable: what it returns."""
    if isinstance(watched, Model):
        return type(watched)._default_manager.filter(pk=watched.pk).values().first()
    if isinstance(watched, type) and issubclass(watched, Model):
        return watched._default_manager.count()
    return watched()


def audit_mark() -> int:
    """The last event of the trail now; `audited_since` lists what came after it."""
    last = AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first()
    return last or 0


def audited_since(mark: int, *, besides: frozenset[str] = REFUSAL_VERBS) -> list[str]:
    """The verbs of the events recorded after `mark`, but refusals."""
    return list(
        AuditEvent.objects.filter(pk__gt=mark)
        .exclude(verb__in=besides)
        .order_by("pk")
        .values_list("verb", flat=True)
    )


@contextmanager
def unchanged(*watched: Watched) -> Iterator[None]:
    """The block changes none of `watched` (records, models' row counts, or snapshots taken by
    a callable) and records nothing in the audit trail but a refusal: a refused write leaves
    no trace of having been done."""
    before = [_state(w) for w in watched]
    mark = audit_mark()
    yield
    after = [_state(w) for w in watched]
    for what, was, now in zip(watched, before, after, strict=True):
        assert now == was, f"refused, yet {what!r} changed:\nbefore {was!r}\nafter  {now!r}"
    done = audited_since(mark)
    assert not done, f"refused, yet the audit trail records it as done: {done}"
