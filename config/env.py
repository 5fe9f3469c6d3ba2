"""Strict typed readers for the environment: a malformed value stops start-up naming its variable."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import environ
from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}
_DB_SCHEMES = {"sqlite", "postgres", "postgresql", "pgsql", "psql", "postgis"}
_BROKER_SCHEMES = {"filesystem", "redis", "rediss", "amqp", "amqps", "pyamqp", "memory"}


def _raw(name: str) -> str | None:
    """The variable's value; set-but-empty counts as unset, so `FOO=` means "the default"."""
    value = os.environ.get(name)
    return value if value is None or value.strip() else None


def string(name: str, default: str) -> str:
    value = _raw(name)
    return default if value is None else value


def boolean(name: str, default: bool) -> bool:
    value = _raw(name)
    if value is None:
        return default
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ImproperlyConfigured(
        f"{name} must be a boolean (true/false, yes/no, on/off, 1/0); got {value!r}."
    )


def integer(name: str, default: int, *, minimum: int | None = None) -> int:
    value = _raw(name)
    if value is None:
        return default
    try:
        number = int(value.strip())
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number; got {value!r}.") from None
    if minimum is not None and number < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}; got {number}.")
    return number


def csv_list(name: str, default: list[str]) -> list[str]:
    value = _raw(name)
    if value is None:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


def database(name: str, default: str) -> dict[str, Any]:
    """Parse a database URL (sqlite:///path or postgres://user:pass@host:port/db)."""
    url = string(name, default)
    scheme = urlsplit(url).scheme
    if scheme not in _DB_SCHEMES:
        raise ImproperlyConfigured(f"{name} must be a sqlite:// or postgres:// URL; got {url!r}.")
    try:
        config: dict[str, Any] = environ.Env.db_url_config(url)
    except Exception as exc:  # environ raises assorted errors on bad URLs
        raise ImproperlyConfigured(f"{name} is not a valid database URL: {exc}.") from None
    if scheme == "sqlite" and config.get("NAME") in {"", ":memory:"}:
        # Each process (web, worker, beat) would get its own empty in-memory database.
        raise ImproperlyConfigured(f"{name} must name a SQLite file (sqlite:////path/db.sqlite3).")
    if scheme != "sqlite":
        if not config.get("NAME"):
            raise ImproperlyConfigured(f"{name} must name a database; got {url!r}.")
        try:
            urlsplit(url).port  # noqa: B018 - a non-numeric port raises here
        except ValueError:
            raise ImproperlyConfigured(f"{name} has a malformed port; got {url!r}.") from None
    return config


def cache(name: str, default: str) -> dict[str, Any]:
    """Parse a cache URL (locmemcache://, rediscache://host:6379/1, dummycache://)."""
    url = string(name, default)
    try:
        config: dict[str, Any] = environ.Env.cache_url_config(url)
    except Exception as exc:  # environ raises assorted errors on bad URLs
        raise ImproperlyConfigured(
            f"{name} is not a valid cache URL ({exc}); got {url!r}."
        ) from None
    return config


def broker_url(name: str, default: str) -> str:
    url = string(name, default)
    parts = urlsplit(url)
    if parts.scheme not in _BROKER_SCHEMES:
        raise ImproperlyConfigured(
            f"{name} must be a filesystem://, redis:// or amqp:// URL; got {url!r}."
        )
    if parts.scheme not in {"filesystem", "memory"}:
        try:
            parts.port  # noqa: B018 - a non-numeric port raises here
        except ValueError:
            raise ImproperlyConfigured(f"{name} has a malformed port; got {url!r}.") from None
        if not parts.hostname:
            raise ImproperlyConfigured(f"{name} must name a host; got {url!r}.")
    return url


def path(name: str, default: Path) -> Path:
    value = _raw(name)
    return Path(value).expanduser().resolve() if value else default
