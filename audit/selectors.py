"""Reads of the audit trail, scoped to the reader."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from audit import policy
from audit.models import AuditEvent


def events_for(user: Any) -> QuerySet[AuditEvent]:
    return policy.visible_events(user).select_related("actor")
