"""Pytest plugin loaded before Django starts: test-only environment defaults."""

from __future__ import annotations

import os
from collections.abc import MutableMapping
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

# The suite needs a key to sign sessions; production refuses to start without a real one.
os.environ.setdefault("SECRET_KEY", "test-only-secret-key-never-used-in-production")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

BASE_DIR = Path(__file__).resolve().parent.parent
REDIS_SCHEMES = {"redis", "rediss", "rediscache"}
# Folders a caller may name on their own; under xdist each worker gets a subfolder of each.
WORKER_FOLDERS = ("CELERY_BROKER_DIR", "MEDIA_ROOT", "EMAIL_FILE_PATH")


def worker_redis_url(url: str, index: int) -> str:
    """The Redis URL of xdist worker `index`: database N for the first worker (as in a serial
    run), N-1 for the second, and so on down, so that no worker's Celery worker consumes a task
    another's tests sent (the default queue is shared by name) and no worker's cache.clear()
    empties another's. Other brokers and caches are left as they are."""
    parts = urlsplit(url)
    if parts.scheme not in REDIS_SCHEMES:
        return url
    number = parts.path.strip("/") or "0"
    if not number.isdigit():
        return url  # a socket path or something else env.py will judge
    database = int(number) - index
    if database < 0:
        raise RuntimeError(
            f"pytest-xdist worker {index} has no Redis database of its own below {url!r}: run "
            "fewer workers (-n) or name a higher database number (the default Redis has 0-15)."
        )
    return urlunsplit(parts._replace(path=f"/{database}"))


def isolate_xdist_worker(environ: MutableMapping[str, str]) -> None:
    """Give this pytest-xdist worker (gw0, gw1, ...) its own var dir (SQLite test database,
    filesystem broker folders, media, mail), Redis database for the broker and cache, and any
    folder the caller named. Processes the tests start inherit the environment, so a Celery
    worker a test starts uses its pytest worker's broker. Nothing changes outside xdist, and
    nothing twice (a pytest started by a test inherits the marker)."""
    worker = environ.get("PYTEST_XDIST_WORKER", "")
    if not worker.startswith("gw") or environ.get("RCC_XDIST_ISOLATED") == worker:
        return
    index = int(worker.removeprefix("gw"))
    var = Path(environ.get("RCC_VAR_DIR") or BASE_DIR / "var").expanduser()
    environ["RCC_VAR_DIR"] = str(var / worker)
    for name in WORKER_FOLDERS:
        if environ.get(name):
            environ[name] = str(Path(environ[name]).expanduser() / worker)
    for name in ("CELERY_BROKER_URL", "CACHE_URL"):
        if environ.get(name):
            environ[name] = worker_redis_url(environ[name], index)
    environ["RCC_XDIST_ISOLATED"] = worker


isolate_xdist_worker(os.environ)
