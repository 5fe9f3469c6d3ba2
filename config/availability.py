"""Database unavailable (restart, failover): a 503 with Retry-After instead of a 500, logged once."""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import Callable
from contextlib import suppress
from typing import Any

from django.core.signals import got_request_exception
from django.db import Error, InterfaceError, OperationalError, connections
from django.http import HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 5
# During an outage every request fails the same way: one report (with the cause's traceback),
# then one every LOG_EVERY seconds with how many were refused since, not one per request.
LOG_EVERY = 30.0
_MARK = "_rcc_database_unavailable"
# SQLSTATEs of a database that is away: class 08 (the connection failed or was lost) and the
# server shutting down or starting up (57P01 admin_shutdown, 57P02 crash_shutdown,
# 57P03 cannot_connect_now).
_AWAY_STATES = ("08", "57P01", "57P02", "57P03")


def is_outage(exc: BaseException) -> bool:
    """The database being away (refused, reset, restarting), as opposed to a query's own failure
    (a deadlock, a statement timeout, a missing table), which stays a 500, logged as one."""
    if isinstance(exc, InterfaceError):
        return True
    if not isinstance(exc, OperationalError):
        return False
    cause = exc.__cause__
    state = getattr(cause, "sqlstate", None) or getattr(cause, "pgcode", None)
    if state:
        return str(state).startswith(_AWAY_STATES)
    if cause is not None and type(cause).__module__ == "sqlite3":
        return "database is locked" in str(cause)  # another process holds it: a moment's wait
    return True  # no SQLSTATE: the connection itself failed (refused, reset, timed out)


class _OutageLog:
    """Report the first refusal of an outage, then at most one line every LOG_EVERY seconds."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last = float("-inf")
        self._suppressed = 0

    def refused(self, request: HttpRequest, exc: BaseException) -> None:
        with self._lock:
            now = time.monotonic()
            if now - self._last < LOG_EVERY:
                self._suppressed += 1
                return
            self._last, suppressed, self._suppressed = now, self._suppressed, 0
        logger.warning(
            "database unavailable, answering 503 with Retry-After: %s %s "
            "(%s more refused since the previous report)",
            request.method,
            request.path,
            suppressed,
            exc_info=exc,
        )


_outage = _OutageLog()


def _discard_broken_connections() -> None:
    """Close connections the error left unusable, so the next request opens a fresh one rather
    than failing on a dead socket (CONN_MAX_AGE keeps connections across requests)."""
    for conn in connections.all(initialized_only=True):
        if conn.in_atomic_block:
            continue  # whoever opened the transaction rolls it back and closes it
        with suppress(Error):
            conn.close_if_unusable_or_obsolete()


def unavailable_response(request: HttpRequest) -> HttpResponse:
    """The 503 itself: JSON for the API, a short plain page for people; never cached."""
    response: HttpResponse
    if request.path.startswith("/api/"):
        response = JsonResponse(
            {
                "detail": _("The database is unavailable for a moment; try again shortly."),
                "code": "database_unavailable",
            },
            status=503,
        )
    else:
        response = HttpResponse(
            _("The service is briefly unavailable. Please try again in a few seconds.") + "\n",
            content_type="text/plain; charset=utf-8",
            status=503,
        )
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    add_never_cache_headers(response)
    # We logged it (once per outage); Django's request logger would add a line per request.
    response._has_been_logged = True  # type: ignore[attr-defined]
    return response


def _mark_unavailable(sender: Any, request: HttpRequest | None = None, **kwargs: Any) -> None:
    """got_request_exception: note on the request that a middleware failed for want of the
    database, so the outer middleware can turn Django's 500 into a 503."""
    exc = sys.exc_info()[1]
    if request is not None and exc is not None and is_outage(exc):
        setattr(request, _MARK, exc)


class _DropMarkedErrors(logging.Filter):
    """Drop django.request's "Internal Server Error" (with traceback) for a request whose 500
    this middleware replaces with a 503: the outage is logged once, by us."""

    def filter(self, record: logging.LogRecord) -> bool:
        request = getattr(record, "request", None)
        return not (getattr(record, "status_code", None) == 500 and hasattr(request, _MARK))


_drop_marked_errors = _DropMarkedErrors()


class DatabaseAvailabilityMiddleware:
    """Turn "the database is unavailable" into a 503 with Retry-After, and drop the dead connection.

    A view's error (DRF re-raises what it does not handle) reaches process_exception. A
    middleware's error (loading the session, the signed-in user) is already a 500 response by
    the time it gets here (Django converts each middleware's exceptions), so it is recognised by
    the mark got_request_exception left on the request. Placed after the security middleware, so
    the 503 still carries their headers, and before everything that reads the database."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response
        got_request_exception.connect(_mark_unavailable, dispatch_uid=__name__)
        request_logger = logging.getLogger("django.request")
        if _drop_marked_errors not in request_logger.filters:
            request_logger.addFilter(_drop_marked_errors)

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        exc = getattr(request, _MARK, None)
        if exc is not None and response.status_code == 500:
            return self._unavailable(request, exc)
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not is_outage(exception):
            return None
        return self._unavailable(request, exception)

    def _unavailable(self, request: HttpRequest, exc: BaseException) -> HttpResponse:
        _outage.refused(request, exc)
        _discard_broken_connections()
        return unavailable_response(request)
