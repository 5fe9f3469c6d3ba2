"""An action's status badge in a list: actions/_status.html drawn once per status, lateness and
language (config.badges), not once a row."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.safestring import SafeString

from config.badges import drawn_once

register = template.Library()


@register.simple_tag
def action_status(action: Any) -> SafeString:
    """The badge actions/_status.html draws for `action` (its markup depends on nothing else)."""
    key = (str(action.status), bool(action.is_overdue))
    return drawn_once("actions/_status.html", key, {"action": action})
