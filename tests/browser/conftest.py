"""A real browser (Debian's chromium driven by Playwright) against the live test server."""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.core.signals import request_finished, request_started

from tests.conftest import require_service

CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"

# Playwright's sync API runs an event loop in the test thread; Django's ORM refuses to run
# beside one unless told that this thread is not really async.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


FONTS = Path(__file__).resolve().parents[2] / "committee" / "fonts"


def font_config(folder: Path) -> Path:
    """A fontconfig file that adds the Japanese font the agenda pack embeds to the machine's
    own, so the screenshots of Japanese pages read as people see them even where no Japanese
    font is installed (CI machines rarely have one)."""
    config = folder / "fonts.conf"
    config.write_text(
        '<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "fonts.dtd">\n<fontconfig>\n'
        '  <include ignore_missing="yes">/etc/fonts/fonts.conf</include>\n'
        f"  <dir>{FONTS}</dir>\n  <cachedir>{folder / 'cache'}</cachedir>\n</fontconfig>\n"
    )
    return config


@pytest.fixture(scope="session")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    require_service("chromium", os.path.exists(CHROMIUM))
    from playwright.sync_api import sync_playwright

    fonts = font_config(tmp_path_factory.mktemp("fonts"))
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            env={**os.environ, "FONTCONFIG_FILE": str(fonts)},
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


class _InFlight:
    """The live server's requests still being answered. The server outlives each test, and a
    page's htmx requests (the navigation's badge, a panel) can still be running in its threads
    when the test returns: the database flush that follows would pull the rows from under them
    and they would answer 500 in the next test."""

    def __init__(self) -> None:
        self.count = 0
        self.changed = threading.Condition()

    def started(self, **kwargs: object) -> None:
        if threading.current_thread() is not threading.main_thread():  # not the test client
            with self.changed:
                self.count += 1

    def finished(self, **kwargs: object) -> None:
        if threading.current_thread() is not threading.main_thread():
            with self.changed:
                self.count -= 1
                self.changed.notify_all()

    def wait_for_none(self, timeout: float) -> bool:
        with self.changed:
            return self.changed.wait_for(lambda: self.count <= 0, timeout)


IN_FLIGHT = _InFlight()
request_started.connect(IN_FLIGHT.started, weak=False)
request_finished.connect(IN_FLIGHT.finished, weak=False)


@pytest.fixture(autouse=True)
def _settled(browser, live_server, transactional_db) -> Iterator[None]:
    """After each browser test and before its database is flushed: every page closed and every
    request it made answered."""
    yield
    for context in list(browser.contexts):
        context.close()
    assert IN_FLIGHT.wait_for_none(30), "the live server was still answering 30 s after the test"


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(base_url=live_server.url, locale="en-US")
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()
