"""Settings are read strictly: a malformed value stops start-up and names its variable."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]


def start_django(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """Import the settings in a fresh interpreter, as any process of the product would."""
    environment = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "CELERY_BROKER_URL", "DEBUG", "SECRET_KEY"}
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
