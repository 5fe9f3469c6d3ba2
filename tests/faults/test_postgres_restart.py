"""Fault injection: PostgreSQL restarts under load; web, worker and beat ride it out unattended."""

from __future__ import annotations

import http.client
import json
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
from kombu import Connection

from audit.tasks import verify_audit_chain
from tests.config.test_celery_worker import ROOT
from tests.conftest import require_service

PG_BIN = Path("/usr/lib/postgresql/15/bin")
OUTAGE = 3.0  # seconds PostgreSQL stays down
READERS = 3  # threads listing incidents; one more thread reports them
SLOW = 3.0  # a request slower than this, during the outage or not, counts as hung
BEAT_TASK = "committee.tasks.schedule_meetings"  # reads the database each run
LATE_TASK = "committee.tasks.prepare_agendas"  # enabled only after the restart
VERIFY = "audit.tasks.verify_audit_chain"  # writes an audit.verified event
# Variables of the caller's environment that would point a process at shared services.
# Real processes: `--dist loadgroup` (make test) runs the group on one xdist worker, in turn.
pytestmark = pytest.mark.xdist_group("processes")
PRIVATE = ("DATABASE_URL", "CACHE_URL", "CELERY_", "EMAIL_", "STATIC_ROOT", "MEDIA_ROOT", "RCC_")

# Beat as the Procfile runs it (`celery -A config beat`: the scheduler named in settings), with
# one clock compressed. django-celery-beat re-reads the whole schedule every
# SCHEDULE_SYNC_MAX_INTERVAL (5 minutes) whether or not it changed; here every tick, so that a
# re-read falls inside the outage, as one does in every outage longer than 5 minutes.
BEAT = """
import sys
import django
django.setup()
from django_celery_beat import schedulers
schedulers.SCHEDULE_SYNC_MAX_INTERVAL = 1
from celery.__main__ import main
sys.argv[0] = "celery"
main()
"""

SETUP = f"""
from django_celery_beat.models import IntervalSchedule, PeriodicTask, PeriodicTasks
from accounts import services
from accounts.models import BusinessUnit, Membership, User
unit = BusinessUnit.objects.create(code="FAULTS", name="Fault injection")
user = User.objects.create_user(username="loadgen", email="loadgen@example.test")
Membership.objects.create(user=user, unit=unit)
services.sync_unit_group(unit=unit)
_, token = services.issue_api_token(actor=None, user=user, days=1)
every, _ = IntervalSchedule.objects.get_or_create(every=1, period=IntervalSchedule.SECONDS)
PeriodicTask.objects.update(enabled=False)
PeriodicTask.objects.create(name="fault: early", task="{BEAT_TASK}", interval=every)
PeriodicTask.objects.create(name="fault: late", task="{LATE_TASK}", interval=every, enabled=False)
PeriodicTasks.update_changed()
print("TOKEN=" + token)
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _as_postgres(command: list[str]) -> subprocess.CompletedProcess[str]:
    """initdb and postgres refuse to run as root (as CI does): run them as the postgres user."""
    if os.geteuid() == 0:
        command = ["runuser", "-u", "postgres", "--", *command]
    return subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)


def _can_run_postgres() -> bool:
    if not all((PG_BIN / name).exists() for name in ("initdb", "pg_ctl", "postgres")):
        return False
    if os.geteuid() != 0:
        return True
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        return False
    return shutil.which("runuser") is not None


@dataclass
class Cluster:
    """A private PostgreSQL 15 cluster in a temporary folder, trust auth, on a free port."""

    root: Path
    port: int

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/rcc"

    def _pg_ctl(self, *args: str) -> subprocess.CompletedProcess[str]:
        return _as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(self.root / "data"), *args])

    def start(self) -> None:
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off"
        done = self._pg_ctl("-l", str(self.root / "postgres.log"), "-w", "-o", options, "start")
        assert done.returncode == 0, done.stdout + done.stderr + self.log()

    def stop(self, mode: str = "fast") -> subprocess.CompletedProcess[str]:
        return self._pg_ctl("-m", mode, "-w", "stop")

    def log(self) -> str:
        path = self.root / "postgres.log"
        return path.read_text() if path.exists() else ""

    def sql(self, query: str) -> list[tuple[Any, ...]]:
        with psycopg.connect(
            host="127.0.0.1", port=self.port, user="postgres", dbname="rcc", autocommit=True
        ) as conn:
            cursor = conn.execute(query.encode())  # psycopg's types take bytes, or literals
            return cursor.fetchall() if cursor.description else []


@pytest.fixture
def cluster() -> Iterator[Cluster]:
    require_service("PostgreSQL 15 (initdb, pg_ctl as the postgres user)", _can_run_postgres())
    # Not under tmp_path: pytest makes that private to root, and postgres must write here.
    root = Path(tempfile.mkdtemp(prefix="rcc-pg-"))
    if os.geteuid() == 0:
        user = pwd.getpwnam("postgres")
        os.chown(root, user.pw_uid, user.pw_gid)
    cluster = Cluster(root=root, port=_free_port())
    try:
        initdb = [str(PG_BIN / "initdb"), "-D", str(root / "data"), "-U", "postgres"]
        done = _as_postgres([*initdb, "--auth=trust", "-E", "UTF8", "--locale=C", "--no-sync"])
        assert done.returncode == 0, done.stdout + done.stderr
        cluster.start()
        created = _as_postgres(
            [str(PG_BIN / "createdb"), "-h", "127.0.0.1", "-p", str(cluster.port), "rcc"]
        )
        assert created.returncode == 0, created.stderr
        yield cluster
    finally:
        cluster.stop("immediate")  # fails harmlessly if it is down already
        shutil.rmtree(root, ignore_errors=True)


# --- The product's processes ------------------------------------------------------------------


def _env(cluster: Cluster, broker: Path, var: Path, **extra: str) -> dict[str, str]:
    """The caller's environment, minus anything naming a shared service, plus the private ones."""
    inherited = {k: v for k, v in os.environ.items() if not k.startswith(PRIVATE)}
    return {
        **inherited,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DEBUG": "1",  # a 500 would be the traceback page, which the test must never see
        "RCC_VAR_DIR": str(var),
        "DATABASE_URL": cluster.url,
        "CACHE_URL": "locmemcache://",
        "CELERY_BROKER_URL": "filesystem://",
        "CELERY_BROKER_DIR": str(broker),
        "PYTHONUNBUFFERED": "1",
        **extra,
    }


