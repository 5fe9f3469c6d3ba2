"""An action's status badge in a list: actions/_status.html rendered once per status, lateness
and language, not once a row (a list of fifty spent more on the include than on its query)."""

from __future__ import annotations

from typing import Any

from django import template
from django.template.loader import render_to_string
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language

register = template.Library()

# At most six statuses, late or not, in each language the site speaks.
_BADGES: dict[tuple[str, bool, str], SafeString] = {}


@register.simple_tag
def action_status(action: Any) -> SafeString:
    """The badge actions/_status.html draws for `action` (its markup depends on nothing else)."""
    key = (str(action.status), bool(action.is_overdue), get_language() or "")
    if key not in _BADGES:
        _BADGES[key] = mark_safe(  # noqa: S308  # nosec B308 B703 - the template's own output
            render_to_string("actions/_status.html", {"action": action})
        )
    return _BADGES[key]
