"""Choice labels read from a table made once per field and language, not at every display."""

from __future__ import annotations

import functools
from typing import Any

from django.db import models
from django.utils.encoding import force_str
from django.utils.hashable import make_hashable
from django.utils.translation import get_language


@functools.cache
def _labels(field: models.Field[Any, Any], language: str | None) -> dict[Any, str]:
    """The field's choices as value -> label, translated into `language` (active when asked)."""
    return {make_hashable(value): force_str(label) for value, label in field.flatchoices}


class ChoiceLabels(models.Model):
    """`get_status_display()` and its kin from `_labels`.

    Django's own builds a dictionary of every choice on each call, and hashing each lazy label
    translates it: a list page of fifty actions showing status and domain translated about
    six hundred labels to show a hundred. The answer is the same string."""

    class Meta:
        abstract = True

    def _get_FIELD_display(self, field: models.Field[Any, Any]) -> Any:  # Django's
        value = getattr(self, field.attname)
        return _labels(field, get_language()).get(make_hashable(value), value)
