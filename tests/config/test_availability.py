"""The database-unavailable middleware: a 503 with Retry-After, JSON for the API, logged once."""

from __future__ import annotations

import json
import logging
import socket
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, cast

import pytest
from django.conf import settings
from django.core.handlers.exception import convert_exception_to_response
from django.db import DatabaseError, InterfaceError, OperationalError, connection, transaction
from django.http import HttpRequest, HttpResponse
from django.test import Client, RequestFactory
from django.urls import include, path
from rest_framework.authentication import BaseAuthentication
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from committee.models import CalendarFeed
from config import availability
from config.availability import DatabaseAvailabilityMiddleware
from tests.conftest import sign_in

# The middleware closes connections an outage left unusable: it may look at the test's own
# connection (left open by an earlier test), which needs database access to be allowed.
pytestmark = pytest.mark.django_db

OUTAGE = (
    "connection failed: connection to server at 127.0.0.1, port 5432 failed: Connection refused"
)


class DatabaseDown(BaseAuthentication):
    """What knox meets when PostgreSQL is down: the token lookup cannot connect."""

    def authenticate(self, request: Request) -> None:
        raise OperationalError(OUTAGE)


class IncidentsWhileDown(APIView):
    authentication_classes = [DatabaseDown]
    permission_classes = []

    def get(self, request: Request) -> Response:
        return Response([])


def page_while_down(request: HttpRequest) -> HttpResponse:
    raise InterfaceError("connection already closed")


def page_with_a_bug(request: HttpRequest) -> HttpResponse:
    raise ValueError("not the database")


urlpatterns = [
    path("api/v1/incidents/", IncidentsWhileDown.as_view()),
    path("dashboard/", page_while_down),
    path("bug/", page_with_a_bug),
    # The product's own routes too: its error pages link to them.
    path("", include("config.urls")),
]


@pytest.fixture(autouse=True)
def fresh_outage_log(monkeypatch: pytest.MonkeyPatch) -> None:
    """The "logged once" window is per process; each test starts a new outage."""
    monkeypatch.setattr(availability, "_outage", availability._OutageLog())


@pytest.mark.urls(__name__)
def test_an_api_call_while_the_database_is_down_is_a_503_in_json_with_retry_after() -> None:
    response = Client().get("/api/v1/incidents/", HTTP_AUTHORIZATION="Token abc")
    assert response.status_code == 503
    assert response["Content-Type"] == "application/json"
    assert json.loads(response.content)["code"] == "database_unavailable"
    assert response["Retry-After"] == str(availability.RETRY_AFTER_SECONDS)
    assert "no-store" in response["Cache-Control"]
    # Answered inside the security middleware, so the 503 keeps the product's headers.
    assert "Content-Security-Policy" in response


@pytest.mark.urls(__name__)
def test_a_page_while_the_database_is_down_is_a_short_plain_503() -> None:
    response = Client().get("/dashboard/")
    assert response.status_code == 503
    assert response["Content-Type"].startswith("text/plain")
    assert response["Retry-After"] == str(availability.RETRY_AFTER_SECONDS)
    assert len(response.content) < 200 and b"Traceback" not in response.content


@pytest.mark.server_error_expected
@pytest.mark.urls(__name__)
def test_other_errors_are_left_alone() -> None:
    with pytest.raises(ValueError, match="not the database"):
        Client().get("/bug/")


def _behind_a_failing_middleware(error: Exception) -> DatabaseAvailabilityMiddleware:
    """The chain as Django builds it: the inner middleware's exception becomes a 500 response
    before this middleware sees anything (as when loading the session fails)."""

    def session_middleware(request: HttpRequest) -> HttpResponse:
        raise error

    handler = cast(
        Callable[[HttpRequest], HttpResponse], convert_exception_to_response(session_middleware)
    )
    return DatabaseAvailabilityMiddleware(handler)


