"""The API's JSON parser: a body nested past any sensible depth, or holding text that is not
Unicode (a lone surrogate escape), is a 400, never a RecursionError or an encoding error."""

from __future__ import annotations

import re
from typing import Any

from django.utils.translation import gettext as _
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

# No request the API takes nests deeper than a few levels (a finding's details, a checklist);
# past this, a body is an attack on the parser or on whatever renders it later.
MAX_DEPTH = 32
# JSON may spell half a surrogate pair ("\ud800"); Python keeps it in the str, and the first
# encode to UTF-8 (the database, a mail, a log line) fails on it.
SURROGATE = re.compile("[\ud800-\udfff]")


def depth_exceeds(value: Any, limit: int) -> bool:
    """Whether a parsed JSON value nests deeper than `limit`, walked without recursion."""
    return _problem(value, limit) == "depth"


def _problem(value: Any, limit: int) -> str | None:
    """What is wrong with a parsed body, if anything: "depth" or "text"; one walk, no recursion."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, str):
            if SURROGATE.search(node):
                return "text"
        elif isinstance(node, dict | list):
            if depth > limit:
                return "depth"
            if isinstance(node, dict):
                stack.extend((key, depth) for key in node)
                stack.extend((child, depth + 1) for child in node.values())
            else:
                stack.extend((child, depth + 1) for child in node)
    return None


class BoundedJSONParser(JSONParser):
    """DRF's JSON parser, with the nesting depth bounded: Python's decoder recurses once per
    level, so a thousand `[` is a RecursionError (a 500) unless caught here."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(self._too_deep()) from None
        problem = _problem(data, MAX_DEPTH)
        if problem == "depth":
            raise ParseError(self._too_deep())
        if problem == "text":
            raise ParseError(
                _("JSON parse error - a string holds a lone surrogate, which is not Unicode text.")
            )
        return data

    @staticmethod
    def _too_deep() -> str:
        return _("JSON parse error - the body nests deeper than %(depth)d levels.") % {
            "depth": MAX_DEPTH
        }
