"""Fetching a feed: a local file as it is, or a URL with a conditional request, streamed to a
temporary file (the feeds are hundreds of megabytes) before it is read."""

from __future__ import annotations

import shutil
import tempfile
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO
from urllib.error import HTTPError

from django.conf import settings

from vulnerabilities.models import FeedImport


@dataclass
class Fetched:
    """What a fetch found: the file to read (None: not modified since the last import) and
    the validators to send next time."""

    stream: IO[bytes] | None
    etag: str = ""
    last_modified: str = ""


def last_validators(origin: str) -> tuple[str, str]:
    """The ETag and Last-Modified of the last successful import of `origin`."""
    last = (
        FeedImport.objects.filter(origin=origin[:1000], outcome=FeedImport.Outcome.IMPORTED)
        .order_by("-started_at", "-pk")
        .values_list("etag", "last_modified")
        .first()
    )
    return last or ("", "")


@contextmanager
def fetch(origin: str) -> Iterator[Fetched]:
    """Open `origin`: a path, or an http(s) URL asked conditionally; a 304 yields no stream."""
    if not origin.startswith(("http://", "https://")):
        with Path(origin).open("rb") as stream:
            yield Fetched(stream)
        return
    etag, modified = last_validators(origin)
    request = urllib.request.Request(origin, headers={"User-Agent": "rcc-feeds/1"})  # noqa: S310
    if etag:
        request.add_header("If-None-Match", etag)
    if modified:
        request.add_header("If-Modified-Since", modified)
    try:
        response = urllib.request.urlopen(  # noqa: S310  # nosec B310: http(s) only, checked above
            request, timeout=settings.FEED_TIMEOUT_SECONDS
        )
    except HTTPError as exc:
        if exc.code == 304:
            yield Fetched(None, etag, modified)
            return
        raise
    with response, tempfile.TemporaryFile() as spool:
        shutil.copyfileobj(response, spool, length=1 << 20)
        spool.seek(0)
        yield Fetched(
            spool,
            response.headers.get("ETag", ""),
            response.headers.get("Last-Modified", ""),
        )
