"""A gunicorn config for finding where P7's workers grow: `gunicorn -c bench/memory_probe.py`.

Each worker writes, every RCC_PROBE_EVERY seconds, a JSON line to RCC_PROBE_DIR/<pid>.jsonl: its
RSS, the live objects by type (gc) and, when RCC_PROBE_TRACE=1, where its Python allocations
are (tracemalloc snapshots, <pid>-<n>.snap, to compare with `python -m bench.memory_probe`).
"""

from __future__ import annotations

import collections
import gc
import json
import os
import sys
import tempfile
import threading
import time
import tracemalloc
from pathlib import Path
from typing import Any


def _rss_kb() -> int:
    return int(Path("/proc/self/status").read_text().split("VmRSS:")[1].split()[0])


def _watch(folder: Path, every: float, trace: bool) -> None:
    pid = os.getpid()
    started = time.monotonic()
    n = 0
    while True:
        time.sleep(every)
        n += 1
        counts = collections.Counter(type(thing).__name__ for thing in gc.get_objects())
        line: dict[str, Any] = {
            "t": round(time.monotonic() - started, 1),
            "rss_kb": _rss_kb(),
            "objects": len(gc.get_objects()),
            "top": counts.most_common(40),
        }
        if trace:
            tracemalloc.take_snapshot().dump(str(folder / f"{pid}-{n}.snap"))
            line["traced_kb"] = tracemalloc.get_traced_memory()[0] // 1024
        with (folder / f"{pid}.jsonl").open("a") as handle:
            handle.write(json.dumps(line) + "\n")


def post_fork(server: Any, worker: Any) -> None:
    """Gunicorn's hook, in the worker before it loads the application."""
    folder = Path(os.environ.get("RCC_PROBE_DIR") or Path(tempfile.gettempdir()) / "rcc-probe")
    folder.mkdir(parents=True, exist_ok=True)
    trace = os.environ.get("RCC_PROBE_TRACE") == "1"
    if trace:
        tracemalloc.start(int(os.environ.get("RCC_PROBE_FRAMES", "12")))
    every = float(os.environ.get("RCC_PROBE_EVERY", "30"))
    threading.Thread(target=_watch, args=(folder, every, trace), daemon=True).start()


def _compare(first: str, second: str, *, limit: int = 25) -> None:
    """What grew between two snapshots of one worker, by the traceback that allocated it."""
    old = tracemalloc.Snapshot.load(first)
    new = tracemalloc.Snapshot.load(second)
    for key in ("filename", "traceback"):
        print(f"--- by {key}")
        for stat in new.compare_to(old, key)[:limit]:
            print(f"{stat.size_diff / 1024:+9.1f} KiB {stat.count_diff:+7d} blocks")
            for frame in stat.traceback.format()[-24 if key == "traceback" else -2 :]:
                print("    " + frame)


if __name__ == "__main__":
    _compare(sys.argv[1], sys.argv[2])