def test_a_middleware_that_loses_the_database_gets_a_503_not_a_500(
    caplog: pytest.LogCaptureFixture,
) -> None:
    middleware = _behind_a_failing_middleware(OperationalError(OUTAGE))
    with caplog.at_level(logging.INFO):
        response = middleware(RequestFactory().get("/api/v1/me/"))
    assert isinstance(response, HttpResponse) and response.status_code == 503
    assert json.loads(response.content)["code"] == "database_unavailable"
    # Django's "Internal Server Error" and its traceback are dropped: the outage is ours to log.
    assert [r.name for r in caplog.records] == ["config.availability"]


@pytest.mark.server_error_expected
def test_a_middleware_with_another_error_still_gets_django_s_500() -> None:
    middleware = _behind_a_failing_middleware(RuntimeError("a bug"))
    assert middleware(RequestFactory().get("/api/v1/me/")).status_code == 500


@pytest.mark.urls(__name__)
def test_an_outage_is_logged_once_not_per_request(caplog: pytest.LogCaptureFixture) -> None:
    client = Client()
    with caplog.at_level(logging.INFO):
        for _ in range(5):
            assert client.get("/api/v1/incidents/").status_code == 503
    records = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert [r.name for r in records] == ["config.availability"]
    assert records[0].exc_info is not None  # the cause, with its traceback, once


# --- The real database away ---------------------------------------------------------------


def _closed_port() -> int:
    """A local port nothing listens on: connecting to it is refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def database_away() -> Iterator[None]:
    """The real database unreachable for the block, as in a restart or a failover.

    PostgreSQL: the connection points at a port that refuses (the server is down), so every
    query of the request fails to connect. SQLite: another process holds the write lock (the
    one way a local file is away) and this connection waits a moment, not its usual 30 s, so a
    write fails with "database is locked"."""
    if connection.vendor == "postgresql":
        port = connection.settings_dict["PORT"]
        connection.close()
        connection.settings_dict["PORT"] = _closed_port()
        try:
            yield
        finally:
            connection.close()
            connection.settings_dict["PORT"] = port
        return
    options = connection.settings_dict["OPTIONS"]
    timeout = options["timeout"]
    holder = sqlite3.connect(connection.settings_dict["NAME"], isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")
        connection.close()  # reopened, by the request, with the short wait
        options["timeout"] = 0.05
        try:
            yield
        finally:
            holder.execute("ROLLBACK")
            connection.close()
            options["timeout"] = timeout
    finally:
        holder.close()


@pytest.fixture
def signed_in(bu_member: Any) -> Client:
    """A person signed in before the outage (their session is in the database). The client
    answers as the server would, rather than re-raising what the request met on the way."""
    return sign_in(Client(raise_request_exception=False), bu_member)


@pytest.mark.django_db(transaction=True)
def test_an_api_write_while_the_real_database_is_away_is_a_503_then_served(signed_in) -> None:
    with database_away():
        response = signed_in.post("/api/v1/calendar-feeds/", {}, content_type="application/json")
    assert response.status_code == 503, response.content[:300]
    assert response["Content-Type"] == "application/json"
    assert json.loads(response.content)["code"] == "database_unavailable"
    assert response["Retry-After"] == str(availability.RETRY_AFTER_SECONDS)
    assert "no-store" in response["Cache-Control"]
    assert "Content-Security-Policy" in response
    assert not CalendarFeed.objects.exists()
    # The database is back: the same request is served, on a fresh connection.
    again = signed_in.post("/api/v1/calendar-feeds/", {}, content_type="application/json")
    assert again.status_code == 201, again.content[:300]
    assert CalendarFeed.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_page_while_the_real_database_is_away_is_a_short_plain_503(signed_in) -> None:
    with database_away():
        response = signed_in.post("/meetings/calendar/")
    assert response.status_code == 503
    assert response["Content-Type"].startswith("text/plain")
    assert response["Retry-After"] == str(availability.RETRY_AFTER_SECONDS)
    assert len(response.content) < 200 and b"Traceback" not in response.content
    assert signed_in.post("/meetings/calendar/").status_code in {200, 302}


@pytest.mark.django_db(transaction=True)
def test_a_real_outage_is_logged_once_not_per_request(
    signed_in, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO), database_away():
        for _ in range(5):
            response = signed_in.post(
                "/api/v1/calendar-feeds/", {}, content_type="application/json"
            )
            assert response.status_code == 503
    records = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert [r.name for r in records] == ["config.availability"]
    assert records[0].exc_info is not None  # the cause, with its traceback, once


def _terminate_my_backend() -> None:
    """What a server restart does to a connection: PostgreSQL ends it (57P01)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(pg_backend_pid())")


