"""P15's writers, from their own process: one thread a person, each updating its own action
with If-Match as fast as the server answers, then one JSON line of what they saw.

    python -m bench.writers URL SECONDS PLAN.json
"""

from __future__ import annotations

import http.client
import json
import sys
import threading
import time
from typing import Any
from urllib.parse import urlparse


def writer(base: str, seconds: float, person: dict[str, Any], out: list[Any]) -> None:
    url = urlparse(base)
    conn = http.client.HTTPConnection(url.hostname or "127.0.0.1", url.port, timeout=60)
    auth = {"Authorization": f"Token {person['token']}"}
    conn.request("GET", f"/api/v1/actions/{person['action']}/", headers=auth)
    first = conn.getresponse()
    first.read()
    etag = first.getheader("ETag") or "*"
    done, n = 0, 0
    errors: dict[str, int] = {}
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        n += 1
        body = json.dumps({"percent_done": n % 100, "note": "concurrent"})
        headers = {**auth, "Content-Type": "application/json", "If-Match": etag}
        try:
            conn.request("POST", f"/api/v1/actions/{person['action']}/updates/", body, headers)
            response = conn.getresponse()
            response.read()
        except (OSError, http.client.HTTPException) as error:
            errors[type(error).__name__] = errors.get(type(error).__name__, 0) + 1
            conn.close()
            conn = http.client.HTTPConnection(url.hostname or "127.0.0.1", url.port, timeout=60)
            continue
        if response.status == 201:
            done += 1
            etag = response.getheader("ETag") or "*"
        else:
            errors[str(response.status)] = errors.get(str(response.status), 0) + 1
    out.append({"done": done, "errors": errors})


def main() -> None:
    base, seconds, plan_path = sys.argv[1], float(sys.argv[2]), sys.argv[3]
    with open(plan_path) as handle:
        people = json.load(handle)
    out: list[Any] = []
    threads = [threading.Thread(target=writer, args=(base, seconds, p, out)) for p in people]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    errors: dict[str, int] = {}
    for result in out:
        for key, count in result["errors"].items():
            errors[key] = errors.get(key, 0) + count
    done = sum(result["done"] for result in out)
    print(json.dumps({"updates": done, "per_second": done / elapsed, "errors": errors}))


if __name__ == "__main__":
    main()