def _manage(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )
    assert done.returncode == 0, f"manage.py {args[0]} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


@contextmanager
def _process(command: list[str], env: dict[str, str], log: Path) -> Iterator[Process]:
    """A process in its own process group, its output in a file (a pipe nobody reads fills)."""
    with log.open("wb") as out:
        popen = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            yield Process(popen, log)
        finally:
            with suppress(ProcessLookupError):
                os.killpg(popen.pid, signal.SIGTERM)
            with suppress(subprocess.TimeoutExpired):
                popen.wait(timeout=15)
            with suppress(ProcessLookupError):
                os.killpg(popen.pid, signal.SIGKILL)  # the stubborn, and any child left behind
            popen.wait()


@dataclass
class Process:
    popen: subprocess.Popen[bytes]
    log: Path
    mark: int = 0  # where "since" starts in the log

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def since(self) -> str:
        with self.log.open("rb") as file:
            file.seek(self.mark)
            return file.read().decode(errors="replace")

    def set_mark(self) -> None:
        self.mark = self.log.stat().st_size


def _wait(what: str, ready: Callable[[], bool], processes: list[Process], timeout: float) -> float:
    """Wait until ready() holds; seconds it took. Fails naming `what` if a process exits first."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        for process in processes:
            if process.popen.poll() is not None:
                pytest.fail(
                    f"{process.log.stem} exited while waiting for {what}:\n{process.text()}"
                )
        if ready():
            return time.monotonic() - started
        time.sleep(0.1)
    logs = "\n".join(f"--- {p.log.stem}:\n{p.text()[-6000:]}" for p in processes)
    pytest.fail(f"no {what} within {timeout}s\n{logs}")


def _answers(port: int, path: str) -> bool:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
    try:
        conn.request("GET", path)
        return conn.getresponse().status == 200
    except OSError:
        return False
    finally:
        conn.close()


# --- The load ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    kind: str  # "read" or "write"
    started: float  # time.monotonic()
    seconds: float
    status: int  # 0: no HTTP answer at all (refused, reset, timed out)
    content_type: str
    retry_after: str
    body: str

    @property
    def ok(self) -> bool:
        return self.status in {200, 201}


@dataclass
class Load:
    """A few keep-alive clients: READERS list incidents, one reports them, until stopped."""

    port: int
    token: str
    outcomes: list[Outcome] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)

    def start(self) -> None:
        kinds = ["read"] * READERS + ["write"]
        self._threads = [threading.Thread(target=self._run, args=(k,), daemon=True) for k in kinds]
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=20)

    def _run(self, kind: str) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        headers = {"Authorization": f"Token {self.token}", "Accept": "application/json"}
        while not self._stop.is_set():
            if kind == "read":
                self.outcomes.append(self._call(conn, kind, "GET", "/api/v1/incidents/", headers))
            else:
                body = {
                    "title": "Reported during a database restart",
                    "description": "Load for the fault-injection test.",
                    "category": "other",
                    "severity": "low",
                    "unit": "FAULTS",
                    "detected_at": (datetime.now(UTC) - timedelta(minutes=5)).isoformat(),
                }
                write_headers = {**headers, "Content-Type": "application/json"}
                self.outcomes.append(
                    self._call(conn, kind, "POST", "/api/v1/incidents/", write_headers, body)
                )
            time.sleep(0.02)
        conn.close()

    @staticmethod
    def _call(
        conn: http.client.HTTPConnection,
        kind: str,
        method: str,
        path: str,
        headers: dict[str, str],
        body: dict[str, Any] | None = None,
    ) -> Outcome:
        started = time.monotonic()
        try:
            conn.request(method, path, body=json.dumps(body) if body else None, headers=headers)
            response = conn.getresponse()
            data = response.read().decode(errors="replace")
            if response.getheader("Connection", "").lower() == "close":
                conn.close()
        except (OSError, http.client.HTTPException) as exc:
            conn.close()  # the next request opens a new connection
            return Outcome(kind, started, time.monotonic() - started, 0, "", "", repr(exc))
        return Outcome(
            kind,
            started,
            time.monotonic() - started,
            response.status,
            response.getheader("Content-Type", ""),
            response.getheader("Retry-After", ""),
            data[:2000],
        )


def _publish_verification(broker: Path) -> str:
    """verify_audit_chain on the worker's default queue, through the private folder broker."""
    options = {
        "data_folder_in": str(broker / "queue"),
        "data_folder_out": str(broker / "queue"),
        "processed_folder": str(broker / "processed"),
        "control_folder": str(broker / "control"),
    }
    with Connection("filesystem://", transport_options=options) as conn:
        result = verify_audit_chain.apply_async(connection=conn)  # type: ignore[call-arg]
    return str(result.id)


