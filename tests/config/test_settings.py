"""Settings are read strictly: a malformed value stops start-up and names its variable."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from django.conf import settings

from config.env import kept_secret

ROOT = Path(__file__).resolve().parents[2]


def start_django(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """Import the settings in a fresh interpreter, as any process of the product would."""
    environment = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "CELERY_BROKER_URL", "DEBUG", "DEMO_MODE", "SECRET_KEY"}
    }
    environment.update({"RCC_VAR_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": "config.settings"})
    environment.update(env)
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); print('started')"],
        check=False,
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("DATABASE_URL", "not a url"),
        ("DATABASE_URL", "mysql://root@localhost/rcc"),
        ("DATABASE_URL", "postgres://user@localhost:port/rcc"),
        ("DATABASE_URL", "postgres://user@localhost:5432/"),
        ("DEBUG", "maybe"),
        ("DEMO_MODE", "yes please"),
        ("SESSION_IDLE_TIMEOUT", "half an hour"),
        ("CELERY_BROKER_URL", "kafka://localhost"),
        ("CACHE_URL", "nosuchcache://localhost"),
        ("CELERY_BROKER_URL", "redis://localhost:abc/0"),
        ("CELERY_BROKER_URL", "redis:/localhost"),
        ("DATABASE_URL", "sqlite://"),
        ("CELERY_BROKER_CONNECTION_MAX_RETRIES", "-5"),
    ],
)
def test_malformed_value_stops_startup_naming_the_variable(tmp_path, variable, value):
    result = start_django(tmp_path, SECRET_KEY="k" * 50, **{variable: value})
    assert result.returncode != 0
    assert "started" not in result.stdout
    assert "ImproperlyConfigured" in result.stderr
    assert variable in result.stderr.splitlines()[-1]


def test_an_empty_value_means_the_default(tmp_path):
    """`SESSION_COOKIE_SECURE=` must not quietly turn secure cookies off."""
    code = (
        "import django; django.setup(); from django.conf import settings; "
        "print(settings.SESSION_COOKIE_SECURE, settings.DEBUG)"
    )
    environment = {**os.environ, "RCC_VAR_DIR": str(tmp_path), "SECRET_KEY": "k" * 50}
    environment.update({"SESSION_COOKIE_SECURE": "", "DEBUG": ""})
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "False"]


def test_secret_key_is_required_when_debug_is_off(tmp_path):
    result = start_django(tmp_path, DEBUG="0")
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr
    assert not (tmp_path / "secret-key").exists()  # only a demo site makes one of its own


def settings_of(tmp_path: Path, *names: str, **env: str) -> dict[str, object]:
    """Some settings as a fresh process of the product reads them from this environment."""
    code = (
        "import django, json; django.setup(); from django.conf import settings; "
        f"print(json.dumps({{name: getattr(settings, name) for name in {list(names)!r}}}))"
    )
    environment = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "CELERY_BROKER_URL", "DEBUG", "DEMO_MODE", "SECRET_KEY"}
        and not k.endswith("_COOKIE_SECURE")
    }
    environment.update({"RCC_VAR_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": "config.settings"})
    environment.update(env)
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.splitlines()[-1])


def test_the_demo_runs_with_debug_off_on_a_key_it_makes_once_and_keeps(tmp_path):
    """`make run` serves people with DEBUG off: no technical pages. Nobody sets a key there, so
    the first start makes one under the var dir; later starts (and web, worker and beat) share it."""
    names = ("DEBUG", "SECRET_KEY", "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE")
    first = settings_of(tmp_path, *names, DEBUG="0", DEMO_MODE="1")
    kept = tmp_path / "secret-key"
    assert kept.read_text().strip() == first["SECRET_KEY"]
    assert len(str(first["SECRET_KEY"])) >= 50
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600  # the key signs sessions: its owner's only
    # Plain http://127.0.0.1: a Secure cookie would never come back, and nobody could sign in.
    assert first["DEBUG"] is False
    assert first["SESSION_COOKIE_SECURE"] is False and first["CSRF_COOKIE_SECURE"] is False
    again = settings_of(tmp_path, "SECRET_KEY", DEBUG="0", DEMO_MODE="1")
    assert again["SECRET_KEY"] == first["SECRET_KEY"]  # sessions survive a restart
    given = settings_of(tmp_path, "SECRET_KEY", DEMO_MODE="1", SECRET_KEY="g" * 50)
    assert given["SECRET_KEY"] == "g" * 50  # a key that is given wins


def test_production_keeps_secure_cookies_and_makes_no_key(tmp_path):
    names = ("DEBUG", "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE")
    production = settings_of(tmp_path, *names, DEBUG="0", SECRET_KEY="k" * 50)
    assert production == {"DEBUG": False, "SESSION_COOKIE_SECURE": True, "CSRF_COOKIE_SECURE": True}
    assert not (tmp_path / "secret-key").exists()
    demo_over_https = settings_of(
        tmp_path, "SESSION_COOKIE_SECURE", DEMO_MODE="1", SESSION_COOKIE_SECURE="1"
    )
    assert demo_over_https["SESSION_COOKIE_SECURE"] is True  # said outright, it is kept


def test_processes_starting_together_keep_one_key(tmp_path):
    """Web, worker and beat start at once on a fresh var dir: whichever writes first wins."""
    path = tmp_path / "secret-key"
    with ThreadPoolExecutor(max_workers=8) as pool:
        keys = set(pool.map(lambda _: kept_secret(path), range(32)))
    assert keys == {path.read_text().strip()}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["secret-key"]  # no candidates left


def test_a_kept_key_that_is_too_short_stops_startup(tmp_path):
    (tmp_path / "secret-key").write_text("short\n")
    result = start_django(tmp_path, DEBUG="0", DEMO_MODE="1")
    assert result.returncode != 0
    assert "secret-key must hold a secret key" in result.stderr


def test_debug_has_a_development_key_and_sane_defaults(tmp_path):
    result = start_django(tmp_path, DEBUG="1")
    assert result.returncode == 0, result.stderr
    assert "started" in result.stdout


def test_well_formed_values_start(tmp_path):
    result = start_django(
        tmp_path,
        SECRET_KEY="k" * 50,
        DEBUG="off",
        DATABASE_URL="postgres://rcc:secret@db.internal:5432/rcc",
        CELERY_BROKER_URL="redis://cache.internal:6379/0",
    )
    assert result.returncode == 0, result.stderr


def test_defaults_for_the_company():
    assert settings.TIME_ZONE == "Asia/Tokyo"
    assert [code for code, _ in settings.LANGUAGES] == ["en", "ja"]
    assert settings.SESSION_IDLE_TIMEOUT == 30 * 60
    assert settings.SESSION_ABSOLUTE_TIMEOUT == 8 * 60 * 60
    assert settings.CELERY_TASK_ACKS_LATE is True
    assert settings.CELERY_TASK_REJECT_ON_WORKER_LOST is True
    assert settings.CELERY_BEAT_SCHEDULER == "config.beat:ResilientDatabaseScheduler"
    assert settings.REST_FRAMEWORK["DEFAULT_PERMISSION_CLASSES"] == [
        "rest_framework.permissions.IsAuthenticated"
    ]


@pytest.mark.postgres_only
@pytest.mark.django_db
def test_postgres_sessions_run_without_jit():
    """JIT compiled short paged reads for longer than they ran (config/settings.py)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone()[0] == "off"
