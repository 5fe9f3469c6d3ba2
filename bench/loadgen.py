"""The load of P7, from its own process: threads with keep-alive connections send a mix of
reads and writes to the server for a while, then print one JSON line of what they saw.

    python -m bench.loadgen URL SECONDS PLAN.json [WARM_UP_SECONDS]

Latencies (and so requests per second) count from the end of the warm-up, when the workers have
loaded what they load on first use; errors count from the start.
"""

from __future__ import annotations

import http.client
import json
import random
import sys
import threading
import time
from typing import Any
from urllib.parse import urlparse


def worker(
    base: str, person: dict[str, Any], seed: int, out: list[Any], *, warm_until: float, end: float
) -> None:
    """One simulated integration: 80% reads of its unit's lists and records, 20% updates."""
    rng = random.Random(seed)  # noqa: S311 - load shape, not secrets
    url = urlparse(base)
    conn = http.client.HTTPConnection(url.hostname or "127.0.0.1", url.port, timeout=30)
    auth = {"Authorization": f"Token {person['token']}"}
    etag = None
    latencies: list[float] = []
    errors: dict[str, int] = {}
    answered = 0
    while time.monotonic() < end:
        roll = rng.random()
        headers = dict(auth)
        body = None
        method = "GET"
        if roll < 0.45:
            path = "/api/v1/actions/?status=in_progress"
        elif roll < 0.55:
            path = "/api/v1/actions/?overdue=true"
        elif roll < 0.65:
            path = "/api/v1/incidents/"
        elif roll < 0.72:
            path = "/api/v1/systems/"
        elif roll < 0.80 or etag is None:
            path = f"/api/v1/actions/{person['action']}/"
        else:
            method = "POST"
            path = f"/api/v1/actions/{person['action']}/updates/"
            body = json.dumps({"percent_done": rng.randrange(100), "note": "load"})
            headers.update({"Content-Type": "application/json", "If-Match": etag})
        sent_at, started = time.monotonic(), time.perf_counter()
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            response.read()
        except (OSError, http.client.HTTPException) as error:
            errors[type(error).__name__] = errors.get(type(error).__name__, 0) + 1
            conn.close()
            conn = http.client.HTTPConnection(url.hostname or "127.0.0.1", url.port, timeout=30)
            continue
        answered += 1
        if sent_at >= warm_until:
            latencies.append(time.perf_counter() - started)
        if response.status >= 400:
            errors[str(response.status)] = errors.get(str(response.status), 0) + 1
        if response.getheader("ETag") and path.startswith(f"/api/v1/actions/{person['action']}/"):
            etag = response.getheader("ETag")
    out.append({"latencies": latencies, "errors": errors, "answered": answered})


def main() -> None:
    base, seconds, plan_path = sys.argv[1], float(sys.argv[2]), sys.argv[3]
    warm_up = float(sys.argv[4]) if len(sys.argv) > 4 else 0.0
    with open(plan_path) as handle:
        people = json.load(handle)
    out: list[Any] = []
    started = time.monotonic()
    threads = [
        threading.Thread(
            target=worker,
            args=(base, person, n, out),
            kwargs={"warm_until": started + warm_up, "end": started + seconds},
        )
        for n, person in enumerate(people)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started - warm_up
    latencies = sorted(x for result in out for x in result["latencies"])
    errors: dict[str, int] = {}
    for result in out:
        for key, count in result["errors"].items():
            errors[key] = errors.get(key, 0) + count

    def pct(p: float) -> float:
        return latencies[min(len(latencies) - 1, int(p * len(latencies)))] if latencies else 0.0

    print(
        json.dumps(
            {
                "answered": sum(result["answered"] for result in out),
                "requests": len(latencies),
                "rps": len(latencies) / elapsed,
                "p50": pct(0.50),
                "p99": pct(0.99),
                "errors": errors,
            }
        )
    )


if __name__ == "__main__":
    main()
