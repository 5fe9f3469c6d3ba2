"""P15, writes that do not wait for each other: a person's update while the hourly chase runs on
a real worker, against the same updates with no chase; and eight writers at once, against the
same writers on a copy of the product with the audit trail switched off."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import statistics
import subprocess  # nosec B404 - the benchmark's own server, worker and clients
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from django.db import connection
from django.utils import timezone

from accounts.models import Role, User
from actions import services
from actions.models import Action, ChaseNotice
from audit import services as audit
from bench import chase
from bench.harness import Result, free_port, wait_for_port
from bench.lists import client_for
from bench.load import writers_plan

ROOT = Path(__file__).resolve().parent.parent
WRITERS = 8


class _Sealer(threading.Thread):
    """The sealer as beat runs it (every 5 seconds) beside the writers, so that what it costs
    them is in the figures."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.stopping = threading.Event()
        self.sealed = 0

    def run(self) -> None:
        try:
            while not self.stopping.wait(5):
                self.sealed += audit.seal()
            self.sealed += audit.seal()
        finally:
            connection.close()

    def stop(self) -> int:
        self.stopping.set()
        self.join(120)
        return self.sealed


def _p99(latencies: list[float]) -> float:
    ordered = sorted(latencies)
    return ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]


def _unrelated() -> tuple[User, Action]:
    """A member of a unit and an action of theirs due well after every chase stage: the chase
    has nothing to do with it."""
    later = timezone.localdate() + dt.timedelta(days=60)
    action = (
        Action.objects.filter(
            status=Action.Status.IN_PROGRESS, due_on__gt=later, unit__code__startswith="LD"
        )
        .order_by("pk")
        .first()
    )
    assert action is not None, "no action due in more than 60 days"
    member = User.objects.filter(memberships__unit=action.unit, groups__name=Role.BU_MEMBER)
    return member.order_by("pk")[0], action


def _updates_while(busy: threading.Event | None, action: Action, client: Any, count: int) -> list:
    """Update `action` one request after another: `count` times, or while `busy` is set."""
    etag = services.etag(Action.objects.get(pk=action.pk))
    latencies: list[float] = []
    n = 0
    while (busy.is_set() if busy is not None else n < count) or n < 20:
        n += 1
        started = time.perf_counter()
        response = client.post(
            f"/api/v1/actions/{action.pk}/updates/",
            {"percent_done": n % 100, "note": "beside the chase"},
            content_type="application/json",
            HTTP_IF_MATCH=etag,
        )
        latencies.append(time.perf_counter() - started)
        assert response.status_code == 201, response.content[:300]
        etag = response.headers["ETag"]
    return latencies


def _beside_the_chase(runs: int) -> Result:
    member, action = _unrelated()
    client = client_for(member)
    sealer = _Sealer()
    sealer.start()
    quiet = _updates_while(None, action, client, 200)
    chase.reset()
    broker = os.environ["CELERY_BROKER_URL"]
    queue = f"bench-p15-{os.getpid()}"
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool", "solo",
         "--queues", queue, "--loglevel", "INFO", "--without-gossip", "--without-mingle",
         "--without-heartbeat", "--hostname", f"{queue}@%h"],
        cwd=ROOT, env={**os.environ, "CELERY_BROKER_URL": broker},
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    busy, ready, lines = threading.Event(), threading.Event(), []

    def follow() -> None:
        assert worker.stdout is not None
        for line in worker.stdout:
            lines.append(line)
            if "ready." in line:
                ready.set()
            if "succeeded in" in line or "raised" in line:
                busy.clear()
                return

    follower = threading.Thread(target=follow, daemon=True)
    follower.start()
    try:
        assert ready.wait(600), "".join(lines[-40:])
        from actions.tasks import chase_actions

        busy.set()
        chase_actions.apply_async(queue=queue)
        during = _updates_while(busy, action, client, 0)
        follower.join(1800)
    finally:
        worker.terminate()
        worker.wait(30)
    sealed = sealer.stop()
    stage_rows = ChaseNotice.objects.count()
    chase.reset()
    took = re.search(r"succeeded in ([0-9.]+)s", "".join(lines))
    ratio = _p99(during) / _p99(quiet)
    return Result(
        "P15",
        "a person's update of an unrelated action while the hourly chase runs on a real worker, "
        "against the same updates with no chase (p99)",
        f"p99 {_p99(during) * 1000:.1f} ms, p50 {statistics.median(during) * 1000:.1f} ms",
        f"p99 {_p99(quiet) * 1000:.1f} ms, p50 {statistics.median(quiet) * 1000:.1f} ms",
        ratio,
        "<= 3.0",
        ratio <= 3.0,
        [
            f"{len(during):,} updates during the chase ({took.group(1) if took else '?'} s, "
            f"{stage_rows:,} stage rows), {len(quiet)} before it",
            f"the sealer beside them every 5 s: {sealed:,} events sealed",
        ],
        sound=took is not None and stage_rows > 0,
    )


def _throughput(app: str, plan: Path, seconds: int) -> dict[str, Any]:
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", app, "--workers", "2",
         "--bind", f"127.0.0.1:{port}", "--no-control-socket", "--log-level", "warning"],
        cwd=ROOT, env={**os.environ, "ALLOWED_HOSTS": "127.0.0.1,localhost"},
    )  # fmt: skip
    try:
        wait_for_port(port)
        base = f"http://127.0.0.1:{port}"
        subprocess.run(
            [sys.executable, "-m", "bench.writers", base, "2", str(plan)],
            cwd=ROOT, capture_output=True, text=True, check=True,
        )  # fmt: skip  # warm-up: imports, connections, caches
        done = subprocess.run(
            [sys.executable, "-m", "bench.writers", base, str(seconds), str(plan)],
            cwd=ROOT, capture_output=True, text=True, check=True,
        )  # fmt: skip
    finally:
        server.terminate()
        server.wait(30)
    seen: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return seen


def _writers_at_once(runs: int, seconds: int) -> Result:
    plan = Path(tempfile.mkdtemp(prefix="rcc-bench-")) / "writers.json"
    plan.write_text(json.dumps(writers_plan(WRITERS, newest_first=True)))
    sealer = _Sealer()
    sealer.start()
    ours: list[dict[str, Any]] = []
    bare: list[dict[str, Any]] = []
    for turn in range(runs):
        order = [("config.wsgi", ours), ("bench.noaudit:application", bare)]
        for app, seen in order if turn % 2 == 0 else reversed(order):
            seen.append(_throughput(app, plan, seconds))
    sealed = sealer.stop()
    mine = statistics.median(s["per_second"] for s in ours)
    theirs = statistics.median(s["per_second"] for s in bare)
    errors = [s["errors"] for s in ours + bare if s["errors"]]
    ratio = mine / theirs
    return Result(
        "P15b",
        f"{WRITERS} clients updating different actions at once (gunicorn, 2 workers, loopback), "
        "against the same clients on a copy with the audit trail switched off",
        f"{mine:.0f} updates/s",
        f"{theirs:.0f} updates/s (no audit trail)",
        ratio,
        ">= 0.8",
        ratio >= 0.8,
        [
            f"{runs} run(s) of {seconds} s a side, alternating",
            f"the sealer beside them every 5 s: {sealed:,} events sealed",
            f"errors: {errors or 'none'}",
        ],
        sound=not errors,
    )


def run(arguments: tuple[int, float]) -> list[Result]:
    runs, scale = arguments
    seconds = 20 if scale >= 1 else 5
    return [_beside_the_chase(runs), _writers_at_once(runs, seconds)]
