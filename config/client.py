"""The real client address of a request behind the load balancer, and the API throttles keyed on it."""

from __future__ import annotations

import ipaddress
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from rest_framework import throttling


def _valid(candidate: str | None) -> str | None:
    if not candidate:
        return None
    value = candidate.strip()
    if value.startswith("[") and "]" in value:  # [::1]:443
        value = value[1 : value.index("]")]
    elif value.count(":") == 1:  # 192.0.2.1:443
        value = value.split(":", 1)[0]
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return None


def client_address(request: HttpRequest | Any) -> str:
    """Who sent the request, as far as the deployment can vouch for it.

    Behind a load balancer every request comes from the balancer's address, so keying sign-in
    limits or audit records on REMOTE_ADDR would put the whole company behind one address.
    Only what the operator declared trustworthy is read: the header a trusted proxy sets
    (TRUSTED_CLIENT_IP_HEADER), or the entry TRUSTED_PROXY_COUNT places from the right of
    X-Forwarded-For (the one the outermost trusted proxy appended; entries left of it are the
    client's own word and may be forged). Anything missing or malformed falls back to the
    direct peer, never to a value the client chose."""
    meta = request.META
    peer = _valid(meta.get("REMOTE_ADDR")) or ""
    header = settings.TRUSTED_CLIENT_IP_HEADER
    if header:
        return _valid(request.headers.get(header)) or peer
    count = settings.TRUSTED_PROXY_COUNT
    forwarded = request.headers.get("X-Forwarded-For", "")
    if count > 0 and forwarded:
        hops = [hop.strip() for hop in forwarded.split(",")]
        if len(hops) >= count:
            return _valid(hops[-count]) or peer
    return peer


class AnonRateThrottle(throttling.AnonRateThrottle):
    """DRF's signed-out throttle, per real client address rather than per balancer."""

    def get_ident(self, request: Any) -> str:
        return client_address(request)


class UserRateThrottle(throttling.UserRateThrottle):
    """DRF's per-person throttle; a signed-out caller counts per real client address."""

    def get_ident(self, request: Any) -> str:
        return client_address(request)
