"""Periodic verification of the audit chain (beat, daily); the result is itself an audit event."""

from __future__ import annotations

from celery import shared_task

from audit import services


@shared_task
def verify_audit_chain() -> dict[str, object]:
    """Walk the chain and record what was found, so a break is noticed within a day."""
    result = services.verify_chain()
    services.record(
        actor=None,
        verb="audit.verified" if result.ok else "audit.broken",
        details={
            "checked": result.checked,
            "broken_at": result.broken_at,
            "problem": result.problem,
        },
        target_label="audit chain",
    )
    return {"ok": result.ok, "checked": result.checked, "broken_at": result.broken_at}
