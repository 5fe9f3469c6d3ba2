"""Timing side by side: both paths in the same run, interleaved, reported as medians and a ratio."""

from __future__ import annotations

import socket
import statistics
import subprocess  # nosec B404 - the benchmarks' own worker processes
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db import connection
from django.test.utils import CaptureQueriesContext


@dataclass
class Result:
    """One row of the results table."""

    key: str
    what: str
    ours: str
    baseline: str
    ratio: float | None
    target: str
    ok: bool  # the target holds
    notes: list[str] = field(default_factory=list)
    sound: bool = True  # what both sides did agrees (same rows, no errors): else the run is void


def alternate(
    ours: Callable[[], float], bare: Callable[[], float], *, runs: int
) -> tuple[list[float], list[float]]:
    """Each side's own timings (each call returns the seconds it measured), the two taking
    turns to go first so that a slow moment hits both alike."""
    mine: list[float] = []
    theirs: list[float] = []
    for turn in range(runs):
        order = [(ours, mine), (bare, theirs)]
        for call, times in order if turn % 2 == 0 else reversed(order):
            times.append(call())
    return mine, theirs


def worker_line(
    worker: subprocess.Popen[str], lines: list[str], markers: tuple[str, ...], *, within: float
) -> str:
    """The first line of a worker's log with one of the markers, its log read as it goes (so
    the pipe never fills) and kept in `lines`."""
    deadline = time.monotonic() + within
    assert worker.stdout is not None
    while time.monotonic() < deadline:
        line = worker.stdout.readline()
        if not line:
            raise RuntimeError("the worker stopped:\n" + "".join(lines[-40:]))
        lines.append(line)
        if any(marker in line for marker in markers):
            return line
    raise RuntimeError(f"none of {markers!r} from the worker")


def free_port() -> int:
    """A loopback port nobody listens on, for a server the benchmark starts."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for_port(port: int, *, within: float = 60) -> None:
    """Until a server the benchmark started accepts connections on the port (or `within`)."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.2)


def side_by_side(
    ours: Callable[[], Any], bare: Callable[[], Any], *, runs: int, warmup: int = 2
) -> tuple[float, float]:
    """Median seconds of each, the two alternating so that a slow moment hits both alike."""
    for _ in range(warmup):
        ours()
        bare()
    mine: list[float] = []
    theirs: list[float] = []
    for turn in range(runs):
        order = [(ours, mine), (bare, theirs)]
        for call, times in order if turn % 2 == 0 else reversed(order):
            started = time.perf_counter()
            call()
            times.append(time.perf_counter() - started)
    return statistics.median(mine), statistics.median(theirs)


def count_queries(call: Callable[[], Any]) -> tuple[int, list[str]]:
    """How many queries one call runs, and their SQL."""
    with CaptureQueriesContext(connection) as captured:
        call()
    return len(captured.captured_queries), [q["sql"] for q in captured.captured_queries]


BIG_TABLES = {
    "actions_action",
    "actions_actiongroupobjectpermission",
    "actions_actionuserobjectpermission",
    "actions_historicalaction",
    "actions_chasenotice",
    "actions_notification",
    "cases_incident",
    "cases_risk",
    "cases_incidentgroupobjectpermission",
    "cases_riskgroupobjectpermission",
    "systems_system",
    "systems_systemgroupobjectpermission",
    "audit_event",
}


def _scans(plan: dict[str, Any]) -> list[str]:
    found = []
    if plan.get("Node Type") == "Seq Scan" and plan.get("Relation Name") in BIG_TABLES:
        found.append(plan["Relation Name"])  # kept only if the table is big (sequential_scans)
    for child in plan.get("Plans", []):
        found += _scans(child)
    return found


def sequential_scans(statements: list[str]) -> list[str]:
    """The big tables (over 10,000 rows) any of these SELECTs reads with a sequential scan
    (EXPLAIN on PostgreSQL)."""
    found: list[str] = []
    with connection.cursor() as cursor:
        for sql in statements:
            if not sql.lstrip().upper().startswith("SELECT"):
                continue
            cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}")
            plan = cursor.fetchone()[0]
            found += _scans(plan[0]["Plan"])
        # Reading an empty or tiny table whole is the right plan; a big one is not.
        cursor.execute(
            "SELECT relname FROM pg_class WHERE relname = ANY(%s) AND reltuples > 10000",
            [sorted(set(found))],
        )
        return sorted(row[0] for row in cursor.fetchall())


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def vacuumed(*models: Any) -> None:
    """What autovacuum does in service between the benchmarks' rolled-back writes, done by
    hand: this machine's PostgreSQL runs with autovacuum off, and the dead rows of a few
    hundred rolled-back agenda assemblies made the planner expect 863 items of a 12-item agenda
    and read `cases_risk` whole to join them. Each model with its history table."""
    tables: list[str] = []
    for model in models:
        tables.append(model._meta.db_table)
        history = getattr(model, "history", None)
        if history is not None:
            tables.append(history.model._meta.db_table)
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"VACUUM (ANALYZE) {connection.ops.quote_name(table)}")
