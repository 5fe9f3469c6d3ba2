"""Optimistic concurrency: ETag out, If-Match in, so nothing is ever silently overwritten."""

from __future__ import annotations

from typing import Any

from config.errors import PreconditionFailed, PreconditionRequired


def etag_of(instance: Any) -> str:
    """A version tag for a record with `updated_at`: changes whenever the record does."""
    return f'"{instance.pk}-{instance.updated_at.timestamp():.6f}"'


def if_match(request: Any) -> str:
    """The ETag the client read (required on updates: 428 without it)."""
    value = request.headers.get("If-Match", "").strip()
    if not value:
        raise PreconditionRequired()
    return value


def check_version(instance: Any, expected: str | None) -> None:
    """For services: refuse a write made against a version that is no longer current."""
    if expected is not None and expected != "*" and expected != etag_of(instance):
        raise PreconditionFailed()
