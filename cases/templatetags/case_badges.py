"""Severity and level badges in a list: cases/_severity.html and cases/_level.html drawn once per
value, label and language (config.badges), not once a row."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.safestring import SafeString

from config.badges import drawn_once

register = template.Library()


@register.simple_tag
def severity_badge(value: Any, label: Any) -> SafeString:
    """What `{% include "cases/_severity.html" with value=... label=... %}` draws."""
    context = {"value": value, "label": label}
    return drawn_once("cases/_severity.html", (str(value), str(label)), context)


@register.simple_tag
def level_badge(value: Any, label: Any) -> SafeString:
    """What `{% include "cases/_level.html" with value=... label=... %}` draws."""
    context = {"value": value, "label": label}
    return drawn_once("cases/_level.html", (str(value), str(label)), context)
