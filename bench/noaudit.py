"""P15's bare copy: the product's WSGI application with the audit trail switched off (every
`audit.record` returns an event it never writes), for `gunicorn bench.noaudit:application`."""

from __future__ import annotations

from typing import Any

from config.wsgi import application

__all__ = ["application"]


def _switch_off_the_audit_trail() -> None:
    # Imported after the application, which sets Django up.
    from audit import services
    from audit.models import AuditEvent

    def not_recorded(**kwargs: Any) -> AuditEvent:
        return AuditEvent(verb=kwargs["verb"])

    services.record = not_recorded  # the bare copy's whole point


_switch_off_the_audit_trail()
