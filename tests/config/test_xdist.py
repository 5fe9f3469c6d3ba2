"""The suite in pytest-xdist workers: each has its own var dir, Redis database and test database."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from config.testing import BASE_DIR, isolate_xdist_worker, worker_redis_url
from tests.conftest import require_service

ROOT = Path(__file__).resolve().parents[2]


def test_the_first_worker_keeps_the_configured_redis_database_and_the_next_count_down():
    url = "redis://127.0.0.1:6379/15"
    assert worker_redis_url(url, 0) == url
    assert worker_redis_url(url, 1) == "redis://127.0.0.1:6379/14"
    assert worker_redis_url("rediss://:pw@cache.internal/3", 3) == "rediss://:pw@cache.internal/0"
    assert worker_redis_url("rediscache://127.0.0.1:6379/1", 1) == "rediscache://127.0.0.1:6379/0"


def test_a_worker_with_no_redis_database_left_is_refused_not_wrapped_around():
    with pytest.raises(RuntimeError, match="fewer workers"):
        worker_redis_url("redis://127.0.0.1:6379", 1)  # no number: database 0
    with pytest.raises(RuntimeError, match="fewer workers"):
        worker_redis_url("redis://127.0.0.1:6379/2", 3)


def test_other_brokers_and_caches_are_left_as_they_are():
    for url in ("filesystem://", "amqp://guest@127.0.0.1//", "locmemcache://", "memory://"):
        assert worker_redis_url(url, 1) == url


def test_a_worker_gets_its_own_folders_and_redis_database_once():
    environ = {
        "PYTEST_XDIST_WORKER": "gw1",
        "RCC_VAR_DIR": "/srv/rcc-var",
        "MEDIA_ROOT": "/srv/media",
        "CELERY_BROKER_URL": "redis://127.0.0.1:6379/15",
        "CACHE_URL": "rediscache://127.0.0.1:6379/15",
    }
    isolate_xdist_worker(environ)
    isolated = dict(environ)
    assert isolated == {
        "PYTEST_XDIST_WORKER": "gw1",
        "RCC_VAR_DIR": "/srv/rcc-var/gw1",
        "MEDIA_ROOT": "/srv/media/gw1",
        "CELERY_BROKER_URL": "redis://127.0.0.1:6379/14",
        "CACHE_URL": "rediscache://127.0.0.1:6379/14",
        "RCC_XDIST_ISOLATED": "gw1",
    }
    isolate_xdist_worker(environ)  # a pytest a test starts inherits all of it: nothing twice
    assert environ == isolated


def test_outside_xdist_nothing_changes_and_the_default_var_dir_gets_a_worker_folder():
    serial = {"CELERY_BROKER_URL": "redis://127.0.0.1:6379/15"}
    isolate_xdist_worker(serial)
    assert serial == {"CELERY_BROKER_URL": "redis://127.0.0.1:6379/15"}
    worker = {"PYTEST_XDIST_WORKER": "gw0"}
    isolate_xdist_worker(worker)
    assert worker["RCC_VAR_DIR"] == str(BASE_DIR / "var" / "gw0")


@pytest.mark.django_db
def test_this_run_keeps_its_workers_apart(worker_id):
    """Whatever this run is: in an xdist worker, its settings and test database are its own."""
    if worker_id == "master":  # a serial run: the configured names, untouched
        assert not settings.VAR_DIR.name.startswith("gw")
        return
    assert os.environ["RCC_XDIST_ISOLATED"] == worker_id
    assert settings.VAR_DIR.name == worker_id
    assert os.environ.get("CELERY_BROKER_URL", "filesystem://") == settings.CELERY_BROKER_URL
    if settings.CELERY_BROKER_URL.startswith("filesystem"):
        folder = Path(settings.CELERY_BROKER_TRANSPORT_OPTIONS["data_folder_in"])
        assert folder.is_relative_to(settings.VAR_DIR) or "CELERY_BROKER_DIR" in os.environ
    assert str(connection.settings_dict["NAME"]).endswith(f"_{worker_id}")


@pytest.mark.parametrize(
    ("variables", "expected"),
    [
        ([], " -n 2 --dist loadgroup"),
        (["XDIST=4"], " -n 4 --dist loadgroup"),
        (["XDIST=0"], ""),
    ],
)
def test_make_test_runs_the_suite_in_xdist_workers_unless_told_not_to(variables, expected):
    require_service("make", shutil.which("make") is not None)  # a failure in CI, never a skip
    plan = subprocess.run(
        ["make", "-n", "-s", "-C", str(ROOT), "test", "PYTEST_ARGS=tests/accounts", *variables],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    [command] = [line for line in plan.splitlines() if " -m pytest" in line]
    assert command.split(" -m pytest", 1)[1].split() == [*expected.split(), "tests/accounts"]
