"""What the page layout needs on every page: which sections the reader may open, and their links."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.safestring import SafeString

from accounts import policy as accounts_policy
from config.badges import drawn_once


def navigation(request: HttpRequest) -> dict[str, Any]:
    """`navigation`: the layout's links (includes/navigation.html), drawn only when a page shows
    them (a callable: a fragment that does not pays nothing) and once per language and per what
    they depend on, since reversing and translating sixteen links cost every page ~2 ms."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}

    def links() -> SafeString:
        audit = accounts_policy.can_read_audit_trail(user)
        # Not on the sign-in and second-factor pages: see the template.
        badge = not request.path.startswith("/accounts/")
        key = (audit, bool(user.is_staff), badge)
        context = {"audit": audit, "staff": user.is_staff, "badge": badge}
        return drawn_once("includes/navigation.html", key, context)

    return {"navigation": links}
