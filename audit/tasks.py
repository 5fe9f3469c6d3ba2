"""The audit trail's periodic work: sealing new events into the chain (every few seconds) and
verifying the whole chain (daily; the result is itself an audit event)."""

from __future__ import annotations

import logging

from celery import shared_task
from django.db import DatabaseError

from audit import services
from audit.models import ChainHead

logger = logging.getLogger(__name__)


@shared_task
def seal_audit_trail() -> int:
    """Chain the events written since the last run (beat, every 5 seconds)."""
    return services.seal()


@shared_task
def verify_audit_chain() -> dict[str, object]:
    """Seal what is waiting, walk the chain and record what was found, so a break is noticed
    within a day."""
    try:
        services.seal()
    except DatabaseError as exc:
        # An event the sealer cannot chain stops sealing for every event after it: that is a
        # broken trail, said as such, not a task failing quietly every 5 seconds.
        logger.error("audit trail: sealing failed: %s", exc)
        head = ChainHead.objects.filter(pk=1).first()
        place = (head.sequence if head else 0) + 1  # the place no event could take
        services.record(
            actor=None,
            verb="audit.broken",
            details={"checked": 0, "broken_at": place, "problem": f"sealing failed: {exc}"},
            target_label="audit chain",
        )
        return {"ok": False, "checked": 0, "broken_at": place}
    result = services.verify_chain()
    head = ChainHead.objects.filter(pk=1).first()
    # The head hash goes to the logs too: a copy outside the database that a DBA rewriting
    # every hash could not change after the fact.
    logger.info(
        "audit chain %s: %s events, head #%s %s; %s waiting to be sealed, the oldest from %s",
        "intact" if result.ok else f"BROKEN at #{result.broken_at} ({result.problem})",
        result.checked,
        head.sequence if head else 0,
        head.hash if head else "-",
        result.unsealed,
        result.oldest_unsealed or "-",
    )
    services.record(
        actor=None,
        verb="audit.verified" if result.ok else "audit.broken",
        details={
            "checked": result.checked,
            "broken_at": result.broken_at,
            "problem": result.problem,
            "unsealed": result.unsealed,
        },
        target_label="audit chain",
    )
    return {"ok": result.ok, "checked": result.checked, "broken_at": result.broken_at}
