"""P7, load: gunicorn with two workers on loopback, a mixed read/write workload from a separate
process; requests per second, p50/p99, errors, and the workers' memory at the start and end."""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from knox.models import AuthToken

from accounts.models import Role, User
from actions.models import Action
from bench.harness import Result

ROOT = Path(__file__).resolve().parent.parent
THREADS = 8


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _plan() -> list[dict[str, object]]:
    """Eight unit members of different units, each with an action of their own to update."""
    people: list[dict[str, object]] = []
    members = User.objects.filter(groups__name=Role.BU_MEMBER, username__startswith="ld").order_by(
        "pk"
    )
    for user in members[: THREADS * 5]:
        unit = user.memberships.get().unit
        action = (
            Action.objects.filter(unit=unit, status=Action.Status.IN_PROGRESS)
            .order_by("pk")
            .values_list("pk", flat=True)
            .first()
        )
        if action is None or any(p["unit"] == unit.pk for p in people):
            continue
        _instance, token = AuthToken.objects.create(user=user, expiry=dt.timedelta(days=1))
        people.append({"token": token, "action": action, "unit": unit.pk})
        if len(people) == THREADS:
            break
    return people


def _rss_kb(pid: int) -> int:
    return int(Path(f"/proc/{pid}/status").read_text().split("VmRSS:")[1].split()[0])


def _workers(master: int) -> list[int]:
    children = Path(f"/proc/{master}/task/{master}/children")
    return [int(pid) for pid in children.read_text().split()] if children.exists() else []


def run(seconds: int) -> list[Result]:
    port = _free_port()
    plan = Path(tempfile.mkdtemp(prefix="rcc-bench-")) / "plan.json"
    plan.write_text(json.dumps(_plan()))
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "config.wsgi", "--workers", "2",
         "--bind", f"127.0.0.1:{port}", "--no-control-socket", "--log-level", "warning"],
        cwd=ROOT, env={**os.environ, "ALLOWED_HOSTS": "127.0.0.1,localhost"},
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.2)
        base = f"http://127.0.0.1:{port}"
        warm = subprocess.run(
            [sys.executable, "-m", "bench.loadgen", base, "5", str(plan)],
            cwd=ROOT, capture_output=True, text=True, check=True,
        )  # fmt: skip
        del warm
        pids = _workers(server.pid)
        start_kb = sum(_rss_kb(pid) for pid in pids)
        done = subprocess.run(
            [sys.executable, "-m", "bench.loadgen", base, str(seconds), str(plan)],
            cwd=ROOT, capture_output=True, text=True, check=True,
        )  # fmt: skip
        end_kb = sum(_rss_kb(pid) for pid in _workers(server.pid))
    finally:
        server.terminate()
        server.wait(30)
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    growth = (end_kb - start_kb) / 1024
    errors = sum(seen["errors"].values())
    return [
        Result(
            "P7",
            f"gunicorn, 2 workers, loopback; {THREADS} clients from another process for {seconds} s "
            "(80% reads of lists and records, 20% updates with If-Match)",
            f"{seen['rps']:.0f} req/s, p50 {seen['p50'] * 1000:.0f} ms, p99 {seen['p99'] * 1000:.0f} ms",
            "-",
            None,
            "zero errors, memory flat",
            errors == 0 and growth < 20,
            [
                f"{seen['requests']:,} requests, errors: {seen['errors'] or 'none'}",
                f"workers' memory {start_kb / 1024:.0f} MB after warm-up, {end_kb / 1024:.0f} MB "
                f"at the end ({growth:+.0f} MB)",
            ],
            sound=errors == 0,
        )
    ]
