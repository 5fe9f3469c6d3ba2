"""P4, a chase cycle over every overdue action against one raw INSERT ... SELECT ... ON CONFLICT
DO NOTHING of the same stage rows; then the same run on a real Celery worker: its peak memory,
the broker messages it cost, and the digests it mailed."""

from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import redis
from django.conf import settings
from django.db import connection
from django.utils import timezone

from actions import chasing
from actions.models import Action, ChaseNotice, Digest
from bench.harness import Result, ms

ROOT = Path(__file__).resolve().parent.parent
OPEN = ["open", "in_progress", "returned", "submitted"]


def reset() -> None:
    """Back to the generated state: no stage reached, nobody told, nothing escalated."""
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE actions_notification, actions_digest, actions_chasenotice")
    Action.objects.filter(escalation_level__gt=0).update(escalation_level=0)


def _bare_sql() -> tuple[str, list[Any]]:
    """Every stage's rows in one INSERT ... SELECT ... ON CONFLICT DO NOTHING."""
    today = timezone.localdate()
    parts, params = [], []
    for spec in settings.CHASE_STAGES:
        days = int(str(spec["days"]))
        if days < 0:
            parts.append(
                "SELECT id, %s::varchar, now() FROM actions_action "
                "WHERE status = ANY(%s) AND due_on >= %s AND due_on <= %s"
            )
            params += [spec["stage"], OPEN, today, today + dt.timedelta(days=-days)]
        else:
            parts.append(
                "SELECT id, %s::varchar, now() FROM actions_action "
                "WHERE status = ANY(%s) AND status <> 'submitted' AND due_on <= %s"
            )
            params += [spec["stage"], OPEN, today - dt.timedelta(days=days)]
    sql = (
        "INSERT INTO actions_chasenotice (action_id, stage, created_at) "
        + " UNION ALL ".join(parts)
        + " ON CONFLICT DO NOTHING"
    )
    return sql, params


def _cycle() -> int:
    moment = timezone.now()
    reached = chasing.chase_stages(today=timezone.localdate(moment), now=moment)
    return sum(reached.values())


def _bare() -> int:
    sql, params = _bare_sql()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def _timed(call: Any) -> tuple[float, Any]:
    started = time.perf_counter()
    value = call()
    return time.perf_counter() - started, value


def run(runs: int) -> list[Result]:
    overdue = Action.objects.overdue().count()
    ours: list[float] = []
    theirs: list[float] = []
    seconds: list[tuple[float, float, int]] = []
    counts: dict[str, int] = {}
    for turn in range(runs):
        for name in ["ours", "bare"] if turn % 2 == 0 else ["bare", "ours"]:
            reset()
            elapsed, rows = _timed(_cycle if name == "ours" else _bare)
            (ours if name == "ours" else theirs).append(elapsed)
            counts[name] = rows
            if name == "ours":
                again, more = _timed(_cycle)  # right after: nothing left to do
                seconds.append((elapsed, again, more))
    mine, bare = sorted(ours)[len(ours) // 2], sorted(theirs)[len(theirs) // 2]
    first, again, more = seconds[-1]
    same = counts["ours"] == counts["bare"]
    p4 = Result(
        "P4",
        f"chase cycle over {overdue:,} overdue actions (stage rows, escalation, digests and "
        "notifications)",
        ms(mine),
        ms(bare) + " (one raw INSERT ... SELECT ... ON CONFLICT DO NOTHING)",
        mine / bare,
        "<= 3.0",
        mine / bare <= 3.0,
        [
            f"{counts['ours']:,} stage rows" if same else f"ROWS DIFFER {counts}",
            f"second run right after: {ms(again)}, {again / first:.3f} of the first, "
            f"{more} stage rows",
        ],
        sound=same,
    )
    p4b = Result(
        "P4b",
        "the second run right after does no work",
        ms(again),
        ms(first) + " (the first run)",
        again / first,
        "<= 0.1",
        again / first <= 0.1 and more == 0,
        [],
    )
    return [p4, p4b, _on_a_worker()]


def _on_a_worker() -> Result:
    """The hourly task as beat sends it, on a real worker: peak memory, broker messages, mail."""
    reset()
    broker = os.environ["CELERY_BROKER_URL"]
    queue = f"bench-chase-{os.getpid()}"
    mail_dir = Path(tempfile.mkdtemp(prefix="rcc-bench-mail-"))
    env = {
        **os.environ,
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "EMAIL_FILE_PATH": str(mail_dir),
    }
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool", "solo",
         "--queues", queue, "--loglevel", "INFO", "--without-gossip", "--without-mingle",
         "--without-heartbeat", "--hostname", f"{queue}@%h"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        lines: list[str] = []
        _read_until(worker, lines, "ready.")
        counter = redis.Redis.from_url(broker)
        before = _pushes(counter)
        from actions.tasks import chase_actions

        chase_actions.apply_async(queue=queue)
        done = _read_until(worker, lines, "succeeded in")
        pushed = _pushes(counter) - before
        took = float(re.search(r"succeeded in ([0-9.]+)s", done).group(1))  # type: ignore[union-attr]
        peak_kb = int(
            re.search(r"VmHWM:\s+(\d+)", Path(f"/proc/{worker.pid}/status").read_text()).group(1)  # type: ignore[union-attr]
        )
    finally:
        worker.terminate()
        worker.wait(30)
    mails = sum(1 for path in mail_dir.glob("*.log") for _ in path.read_text().split("-" * 79)[:-1])
    digests = Digest.objects.filter(sent_at__isnull=False).count()
    stage_rows = ChaseNotice.objects.count()
    peak_mb = peak_kb / 1024
    return Result(
        "P4c",
        "the hourly chase task on a real worker (solo pool), mail included",
        f"{took:.1f} s, peak {peak_mb:.0f} MB",
        "-",
        None,
        "<= 250 MB; one broker message per batch at most",
        peak_mb <= 250 and pushed <= 1 + stage_rows // settings.CHASE_BATCH_SIZE,
        [
            f"{pushed} broker message(s) for {stage_rows:,} stage rows",
            f"{digests:,} digests mailed ({mails:,} mails written by the file backend)",
        ],
    )


def _pushes(client: Any) -> int:
    stats = client.info("commandstats")
    return sum(int(stats.get(f"cmdstat_{c}", {}).get("calls", 0)) for c in ("lpush", "rpush"))


def _read_until(worker: subprocess.Popen[str], lines: list[str], marker: str) -> str:
    deadline = time.monotonic() + 1800
    assert worker.stdout is not None
    while time.monotonic() < deadline:
        line = worker.stdout.readline()
        if not line:
            raise RuntimeError("the worker stopped:\n" + "".join(lines[-40:]))
        lines.append(line)
        if marker in line:
            return line
    raise RuntimeError(f"no {marker!r} from the worker")
