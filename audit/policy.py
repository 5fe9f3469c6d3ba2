"""Who may read the audit trail."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from accounts import policy as accounts_policy
from audit.models import AuditEvent


def visible_events(user: Any) -> QuerySet[AuditEvent]:
    """The whole trail for those who may read it (auditors, chair, CISO, CQO); nothing otherwise."""
    if accounts_policy.can_read_audit_trail(user):
        return AuditEvent.objects.all()
    return AuditEvent.objects.none()
