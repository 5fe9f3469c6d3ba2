"""Shared fixtures: named users per role, MFA-verified clients, and real services for the suite."""

from __future__ import annotations

import logging
import os
import socket
import subprocess
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import quote, urlsplit

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.db import connection
from django.test import Client

from accounts import services
from accounts.models import Office, User
from accounts.receivers import MFA_SESSION_KEY
from tests.factories import BusinessUnitFactory, MembershipFactory, OfficeFactory, UserFactory

REQUIRE_SERVICES = os.environ.get("REQUIRE_SERVICES", "").lower() in {"1", "true", "yes", "on"}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests of PostgreSQL-only behaviour (its trigger) are deselected, not skipped, on SQLite."""
    if os.environ.get("DATABASE_URL", "").startswith(("postgres", "pgsql", "psql")):
        return
    kept = [item for item in items if item.get_closest_marker("postgres_only") is None]
    deselected = [item for item in items if item.get_closest_marker("postgres_only") is not None]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = kept


def service_reachable(url: str, default_port: int) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection(
            (parts.hostname or "127.0.0.1", parts.port or default_port), 2
        ):
            return True
    except OSError:
        return False


def require_service(name: str, reachable: bool) -> None:
    """A service the configuration names but that is down: a failure in CI, a skip elsewhere."""
    if reachable:
        return
    message = f"{name} is configured but not reachable"
    if REQUIRE_SERVICES:
        pytest.fail(message)
    pytest.skip(message)


def stop(process: subprocess.Popen[Any], timeout: float = 20) -> None:
    """Stop a process a test started: politely, then for good if it does not go."""
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def database_url_for_subprocess() -> str:
    """A DATABASE_URL naming the *test* database, for a worker the tests start."""
    s = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{s['NAME']}"
    auth = quote(s["USER"] or "")
    if s.get("PASSWORD"):
        auth += ":" + quote(s["PASSWORD"])
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings) -> None:
    """Production hashes passwords slowly on purpose; the suite has hundreds to make."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _outbox_relay_finished() -> Iterator[None]:
    """The outbox publishes from a background thread after commit; it finishes within the test
    that caused it, so no thread touches the database after its test is over."""
    yield
    from outbox.relay import drain

    drain()


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    """allauth keeps used TOTP codes and rate limits in the cache; each test starts clean."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _language_of_the_site() -> Iterator[None]:
    """Each test starts in the site's language. LocaleMiddleware activates a request's language
    and leaves it active on the thread (each real request activates its own): after a test
    client's Japanese request, the next test's services would speak Japanese."""
    from django.conf import settings as site
    from django.utils import translation

    translation.activate(site.LANGUAGE_CODE)
    yield
    translation.activate(site.LANGUAGE_CODE)


# --- No 500 passes unnoticed ------------------------------------------------------------------


class _ServerErrors(logging.Handler):
    """Every 500 Django logs in this process (the test client, a live server's thread), kept
    until the running test's teardown looks. A test that expects one says so with the
    `server_error_expected` marker; any other 500 fails the test, and one logged outside any
    test fails the next test (or, after the last, the session): a 500 never passes in a green run."""

    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.seen: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if getattr(record, "status_code", None) == 500:
            self.seen.append(record.getMessage())


SERVER_ERRORS = _ServerErrors()


@pytest.fixture(autouse=True)
def _no_server_error(request: pytest.FixtureRequest) -> Iterator[None]:
    # Attached at each test, not once: Django's logging setup (and any test that configures
    # logging again) empties the handlers of django's child loggers.
    requests = logging.getLogger("django.request")
    if SERVER_ERRORS not in requests.handlers:
        requests.addHandler(SERVER_ERRORS)
    if SERVER_ERRORS.seen:  # logged between tests (a thread finishing after its test)
        seen, SERVER_ERRORS.seen = SERVER_ERRORS.seen, []
        pytest.fail(f"request(s) answered 500 after the previous test ended: {seen[:5]}")
    yield
    seen, SERVER_ERRORS.seen = SERVER_ERRORS.seen, []
    if seen and request.node.get_closest_marker("server_error_expected") is None:
        pytest.fail(f"{len(seen)} request(s) in this test answered 500: {seen[:5]}")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if SERVER_ERRORS.seen:  # logged after the last test's teardown (a thread finishing late)
        print(f"\nrequests answered 500 outside any test: {SERVER_ERRORS.seen[:5]}")
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
        # A pytest-xdist worker's output and exit status go nowhere: its controller reports them.
        workeroutput = getattr(session.config, "workeroutput", None)
        if workeroutput is not None:
            workeroutput["server_errors"] = SERVER_ERRORS.seen[:5]


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: object) -> None:
    """The controller of a pytest-xdist run takes over what a worker saw after its last test,
    so its own pytest_sessionfinish above fails the run for it."""
    SERVER_ERRORS.seen.extend(getattr(node, "workeroutput", {}).get("server_errors", []))


# --- People -----------------------------------------------------------------------------------


def _office(code: str) -> Office:
    return OfficeFactory.create(code=code, name=code)


@pytest.fixture
def unit(db):
    return BusinessUnitFactory.create(code="PUBSEC", name="Public Sector Solutions")


@pytest.fixture
def other_unit(db):
    return BusinessUnitFactory.create(code="CLOUD", name="Cloud Services")


def _holder(username: str, code: str, roles: list[str]) -> User:
    user = UserFactory.create(username=username, roles=roles)
    office = _office(code)
    office.holder = user
    office.save()
    return user


@pytest.fixture
def chair(db) -> User:
    return _holder("chair", "CEO", ["chair", "cxo"])


@pytest.fixture
def ciso(db) -> User:
    return _holder("ciso", "CISO", ["cxo"])


@pytest.fixture
def cqo(db) -> User:
    return _holder("cqo", "CQO", ["cxo"])


@pytest.fixture
def secretary(db) -> User:
    return UserFactory.create(username="secretary", roles=["secretary"])


@pytest.fixture
def auditor(db) -> User:
    return UserFactory.create(username="auditor", roles=["auditor"])


@pytest.fixture
def bu_head(unit) -> User:
    user = UserFactory.create(username="bu_head", roles=["bu_head"])
    unit.head = user
    unit.save()
    services.sync_unit_group(unit=unit)
    return user


@pytest.fixture
def bu_member(unit) -> User:
    user = UserFactory.create(username="bu_member", roles=["bu_member"])
    MembershipFactory.create(user=user, unit=unit)
    return user


@pytest.fixture
def other_bu_member(other_unit) -> User:
    user = UserFactory.create(username="other_bu_member", roles=["bu_member"])
    MembershipFactory.create(user=user, unit=other_unit)
    return user


# --- Clients ----------------------------------------------------------------------------------


def enrol_totp(user: User) -> str:
    """Give a user an authenticator app; returns its secret."""
    existing = Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).first()
    if existing:
        from allauth.mfa.utils import decrypt

        return str(decrypt(existing.data["secret"]))
    secret = generate_totp_secret()
    TOTP.activate(user, secret)
    return secret


def sign_in(client: Client, user: User) -> Client:
    """Sign a person in on this client as if they had passed password and TOTP: the state after
    a real sign-in (a fresh Client per thread where requests run concurrently)."""
    enrol_totp(user)
    client.force_login(user)
    session = client.session
    session[MFA_SESSION_KEY] = user.pk
    session.save()
    return client


@pytest.fixture
def login_as(client: Client) -> Callable[[User], Client]:
    """Sign a person in on the test's client (see sign_in)."""
    return lambda user: sign_in(client, user)


@pytest.fixture
def api_client() -> Iterator[Client]:
    yield Client(HTTP_ACCEPT="application/json")
