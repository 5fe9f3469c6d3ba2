"""What the page layout needs on every page: which sections the reader may open."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from accounts import policy as accounts_policy


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"nav_audit": accounts_policy.can_read_audit_trail(user)}
