"""Text the product stores or mails: one line where one line is meant, never longer than its column.

Titles and names are single lines: they head pages, fill mail subjects (where a line break is
refused outright, BadHeaderError) and stand on a line of their own in mail bodies. Whatever a
person typed into one, or whatever the product composes from several, goes through `one_line`;
whatever the product composes to store goes through `fit`, so a long part never makes the row
too long for its column (SQLite would store it and later refuse to validate it, PostgreSQL
would refuse the insert).
"""

from __future__ import annotations

import re

from django.db.models import Model

ELLIPSIS = "…"

# Line breaks, tabs and every other control character (C0, DEL, C1 with NEL), and Unicode's
# line and paragraph separators.
_BREAKS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")


def one_line(text: str) -> str:
    """`text` on one line: each run of line breaks and control characters (and the spaces
    around it) becomes one space; leading and trailing space is trimmed."""
    # Split and joined rather than one pattern with spaces on both sides, which would take
    # quadratic time over a long run of spaces.
    return " ".join(part.strip() for part in _BREAKS.split(text) if part.strip())


def max_length(model: type[Model], field: str) -> int:
    """The number of characters the column `model.field` holds."""
    limit = getattr(model._meta.get_field(field), "max_length", None)
    if not isinstance(limit, int):
        raise TypeError(f"{model.__name__}.{field} has no max_length")
    return limit


def clip(text: str, limit: int) -> str:
    """`text` if it has at most `limit` characters, else cut to `limit` with an ellipsis."""
    if len(text) <= limit:
        return text
    return text[: limit - len(ELLIPSIS)].rstrip() + ELLIPSIS


def fit(model: type[Model], field: str, text: str) -> str:
    """Composed `text` made fit to store in the single-line column `model.field`: on one line,
    and cut with an ellipsis where it would be longer than the column."""
    return clip(one_line(text), max_length(model, field))
