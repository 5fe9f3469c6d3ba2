"""Feeds fetched from a real HTTP server on loopback: conditional requests, the command, beat."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core.management import CommandError, call_command

from tests.vulnerabilities.samples import sample
from vulnerabilities.models import FeedImport, Vulnerability
from vulnerabilities.services import advisories
from vulnerabilities.tasks import import_vulnerability_feeds

pytestmark = pytest.mark.django_db

KEV = sample("kev/cisa_kev_slice.json").read_bytes()
ETAG = '"kev-1"'


class Feed(BaseHTTPRequestHandler):
    asked: list[dict[str, str]] = []

    def do_GET(self) -> None:
        Feed.asked.append(dict(self.headers))
        if self.path == "/missing.json":
            self.send_error(404)
            return
        if self.headers.get("If-None-Match") == ETAG:
            self.send_response(304)
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("ETag", ETAG)
        self.send_header("Content-Length", str(len(KEV)))
        self.end_headers()
        self.wfile.write(KEV)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def feed_url() -> Iterator[str]:
    Feed.asked = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Feed)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_a_feed_is_asked_conditionally_and_not_read_again_when_unchanged(feed_url, ciso) -> None:
    first = advisories.import_origin(actor=ciso, kind="kev", origin=f"{feed_url}/kev.json")
    assert first.outcome == FeedImport.Outcome.IMPORTED and first.etag == ETAG
    assert Vulnerability.objects.filter(kev=True).count() == 11
    second = advisories.import_origin(actor=ciso, kind="kev", origin=f"{feed_url}/kev.json")
    assert second.outcome == FeedImport.Outcome.UNCHANGED
    assert Feed.asked[-1].get("If-None-Match") == ETAG


def test_an_unreachable_feed_is_recorded_and_refused(feed_url, ciso) -> None:
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        advisories.import_origin(actor=ciso, kind="kev", origin=f"{feed_url}/missing.json")
    assert FeedImport.objects.get().outcome == FeedImport.Outcome.REFUSED


def test_the_command_reads_files_and_the_task_the_configured_feeds(feed_url, settings) -> None:
    call_command(
        "import_advisories", str(sample("osv/osvscanner_PyPI_PYSEC-2021-98.json")), kind="osv"
    )
    assert Vulnerability.objects.filter(key="CVE-2021-33203").exists()
    with pytest.raises(CommandError):
        call_command("import_advisories", str(sample("osv/osvscanner_PyPI_PYSEC-2021-98.json")))
    settings.VULNERABILITY_FEEDS = [f"kev={feed_url}/kev.json", f"kev={feed_url}/missing.json"]
    outcomes = import_vulnerability_feeds()
    assert outcomes[f"{feed_url}/kev.json"] == "imported"
    assert outcomes[f"{feed_url}/missing.json"].startswith("refused")
