"""python -m bench [--scale N]: generate (once) and measure P1-P14, then write docs/performance.md.

Runs against its own PostgreSQL database (BENCH_DATABASE_URL, default rcc_bench_<scale>), which
it creates, migrates and fills with generate_load_data on the first run at a scale.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _environment(database_url: str) -> None:
    """Production-like settings: DEBUG off (no query log), no throttle in the way, mail kept."""
    os.environ.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        DATABASE_URL=database_url,
        DEBUG="0",
        SECRET_KEY=os.environ.get("SECRET_KEY", "bench-" + "x" * 50),
        ALLOWED_HOSTS="testserver,localhost,127.0.0.1",
        SESSION_COOKIE_SECURE="0",
        CSRF_COOKIE_SECURE="0",
        API_THROTTLE_USER="100000000/minute",
        API_THROTTLE_ANON="100000000/minute",
        EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
        CACHE_URL=os.environ.get("BENCH_CACHE_URL", "locmemcache://"),
        LOG_LEVEL="WARNING",
    )
    os.environ.setdefault("RCC_VAR_DIR", str(ROOT / "var" / "bench"))
    os.environ.setdefault("CELERY_BROKER_URL", "redis://127.0.0.1:6379/13")


def _create_database(url: str, *, fresh: bool) -> None:
    import psycopg
    from psycopg import sql

    name = url.rsplit("/", 1)[1]
    admin = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as connection:
        if fresh:
            connection.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
        found = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if not found.fetchone():
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--runs", type=int, default=15, help="timed runs per side (medians)")
    parser.add_argument("--only", default="", help="e.g. P1,P3")
    parser.add_argument("--load-seconds", type=int, default=600, help="P7's duration")
    parser.add_argument("--out", default=str(ROOT / "docs" / "performance.md"))
    parser.add_argument("--no-write", action="store_true", help="print the table only")
    parser.add_argument("--fresh", action="store_true", help="drop the database and generate anew")
    parser.add_argument(
        "--strict",
        action="store_true",
        help="fail when a target is missed too (by default only when a benchmark is unsound: "
        "its two sides disagree, or the load saw errors; small scales miss targets by design)",
    )
    options = parser.parse_args()

    label = f"{options.scale:g}".replace(".", "_")
    url = os.environ.get(
        "BENCH_DATABASE_URL", f"postgres://postgres@127.0.0.1:5432/rcc_bench_{label}"
    )
    _environment(url)
    _create_database(url, fresh=options.fresh)
    manage = [sys.executable, str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "--noinput", "-v0"], check=True, cwd=ROOT)
    import django

    django.setup()
    from accounts.models import BusinessUnit
    from committee.load_data import UNIT_PREFIX

    if not BusinessUnit.objects.filter(code__startswith=UNIT_PREFIX).exists():
        started = time.perf_counter()
        subprocess.run(
            [*manage, "generate_load_data", "--scale", str(options.scale)], check=True, cwd=ROOT
        )
        print(f"generated in {time.perf_counter() - started:.0f} s", flush=True)

    import importlib

    from django.test.utils import override_settings

    from bench.report import table, write

    wanted = {key.strip().upper() for key in options.only.split(",") if key.strip()}
    suites = [  # (what it reports, module, function, arguments)
        ({"P1", "P2"}, "lists", "run", options.runs),
        ({"P3"}, "writes", "run_update", options.runs),
        ({"P4"}, "chase", "run", max(3, options.runs // 5)),
        ({"P5"}, "agenda", "run", options.runs),
        ({"P6"}, "writes", "run_fanout", max(5, options.runs // 3)),
        ({"P7"}, "load", "run", options.load_seconds),
        ({"P8"}, "vulnerabilities", "run_rematch", max(1, options.runs // 5)),
        ({"P9"}, "vulnerabilities", "run_new_advisory", options.runs),
        ({"P10"}, "vulnerabilities", "run_morning_of", options.runs),
        ({"P11"}, "vulnerabilities", "run_list", options.runs),
        ({"P12"}, "scans", "run_import", (max(1, options.runs // 5), options.scale)),
        ({"P13"}, "scans", "run_again", (max(1, options.runs // 5), options.scale)),
        ({"P14"}, "scans", "run_worker", options.scale),
        ({"P15", "P15B"}, "concurrency", "run", (max(1, options.runs // 5), options.scale)),
        ({"P16"}, "pages", "run", options.runs),
    ]
    results = []
    with override_settings(ROOT_URLCONF="bench.urls"):
        for keys, module, function, argument in suites:
            if wanted and not keys & wanted:
                continue
            print(f"{'/'.join(sorted(keys))} ...", flush=True)
            suite = getattr(importlib.import_module(f"bench.{module}"), function)
            for result in suite(argument):
                ratio = "-" if result.ratio is None else f"{result.ratio:.3f}"
                verdict = ("ok" if result.ok else "MISSED") + ("" if result.sound else " UNSOUND")
                print(
                    f"  {result.key}: {result.ours} vs {result.baseline}, ratio {ratio} "
                    f"({result.target}) {verdict}; {'; '.join(result.notes)}",
                    flush=True,
                )
                results.append(result)
    machine = f"{platform.node()}: {os.cpu_count()} cores, Python {platform.python_version()}"
    text = table(results, scale=options.scale, machine=machine)
    print(text)
    if not options.no_write:
        write(Path(options.out), options.scale, text)
    unsound = [r.key for r in results if not r.sound]
    missed = [r.key for r in results if not r.ok]
    if unsound:
        print(f"UNSOUND (the two sides disagree, or errors): {', '.join(unsound)}")
    if missed:
        print(f"targets missed at scale {options.scale:g}: {', '.join(missed)}")
    return 1 if unsound or (options.strict and missed) else 0


if __name__ == "__main__":
    raise SystemExit(main())
