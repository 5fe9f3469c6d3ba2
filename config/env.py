"""Strict typed readers for the environment (a malformed value stops start-up naming its
variable), and the secret key a demo site makes and keeps for itself."""

from __future__ import annotations

import os
import secrets
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


def kept_secret(path: Path) -> str:
    """A random secret made on first use and kept in a file only its owner may read. Web, worker
    and beat start together: each writes a candidate and links it into place, which only the
    first can do, and all of them read the one that won."""
    if not path.exists():
        candidate = path.with_name(f"{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        descriptor = os.open(candidate, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(secrets.token_urlsafe(50) + "\n")
        try:
            os.link(candidate, path)
        except FileExistsError:
            pass  # another process's key is the one kept
        finally:
            candidate.unlink()
    value = path.read_text().strip()
    if len(value) < 32:
        raise ImproperlyConfigured(f"{path} must hold a secret key of 32 characters or more.")
    return value


def site_url(name: str, default: str) -> str:
    """The address people reach the site at (scheme, host, port), without a trailing slash.
    No path: a site served under one names it in FORCE_SCRIPT_NAME, which reverse() adds."""
    url = string(name, default).strip().rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ImproperlyConfigured(
            f"{name} must be an http:// or https:// address with a host; got {url!r}."
        )
    if parts.path or parts.query or parts.fragment or parts.username or parts.password:
        raise ImproperlyConfigured(
            f"{name} must be only a scheme, a host and a port (https://rcc.example.com); "
            f"got {url!r}."
        )
    try:
        parts.port  # noqa: B018 - a non-numeric port raises here
    except ValueError:
        raise ImproperlyConfigured(f"{name} has a malformed port; got {url!r}.") from None
    return url
