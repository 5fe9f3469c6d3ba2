"""P7, load: gunicorn with two workers on loopback, a mixed read/write workload from a separate
process; requests per second, p50/p99, errors, and the workers' memory after warm-up and since."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from knox.models import AuthToken

from accounts.models import Role, User
from actions.models import Action
from bench.harness import Result, free_port, wait_for_port

ROOT = Path(__file__).resolve().parent.parent
THREADS = 8
WARM_UP = 120  # seconds: see warm_up_for
JUDGED_FROM = 360  # seconds of load: a warm-up and at least four minutes after it
FLAT_MB = 5  # both workers together, end of the run against the end of the warm-up
SAMPLE_EVERY = 5  # seconds between readings of the workers' memory


def writers_plan(count: int = THREADS, *, newest_first: bool = False) -> list[dict[str, object]]:
    """`count` unit members of different units, each with an action of their own to update
    and a day's token (newest first: other people than the oldest-first plan's)."""
    order = "-pk" if newest_first else "pk"
    people: list[dict[str, object]] = []
    members = User.objects.filter(groups__name=Role.BU_MEMBER, username__startswith="ld")
    for user in members.order_by(order)[: count * 5]:
        unit = user.memberships.get().unit
        action = (
            Action.objects.filter(unit=unit, status=Action.Status.IN_PROGRESS)
            .order_by(order)
            .values_list("pk", flat=True)
            .first()
        )
        if action is None or any(p["unit"] == unit.pk for p in people):
            continue
        _instance, token = AuthToken.objects.create(user=user, expiry=dt.timedelta(days=1))
        people.append({"token": token, "action": action, "unit": unit.pk})
        if len(people) == count:
            break
    return people


def _rss_kb(pid: int) -> int:
    return int(Path(f"/proc/{pid}/status").read_text().split("VmRSS:")[1].split()[0])


def _workers(master: int) -> list[int]:
    children = Path(f"/proc/{master}/task/{master}/children")
    return [int(pid) for pid in children.read_text().split()] if children.exists() else []


def warm_up_for(seconds: int) -> int:
    """The start of a run left out of its measure. At scale 1 a worker's memory settles within
    about 1,500 requests (the URLconf's imports on the first one, then Python's allocator
    reaching the high-water mark of the request mix), under a minute at 100 req/s: two minutes
    is ample. A short run (CI's 10 s) keeps a fifth, and is too short to judge memory by."""
    return WARM_UP if seconds >= JUDGED_FROM else seconds // 5


def memory_verdict(
    samples: list[tuple[float, int]], *, warm_up: float
) -> tuple[float, float, float, float]:
    """From (seconds into the run, workers' memory in KiB): MB after the warm-up, MB at the end,
    the growth between them, and MB a minute over the second half of what follows the warm-up
    (least squares: a growth that levels off shows there as about zero)."""
    after = [(t, kb / 1024) for t, kb in samples if t >= warm_up] or [
        (t, kb / 1024) for t, kb in samples[-1:]
    ]
    settled, end = after[0][1], after[-1][1]
    tail = [(t, mb) for t, mb in after if t >= (after[0][0] + after[-1][0]) / 2]
    slope = 0.0
    if len(tail) >= 2:
        mean_t = sum(t for t, _ in tail) / len(tail)
        mean_mb = sum(mb for _, mb in tail) / len(tail)
        spread = sum((t - mean_t) ** 2 for t, _ in tail)
        slope = (
            60 * sum((t - mean_t) * (mb - mean_mb) for t, mb in tail) / spread if spread else 0.0
        )
    return settled, end, end - settled, slope


def run(seconds: int) -> list[Result]:
    port = free_port()
    plan = Path(tempfile.mkdtemp(prefix="rcc-bench-")) / "plan.json"
    plan.write_text(json.dumps(writers_plan()))
    # RCC_PROBE_DIR attaches bench/memory_probe.py to the workers (where their memory goes).
    probe = ["-c", "bench/memory_probe.py"] if os.environ.get("RCC_PROBE_DIR") else []
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "config.wsgi", "--workers", "2", *probe,
         "--bind", f"127.0.0.1:{port}", "--no-control-socket", "--log-level", "warning"],
        cwd=ROOT, env={**os.environ, "ALLOWED_HOSTS": "127.0.0.1,localhost"},
    )  # fmt: skip
    warm_up = warm_up_for(seconds)
    samples: list[tuple[float, int]] = []
    pids: set[int] = set()
    try:
        wait_for_port(port)
        load = subprocess.Popen(
            [sys.executable, "-m", "bench.loadgen", f"http://127.0.0.1:{port}", str(seconds),
             str(plan), str(warm_up)],
            cwd=ROOT, stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        started = time.monotonic()
        while load.poll() is None:
            workers = _workers(server.pid)
            try:
                samples.append((time.monotonic() - started, sum(map(_rss_kb, workers))))
                pids.update(workers)
            except (OSError, IndexError):
                pass  # a worker between lives: the changed pids below say so
            time.sleep(SAMPLE_EVERY)
        out, _ = load.communicate()
        if load.returncode:
            raise RuntimeError(f"the load generator failed ({load.returncode})")
    finally:
        server.terminate()
        server.wait(30)
    seen = json.loads(out.strip().splitlines()[-1])
    settled, end, growth, slope = memory_verdict(samples, warm_up=warm_up)
    errors = sum(seen["errors"].values())
    replaced = len(pids) > 2
    judged = seconds >= JUDGED_FROM and not replaced
    minutes = [  # the last reading of each minute
        f"{[kb for t, kb in samples if t <= 60 * m][-1] / 1024:.0f}"
        for m in range(1, seconds // 60 + 1)
    ]
    left = seconds - warm_up
    span = f"{left / 120:.0f} min" if left >= 240 else f"{left / 2:.0f} s"
    return [
        Result(
            "P7",
            f"gunicorn, 2 workers, loopback; {THREADS} clients from another process for {seconds} s, "
            f"the first {warm_up} s a warm-up (80% reads of lists and records, 20% updates with "
            "If-Match)",
            f"{seen['rps']:.0f} req/s, p50 {seen['p50'] * 1000:.0f} ms, p99 {seen['p99'] * 1000:.0f} ms",
            "-",
            None,
            f"zero errors, memory flat within {FLAT_MB} MB after warm-up",
            errors == 0 and judged and abs(growth) <= FLAT_MB,
            [
                f"{seen['answered']:,} requests ({seen['requests']:,} after warm-up), "
                f"errors: {seen['errors'] or 'none'}",
                f"workers' memory {settled:.0f} MB after warm-up, {end:.0f} MB at the end "
                f"({growth:+.1f} MB; {slope:+.1f} MB a minute over the last {span})",
                *([f"by minute: {', '.join(minutes)} MB"] if minutes else []),
                *(["a worker was replaced: memory not comparable"] if replaced else []),
                *(
                    [f"too short to judge memory (needs {JUDGED_FROM} s)"]
                    if seconds < JUDGED_FROM
                    else []
                ),
            ],
            sound=errors == 0,
        )
    ]
