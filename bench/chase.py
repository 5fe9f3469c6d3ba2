"""P4, a chase cycle over every overdue action against its own writes done by hand-written SQL
(and one raw INSERT ... SELECT ... ON CONFLICT DO NOTHING of its stage rows, for reference); then
the same run on a real Celery worker: its peak memory, broker messages and the digests mailed."""

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
from django.db import connection, transaction
from django.utils import timezone

from accounts.selectors import office_people
from actions import chasing
from actions.models import Action, ChaseNotice, Digest, Notification
from bench.harness import Result, ms, worker_line

ROOT = Path(__file__).resolve().parent.parent
OPEN = ["open", "in_progress", "returned", "submitted"]


def reset() -> None:
    """Back to the generated state: no stage reached, nobody told, nothing escalated."""
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE actions_notification, actions_digest, actions_chasenotice")
    Action.objects.filter(escalation_level__gt=0).update(escalation_level=0)


def _bare_sql(moment: dt.datetime) -> tuple[str, list[Any]]:
    """Every stage's rows in one INSERT ... SELECT ... ON CONFLICT DO NOTHING."""
    today = timezone.localdate()
    parts, params = [], []
    for spec in settings.CHASE_STAGES:
        days = int(str(spec["days"]))
        if days < 0:
            parts.append(
                "SELECT id, %s::varchar, %s::timestamptz FROM actions_action "
                "WHERE status = ANY(%s) AND due_on >= %s AND due_on <= %s"
            )
            params += [spec["stage"], moment, OPEN, today, today + dt.timedelta(days=-days)]
        else:
            parts.append(
                "SELECT id, %s::varchar, %s::timestamptz FROM actions_action "
                "WHERE status = ANY(%s) AND status <> 'submitted' AND due_on <= %s"
            )
            params += [spec["stage"], moment, OPEN, today - dt.timedelta(days=days)]
    sql = (
        "INSERT INTO actions_chasenotice (action_id, stage, created_at) "
        + " UNION ALL ".join(parts)
        + " ON CONFLICT DO NOTHING"
    )
    return sql, params


def _floor() -> int:
    """The cycle's own writes by hand-written SQL, as few statements as they can be: every
    stage's rows, the escalations, one digest a person, and every notification written into
    its digest; one transaction, no batches, nothing read into Python. What the cycle could
    cost at best on this schema; returns the notifications written."""
    moment = timezone.now()
    sql, params = _bare_sql(moment)
    # Who is told what, found as the chase finds them (every domain's office, the chair's for
    # a domain no office owns; the chair and the secretariat for the committee stage).
    domains = [domain for domain, _label in Action._meta.get_field("domain").choices or ()]
    offices = office_people({chasing._office_code(d) for d in domains})
    committee = sorted(chasing._committee_people())
    by_domain = [
        (domain, person)
        for domain in domains
        for person in sorted(offices.get(chasing._office_code(domain), ()))
    ]
    this_run = "c.stage = %s AND c.created_at = %s"
    # Who hears of each stage: the recipient expression and any extra join, per audience.
    audiences: dict[str, list[tuple[str, str, list[Any]]]] = {
        "owner": [("COALESCE(a.assignee_id, u.head_id)", "", [])],
        "unit_head": [("u.head_id", "", [])],
        "office": [
            ("o.person", "JOIN (SELECT unnest(%s::varchar[]) AS domain, "
             "unnest(%s::bigint[]) AS person) o ON o.domain = a.domain",
             [[d for d, _ in by_domain], [p for _, p in by_domain]])
        ],
        "committee": [("m.person", "CROSS JOIN unnest(%s::bigint[]) AS m(person)", [committee])],
    }  # fmt: skip
    told = 0
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)
        for spec in settings.CHASE_STAGES:
            level = int(str(spec["level"]))
            if level:
                cursor.execute(
                    "UPDATE actions_action a SET escalation_level = %s FROM actions_chasenotice c "  # nosec B608 - fixed text and our own fragments
                    f"WHERE c.action_id = a.id AND {this_run} AND a.escalation_level < %s",
                    [level, str(spec["stage"]), moment, level],
                )
        cursor.execute("ANALYZE actions_chasenotice")  # the planner's view of the new rows
        selects, select_params = [], []
        for spec in settings.CHASE_STAGES:
            for recipient, join, extra in audiences[str(spec["audience"])]:
                selects.append(
                    f"SELECT {recipient} AS r FROM actions_chasenotice c "  # nosec B608 - fixed text and our own fragments
                    "JOIN actions_action a ON a.id = c.action_id "
                    f"JOIN accounts_businessunit u ON u.id = a.unit_id {join} WHERE {this_run}"
                )
                select_params += [*extra, str(spec["stage"]), moment]
        cursor.execute(
            "INSERT INTO actions_digest (recipient_id, created_at) SELECT DISTINCT r, %s FROM ("  # nosec B608 - fixed text and our own fragments
            + " UNION ALL ".join(selects)
            + ") people WHERE r IS NOT NULL",
            [moment, *select_params],
        )
        cursor.execute("ANALYZE actions_digest")
        for spec in settings.CHASE_STAGES:
            text = chasing.STAGE_TEXT.get(str(spec["stage"]), str(spec["stage"]))
            for recipient, join, extra in audiences[str(spec["audience"])]:
                cursor.execute(
                    "INSERT INTO actions_notification (recipient_id, action_id, stage, message, "  # nosec B608 - fixed text and our own fragments
                    "created_at, digest_id) "
                    f"SELECT {recipient}, a.id, c.stage, left(a.reference || ' ' || a.title || "
                    "' (' || u.code || ', due ' || a.due_on::varchar || '): ' || %s, 500), "
                    "c.created_at, d.id FROM actions_chasenotice c "
                    "JOIN actions_action a ON a.id = c.action_id "
                    f"JOIN accounts_businessunit u ON u.id = a.unit_id {join} "
                    f"JOIN actions_digest d ON d.recipient_id = {recipient} "
                    f"AND d.sent_at IS NULL WHERE {this_run} "
                    "ON CONFLICT DO NOTHING",
                    [text, *extra, str(spec["stage"]), moment],
                )
                told += cursor.rowcount
    return told