def _succeeded(log: str, task: str, task_id: str = r"[^\]]+") -> bool:
    return re.search(rf"Task {re.escape(task)}\[{task_id}\] succeeded", log) is not None


def _first_times(
    checks: dict[str, Callable[[], bool]], processes: list[Process], since: float, timeout: float
) -> dict[str, float]:
    """Poll every check together; for each, the seconds from `since` until it first held."""
    first: dict[str, float] = {}
    while len(first) < len(checks):
        now = time.monotonic()
        for name, check in checks.items():
            if name not in first and check():
                first[name] = now - since
        if now - since > timeout:
            missing = sorted(set(checks) - set(first))
            logs = "\n".join(f"--- {p.log.stem}:\n{p.text()[-6000:]}" for p in processes)
            pytest.fail(f"not recovered within {timeout}s: {missing}\n{logs}")
        for process in processes:
            if process.popen.poll() is not None:
                pytest.fail(f"{process.log.stem} exited during the outage:\n{process.text()}")
        time.sleep(0.1)
    return first


def _fmt(seconds: float) -> str:
    return f"{seconds:.2f}s"


# --- The scenario -----------------------------------------------------------------------------


def test_web_worker_and_beat_ride_out_a_postgres_restart_under_load(
    cluster: Cluster, tmp_path: Path
) -> None:
    broker = tmp_path / "broker"
    for sub in ("queue", "processed", "control"):
        (broker / sub).mkdir(parents=True)
    admin_env = _env(cluster, broker, tmp_path / "var-manage")
    _manage(admin_env, "migrate", "--noinput")
    token = _manage(admin_env, "shell", "-c", SETUP).rsplit("TOKEN=", 1)[1].strip()

    port = _free_port()
    celery = [sys.executable, "-m", "celery", "-A", "config"]
    web_command = [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"]
    worker_command = [
        *celery,
        "worker",
        "--pool",
        "solo",
        "--loglevel",
        "INFO",
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
        "--hostname",
        "fault-worker@%h",
    ]
    beat_command = [
        sys.executable,
        "-c",
        BEAT,
        "-A",
        "config",
        "beat",
        "--schedule",
        str(tmp_path / "beat-schedule"),
        "--max-interval",
        "1",
        "--loglevel",
        "INFO",
    ]
    # The load is far above the per-person API throttle, which is not on trial here.
    web_env = _env(cluster, broker, tmp_path / "var-web", API_THROTTLE_USER="100000/minute")
    with ExitStack() as stack:
        web = stack.enter_context(_process(web_command, web_env, tmp_path / "web.log"))
        worker = stack.enter_context(
            _process(
                worker_command,
                _env(cluster, broker, tmp_path / "var-worker"),
                tmp_path / "worker.log",
            )
        )
        beat = stack.enter_context(
            _process(
                beat_command, _env(cluster, broker, tmp_path / "var-beat"), tmp_path / "beat.log"
            )
        )
        processes = [web, worker, beat]
        _wait("the web process", lambda: _answers(port, "/healthz"), processes, 60)
        _wait(
            f"a {BEAT_TASK} sent by beat and run by the worker",
            lambda: _succeeded(worker.text(), BEAT_TASK),
            processes,
            60,
        )
        load = Load(port, token)
        load.start()
        stack.callback(load.stop)
        time.sleep(2)  # a baseline under load

        down = time.monotonic()
        stopped = cluster.stop("fast")
        assert stopped.returncode == 0, stopped.stdout + stopped.stderr + cluster.log()
        during_id = _publish_verification(broker)  # meets the worker while the database is down
        time.sleep(OUTAGE)
        cluster.start()
        up = time.monotonic()
        for process in (worker, beat):
            process.set_mark()
        # Work that only a recovered worker and beat can do: a task published now, and a
        # schedule change that beat can only learn from the database.
        task_id = _publish_verification(broker)
        cluster.sql(
            f"UPDATE django_celery_beat_periodictask SET enabled = true WHERE task = '{LATE_TASK}'"
        )
        cluster.sql(
            "UPDATE django_celery_beat_periodictasks SET last_update = now() WHERE ident = 1"
        )
        recovered = _first_times(
            {
                "web": lambda: any(o.ok and o.started > up for o in list(load.outcomes)),
                "worker": lambda: _succeeded(worker.since(), VERIFY, task_id),
                "beat's task": lambda: _succeeded(worker.since(), BEAT_TASK),
                "beat's schedule": lambda: "Sending due task fault: late" in beat.since(),
                # Published while the database was down: retried (config.celery.Task) until
                # it answers.
                "the task met during the outage": lambda: _succeeded(
                    worker.since(), VERIFY, during_id
                ),
            },
            processes,
            since=up,
            timeout=30,
        )
        time.sleep(2)  # and it stays recovered
        load.stop()
        alive = {p.log.stem: p.popen.poll() is None for p in processes}
        worker_log, beat_log, web_log = worker.text(), beat.text(), web.text()
    verified = cluster.sql("SELECT count(*) FROM audit_auditevent WHERE verb = 'audit.verified'")

    outcomes = sorted(load.outcomes, key=lambda o: o.started)
    failed = [o for o in outcomes if not o.ok]
    during = [o for o in outcomes if down <= o.started + o.seconds and o.started <= up]
    figures = {
        "requests": len(outcomes),
        "failed": len(failed),
        "statuses": sorted({o.status for o in outcomes}),
        "database down": _fmt(up - down),
        "requests failed for": _fmt(
            max(o.started + o.seconds for o in failed) - min(o.started for o in failed)
        )
        if failed
        else "-",
        "last failure started, from the start": _fmt(max(o.started for o in failed) - up)
        if failed
        else "-",
        "longest request during the outage": _fmt(max(o.seconds for o in during)),
        "longest request": _fmt(max(o.seconds for o in outcomes)),
        **{f"{name} recovered after the start": _fmt(t) for name, t in recovered.items()},
        "task met during the outage retried": f"[{during_id}] retry" in worker_log,
    }
    print("\npostgres restart under load:", json.dumps(figures, indent=2))

    # Nothing died, nothing was restarted.
    assert all(alive.values()), alive
    # While the database was down: a clean 503, JSON with its code and Retry-After; never a
    # 500, a traceback page, or no answer at all.
    assert failed, "no request noticed the outage: the restart did not happen under load"
    for outcome in failed:
        assert outcome.status == 503, outcome
        assert outcome.content_type.startswith("application/json"), outcome
        assert json.loads(outcome.body)["code"] == "database_unavailable", outcome
        assert outcome.retry_after.isdigit(), outcome
    assert "Internal Server Error" not in web_log, web_log[-6000:]
    assert web_log.count("database unavailable") == 1, web_log[-6000:]  # logged once
    # Never hung: every request answered within SLOW, during the outage too.
    assert max(o.seconds for o in outcomes) < SLOW, max(outcomes, key=lambda o: o.seconds)
    # Failures only while the database was down; then reads and writes succeed again, without
    # restarting anything.
    assert all(down - 0.5 <= o.started <= up + 0.5 for o in failed), figures
    after = [o for o in outcomes if o.started > up + 1]
    assert after and all(o.ok for o in after), [o for o in after if not o.ok][:5]
    assert {o.kind for o in after if o.status == 201} == {"write"}, figures
    assert recovered["web"] < 2, figures
    # The worker ran a task published after the restart, which wrote to the database.
    assert _succeeded(worker_log, VERIFY, task_id), worker_log[-6000:]
    assert verified[0][0] >= 1
    assert recovered["worker"] < 15, figures
    # Beat kept sending its task and read a schedule change made after the restart.
    assert recovered["beat's task"] < 10 and recovered["beat's schedule"] < 10, figures
    assert "Sending due task fault: late" in beat_log, beat_log[-6000:]
    # The task that met the outage was not lost: it ran once the database answered.
    assert _succeeded(worker_log, VERIFY, during_id), worker_log[-6000:]
