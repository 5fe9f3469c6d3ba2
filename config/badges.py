"""Includes whose markup hangs on a few values and the language alone (a row's status, severity or
level; the layout's links), rendered once per those values and language, not at every use."""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

from django.template.loader import render_to_string
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language

# Keyed by a template and the values it shows: a few dozen entries in each language.
_DRAWN: dict[tuple[str, Hashable, str], SafeString] = {}


def drawn_once(template_name: str, key: Hashable, context: dict[str, Any]) -> SafeString:
    """`template_name` rendered with `context`, whose markup depends on `key` and the language
    alone (the caller's promise), kept and handed back for the same key and language."""
    found = (template_name, key, get_language() or "")
    if found not in _DRAWN:
        _DRAWN[found] = mark_safe(  # noqa: S308  # nosec B308 B703 - the template's own output
            render_to_string(template_name, context)
        )
    return _DRAWN[found]
