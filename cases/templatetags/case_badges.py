"""Severity and level badges in a list: cases/_severity.html and cases/_level.html rendered once
per value, label and language, not once a row (three includes a row of the risk register cost
more than reading its fifty rows)."""

from __future__ import annotations

from typing import Any

from django import template
from django.template.loader import render_to_string
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language

register = template.Library()

# Keyed by the choices' values and labels: a few dozen entries in each language.
_BADGES: dict[tuple[str, str, str, str], SafeString] = {}


def _badge(template_name: str, value: Any, label: Any) -> SafeString:
    key = (template_name, str(value), str(label), get_language() or "")
    if key not in _BADGES:
        _BADGES[key] = mark_safe(  # noqa: S308  # nosec B308 B703 - the template's own output
            render_to_string(template_name, {"value": value, "label": label})
        )
    return _BADGES[key]


@register.simple_tag
def severity_badge(value: Any, label: Any) -> SafeString:
    """What `{% include "cases/_severity.html" with value=... label=... %}` draws."""
    return _badge("cases/_severity.html", value, label)


@register.simple_tag
def level_badge(value: Any, label: Any) -> SafeString:
    """What `{% include "cases/_level.html" with value=... label=... %}` draws."""
    return _badge("cases/_level.html", value, label)
