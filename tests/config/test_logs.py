"""Log lines cannot be forged: user input with line breaks stays on its own line, escaped."""

from __future__ import annotations

import io
import logging
from typing import Any

from config.logs import SingleLineFormatter


def formatted(message: str, *args: object, exc_info: bool = False) -> str:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(SingleLineFormatter("%(levelname)s %(message)s"))
    logger = logging.getLogger("tests.logs")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        if exc_info:
            try:
                raise RuntimeError("boom")
            except RuntimeError:
                logger.exception(message, *args)
        else:
            logger.warning(message, *args)
    finally:
        logger.removeHandler(handler)
    return stream.getvalue()


def test_a_username_with_a_line_break_cannot_start_a_fake_line():
    forged = "kenji\nINFO audit verified: chain intact\r\x1b[2J"
    out = formatted("Failed sign-in for %s", forged)
    assert out.count("\n") == 1  # one record, one line
    assert "kenji\\nINFO audit verified: chain intact\\r\\x1b[2J" in out


def test_the_settings_use_the_single_line_formatter():
    from django.conf import settings

    logging_config: dict[str, Any] = settings.LOGGING
    assert logging_config["formatters"]["plain"]["()"] == "config.logs.SingleLineFormatter"


def test_a_traceback_still_follows_on_its_own_lines():
    out = formatted("Task failed for %s", "a\nb", exc_info=True)
    first, *rest = out.splitlines()
    assert first == "ERROR Task failed for a\\nb"
    assert rest[0].startswith("Traceback") and "RuntimeError: boom" in out