def page_whose_connection_the_server_ends(request: HttpRequest) -> HttpResponse:
    _terminate_my_backend()
    return HttpResponse("unreachable")


def page_whose_query_times_out(request: HttpRequest) -> HttpResponse:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL statement_timeout = '10ms'")
        cursor.execute("SELECT pg_sleep(1)")
    return HttpResponse("unreachable")


def page_that_reads(request: HttpRequest) -> HttpResponse:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return HttpResponse("read")


urlpatterns += [
    path("restart/", page_whose_connection_the_server_ends),
    path("slow/", page_whose_query_times_out),
    path("read/", page_that_reads),
]


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
@pytest.mark.urls(__name__)
def test_a_connection_the_server_ended_is_dropped_so_the_next_request_reconnects() -> None:
    client = Client()
    assert client.get("/read/").status_code == 200  # a connection, kept across requests
    response = client.get("/restart/")
    assert response.status_code == 503
    assert response["Retry-After"] == str(availability.RETRY_AFTER_SECONDS)
    # The test client skips Django's own end-of-request clean-up: the middleware dropped it.
    assert connection.connection is None
    assert client.get("/read/").status_code == 200


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
@pytest.mark.urls(__name__)
def test_a_connection_inside_its_owner_s_transaction_is_left_to_the_owner() -> None:
    client = Client()
    with pytest.raises(DatabaseError), transaction.atomic():  # the owner's commit fails
        assert client.get("/restart/").status_code == 503
        # Still the owner's: the middleware did not close it under the open transaction.
        assert connection.connection is not None
        assert not connection.closed_in_transaction
    assert Client().get("/read/").status_code == 200  # and the owner's clean-up reconnects


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
@pytest.mark.server_error_expected
@pytest.mark.urls(__name__)
def test_a_query_s_own_failure_on_the_real_server_stays_a_500() -> None:
    """A statement timeout is not an outage: a 503 would hide it behind "try again"."""
    response = Client(raise_request_exception=False).get("/slow/")
    assert response.status_code == 500
    assert Client().get("/read/").status_code == 200


def test_it_sits_inside_the_security_headers_and_before_anything_that_reads_the_database() -> None:
    order = settings.MIDDLEWARE
    position = order.index("config.availability.DatabaseAvailabilityMiddleware")
    assert position > order.index("config.security.SecurityHeadersMiddleware")
    assert position < order.index("django.contrib.sessions.middleware.SessionMiddleware")
    assert position < order.index("django.contrib.auth.middleware.AuthenticationMiddleware")


class _DriverError(Exception):
    """Stands in for the driver's exception that Django wraps (psycopg's carries sqlstate)."""

    def __init__(self, message: str, sqlstate: str | None) -> None:
        super().__init__(message)
        self.sqlstate = sqlstate


def _wrapped(message: str, sqlstate: str | None) -> OperationalError:
    error = OperationalError(message)
    error.__cause__ = _DriverError(message, sqlstate)
    return error


@pytest.mark.parametrize(
    ("message", "sqlstate", "away"),
    [
        ("connection refused", None, True),
        ("server closed the connection unexpectedly", None, True),
        ("terminating connection due to administrator command", "57P01", True),
        ("the database system is starting up", "57P03", True),
        ("could not connect to server", "08006", True),
        ("deadlock detected", "40P01", False),
        ("canceling statement due to statement timeout", "57014", False),
        ("could not obtain lock on row", "55P03", False),
    ],
)
def test_only_a_database_that_is_away_counts_as_an_outage(message, sqlstate, away) -> None:
    """A deadlock or a timeout is the query's own failure: a 500, logged as one, not a 503 that
    would hide a concurrency bug behind "try again"."""
    assert availability.is_outage(_wrapped(message, sqlstate)) is away
    assert availability.is_outage(InterfaceError("connection already closed")) is True
    assert availability.is_outage(ValueError(message)) is False
