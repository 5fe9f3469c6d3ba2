"""/healthz: is the database answering, and is the broker reachable? For load balancers and probes."""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from kombu import Connection

logger = logging.getLogger(__name__)


def _database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:  # any failure means "not healthy"; details go to the log, not the world
        logger.exception("health check: database")
        return "error"
    return "ok"


def _broker() -> str:
    try:
        with Connection(
            settings.CELERY_BROKER_URL,
            transport_options=settings.CELERY_BROKER_TRANSPORT_OPTIONS,
            connect_timeout=2,
        ) as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
    except Exception:
        logger.exception("health check: broker")
        return "error"
    return "ok"


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """503 only when the database is away: without it nothing works. A broker that is away is
    reported ("degraded") but answers 200, because the web keeps working without it (the outbox
    holds what is owed): a load balancer must not take every web node out when Redis blinks."""
    checks = {"database": _database(), "broker": _broker()}
    if checks["database"] != "ok":
        status, code = "unhealthy", 503
    elif checks["broker"] != "ok":
        status, code = "degraded", 200
    else:
        status, code = "ok", 200
    return JsonResponse({"status": status, **checks}, status=code)
