"""Django's Redis cache, made to keep the product up when Redis is down.

The cache holds rate-limit counters, allauth's locks and its used TOTP codes: nothing the
product cannot do without for a while. When Redis cannot be reached, every call answers as an
empty cache that takes every write: reads miss, writes are dropped and `add` succeeds. So
throttling and lockout pause, sign-in (with MFA) keeps working, and a CISO's order goes
through; the price is that a TOTP code could be used twice within its 30 seconds while Redis is
away. A wrong password or ACL for Redis is a misconfiguration, not an outage: it raises.
Short socket timeouts bound the wait."""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable
from typing import Any, TypeVar

from django.core.cache.backends.redis import RedisCache
from redis.exceptions import AuthenticationError, AuthorizationError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

log = logging.getLogger(__name__)
UNAVAILABLE = (RedisConnectionError, RedisTimeoutError, OSError)
F = TypeVar("F", bound=Callable[..., Any])
WARN_EVERY = 30.0  # seconds
_last_warning = [float("-inf")]


def _or(fallback: Callable[..., Any]) -> Callable[[F], F]:
    """Run the cache call; when Redis is unreachable, log it and answer `fallback(...)`."""

    def decorate(method: F) -> F:
        @functools.wraps(method)
        def wrapper(self: ResilientRedisCache, *args: Any, **kwargs: Any) -> Any:
            try:
                return method(self, *args, **kwargs)
            except (AuthenticationError, AuthorizationError):
                raise  # misconfigured, not away: say so
            except UNAVAILABLE as error:
                now = time.monotonic()
                if now - _last_warning[0] > WARN_EVERY:  # one line per spell, not per call
                    _last_warning[0] = now
                    log.warning("Cache unavailable, answering as empty: %r", error)
                return fallback(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate


def _default(key: Any, default: Any = None, *args: Any, **kwargs: Any) -> Any:
    return default


class ResilientRedisCache(RedisCache):
    """RedisCache that answers as an empty cache, taking every write, while Redis is down."""

    get = _or(_default)(RedisCache.get)
    get_many = _or(lambda *a, **k: {})(RedisCache.get_many)
    has_key = _or(lambda *a, **k: False)(RedisCache.has_key)
    set = _or(lambda *a, **k: None)(RedisCache.set)
    set_many = _or(lambda data, *a, **k: list(data))(RedisCache.set_many)  # none were stored
    touch = _or(lambda *a, **k: False)(RedisCache.touch)
    delete = _or(lambda *a, **k: False)(RedisCache.delete)
    delete_many = _or(lambda *a, **k: None)(RedisCache.delete_many)
    add = _or(lambda *a, **k: True)(RedisCache.add)  # allauth's locks and TOTP guard: go on
    clear = _or(lambda *a, **k: False)(RedisCache.clear)
