"""The database-unavailable middleware: a 503 with Retry-After, JSON for the API, logged once."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any, cast

import pytest
from django.conf import settings
from django.core.handlers.exception import convert_exception_to_response
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse
from django.test import Client, RequestFactory
from django.urls import path
from rest_framework.authentication import BaseAuthentication
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config import availability
from config.availability import DatabaseAvailabilityMiddleware

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


class FakeConnection:
    def __init__(self, *, in_atomic_block: bool) -> None:
        self.in_atomic_block = in_atomic_block
        self.checked = False

    def close_if_unusable_or_obsolete(self) -> None:
        self.checked = True


class FakeConnections:
    def __init__(self, *conns: FakeConnection) -> None:
        self.conns = conns

    def all(self, initialized_only: bool = False) -> tuple[FakeConnection, ...]:
        return self.conns


def test_the_broken_connection_is_discarded_so_the_next_request_reconnects(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    idle, in_transaction = (
        FakeConnection(in_atomic_block=False),
        FakeConnection(in_atomic_block=True),
    )
    fakes: Any = FakeConnections(idle, in_transaction)
    monkeypatch.setattr(availability, "connections", fakes)
    middleware = DatabaseAvailabilityMiddleware(lambda request: HttpResponse())
    response = middleware.process_exception(
        RequestFactory().get("/api/v1/incidents/"), OperationalError(OUTAGE)
    )
    assert response is not None and response.status_code == 503
    # Django closes it if it is unusable; one inside a transaction is its owner's to close.
    assert idle.checked and not in_transaction.checked


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
