"""Redis stopped while the CISO suspends a system and a unit submits an action: both requests
succeed at once, and the mail they owe goes out once Redis is back, none lost, none twice.

Everything is real and private to the test: a Redis server on a free port (broker and cache),
the web process, a worker and beat, on the test database."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from knox.models import AuthToken

from actions.models import Action
from outbox.models import Message
from systems.models import SuspensionOrder
from tests.actions.conftest import task
from tests.actions.test_chasing_worker import _mails
from tests.committee.test_beat_worker import _every_tick_on, celery_beat
from tests.config.test_celery_worker import ROOT, celery_worker
from tests.conftest import database_url_for_subprocess, require_service, stop
from tests.faults.test_two_beats import _read_aloud
from tests.systems.conftest import register

# Real processes: `--dist loadgroup` (make test) runs the group on one xdist worker, in turn.
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.xdist_group("processes")]

REDIS = shutil.which("redis-server")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_for_port(port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), 0.2):
                return
        except OSError:
            time.sleep(0.1)
    pytest.fail(f"nothing listens on {port} after {timeout}s")


@contextmanager
def redis_server(port: int) -> Iterator[subprocess.Popen[bytes]]:
    """A Redis of the test's own that keeps nothing on disk, as the machine's does."""
    server = subprocess.Popen(
        [
            *(REDIS or "redis-server", "--port", str(port), "--bind", "127.0.0.1"),
            *("--save", "", "--appendonly", "no"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_for_port(port)
        yield server
    finally:
        stop(server, timeout=10)


@contextmanager
def web(port: int, env: dict[str, str], log: Path) -> Iterator[str]:
    """The web process, as the Procfile runs it."""
    with log.open("w") as out:
        server = subprocess.Popen(
            [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
            cwd=ROOT,
            env={**os.environ, **env},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            _wait_for_port(port, timeout=60)
            yield f"http://127.0.0.1:{port}"
        finally:
            stop(server)


def _call(base: str, path: str, token: str, body: dict[str, Any], **headers: str):
    """POST as a token holder; returns (status, JSON body, headers, seconds taken)."""
    request = urllib.request.Request(
        base + path,
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Authorization": f"Token {token}", "Content-Type": "application/json", **headers},
    )
    started = time.monotonic()
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return (
                response.status,
                json.load(response),
                response.headers,
                time.monotonic() - started,
            )
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(), error.headers, time.monotonic() - started


def _until(predicate, timeout: float, *processes: subprocess.Popen[Any]) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        for process in processes:
            assert process.poll() is None, f"{process.args!r} exited"
        time.sleep(0.25)
    pytest.fail(f"not within {timeout}s")


def test_with_redis_down_a_suspension_and_a_submission_succeed_and_mail_once_when_it_is_back(
    tmp_path, unit, ciso, bu_member, bu_head
):
    require_service("redis-server (to start a Redis of the test's own)", REDIS is not None)
    system = register(unit, "portal")
    action = task(unit, ciso, assignee=bu_member)
    Action.objects.filter(pk=action.pk).update(status=Action.Status.IN_PROGRESS)
    _, ciso_token = AuthToken.objects.create(user=ciso)
    _, member_token = AuthToken.objects.create(user=bu_member)
    redis_port, web_port = _free_port(), _free_port()
    broker = f"redis://127.0.0.1:{redis_port}/0"
    mail_dir = tmp_path / "mail"
    env = {
        "DATABASE_URL": database_url_for_subprocess(),
        "CELERY_BROKER_URL": broker,
        "CACHE_URL": f"rediscache://127.0.0.1:{redis_port}/1",
        "EMAIL_FILE_PATH": str(mail_dir),
        "RCC_VAR_DIR": str(tmp_path / "var"),
    }
    queue = "celery"  # the default queue: where deliver() goes
    _every_tick_on(queue, {"Relay the outbox": "outbox.tasks.relay_outbox"})  # every second

    with (
        redis_server(redis_port) as redis,
        web(web_port, env, tmp_path / "web.log") as base,
        celery_worker(
            queue, broker, **{k: v for k, v in env.items() if k != "CELERY_BROKER_URL"}
        ) as worker,
        celery_beat(broker, tmp_path) as (beat, _beat_log),
    ):
        worker_log, _reader = _read_aloud(worker)  # a worker blocked on a full pipe stalls
        # Warm the web process first (its first request loads the URL map and every app), so
        # the two timed requests below measure the outage, not a cold start.
        with urllib.request.urlopen(base + "/healthz", timeout=60) as warm:
            assert json.load(warm)["broker"] == "ok"
        redis.terminate()  # Redis goes away (it keeps nothing on disk)
        redis.wait(timeout=10)

        status, body, _, took = _call(
            base,
            f"/api/v1/systems/{system.pk}/suspend/",
            ciso_token,
            {"reason": "Credentials leaked"},
            **{"Idempotency-Key": "outage-1"},
        )
        assert status == 201, body
        assert took < 2, f"the suspension took {took:.2f}s with Redis down"
        print(f"suspend with Redis down: {took:.2f}s")
        status, body, _, took = _call(
            base,
            f"/api/v1/actions/{action.pk}/submit/",
            member_token,
            {"note": "MFA enforced"},
            **{"If-Match": f'"{action.pk}-v{Action.objects.get(pk=action.pk).version}"'},
        )
        assert status == 200, body
        assert took < 2, f"the submission took {took:.2f}s with Redis down"
        print(f"submit with Redis down: {took:.2f}s")
        assert SuspensionOrder.objects.filter(system=system, status="active").count() == 1

        # The web process tried to publish after commit, the broker refused, and both are still
        # owed, the refusal kept.
        def refused() -> bool:
            rows = list(Message.objects.values_list("task", "published_at", "last_error"))
            # (The second may never have been tried: after a refusal the web leaves publishing
            # to the periodic relay for a while.)
            return (
                len(rows) == 2
                and all(at is None for _, at, _ in rows)
                and any(error.startswith("publish:") for _, _, error in rows)
            )

        _until(refused, 30, worker, beat)
        assert set(Message.objects.values_list("task", flat=True)) == {
            "systems.tasks.notify_suspension",
            "actions.tasks.notify_submitted",
        }
        assert _mails(mail_dir) == []  # nothing can go out without the broker

        with redis_server(redis_port):  # back, on the same address, empty
            back = time.monotonic()
            _until(lambda: len(_mails(mail_dir)) >= 2, 90, worker, beat)
            print(f"mail out {time.monotonic() - back:.1f}s after Redis came back")
            time.sleep(5)  # the relay keeps ticking: nothing goes twice

            mails = sorted(_mails(mail_dir))
            assert mails == sorted(
                [
                    (f"{bu_head.email}, {bu_member.email}", "[RCC] portal suspended"),
                    (ciso.email, f"[RCC] {action.reference} submitted for verification by PUBSEC"),
                ]
            )
            done = list(Message.objects.values_list("done_at", "run_count"))
            assert all(done_at is not None and runs == 1 for done_at, runs in done), "".join(
                worker_log
            )