def _cycle() -> int:
    moment = timezone.now()
    reached = chasing.chase_stages(today=timezone.localdate(moment), now=moment)
    return sum(reached.values())


def _bare() -> int:
    sql, params = _bare_sql(timezone.now())
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def _timed(call: Any) -> tuple[float, Any]:
    started = time.perf_counter()
    value = call()
    return time.perf_counter() - started, value


def run(runs: int) -> list[Result]:
    overdue = Action.objects.overdue().count()
    timings: dict[str, list[float]] = {"ours": [], "bare": [], "floor": []}
    seconds: list[tuple[float, float, int]] = []
    counts: dict[str, int] = {}
    sides = {"ours": _cycle, "bare": _bare, "floor": _floor}
    for turn in range(runs):
        for name in ["ours", "bare", "floor"] if turn % 2 == 0 else ["floor", "bare", "ours"]:
            reset()
            elapsed, rows = _timed(sides[name])
            timings[name].append(elapsed)
            counts[name] = rows
            if name == "ours":
                counts["told"] = Notification.objects.count()
                again, more = _timed(_cycle)  # right after: nothing left to do
                seconds.append((elapsed, again, more))
    mine, bare, floor = (sorted(t)[len(t) // 2] for t in timings.values())
    first, again, more = seconds[-1]
    same = counts["ours"] == counts["bare"] and counts["told"] == counts["floor"]
    p4 = Result(
        "P4",
        f"chase cycle over {overdue:,} overdue actions (stage rows, escalation, digests and "
        "notifications)",
        ms(mine),
        ms(floor) + " (the same writes by hand-written SQL, one statement a stage and audience, "
        "no batches)",
        mine / floor,
        "<= 2.0",
        mine / floor <= 2.0,
        [
            f"{counts['ours']:,} stage rows, {counts['told']:,} notifications"
            if same
            else f"ROWS DIFFER {counts}",
            f"one raw INSERT ... SELECT ... ON CONFLICT DO NOTHING of the stage rows alone: "
            f"{ms(bare)}; ours {mine / bare:.2f} of it, the hand-written floor {floor / bare:.2f}",
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
        worker_line(worker, lines, ("ready.",), within=1800)
        counter = redis.Redis.from_url(broker)
        before = _pushes(counter)
        from actions.tasks import chase_actions

        chase_actions.apply_async(queue=queue)
        done = worker_line(worker, lines, ("succeeded in",), within=1800)
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
