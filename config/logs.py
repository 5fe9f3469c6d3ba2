"""Log lines that say what happened and cannot be forged: whatever a user typed (a username, a
reason, a path) is logged with its line breaks and control characters escaped, so it cannot
start a fake line of its own."""

from __future__ import annotations

import copy
import logging

_CONTROL = {i: f"\\x{i:02x}" for i in range(32) if i not in (9,)}
_CONTROL.update({10: "\\n", 13: "\\r", 0x7F: "\\x7f", 0x2028: "\\u2028", 0x2029: "\\u2029"})


def escape(text: str) -> str:
    return text.translate(_CONTROL)


class SingleLineFormatter(logging.Formatter):
    """The message (with its arguments) on one line; a traceback, which is ours, follows as is."""

    def format(self, record: logging.LogRecord) -> str:
        safe = copy.copy(record)
        safe.msg = escape(record.getMessage())
        safe.args = None
        return super().format(safe)
