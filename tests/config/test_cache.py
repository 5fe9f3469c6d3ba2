"""The Redis cache with Redis away: reads miss, writes drop, `add` succeeds, all at once."""

from __future__ import annotations

import socket
import time

from config.cache import ResilientRedisCache
from tests.conftest import require_service, service_reachable


def _nothing_listening() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"redis://127.0.0.1:{port}/0"  # the port is free again: connections are refused


def _cache(location: str) -> ResilientRedisCache:
    return ResilientRedisCache(
        location, {"OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5}}
    )


def test_with_redis_away_the_cache_answers_as_empty_and_takes_every_write(caplog, monkeypatch):
    monkeypatch.setattr("config.cache._last_warning", [float("-inf")])  # warn in this test
    cache = _cache(_nothing_listening())
    started = time.monotonic()
    assert cache.get("throttle", "fallback") == "fallback"
    assert cache.get_many(["a", "b"]) == {}
    assert cache.has_key("a") is False
    assert cache.set("a", 1) is None
    assert cache.set_many({"a": 1, "b": 2}) == ["a", "b"]  # none stored
    assert cache.delete("a") is False
    # allauth's rate-limit lock and "is this TOTP code fresh?": sign-in goes on.
    assert cache.add("allauth.ratelimit:login:lock", True) is True
    assert cache.add("allauth.mfa.totp.used?user=1&code=123456", "y") is True
    assert time.monotonic() - started < 2
    assert [r.getMessage() for r in caplog.records if r.name == "config.cache"][:1] != []


def test_with_redis_up_it_is_an_ordinary_cache(settings):
    url = settings.CELERY_BROKER_URL  # in CI the broker is Redis; any database number will do
    if not url.startswith("redis"):
        url = "redis://127.0.0.1:6379/0"  # the quick start's broker is a folder: the usual Redis
    require_service("Redis", service_reachable(url, 6379))
    cache = _cache(url.rsplit("/", 1)[0] + "/11")
    cache.delete("rcc-test-key")
    assert cache.add("rcc-test-key", "y", timeout=5) is True
    assert cache.add("rcc-test-key", "y", timeout=5) is False  # a replayed code is refused
    assert cache.get("rcc-test-key") == "y"
    cache.delete("rcc-test-key")
